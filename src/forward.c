#include "autoconfig.h"

#include <stdlib.h>

#include "daemon.h"
#include "forward.h"
#include "log.h"
#include "relay.h"

/* Admission: the 'allow' list decides before any target is contacted. */
static void
forward_accept(void *arg, evutil_socket_t fd, const struct sockaddr *peer,
    int peerlen)
{
	struct forward *fwd = arg;
	struct peer_id id;
	char text[96];

	sock_peer_identity(peer, &id);
	if (!acl_allows(&fwd->conf.allow, &id)) {
		fwd->stats.denied++;
		sock_format_addr(peer, (ev_socklen_t)peerlen, text, sizeof(text));
		log_info("forward=%s peer=%s denied: not in 'allow'",
		    fwd->conf.name, text);
		evutil_closesocket(fd);
		return;
	}
	relay_accept(fwd, fd, peer, peerlen);
}

struct forward *
forward_new(struct daemon *daemon, const struct forward_conf *conf)
{
	struct forward *fwd = calloc(1, sizeof(*fwd));

	if (fwd == NULL) {
		return NULL;
	}
	fwd->conf = *conf;
	fwd->daemon = daemon;
	return fwd;
}

void
forward_free(struct forward *fwd)
{
	if (fwd == NULL) {
		return;
	}
	forward_stop_listening(fwd);
	free(fwd);
}

struct listener *
forward_detach_listener(struct forward *fwd)
{
	struct listener *l = fwd->listener;

	fwd->listener = NULL;
	return l;
}

void
forward_listen(struct forward *fwd, struct listener *l)
{
	const struct forward_conf *conf = &fwd->conf;

	fwd->listener = l;
	listener_set_owner(l, conf->name, forward_accept, fwd);
	listener_apply_options(l, &conf->sock_opts);
	forward_apply_limit(fwd);
	log_info("%s: listening on %s, forwarding to %s", conf->name,
	    listener_is_adopted(l) ? "a socket passed by the service manager" :
	    conf->listen.text, conf->connect.text);
	if (conf->sock_opts.buffer_size != 0) {
		log_info("%s: buffer-size %u: the listening socket's buffer is %llu bytes",
		    conf->name, (unsigned)conf->sock_opts.buffer_size,
		    (unsigned long long)listener_buffer_size(l));
	}
}

void
forward_stop_listening(struct forward *fwd)
{
	listener_close(fwd->listener);
	fwd->listener = NULL;
}

void
forward_pause(struct forward *fwd, unsigned reason)
{
	if (fwd->listener != NULL) {
		listener_pause(fwd->listener, reason);
	}
}

void
forward_resume(struct forward *fwd, unsigned reason)
{
	if (fwd->listener != NULL) {
		listener_resume(fwd->listener, reason);
	}
}

void
forward_apply_limit(struct forward *fwd)
{
	unsigned max = fwd->conf.max_connections;

	if (max != 0 && fwd->active >= max) {
		forward_pause(fwd, PAUSE_FORWARD_LIMIT);
	} else {
		forward_resume(fwd, PAUSE_FORWARD_LIMIT);
	}
}

void
forward_conn_opened(struct forward *fwd)
{
	fwd->active++;
	fwd->stats.accepted++;
	if (fwd->conf.max_connections != 0 &&
	    fwd->active == fwd->conf.max_connections) {
		log_debug("%s: %u connections, the forward's limit: pausing",
		    fwd->conf.name, fwd->active);
		fwd->stats.limit_pauses++;
	}
	forward_apply_limit(fwd);
	daemon_conn_opened(fwd->daemon);
}

void
forward_conn_closed(struct forward *fwd)
{
	fwd->active--;
	forward_apply_limit(fwd);
	daemon_conn_closed(fwd->daemon, fwd);
}
