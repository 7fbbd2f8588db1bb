#include "autoconfig.h"

#include <stdio.h>
#include <string.h>

#include <event2/util.h>

#include "acl.h"
#include "parse.h"

#define TOKEN_MAX 64

static int
parse_cidr(const char *token, struct acl_entry *e)
{
	char addr[TOKEN_MAX];
	const char *slash = strchr(token, '/');
	size_t len = slash != NULL ? (size_t)(slash - token) : strlen(token);
	uint64_t prefix = 0;
	unsigned max;

	if (len >= sizeof(addr)) {
		return -1;
	}
	memcpy(addr, token, len);
	addr[len] = '\0';
	if (evutil_inet_pton(AF_INET, addr, e->addr) == 1) {
		e->kind = PEER_IPV4;
		max = 32;
	} else if (evutil_inet_pton(AF_INET6, addr, e->addr) == 1) {
		e->kind = PEER_IPV6;
		max = 128;
	} else {
		return -1;
	}
	if (slash == NULL) {
		e->prefix = max;
		return 0;
	}
	if (parse_uint(slash + 1, 0, max, &prefix) != 0) {
		return -1;
	}
	e->prefix = (unsigned)prefix;
	return 0;
}

static int
parse_entry(const char *token, struct acl_entry *e)
{
	uint64_t cid = 0;

	memset(e, 0, sizeof(*e));
	if (parse_uint(token, 0, UINT32_MAX - 1, &cid) == 0) {
		e->kind = PEER_VSOCK;
		e->cid = (uint32_t)cid;
		return 0;
	}
	if (guid_parse(token, &e->vmid) == 0) {
		e->kind = PEER_HYPERV;
		return 0;
	}
	return parse_cidr(token, e);
}

int
acl_parse(const char *text, struct acl *acl, char *err, size_t errlen)
{
	char token[TOKEN_MAX];
	const char *p = text;
	size_t len;

	memset(acl, 0, sizeof(*acl));
	for (;;) {
		p += strspn(p, ", \t");
		if (*p == '\0') {
			break;
		}
		len = strcspn(p, ", \t");
		if (len >= sizeof(token) || acl->n == ACL_MAX_ENTRIES) {
			snprintf(err, errlen, "%s",
			    len >= sizeof(token) ? "an entry is too long" :
			    "at most 32 entries");
			return -1;
		}
		memcpy(token, p, len);
		token[len] = '\0';
		if (parse_entry(token, &acl->entries[acl->n]) != 0) {
			snprintf(err, errlen,
			    "'%s' is not a CIDR range (10.0.0.0/8, ::1/128), a CID or a VmId GUID",
			    token);
			return -1;
		}
		acl->n++;
		p += len;
	}
	if (acl->n == 0) {
		snprintf(err, errlen, "expected at least one source");
		return -1;
	}
	return 0;
}

int
acl_check_listener(const struct acl *acl, enum endpoint_kind kind,
    char *err, size_t errlen)
{
	size_t i;

	for (i = 0; i < acl->n; i++) {
		enum peer_kind k = acl->entries[i].kind;
		int ip = k == PEER_IPV4 || k == PEER_IPV6;

		if (kind == ENDPOINT_UNIX) {
			snprintf(err, errlen,
			    "does not apply to unix listeners: use the socket file's permissions");
			return -1;
		}
		if ((kind == ENDPOINT_TCP) != ip) {
			snprintf(err, errlen, "%s",
			    kind == ENDPOINT_TCP ?
			    "a tcp listener takes CIDR ranges such as 127.0.0.0/8" :
			    "a vsock or hvsock listener takes CIDs or VmId GUIDs");
			return -1;
		}
	}
	return 0;
}

static int
prefix_matches(const uint8_t *a, const uint8_t *b, unsigned prefix)
{
	unsigned whole = prefix / 8, rest = prefix % 8;
	uint8_t mask;

	if (memcmp(a, b, whole) != 0) {
		return 0;
	}
	if (rest == 0) {
		return 1;
	}
	mask = (uint8_t)(0xff << (8 - rest));
	return (a[whole] & mask) == (b[whole] & mask);
}

static int
entry_matches(const struct acl_entry *e, const struct peer_id *peer)
{
	if (e->kind != peer->kind) {
		return 0;
	}
	switch (e->kind) {
	case PEER_IPV4:
	case PEER_IPV6:
		return prefix_matches(e->addr, peer->addr, e->prefix);
	case PEER_VSOCK:
		return e->cid == peer->cid;
	case PEER_HYPERV:
		return guid_equal(&e->vmid, &peer->vmid);
	case PEER_OTHER:
		break;
	}
	return 0;
}

int
acl_allows(const struct acl *acl, const struct peer_id *peer)
{
	size_t i;

	if (acl->n == 0) {
		return 1;
	}
	for (i = 0; i < acl->n; i++) {
		if (entry_matches(&acl->entries[i], peer)) {
			return 1;
		}
	}
	return 0;
}
