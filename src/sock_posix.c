/* POSIX socket backend: TCP, Unix and AF_VSOCK (hvsock: maps onto vsock). */
#include "autoconfig.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sys/resource.h>
#include <sys/stat.h>


#include "sock.h"
#include "sock_common.h"
#include "sock_system.h"

int
sock_platform_init(char *err, size_t errlen)
{
	struct rlimit rl;

	if (signal(SIGPIPE, SIG_IGN) == SIG_ERR) {
		snprintf(err, errlen, "cannot ignore SIGPIPE: %s",
		    strerror(errno));
		return -1;
	}
	/* Two descriptors per connection: take every one we are allowed. */
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		(void)setrlimit(RLIMIT_NOFILE, &rl);
	}
	return 0;
}

uint64_t
sock_descriptor_limit(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) != 0 || rl.rlim_cur == RLIM_INFINITY) {
		return UINT64_MAX;
	}
	return (uint64_t)rl.rlim_cur;
}

static void
fill_vsock(struct sock_addr *out, uint32_t cid, uint32_t port)
{
	struct sockaddr_vm *svm = (struct sockaddr_vm *)&out->ss;

	svm->svm_family = AF_VSOCK;
	svm->svm_cid = cid;
	svm->svm_port = port;
	out->len = (ev_socklen_t)sizeof(*svm);
}

static int
resolve_vsock(const struct endpoint *ep, enum sock_role role,
    struct sock_addr *out, char *err, size_t errlen)
{
	if (role == SOCK_ROLE_CONNECT && ep->u.vsock.cid == VSOCK_CID_ANY) {
		snprintf(err, errlen,
		    "a target needs a CID: 'any' only makes sense for a listener");
		return -1;
	}
	fill_vsock(out, ep->u.vsock.cid, ep->u.vsock.port);
	return 0;
}

/* A well-known VmId may also be written out as its GUID. */
static enum hv_vmid
canonical_vmid(const struct endpoint *ep)
{
	enum hv_vmid alias;

	if (ep->u.hv.alias != HV_VMID_GUID) {
		return ep->u.hv.alias;
	}
	for (alias = HV_VMID_WILDCARD; alias <= HV_VMID_SILOHOST; alias++) {
		if (guid_equal(&ep->u.hv.vmid, hv_vmid_guid(alias))) {
			return alias;
		}
	}
	return HV_VMID_GUID;
}

static int
hvsock_cid(const struct endpoint *ep, enum sock_role role, uint32_t *cid,
    char *err, size_t errlen)
{
	enum hv_vmid alias = canonical_vmid(ep);

	if (alias == HV_VMID_PARENT) {
		*cid = VSOCK_CID_HOST;
	} else if (alias == HV_VMID_LOOPBACK) {
		*cid = VSOCK_CID_LOCAL;
	} else if ((alias == HV_VMID_WILDCARD || alias == HV_VMID_CHILDREN) &&
	    role == SOCK_ROLE_LISTEN) {
		*cid = VSOCK_CID_ANY;
	} else if (alias == HV_VMID_WILDCARD || alias == HV_VMID_CHILDREN) {
		snprintf(err, errlen,
		    "%s can only listen on Linux: a target is 'parent' (the host) or 'loopback'",
		    hv_vmid_name(alias));
		return -1;
	} else {
		snprintf(err, errlen,
		    "a Linux guest only reaches its host: use hvsock:parent:SERVICE to connect, hvsock:wildcard:SERVICE to listen");
		return -1;
	}
	return 0;
}

static int
resolve_hvsock(const struct endpoint *ep, enum sock_role role,
    struct sock_addr *out, char *err, size_t errlen)
{
	uint32_t cid = 0, port = 0;

