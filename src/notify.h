/* Tells the service manager how the daemon is doing: systemd's notify
 * protocol (a datagram to $NOTIFY_SOCKET), spoken directly. */
#ifndef HVRELAY_NOTIFY_H
#define HVRELAY_NOTIFY_H

void notify_ready(const char *status);
void notify_reloading(void);
void notify_stopping(void);
void notify_status(const char *status);

#endif
