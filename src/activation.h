/* Listening sockets passed by the service manager (systemd socket
 * activation: LISTEN_PID, LISTEN_FDS, LISTEN_FDNAMES), matched to forwards
 * by name. */
#ifndef HVRELAY_ACTIVATION_H
#define HVRELAY_ACTIVATION_H

#include <event2/event.h>

#include "listener.h"

struct activation;

/* NULL when nothing was passed (or on failure, which is logged). */
struct activation *activation_receive(struct event_base *base);
/* The passed socket named after a forward, still in the pool. */
struct listener *activation_find(struct activation *a, const char *name);
/* Removes it from the pool: the caller owns it now. */
struct listener *activation_take(struct activation *a, struct listener *l);
/* Warns about passed sockets that no forward took. */
void activation_report_unused(const struct activation *a);
void activation_free(struct activation *a);

#endif
