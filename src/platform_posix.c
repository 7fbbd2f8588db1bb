#include "autoconfig.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "platform.h"

#ifndef SYSCONFDIR
#define SYSCONFDIR "/etc"
#endif

static const struct {
	int sig;
	enum daemon_request request;
	const char *name;
} signal_requests[] = {
	{ SIGTERM, REQUEST_STOP, "SIGTERM" },
	{ SIGINT, REQUEST_STOP, "SIGINT" },
	{ SIGHUP, REQUEST_RELOAD, "SIGHUP" },
	{ SIGUSR1, REQUEST_STATS, "SIGUSR1" },
};

#define SIGNAL_COUNT (sizeof(signal_requests) / sizeof(signal_requests[0]))

struct requests {
	struct event *events[SIGNAL_COUNT];
	request_fn fn;
	void *arg;
};

static void
on_signal(evutil_socket_t sig, short what, void *arg)
{
	struct requests *r = arg;
	size_t i;

	(void)what;
	for (i = 0; i < SIGNAL_COUNT; i++) {
		if (signal_requests[i].sig == (int)sig) {
			r->fn(r->arg, signal_requests[i].request,
			    signal_requests[i].name);
		}
	}
}

struct requests *
platform_watch_requests(struct event_base *base, request_fn fn, void *arg)
{
	struct requests *r = calloc(1, sizeof(*r));
	size_t i;

	if (r == NULL) {
		return NULL;
	}
	r->fn = fn;
	r->arg = arg;
	for (i = 0; i < SIGNAL_COUNT; i++) {
		r->events[i] = evsignal_new(base, signal_requests[i].sig,
		    on_signal, r);
		if (r->events[i] == NULL || evsignal_add(r->events[i], NULL) != 0) {
			platform_unwatch_requests(r);
			return NULL;
		}
	}
	return r;
}

void
platform_unwatch_requests(struct requests *r)
{
	size_t i;

	if (r == NULL) {
		return;
	}
	for (i = 0; i < SIGNAL_COUNT; i++) {
		if (r->events[i] != NULL) {
			event_free(r->events[i]);
		}
	}
	free(r);
}

int
platform_command(int argc, char **argv)
{
	(void)argc;
	if (strcmp(argv[0], "service") == 0 || strcmp(argv[0], "register") == 0) {
		fprintf(stderr,
		    "hvrelay: '%s' is for Windows hosts; on Linux use systemd (see hvrelay(8))\n",
		    argv[0]);
		return 2;
	}
	return -1;
}

const char *
platform_usage(void)
{
	return "";
}

const char *
platform_default_config(void)
{
	return SYSCONFDIR "/hvrelay/hvrelay.conf";
}

int
platform_path_is_absolute(const char *path)
{
	return path[0] == '/';
}

const char *
platform_path_basename(const char *path)
{
	const char *slash = strrchr(path, '/');

	return slash != NULL ? slash + 1 : path;
}
