#include "autoconfig.h"

#include <stdlib.h>
#include <string.h>

#include "pump.h"
#include "sock.h"

/* One read moves at most this much; it is also the most a pump holds in
 * memory while its sink is slow. The buffer is shared: the loop is single.
 * A splice may move more, the pipe's size: those bytes stay in the kernel. */
#define CHUNK (256 * 1024)
#define SPLICE_CHUNK (1024 * 1024)
/* A read this large suggests the source has more already. */
#define BIG_CHUNK (64 * 1024)

static char scratch[CHUNK];

static void
release_pipe_if_empty(struct pump *p)
{
	if (p->pipe != NULL && p->in_pipe == 0) {
		sock_pipe_put(p->pipe);
		p->pipe = NULL;
	}
}

/* Writes what is pending; returns 0 when all of it went out, 1 when some
 * must wait for the sink, -1 on error (with *error set). */
static int
flush(struct pump *p, int *error)
{
	long n;

	while (p->in_pipe > 0) {
		n = sock_splice_out(p->pipe, p->to, p->in_pipe, error);
		if (n < 0) {
			return *error == 0 ? 1 : -1;
		}
		p->in_pipe -= (size_t)n;
	}
	release_pipe_if_empty(p);
	while (p->held_len > 0) {
		n = sock_send(p->to, p->held + p->held_off, p->held_len, error);
		if (n < 0) {
			return *error == 0 ? 1 : -1;
		}
		p->held_off += (size_t)n;
		p->held_len -= (size_t)n;
	}
	free(p->held);
	p->held = NULL;
	p->held_off = 0;
	return 0;
}

/* Sends a freshly read chunk; what the sink does not take is kept. */
static int
send_chunk(struct pump *p, size_t len, int *error)
{
	long n = sock_send(p->to, scratch, len, error);

	if (n < 0 && *error != 0) {
		return -1;
	}
	if (n < 0) {
		n = 0;
	}
	if ((size_t)n == len) {
		return 0;
	}
	p->held = malloc(len - (size_t)n);
	if (p->held == NULL) {
		*error = ENOMEM;
		return -1;
	}
	memcpy(p->held, scratch + n, len - (size_t)n);
	p->held_len = len - (size_t)n;
	return 1;
}

/* Reads one chunk into a pipe. Returns like sock_recv; a socket that
 * cannot be spliced turns splicing off for this pump. */
static long
splice_chunk(struct pump *p, int *error)
{
	long n;

	if (p->pipe == NULL) {
		p->pipe = sock_pipe_get();
		if (p->pipe == NULL) {
			p->use_splice = 0;
			return sock_recv(p->from, scratch, CHUNK, error);
		}
	}
	n = sock_splice_in(p->from, p->pipe, SPLICE_CHUNK, error);
	if (n < 0 && *error == SOCK_NO_SPLICE) {
		p->use_splice = 0;
		release_pipe_if_empty(p);
		return sock_recv(p->from, scratch, CHUNK, error);
	}
	if (n > 0) {
		p->in_pipe = (size_t)n;
	}
	return n;
}

static void
shut_sink(struct pump *p)
{
	p->finished = 1;
	(void)sock_shutdown_write(p->to);
	p->notify(p->owner, p, PUMP_FINISHED, 0);
}

/* Waits for the sink instead of reading more, or the other way round. */
static void
wait_for_sink(struct pump *p, int waiting)
{
	if (waiting) {
		event_del(p->readable);
		event_add(p->writable, NULL);
	} else {
		event_del(p->writable);
		if (!p->eof) {
			event_add(p->readable, NULL);
		}
	}
}

/* Moves one chunk: 1 when another may follow at once (this one was big,
 * so more is likely waiting), 0 when the source is drained or the sink
 * full, -1 when the pump is done with (EOF passed
 * on, or an error reported: the owner may have freed the pump). */
static int
move_chunk(struct pump *p)
{
	int error = 0, rc;
	long n;

	n = p->use_splice ? splice_chunk(p, &error) :
	    sock_recv(p->from, scratch, CHUNK, &error);
	if (n <= 0) {
		release_pipe_if_empty(p);
	}
	if (n < 0) {
		if (error != 0) {
			p->notify(p->owner, p, PUMP_SOURCE_ERROR, error);
			return -1;
		}
		return 0;
	}
	if (n == 0) {
		p->eof = 1;
		event_del(p->readable);
		p->notify(p->owner, p, PUMP_EOF, 0);
		shut_sink(p);
		return -1;
	}
	p->bytes += (uint64_t)n;
	rc = p->in_pipe > 0 ? flush(p, &error) :
	    send_chunk(p, (size_t)n, &error);
	if (rc < 0) {
		p->notify(p->owner, p, PUMP_SINK_ERROR, error);
		return -1;
	}
	if (rc > 0) {
		wait_for_sink(p, 1);
		return 0;
	}
	return n >= BIG_CHUNK;
}

/* A busy source is read a few times per wakeup: fewer trips through the
 * event loop for bulk transfers, and still fair to other connections. */
#define CHUNKS_PER_WAKEUP 4

static void
on_readable(evutil_socket_t fd, short what, void *arg)
{
	struct pump *p = arg;
	int i, rc = 1;

	(void)fd;
	(void)what;
	for (i = 0; i < CHUNKS_PER_WAKEUP && rc > 0; i++) {
		rc = move_chunk(p);
	}
	if (rc >= 0) {
		p->notify(p->owner, p, PUMP_PROGRESS, 0);
	}
}

static void
on_writable(evutil_socket_t fd, short what, void *arg)
{
	struct pump *p = arg;
	int error = 0, rc;

	(void)fd;
	(void)what;
	rc = flush(p, &error);
	if (rc < 0) {
		p->notify(p->owner, p, PUMP_SINK_ERROR, error);
		return;
	}
	if (rc > 0) {
		return;
	}
	wait_for_sink(p, 0);
	p->notify(p->owner, p, PUMP_PROGRESS, 0);
}

int
pump_init(struct pump *p, struct event_base *base, evutil_socket_t from,
    evutil_socket_t to, int use_splice, pump_notify_fn notify, void *owner)
{
	memset(p, 0, sizeof(*p));
	p->from = from;
	p->to = to;
	p->use_splice = use_splice;
	p->notify = notify;
	p->owner = owner;
	p->readable = event_new(base, from, EV_READ | EV_PERSIST, on_readable,
	    p);
	p->writable = event_new(base, to, EV_WRITE | EV_PERSIST, on_writable,
	    p);
	if (p->readable == NULL || p->writable == NULL) {
		pump_release(p);
		return -1;
	}
	return 0;
}

void
pump_start(struct pump *p)
{
	event_add(p->readable, NULL);
}

void
pump_release(struct pump *p)
{
	if (p->readable != NULL) {
		event_free(p->readable);
		p->readable = NULL;
	}
	if (p->writable != NULL) {
		event_free(p->writable);
		p->writable = NULL;
	}
	if (p->in_pipe > 0) {
		sock_pipe_discard(p->pipe);
	} else if (p->pipe != NULL) {
		sock_pipe_put(p->pipe);
	}
	p->pipe = NULL;
	p->in_pipe = 0;
	free(p->held);
	p->held = NULL;
	p->held_len = 0;
}
