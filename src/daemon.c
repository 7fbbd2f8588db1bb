#include "autoconfig.h"

#include <signal.h>
#include <stdlib.h>

#include "daemon.h"
#include "log.h"
#include "relay.h"

/* Descriptors kept free for listeners, logs and libevent itself. */
#define SPARE_DESCRIPTORS 32

static void
pause_all(struct daemon *d, unsigned reason)
{
	size_t i;

	for (i = 0; i < d->nforwards; i++) {
		forward_pause(&d->forwards[i], reason);
	}
}

static void
resume_all(struct daemon *d, unsigned reason)
{
	size_t i;

	for (i = 0; i < d->nforwards; i++) {
		forward_resume(&d->forwards[i], reason);
	}
}

void
daemon_conn_opened(struct daemon *d)
{
	d->active++;
	if (d->active >= d->cfg->max_connections) {
		log_debug("%u connections, the global limit: pausing every listener",
		    d->active);
		pause_all(d, PAUSE_GLOBAL_LIMIT);
	}
}

void
daemon_conn_closed(struct daemon *d)
{
	d->active--;
	if (d->active < d->cfg->max_connections) {
		resume_all(d, PAUSE_GLOBAL_LIMIT);
	}
	if (d->stopping && d->active == 0) {
		event_base_loopexit(d->base, NULL);
	}
}

static void
on_shutdown_timeout(evutil_socket_t fd, short what, void *arg)
{
	struct daemon *d = arg;
	size_t i;

	(void)fd;
	(void)what;
	log_warn("shutdown-timeout reached: closing %u connection(s)",
	    d->active);
	for (i = 0; i < d->nforwards; i++) {
		while (d->forwards[i].conns != NULL) {
			relay_abort(d->forwards[i].conns, "shutdown timeout");
		}
	}
	event_base_loopexit(d->base, NULL);
}

static void
stop_listening(struct daemon *d)
{
	size_t i;

	for (i = 0; i < d->nforwards; i++) {
		forward_stop_listening(&d->forwards[i]);
	}
}

static void
on_stop_signal(evutil_socket_t sig, short what, void *arg)
{
	struct daemon *d = arg;
	struct timeval tv;

	(void)what;
	if (d->stopping) {
		return;
	}
	d->stopping = 1;
	stop_listening(d);
	if (d->active == 0) {
		log_info("signal %d: stopping", (int)sig);
		event_base_loopexit(d->base, NULL);
		return;
	}
	log_info("signal %d: stopping, waiting up to %llu ms for %u connection(s)",
	    (int)sig, (unsigned long long)d->cfg->shutdown_timeout_ms,
	    d->active);
	tv.tv_sec = (long)(d->cfg->shutdown_timeout_ms / 1000);
	tv.tv_usec = (long)(d->cfg->shutdown_timeout_ms % 1000) * 1000;
	evtimer_add(d->shutdown_timer, &tv);
}

static void
warn_descriptor_limit(const struct daemon *d)
{
	uint64_t limit = sock_descriptor_limit();
	uint64_t need = 2ULL * d->cfg->max_connections + d->nforwards +
	    SPARE_DESCRIPTORS;

	if (limit < need) {
		log_warn("max-connections = %u needs %llu descriptors but only %llu are allowed: raise LimitNOFILE (ulimit -n) or lower max-connections",
		    d->cfg->max_connections, (unsigned long long)need,
		    (unsigned long long)limit);
	}
}

static int
start_forwards(struct daemon *d)
{
	char err[256];
	size_t i;

	d->forwards = calloc(d->cfg->nforwards, sizeof(*d->forwards));
	if (d->forwards == NULL) {
		log_error("out of memory");
		return -1;
	}
	for (i = 0; i < d->cfg->nforwards; i++) {
		const struct forward_conf *conf = &d->cfg->forwards[i];

		if (forward_start(&d->forwards[i], d, conf, err,
		    sizeof(err)) != 0) {
			log_error("%s: cannot listen on %s: %s", conf->name,
			    conf->listen.text, err);
			return -1;
		}
		d->nforwards++;
	}
	return 0;
}

static int
watch_signals(struct daemon *d)
{
	d->on_term = evsignal_new(d->base, SIGTERM, on_stop_signal, d);
	d->on_int = evsignal_new(d->base, SIGINT, on_stop_signal, d);
	d->shutdown_timer = evtimer_new(d->base, on_shutdown_timeout, d);
	if (d->on_term == NULL || d->on_int == NULL ||
	    d->shutdown_timer == NULL) {
		return -1;
	}
	if (evsignal_add(d->on_term, NULL) != 0 ||
	    evsignal_add(d->on_int, NULL) != 0) {
		return -1;
	}
	return 0;
}

static void
free_event(struct event *ev)
{
	if (ev != NULL) {
		event_free(ev);
	}
}

static void
daemon_free(struct daemon *d)
{
	stop_listening(d);
	free(d->forwards);
	free_event(d->on_term);
	free_event(d->on_int);
	free_event(d->shutdown_timer);
	if (d->base != NULL) {
		event_base_free(d->base);
	}
}

int
daemon_run(struct config *cfg)
{
	struct daemon d = { 0 };
	int status = EXIT_FAILURE;

	d.cfg = cfg;
	d.base = event_base_new();
	if (d.base == NULL) {
		log_error("cannot create the event loop");
		return EXIT_FAILURE;
	}
	if (watch_signals(&d) != 0) {
		log_error("cannot watch signals");
		goto done;
	}
	if (start_forwards(&d) != 0) {
		goto done;
	}
	warn_descriptor_limit(&d);
	log_info("started: %zu forward(s), max-connections %u", d.nforwards,
	    cfg->max_connections);
	if (event_base_dispatch(d.base) != 0) {
		log_error("the event loop failed");
		goto done;
	}
	log_info("stopped");
	status = EXIT_SUCCESS;
done:
	daemon_free(&d);
	return status;
}