	if (hvsock_cid(ep, role, &cid, err, errlen) != 0) {
		return -1;
	}
	if (guid_to_port(&ep->u.hv.service, &port) != 0) {
		snprintf(err, errlen,
		    "on Linux SERVICE must be a port or a template GUID PORT-facb-11e6-bd58-64006a7986d3 (port in hex)");
		return -1;
	}
	fill_vsock(out, cid, port);
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
		sock_resolve_unix(ep, out);
		return 0;
	case ENDPOINT_VSOCK:
		return resolve_vsock(ep, role, out, err, errlen);
	case ENDPOINT_HVSOCK:
		return resolve_hvsock(ep, role, out, err, errlen);
	}
	snprintf(err, errlen, "unknown endpoint kind");
	return -1;
}

/* Buffer sizes (vsock has its own options for them), and no Nagle delay
 * on TCP: interactive protocols such as ssh must not wait. Accepted
 * sockets inherit all of it from their listener. */
static void
apply_options(int fd, int family, const struct sock_options *opts)
{
	unsigned long long vsize = opts->buffer_size;
	int size = (int)opts->buffer_size;
	int one = 1;

	if (family == AF_INET || family == AF_INET6) {
		(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one,
		    sizeof(one));
	}
	if (opts->buffer_size == 0) {
		return;
	}
	if (family == AF_VSOCK) {
		(void)setsockopt(fd, AF_VSOCK, SO_VM_SOCKETS_BUFFER_MAX_SIZE,
		    &vsize, sizeof(vsize));
		(void)setsockopt(fd, AF_VSOCK, SO_VM_SOCKETS_BUFFER_SIZE,
		    &vsize, sizeof(vsize));
	}
	(void)setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &size, sizeof(size));
	(void)setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof(size));
}

void
sock_apply_options(evutil_socket_t fd, const struct sock_options *opts)
{
	apply_options(fd, sock_family(fd), opts);
}

static int
new_socket(int family)
{
	return socket(family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
}

/* A leftover socket file nobody listens on is removed; anything else at
 * that path is left alone and reported. */
static int
clear_stale_unix_path(const struct sock_addr *addr, char *err, size_t errlen)
{
	const struct sockaddr_un *sun = (const struct sockaddr_un *)&addr->ss;
	struct stat st;
	int fd, rc;

	if (lstat(sun->sun_path, &st) != 0) {
		return 0;
	}
	if (!S_ISSOCK(st.st_mode)) {
		snprintf(err, errlen, "%s exists and is not a socket",
		    sun->sun_path);
		return -1;
	}
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		return 0;
	}
	rc = connect(fd, (const struct sockaddr *)&addr->ss, addr->len);
	close(fd);
	if (rc == 0) {
		snprintf(err, errlen, "%s is in use by another process",
		    sun->sun_path);
		return -1;
	}
	(void)unlink(sun->sun_path);
	return 0;
}

/* For an owner-only Unix socket, the file is created with no access for
 * anyone else (no window in which it is open), in a directory made for it
 * if there is none. */
static int
bind_socket(int fd, const struct sock_addr *addr, int owner_only)
{
	const struct sockaddr_un *sun = (const struct sockaddr_un *)&addr->ss;
	char dir[sizeof(sun->sun_path)];
	char *slash = NULL;
	mode_t old_mask;
	int rc;

	if (!owner_only || !sock_addr_is_unix_file(addr)) {
		return bind(fd, (const struct sockaddr *)&addr->ss, addr->len);
	}
	snprintf(dir, sizeof(dir), "%s", sun->sun_path);
	slash = strrchr(dir, '/');
	if (slash != NULL && slash != dir) {
		*slash = '\0';
		(void)mkdir(dir, 0700);
	}
	old_mask = umask(077);
	rc = bind(fd, (const struct sockaddr *)&addr->ss, addr->len);
	umask(old_mask);
	return rc;
}

