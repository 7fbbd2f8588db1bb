#include "autoconfig.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "endpoint.h"
#include "parse.h"
#include "platform.h"

/* Service GUID template: the vsock port replaces the first field. */
static const struct guid template_guid = {
	0x00000000, 0xfacb, 0x11e6,
	{ 0xbd, 0x58, 0x64, 0x00, 0x6a, 0x79, 0x86, 0xd3 },
};

static const struct {
	const char *name;
	struct guid guid;
} vmid_aliases[] = {
	[HV_VMID_GUID] = { NULL, { 0, 0, 0, { 0 } } },
	[HV_VMID_WILDCARD] = { "wildcard", { 0, 0, 0, { 0 } } },
	[HV_VMID_CHILDREN] = { "children", { 0x90db8b89, 0x0d35, 0x4f79,
	    { 0x8c, 0xe9, 0x49, 0xea, 0x0a, 0xc8, 0xb7, 0xcd } } },
	[HV_VMID_LOOPBACK] = { "loopback", { 0xe0e16197, 0xdd56, 0x4a10,
	    { 0x91, 0x95, 0x5e, 0xe7, 0xa1, 0x55, 0xa8, 0x38 } } },
	[HV_VMID_PARENT] = { "parent", { 0xa42e7cda, 0xd03f, 0x480c,
	    { 0x9c, 0xc2, 0xa4, 0xde, 0x20, 0xab, 0xb8, 0x78 } } },
	[HV_VMID_SILOHOST] = { "silohost", { 0x36bd0c5c, 0x7276, 0x4223,
	    { 0x88, 0xba, 0x7d, 0x03, 0xb6, 0x54, 0xc5, 0x68 } } },
};

#define VMID_ALIAS_COUNT (sizeof(vmid_aliases) / sizeof(vmid_aliases[0]))

static int
hex_value(char c)
{
	if (c >= '0' && c <= '9') {
		return c - '0';
	}
	c = (char)tolower((unsigned char)c);
	if (c >= 'a' && c <= 'f') {
		return c - 'a' + 10;
	}
	return -1;
}

/* Reads exactly ndigits hex digits. */
static int
parse_hex(const char *p, int ndigits, uint64_t *out)
{
	uint64_t value = 0;
	int i;

	for (i = 0; i < ndigits; i++) {
		int v = hex_value(p[i]);

		if (v < 0) {
			return -1;
		}
		value = value << 4 | (uint64_t)v;
	}
	*out = value;
	return 0;
}

int
guid_parse(const char *text, struct guid *g)
{
	char buf[GUID_TEXT_LEN + 1];
	size_t len = strlen(text);
	uint64_t d1, d2, d3, d4a, d4b;
	int i;

	if (len == GUID_TEXT_LEN + 2 && text[0] == '{' && text[len - 1] == '}') {
		text++;
		len -= 2;
	}
	if (len != GUID_TEXT_LEN) {
		return -1;
	}
	memcpy(buf, text, GUID_TEXT_LEN);
	buf[GUID_TEXT_LEN] = '\0';
	if (buf[8] != '-' || buf[13] != '-' || buf[18] != '-' ||
	    buf[23] != '-') {
		return -1;
	}
	if (parse_hex(buf, 8, &d1) != 0 || parse_hex(buf + 9, 4, &d2) != 0 ||
	    parse_hex(buf + 14, 4, &d3) != 0 ||
	    parse_hex(buf + 19, 4, &d4a) != 0 ||
	    parse_hex(buf + 24, 12, &d4b) != 0) {
		return -1;
	}
	g->data1 = (uint32_t)d1;
	g->data2 = (uint16_t)d2;
	g->data3 = (uint16_t)d3;
	g->data4[0] = (uint8_t)(d4a >> 8);
	g->data4[1] = (uint8_t)d4a;
	for (i = 0; i < 6; i++) {
		g->data4[2 + i] = (uint8_t)(d4b >> (40 - 8 * i));
	}
	return 0;
}

