/* The system log on Windows: the Application event log. */
#include "autoconfig.h"

#include <windows.h>

#include "log_system.h"

static HANDLE event_source;

int
log_system_open(void)
{
	event_source = RegisterEventSourceA(NULL, "hvrelay");
	return event_source != NULL ? 0 : -1;
}

void
log_system_write(enum log_level level, const char *msg)
{
	WORD type = EVENTLOG_INFORMATION_TYPE;

	if (level == LOG_LEVEL_ERROR) {
		type = EVENTLOG_ERROR_TYPE;
	} else if (level == LOG_LEVEL_WARN) {
		type = EVENTLOG_WARNING_TYPE;
	}
	(void)ReportEventA(event_source, type, 0, 0, NULL, 1, 0, &msg, NULL);
}

void
log_system_close(void)
{
	if (event_source != NULL) {
		DeregisterEventSource(event_source);
		event_source = NULL;
	}
}

/* There is no journal on Windows. */
int
log_stderr_is_journal(void)
{
	return 0;
}

int
log_journal_prefix(enum log_level level)
{
	return (int)level;
}
