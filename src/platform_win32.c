/* Windows: requests come from the console (Ctrl-C, closing the window)
 * and from the Service Control Manager, both on threads of their own; a
 * loopback socket pair carries them into the event loop. */
#include "autoconfig.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <winsock2.h>
#include <windows.h>

#include "platform.h"
#include "service_win32.h"

struct requests {
	evutil_socket_t pair[2];
	struct event *readable;
	request_fn fn;
	void *arg;
};

/* The socket requests are posted to, or -1. The lock keeps a handler
 * thread from sending on it while the loop closes it: a closed socket's
 * handle can be reused at once by another socket. */
static evutil_socket_t post_socket = -1;
static SRWLOCK post_lock = SRWLOCK_INIT;

static const char *const request_names[] = {
	[REQUEST_STOP] = "stop request",
	[REQUEST_RELOAD] = "reload request",
	[REQUEST_STATS] = "stats request",
};

void
platform_post_request(enum daemon_request request)
{
	char byte = (char)request;

	AcquireSRWLockShared(&post_lock);
	if (post_socket >= 0) {
		(void)send(post_socket, &byte, 1, 0);
	}
	ReleaseSRWLockShared(&post_lock);
}

static BOOL WINAPI
on_console_event(DWORD type)
{
	(void)type;
	platform_post_request(REQUEST_STOP);
	return TRUE;
}

static void
on_posted(evutil_socket_t fd, short what, void *arg)
{
	struct requests *r = arg;
	char bytes[16];
	int n, i;

	(void)what;
	n = recv(fd, bytes, sizeof(bytes), 0);
	for (i = 0; i < n; i++) {
		if ((unsigned char)bytes[i] <= REQUEST_STATS) {
			r->fn(r->arg, (enum daemon_request)bytes[i],
			    request_names[(unsigned char)bytes[i]]);
		}
	}
}

struct requests *
platform_watch_requests(struct event_base *base, request_fn fn, void *arg)
{
	struct requests *r = calloc(1, sizeof(*r));

	if (r == NULL) {
		return NULL;
	}
	r->fn = fn;
	r->arg = arg;
	if (evutil_socketpair(AF_INET, SOCK_STREAM, 0, r->pair) != 0) {
		free(r);
		return NULL;
	}
	evutil_make_socket_nonblocking(r->pair[0]);
	/* A handler never waits on a full pair: the loop is draining it, or
	 * enough requests are queued already. */
	evutil_make_socket_nonblocking(r->pair[1]);
	r->readable = event_new(base, r->pair[0], EV_READ | EV_PERSIST,
	    on_posted, r);
	if (r->readable == NULL || event_add(r->readable, NULL) != 0) {
		platform_unwatch_requests(r);
		return NULL;
	}
	AcquireSRWLockExclusive(&post_lock);
	post_socket = r->pair[1];
	ReleaseSRWLockExclusive(&post_lock);
	SetConsoleCtrlHandler(on_console_event, TRUE);
	return r;
}

void
platform_unwatch_requests(struct requests *r)
{
	if (r == NULL) {
		return;
	}
	SetConsoleCtrlHandler(on_console_event, FALSE);
	AcquireSRWLockExclusive(&post_lock);
	post_socket = -1;
	ReleaseSRWLockExclusive(&post_lock);
	if (r->readable != NULL) {
		event_free(r->readable);
	}
	evutil_closesocket(r->pair[0]);
	evutil_closesocket(r->pair[1]);
	free(r);
}

const char *
platform_default_config(void)
{
	static char path[MAX_PATH];
	const char *base = getenv("ProgramData");

	snprintf(path, sizeof(path), "%s\\hvrelay\\hvrelay.conf",
	    base != NULL ? base : "C:\\ProgramData");
	return path;
}

int
platform_command(int argc, char **argv)
{
	if (strcmp(argv[0], "service") == 0) {
		return service_command(argc, argv);
	}
	if (strcmp(argv[0], "register") == 0) {
		return register_command(argc, argv);
	}
	return -1;
}

const char *
platform_usage(void)
{
	return "       hvrelay service install [-c FILE] | uninstall | start | stop | reload\n"
	    "                                   the Windows service (service --help)\n"
	    "       hvrelay register PORT|GUID [NAME] | -c FILE | --list | --remove PORT|GUID\n"
	    "                                   Hyper-V socket services (register --help)\n";
}

static int
is_separator(char c)
{
	return c == '\\' || c == '/';
}

/* "C:\x" and "C:/x"; "\x" and "/x" are on the current drive, the system
 * drive for a service, and "\\server\share\x" is a network path. Only
 * "C:x" and "x" depend on a current directory. */
int
platform_path_is_absolute(const char *path)
{
	if (is_separator(path[0])) {
		return 1;
	}
	return isalpha((unsigned char)path[0]) && path[1] == ':' &&
	    is_separator(path[2]);
}

const char *
platform_path_basename(const char *path)
{
	const char *base = path, *p = NULL;

	for (p = path; *p != '\0'; p++) {
		if (is_separator(*p) || *p == ':') {
			base = p + 1;
		}
	}
	return base;
}
