/* A running forward: its listener, its connections and its counters. */
#ifndef HVRELAY_FORWARD_H
#define HVRELAY_FORWARD_H

#include <stdint.h>

#include "config.h"
#include "listener.h"

struct conn;
struct daemon;

struct forward_stats {
	uint64_t accepted;
	uint64_t denied;        /* refused by 'allow' */
	uint64_t limit_pauses;  /* times the listener paused at max-connections */
	uint64_t bytes_up;      /* client to target, finished connections */
	uint64_t bytes_down;    /* target to client, finished connections */
	uint64_t connect_refused;
	uint64_t connect_timeouts;
	uint64_t connect_errors;
};

struct forward {
	/* A copy: a reload may free the config this came from. */
	struct forward_conf conf;
	struct daemon *daemon;
	struct forward *next;
	struct listener *listener;
	struct conn *conns;
	unsigned active;
	int removed; /* gone from the configuration: its connections drain */
	struct forward_stats stats;
};

struct forward *forward_new(struct daemon *daemon,
    const struct forward_conf *conf);
void forward_free(struct forward *fwd);
/* Starts accepting on the given listener, which the forward now owns. */
void forward_listen(struct forward *fwd, struct listener *l);
struct listener *forward_detach_listener(struct forward *fwd);
void forward_stop_listening(struct forward *fwd);
void forward_pause(struct forward *fwd, unsigned reason);
void forward_resume(struct forward *fwd, unsigned reason);
/* Pauses or resumes the listener to match the forward's limit. */
void forward_apply_limit(struct forward *fwd);
/* Called by the relay as connections come and go. */
void forward_conn_opened(struct forward *fwd);
void forward_conn_closed(struct forward *fwd);

#endif
