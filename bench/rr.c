/*
 * rr: the request/response helper of the hvrelay benchmark (bench/run.sh).
 *
 *   rr echo PORT
 *       Echo server on 127.0.0.1:PORT: one thread, epoll, any number of
 *       connections (up to ulimit -n). Runs until SIGTERM/SIGINT.
 *   rr latency HOST PORT SIZE COUNT
 *       One connection, COUNT round trips of SIZE bytes (after a warm-up);
 *       prints "p50_us=.. p99_us=.. mean_us=.. count=..".
 *   rr connrate HOST PORT WORKERS SECONDS
 *       WORKERS threads, each connecting, sending 1 byte, reading it back and
 *       closing, in a loop for SECONDS; prints "conns=.. errors=.. seconds=..
 *       rate=..".
 *   rr hold HOST PORT COUNT SECONDS [SETUP_SECONDS]
 *       Opens COUNT connections (fewer if SETUP_SECONDS run out first), one
 *       1-byte round trip on each, prints "ready HELD SETUP_S" and keeps
 *       them open, idle, until SIGTERM or SECONDS.
 *
 * Clients connecting to an IPv4 loopback address spread their source
 * addresses over 127.1.0.0/16 so that TIME_WAIT on the client side never
 * runs short of ephemeral ports. Every wait is bounded in time.
 */
#define _GNU_SOURCE

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#define ECHO_BUF_SIZE (64 * 1024)
#define MAX_EVENTS 256
#define IO_TIMEOUT_S 5
#define WARMUP_ROUNDS 200
#define MAX_PAYLOAD (1024 * 1024)

static volatile sig_atomic_t stop_requested;

struct target {
	struct sockaddr_storage addr;
	socklen_t addr_len;
	int spread_source; /* bind 127.1.x.y before connecting */
};

struct echo_conn {
	int fd;
	char *pending; /* bytes read but not yet written back */
	size_t pending_len;
	size_t pending_off;
};

struct worker {
	pthread_t thread;
	const struct target *target;
	unsigned id;
	double deadline;
	uint64_t conns;
	uint64_t errors;
	int last_errno;
};

static void
on_stop_signal(int sig)
{
	(void)sig;
	stop_requested = 1;
}

static void
install_stop_handlers(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_stop_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGALRM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
}

static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static uint64_t
now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static long
parse_long(const char *text, long min, long max, const char *what)
{
	char *end = NULL;
	long value;

	errno = 0;
	value = strtol(text, &end, 10);
	if (errno != 0 || end == text || *end != '\0' || value < min ||
	    value > max) {
		fprintf(stderr, "rr: bad %s '%s' (%ld..%ld)\n", what, text, min,
		    max);
		exit(2);
	}
	return value;
}

static void
resolve_target(const char *host, const char *port, struct target *t)
{
	struct addrinfo hints;
	struct addrinfo *res = NULL;
	int rc;

	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV;
	rc = getaddrinfo(host, port, &hints, &res);
	if (rc != 0) {
		fprintf(stderr, "rr: %s:%s: %s\n", host, port, gai_strerror(rc));
		exit(2);
	}
	memset(t, 0, sizeof(*t));
	memcpy(&t->addr, res->ai_addr, res->ai_addrlen);
	t->addr_len = res->ai_addrlen;
	if (res->ai_family == AF_INET) {
		const struct sockaddr_in *sin =
		    (const struct sockaddr_in *)res->ai_addr;
		t->spread_source =
		    (ntohl(sin->sin_addr.s_addr) >> 24) == 127;
	}
	freeaddrinfo(res);
}

static void
set_io_timeouts(int fd, int seconds)
{
	struct timeval tv;

	tv.tv_sec = seconds;
	tv.tv_usec = 0;
	(void)setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	(void)setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
}

/* A blocking, connected socket with TCP_NODELAY, or -1 with errno set.
 * seq picks the source address when the target is IPv4 loopback. */
