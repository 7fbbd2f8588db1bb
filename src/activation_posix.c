/* systemd socket activation: sockets arrive as descriptors 3, 4, ... with
 * LISTEN_PID, LISTEN_FDS and LISTEN_FDNAMES (FileDescriptorName=, which
 * must be the forward's section name). */
#include "autoconfig.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "activation.h"
#include "config.h"
#include "log.h"
#include "parse.h"

#define FIRST_PASSED_FD 3
#define MAX_PASSED_FDS 1024

struct passed_socket {
	char name[FORWARD_NAME_MAX];
	struct listener *listener;
};

struct activation {
	struct passed_socket *sockets;
	size_t n;
};

/* The i-th colon-separated name, or "" when there are fewer. */
static void
nth_name(const char *names, size_t i, char *out, size_t outlen)
{
	const char *p = names != NULL ? names : "";
	const char *end = NULL;
	size_t len;

	for (; i > 0 && p != NULL; i--) {
		p = strchr(p, ':');
		p = p != NULL ? p + 1 : NULL;
	}
	if (p == NULL) {
		out[0] = '\0';
		return;
	}
	end = strchr(p, ':');
	len = end != NULL ? (size_t)(end - p) : strlen(p);
	if (len >= outlen) {
		len = outlen - 1;
	}
	memcpy(out, p, len);
	out[len] = '\0';
}

/* How many sockets were passed to this very process. */
static size_t
passed_count(void)
{
	const char *pid = getenv("LISTEN_PID");
	const char *fds = getenv("LISTEN_FDS");
	uint64_t value = 0, n = 0;

	if (pid == NULL || fds == NULL ||
	    parse_uint(pid, 1, UINT64_MAX, &value) != 0 ||
	    value != (uint64_t)getpid()) {
		return 0;
	}
	if (parse_uint(fds, 0, MAX_PASSED_FDS, &n) != 0) {
		log_warn("ignoring LISTEN_FDS='%s': not a count of sockets", fds);
		return 0;
	}
	return (size_t)n;
}

struct activation *
activation_receive(struct event_base *base)
{
	const char *names = getenv("LISTEN_FDNAMES");
	struct activation *a = NULL;
	size_t n = passed_count(), i;
	char err[256];

	if (n == 0 || (a = calloc(1, sizeof(*a))) == NULL ||
	    (a->sockets = calloc(n, sizeof(*a->sockets))) == NULL) {
		free(a);
		return NULL;
	}
	for (i = 0; i < n; i++) {
		struct passed_socket *ps = &a->sockets[a->n];

		nth_name(names, i, ps->name, sizeof(ps->name));
		ps->listener = listener_adopt(base, FIRST_PASSED_FD + (int)i,
		    err, sizeof(err));
		if (ps->listener == NULL) {
			log_warn("passed socket %d ('%s'): %s",
			    FIRST_PASSED_FD + (int)i, ps->name, err);
			continue;
		}
		log_info("received socket '%s' from the service manager",
		    ps->name);
		a->n++;
	}
	/* Nothing this process starts should believe they are its own. */
	unsetenv("LISTEN_PID");
	unsetenv("LISTEN_FDS");
	unsetenv("LISTEN_FDNAMES");
	return a;
}

struct listener *
activation_find(struct activation *a, const char *name)
{
	size_t i;

	for (i = 0; a != NULL && i < a->n; i++) {
		if (a->sockets[i].listener != NULL &&
		    strcmp(a->sockets[i].name, name) == 0) {
			return a->sockets[i].listener;
		}
	}
	return NULL;
}

struct listener *
activation_take(struct activation *a, struct listener *l)
{
	size_t i;

	for (i = 0; a != NULL && i < a->n; i++) {
		if (a->sockets[i].listener == l) {
			a->sockets[i].listener = NULL;
		}
	}
	return l;
}

void
activation_report_unused(const struct activation *a)
{
	size_t i;

	for (i = 0; a != NULL && i < a->n; i++) {
		if (a->sockets[i].listener != NULL) {
			log_warn("socket '%s' from the service manager matches no [section]: set FileDescriptorName= to a forward's name",
			    a->sockets[i].name);
		}
	}
}

void
activation_free(struct activation *a)
{
	size_t i;

	if (a == NULL) {
		return;
	}
	for (i = 0; i < a->n; i++) {
		listener_close(a->sockets[i].listener);
	}
	free(a->sockets);
	free(a);
}
