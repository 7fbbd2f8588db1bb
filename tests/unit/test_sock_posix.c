#include "autoconfig.h"

#include <linux/vm_sockets.h>

#include "endpoint.h"
#include "sock.h"
#include "tap.h"

static void
resolves_to_vsock(const char *text, enum sock_role role, unsigned cid,
    unsigned port)
{
	const struct sockaddr_vm *svm = NULL;
	struct endpoint ep;
	struct sock_addr addr;
	char err[256] = "";

	tap_ok(endpoint_parse(text, &ep, err, sizeof(err)) == 0 &&
	    sock_resolve(&ep, role, &addr, err, sizeof(err)) == 0,
	    "'%s' resolves", text);
	svm = (const struct sockaddr_vm *)&addr.ss;
	tap_ok(svm->svm_family == AF_VSOCK && svm->svm_cid == cid &&
	    svm->svm_port == port && addr.len == sizeof(*svm),
	    "  to vsock CID %u port %u", cid, port);
}

static void
resolve_fails(const char *text, enum sock_role role, const char *want)
{
	struct endpoint ep;
	struct sock_addr addr;
	char err[256] = "";

	tap_ok(endpoint_parse(text, &ep, err, sizeof(err)) == 0 &&
	    sock_resolve(&ep, role, &addr, err, sizeof(err)) != 0,
	    "'%s' cannot be used as a %s here", text,
	    role == SOCK_ROLE_LISTEN ? "listener" : "target");
	tap_str(err, want, "  with the right message");
}

static void
test_linux_mapping(void)
{
	resolve_fails("hvsock:5f0d6e8a-3c39-4f6c-9b4a-0a1f2e3d4c5b:22",
	    SOCK_ROLE_CONNECT,
	    "a Linux guest only reaches its host: use hvsock:parent:SERVICE to connect, hvsock:wildcard:SERVICE to listen");
	resolve_fails("hvsock:wildcard:22", SOCK_ROLE_CONNECT,
	    "wildcard can only listen on Linux: a target is 'parent' (the host) or 'loopback'");
	resolve_fails("hvsock:parent:5f0d6e8a-3c39-4f6c-9b4a-0a1f2e3d4c5b",
	    SOCK_ROLE_CONNECT,
	    "on Linux SERVICE must be a port or a template GUID PORT-facb-11e6-bd58-64006a7986d3 (port in hex)");
	resolve_fails("vsock:any:22", SOCK_ROLE_CONNECT,
	    "a target needs a CID: 'any' only makes sense for a listener");
	resolve_fails("tcp::22", SOCK_ROLE_LISTEN,
	    "a listener needs an explicit address: 0.0.0.0 or [::] for all");
}

static void
test_hvsock_to_vsock(void)
{
	resolves_to_vsock("hvsock:parent:22", SOCK_ROLE_CONNECT, 2, 22);
	resolves_to_vsock("hvsock:loopback:5000", SOCK_ROLE_CONNECT, 1, 5000);
	resolves_to_vsock("hvsock:wildcard:22", SOCK_ROLE_LISTEN,
	    VMADDR_CID_ANY, 22);
	resolves_to_vsock("hvsock:children:22", SOCK_ROLE_LISTEN,
	    VMADDR_CID_ANY, 22);
	resolves_to_vsock(
	    "hvsock:a42e7cda-d03f-480c-9cc2-a4de20abb878:00001388-facb-11e6-bd58-64006a7986d3",
	    SOCK_ROLE_CONNECT, 2, 5000);
	resolves_to_vsock("vsock:host:7", SOCK_ROLE_CONNECT, 2, 7);
	resolves_to_vsock("vsock:any:7", SOCK_ROLE_LISTEN, VMADDR_CID_ANY, 7);
}

int
main(void)
{
	test_hvsock_to_vsock();
	test_linux_mapping();
	return tap_done();
}
