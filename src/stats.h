/* The daemon's counters, as a table, as JSON, or into the log. */
#ifndef HVRELAY_STATS_H
#define HVRELAY_STATS_H

#include <event2/buffer.h>

struct daemon;

enum stats_format {
	STATS_TABLE,
	STATS_JSON,
};

void stats_write(const struct daemon *d, enum stats_format format,
    struct evbuffer *out);
void stats_log(const struct daemon *d);
/* One line for the service manager: "2 connections, 3 forwards". */
void stats_summary(const struct daemon *d, char *out, size_t outlen);

#endif
