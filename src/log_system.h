/* What the platform offers for logging besides plain stderr. */
#ifndef HVRELAY_LOG_SYSTEM_H
#define HVRELAY_LOG_SYSTEM_H

#include "log.h"

/* The system log: syslog on POSIX. */
int log_system_open(void);
void log_system_write(enum log_level level, const char *msg);
void log_system_close(void);

/* Whether stderr goes to the journal, which wants "<N>" priority prefixes
 * and no timestamps; and the prefix number for a level. */
int log_stderr_is_journal(void);
int log_journal_prefix(enum log_level level);

#endif
