/* Applying a configuration to the running daemon. */
#ifndef HVRELAY_RELOAD_H
#define HVRELAY_RELOAD_H

#include "config.h"

struct daemon;

/* Takes cfg and makes it current, or leaves everything as it was and
 * returns -1 (a socket could not be opened; the error is logged). */
int reload_apply(struct daemon *d, struct config *cfg);

#endif
