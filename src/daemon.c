#include "autoconfig.h"

#include <stdlib.h>
#include <string.h>

#include "activation.h"
#include "control.h"
#include "daemon.h"
#include "log.h"
#include "notify.h"
#include "platform.h"
#include "relay.h"
#include "reload.h"
#include "stats.h"

/* Descriptors kept free for listeners, logs and libevent itself. */
#define SPARE_DESCRIPTORS 32
#define STATUS_INTERVAL_S 5

static void
each_listening(struct daemon *d, void (*fn)(struct forward *, unsigned),
    unsigned reason)
{
	struct forward *fwd = NULL;

	for (fwd = d->forwards; fwd != NULL; fwd = fwd->next) {
		fn(fwd, reason);
	}
}

void
daemon_apply_limit(struct daemon *d)
{
	if (d->active >= d->cfg->max_connections) {
		each_listening(d, forward_pause, PAUSE_GLOBAL_LIMIT);
	} else {
		each_listening(d, forward_resume, PAUSE_GLOBAL_LIMIT);
	}
}

void
daemon_conn_opened(struct daemon *d)
{
	d->active++;
	if (d->active == d->cfg->max_connections) {
		log_debug("%u connections, the global limit: pausing every listener",
		    d->active);
	}
	daemon_apply_limit(d);
}

static void
unlink_draining(struct daemon *d, struct forward *fwd)
{
	struct forward **p = NULL;

	for (p = &d->draining; *p != NULL; p = &(*p)->next) {
		if (*p == fwd) {
			*p = fwd->next;
			return;
		}
	}
}

void
daemon_conn_closed(struct daemon *d, struct forward *fwd)
{
	d->active--;
	daemon_apply_limit(d);
	if (fwd->removed && fwd->active == 0) {
		log_info("%s: its last connection has finished", fwd->conf.name);
		unlink_draining(d, fwd);
		forward_free(fwd);
	}
	if (d->stopping && d->active == 0) {
		event_base_loopexit(d->base, NULL);
	}
}

static void
abort_all(struct forward *list, const char *reason)
{
	for (; list != NULL; list = list->next) {
		while (list->conns != NULL) {
			relay_abort(list->conns, reason);
		}
	}
}

static void
on_shutdown_timeout(evutil_socket_t fd, short what, void *arg)
{
	struct daemon *d = arg;

	(void)fd;
	(void)what;
	log_warn("shutdown-timeout reached: closing %u connection(s)",
	    d->active);
	abort_all(d->forwards, "shutdown timeout");
	abort_all(d->draining, "shutdown timeout");
	event_base_loopexit(d->base, NULL);
}

static void
stop_listening(struct daemon *d)
{
	struct forward *fwd = NULL;

	for (fwd = d->forwards; fwd != NULL; fwd = fwd->next) {
		forward_stop_listening(fwd);
	}
	control_close(d->control);
	d->control = NULL;
}

static void
stop(struct daemon *d, const char *why)
{
	struct timeval tv;

	if (d->stopping) {
		return;
	}
	d->stopping = 1;
	notify_stopping();
	stop_listening(d);
	if (d->active == 0) {
		log_info("%s: stopping", why);
		event_base_loopexit(d->base, NULL);
		return;
	}
	log_info("%s: stopping, waiting up to %llu ms for %u connection(s)",
	    why, (unsigned long long)d->cfg->shutdown_timeout_ms,
	    d->active);
	tv.tv_sec = (long)(d->cfg->shutdown_timeout_ms / 1000);
	tv.tv_usec = (long)(d->cfg->shutdown_timeout_ms % 1000) * 1000;
	evtimer_add(d->shutdown_timer, &tv);
}

static void
warn_descriptor_limit(const struct daemon *d)
{
	uint64_t limit = sock_descriptor_limit();
	uint64_t need = 2ULL * d->cfg->max_connections + d->cfg->nforwards +
	    SPARE_DESCRIPTORS;

	if (limit < need) {
		log_warn("max-connections = %u needs %llu descriptors but only %llu are allowed: raise LimitNOFILE (ulimit -n) or lower max-connections",
		    d->cfg->max_connections, (unsigned long long)need,
		    (unsigned long long)limit);
	}
}

static void
report_status(struct daemon *d, int ready)
{
	char status[128];

	stats_summary(d, status, sizeof(status));
	if (ready) {
		notify_ready(status);
	} else {
		notify_status(status);
	}
}

static void
open_control(struct daemon *d)
{
	char err[256];

	if (d->control != NULL || d->cfg->control_socket[0] == '\0') {
		return;
	}
	d->control = control_open(d, d->cfg->control_socket, err, sizeof(err));
	if (d->control == NULL) {
		log_warn("control socket %s: %s; 'hvrelay status' will not work (set control-socket to another path, or off)",
		    d->cfg->control_socket, err);
	}
}

/* Where the log goes, as cfg says. A log file that cannot be opened stops
 * the start; on a reload the file open before stays in use. */
