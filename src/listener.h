/* A listening socket that can be paused for several reasons at once. */
#ifndef HVRELAY_LISTENER_H
#define HVRELAY_LISTENER_H

#include <event2/event.h>

#include "sock.h"

enum listener_pause {
	PAUSE_FORWARD_LIMIT = 1 << 0,
	PAUSE_GLOBAL_LIMIT = 1 << 1,
	PAUSE_ACCEPT_ERROR = 1 << 2,
	PAUSE_NO_OWNER = 1 << 3,
};

typedef void (*listener_accept_fn)(void *arg, evutil_socket_t fd,
    const struct sockaddr *peer, int peerlen);

struct listener;

/* A new listening socket at addr. It accepts nothing until it has an
 * owner. */
struct listener *listener_open(struct event_base *base,
    const struct sock_addr *addr, const struct sock_options *opts,
    char *err, size_t errlen);
/* Wraps a socket that is already listening (socket activation). */
struct listener *listener_adopt(struct event_base *base, evutil_socket_t fd,
    char *err, size_t errlen);
/* Hands the listener to a forward: its name for messages, where
 * accepted sockets go. */
void listener_set_owner(struct listener *l, const char *name,
    listener_accept_fn accept_fn, void *arg);
/* Socket options for the connections accepted from now on. */
void listener_apply_options(struct listener *l,
    const struct sock_options *opts);
int listener_is_paused(const struct listener *l);
int listener_is_adopted(const struct listener *l);
int listener_has_address(const struct listener *l,
    const struct sock_addr *addr);
/* Accepting stops while any pause reason is set. */
void listener_pause(struct listener *l, unsigned reason);
void listener_resume(struct listener *l, unsigned reason);
void listener_close(struct listener *l);
uint64_t listener_buffer_size(const struct listener *l);

#endif