static int
connect_target(const struct target *t, unsigned seq)
{
	int fd;
	int one = 1;

	fd = socket(t->addr.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		return -1;
	}
	set_io_timeouts(fd, IO_TIMEOUT_S);
	(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (t->spread_source) {
		struct sockaddr_in src;

		memset(&src, 0, sizeof(src));
		src.sin_family = AF_INET;
		/* 127.1.0.1 .. 127.1.15.254: 4064 source addresses. */
		src.sin_addr.s_addr = htonl(0x7f010000u |
		    ((seq / 254u) % 16u) << 8 | (seq % 254u + 1u));
		(void)setsockopt(fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one,
		    sizeof(one));
		if (bind(fd, (struct sockaddr *)&src, sizeof(src)) != 0) {
			int saved = errno;
			close(fd);
			errno = saved;
			return -1;
		}
	}
	if (connect(fd, (const struct sockaddr *)&t->addr, t->addr_len) != 0) {
		int saved = errno;
		close(fd);
		errno = saved;
		return -1;
	}
	return fd;
}

static int
write_all(int fd, const char *buf, size_t len)
{
	size_t done = 0;

	while (done < len) {
		ssize_t n = write(fd, buf + done, len - done);
		if (n < 0) {
			if (errno == EINTR && !stop_requested) {
				continue;
			}
			return -1;
		}
		done += (size_t)n;
	}
	return 0;
}

/* 0 once len bytes are read, -1 on error, EOF (errno 0) or timeout. */
static int
read_all(int fd, char *buf, size_t len)
{
	size_t done = 0;

	while (done < len) {
		ssize_t n = read(fd, buf + done, len - done);
		if (n == 0) {
			errno = 0;
			return -1;
		}
		if (n < 0) {
			if (errno == EINTR && !stop_requested) {
				continue;
			}
			return -1;
		}
		done += (size_t)n;
	}
	return 0;
}

static int
round_trip(int fd, char *out, char *in, size_t len)
{
	if (write_all(fd, out, len) != 0) {
		return -1;
	}
	return read_all(fd, in, len);
}

/* ---- echo server ------------------------------------------------------ */

static int
listen_loopback(int port)
{
	struct sockaddr_in sin;
	int fd;
	int one = 1;

	fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		perror("rr: socket");
		exit(1);
	}
	(void)setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons((uint16_t)port);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (bind(fd, (struct sockaddr *)&sin, sizeof(sin)) != 0) {
		perror("rr: bind");
		exit(1);
	}
	if (listen(fd, 4096) != 0) {
		perror("rr: listen");
		exit(1);
	}
	return fd;
}

static void
echo_close(int ep, struct echo_conn *c)
{
	(void)epoll_ctl(ep, EPOLL_CTL_DEL, c->fd, NULL);
	close(c->fd);
	free(c->pending);
	free(c);
}

static void
echo_watch(int ep, struct echo_conn *c, uint32_t events)
{
	struct epoll_event ev;

	memset(&ev, 0, sizeof(ev));
	ev.events = events;
	ev.data.ptr = c;
	(void)epoll_ctl(ep, EPOLL_CTL_MOD, c->fd, &ev);
}

/* Writes what is pending; 0 when all of it is gone, 1 when the socket is
 * full, -1 on error. */
static int
echo_flush(struct echo_conn *c)
{
	while (c->pending_off < c->pending_len) {
		ssize_t n = write(c->fd, c->pending + c->pending_off,
		    c->pending_len - c->pending_off);
		if (n < 0) {
			if (errno == EINTR) {
				continue;
			}
			if (errno == EAGAIN || errno == EWOULDBLOCK) {
				return 1;
			}
			return -1;
		}
		c->pending_off += (size_t)n;
	}
	free(c->pending);
	c->pending = NULL;
	c->pending_len = 0;
	c->pending_off = 0;
	return 0;
}

static void
echo_readable(int ep, struct echo_conn *c, char *buf)
{
	for (;;) {
		ssize_t n = read(c->fd, buf, ECHO_BUF_SIZE);
		ssize_t w;

		if (n == 0) {
			echo_close(ep, c);
			return;
		}
		if (n < 0) {
			if (errno == EINTR) {
				continue;
			}
			if (errno != EAGAIN && errno != EWOULDBLOCK) {
				echo_close(ep, c);
			}
			return;
		}
		w = write(c->fd, buf, (size_t)n);
		if (w < 0 && errno != EAGAIN && errno != EWOULDBLOCK) {
			echo_close(ep, c);
			return;
		}
		if (w < 0) {
			w = 0;
		}
		if (w < n) {
			/* The peer is not reading: keep the rest, stop reading. */
			c->pending_len = (size_t)(n - w);
			c->pending_off = 0;
			c->pending = malloc(c->pending_len);
			if (c->pending == NULL) {
				echo_close(ep, c);
				return;
			}
			memcpy(c->pending, buf + w, c->pending_len);
			echo_watch(ep, c, EPOLLOUT);
			return;
		}
		if (n < ECHO_BUF_SIZE) {
			return;
		}
	}
}

