#include "autoconfig.h"

#include "daemon.h"
#include "forward.h"
#include "log.h"
#include "relay.h"

static void
forward_accept(void *arg, evutil_socket_t fd, const struct sockaddr *peer,
    int peerlen)
{
	relay_accept(arg, fd, peer, peerlen);
}

int
forward_start(struct forward *fwd, struct daemon *daemon,
    const struct forward_conf *conf, char *err, size_t errlen)
{
	fwd->conf = conf;
	fwd->daemon = daemon;
	fwd->listener = listener_open(daemon->base, conf->name,
	    &conf->listen_addr, &conf->sock_opts, forward_accept, fwd, err,
	    errlen);
	if (fwd->listener == NULL) {
		return -1;
	}
	log_info("%s: listening on %s, forwarding to %s", conf->name,
	    conf->listen.text, conf->connect.text);
	if (conf->sock_opts.buffer_size != 0) {
		log_info("%s: buffer-size %u: the listening socket's buffer is %llu bytes",
		    conf->name, (unsigned)conf->sock_opts.buffer_size,
		    (unsigned long long)listener_buffer_size(fwd->listener));
	}
	return 0;
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
forward_conn_opened(struct forward *fwd)
{
	fwd->active++;
	fwd->stats.accepted++;
	if (fwd->conf->max_connections != 0 &&
	    fwd->active >= fwd->conf->max_connections) {
		log_debug("%s: %u connections, the forward's limit: pausing",
		    fwd->conf->name, fwd->active);
		forward_pause(fwd, PAUSE_FORWARD_LIMIT);
	}
	daemon_conn_opened(fwd->daemon);
}

void
forward_conn_closed(struct forward *fwd)
{
	fwd->active--;
	if (fwd->conf->max_connections == 0 ||
	    fwd->active < fwd->conf->max_connections) {
		forward_resume(fwd, PAUSE_FORWARD_LIMIT);
	}
	daemon_conn_closed(fwd->daemon);
}
