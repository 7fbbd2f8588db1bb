#include "autoconfig.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>

#include "daemon.h"
#include "forward.h"
#include "log.h"
#include "relay.h"
#include "sock.h"

/* Stop reading a side once this much waits to be written to the other:
 * memory per connection stays bounded whatever the peers do. */
#define HIGH_WATER (256 * 1024)
#define MAX_SINGLE_READ (128 * 1024)
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
	struct bufferevent *bev[2];
	evutil_socket_t connecting_fd;
	struct event *connect_ev;
	struct event *timer;
	int relaying;
	unsigned attempts;
	uint64_t started_ms;
	uint64_t last_active_ms;
	int eof[2];    /* read EOF from this side */
	int shut[2];   /* passed that EOF on: shut this side for writing */
	int paused[2]; /* stopped reading this side: the other is full */
	int first_eof;
	uint64_t bytes[2]; /* read from this side */
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
	    (unsigned long long)c->bytes[CLIENT],
	    (unsigned long long)c->bytes[TARGET], reason);
}

/* The one way a connection ends: logs why, counts, frees. With abortive
 * set, both sockets are reset rather than closed in order. */
static void
close_conn(struct conn *c, const char *reason, int abortive)
{
	int i;

	log_end(c, reason);
	c->fwd->stats.bytes_up += c->bytes[CLIENT];
	c->fwd->stats.bytes_down += c->bytes[TARGET];
	for (i = 0; i < 2; i++) {
		if (c->bev[i] == NULL) {
			continue;
		}
		if (abortive) {
			sock_set_abortive(bufferevent_getfd(c->bev[i]));
		}
		bufferevent_free(c->bev[i]);
	}
	if (c->connect_ev != NULL) {
		event_free(c->connect_ev);
	}
	if (c->connecting_fd >= 0) {
		evutil_closesocket(c->connecting_fd);
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
		*up += c->bytes[CLIENT];
		*down += c->bytes[TARGET];
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
	if ((c->eof[CLIENT] || c->eof[TARGET]) &&
	    conf->half_close_timeout_ms != 0 &&
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

static int
side_of(const struct conn *c, const struct bufferevent *bev)
{
	return bev == c->bev[CLIENT] ? CLIENT : TARGET;
}

static void
check_done(struct conn *c)
{
	char reason[REASON_MAX];

	if (c->shut[CLIENT] && c->shut[TARGET]) {
		snprintf(reason, sizeof(reason), "%s EOF",
		    side_names[c->first_eof]);
		close_conn(c, reason, 0);
	}
}

/* Passes the other side's EOF on to side s, its output being empty. */
static void
shut_side(struct conn *c, int s)
{
	c->shut[s] = 1;
	(void)sock_shutdown_write(bufferevent_getfd(c->bev[s]));
	check_done(c);
}

static void
on_read(struct bufferevent *bev, void *arg)
{
	struct conn *c = arg;
	int s = side_of(c, bev);
	struct evbuffer *in = bufferevent_get_input(bev);
	struct bufferevent *out = c->bev[!s];

	c->bytes[s] += evbuffer_get_length(in);
	c->last_active_ms = sock_monotonic_ms();
	bufferevent_write_buffer(out, in);
	if (evbuffer_get_length(bufferevent_get_output(out)) >= HIGH_WATER) {
		bufferevent_disable(bev, EV_READ);
		c->paused[s] = 1;
	}
}

/* Side s's output has been written out completely. */
static void
on_drained(struct bufferevent *bev, void *arg)
{
	struct conn *c = arg;
	int s = side_of(c, bev);

	c->last_active_ms = sock_monotonic_ms();
	if (c->paused[!s]) {
		c->paused[!s] = 0;
		bufferevent_enable(c->bev[!s], EV_READ);
	}
	if (c->eof[!s] && !c->shut[s]) {
		shut_side(c, s);
	}
}

static void
on_eof(struct conn *c, int s)
{
	struct bufferevent *other = c->bev[!s];

	c->eof[s] = 1;
	if (c->first_eof < 0) {
		c->first_eof = s;
	}
	update_inactivity_timer(c);
	if (evbuffer_get_length(bufferevent_get_output(other)) == 0) {
		shut_side(c, !s);
	}
}

static void
on_event(struct bufferevent *bev, short what, void *arg)
{
	struct conn *c = arg;
	int s = side_of(c, bev);
	char reason[REASON_MAX];
	int error;

	if (what & BEV_EVENT_EOF) {
		on_eof(c, s);
		return;
	}
	if (what & BEV_EVENT_ERROR) {
		error = sock_last_error();
		if (sock_error_is_reset(error)) {
			snprintf(reason, sizeof(reason), "%s reset",
			    side_names[s]);
		} else {
			snprintf(reason, sizeof(reason), "%s error: %s",
			    side_names[s], sock_error_text(error));
		}
		close_conn(c, reason, 1);
	}
}

static struct bufferevent *
new_side(struct conn *c, evutil_socket_t fd)
{
	struct bufferevent *bev = bufferevent_socket_new(
	    c->fwd->daemon->base, fd, BEV_OPT_CLOSE_ON_FREE);

	if (bev == NULL) {
		return NULL;
	}
	sock_tune_stream(fd);
	bufferevent_set_max_single_read(bev, MAX_SINGLE_READ);
	bufferevent_setcb(bev, on_read, on_drained, on_event, c);
	return bev;
}

static void
start_relaying(struct conn *c)
{
	evutil_socket_t fd = c->connecting_fd;

	c->connecting_fd = -1;
	if (c->connect_ev != NULL) {
		event_free(c->connect_ev);
		c->connect_ev = NULL;
	}
	c->bev[TARGET] = new_side(c, fd);
	if (c->bev[TARGET] == NULL) {
		evutil_closesocket(fd);
		close_conn(c, "out of memory", 1);
		return;
	}
	c->relaying = 1;
	c->last_active_ms = sock_monotonic_ms();
	log_debug("%s: %s connected to %s after %u attempt(s), buffers: client %llu, target %llu bytes",
	    c->fwd->conf.name, c->peer, c->fwd->conf.connect.text,
	    c->attempts,
	    (unsigned long long)sock_buffer_size(bufferevent_getfd(c->bev[CLIENT])),
	    (unsigned long long)sock_buffer_size(fd));
	bufferevent_enable(c->bev[CLIENT], EV_READ | EV_WRITE);
	bufferevent_enable(c->bev[TARGET], EV_READ | EV_WRITE);
	update_inactivity_timer(c);
}

/* Schedules the next attempt within the connect-timeout budget, or gives
 * up when neither retries nor time remain. */
static void
attempt_failed(struct conn *c, int error)
{
	const struct forward_conf *conf = &c->fwd->conf;
	uint64_t deadline = c->started_ms + conf->connect_timeout_ms;
	uint64_t backoff = RETRY_FIRST_MS << (c->attempts < 5 ? c->attempts - 1 : 4);
	uint64_t retry_at;
	char reason[REASON_MAX];

	if (backoff > RETRY_MAX_MS) {
		backoff = RETRY_MAX_MS;
	}
	retry_at = sock_monotonic_ms() + backoff;
	log_debug("%s: %s: attempt %u to %s failed: %s", conf->name, c->peer,
	    c->attempts, conf->connect.text, sock_error_text(error));
	if (c->attempts > conf->connect_retries || retry_at >= deadline) {
		snprintf(reason, sizeof(reason),
		    "target unreachable: %s (%u attempts)",
		    sock_error_text(error), c->attempts);
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
	evutil_closesocket(c->connecting_fd);
	c->connecting_fd = -1;
	attempt_failed(c, error);
}

static void
start_attempt(struct conn *c)
{
	const struct forward_conf *conf = &c->fwd->conf;
	int pending = 0, error = 0;

	c->attempts++;
	c->connecting_fd = sock_connect(&conf->connect_addr, &conf->sock_opts,
	    &pending, &error);
	if (c->connecting_fd < 0) {
		attempt_failed(c, error);
		return;
	}
	if (!pending) {
		start_relaying(c);
		return;
	}
	c->connect_ev = event_new(c->fwd->daemon->base, c->connecting_fd,
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

	if (c == NULL) {
		log_warn("%s: out of memory: dropping a connection",
		    fwd->conf.name);
		evutil_closesocket(fd);
		return;
	}
	c->fwd = fwd;
	c->connecting_fd = -1;
	c->first_eof = -1;
	c->started_ms = sock_monotonic_ms();
	sock_format_addr(peer, (ev_socklen_t)peerlen, c->peer, sizeof(c->peer));
	c->timer = evtimer_new(fwd->daemon->base, on_timer, c);
	c->bev[CLIENT] = new_side(c, fd);
	if (c->timer == NULL || c->bev[CLIENT] == NULL) {
		log_warn("%s: out of memory: dropping a connection",
		    fwd->conf.name);
		if (c->timer != NULL) {
			event_free(c->timer);
		}
		if (c->bev[CLIENT] != NULL) {
			bufferevent_free(c->bev[CLIENT]);
		} else {
			evutil_closesocket(fd);
		}
		free(c);
		return;
	}
	link_conn(c);
	forward_conn_opened(fwd);
	start_attempt(c);
}
