#include "autoconfig.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <ini.h>

#include "config.h"
#include "parse.h"
#include "platform.h"

#define DEFAULT_MAX_CONNECTIONS 4096
#define DEFAULT_SHUTDOWN_TIMEOUT_MS 10000
#define DEFAULT_CONNECT_TIMEOUT_MS 5000
#define DEFAULT_HALF_CLOSE_TIMEOUT_MS 60000
#define DEFAULT_CONNECT_RETRIES 10
#define MAX_CONNECTIONS_LIMIT 1000000
#define MAX_RETRIES 100
#define BUFFER_SIZE_MIN 4096
#define BUFFER_SIZE_MAX (64 * 1024 * 1024)
/* inih's own line buffer is this long; longer lines would be split. */
#define LINE_MAX_LEN 200

enum key_scope {
	SCOPE_GLOBAL = 1,  /* before the first section */
	SCOPE_SECTION = 2, /* inside a section */
};

struct parse_ctx;

struct key_def {
	const char *name;
	unsigned scopes;
	int (*apply)(struct parse_ctx *ctx, struct forward_conf *fwd,
	    const char *value, char *err, size_t errlen);
};

struct parse_ctx {
	const char *path;
	FILE *fp;
	int line;
	struct config *cfg;
	struct forward_conf defaults;
	struct forward_conf *section; /* NULL before the first section */
	int skip_section;             /* keys of a rejected header */
	int *key_lines;               /* where each key was set, 0 if not */
	int *global_key_lines;
	char *errors;
	size_t errors_len;
};

/* Appends one "FILE:LINE: message" line to the error report. */
static void __attribute__((format(gnu_printf, 3, 4)))
report(struct parse_ctx *ctx, int line, const char *fmt, ...)
{
	char msg[512], where[32] = "";
	char *grown = NULL;
	size_t need;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (line > 0) {
		snprintf(where, sizeof(where), ":%d", line);
	}
	need = strlen(ctx->path) + strlen(where) + strlen(msg) + 4;
	grown = realloc(ctx->errors, ctx->errors_len + need);
	if (grown == NULL) {
		return;
	}
	ctx->errors = grown;
	ctx->errors_len += (size_t)snprintf(grown + ctx->errors_len, need,
	    "%s%s: %s\n", ctx->path, where, msg);
}

static int
apply_endpoint(struct endpoint *ep, struct sock_addr *addr,
    enum sock_role role, const char *value, char *err, size_t errlen)
{
	if (endpoint_parse(value, ep, err, errlen) != 0) {
		return -1;
	}
	return sock_resolve(ep, role, addr, err, errlen);
}

static int
apply_listen(struct parse_ctx *ctx, struct forward_conf *fwd,
    const char *value, char *err, size_t errlen)
{
	(void)ctx;
	return apply_endpoint(&fwd->listen, &fwd->listen_addr,
	    SOCK_ROLE_LISTEN, value, err, errlen);
}

static int
apply_connect(struct parse_ctx *ctx, struct forward_conf *fwd,
    const char *value, char *err, size_t errlen)
{
	(void)ctx;
	return apply_endpoint(&fwd->connect, &fwd->connect_addr,
	    SOCK_ROLE_CONNECT, value, err, errlen);
}

/* zero says what 0 means, or is NULL when 0 is not allowed. */
static int
apply_duration(uint64_t *out, const char *zero, const char *value,
    char *err, size_t errlen)
{
	uint64_t ms;

	if (parse_duration_ms(value, &ms) != 0 || (ms == 0 && zero == NULL)) {
		snprintf(err, errlen,
		    "expected a duration such as 500ms, 5s, 2m or 1h%s%s%s",
		    zero != NULL ? " (0 " : ", greater than 0",
		    zero != NULL ? zero : "", zero != NULL ? ")" : "");
		return -1;
	}
	*out = ms;
	return 0;
}

static int
apply_connect_timeout(struct parse_ctx *ctx, struct forward_conf *fwd,
    const char *value, char *err, size_t errlen)
{
	(void)ctx;
	return apply_duration(&fwd->connect_timeout_ms, NULL, value, err,
	    errlen);
}

static int
apply_idle_timeout(struct parse_ctx *ctx, struct forward_conf *fwd,
    const char *value, char *err, size_t errlen)
{
	(void)ctx;
	return apply_duration(&fwd->idle_timeout_ms, "for never", value, err,
	    errlen);
}

static int
apply_half_close_timeout(struct parse_ctx *ctx, struct forward_conf *fwd,
    const char *value, char *err, size_t errlen)
{
	(void)ctx;
	return apply_duration(&fwd->half_close_timeout_ms, "for never", value,
	    err, errlen);
}

