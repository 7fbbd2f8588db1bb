#include "autoconfig.h"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <linux/vm_sockets.h>

#include "acl.h"
#include "sock.h"
#include "tap.h"

static struct peer_id
ipv4_peer(const char *text)
{
	struct sockaddr_in sin;
	struct peer_id id;

	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	inet_pton(AF_INET, text, &sin.sin_addr);
	sock_peer_identity((struct sockaddr *)&sin, &id);
	return id;
}

static struct peer_id
ipv6_peer(const char *text)
{
	struct sockaddr_in6 sin6;
	struct peer_id id;

	memset(&sin6, 0, sizeof(sin6));
	sin6.sin6_family = AF_INET6;
	inet_pton(AF_INET6, text, &sin6.sin6_addr);
	sock_peer_identity((struct sockaddr *)&sin6, &id);
	return id;
}

static struct peer_id
vsock_peer(unsigned cid)
{
	struct sockaddr_vm svm;
	struct peer_id id;

	memset(&svm, 0, sizeof(svm));
	svm.svm_family = AF_VSOCK;
	svm.svm_cid = cid;
	sock_peer_identity((struct sockaddr *)&svm, &id);
	return id;
}

static void
test_ip(void)
{
	struct acl acl;
	struct peer_id p;
	char err[256];

	tap_ok(acl_parse("10.1.0.0/16, 192.168.1.7 ::1 fd00::/8", &acl, err,
	    sizeof(err)) == 0 && acl.n == 4, "four entries, mixed separators");
	p = ipv4_peer("10.1.200.3");
	tap_ok(acl_allows(&acl, &p), "inside a /16");
	p = ipv4_peer("10.2.0.1");
	tap_ok(!acl_allows(&acl, &p), "outside the /16");
	p = ipv4_peer("192.168.1.7");
	tap_ok(acl_allows(&acl, &p), "a single address is a /32");
	p = ipv4_peer("192.168.1.8");
	tap_ok(!acl_allows(&acl, &p), "its neighbour is not");
	p = ipv6_peer("::ffff:10.1.2.3");
	tap_ok(acl_allows(&acl, &p), "an IPv4-mapped peer matches IPv4 ranges");
	p = ipv6_peer("fd12:3456::1");
	tap_ok(acl_allows(&acl, &p), "inside fd00::/8");
	p = ipv6_peer("fe80::1");
	tap_ok(!acl_allows(&acl, &p), "outside every IPv6 entry");
	p = vsock_peer(3);
	tap_ok(!acl_allows(&acl, &p), "a vsock peer never matches CIDR ranges");
	tap_ok(acl_parse("10.0.0.0/12", &acl, err, sizeof(err)) == 0,
	    "a prefix that is not a byte boundary");
	p = ipv4_peer("10.15.255.255");
	tap_ok(acl_allows(&acl, &p), "  the range's last address");
	p = ipv4_peer("10.16.0.0");
	tap_ok(!acl_allows(&acl, &p), "  the next one");
	tap_ok(acl_parse("0.0.0.0/0", &acl, err, sizeof(err)) == 0, "/0");
	p = ipv4_peer("203.0.113.9");
	tap_ok(acl_allows(&acl, &p), "  matches every IPv4 peer");
}

static void
test_cid(void)
{
	struct acl acl;
	struct peer_id p;
	char err[256];

	tap_ok(acl_parse("2,3", &acl, err, sizeof(err)) == 0, "CIDs");
	p = vsock_peer(3);
	tap_ok(acl_allows(&acl, &p), "a listed CID");
	p = vsock_peer(4);
	tap_ok(!acl_allows(&acl, &p), "an unlisted CID");
	tap_ok(acl_check_listener(&acl, ENDPOINT_VSOCK, err, sizeof(err)) == 0,
	    "CIDs suit a vsock listener");
	tap_ok(acl_check_listener(&acl, ENDPOINT_TCP, err, sizeof(err)) != 0,
	    "but not a tcp one");
	tap_ok(acl_parse("", &acl, err, sizeof(err)) != 0, "an empty list");
	tap_ok(acl_parse("1.2.3.4/8/9", &acl, err, sizeof(err)) != 0,
	    "a malformed range");
	acl.n = 0;
	p = vsock_peer(9);
	tap_ok(acl_allows(&acl, &p), "no 'allow': everyone may connect");
}

int
main(void)
{
	test_ip();
	test_cid();
	return tap_done();
}
