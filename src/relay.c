#include "autoconfig.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "daemon.h"
#include "forward.h"
#include "log.h"
#include "pump.h"
#include "relay.h"
#include "sock.h"

#define RETRY_FIRST_MS 100
#define RETRY_MAX_MS 1000
#define PEER_TEXT_MAX 96
#define REASON_MAX 160

enum side {
	CLIENT = 0,
	TARGET = 1,
};

static const char *const side_names[] = { "client", "target" };

struct conn {
	struct forward *fwd;
	struct conn *prev;
	struct conn *next;
	evutil_socket_t fd[2];
	/* pump[s] carries what side s sends to the other side. */
	struct pump pump[2];
	struct event *connect_ev;
	struct event *timer;
	int relaying;
	unsigned attempts;
	uint64_t started_ms;
	uint64_t last_active_ms;
	int first_eof;
	char peer[PEER_TEXT_MAX];
};

static void start_attempt(struct conn *c);

static void
link_conn(struct conn *c)
{
	struct forward *fwd = c->fwd;

	c->next = fwd->conns;
	if (fwd->conns != NULL) {
		fwd->conns->prev = c;
	}
	fwd->conns = c;
}

static void
unlink_conn(struct conn *c)
{
	if (c->prev != NULL) {
		c->prev->next = c->next;
	} else {
		c->fwd->conns = c->next;
	}
	if (c->next != NULL) {
		c->next->prev = c->prev;
	}
}

static void
log_end(const struct conn *c, const char *reason)
{
	uint64_t ms = sock_monotonic_ms() - c->started_ms;

	log_info("forward=%s peer=%s target=%s duration=%llu.%03llus up=%llu down=%llu end=\"%s\"",
	    c->fwd->conf.name, c->peer, c->fwd->conf.connect.text,
	    (unsigned long long)(ms / 1000), (unsigned long long)(ms % 1000),
	    (unsigned long long)c->pump[CLIENT].bytes,
	    (unsigned long long)c->pump[TARGET].bytes, reason);
}

/* The one way a connection ends: logs why, counts, frees. With abortive
 * set, both sockets are reset rather than closed in order. */
static void
close_conn(struct conn *c, const char *reason, int abortive)
{
	int i;

	log_end(c, reason);
	c->fwd->stats.bytes_up += c->pump[CLIENT].bytes;
	c->fwd->stats.bytes_down += c->pump[TARGET].bytes;
	for (i = 0; i < 2; i++) {
		pump_release(&c->pump[i]);
	}
	for (i = 0; i < 2; i++) {
		if (c->fd[i] < 0) {
			continue;
		}
		if (abortive) {
			sock_set_abortive(c->fd[i]);
		}
		evutil_closesocket(c->fd[i]);
	}
	if (c->connect_ev != NULL) {
		event_free(c->connect_ev);
	}
	event_free(c->timer);
	unlink_conn(c);
	forward_conn_closed(c->fwd);
	free(c);
}

void
relay_live_bytes(const struct forward *fwd, uint64_t *up, uint64_t *down)
{
	const struct conn *c = NULL;

	*up = 0;
	*down = 0;
	for (c = fwd->conns; c != NULL; c = c->next) {
		*up += c->pump[CLIENT].bytes;
		*down += c->pump[TARGET].bytes;
	}
}

void
relay_abort(struct conn *c, const char *reason)
{
	close_conn(c, reason, 1);
}

static void
arm_timer_at(struct conn *c, uint64_t at_ms)
{
	uint64_t now = sock_monotonic_ms();
	uint64_t delay = at_ms > now ? at_ms - now : 0;
	struct timeval tv;

	tv.tv_sec = (long)(delay / 1000);
	tv.tv_usec = (long)(delay % 1000) * 1000;
	evtimer_add(c->timer, &tv);
}

/* The inactivity limit in force: idle-timeout, or the shorter
 * half-close-timeout once one direction has finished. */