static int
apply_count(unsigned *out, uint64_t min, uint64_t max, const char *value,
    char *err, size_t errlen)
{
	uint64_t n;

	if (parse_uint(value, min, max, &n) != 0) {
		snprintf(err, errlen, "expected a whole number from %llu to %llu",
		    (unsigned long long)min, (unsigned long long)max);
		return -1;
	}
	*out = (unsigned)n;
	return 0;
}

static int
apply_connect_retries(struct parse_ctx *ctx, struct forward_conf *fwd,
    const char *value, char *err, size_t errlen)
{
	(void)ctx;
	return apply_count(&fwd->connect_retries, 0, MAX_RETRIES, value, err,
	    errlen);
}

/* Outside a section this is the cap of the whole process. */
static int
apply_max_connections(struct parse_ctx *ctx, struct forward_conf *fwd,
    const char *value, char *err, size_t errlen)
{
	unsigned *target = ctx->section != NULL ? &fwd->max_connections :
	    &ctx->cfg->max_connections;

	return apply_count(target, 1, MAX_CONNECTIONS_LIMIT, value, err,
	    errlen);
}

static int
apply_buffer_size(struct parse_ctx *ctx, struct forward_conf *fwd,
    const char *value, char *err, size_t errlen)
{
	uint64_t size;

	(void)ctx;
	if (parse_size(value, BUFFER_SIZE_MAX, &size) != 0 ||
	    size < BUFFER_SIZE_MIN) {
		snprintf(err, errlen,
		    "expected a size from 4K to 64M, such as 256K");
		return -1;
	}
	fwd->sock_opts.buffer_size = (uint32_t)size;
	return 0;
}

static int
apply_splice(struct parse_ctx *ctx, struct forward_conf *fwd,
    const char *value, char *err, size_t errlen)
{
	(void)ctx;
	if (parse_bool(value, &fwd->splice) != 0) {
		snprintf(err, errlen, "expected yes or no");
		return -1;
	}
	return 0;
}

static int
apply_allow(struct parse_ctx *ctx, struct forward_conf *fwd,
    const char *value, char *err, size_t errlen)
{
	(void)ctx;
	return acl_parse(value, &fwd->allow, err, errlen);
}

static int
apply_log_level(struct parse_ctx *ctx, struct forward_conf *fwd,
    const char *value, char *err, size_t errlen)
{
	(void)fwd;
	if (log_level_parse(value, &ctx->cfg->log_level) != 0) {
		snprintf(err, errlen, "expected error, warn, info or debug");
		return -1;
	}
	return 0;
}

static int
apply_log_target(struct parse_ctx *ctx, struct forward_conf *fwd,
    const char *value, char *err, size_t errlen)
{
	(void)fwd;
	return log_target_parse(value, &ctx->cfg->log_target, err, errlen);
}

