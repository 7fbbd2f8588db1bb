/*
 * The configuration: parsed and checked completely before anything runs;
 * the rest of the daemon only ever sees a valid, immutable struct config.
 */
#ifndef HVRELAY_CONFIG_H
#define HVRELAY_CONFIG_H

#include <stddef.h>
#include <stdint.h>

#include "endpoint.h"
#include "log.h"
#include "sock.h"

#define FORWARD_NAME_MAX 64

struct forward_conf {
	char name[FORWARD_NAME_MAX];
	int line;
	struct endpoint listen;
	struct endpoint connect;
	struct sock_addr listen_addr;
	struct sock_addr connect_addr;
	struct sock_options sock_opts;
	uint64_t connect_timeout_ms;
	uint64_t idle_timeout_ms;       /* 0: never */
	uint64_t half_close_timeout_ms; /* 0: never */
	unsigned connect_retries;
	int splice;                     /* zero-copy where sockets allow */
	struct acl allow;               /* empty: everyone may connect */
	unsigned max_connections;       /* 0: only the global cap applies */
};

struct config {
	char *path;
	enum log_level log_level;
	enum log_target log_target;
	char *log_file;                         /* NULL when not set */
	char control_socket[ENDPOINT_PATH_MAX]; /* "" when turned off */
	unsigned max_connections;
	uint64_t shutdown_timeout_ms;
	struct forward_conf *forwards;
	size_t nforwards;
};

/* Returns the checked configuration, or NULL with *errors set to one
 * "FILE:LINE: message" per line (free both with free/config_free). */
struct config *config_load(const char *path, char **errors);
/* config_load for the commands: the errors go to stderr. */
struct config *config_load_reporting(const char *path);
void config_free(struct config *cfg);
const struct forward_conf *config_find_forward(const struct config *cfg,
    const char *name);

#endif
