/*
 * The platform layer: everything that differs between POSIX and Windows
 * sockets (address families, options, errors, the clock) lives behind this
 * header, implemented once per platform in sock_posix.c and sock_win32.c.
 */
#ifndef HVRELAY_SOCK_H
#define HVRELAY_SOCK_H

#include <stddef.h>
#include <stdint.h>

#include <event2/util.h>

#include "acl.h"
#include "endpoint.h"

struct sock_addr {
	struct sockaddr_storage ss;
	ev_socklen_t len;
};

enum sock_role {
	SOCK_ROLE_LISTEN,
	SOCK_ROLE_CONNECT,
};

struct sock_options {
	uint32_t buffer_size;        /* 0 leaves the system default */
	int owner_only;              /* a Unix socket only its owner may use */
	uint32_t connect_timeout_ms; /* for transports with their own timer */
};

/* Process-wide setup: SIGPIPE, descriptor limits, socket library. */
int sock_platform_init(char *err, size_t errlen);
/* How many sockets this process may hold at once. */
uint64_t sock_descriptor_limit(void);

/* Maps a parsed endpoint to an address of this platform, or explains why
 * it cannot work here. */
int sock_resolve(const struct endpoint *ep, enum sock_role role,
    struct sock_addr *out, char *err, size_t errlen);

/* A bound, listening, non-blocking socket, or -1 with err filled in. */
evutil_socket_t sock_listen(const struct sock_addr *addr,
    const struct sock_options *opts, char *err, size_t errlen);
void sock_close_listener(evutil_socket_t fd, const struct sock_addr *addr);

/* Starts a non-blocking connect. Returns the socket with *pending set when
 * the outcome is not known yet, or -1 with *error set. */
evutil_socket_t sock_connect(const struct sock_addr *addr,
    const struct sock_options *opts, int *pending, int *error);
/* After the socket became writable: 0, or why the connect failed. */
int sock_connect_result(evutil_socket_t fd);

/* Applies options to a socket; on a listener they reach the connections
 * it accepts from then on. Sockets from sock_listen and sock_connect have
 * them already, TCP_NODELAY included. */
void sock_apply_options(evutil_socket_t fd, const struct sock_options *opts);
int sock_shutdown_write(evutil_socket_t fd);
/* Makes the next close send a reset instead of an orderly FIN. */
void sock_set_abortive(evutil_socket_t fd);

/* The buffer size the kernel really uses for the socket (for vsock, the
 * transport's buffer), to show that buffer-size took effect. */
uint64_t sock_buffer_size(evutil_socket_t fd);

void sock_format_addr(const struct sockaddr *sa, ev_socklen_t len, char *out,
    size_t outlen);

/* Who an accepted peer is, for access control; an IPv4 peer on a
 * dual-stack socket counts as IPv4. */
void sock_peer_identity(const struct sockaddr *sa, struct peer_id *out);

/* Moving bytes. Each returns how many, 0 at end of stream (receiving), or
 * -1 with *error set: 0 when the call would block, an error code otherwise. */
long sock_recv(evutil_socket_t fd, void *buf, size_t len, int *error);
long sock_send(evutil_socket_t fd, const void *buf, size_t len, int *error);

/* Zero-copy through a kernel pipe (Linux splice). sock_pipe_get() returns
 * NULL where there is no such thing; an empty pipe goes back with
 * sock_pipe_put(), one still holding bytes is discarded. */
struct sock_pipe;
struct sock_pipe *sock_pipe_get(void);
void sock_pipe_put(struct sock_pipe *p);
void sock_pipe_discard(struct sock_pipe *p);
/* Like sock_recv/sock_send; *error is SOCK_NO_SPLICE when this socket
 * cannot be spliced at all (the caller copies instead). */
#define SOCK_NO_SPLICE (-1)
long sock_splice_in(evutil_socket_t fd, struct sock_pipe *p, size_t len,
    int *error);
long sock_splice_out(struct sock_pipe *p, evutil_socket_t fd, size_t len,
    int *error);

int sock_last_error(void);
const char *sock_error_text(int error);
int sock_error_is_reset(int error);
/* A connect found nobody listening at the target. */
int sock_error_is_refusal(int error);
/* Retrying a connect cannot help: the platform lacks the address family,
 * or no transport reaches the address. */
int sock_error_is_permanent(int error);
/* Out of descriptors or buffers: accepting again at once would spin. */
int sock_error_is_exhaustion(int error);

uint64_t sock_monotonic_ms(void);

#endif
