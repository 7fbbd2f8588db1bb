#include "autoconfig.h"

#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "sock_common.h"
#include "sock_system.h"

int
sock_addr_family(const struct sock_addr *addr)
{
	return ((const struct sockaddr *)&addr->ss)->sa_family;
}

int
sock_family(evutil_socket_t fd)
{
	struct sockaddr_storage ss;
	ev_socklen_t len = sizeof(ss);

	if (getsockname(fd, (struct sockaddr *)&ss, &len) != 0) {
		return AF_UNSPEC;
	}
	return ss.ss_family;
}

int
sock_addr_is_unix_file(const struct sock_addr *addr)
{
	const struct sockaddr_un *sun = (const struct sockaddr_un *)&addr->ss;

	return sock_addr_family(addr) == AF_UNIX && sun->sun_path[0] != '\0';
}

int
sock_resolve_tcp(const struct endpoint *ep, enum sock_role role,
    struct sock_addr *out, char *err, size_t errlen)
{
	struct addrinfo hints, *res = NULL;
	char port[8];
	int rc;

	if (ep->u.tcp.host[0] == '\0') {
		snprintf(err, errlen, "%s",
		    role == SOCK_ROLE_LISTEN ?
		    "a listener needs an explicit address: 0.0.0.0 or [::] for all" :
		    "HOST is empty");
		return -1;
	}
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_NUMERICSERV;
	snprintf(port, sizeof(port), "%u", (unsigned)ep->u.tcp.port);
	rc = getaddrinfo(ep->u.tcp.host, port, &hints, &res);
	if (rc != 0) {
		snprintf(err, errlen, "cannot resolve '%s': %s",
		    ep->u.tcp.host, gai_strerror(rc));
		return -1;
	}
	memcpy(&out->ss, res->ai_addr, res->ai_addrlen);
	out->len = (ev_socklen_t)res->ai_addrlen;
	freeaddrinfo(res);
	return 0;
}

void
sock_resolve_unix(const struct endpoint *ep, struct sock_addr *out)
{
	struct sockaddr_un *sun = (struct sockaddr_un *)&out->ss;
	size_t len = strlen(ep->u.local.path);

	sun->sun_family = AF_UNIX;
	if (ep->u.local.abstract) {
		/* Abstract names start with a NUL byte and are not terminated. */
		memcpy(sun->sun_path + 1, ep->u.local.path, len);
		out->len = (ev_socklen_t)(offsetof(struct sockaddr_un, sun_path) +
		    1 + len);
	} else {
		memcpy(sun->sun_path, ep->u.local.path, len + 1);
		out->len = (ev_socklen_t)sizeof(*sun);
	}
}

int
sock_format_ip(const struct sockaddr *sa, char *out, size_t outlen)
{
	char host[INET6_ADDRSTRLEN];

	if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *sin = (const struct sockaddr_in *)sa;

		evutil_inet_ntop(AF_INET, &sin->sin_addr, host, sizeof(host));
		snprintf(out, outlen, "%s:%u", host, ntohs(sin->sin_port));
		return 1;
	}
	if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *sin6 =
		    (const struct sockaddr_in6 *)sa;

		evutil_inet_ntop(AF_INET6, &sin6->sin6_addr, host, sizeof(host));
		snprintf(out, outlen, "[%s]:%u", host, ntohs(sin6->sin6_port));
		return 1;
	}
	return 0;
}

int
sock_identify_ip(const struct sockaddr *sa, struct peer_id *out)
{
	static const uint8_t v4_mapped[12] = {
		0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff,
	};
	const uint8_t *a = NULL;

	if (sa->sa_family == AF_INET) {
		out->kind = PEER_IPV4;
		memcpy(out->addr, &((const struct sockaddr_in *)sa)->sin_addr, 4);
		return 1;
	}
	if (sa->sa_family != AF_INET6) {
		return 0;
	}
	a = (const uint8_t *)&((const struct sockaddr_in6 *)sa)->sin6_addr;
	if (memcmp(a, v4_mapped, sizeof(v4_mapped)) == 0) {
		out->kind = PEER_IPV4;
		memcpy(out->addr, a + 12, 4);
	} else {
		out->kind = PEER_IPV6;
		memcpy(out->addr, a, 16);
	}
	return 1;
}
