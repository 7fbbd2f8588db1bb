/* The system log on Windows: the Application event log. */
#include "autoconfig.h"

#include <fcntl.h>
#include <io.h>
#include <winsock2.h>
#include <windows.h>

#include "log_system.h"
#include "sock.h"

static HANDLE event_source;

const char log_system_name[] = "eventlog";

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

/* The C library's fopen() does not share deletion: the file could not be
 * renamed while open, which rotating it needs. */
FILE *
log_file_open(const char *path, char *reason, size_t len)
{
	HANDLE h = CreateFileA(path, FILE_APPEND_DATA,
	    FILE_SHARE_READ | FILE_SHARE_WRITE | FILE_SHARE_DELETE, NULL,
	    OPEN_ALWAYS, FILE_ATTRIBUTE_NORMAL, NULL);
	FILE *fp = NULL;
	int fd;

	if (h == INVALID_HANDLE_VALUE) {
		snprintf(reason, len, "%s", sock_error_text((int)GetLastError()));
		return NULL;
	}
	fd = _open_osfhandle((intptr_t)h, _O_APPEND | _O_TEXT);
	if (fd < 0) {
		CloseHandle(h);
		snprintf(reason, len, "out of file descriptors");
		return NULL;
	}
	fp = _fdopen(fd, "a");
	if (fp == NULL) {
		_close(fd);
		snprintf(reason, len, "out of memory");
	}
	return fp;
}
