/* Windows socket backend: TCP, AF_UNIX where Windows has it, and Hyper-V
 * sockets (AF_HYPERV). There is no vsock here, and no splicing. */
#include "autoconfig.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sock.h"
#include "sock_common.h"
#include "sock_system.h"

/* Hyper-V's own limit for HVSOCKET_CONNECT_TIMEOUT. */
#define HV_CONNECT_TIMEOUT_MAX_MS 300000

int
sock_platform_init(char *err, size_t errlen)
{
	WSADATA wsa;
	int rc = WSAStartup(MAKEWORD(2, 2), &wsa);

	if (rc != 0) {
		snprintf(err, errlen, "WSAStartup: error %d", rc);
		return -1;
	}
	return 0;
}

uint64_t
sock_descriptor_limit(void)
{
	/* libevent's select backend grows its sets as needed. */
	return UINT64_MAX;
}

static void
to_windows_guid(const struct guid *in, GUID *out)
{
	out->Data1 = in->data1;
	out->Data2 = in->data2;
	out->Data3 = in->data3;
	memcpy(out->Data4, in->data4, sizeof(out->Data4));
}

static void
from_windows_guid(const GUID *in, struct guid *out)
{
	out->data1 = (uint32_t)in->Data1;
	out->data2 = in->Data2;
	out->data3 = in->Data3;
	memcpy(out->data4, in->Data4, sizeof(out->data4));
}

static int
resolve_hvsock(const struct endpoint *ep, enum sock_role role,
    struct sock_addr *out, char *err, size_t errlen)
{
	SOCKADDR_HV *hv = (SOCKADDR_HV *)&out->ss;
	enum hv_vmid alias = ep->u.hv.alias;

	if (role == SOCK_ROLE_CONNECT &&
	    (alias == HV_VMID_WILDCARD || alias == HV_VMID_CHILDREN)) {
		snprintf(err, errlen,
		    "%s can only listen: a target needs a VmId ((Get-VM NAME).Id), or loopback, parent, silohost",
		    hv_vmid_name(alias));
		return -1;
	}
	hv->Family = AF_HYPERV;
	hv->Reserved = 0;
	to_windows_guid(&ep->u.hv.vmid, &hv->VmId);
	to_windows_guid(&ep->u.hv.service, &hv->ServiceId);
	out->len = (ev_socklen_t)sizeof(*hv);
	return 0;
}

int
sock_resolve(const struct endpoint *ep, enum sock_role role,
    struct sock_addr *out, char *err, size_t errlen)
{
	memset(out, 0, sizeof(*out));
	switch (ep->kind) {
	case ENDPOINT_TCP:
		return sock_resolve_tcp(ep, role, out, err, errlen);
	case ENDPOINT_UNIX:
		if (ep->u.local.abstract) {
			snprintf(err, errlen,
			    "Windows has no abstract socket names: use unix:C:/path/to/socket");
			return -1;
		}
		sock_resolve_unix(ep, out);
		return 0;
	case ENDPOINT_VSOCK:
		snprintf(err, errlen,
		    "Windows has no vsock: reach a VM with hvsock:VMID:PORT (the guest's vsock port PORT)");
		return -1;
	case ENDPOINT_HVSOCK:
		return resolve_hvsock(ep, role, out, err, errlen);
	}
	snprintf(err, errlen, "unknown endpoint kind");
	return -1;
}

/* Buffer sizes, and no Nagle delay on TCP: interactive protocols such as
 * ssh must not wait. Accepted sockets inherit both from their listener. */
static void
apply_options(evutil_socket_t fd, int family, const struct sock_options *opts)
{
	int size = (int)opts->buffer_size;
	BOOL one = TRUE;

	if (family == AF_INET || family == AF_INET6) {
		(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY,
		    (const char *)&one, sizeof(one));
	}
	if (opts->buffer_size == 0) {
		return;
	}
	(void)setsockopt(fd, SOL_SOCKET, SO_SNDBUF, (const char *)&size,
	    sizeof(size));
	(void)setsockopt(fd, SOL_SOCKET, SO_RCVBUF, (const char *)&size,
	    sizeof(size));
}

void
sock_apply_options(evutil_socket_t fd, const struct sock_options *opts)
{
	apply_options(fd, sock_family(fd), opts);
}

/* Hyper-V's own connect timeout backs up the relay's timer, and the
 * connection survives the VM being paused. */
static void
apply_hyperv_options(evutil_socket_t fd, const struct sock_options *opts)
{
	DWORD timeout = opts->connect_timeout_ms;
	DWORD suspend = 1;

	if (timeout == 0 || timeout > HV_CONNECT_TIMEOUT_MAX_MS) {
		timeout = HV_CONNECT_TIMEOUT_MAX_MS;
	}
	(void)setsockopt(fd, HV_PROTOCOL_RAW, HVSOCKET_CONNECT_TIMEOUT,
	    (const char *)&timeout, sizeof(timeout));
	(void)setsockopt(fd, HV_PROTOCOL_RAW, HVSOCKET_CONNECTED_SUSPEND,
	    (const char *)&suspend, sizeof(suspend));
}

