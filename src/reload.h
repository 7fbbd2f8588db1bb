/* Applying a configuration to the running daemon. */
#ifndef HVRELAY_RELOAD_H
#define HVRELAY_RELOAD_H

#include "config.h"

struct daemon;

#include <stddef.h>

/* Takes cfg and makes it current, or leaves everything as it was and
 * returns -1 with why in err (a socket could not be opened). */
int reload_apply(struct daemon *d, struct config *cfg, char *err,
    size_t errlen);

#endif
