#include "autoconfig.h"

#include "endpoint.h"
#include "tap.h"

static void
rejected(const char *text, const char *want)
{
	struct endpoint ep;
	char err[256] = "";
	char name[256];

	snprintf(name, sizeof(name), "'%s' is rejected", text);
	tap_ok(endpoint_parse(text, &ep, err, sizeof(err)) != 0, "%s", name);
	tap_str(err, want, "  with the right message");
}

static void
test_tcp(void)
{
	struct endpoint ep;
	char err[256];

	tap_ok(endpoint_parse("tcp:127.0.0.1:2222", &ep, err, sizeof(err)) ==
	    0 && ep.kind == ENDPOINT_TCP && ep.u.tcp.port == 2222 &&
	    strcmp(ep.u.tcp.host, "127.0.0.1") == 0, "tcp IPv4");
	tap_ok(endpoint_parse("tcp:[::1]:22", &ep, err, sizeof(err)) == 0 &&
	    strcmp(ep.u.tcp.host, "::1") == 0 && ep.u.tcp.port == 22,
	    "tcp IPv6 in brackets");
	tap_ok(endpoint_parse("tcp::80", &ep, err, sizeof(err)) == 0 &&
	    ep.u.tcp.host[0] == '\0', "tcp with an empty host parses");
	rejected("tcp:127.0.0.1:0", "PORT must be a number from 1 to 65535");
	rejected("tcp:127.0.0.1:65536", "PORT must be a number from 1 to 65535");
	rejected("tcp:127.0.0.1", "expected tcp:HOST:PORT");
	rejected("tcp:localhost", "expected tcp:HOST:PORT");
	rejected("tcp:::1:22",
	    "an IPv6 address must be written in brackets: tcp:[IPV6]:PORT");
	rejected("tcp:[::1]22",
	    "expected tcp:[IPV6]:PORT with the address in brackets");
}

static void
test_unix(void)
{
	struct endpoint ep;
	char err[256];

	tap_ok(endpoint_parse("unix:/run/x.sock", &ep, err, sizeof(err)) == 0 &&
	    ep.kind == ENDPOINT_UNIX && !ep.u.local.abstract &&
	    strcmp(ep.u.local.path, "/run/x.sock") == 0, "unix path");
	tap_ok(endpoint_parse("unix:@hv", &ep, err, sizeof(err)) == 0 &&
	    ep.u.local.abstract && strcmp(ep.u.local.path, "hv") == 0,
	    "unix abstract name");
	rejected("unix:relative.sock",
	    "expected unix:/absolute/path or unix:@abstract-name");
	rejected("unix:@", "the socket path or name is empty");
}

static void
test_vsock(void)
{
	struct endpoint ep;
	char err[256];

	tap_ok(endpoint_parse("vsock:any:22", &ep, err, sizeof(err)) == 0 &&
	    ep.u.vsock.cid == VSOCK_CID_ANY && ep.u.vsock.port == 22,
	    "vsock any");
	tap_ok(endpoint_parse("vsock:host:5000", &ep, err, sizeof(err)) == 0 &&
	    ep.u.vsock.cid == 2, "vsock host is CID 2");
	tap_ok(endpoint_parse("vsock:local:5000", &ep, err, sizeof(err)) == 0 &&
	    ep.u.vsock.cid == 1, "vsock local is CID 1");
	tap_ok(endpoint_parse("vsock:3:4294967294", &ep, err, sizeof(err)) ==
	    0 && ep.u.vsock.cid == 3 && ep.u.vsock.port == 4294967294U,
	    "vsock numeric CID, largest port");
	rejected("vsock:guest:22",
	    "CID must be a number or one of any, local, host");
	rejected("vsock:3:4294967295",
	    "PORT must be a number from 0 to 4294967294");
	rejected("vsock:3", "expected vsock:CID:PORT");
}

static void
test_hvsock(void)
{
	struct endpoint ep;
	char err[256], text[GUID_TEXT_LEN + 1];

	tap_ok(endpoint_parse("hvsock:parent:22", &ep, err, sizeof(err)) == 0 &&
	    ep.u.hv.alias == HV_VMID_PARENT, "hvsock parent alias");
	guid_format(&ep.u.hv.service, text);
	tap_str(text, "00000016-facb-11e6-bd58-64006a7986d3",
	    "hvsock port becomes the template GUID");
	tap_ok(endpoint_parse(
	    "hvsock:5f0d6e8a-3c39-4f6c-9b4a-0a1f2e3d4c5b:{00000016-FACB-11e6-bd58-64006a7986d3}",
	    &ep, err, sizeof(err)) == 0 && ep.u.hv.alias == HV_VMID_GUID &&
	    ep.u.hv.vmid.data1 == 0x5f0d6e8a, "hvsock GUID VmId and braced service");
	rejected("hvsock:foo:22",
	    "VMID must be a GUID or one of wildcard, children, loopback, parent, silohost");
	rejected("hvsock:parent:ssh", "SERVICE must be a GUID or a port number");
	rejected("hvsock:parent", "expected hvsock:VMID:SERVICE");
	rejected("udp:1.2.3.4:5",
	    "expected tcp:HOST:PORT, unix:/PATH, vsock:CID:PORT or hvsock:VMID:SERVICE");
}

static void
test_guids(void)
{
	struct guid g;
	uint32_t port = 0;
	char text[GUID_TEXT_LEN + 1];

	tap_ok(guid_parse("a42e7cda-d03f-480c-9cc2-a4de20abb878", &g) == 0 &&
	    guid_equal(&g, hv_vmid_guid(HV_VMID_PARENT)),
	    "parent GUID parses to the parent alias value");
	guid_format(hv_vmid_guid(HV_VMID_CHILDREN), text);
	tap_str(text, "90db8b89-0d35-4f79-8ce9-49ea0ac8b7cd", "children GUID");
	guid_from_port(0x1234abcd, &g);
	tap_ok(guid_to_port(&g, &port) == 0 && port == 0x1234abcd,
	    "port -> GUID -> port round trip");
	(void)guid_parse("5f0d6e8a-3c39-4f6c-9b4a-0a1f2e3d4c5b", &g);
	tap_ok(guid_to_port(&g, &port) != 0, "non-template GUID has no port");
	tap_ok(guid_parse("5f0d6e8a-3c39-4f6c-9b4a0a1f2e3d4c5b", &g) != 0,
	    "GUID with a missing dash");
	tap_ok(guid_parse("5f0d6e8a-3c39-4f6c-9b4a-0a1f2e3d4c5g", &g) != 0,
	    "GUID with a non-hex digit");
	tap_ok(guid_parse("{5f0d6e8a-3c39-4f6c-9b4a-0a1f2e3d4c5b", &g) != 0,
	    "GUID with one brace");
}

int
main(void)
{
	test_tcp();
	test_unix();
	test_vsock();
	test_hvsock();
	test_guids();
	return tap_done();
}
