/*
 * One direction of a relayed connection: bytes from a source socket to a
 * sink socket, spliced through a kernel pipe where the platform and both
 * sockets allow it, copied otherwise. While the sink cannot take more, the
 * source is not read (backpressure); an idle pump holds no buffer.
 */
#ifndef HVRELAY_PUMP_H
#define HVRELAY_PUMP_H

#include <stddef.h>
#include <stdint.h>

#include <event2/event.h>

struct sock_pipe;

enum pump_event {
	PUMP_PROGRESS, /* bytes moved */
	PUMP_EOF,      /* the source has finished sending */
	PUMP_FINISHED, /* ... and the sink was shut for writing after them */
	PUMP_SOURCE_ERROR,
	PUMP_SINK_ERROR,
};

struct pump;
typedef void (*pump_notify_fn)(void *owner, struct pump *p,
    enum pump_event what, int error);

struct pump {
	evutil_socket_t from;
	evutil_socket_t to;
	struct event *readable;
	struct event *writable;
	int use_splice;
	/* Bytes read but not yet written: a pipe, or a copy of them. */
	struct sock_pipe *pipe;
	size_t in_pipe;
	char *held;
	size_t held_off;
	size_t held_len;
	int eof;
	int finished;
	uint64_t bytes;
	pump_notify_fn notify;
	void *owner;
};

int pump_init(struct pump *p, struct event_base *base, evutil_socket_t from,
    evutil_socket_t to, int use_splice, pump_notify_fn notify, void *owner);
/* Starts reading the source. */
void pump_start(struct pump *p);
/* Stops everything and releases what the pump holds (not the sockets). */
void pump_release(struct pump *p);

#endif
