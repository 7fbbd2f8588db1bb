#include "autoconfig.h"

#include <stdio.h>
#include <string.h>

#include "daemon.h"
#include "log.h"
#include "relay.h"
#include "sock.h"
#include "stats.h"

/* A forward's counters with the bytes of its open connections added. */
struct forward_view {
	const struct forward *fwd;
	const char *state;
	uint64_t bytes_up;
	uint64_t bytes_down;
};

static struct forward_view
view_of(const struct forward *fwd)
{
	struct forward_view v;

	v.fwd = fwd;
	if (fwd->removed) {
		v.state = "draining";
	} else if (fwd->listener == NULL || listener_is_paused(fwd->listener)) {
		v.state = "paused";
	} else {
		v.state = "listening";
	}
	relay_live_bytes(fwd, &v.bytes_up, &v.bytes_down);
	v.bytes_up += fwd->stats.bytes_up;
	v.bytes_down += fwd->stats.bytes_down;
	return v;
}

/* Calls fn for the configured forwards, then the draining ones. */
static void
each_forward(const struct daemon *d,
    void (*fn)(const struct forward_view *, void *), void *arg)
{
	const struct forward *lists[2] = { d->forwards, d->draining };
	const struct forward *fwd = NULL;
	struct forward_view v;
	int i;

	for (i = 0; i < 2; i++) {
		for (fwd = lists[i]; fwd != NULL; fwd = fwd->next) {
			v = view_of(fwd);
			fn(&v, arg);
		}
	}
}

/* Every number shown for a forward: its key in JSON and the log, its
 * table column. */
#define COUNTER_COUNT 9

static const struct {
	const char *key;
	const char *header;
	int width;
} counters[COUNTER_COUNT] = {
	{ "active", "ACTIVE", 6 },
	{ "accepted", "TOTAL", 8 },
	{ "denied", "DENIED", 6 },
	{ "limit_pauses", "LIMIT", 6 },
	{ "connect_refused", "REFUSED", 7 },
	{ "connect_timeouts", "TIMEOUT", 7 },
	{ "connect_errors", "ERRORS", 6 },
	{ "bytes_up", "BYTES-UP", 14 },
	{ "bytes_down", "BYTES-DOWN", 14 },
};

static void
counter_values(const struct forward_view *v, uint64_t out[COUNTER_COUNT])
{
	const struct forward_stats *s = &v->fwd->stats;
	const uint64_t values[COUNTER_COUNT] = {
		v->fwd->active, s->accepted, s->denied, s->limit_pauses,
		s->connect_refused, s->connect_timeouts, s->connect_errors,
		v->bytes_up, v->bytes_down,
	};

	memcpy(out, values, sizeof(values));
}

static void
table_header(struct evbuffer *out)
{
	int i;

	evbuffer_add_printf(out, "%-20s %-9s", "FORWARD", "STATE");
	for (i = 0; i < COUNTER_COUNT; i++) {
		evbuffer_add_printf(out, " %*s", counters[i].width,
		    counters[i].header);
	}
	evbuffer_add_printf(out, "  ROUTE\n");
}

static void
table_row(const struct forward_view *v, void *arg)
{
	uint64_t values[COUNTER_COUNT];
	int i;

	counter_values(v, values);
	evbuffer_add_printf(arg, "%-20s %-9s", v->fwd->conf.name, v->state);
	for (i = 0; i < COUNTER_COUNT; i++) {
		evbuffer_add_printf(arg, " %*llu", counters[i].width,
		    (unsigned long long)values[i]);
	}
	evbuffer_add_printf(arg, "  %s -> %s\n", v->fwd->conf.listen.text,
	    v->fwd->conf.connect.text);
}

/* Endpoint texts may hold any byte a path can. */
static void
json_string(struct evbuffer *out, const char *s)
{
	evbuffer_add(out, "\"", 1);
	for (; *s != '\0'; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '"' || c == '\\') {
			evbuffer_add_printf(out, "\\%c", c);
		} else if (c < 0x20) {
			evbuffer_add_printf(out, "\\u%04x", c);
		} else {
			evbuffer_add(out, s, 1);
		}
	}
	evbuffer_add(out, "\"", 1);
}

struct json_state {
	struct evbuffer *out;
	int first;
};

static void
json_forward(const struct forward_view *v, void *arg)
{
	struct json_state *js = arg;
	uint64_t values[COUNTER_COUNT];
	int i;

	counter_values(v, values);
	evbuffer_add_printf(js->out, "%s{\"name\":", js->first ? "" : ",");
	js->first = 0;
	json_string(js->out, v->fwd->conf.name);
	evbuffer_add_printf(js->out, ",\"state\":\"%s\",\"listen\":", v->state);
	json_string(js->out, v->fwd->conf.listen.text);
	evbuffer_add_printf(js->out, ",\"connect\":");
	json_string(js->out, v->fwd->conf.connect.text);
	for (i = 0; i < COUNTER_COUNT; i++) {
		evbuffer_add_printf(js->out, ",\"%s\":%llu", counters[i].key,
		    (unsigned long long)values[i]);
	}
	evbuffer_add_printf(js->out, "}");
}

void
stats_write(const struct daemon *d, enum stats_format format,
    struct evbuffer *out)
{
	uint64_t uptime_ms = sock_monotonic_ms() - d->started_ms;
	struct json_state js = { out, 1 };

	if (format == STATS_JSON) {
		evbuffer_add_printf(out,
		    "{\"version\":\"%s\",\"uptime_ms\":%llu,\"active\":%u,"
		    "\"max_connections\":%u,\"reloads\":%llu,\"failed_reloads\":%llu,"
		    "\"forwards\":[",
		    PACKAGE_VERSION, (unsigned long long)uptime_ms, d->active,
		    d->cfg->max_connections, (unsigned long long)d->reloads,
		    (unsigned long long)d->failed_reloads);
		each_forward(d, json_forward, &js);
		evbuffer_add_printf(out, "]}\n");
		return;
	}
	evbuffer_add_printf(out,
	    "hvrelay %s, up %llus, %u of %u connections, %llu reload(s), %llu failed\n",
	    PACKAGE_VERSION, (unsigned long long)(uptime_ms / 1000), d->active,
	    d->cfg->max_connections, (unsigned long long)d->reloads,
	    (unsigned long long)d->failed_reloads);
	table_header(out);
	each_forward(d, table_row, out);
}

static void
log_forward(const struct forward_view *v, void *arg)
{
	uint64_t values[COUNTER_COUNT];
	char line[512];
	size_t len = 0;
	int i;

	(void)arg;
	counter_values(v, values);
	for (i = 0; i < COUNTER_COUNT && len < sizeof(line); i++) {
		len += (size_t)snprintf(line + len, sizeof(line) - len, " %s=%llu",
		    counters[i].key, (unsigned long long)values[i]);
	}
	log_info("stats forward=%s state=%s%s", v->fwd->conf.name, v->state,
	    line);
}

void
stats_log(const struct daemon *d)
{
	log_info("stats active=%u max_connections=%u reloads=%llu failed_reloads=%llu",
	    d->active, d->cfg->max_connections,
	    (unsigned long long)d->reloads,
	    (unsigned long long)d->failed_reloads);
	each_forward(d, log_forward, NULL);
}

void
stats_summary(const struct daemon *d, char *out, size_t outlen)
{
	const struct forward *fwd = NULL;
	unsigned n = 0;

	for (fwd = d->forwards; fwd != NULL; fwd = fwd->next) {
		n++;
	}
	snprintf(out, outlen, "%u active connection(s), %u forward(s)",
	    d->active, n);
}
