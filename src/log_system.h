/* What the platform offers for logging besides plain stderr. */
#ifndef HVRELAY_LOG_SYSTEM_H
#define HVRELAY_LOG_SYSTEM_H

#include <stdio.h>

#include "log.h"

/* The system log: syslog on POSIX, the Application event log on Windows,
 * and the name 'log =' gives it ("syslog" is accepted everywhere). */
extern const char log_system_name[];
int log_system_open(void);
void log_system_write(enum log_level level, const char *msg);

/* Whether stderr goes to the journal, which wants "<N>" priority prefixes
 * and no timestamps; and the prefix number for a level. */
int log_stderr_is_journal(void);
int log_journal_prefix(enum log_level level);

/* Opens the log file for appending, creating it if needed, in a way that
 * lets it be moved away while open (rotation). NULL with the system's
 * reason in reason. */
FILE *log_file_open(const char *path, char *reason, size_t len);

#endif