static uint64_t
inactivity_limit(const struct conn *c, const char **reason)
{
	const struct forward_conf *conf = &c->fwd->conf;
	uint64_t limit = conf->idle_timeout_ms;

	*reason = "idle timeout";
	if (c->first_eof >= 0 && conf->half_close_timeout_ms != 0 &&
	    (limit == 0 || conf->half_close_timeout_ms < limit)) {
		limit = conf->half_close_timeout_ms;
		*reason = "half-close timeout";
	}
	return limit;
}

static void
update_inactivity_timer(struct conn *c)
{
	const char *reason = NULL;
	uint64_t limit = inactivity_limit(c, &reason);

	if (limit == 0) {
		evtimer_del(c->timer);
		return;
	}
	arm_timer_at(c, c->last_active_ms + limit);
}

static void
on_timer(evutil_socket_t fd, short what, void *arg)
{
	struct conn *c = arg;
	const char *reason = NULL;
	uint64_t now = sock_monotonic_ms();
	uint64_t limit;

	(void)fd;
	(void)what;
	if (!c->relaying) {
		if (now >= c->started_ms + c->fwd->conf.connect_timeout_ms) {
			c->fwd->stats.connect_timeouts++;
			close_conn(c, "connect timeout", 0);
		} else {
			start_attempt(c);
		}
		return;
	}
	limit = inactivity_limit(c, &reason);
	if (limit != 0 && now - c->last_active_ms >= limit) {
		close_conn(c, reason, 1);
		return;
	}
	update_inactivity_timer(c);
}

/* A socket failed: reset for a reset, an error message otherwise; either
 * way the other side is reset too. */
static void
side_failed(struct conn *c, int s, int error)
{
	char reason[REASON_MAX];

	if (sock_error_is_reset(error)) {
		snprintf(reason, sizeof(reason), "%s reset", side_names[s]);
	} else {
		snprintf(reason, sizeof(reason), "%s error: %s", side_names[s],
		    sock_error_text(error));
	}
	close_conn(c, reason, 1);
}

static void
on_pump(void *owner, struct pump *p, enum pump_event what, int error)
{
	struct conn *c = owner;
	int s = p == &c->pump[CLIENT] ? CLIENT : TARGET;
	char reason[REASON_MAX];

	switch (what) {
	case PUMP_PROGRESS:
		c->last_active_ms = sock_monotonic_ms();
		break;
	case PUMP_EOF:
		if (c->first_eof < 0) {
			c->first_eof = s;
			update_inactivity_timer(c);
		}
		break;
	case PUMP_FINISHED:
		if (c->pump[CLIENT].finished && c->pump[TARGET].finished) {
			snprintf(reason, sizeof(reason), "%s EOF",
			    side_names[c->first_eof]);
			close_conn(c, reason, 0);
		}
		break;
	case PUMP_SOURCE_ERROR:
		side_failed(c, s, error);
		break;
	case PUMP_SINK_ERROR:
		side_failed(c, !s, error);
		break;
	}
}

static void
start_relaying(struct conn *c)
{
	struct event_base *base = c->fwd->daemon->base;
	int splice_on = c->fwd->conf.splice;

	if (c->connect_ev != NULL) {
		event_free(c->connect_ev);
		c->connect_ev = NULL;
	}
	if (pump_init(&c->pump[CLIENT], base, c->fd[CLIENT], c->fd[TARGET],
	    splice_on, on_pump, c) != 0 ||
	    pump_init(&c->pump[TARGET], base, c->fd[TARGET], c->fd[CLIENT],
	    splice_on, on_pump, c) != 0) {
		close_conn(c, "out of memory", 1);
		return;
	}
	c->relaying = 1;
	c->last_active_ms = sock_monotonic_ms();
	log_debug("%s: %s connected to %s after %u attempt(s), buffers: client %llu, target %llu bytes",
	    c->fwd->conf.name, c->peer, c->fwd->conf.connect.text,
	    c->attempts,
	    (unsigned long long)sock_buffer_size(c->fd[CLIENT]),
	    (unsigned long long)sock_buffer_size(c->fd[TARGET]));
	pump_start(&c->pump[CLIENT]);
	pump_start(&c->pump[TARGET]);
	update_inactivity_timer(c);
}

