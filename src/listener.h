/* A listening socket that can be paused for several reasons at once. */
#ifndef HVRELAY_LISTENER_H
#define HVRELAY_LISTENER_H

#include <event2/event.h>

#include "sock.h"

enum listener_pause {
	PAUSE_FORWARD_LIMIT = 1 << 0,
	PAUSE_GLOBAL_LIMIT = 1 << 1,
	PAUSE_ACCEPT_ERROR = 1 << 2,
};

typedef void (*listener_accept_fn)(void *arg, evutil_socket_t fd,
    const struct sockaddr *peer, int peerlen);

struct listener;

struct listener *listener_open(struct event_base *base, const char *name,
    const struct sock_addr *addr, const struct sock_options *opts,
    listener_accept_fn accept_fn, void *arg, char *err, size_t errlen);
/* Accepting stops while any pause reason is set. */
void listener_pause(struct listener *l, unsigned reason);
void listener_resume(struct listener *l, unsigned reason);
void listener_close(struct listener *l);
uint64_t listener_buffer_size(const struct listener *l);

#endif
