/* Endpoint addresses as written in the configuration, and Hyper-V GUIDs. */
#ifndef HVRELAY_ENDPOINT_H
#define HVRELAY_ENDPOINT_H

#include <stddef.h>
#include <stdint.h>

#define GUID_TEXT_LEN 36
#define ENDPOINT_TEXT_MAX 160
#define ENDPOINT_HOST_MAX 64
#define ENDPOINT_PATH_MAX 108

/* Data1..Data3 are host-order integers, as in the Windows GUID struct. */
struct guid {
	uint32_t data1;
	uint16_t data2;
	uint16_t data3;
	uint8_t data4[8];
};

enum endpoint_kind {
	ENDPOINT_TCP,
	ENDPOINT_UNIX,
	ENDPOINT_VSOCK,
	ENDPOINT_HVSOCK,
};

/* The well-known Hyper-V VmIds a config may name instead of a GUID. */
enum hv_vmid {
	HV_VMID_GUID,
	HV_VMID_WILDCARD,
	HV_VMID_CHILDREN,
	HV_VMID_LOOPBACK,
	HV_VMID_PARENT,
	HV_VMID_SILOHOST,
};

#define VSOCK_CID_ANY UINT32_MAX
#define VSOCK_CID_LOCAL 1
#define VSOCK_CID_HOST 2
#define VSOCK_PORT_MAX (UINT32_MAX - 1)

struct endpoint {
	enum endpoint_kind kind;
	char text[ENDPOINT_TEXT_MAX];
	union {
		struct {
			char host[ENDPOINT_HOST_MAX];
			uint16_t port;
		} tcp;
		struct {
			char path[ENDPOINT_PATH_MAX];
			int abstract;
		} local;
		struct {
			uint32_t cid;
			uint32_t port;
		} vsock;
		struct {
			enum hv_vmid alias;
			struct guid vmid;
			struct guid service;
		} hv;
	} u;
};

/* Parses text; on failure writes what was expected to err and returns -1. */
int endpoint_parse(const char *text, struct endpoint *ep, char *err,
    size_t errlen);

/* Accepts "xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx", optionally in braces. */
int guid_parse(const char *text, struct guid *g);
void guid_format(const struct guid *g, char out[GUID_TEXT_LEN + 1]);
int guid_equal(const struct guid *a, const struct guid *b);

/* The Hyper-V service GUID that stands for a vsock port, and back. */
void guid_from_port(uint32_t port, struct guid *g);
int guid_to_port(const struct guid *g, uint32_t *port);

/* The GUID of a well-known VmId alias (not HV_VMID_GUID). */
const struct guid *hv_vmid_guid(enum hv_vmid alias);
const char *hv_vmid_name(enum hv_vmid alias);

#endif