static evutil_socket_t
new_socket(int family, const struct sock_options *opts, int *error)
{
	int protocol = family == AF_HYPERV ? HV_PROTOCOL_RAW : 0;
	SOCKET s = socket(family, SOCK_STREAM, protocol);

	if (s == INVALID_SOCKET) {
		*error = WSAGetLastError();
		/* Without AF_UNIX Windows gives the code of a missing AF_HYPERV:
		 * the protocol family's code keeps them apart. */
		if (family == AF_UNIX && *error == WSAEAFNOSUPPORT) {
			*error = WSAEPFNOSUPPORT;
		}
		return -1;
	}
	if (evutil_make_socket_nonblocking((evutil_socket_t)s) != 0) {
		*error = WSAGetLastError();
		closesocket(s);
		return -1;
	}
	apply_options((evutil_socket_t)s, family, opts);
	if (family == AF_HYPERV) {
		apply_hyperv_options((evutil_socket_t)s, opts);
	}
	return (evutil_socket_t)s;
}

/* A socket file left behind is removed unless someone listens on it. */
static int
clear_stale_unix_path(const struct sock_addr *addr, char *err, size_t errlen)
{
	const struct sockaddr_un *sun = (const struct sockaddr_un *)&addr->ss;
	SOCKET s;
	int rc;

	if (GetFileAttributesA(sun->sun_path) == INVALID_FILE_ATTRIBUTES) {
		return 0;
	}
	s = socket(AF_UNIX, SOCK_STREAM, 0);
	if (s == INVALID_SOCKET) {
		return 0;
	}
	rc = connect(s, (const struct sockaddr *)&addr->ss, addr->len);
	closesocket(s);
	if (rc == 0) {
		snprintf(err, errlen, "%s is in use by another process",
		    sun->sun_path);
		return -1;
	}
	(void)DeleteFileA(sun->sun_path);
	return 0;
}

evutil_socket_t
sock_listen(const struct sock_addr *addr, const struct sock_options *opts,
    char *err, size_t errlen)
{
	int family = sock_addr_family(addr);
	BOOL exclusive = TRUE;
	evutil_socket_t fd;
	int error = 0;

	if (sock_addr_is_unix_file(addr) &&
	    clear_stale_unix_path(addr, err, errlen) != 0) {
		return -1;
	}
	fd = new_socket(family, opts, &error);
	if (fd < 0) {
		snprintf(err, errlen, "socket: %s", sock_error_text(error));
		return -1;
	}
	/* Windows' SO_REUSEADDR would let another process steal the port. */
	if (family == AF_INET || family == AF_INET6) {
		(void)setsockopt(fd, SOL_SOCKET, SO_EXCLUSIVEADDRUSE,
		    (const char *)&exclusive, sizeof(exclusive));
	}
	if (bind(fd, (const struct sockaddr *)&addr->ss, addr->len) != 0 ||
	    listen(fd, SOMAXCONN) != 0) {
		snprintf(err, errlen, "bind: %s",
		    sock_error_text(WSAGetLastError()));
		closesocket(fd);
		return -1;
	}
	return fd;
}

void
sock_close_listener(evutil_socket_t fd, const struct sock_addr *addr)
{
	if (fd >= 0) {
		closesocket(fd);
	}
	if (sock_addr_is_unix_file(addr)) {
		(void)DeleteFileA(((const struct sockaddr_un *)&addr->ss)->sun_path);
	}
}

evutil_socket_t
sock_connect(const struct sock_addr *addr, const struct sock_options *opts,
    int *pending, int *error)
{
	evutil_socket_t fd = new_socket(sock_addr_family(addr), opts, error);

	*pending = 0;
	if (fd < 0) {
		return -1;
	}
	if (connect(fd, (const struct sockaddr *)&addr->ss, addr->len) == 0) {
		return fd;
	}
	*error = WSAGetLastError();
	if (*error == WSAEWOULDBLOCK) {
		*pending = 1;
		*error = 0;
		return fd;
	}
	closesocket(fd);
	return -1;
}

int
sock_connect_result(evutil_socket_t fd)
{
	int error = 0;
	int len = sizeof(error);

	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, (char *)&error, &len) != 0) {
		return WSAGetLastError();
	}
	return error;
}

uint64_t
sock_buffer_size(evutil_socket_t fd)
{
	int size = 0;
	int len = sizeof(size);

	if (getsockopt(fd, SOL_SOCKET, SO_RCVBUF, (char *)&size, &len) != 0) {
		return 0;
	}
	return (uint64_t)size;
}

int
sock_shutdown_write(evutil_socket_t fd)
{
	return shutdown(fd, SD_SEND);
}

void
sock_set_abortive(evutil_socket_t fd)
{
	struct linger lg = { 1, 0 };

	(void)setsockopt(fd, SOL_SOCKET, SO_LINGER, (const char *)&lg,
	    sizeof(lg));
}

