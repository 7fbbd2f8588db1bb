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
	uint64_t bytes_up;   /* client to target */
	uint64_t bytes_down; /* target to client */
	uint64_t connect_failures;
};

struct forward {
	const struct forward_conf *conf;
	struct daemon *daemon;
	struct listener *listener;
	struct conn *conns;
	unsigned active;
	struct forward_stats stats;
};

int forward_start(struct forward *fwd, struct daemon *daemon,
    const struct forward_conf *conf, char *err, size_t errlen);
void forward_stop_listening(struct forward *fwd);
void forward_pause(struct forward *fwd, unsigned reason);
void forward_resume(struct forward *fwd, unsigned reason);
/* Called by the relay as connections come and go. */
void forward_conn_opened(struct forward *fwd);
void forward_conn_closed(struct forward *fwd);

#endif
