/* One relayed connection: connect with retries, then copy both ways with
 * backpressure, half-close and reset passed through, and timeouts. */
#ifndef HVRELAY_RELAY_H
#define HVRELAY_RELAY_H

#include <stdint.h>

#include <event2/util.h>

struct conn;
struct forward;

/* Takes ownership of the accepted socket. */
void relay_accept(struct forward *fwd, evutil_socket_t fd,
    const struct sockaddr *peer, int peerlen);
/* Bytes relayed so far by the forward's open connections. */
void relay_live_bytes(const struct forward *fwd, uint64_t *up,
    uint64_t *down);
/* Ends a connection at once, for example when shutdown time is up. */
void relay_abort(struct conn *c, const char *reason);

#endif
