/* Windows-only parts: the service, GUID registration, and how they reach
 * the event loop. */
#ifndef HVRELAY_SERVICE_WIN32_H
#define HVRELAY_SERVICE_WIN32_H

#include "platform.h"

/* hvrelay service install|uninstall|start|stop|reload|run [-c FILE] */
int service_command(int argc, char **argv);
/* hvrelay register [-c FILE | PORT|GUID [NAME]] | --list | --remove ... */
int register_command(int argc, char **argv);

/* Tell the Service Control Manager how the service is doing; nothing
 * happens when hvrelay is not running as a service. */
void service_report_running(void);
void service_report_stopping(void);

/* Hands a request to the event loop from any thread (the service control
 * handler, the console handler). */
void platform_post_request(enum daemon_request request);

#endif
