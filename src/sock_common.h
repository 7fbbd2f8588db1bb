/* Address handling both socket backends share: TCP and Unix addresses
 * are the same everywhere. */
#ifndef HVRELAY_SOCK_COMMON_H
#define HVRELAY_SOCK_COMMON_H

#include "sock.h"

int sock_addr_family(const struct sock_addr *addr);
/* The family of an open socket, AF_UNSPEC if it cannot be told. */
int sock_family(evutil_socket_t fd);
int sock_addr_is_unix_file(const struct sock_addr *addr);
int sock_resolve_tcp(const struct endpoint *ep, enum sock_role role,
    struct sock_addr *out, char *err, size_t errlen);
void sock_resolve_unix(const struct endpoint *ep, struct sock_addr *out);
/* Each returns 1 when the address was IPv4 or IPv6, 0 otherwise. */
int sock_format_ip(const struct sockaddr *sa, char *out, size_t outlen);
int sock_identify_ip(const struct sockaddr *sa, struct peer_id *out);

#endif