void
guid_format(const struct guid *g, char out[GUID_TEXT_LEN + 1])
{
	snprintf(out, GUID_TEXT_LEN + 1,
	    "%08x-%04x-%04x-%02x%02x-%02x%02x%02x%02x%02x%02x",
	    (unsigned)g->data1, (unsigned)g->data2, (unsigned)g->data3,
	    g->data4[0], g->data4[1], g->data4[2], g->data4[3], g->data4[4],
	    g->data4[5], g->data4[6], g->data4[7]);
}

int
guid_equal(const struct guid *a, const struct guid *b)
{
	return a->data1 == b->data1 && a->data2 == b->data2 &&
	    a->data3 == b->data3 && memcmp(a->data4, b->data4, 8) == 0;
}

void
guid_from_port(uint32_t port, struct guid *g)
{
	*g = template_guid;
	g->data1 = port;
}

int
guid_to_port(const struct guid *g, uint32_t *port)
{
	struct guid probe = *g;

	probe.data1 = 0;
	if (!guid_equal(&probe, &template_guid)) {
		return -1;
	}
	*port = g->data1;
	return 0;
}

const struct guid *
hv_vmid_guid(enum hv_vmid alias)
{
	return &vmid_aliases[alias].guid;
}

const char *
hv_vmid_name(enum hv_vmid alias)
{
	return vmid_aliases[alias].name;
}

static int
fail(char *err, size_t errlen, const char *msg)
{
	snprintf(err, errlen, "%s", msg);
	return -1;
}

static int
parse_tcp(const char *rest, struct endpoint *ep, char *err, size_t errlen)
{
	const char *colon = NULL;
	const char *host = rest;
	size_t host_len;
	uint64_t port;

	if (rest[0] == '[') {
		const char *close = strchr(rest, ']');

		if (close == NULL || close[1] != ':') {
			return fail(err, errlen,
			    "expected tcp:[IPV6]:PORT with the address in brackets");
		}
		host = rest + 1;
		host_len = (size_t)(close - host);
		colon = close + 1;
	} else {
		colon = strrchr(rest, ':');
		if (colon == NULL) {
			return fail(err, errlen, "expected tcp:HOST:PORT");
		}
		host_len = (size_t)(colon - rest);
		if (memchr(rest, ':', host_len) != NULL) {
			return fail(err, errlen,
			    "an IPv6 address must be written in brackets: tcp:[IPV6]:PORT");
		}
	}
	if (host_len >= sizeof(ep->u.tcp.host)) {
		return fail(err, errlen, "host name is too long");
	}
	if (parse_uint(colon + 1, 1, 65535, &port) != 0) {
		return fail(err, errlen, "PORT must be a number from 1 to 65535");
	}
	memcpy(ep->u.tcp.host, host, host_len);
	ep->u.tcp.host[host_len] = '\0';
	ep->u.tcp.port = (uint16_t)port;
	ep->kind = ENDPOINT_TCP;
	return 0;
}

static int
parse_unix(const char *rest, struct endpoint *ep, char *err, size_t errlen)
{
	if (!platform_path_is_absolute(rest) && rest[0] != '@') {
		return fail(err, errlen,
		    "expected unix:/absolute/path or unix:@abstract-name");
	}
	if (rest[1] == '\0') {
		return fail(err, errlen, "the socket path or name is empty");
	}
	if (strlen(rest) >= sizeof(ep->u.local.path)) {
		return fail(err, errlen,
		    "the socket path is too long (at most 107 characters)");
	}
	ep->u.local.abstract = rest[0] == '@';
	snprintf(ep->u.local.path, sizeof(ep->u.local.path), "%s",
	    ep->u.local.abstract ? rest + 1 : rest);
	ep->kind = ENDPOINT_UNIX;
	return 0;
}

/* Splits "A:B" at its first colon into two bounded strings. */
static int
split_pair(const char *rest, char *a, size_t alen, char *b, size_t blen)
{
	const char *colon = strchr(rest, ':');
	size_t len;

	if (colon == NULL) {
		return -1;
	}
	len = (size_t)(colon - rest);
	if (len >= alen || strlen(colon + 1) >= blen) {
		return -1;
	}
	memcpy(a, rest, len);
	a[len] = '\0';
	snprintf(b, blen, "%s", colon + 1);
	return 0;
}

