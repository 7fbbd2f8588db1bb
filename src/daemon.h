/* The daemon's lifecycle: one event loop for every forward, signals,
 * the process-wide connection limit and graceful shutdown. */
#ifndef HVRELAY_DAEMON_H
#define HVRELAY_DAEMON_H

#include <stddef.h>

#include <event2/event.h>

#include "config.h"
#include "forward.h"

struct daemon {
	struct event_base *base;
	struct config *cfg;
	struct forward *forwards;
	size_t nforwards;
	unsigned active;
	int stopping;
	struct event *on_term;
	struct event *on_int;
	struct event *shutdown_timer;
};

/* Runs until stopped; returns the process exit status. */
int daemon_run(struct config *cfg);
void daemon_conn_opened(struct daemon *d);
void daemon_conn_closed(struct daemon *d);

#endif