static void
echo_accept(int ep, int lfd)
{
	static int reported_emfile;

	for (;;) {
		struct epoll_event ev;
		struct echo_conn *c;
		int one = 1;
		int fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);

		if (fd < 0) {
			if (errno == EINTR || errno == ECONNABORTED) {
				continue;
			}
			if ((errno == EMFILE || errno == ENFILE) &&
			    !reported_emfile) {
				reported_emfile = 1;
				perror("rr echo: accept");
			}
			return;
		}
		(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one,
		    sizeof(one));
		c = calloc(1, sizeof(*c));
		if (c == NULL) {
			close(fd);
			return;
		}
		c->fd = fd;
		memset(&ev, 0, sizeof(ev));
		ev.events = EPOLLIN;
		ev.data.ptr = c;
		if (epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev) != 0) {
			close(fd);
			free(c);
		}
	}
}

static int
run_echo(int port)
{
	struct epoll_event events[MAX_EVENTS];
	struct epoll_event ev;
	char *buf = malloc(ECHO_BUF_SIZE);
	int lfd = listen_loopback(port);
	int ep = epoll_create1(EPOLL_CLOEXEC);

	if (buf == NULL || ep < 0) {
		perror("rr echo");
		return 1;
	}
	memset(&ev, 0, sizeof(ev));
	ev.events = EPOLLIN;
	ev.data.ptr = NULL; /* the listener */
	if (epoll_ctl(ep, EPOLL_CTL_ADD, lfd, &ev) != 0) {
		perror("rr echo: epoll_ctl");
		return 1;
	}
	while (!stop_requested) {
		int n = epoll_wait(ep, events, MAX_EVENTS, 500);

		for (int i = 0; i < n; i++) {
			struct echo_conn *c = events[i].data.ptr;

			if (c == NULL) {
				echo_accept(ep, lfd);
				continue;
			}
			if (c->pending != NULL) {
				int rc = echo_flush(c);

				if (rc < 0) {
					echo_close(ep, c);
				} else if (rc == 0) {
					echo_watch(ep, c, EPOLLIN);
				}
				continue;
			}
			echo_readable(ep, c, buf);
		}
	}
	free(buf);
	return 0;
}

/* ---- latency ---------------------------------------------------------- */

static int
compare_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a;
	uint64_t y = *(const uint64_t *)b;

	if (x < y) {
		return -1;
	}
	if (x > y) {
		return 1;
	}
	return 0;
}

static double
percentile_us(const uint64_t *sorted, size_t count, unsigned pct)
{
	size_t index = (count * pct) / 100;

	if (index >= count) {
		index = count - 1;
	}
	return (double)sorted[index] / 1000.0;
}

static int
run_latency(const struct target *t, size_t size, size_t count)
{
	char *out = malloc(size);
	char *in = malloc(size);
	uint64_t *samples = calloc(count, sizeof(*samples));
	uint64_t total = 0;
	int fd;

	if (out == NULL || in == NULL || samples == NULL) {
		fprintf(stderr, "rr latency: out of memory\n");
		return 1;
	}
	memset(out, 'x', size);
	fd = connect_target(t, 0);
	if (fd < 0) {
		perror("rr latency: connect");
		return 1;
	}
	for (size_t i = 0; i < WARMUP_ROUNDS; i++) {
		if (round_trip(fd, out, in, size) != 0) {
			perror("rr latency: warm-up round trip");
			return 1;
		}
	}
	for (size_t i = 0; i < count; i++) {
		uint64_t start = now_ns();

		if (round_trip(fd, out, in, size) != 0) {
			fprintf(stderr, "rr latency: round trip %zu: %s\n", i,
			    errno != 0 ? strerror(errno) : "EOF");
			return 1;
		}
		samples[i] = now_ns() - start;
		total += samples[i];
		if (stop_requested) {
			return 1;
		}
	}
	close(fd);
	qsort(samples, count, sizeof(*samples), compare_u64);
	printf("p50_us=%.1f p99_us=%.1f mean_us=%.1f count=%zu\n",
	    percentile_us(samples, count, 50), percentile_us(samples, count, 99),
	    (double)total / (double)count / 1000.0, count);
	free(samples);
	free(in);
	free(out);
	return 0;
}

/* ---- connection rate -------------------------------------------------- */

static void *
connrate_worker(void *arg)
{
	struct worker *w = arg;
	unsigned seq = w->id * 1000u;
	char out = 'x';
	char in = 0;

	while (!stop_requested && now_s() < w->deadline) {
		int fd = connect_target(w->target, seq++);

		if (fd < 0) {
			w->errors++;
			w->last_errno = errno;
			usleep(1000); /* no busy spin on a refusing target */
			continue;
		}
		if (round_trip(fd, &out, &in, 1) != 0) {
			w->errors++;
			w->last_errno = errno;
		} else {
			w->conns++;
		}
		close(fd);
	}
	return NULL;
}

