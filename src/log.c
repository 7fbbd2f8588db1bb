#include "autoconfig.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <event2/event.h>

#include "log.h"
#include "log_system.h"

#define LINE_MAX_LEN 2048
/* Longer than any configuration line. */
#define LOG_PATH_MAX 512

static enum log_level current_level = LOG_LEVEL_INFO;
static enum log_level level_floor = LOG_LEVEL_ERROR;
static enum log_target configured_target = LOG_TARGET_DEFAULT;
static enum log_target fallback_target = LOG_TARGET_STDERR;
static enum { SYSTEM_LOG_UNTRIED, SYSTEM_LOG_OPEN, SYSTEM_LOG_FAILED }
    system_log = SYSTEM_LOG_UNTRIED;
static int stderr_is_journal;
static FILE *log_file;
static char log_file_path[LOG_PATH_MAX];

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
log_init(enum log_target fallback)
{
	event_set_log_callback(libevent_log);
	stderr_is_journal = log_stderr_is_journal();
	fallback_target = fallback;
}

void
log_set_target(enum log_target target)
{
	configured_target = target;
}

int
log_target_parse(const char *text, enum log_target *target, char *err,
    size_t errlen)
{
	if (strcmp(text, "stderr") == 0) {
		*target = LOG_TARGET_STDERR;
	} else if (strcmp(text, "syslog") == 0 ||
	    strcmp(text, log_system_name) == 0) {
		*target = LOG_TARGET_SYSTEM;
	} else {
		snprintf(err, errlen, "expected stderr or %s", log_system_name);
		return -1;
	}
	return 0;
}

int
log_reopen_file(const char *path, char *err, size_t errlen)
{
	char reason[256];
	FILE *fp = NULL;

	if (path != NULL) {
		fp = log_file_open(path, reason, sizeof(reason));
		if (fp == NULL) {
			snprintf(err, errlen, "cannot open log-file %s: %s%s%s", path,
			    reason, log_file != NULL ? "; still logging to " : "",
			    log_file != NULL ? log_file_path : "");
			return -1;
		}
	}
	if (log_file != NULL) {
		fclose(log_file);
	}
	log_file = fp;
	snprintf(log_file_path, sizeof(log_file_path), "%s",
	    path != NULL ? path : "");
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

/* Where lines go besides the log file: where 'log' says; when it says
 * nothing, nowhere else if a log file is open (LOG_TARGET_DEFAULT stands
 * for that), the fallback otherwise. */
static enum log_target
destination(void)
{
	enum log_target target = configured_target;

	if (target == LOG_TARGET_DEFAULT) {
		target = log_file != NULL ? LOG_TARGET_DEFAULT : fallback_target;
	}
	if (target == LOG_TARGET_SYSTEM && system_log == SYSTEM_LOG_UNTRIED) {
		system_log = log_system_open() == 0 ? SYSTEM_LOG_OPEN :
		    SYSTEM_LOG_FAILED;
	}
	if (target == LOG_TARGET_SYSTEM && system_log == SYSTEM_LOG_FAILED) {
		target = LOG_TARGET_STDERR;
	}
	return target;
}

/* A line with the UTC time and the level, for stderr and the log file. */
static void
write_stamped(FILE *fp, enum log_level level, const char *line)
{
	char stamp[32];
	struct tm *tm = NULL;
	time_t now = time(NULL);

	/* One thread logs, so gmtime's static result is safe. */
	tm = gmtime(&now);
	if (tm == NULL ||
	    strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%SZ", tm) == 0) {
		stamp[0] = '\0';
	}
	fprintf(fp, "%s %s: %s\n", stamp, level_names[level], line);
	fflush(fp);
}

static void
write_stderr(enum log_level level, const char *line)
{
	if (stderr_is_journal) {
		/* journald adds its own timestamps. */
		fprintf(stderr, "<%d>%s\n", log_journal_prefix(level), line);
		fflush(stderr);
	} else {
		write_stamped(stderr, level, line);
	}
}

void
log_msg(enum log_level level, const char *fmt, ...)
{
	char line[LINE_MAX_LEN];
	va_list ap;

	if (level > current_level) {
		return;
	}
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	if (log_file != NULL) {
		write_stamped(log_file, level, line);
	}
	switch (destination()) {
	case LOG_TARGET_SYSTEM:
		log_system_write(level, line);
		break;
	case LOG_TARGET_STDERR:
		write_stderr(level, line);
		break;
	case LOG_TARGET_DEFAULT:
		break;
	}
}