static int
parse_vsock(const char *rest, struct endpoint *ep, char *err, size_t errlen)
{
	char cid[16], port[16];
	uint64_t value;

	if (split_pair(rest, cid, sizeof(cid), port, sizeof(port)) != 0) {
		return fail(err, errlen, "expected vsock:CID:PORT");
	}
	if (strcmp(cid, "any") == 0) {
		ep->u.vsock.cid = VSOCK_CID_ANY;
	} else if (strcmp(cid, "local") == 0) {
		ep->u.vsock.cid = VSOCK_CID_LOCAL;
	} else if (strcmp(cid, "host") == 0) {
		ep->u.vsock.cid = VSOCK_CID_HOST;
	} else if (parse_uint(cid, 0, UINT32_MAX - 1, &value) == 0) {
		ep->u.vsock.cid = (uint32_t)value;
	} else {
		return fail(err, errlen,
		    "CID must be a number or one of any, local, host");
	}
	if (parse_uint(port, 0, VSOCK_PORT_MAX, &value) != 0) {
		return fail(err, errlen,
		    "PORT must be a number from 0 to 4294967294");
	}
	ep->u.vsock.port = (uint32_t)value;
	ep->kind = ENDPOINT_VSOCK;
	return 0;
}

static int
parse_vmid(const char *text, struct endpoint *ep)
{
	size_t i;

	for (i = HV_VMID_WILDCARD; i < VMID_ALIAS_COUNT; i++) {
		if (strcmp(text, vmid_aliases[i].name) == 0) {
			ep->u.hv.alias = (enum hv_vmid)i;
			ep->u.hv.vmid = vmid_aliases[i].guid;
			return 0;
		}
	}
	ep->u.hv.alias = HV_VMID_GUID;
	return guid_parse(text, &ep->u.hv.vmid);
}

static int
parse_hvsock(const char *rest, struct endpoint *ep, char *err, size_t errlen)
{
	char vmid[GUID_TEXT_LEN + 3], service[GUID_TEXT_LEN + 3];
	uint64_t port;

	if (split_pair(rest, vmid, sizeof(vmid), service, sizeof(service)) !=
	    0) {
		return fail(err, errlen, "expected hvsock:VMID:SERVICE");
	}
	if (parse_vmid(vmid, ep) != 0) {
		return fail(err, errlen,
		    "VMID must be a GUID or one of wildcard, children, loopback, parent, silohost");
	}
	if (parse_uint(service, 0, VSOCK_PORT_MAX, &port) == 0) {
		guid_from_port((uint32_t)port, &ep->u.hv.service);
	} else if (guid_parse(service, &ep->u.hv.service) != 0) {
		return fail(err, errlen,
		    "SERVICE must be a GUID or a port number");
	}
	ep->kind = ENDPOINT_HVSOCK;
	return 0;
}

int
endpoint_parse(const char *text, struct endpoint *ep, char *err,
    size_t errlen)
{
	static const struct {
		const char *prefix;
		int (*parse)(const char *, struct endpoint *, char *, size_t);
	} forms[] = {
		{ "tcp:", parse_tcp },
		{ "unix:", parse_unix },
		{ "vsock:", parse_vsock },
		{ "hvsock:", parse_hvsock },
	};
	size_t i;

	memset(ep, 0, sizeof(*ep));
	if (strlen(text) >= sizeof(ep->text)) {
		return fail(err, errlen, "the address is too long");
	}
	snprintf(ep->text, sizeof(ep->text), "%s", text);
	for (i = 0; i < sizeof(forms) / sizeof(forms[0]); i++) {
		size_t len = strlen(forms[i].prefix);

		if (strncmp(text, forms[i].prefix, len) == 0) {
			return forms[i].parse(text + len, ep, err, errlen);
		}
	}
	return fail(err, errlen,
	    "expected tcp:HOST:PORT, unix:/PATH, vsock:CID:PORT or hvsock:VMID:SERVICE");
}
