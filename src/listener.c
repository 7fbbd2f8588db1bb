#include "autoconfig.h"

#include <stdlib.h>
#include <string.h>

#include <event2/listener.h>

#include "listener.h"
#include "log.h"

/* After a failed accept (out of descriptors, say) wait this long: the
 * pending connection stays queued and retrying at once would spin. */
#define ACCEPT_RETRY_MS 250

struct listener {
	char name[64];
	struct evconnlistener *lev;
	struct event *retry;
	struct sock_addr addr;
	unsigned paused;
	int adopted; /* passed by the service manager, which owns its file */
	listener_accept_fn accept_fn;
	void *arg;
};

static void
listener_accepted(struct evconnlistener *lev, evutil_socket_t fd,
    struct sockaddr *peer, int peerlen, void *arg)
{
	struct listener *l = arg;

	(void)lev;
	l->accept_fn(l->arg, fd, peer, peerlen);
}

static void
listener_retry(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	listener_resume(arg, PAUSE_ACCEPT_ERROR);
}

static void
listener_error(struct evconnlistener *lev, void *arg)
{
	struct listener *l = arg;
	struct timeval tv = { 0, ACCEPT_RETRY_MS * 1000 };
	int error = sock_last_error();

	(void)lev;
	log_warn("%s: accept: %s%s; pausing for %d ms", l->name,
	    sock_error_text(error),
	    sock_error_is_exhaustion(error) ?
	    " (raise LimitNOFILE/ulimit -n or lower max-connections)" : "",
	    ACCEPT_RETRY_MS);
	listener_pause(l, PAUSE_ACCEPT_ERROR);
	evtimer_add(l->retry, &tv);
}

/* Wraps a listening socket; with addr set, closing also removes its
 * socket file. */
static struct listener *
listener_wrap(struct event_base *base, evutil_socket_t fd,
    const struct sock_addr *addr, char *err, size_t errlen)
{
	struct listener *l = calloc(1, sizeof(*l));

	if (l == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	if (addr != NULL) {
		l->addr = *addr;
	}
	l->lev = evconnlistener_new(base, listener_accepted, l,
	    LEV_OPT_CLOSE_ON_EXEC | LEV_OPT_DISABLED, 0, fd);
	l->retry = evtimer_new(base, listener_retry, l);
	if (l->lev == NULL || l->retry == NULL) {
		snprintf(err, errlen, "cannot watch the listening socket");
		if (l->lev != NULL) {
			evconnlistener_free(l->lev);
		}
		if (l->retry != NULL) {
			event_free(l->retry);
		}
		free(l);
		return NULL;
	}
	evconnlistener_set_error_cb(l->lev, listener_error);
	l->paused = PAUSE_NO_OWNER;
	return l;
}

struct listener *
listener_open(struct event_base *base, const struct sock_addr *addr,
    const struct sock_options *opts, char *err, size_t errlen)
{
	struct listener *l = NULL;
	evutil_socket_t fd;

	/* Created by hand: libevent's own bind sets TCP keepalive options
	 * that AF_VSOCK rejects. */
	fd = sock_listen(addr, opts, err, errlen);
	if (fd < 0) {
		return NULL;
	}
	l = listener_wrap(base, fd, addr, err, errlen);
	if (l == NULL) {
		sock_close_listener(fd, addr);
	}
	return l;
}

struct listener *
listener_adopt(struct event_base *base, evutil_socket_t fd, char *err,
    size_t errlen)
{
	struct listener *l = NULL;

	if (evutil_make_socket_nonblocking(fd) != 0) {
		snprintf(err, errlen, "cannot make the socket non-blocking");
		return NULL;
	}
	l = listener_wrap(base, fd, NULL, err, errlen);
	if (l != NULL) {
		l->adopted = 1;
	}
	return l;
}

int
listener_is_paused(const struct listener *l)
{
	return l->paused != 0;
}

int
listener_is_adopted(const struct listener *l)
{
	return l->adopted;
}

void
listener_set_owner(struct listener *l, const char *name,
    listener_accept_fn accept_fn, void *arg)
{
	snprintf(l->name, sizeof(l->name), "%s", name);
	l->accept_fn = accept_fn;
	l->arg = arg;
	listener_resume(l, PAUSE_NO_OWNER);
}

void
listener_apply_options(struct listener *l, const struct sock_options *opts)
{
	sock_apply_options(evconnlistener_get_fd(l->lev), opts);
}

int
listener_has_address(const struct listener *l, const struct sock_addr *addr)
{
	return l->addr.len != 0 && l->addr.len == addr->len &&
	    memcmp(&l->addr.ss, &addr->ss, addr->len) == 0;
}

void
listener_pause(struct listener *l, unsigned reason)
{
	if (l->paused == 0) {
		evconnlistener_disable(l->lev);
	}
	l->paused |= reason;
}

void
listener_resume(struct listener *l, unsigned reason)
{
	if (l->paused == 0) {
		return;
	}
	l->paused &= ~reason;
	if (l->paused == 0) {
		evconnlistener_enable(l->lev);
	}
}

uint64_t
listener_buffer_size(const struct listener *l)
{
	return sock_buffer_size(evconnlistener_get_fd(l->lev));
}

void
listener_close(struct listener *l)
{
	evutil_socket_t fd;

	if (l == NULL) {
		return;
	}
	fd = evconnlistener_get_fd(l->lev);
	evconnlistener_free(l->lev);
	event_free(l->retry);
	if (l->adopted) {
		evutil_closesocket(fd);
	} else {
		sock_close_listener(fd, &l->addr);
	}
	free(l);
}
