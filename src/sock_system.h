/* The system headers of the socket backends, the one place that knows
 * which platform it is on. Only sock_*.c include it. */
#ifndef HVRELAY_SOCK_SYSTEM_H
#define HVRELAY_SOCK_SYSTEM_H

#ifdef _WIN32
#include <winsock2.h>
#include <ws2tcpip.h>
#include <afunix.h>
#include <hvsocket.h>
/* mingw-w64's headers know the structures but not the family. */
#ifndef AF_HYPERV
#define AF_HYPERV 34
#endif
#else
#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <linux/vm_sockets.h>
#endif

#endif
