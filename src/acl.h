/* Access control: which peers a forward's listener accepts ('allow'). */
#ifndef HVRELAY_ACL_H
#define HVRELAY_ACL_H

#include <stddef.h>
#include <stdint.h>

#include "endpoint.h"

#define ACL_MAX_ENTRIES 32

enum peer_kind {
	PEER_IPV4,
	PEER_IPV6,
	PEER_VSOCK,  /* identified by CID */
	PEER_HYPERV, /* identified by VmId */
	PEER_OTHER,
};

/* Who is on the other end of an accepted socket. */
struct peer_id {
	enum peer_kind kind;
	uint8_t addr[16];
	uint32_t cid;
	struct guid vmid;
};

struct acl_entry {
	enum peer_kind kind;
	uint8_t addr[16];
	unsigned prefix;
	uint32_t cid;
	struct guid vmid;
};

struct acl {
	size_t n;
	struct acl_entry entries[ACL_MAX_ENTRIES];
};

/* A list of CIDR ranges, CIDs or VmIds, separated by commas or spaces. */
int acl_parse(const char *text, struct acl *acl, char *err, size_t errlen);
/* Whether the entries can match peers of a listener of this kind. */
int acl_check_listener(const struct acl *acl, enum endpoint_kind kind,
    char *err, size_t errlen);
/* An empty list allows everyone. */
int acl_allows(const struct acl *acl, const struct peer_id *peer);

#endif
