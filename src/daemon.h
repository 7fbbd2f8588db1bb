/* The daemon's lifecycle: one event loop for every forward, signals,
 * reloads, the process-wide connection limit and graceful shutdown. */
#ifndef HVRELAY_DAEMON_H
#define HVRELAY_DAEMON_H

#include <stddef.h>
#include <stdint.h>

#include <event2/event.h>

#include "config.h"
#include "forward.h"

struct control;
struct requests;
struct activation;

struct daemon {
	struct event_base *base;
	struct config *cfg;
	const char *config_path;
	struct forward *forwards; /* as configured, in file order */
	struct forward *draining; /* removed by a reload, still connected */
	unsigned active;
	uint64_t started_ms;
	uint64_t reloads;
	uint64_t failed_reloads;
	int stopping;
	struct requests *requests;
	struct event *reload_ev;
	struct event *shutdown_timer;
	struct event *status_tick;
	struct control *control;
	struct activation *activation;
};

/* Runs until stopped; returns the process exit status. */
int daemon_run(struct config *cfg, const char *config_path);
void daemon_conn_opened(struct daemon *d);
void daemon_conn_closed(struct daemon *d, struct forward *fwd);
/* Pauses or resumes every listener to match the global limit. */
void daemon_apply_limit(struct daemon *d);
/* Reads the configuration file again and switches to it. On failure the
 * running configuration stays, and why says what was wrong (the file's
 * errors, FILE:LINE: ..., or the socket that could not be opened). */
#define RELOAD_ERRORS_MAX 4096
int daemon_reload(struct daemon *d, char *why, size_t len);

#endif