static int
apply_log_settings(const struct config *cfg)
{
	char err[1024];

	log_set_target(cfg->log_target);
	if (log_reopen_file(cfg->log_file, err, sizeof(err)) != 0) {
		log_error("%s", err);
		return -1;
	}
	return 0;
}

int
daemon_reload(struct daemon *d, char *why, size_t len)
{
	struct config *cfg = NULL;
	char *errors = NULL;
	size_t n;

	if (d->stopping) {
		snprintf(why, len, "hvrelay is stopping");
		return -1;
	}
	notify_reloading();
	/* First, so that a log file moved away (rotated) is let go however
	 * the reload goes. */
	(void)apply_log_settings(d->cfg);
	log_info("reloading %s", d->config_path);
	cfg = config_load(d->config_path, &errors);
	if (cfg == NULL) {
		snprintf(why, len, "%s", errors != NULL ? errors : "out of memory");
		free(errors);
	} else if (reload_apply(d, cfg, why, len) != 0) {
		config_free(cfg);
		cfg = NULL;
	}
	if (cfg == NULL) {
		n = strlen(why);
		if (n > 0 && why[n - 1] == '\n') {
			why[n - 1] = '\0';
		}
		log_error("reload failed, keeping the running configuration:\n%s",
		    why);
		d->failed_reloads++;
	} else {
		d->reloads++;
		(void)apply_log_settings(d->cfg);
		open_control(d);
		warn_descriptor_limit(d);
		log_info("reloaded");
	}
	report_status(d, 1);
	return cfg == NULL ? -1 : 0;
}

static void
do_reload(evutil_socket_t fd, short what, void *arg)
{
	char why[RELOAD_ERRORS_MAX];

	(void)fd;
	(void)what;
	(void)daemon_reload(arg, why, sizeof(why));
}

/* Several reload requests in a row make one reload: a request only
 * schedules it. */
static void
on_request(void *arg, enum daemon_request request, const char *why)
{
	struct daemon *d = arg;

	switch (request) {
	case REQUEST_STOP:
		stop(d, why);
		break;
	case REQUEST_RELOAD:
		if (!d->stopping) {
			event_active(d->reload_ev, EV_TIMEOUT, 0);
		}
		break;
	case REQUEST_STATS:
		stats_log(d);
		break;
	}
}

static void
on_status_tick(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	report_status(arg, 0);
}

static int
watch_events(struct daemon *d)
{
	d->reload_ev = event_new(d->base, -1, 0, do_reload, d);
	d->shutdown_timer = evtimer_new(d->base, on_shutdown_timeout, d);
	d->status_tick = event_new(d->base, -1, EV_PERSIST, on_status_tick, d);
	if (d->reload_ev == NULL || d->shutdown_timer == NULL ||
	    d->status_tick == NULL) {
		return -1;
	}
	d->requests = platform_watch_requests(d->base, on_request, d);
	return d->requests != NULL ? 0 : -1;
}

static void
free_event(struct event *ev)
{
	if (ev != NULL) {
		event_free(ev);
	}
}

static void
free_forwards(struct forward *list)
{
	struct forward *next = NULL;

	for (; list != NULL; list = next) {
		next = list->next;
		forward_free(list);
	}
}

static void
daemon_free(struct daemon *d)
{
	stop_listening(d);
	free_forwards(d->forwards);
	free_forwards(d->draining);
	activation_free(d->activation);
	platform_unwatch_requests(d->requests);
	free_event(d->reload_ev);
	free_event(d->shutdown_timer);
	free_event(d->status_tick);
	if (d->base != NULL) {
		event_base_free(d->base);
	}
	config_free(d->cfg);
}

static int
start(struct daemon *d, struct config *cfg)
{
	struct timeval tick = { STATUS_INTERVAL_S, 0 };
	char err[512];

	d->activation = activation_receive(d->base);
	if (reload_apply(d, cfg, err, sizeof(err)) != 0) {
		log_error("%s", err);
		config_free(cfg);
		return -1;
	}
	activation_report_unused(d->activation);
	open_control(d);
	warn_descriptor_limit(d);
	event_add(d->status_tick, &tick);
	log_info("started: %zu forward(s), max-connections %u",
	    cfg->nforwards, cfg->max_connections);
	report_status(d, 1);
	return 0;
}

int
daemon_run(struct config *cfg, const char *config_path)
{
	struct daemon d = { 0 };
	int status = EXIT_FAILURE;

	d.config_path = config_path;
	d.started_ms = sock_monotonic_ms();
	if (apply_log_settings(cfg) != 0) {
		config_free(cfg);
		return EXIT_FAILURE;
	}
	d.base = event_base_new();
	if (d.base == NULL || watch_events(&d) != 0) {
		log_error("cannot set up the event loop");
		config_free(cfg);
		goto done;
	}
	if (start(&d, cfg) != 0) {
		goto done;
	}
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