evutil_socket_t
sock_listen(const struct sock_addr *addr, const struct sock_options *opts,
    char *err, size_t errlen)
{
	int family = sock_addr_family(addr);
	int one = 1;
	int fd;

	if (sock_addr_is_unix_file(addr) && clear_stale_unix_path(addr, err, errlen) != 0) {
		return -1;
	}
	fd = new_socket(family);
	if (fd < 0) {
		snprintf(err, errlen, "socket: %s", strerror(errno));
		return -1;
	}
	if (family == AF_INET || family == AF_INET6) {
		(void)setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one,
		    sizeof(one));
	}
	apply_options(fd, family, opts);
	if (bind_socket(fd, addr, opts->owner_only) != 0) {
		snprintf(err, errlen, "bind: %s", strerror(errno));
		goto fail;
	}
	if (listen(fd, SOMAXCONN) != 0) {
		snprintf(err, errlen, "listen: %s", strerror(errno));
		goto fail;
	}
	return fd;
fail:
	close(fd);
	return -1;
}

void
sock_close_listener(evutil_socket_t fd, const struct sock_addr *addr)
{
	if (fd >= 0) {
		close(fd);
	}
	if (sock_addr_is_unix_file(addr)) {
		(void)unlink(((const struct sockaddr_un *)&addr->ss)->sun_path);
	}
}

/* What a failed connect means. vsock answers a connect to a port nobody
 * listens on with a reset, which for a connection not yet made is a
 * refusal. */
static int
connect_error(int error)
{
	return error == ECONNRESET ? ECONNREFUSED : error;
}

evutil_socket_t
sock_connect(const struct sock_addr *addr, const struct sock_options *opts,
    int *pending, int *error)
{
	int family = sock_addr_family(addr);
	int fd;

	*pending = 0;
	fd = new_socket(family);
	if (fd < 0) {
		*error = errno;
		return -1;
	}
	apply_options(fd, family, opts);
	if (connect(fd, (const struct sockaddr *)&addr->ss, addr->len) == 0) {
		return fd;
	}
	/* Only EINPROGRESS means "in progress": a Unix socket answers EAGAIN
	 * when the listener's backlog is full, which is a failed attempt. */
	if (errno == EINPROGRESS) {
		*pending = 1;
		return fd;
	}
	*error = connect_error(errno);
	close(fd);
	return -1;
}

int
sock_connect_result(evutil_socket_t fd)
{
	int error = 0;
	socklen_t len = sizeof(error);

	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &len) != 0) {
		return errno;
	}
	return connect_error(error);
}

uint64_t
sock_buffer_size(evutil_socket_t fd)
{
	socklen_t len = 0;
	unsigned long long vsize = 0;
	int size = 0;

	if (sock_family(fd) == AF_VSOCK) {
		len = sizeof(vsize);
		if (getsockopt(fd, AF_VSOCK, SO_VM_SOCKETS_BUFFER_SIZE, &vsize,
		    &len) == 0) {
			return vsize;
		}
	}
	len = sizeof(size);
	if (getsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, &len) != 0) {
		return 0;
	}
	return (uint64_t)size;
}

int
sock_shutdown_write(evutil_socket_t fd)
{
	return shutdown(fd, SHUT_WR);
}

void
sock_set_abortive(evutil_socket_t fd)
{
	struct linger lg = { 1, 0 };

	(void)setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
}