static int
run_connrate(const struct target *t, unsigned workers, double seconds)
{
	struct worker *ws = calloc(workers, sizeof(*ws));
	uint64_t conns = 0;
	uint64_t errors = 0;
	int last_errno = 0;
	double start;
	double elapsed;

	if (ws == NULL) {
		fprintf(stderr, "rr connrate: out of memory\n");
		return 1;
	}
	start = now_s();
	for (unsigned i = 0; i < workers; i++) {
		ws[i].target = t;
		ws[i].id = i;
		ws[i].deadline = start + seconds;
		if (pthread_create(&ws[i].thread, NULL, connrate_worker,
		    &ws[i]) != 0) {
			fprintf(stderr, "rr connrate: cannot start a thread\n");
			return 1;
		}
	}
	for (unsigned i = 0; i < workers; i++) {
		pthread_join(ws[i].thread, NULL);
		conns += ws[i].conns;
		errors += ws[i].errors;
		if (ws[i].last_errno != 0) {
			last_errno = ws[i].last_errno;
		}
	}
	elapsed = now_s() - start;
	printf("conns=%llu errors=%llu seconds=%.3f rate=%.0f last_error=\"%s\"\n",
	    (unsigned long long)conns, (unsigned long long)errors, elapsed,
	    (double)conns / elapsed,
	    last_errno != 0 ? strerror(last_errno) : "");
	free(ws);
	return 0;
}

/* ---- hold idle connections -------------------------------------------- */

static int
run_hold(const struct target *t, size_t count, unsigned seconds,
    unsigned setup_seconds)
{
	int *fds = calloc(count, sizeof(*fds));
	char out = 'x';
	char in = 0;
	double start = now_s();
	size_t held = 0;

	if (fds == NULL) {
		fprintf(stderr, "rr hold: out of memory\n");
		return 1;
	}
	alarm(seconds);
	for (size_t i = 0; i < count; i++) {
		if (now_s() - start >= (double)setup_seconds) {
			break;
		}
		fds[i] = connect_target(t, (unsigned)i);
		if (fds[i] < 0) {
			fprintf(stderr, "rr hold: connection %zu: connect: %s\n",
			    i, strerror(errno));
			return 1;
		}
		if (round_trip(fds[i], &out, &in, 1) != 0) {
			fprintf(stderr, "rr hold: connection %zu: %s\n", i,
			    errno != 0 ? strerror(errno) : "EOF");
			return 1;
		}
		held = i + 1;
		if (stop_requested) {
			return 1;
		}
	}
	printf("ready %zu %.3f\n", held, now_s() - start);
	fflush(stdout);
	while (!stop_requested) {
		pause();
	}
	for (size_t i = 0; i < held; i++) {
		close(fds[i]);
	}
	free(fds);
	return 0;
}

static void
usage(void)
{
	fprintf(stderr,
	    "usage: rr echo PORT\n"
	    "       rr latency HOST PORT SIZE COUNT\n"
	    "       rr connrate HOST PORT WORKERS SECONDS\n"
	    "       rr hold HOST PORT COUNT SECONDS [SETUP_SECONDS]\n");
	exit(2);
}

int
main(int argc, char **argv)
{
	struct target t;

	setvbuf(stdout, NULL, _IOLBF, 0);
	install_stop_handlers();
	if (argc == 3 && strcmp(argv[1], "echo") == 0) {
		return run_echo((int)parse_long(argv[2], 1, 65535, "port"));
	}
	if (argc == 7 && strcmp(argv[1], "hold") == 0) {
		resolve_target(argv[2], argv[3], &t);
		return run_hold(&t,
		    (size_t)parse_long(argv[4], 1, 100000, "count"),
		    (unsigned)parse_long(argv[5], 1, 86400, "seconds"),
		    (unsigned)parse_long(argv[6], 1, 86400, "setup seconds"));
	}
	if (argc != 6) {
		usage();
	}
	resolve_target(argv[2], argv[3], &t);
	if (strcmp(argv[1], "latency") == 0) {
		return run_latency(&t,
		    (size_t)parse_long(argv[4], 1, MAX_PAYLOAD, "size"),
		    (size_t)parse_long(argv[5], 1, 10000000, "count"));
	}
	if (strcmp(argv[1], "connrate") == 0) {
		return run_connrate(&t,
		    (unsigned)parse_long(argv[4], 1, 256, "workers"),
		    (double)parse_long(argv[5], 1, 3600, "seconds"));
	}
	if (strcmp(argv[1], "hold") == 0) {
		unsigned seconds =
		    (unsigned)parse_long(argv[5], 1, 86400, "seconds");

		return run_hold(&t,
		    (size_t)parse_long(argv[4], 1, 100000, "count"), seconds,
		    seconds);
	}
	usage();
	return 2;
}