static int
apply_log_file(struct parse_ctx *ctx, struct forward_conf *fwd,
    const char *value, char *err, size_t errlen)
{
	(void)fwd;
	if (!platform_path_is_absolute(value)) {
		snprintf(err, errlen, "expected an absolute path");
		return -1;
	}
	ctx->cfg->log_file = strdup(value);
	if (ctx->cfg->log_file == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	return 0;
}

static int
apply_control_socket(struct parse_ctx *ctx, struct forward_conf *fwd,
    const char *value, char *err, size_t errlen)
{
	char *path = ctx->cfg->control_socket;

	(void)fwd;
	if (strcmp(value, "off") == 0) {
		path[0] = '\0';
		return 0;
	}
	if (!platform_path_is_absolute(value) ||
	    strlen(value) >= sizeof(ctx->cfg->control_socket)) {
		snprintf(err, errlen,
		    "expected an absolute path of at most 107 characters, or off");
		return -1;
	}
	snprintf(path, sizeof(ctx->cfg->control_socket), "%s", value);
	return 0;
}

static int
apply_shutdown_timeout(struct parse_ctx *ctx, struct forward_conf *fwd,
    const char *value, char *err, size_t errlen)
{
	(void)fwd;
	return apply_duration(&ctx->cfg->shutdown_timeout_ms,
	    "to close connections at once", value, err, errlen);
}

static const struct key_def keys[] = {
	{ "listen", SCOPE_SECTION, apply_listen },
	{ "connect", SCOPE_SECTION, apply_connect },
	{ "connect-timeout", SCOPE_GLOBAL | SCOPE_SECTION, apply_connect_timeout },
	{ "connect-retries", SCOPE_GLOBAL | SCOPE_SECTION, apply_connect_retries },
	{ "idle-timeout", SCOPE_GLOBAL | SCOPE_SECTION, apply_idle_timeout },
	{ "half-close-timeout", SCOPE_GLOBAL | SCOPE_SECTION,
	    apply_half_close_timeout },
	{ "max-connections", SCOPE_GLOBAL | SCOPE_SECTION, apply_max_connections },
	{ "buffer-size", SCOPE_GLOBAL | SCOPE_SECTION, apply_buffer_size },
	{ "splice", SCOPE_GLOBAL | SCOPE_SECTION, apply_splice },
	{ "allow", SCOPE_SECTION, apply_allow },
	{ "log-level", SCOPE_GLOBAL, apply_log_level },
	{ "log", SCOPE_GLOBAL, apply_log_target },
	{ "log-file", SCOPE_GLOBAL, apply_log_file },
	{ "control-socket", SCOPE_GLOBAL, apply_control_socket },
	{ "shutdown-timeout", SCOPE_GLOBAL, apply_shutdown_timeout },
};

#define KEY_COUNT (sizeof(keys) / sizeof(keys[0]))

static const struct key_def *
find_key(const char *name, size_t *index)
{
	size_t i;

	for (i = 0; i < KEY_COUNT; i++) {
		if (strcmp(keys[i].name, name) == 0) {
			*index = i;
			return &keys[i];
		}
	}
	return NULL;
}

static void
report_unknown_key(struct parse_ctx *ctx, const char *name, unsigned scope)
{
	char known[512] = "";
	size_t i;

	for (i = 0; i < KEY_COUNT; i++) {
		if (keys[i].scopes & scope) {
			if (known[0] != '\0') {
				strncat(known, ", ", sizeof(known) - strlen(known) - 1);
			}
			strncat(known, keys[i].name, sizeof(known) - strlen(known) - 1);
		}
	}
	report(ctx, ctx->line, "unknown key '%s'%s; expected one of: %s", name,
	    scope == SCOPE_GLOBAL ? " before the first section" : "", known);
}

static int
on_ini_pair(void *user, const char *section, const char *name,
    const char *value)
{
	struct parse_ctx *ctx = user;
	unsigned scope = ctx->section != NULL ? SCOPE_SECTION : SCOPE_GLOBAL;
	struct forward_conf *target = ctx->section != NULL ? ctx->section :
	    &ctx->defaults;
	int *lines = ctx->section != NULL ? ctx->key_lines :
	    ctx->global_key_lines;
	const struct key_def *key = NULL;
	char err[256];
	size_t index = 0;

	(void)section;
	if (ctx->skip_section) {
		return 1;
	}
	key = find_key(name, &index);
	if (key == NULL) {
		report_unknown_key(ctx, name, scope);
		return 1;
	}
	if ((key->scopes & scope) == 0) {
		report(ctx, ctx->line, "%s: %s", name,
		    scope == SCOPE_SECTION ?
		    "is a global key: move it above the first section" :
		    "belongs in a forward's [section]");
		return 1;
	}
	if (lines[index] != 0) {
		report(ctx, ctx->line, "%s: given twice (first at line %d)", name,
		    lines[index]);
		return 1;
	}
	lines[index] = ctx->line;
	if (key->apply(ctx, target, value, err, sizeof(err)) != 0) {
		report(ctx, ctx->line, "%s: '%s': %s", name, value, err);
	}
	return 1;
}

/* 'allow' must suit the listener, which may be given after it. */
static void
check_allow(struct parse_ctx *ctx, const struct forward_conf *fwd,
    int listen_line)
{
	size_t allow_key = 0;
	char err[256];

	(void)find_key("allow", &allow_key);
	if (ctx->key_lines[allow_key] == 0 || listen_line == 0) {
		return;
	}
	if (acl_check_listener(&fwd->allow, fwd->listen.kind, err,
	    sizeof(err)) != 0) {
		report(ctx, ctx->key_lines[allow_key], "allow: %s", err);
	}
}

static void
check_section(struct parse_ctx *ctx)
{
	struct forward_conf *fwd = ctx->section;
	size_t listen_key = 0, connect_key = 0;

	if (fwd == NULL) {
		return;
	}
	(void)find_key("listen", &listen_key);
	(void)find_key("connect", &connect_key);
	if (ctx->key_lines[listen_key] == 0) {
		report(ctx, fwd->line, "[%s]: missing 'listen = ENDPOINT'",
		    fwd->name);
	}
	if (ctx->key_lines[connect_key] == 0) {
		report(ctx, fwd->line, "[%s]: missing 'connect = ENDPOINT'",
		    fwd->name);
	}
	check_allow(ctx, fwd, ctx->key_lines[listen_key]);
	fwd->sock_opts.connect_timeout_ms =
	    fwd->connect_timeout_ms > UINT32_MAX ? UINT32_MAX :
	    (uint32_t)fwd->connect_timeout_ms;
}

static int
valid_section_name(const char *name)
{
	size_t len = strlen(name), i;

	if (len == 0 || len >= FORWARD_NAME_MAX) {
		return 0;
	}
	for (i = 0; i < len; i++) {
		if (!isalnum((unsigned char)name[i]) && name[i] != '-' &&
		    name[i] != '_' && name[i] != '.') {
			return 0;
		}
	}
	return 1;
}

const struct forward_conf *
config_find_forward(const struct config *cfg, const char *name)
{
	size_t i;

	for (i = 0; i < cfg->nforwards; i++) {
		if (strcmp(cfg->forwards[i].name, name) == 0) {
			return &cfg->forwards[i];
		}
	}
	return NULL;
}

static void
start_section(struct parse_ctx *ctx, const char *name)
{
	const struct forward_conf *dup = NULL;
	struct forward_conf *grown = NULL;

	check_section(ctx);
	ctx->section = NULL;
	ctx->skip_section = 1;
	memset(ctx->key_lines, 0, KEY_COUNT * sizeof(int));
	if (!valid_section_name(name)) {
		report(ctx, ctx->line,
		    "[%s]: a section name is 1 to 63 letters, digits, '-', '_' or '.'",
		    name);
		return;
	}
	dup = config_find_forward(ctx->cfg, name);
	if (dup != NULL) {
		report(ctx, ctx->line, "[%s]: duplicate section (first at line %d)",
		    name, dup->line);
		return;
	}
	grown = realloc(ctx->cfg->forwards,
	    (ctx->cfg->nforwards + 1) * sizeof(*grown));
	if (grown == NULL) {
		report(ctx, ctx->line, "out of memory");
		return;
	}
	ctx->cfg->forwards = grown;
	ctx->section = &grown[ctx->cfg->nforwards++];
	*ctx->section = ctx->defaults;
	snprintf(ctx->section->name, sizeof(ctx->section->name), "%s", name);
	ctx->section->line = ctx->line;
	ctx->skip_section = 0;
}

/* A header line: "[name]" with nothing but a comment after it. */
static void
read_section_header(struct parse_ctx *ctx, const char *line)
{
	const char *close = strchr(line, ']');
	const char *after = NULL;
	char name[128];
	size_t len;

	if (close == NULL) {
		report(ctx, ctx->line, "section header lacks its closing ']'");
		ctx->skip_section = 1;
		ctx->section = NULL;
		return;
	}
	for (after = close + 1; isspace((unsigned char)*after); after++) {
	}
	if (*after != '\0' && *after != ';' && *after != '#') {
		report(ctx, ctx->line, "unexpected text after the section header");
	}
	len = (size_t)(close - line - 1);
	if (len >= sizeof(name)) {
		len = sizeof(name) - 1;
	}
	memcpy(name, line + 1, len);
	name[len] = '\0';
	start_section(ctx, name);
}

/* Drops the rest of a line that did not fit in the buffer. */
static void
skip_rest_of_line(FILE *fp)
{
	int c;

	do {
		c = fgetc(fp);
	} while (c != EOF && c != '\n');
}

/*
 * inih's reader: counts lines so that every message can name its line,
 * tracks sections itself (so that empty and duplicate ones are seen), and
 * turns lines that are not "key = value" into errors of our own wording.
 */
static char *
read_ini_line(char *str, int num, void *stream)
{
	struct parse_ctx *ctx = stream;
	char *line = NULL;
	size_t len;
	int truncated;

	if (fgets(str, num, ctx->fp) == NULL) {
		return NULL;
	}
	ctx->line++;
	len = strlen(str);
	truncated = len > 0 && str[len - 1] != '\n' && !feof(ctx->fp);
	for (line = str; isspace((unsigned char)*line); line++) {
	}
	/* Left-aligned, so that inih never sees a continuation line. */
	memmove(str, line, strlen(line) + 1);
	if (str[0] == ';' || str[0] == '#') {
		if (truncated) {
			/* A whole line for inih, which may check for one. */
			skip_rest_of_line(ctx->fp);
			snprintf(str, (size_t)num, ";\n");
		}
		return str;
	}
	if (truncated) {
		report(ctx, ctx->line, "line too long (at most %d characters)",
		    LINE_MAX_LEN - 3);
		skip_rest_of_line(ctx->fp);
		str[0] = '\0';
	} else if (str[0] == '[') {
		read_section_header(ctx, str);
		/* Sections are tracked here; inih need not see them. */
		str[0] = '\0';
	} else if (str[0] != '\0' && strchr(str, '=') == NULL) {
		if (!ctx->skip_section) {
			report(ctx, ctx->line, "expected 'key = value' or '[section]'");
		}
		str[0] = '\0';
	}
	return str;
}

static void
check_listen_conflicts(struct parse_ctx *ctx)
{
	size_t i, j;

	for (i = 0; i < ctx->cfg->nforwards; i++) {
		const struct forward_conf *a = &ctx->cfg->forwards[i];

		for (j = 0; j < i; j++) {
			const struct forward_conf *b = &ctx->cfg->forwards[j];

			if (a->listen_addr.len != 0 &&
			    a->listen_addr.len == b->listen_addr.len &&
			    memcmp(&a->listen_addr.ss, &b->listen_addr.ss,
			    a->listen_addr.len) == 0) {
				report(ctx, a->line,
				    "[%s]: listens on the same address as [%s] (line %d)",
				    a->name, b->name, b->line);
			}
		}
	}
}

/* RUNDIR/NAME.sock for NAME.conf, so that every instance has its own. */
static void
default_control_socket(struct config *cfg)
{
	const char *base = platform_path_basename(cfg->path);
	size_t len = strlen(base);

	if (len > 5 && strcasecmp(base + len - 5, ".conf") == 0) {
		len -= 5;
	}
	snprintf(cfg->control_socket, sizeof(cfg->control_socket),
	    "%s/%.*s.sock", RUNDIR, (int)len, base);
}

static void
init_defaults(struct parse_ctx *ctx)
{
	default_control_socket(ctx->cfg);
	ctx->cfg->log_level = LOG_LEVEL_INFO;
	ctx->cfg->max_connections = DEFAULT_MAX_CONNECTIONS;
	ctx->cfg->shutdown_timeout_ms = DEFAULT_SHUTDOWN_TIMEOUT_MS;
	memset(&ctx->defaults, 0, sizeof(ctx->defaults));
	ctx->defaults.connect_timeout_ms = DEFAULT_CONNECT_TIMEOUT_MS;
	ctx->defaults.half_close_timeout_ms = DEFAULT_HALF_CLOSE_TIMEOUT_MS;
	ctx->defaults.connect_retries = DEFAULT_CONNECT_RETRIES;
	ctx->defaults.splice = 1;
}

static void
parse_file(struct parse_ctx *ctx)
{
	int rc;

	ctx->fp = fopen(ctx->path, "r");
	if (ctx->fp == NULL) {
		report(ctx, 0, "cannot open: %s", strerror(errno));
		return;
	}
	rc = ini_parse_stream(read_ini_line, ctx, on_ini_pair, ctx);
	if (rc > 0) {
		report(ctx, rc, "cannot parse this line");
	}
	fclose(ctx->fp);
	check_section(ctx);
	if (ctx->cfg->nforwards == 0 && ctx->errors == NULL) {
		report(ctx, 0,
		    "no forwards: add a [name] section with 'listen' and 'connect'");
	}
	check_listen_conflicts(ctx);
}

struct config *
config_load(const char *path, char **errors)
{
	int key_lines[KEY_COUNT] = { 0 };
	int global_key_lines[KEY_COUNT] = { 0 };
	struct parse_ctx ctx;

	memset(&ctx, 0, sizeof(ctx));
	ctx.path = path;
	ctx.key_lines = key_lines;
	ctx.global_key_lines = global_key_lines;
	ctx.cfg = calloc(1, sizeof(*ctx.cfg));
	if (ctx.cfg == NULL || (ctx.cfg->path = strdup(path)) == NULL) {
		config_free(ctx.cfg);
		*errors = strdup("out of memory\n");
		return NULL;
	}
	init_defaults(&ctx);
	parse_file(&ctx);
	if (ctx.errors != NULL) {
		config_free(ctx.cfg);
		*errors = ctx.errors;
		return NULL;
	}
	*errors = NULL;
	return ctx.cfg;
}

struct config *
config_load_reporting(const char *path)
{
	char *errors = NULL;
	struct config *cfg = config_load(path, &errors);

	if (cfg == NULL) {
		fputs(errors != NULL ? errors : "out of memory\n", stderr);
		free(errors);
	}
	return cfg;
}

void
config_free(struct config *cfg)
{
	if (cfg == NULL) {
		return;
	}
	free(cfg->path);
	free(cfg->log_file);
	free(cfg->forwards);
	free(cfg);
}
