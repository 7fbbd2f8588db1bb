#ifndef HVRELAY_USAGE_H
#define HVRELAY_USAGE_H

/* Exit status of a command line hvrelay cannot make sense of. */
#define EXIT_USAGE 2

/* Prints "hvrelay: MSG" and where to find help on stderr; returns
 * EXIT_USAGE for the caller to exit with. */
int usage_error(const char *msg);

#endif
