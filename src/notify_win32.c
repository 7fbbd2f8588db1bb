/* On Windows the service manager is the SCM: readiness and stopping
 * become service states. Reloads and status lines have no counterpart. */
#include "autoconfig.h"

#include "notify.h"
#include "service_win32.h"

void
notify_ready(const char *status)
{
	(void)status;
	service_report_running();
}

void
notify_reloading(void)
{
}

void
notify_stopping(void)
{
	service_report_stopping();
}

void
notify_status(const char *status)
{
	(void)status;
}
