#include "autoconfig.h"

#include <winsock2.h>
#include <ws2tcpip.h>
#include <hvsocket.h>

#include "endpoint.h"
#include "sock.h"
#include "tap.h"

static int
resolve(const char *text, enum sock_role role, struct sock_addr *addr,
    char *err, size_t errlen)
{
	struct endpoint ep;

	err[0] = '\0';
	if (endpoint_parse(text, &ep, err, errlen) != 0) {
		return -1;
	}
	return sock_resolve(&ep, role, addr, err, errlen);
}

static void
test_hyperv_address(void)
{
	const SOCKADDR_HV *hv = NULL;
	struct sock_addr addr;
	char err[256], text[128];
	struct peer_id id;

	tap_ok(resolve("hvsock:5f0d6e8a-3c39-4f6c-9b4a-0a1f2e3d4c5b:22",
	    SOCK_ROLE_CONNECT, &addr, err, sizeof(err)) == 0,
	    "a VmId target resolves");
	hv = (const SOCKADDR_HV *)&addr.ss;
	tap_ok(addr.len == 36 && sizeof(SOCKADDR_HV) == 36,
	    "SOCKADDR_HV is 36 bytes");
	tap_ok(hv->Family == 34 && hv->Reserved == 0, "family AF_HYPERV (34)");
	tap_ok(hv->VmId.Data1 == 0x5f0d6e8a && hv->VmId.Data2 == 0x3c39 &&
	    hv->VmId.Data3 == 0x4f6c && hv->VmId.Data4[0] == 0x9b &&
	    hv->VmId.Data4[7] == 0x5b, "the VmId fields");
	tap_ok(hv->ServiceId.Data1 == 22 && hv->ServiceId.Data2 == 0xfacb &&
	    hv->ServiceId.Data3 == 0x11e6 && hv->ServiceId.Data4[0] == 0xbd,
	    "port 22 is the template service GUID");
	sock_format_addr((const struct sockaddr *)&addr.ss, addr.len, text,
	    sizeof(text));
	tap_str(text,
	    "hvsock:5f0d6e8a-3c39-4f6c-9b4a-0a1f2e3d4c5b:00000016-facb-11e6-bd58-64006a7986d3",
	    "formatted back");
	sock_peer_identity((const struct sockaddr *)&addr.ss, &id);
	tap_ok(id.kind == PEER_HYPERV && id.vmid.data1 == 0x5f0d6e8a,
	    "a Hyper-V peer is known by its VmId");
	tap_ok(resolve("hvsock:parent:5000", SOCK_ROLE_CONNECT, &addr, err,
	    sizeof(err)) == 0 && hv->VmId.Data1 == 0xa42e7cda,
	    "parent is its well-known VmId");
	tap_ok(resolve("hvsock:wildcard:22", SOCK_ROLE_LISTEN, &addr, err,
	    sizeof(err)) == 0 && hv->VmId.Data1 == 0 && hv->VmId.Data4[7] == 0,
	    "a wildcard listener has the zero VmId");
}

static void
test_refusals(void)
{
	struct sock_addr addr;
	char err[256];

	tap_ok(resolve("hvsock:wildcard:22", SOCK_ROLE_CONNECT, &addr, err,
	    sizeof(err)) != 0, "wildcard is no target");
	tap_str(err,
	    "wildcard can only listen: a target needs a VmId ((Get-VM NAME).Id), or loopback, parent, silohost",
	    "  with the right message");
	tap_ok(resolve("vsock:3:22", SOCK_ROLE_CONNECT, &addr, err,
	    sizeof(err)) != 0, "vsock is refused");
	tap_str(err,
	    "Windows has no vsock: reach a VM with hvsock:VMID:PORT (the guest's vsock port PORT)",
	    "  suggesting hvsock");
	tap_ok(resolve("unix:@name", SOCK_ROLE_LISTEN, &addr, err,
	    sizeof(err)) != 0, "abstract Unix names are refused");
}

static void
test_errors(void)
{
	tap_str(sock_error_text(WSAEAFNOSUPPORT),
	    "Hyper-V sockets are not available: Windows 10 1607+ / Server 2016+ with Hyper-V enabled",
	    "WSAEAFNOSUPPORT explained");
	tap_ok(strstr(sock_error_text(WSAEACCES), "hvrelay register") != NULL,
	    "WSAEACCES points at registration");
	tap_ok(sock_error_is_permanent(WSAEAFNOSUPPORT),
	    "no retrying without Hyper-V");
	tap_ok(sock_error_is_refusal(WSAECONNREFUSED) &&
	    sock_error_is_reset(WSAECONNRESET), "refusal and reset");
}

int
main(void)
{
	char err[256];

	if (sock_platform_init(err, sizeof(err)) != 0) {
		printf("Bail out! %s\n", err);
		return 1;
	}
	test_hyperv_address();
	test_refusals();
	test_errors();
	return tap_done();
}