void
sock_format_addr(const struct sockaddr *sa, ev_socklen_t len, char *out,
    size_t outlen)
{
	char vmid[GUID_TEXT_LEN + 1], service[GUID_TEXT_LEN + 1];
	struct guid g;

	(void)len;
	if (sock_format_ip(sa, out, outlen)) {
		return;
	}
	if (sa->sa_family == AF_HYPERV) {
		const SOCKADDR_HV *hv = (const SOCKADDR_HV *)sa;

		from_windows_guid(&hv->VmId, &g);
		guid_format(&g, vmid);
		from_windows_guid(&hv->ServiceId, &g);
		guid_format(&g, service);
		snprintf(out, outlen, "hvsock:%s:%s", vmid, service);
	} else if (sa->sa_family == AF_UNIX) {
		snprintf(out, outlen, "unix");
	} else {
		snprintf(out, outlen, "family-%d", sa->sa_family);
	}
}

void
sock_peer_identity(const struct sockaddr *sa, struct peer_id *out)
{
	memset(out, 0, sizeof(*out));
	out->kind = PEER_OTHER;
	if (!sock_identify_ip(sa, out) && sa->sa_family == AF_HYPERV) {
		out->kind = PEER_HYPERV;
		from_windows_guid(&((const SOCKADDR_HV *)sa)->VmId, &out->vmid);
	}
}

static long
io_result(int n, int *error)
{
	if (n != SOCKET_ERROR) {
		return n;
	}
	*error = WSAGetLastError();
	if (*error == WSAEWOULDBLOCK || *error == WSAEINTR) {
		*error = 0;
	}
	return -1;
}

long
sock_recv(evutil_socket_t fd, void *buf, size_t len, int *error)
{
	return io_result(recv(fd, buf, (int)len, 0), error);
}

long
sock_send(evutil_socket_t fd, const void *buf, size_t len, int *error)
{
	return io_result(send(fd, buf, (int)len, 0), error);
}

struct sock_pipe *
sock_pipe_get(void)
{
	return NULL;
}

void
sock_pipe_put(struct sock_pipe *p)
{
	(void)p;
}

void
sock_pipe_discard(struct sock_pipe *p)
{
	(void)p;
}

long
sock_splice_in(evutil_socket_t fd, struct sock_pipe *p, size_t len,
    int *error)
{
	(void)fd;
	(void)p;
	(void)len;
	*error = SOCK_NO_SPLICE;
	return -1;
}

long
sock_splice_out(struct sock_pipe *p, evutil_socket_t fd, size_t len,
    int *error)
{
	(void)fd;
	(void)p;
	(void)len;
	*error = SOCK_NO_SPLICE;
	return -1;
}

int
sock_last_error(void)
{
	return WSAGetLastError();
}

/* What an administrator can act on, for the errors Hyper-V sockets give;
 * the system's own text for the rest. */
const char *
sock_error_text(int error)
{
	static char text[256];
	DWORD n;

	switch (error) {
	case WSAEAFNOSUPPORT:
		return "Hyper-V sockets are not available: Windows 10 1607+ / Server 2016+ with Hyper-V enabled";
	case WSAEPFNOSUPPORT:
		return "Unix sockets (AF_UNIX) are not available: they need Windows 10 1803+ / Server 2019+";
	case WSAEACCES:
		return "access denied: register the service GUID on this host (hvrelay register, elevated) or check who may use it";
	case WSAECONNREFUSED:
		return "connection refused: nothing listens on that service in the VM";
	case WSAETIMEDOUT:
		return "timed out: the VM does not answer (not running, or no listener yet)";
	case WSAENETUNREACH:
		return "network unreachable: the VM is not running, or the VmId is wrong";
	default:
		break;
	}
	n = FormatMessageA(FORMAT_MESSAGE_FROM_SYSTEM |
	    FORMAT_MESSAGE_IGNORE_INSERTS, NULL, (DWORD)error, 0, text,
	    sizeof(text), NULL);
	while (n > 0 && (text[n - 1] == '\n' || text[n - 1] == '\r' ||
	    text[n - 1] == '.')) {
		text[--n] = '\0';
	}
	if (n == 0) {
		snprintf(text, sizeof(text), "error %d", error);
	}
	return text;
}

int
sock_error_is_reset(int error)
{
	return error == WSAECONNRESET || error == WSAECONNABORTED;
}

int
sock_error_is_refusal(int error)
{
	return error == WSAECONNREFUSED;
}

int
sock_error_is_permanent(int error)
{
	return error == WSAEAFNOSUPPORT || error == WSAEPFNOSUPPORT ||
	    error == WSAEPROTONOSUPPORT;
}

int
sock_error_is_exhaustion(int error)
{
	return error == WSAEMFILE || error == WSAENOBUFS;
}

uint64_t
sock_monotonic_ms(void)
{
	return GetTickCount64();
}