void
sock_format_addr(const struct sockaddr *sa, ev_socklen_t len, char *out,
    size_t outlen)
{
	(void)len;
	if (sock_format_ip(sa, out, outlen)) {
		return;
	}
	if (sa->sa_family == AF_VSOCK) {
		const struct sockaddr_vm *svm = (const struct sockaddr_vm *)sa;

		snprintf(out, outlen, "vsock:%u:%u", svm->svm_cid,
		    svm->svm_port);
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
	if (!sock_identify_ip(sa, out) && sa->sa_family == AF_VSOCK) {
		out->kind = PEER_VSOCK;
		out->cid = ((const struct sockaddr_vm *)sa)->svm_cid;
	}
}

/* Both directions of a call: would-block becomes 0, the rest the errno. */
static long
io_result(ssize_t n, int *error)
{
	if (n >= 0) {
		return (long)n;
	}
	*error = errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR ?
	    0 : errno;
	return -1;
}

long
sock_recv(evutil_socket_t fd, void *buf, size_t len, int *error)
{
	return io_result(recv(fd, buf, len, 0), error);
}

long
sock_send(evutil_socket_t fd, const void *buf, size_t len, int *error)
{
	return io_result(send(fd, buf, len, MSG_NOSIGNAL), error);
}

/* Large enough to move a burst in one call; memory is only taken by the
 * bytes actually in flight. */
#define PIPE_CAPACITY (1024 * 1024)
/* Idle pipes kept for reuse: a pipe is only held while its bytes wait for
 * a slow receiver, so few are ever out at once. */
#define PIPE_POOL_MAX 32

struct sock_pipe {
	int rd;
	int wr;
};

static struct sock_pipe *pipe_pool[PIPE_POOL_MAX];
static size_t pipe_pool_len;

struct sock_pipe *
sock_pipe_get(void)
{
	struct sock_pipe *p = NULL;
	int fds[2];

	if (pipe_pool_len > 0) {
		return pipe_pool[--pipe_pool_len];
	}
	if (pipe2(fds, O_NONBLOCK | O_CLOEXEC) != 0) {
		return NULL;
	}
	(void)fcntl(fds[1], F_SETPIPE_SZ, PIPE_CAPACITY);
	p = malloc(sizeof(*p));
	if (p == NULL) {
		close(fds[0]);
		close(fds[1]);
		return NULL;
	}
	p->rd = fds[0];
	p->wr = fds[1];
	return p;
}

void
sock_pipe_discard(struct sock_pipe *p)
{
	if (p == NULL) {
		return;
	}
	close(p->rd);
	close(p->wr);
	free(p);
}

void
sock_pipe_put(struct sock_pipe *p)
{
	if (pipe_pool_len < PIPE_POOL_MAX) {
		pipe_pool[pipe_pool_len++] = p;
	} else {
		sock_pipe_discard(p);
	}
}

long
sock_splice_in(evutil_socket_t fd, struct sock_pipe *p, size_t len,
    int *error)
{
	ssize_t n = splice(fd, NULL, p->wr, NULL, len,
	    SPLICE_F_MOVE | SPLICE_F_NONBLOCK);

	/* Nothing was consumed: the caller can still read the bytes. */
	if (n < 0 && (errno == EINVAL || errno == ENOSYS)) {
		*error = SOCK_NO_SPLICE;
		return -1;
	}
	return io_result(n, error);
}

long
sock_splice_out(struct sock_pipe *p, evutil_socket_t fd, size_t len,
    int *error)
{
	return io_result(splice(p->rd, NULL, fd, NULL, len,
	    SPLICE_F_MOVE | SPLICE_F_NONBLOCK), error);
}

int
sock_last_error(void)
{
	return errno;
}

const char *
sock_error_text(int error)
{
	/* Only vsock's connect fails with ENODEV, whose own text says little. */
	if (error == ENODEV) {
		return "No such device: no vsock transport reaches that CID";
	}
	return strerror(error);
}

int
sock_error_is_reset(int error)
{
	return error == ECONNRESET || error == EPIPE;
}

int
sock_error_is_refusal(int error)
{
	return error == ECONNREFUSED || error == ENOENT;
}

int
sock_error_is_permanent(int error)
{
	return error == EAFNOSUPPORT || error == EPROTONOSUPPORT ||
	    error == ENODEV;
}

int
sock_error_is_exhaustion(int error)
{
	return error == EMFILE || error == ENFILE || error == ENOBUFS ||
	    error == ENOMEM;
}

uint64_t
sock_monotonic_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}
