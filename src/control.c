#include "autoconfig.h"

#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>

#include "control.h"
#include "daemon.h"
#include "endpoint.h"
#include "listener.h"
#include "log.h"
#include "sock.h"
#include "stats.h"

#define REQUEST_MAX 256
#define CONTROL_TIMEOUT_S 5

struct control {
	struct daemon *daemon;
	struct listener *listener;
};

static int
unix_address(const char *path, struct sock_addr *addr, char *err,
    size_t errlen)
{
	struct endpoint ep;
	char text[ENDPOINT_TEXT_MAX];

	snprintf(text, sizeof(text), "unix:%s", path);
	if (endpoint_parse(text, &ep, err, errlen) != 0) {
		return -1;
	}
	return sock_resolve(&ep, SOCK_ROLE_CONNECT, addr, err, errlen);
}

/* An answer that starts with "error:" is a failure; the client tells its
 * caller so. */
static void
answer(struct control *ctl, const char *request, struct evbuffer *out)
{
	char why[RELOAD_ERRORS_MAX];

	if (strcmp(request, "status") == 0) {
		stats_write(ctl->daemon, STATS_TABLE, out);
	} else if (strcmp(request, "status json") == 0) {
		stats_write(ctl->daemon, STATS_JSON, out);
	} else if (strcmp(request, "reload") == 0) {
		if (daemon_reload(ctl->daemon, why, sizeof(why)) == 0) {
			evbuffer_add_printf(out, "reloaded %s\n",
			    ctl->daemon->config_path);
		} else {
			evbuffer_add_printf(out,
			    "error: reload failed, the running configuration is kept:\n%s\n",
			    why);
		}
	} else {
		evbuffer_add_printf(out,
		    "error: unknown command; expected 'status', 'status json' or 'reload'\n");
	}
}

static void
client_done(struct bufferevent *bev, void *arg)
{
	(void)arg;
	bufferevent_free(bev);
}

static void
client_event(struct bufferevent *bev, short what, void *arg)
{
	(void)what;
	(void)arg;
	bufferevent_free(bev);
}

static void
client_read(struct bufferevent *bev, void *arg)
{
	struct evbuffer *in = bufferevent_get_input(bev);
	char *line = evbuffer_readln(in, NULL, EVBUFFER_EOL_ANY);

	if (line == NULL) {
		if (evbuffer_get_length(in) > REQUEST_MAX) {
			bufferevent_free(bev);
		}
		return;
	}
	bufferevent_disable(bev, EV_READ);
	answer(arg, line, bufferevent_get_output(bev));
	free(line);
	/* Closed once the answer is out: the write callback fires then. */
	bufferevent_setcb(bev, NULL, client_done, client_event, arg);
}

static void
control_accept(void *arg, evutil_socket_t fd, const struct sockaddr *peer,
    int peerlen)
{
	struct control *ctl = arg;
	struct timeval tv = { CONTROL_TIMEOUT_S, 0 };
	struct bufferevent *bev = bufferevent_socket_new(ctl->daemon->base,
	    fd, BEV_OPT_CLOSE_ON_FREE);

	(void)peer;
	(void)peerlen;
	if (bev == NULL) {
		evutil_closesocket(fd);
		return;
	}
	bufferevent_setcb(bev, client_read, NULL, client_event, ctl);
	bufferevent_set_timeouts(bev, &tv, &tv);
	bufferevent_enable(bev, EV_READ | EV_WRITE);
}

struct control *
control_open(struct daemon *d, const char *path, char *err, size_t errlen)
{
	struct sock_options opts = { 0, 1, 0 };
	struct control *ctl = NULL;
	struct sock_addr addr;

	if (unix_address(path, &addr, err, errlen) != 0) {
		return NULL;
	}
	ctl = calloc(1, sizeof(*ctl));
	if (ctl == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	ctl->daemon = d;
	ctl->listener = listener_open(d->base, &addr, &opts, err, errlen);
	if (ctl->listener == NULL) {
		free(ctl);
		return NULL;
	}
	listener_set_owner(ctl->listener, "control", control_accept, ctl);
	return ctl;
}

void
control_close(struct control *ctl)
{
	if (ctl == NULL) {
		return;
	}
	listener_close(ctl->listener);
	free(ctl);
}

struct query {
	FILE *out;
	int error;
	int done;
	int refused; /* the daemon answered "error: ..." */
};

/* The whole answer is read before any of it is shown: its first word
 * decides where it goes. */
static void
query_event(struct bufferevent *bev, short what, void *arg)
{
	static const char refusal[] = "error: ";
	struct query *q = arg;
	struct evbuffer *in = bufferevent_get_input(bev);
	size_t n = sizeof(refusal) - 1;
	unsigned char *head = evbuffer_pullup(in, (ev_ssize_t)n);
	char buf[4096];
	int got;

	q->refused = head != NULL && memcmp(head, refusal, n) == 0;
	if (q->refused) {
		evbuffer_drain(in, n);
		fputs("hvrelay: ", stderr);
	}
	while ((got = evbuffer_remove(in, buf, sizeof(buf))) > 0) {
		fwrite(buf, 1, (size_t)got, q->refused ? stderr : q->out);
	}
	if (what & (BEV_EVENT_ERROR | BEV_EVENT_TIMEOUT)) {
		q->error = what & BEV_EVENT_TIMEOUT ? -1 : sock_last_error();
	}
	q->done = 1;
	event_base_loopexit(bufferevent_get_base(bev), NULL);
}

static int
run_query(struct event_base *base, evutil_socket_t fd, const char *command,
    struct query *q)
{
	struct timeval tv = { CONTROL_TIMEOUT_S, 0 };
	struct bufferevent *bev = bufferevent_socket_new(base, fd,
	    BEV_OPT_CLOSE_ON_FREE);

	if (bev == NULL) {
		evutil_closesocket(fd);
		return -1;
	}
	bufferevent_setcb(bev, NULL, NULL, query_event, q);
	bufferevent_set_timeouts(bev, &tv, &tv);
	bufferevent_enable(bev, EV_READ | EV_WRITE);
	bufferevent_write(bev, command, strlen(command));
	bufferevent_write(bev, "\n", 1);
	event_base_dispatch(base);
	bufferevent_free(bev);
	return q->done && q->error == 0 && !q->refused ? 0 : -1;
}

int
control_query(const char *path, const char *command, FILE *out)
{
	struct query q = { out, 0, 0, 0 };
	struct event_base *base = NULL;
	struct sock_options opts = { 0, 0, 0 };
	struct sock_addr addr;
	char err[256];
	int pending = 0, error = 0, rc = -1;
	evutil_socket_t fd;

	if (unix_address(path, &addr, err, sizeof(err)) != 0) {
		fprintf(stderr, "hvrelay: control socket %s: %s\n", path, err);
		return -1;
	}
	fd = sock_connect(&addr, &opts, &pending, &error);
	if (fd < 0) {
		fprintf(stderr, "hvrelay: cannot reach the daemon at %s: %s%s\n",
		    path, sock_error_text(error),
		    sock_error_is_permanent(error) ? "" :
		    " (is it running with this configuration?)");
		return -1;
	}
	base = event_base_new();
	if (base != NULL) {
		rc = run_query(base, fd, command, &q);
		event_base_free(base);
	} else {
		evutil_closesocket(fd);
	}
	if (rc != 0 && !q.refused) {
		fprintf(stderr, "hvrelay: no answer from the daemon at %s\n",
		    path);
	}
	return rc;
}
