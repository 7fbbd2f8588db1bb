/* The system's log on POSIX: syslog, and journald behind stderr. */
#include "autoconfig.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>

#include <sys/stat.h>

#include "log_system.h"

static const int priorities[] = {
	[LOG_LEVEL_ERROR] = LOG_ERR,
	[LOG_LEVEL_WARN] = LOG_WARNING,
	[LOG_LEVEL_INFO] = LOG_INFO,
	[LOG_LEVEL_DEBUG] = LOG_DEBUG,
};

const char log_system_name[] = "syslog";

int
log_system_open(void)
{
	openlog("hvrelay", LOG_PID | LOG_NDELAY, LOG_DAEMON);
	return 0;
}

void
log_system_write(enum log_level level, const char *msg)
{
	syslog(priorities[level], "%s", msg);
}

/* systemd sets JOURNAL_STREAM to the device and inode of the stream it
 * connected to stderr; when they match, journald reads our lines. */
int
log_stderr_is_journal(void)
{
	const char *stream = getenv("JOURNAL_STREAM");
	unsigned long long dev = 0, ino = 0;
	struct stat st;

	if (stream == NULL || sscanf(stream, "%llu:%llu", &dev, &ino) != 2 ||
	    fstat(fileno(stderr), &st) != 0) {
		return 0;
	}
	return (unsigned long long)st.st_dev == dev &&
	    (unsigned long long)st.st_ino == ino;
}

int
log_journal_prefix(enum log_level level)
{
	return priorities[level];
}

/* Renaming an open file is always allowed here; the descriptor is not
 * passed on to other programs. */
FILE *
log_file_open(const char *path, char *reason, size_t len)
{
	FILE *fp = fopen(path, "ae");

	if (fp == NULL) {
		snprintf(reason, len, "%s", strerror(errno));
	}
	return fp;
}
