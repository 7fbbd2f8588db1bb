/*
 * The control socket: a Unix socket, private to the daemon's user, that
 * answers one command per connection ("status", "status json" or
 * "reload"). `hvrelay status` and `hvrelay reload` are its clients.
 */
#ifndef HVRELAY_CONTROL_H
#define HVRELAY_CONTROL_H

#include <stddef.h>
#include <stdio.h>

struct control;
struct daemon;

struct control *control_open(struct daemon *d, const char *path, char *err,
    size_t errlen);
void control_close(struct control *c);

/* Sends command to the daemon listening at path and copies the answer to
 * out. Returns 0, or -1 after saying why on stderr (where an "error:"
 * answer goes too). */
int control_query(const char *path, const char *command, FILE *out);

#endif