/* Schedules the next attempt within the connect-timeout budget, or gives
 * up when neither retries nor time remain. A backoff step that would pass
 * the deadline is cut short: the last attempt comes just before it, so a
 * target that starts late in the budget is still reached. */
static void
attempt_failed(struct conn *c, int error)
{
	const struct forward_conf *conf = &c->fwd->conf;
	uint64_t now = sock_monotonic_ms();
	uint64_t last_at = c->started_ms + conf->connect_timeout_ms - RETRY_FIRST_MS;
	uint64_t backoff = RETRY_FIRST_MS << (c->attempts < 5 ? c->attempts - 1 : 4);
	uint64_t retry_at;
	char reason[REASON_MAX];

	if (backoff > RETRY_MAX_MS) {
		backoff = RETRY_MAX_MS;
	}
	retry_at = now + backoff < last_at ? now + backoff : last_at;
	log_debug("%s: %s: attempt %u to %s failed: %s", conf->name, c->peer,
	    c->attempts, conf->connect.text, sock_error_text(error));
	if (c->attempts > conf->connect_retries || retry_at <= now ||
	    sock_error_is_permanent(error)) {
		snprintf(reason, sizeof(reason),
		    "target unreachable: %s (%u attempt%s)",
		    sock_error_text(error), c->attempts,
		    c->attempts == 1 ? "" : "s");
		if (sock_error_is_refusal(error)) {
			c->fwd->stats.connect_refused++;
		} else {
			c->fwd->stats.connect_errors++;
		}
		close_conn(c, reason, 0);
		return;
	}
	arm_timer_at(c, retry_at);
}

static void
on_connect_ready(evutil_socket_t fd, short what, void *arg)
{
	struct conn *c = arg;
	int error = sock_connect_result(fd);

	(void)what;
	if (error == 0) {
		start_relaying(c);
		return;
	}
	event_free(c->connect_ev);
	c->connect_ev = NULL;
	evutil_closesocket(c->fd[TARGET]);
	c->fd[TARGET] = -1;
	attempt_failed(c, error);
}

static void
start_attempt(struct conn *c)
{
	const struct forward_conf *conf = &c->fwd->conf;
	int pending = 0, error = 0;

	c->attempts++;
	c->fd[TARGET] = sock_connect(&conf->connect_addr, &conf->sock_opts,
	    &pending, &error);
	if (c->fd[TARGET] < 0) {
		attempt_failed(c, error);
		return;
	}
	if (!pending) {
		start_relaying(c);
		return;
	}
	c->connect_ev = event_new(c->fwd->daemon->base, c->fd[TARGET],
	    EV_WRITE, on_connect_ready, c);
	if (c->connect_ev == NULL) {
		close_conn(c, "out of memory", 1);
		return;
	}
	event_add(c->connect_ev, NULL);
	arm_timer_at(c, c->started_ms + conf->connect_timeout_ms);
}

void
relay_accept(struct forward *fwd, evutil_socket_t fd,
    const struct sockaddr *peer, int peerlen)
{
	struct conn *c = calloc(1, sizeof(*c));

	if (c != NULL) {
		c->timer = evtimer_new(fwd->daemon->base, on_timer, c);
	}
	if (c == NULL || c->timer == NULL) {
		log_warn("%s: out of memory: dropping a connection",
		    fwd->conf.name);
		free(c);
		evutil_closesocket(fd);
		return;
	}
	c->fwd = fwd;
	c->fd[CLIENT] = fd;
	c->fd[TARGET] = -1;
	c->first_eof = -1;
	c->started_ms = sock_monotonic_ms();
	sock_format_addr(peer, (ev_socklen_t)peerlen, c->peer, sizeof(c->peer));
	link_conn(c);
	forward_conn_opened(fwd);
	start_attempt(c);
}
