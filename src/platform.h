/* What the daemon needs from the operating system besides sockets: how
 * it is asked to stop, reload or report, and where its files live. */
#ifndef HVRELAY_PLATFORM_H
#define HVRELAY_PLATFORM_H

#include <event2/event.h>

enum daemon_request {
	REQUEST_STOP,
	REQUEST_RELOAD,
	REQUEST_STATS,
};

typedef void (*request_fn)(void *arg, enum daemon_request request,
    const char *why);

struct requests;

/* Delivers requests to fn inside the event loop: on POSIX from SIGTERM
 * and SIGINT (stop), SIGHUP (reload) and SIGUSR1 (stats). */
struct requests *platform_watch_requests(struct event_base *base,
    request_fn fn, void *arg);
void platform_unwatch_requests(struct requests *r);

/* The configuration file used without -c. */
const char *platform_default_config(void);

/* Subcommands only some platforms have ("service" and "register" on
 * Windows): the exit status, or -1 when argv[0] is none of them; and
 * their lines for the usage text, "" where there are none. */
int platform_command(int argc, char **argv);
const char *platform_usage(void);

/* Paths as this system writes them: whether one is absolute ("/..." on
 * POSIX; "C:\...", "C:/..." or from the root of the current drive on
 * Windows), and its last component. */
int platform_path_is_absolute(const char *path);
const char *platform_path_basename(const char *path);

#endif
