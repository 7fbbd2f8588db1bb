#include "autoconfig.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <event2/event.h>

#include "log.h"

static enum log_level current_level = LOG_LEVEL_INFO;

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
}

void
log_set_level(enum log_level level)
{
	current_level = level;
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
	char stamp[32];
	struct tm tm;
	time_t now;
	va_list ap;

	if (level > current_level) {
		return;
	}
	now = time(NULL);
	if (gmtime_r(&now, &tm) == NULL ||
	    strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%SZ", &tm) == 0) {
		stamp[0] = '\0';
	}
	fprintf(stderr, "%s %s: ", stamp, level_names[level]);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	fflush(stderr);
}
