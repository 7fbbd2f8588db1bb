#include "autoconfig.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <event2/event.h>

#include "log.h"
#include "log_system.h"

#define LINE_MAX_LEN 2048

static enum log_level current_level = LOG_LEVEL_INFO;
static enum log_level level_floor = LOG_LEVEL_ERROR;
static enum log_target current_target = LOG_TARGET_STDERR;
static int system_log_open;
static int stderr_is_journal;

static const char *const level_names[] = {
	[LOG_LEVEL_ERROR] = "error",
	[LOG_LEVEL_WARN] = "warn",
	[LOG_LEVEL_INFO] = "info",
	[LOG_LEVEL_DEBUG] = "debug",
};

static void
libevent_log(int severity, const char *msg)
{
	enum log_level level = LOG_LEVEL_DEBUG;

	if (severity == EVENT_LOG_ERR) {
		level = LOG_LEVEL_ERROR;
	} else if (severity == EVENT_LOG_WARN) {
		level = LOG_LEVEL_WARN;
	} else if (severity == EVENT_LOG_MSG) {
		level = LOG_LEVEL_INFO;
	}
	log_msg(level, "libevent: %s", msg);
}

void
log_init(void)
{
	event_set_log_callback(libevent_log);
	stderr_is_journal = log_stderr_is_journal();
}

void
log_set_target(enum log_target target)
{
	if (target == LOG_TARGET_SYSTEM && !system_log_open) {
		system_log_open = log_system_open() == 0;
	}
	current_target = system_log_open ? target : LOG_TARGET_STDERR;
}

int
log_target_parse(const char *text, enum log_target *target)
{
	if (strcmp(text, "stderr") == 0) {
		*target = LOG_TARGET_STDERR;
	} else if (strcmp(text, "syslog") == 0) {
		*target = LOG_TARGET_SYSTEM;
	} else {
		return -1;
	}
	return 0;
}

void
log_set_level(enum log_level level)
{
	current_level = level > level_floor ? level : level_floor;
}

void
log_set_floor(enum log_level level)
{
	level_floor = level;
	log_set_level(current_level);
}

enum log_level
log_get_level(void)
{
	return current_level;
}

int
log_level_parse(const char *text, enum log_level *level)
{
	size_t i;

	for (i = 0; i < sizeof(level_names) / sizeof(level_names[0]); i++) {
		if (strcmp(text, level_names[i]) == 0) {
			*level = (enum log_level)i;
			return 0;
		}
	}
	return -1;
}

void
log_msg(enum log_level level, const char *fmt, ...)
{
	char line[LINE_MAX_LEN], stamp[32];
	struct tm *tm = NULL;
	time_t now;
	va_list ap;

	if (level > current_level) {
		return;
	}
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	if (current_target == LOG_TARGET_SYSTEM) {
		log_system_write(level, line);
		return;
	}
	if (stderr_is_journal) {
		/* journald adds its own timestamps. */
		fprintf(stderr, "<%d>%s\n", log_journal_prefix(level), line);
		fflush(stderr);
		return;
	}
	now = time(NULL);
	/* One thread logs, so gmtime's static result is safe. */
	tm = gmtime(&now);
	if (tm == NULL ||
	    strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%SZ", tm) == 0) {
		stamp[0] = '\0';
	}
	fprintf(stderr, "%s %s: %s\n", stamp, level_names[level], line);
	fflush(stderr);
}
