/* Levelled logging to stderr, the system log and a log file; libevent's
 * own messages are routed here too. */
#ifndef HVRELAY_LOG_H
#define HVRELAY_LOG_H

#include <stddef.h>

enum log_level {
	LOG_LEVEL_ERROR,
	LOG_LEVEL_WARN,
	LOG_LEVEL_INFO,
	LOG_LEVEL_DEBUG,
};

enum log_target {
	LOG_TARGET_DEFAULT, /* not configured: see log_set_target */
	LOG_TARGET_STDERR,
	LOG_TARGET_SYSTEM,
};

/* fallback is where lines go while nothing else is configured: stderr,
 * or the system log for a service, which has no stderr. */
void log_init(enum log_target fallback);
/* Where lines go from now on besides the log file. LOG_TARGET_DEFAULT
 * means nowhere else while a log file is open, the fallback otherwise.
 * The system log is opened on first use; without it lines go to stderr. */
void log_set_target(enum log_target target);
/* "stderr", "syslog" or the name of this platform's system log; -1 with
 * err saying what is expected. */
int log_target_parse(const char *text, enum log_target *target, char *err,
    size_t errlen);
/* Opens path afresh for appending, so that a file moved away (rotated) is
 * let go; NULL closes the log file. -1 with err when path cannot be
 * opened: the file open before, if any, stays in use. */
int log_reopen_file(const char *path, char *err, size_t errlen);
/* The configured level; a floor set by -v is kept across reloads. */
void log_set_level(enum log_level level);
void log_set_floor(enum log_level level);
enum log_level log_get_level(void);
int log_level_parse(const char *text, enum log_level *level);

void log_msg(enum log_level level, const char *fmt, ...)
	__attribute__((format(gnu_printf, 2, 3)));

#define log_error(...) log_msg(LOG_LEVEL_ERROR, __VA_ARGS__)
#define log_warn(...) log_msg(LOG_LEVEL_WARN, __VA_ARGS__)
#define log_info(...) log_msg(LOG_LEVEL_INFO, __VA_ARGS__)
/* Debug arguments can be costly to compute: skip them unless shown. */
#define log_debug(...)                                                  \
	do {                                                            \
		if (log_get_level() >= LOG_LEVEL_DEBUG) {               \
			log_msg(LOG_LEVEL_DEBUG, __VA_ARGS__);          \
		}                                                       \
	} while (0)

#endif
