/* Levelled logging to stderr; libevent's own messages are routed here too. */
#ifndef HVRELAY_LOG_H
#define HVRELAY_LOG_H

enum log_level {
	LOG_LEVEL_ERROR,
	LOG_LEVEL_WARN,
	LOG_LEVEL_INFO,
	LOG_LEVEL_DEBUG,
};

enum log_target {
	LOG_TARGET_STDERR,
	LOG_TARGET_SYSTEM,
};

void log_init(void);
/* Where lines go from now on; the system log is opened on first use. */
void log_set_target(enum log_target target);
int log_target_parse(const char *text, enum log_target *target);
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
