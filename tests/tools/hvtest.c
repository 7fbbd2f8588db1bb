/*
 * hvtest - traffic generator and integrity checker for the hvrelay tests.
 *
 * Every connection sends a deterministic stream and reads everything the peer
 * sends, both directions at once.  The stream for SEED is the sequence of
 * splitmix64 outputs (state starts at SEED) stored little-endian; digests are
 * 64-bit FNV-1a.  Scripts therefore compare both ends by digest alone, and
 * `hvtest digest` tells them what a given stream prefix should hash to.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <poll.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <linux/vm_sockets.h>

#define BUF_SIZE (256 * 1024)
#define MIN_SEND_CHUNK (64 * 1024)
#define RETRY_INTERVAL_US 20000
#define MAX_MS UINT64_C(1000000000)
#define MAX_CONNS 1000000

#define EXIT_FAILED 1
#define EXIT_USAGE 2
#define EXIT_TIMEOUT 3

#define SPLITMIX_GAMMA UINT64_C(0x9e3779b97f4a7c15)
#define FNV_OFFSET UINT64_C(0xcbf29ce484222325)
#define FNV_PRIME UINT64_C(0x100000001b3)

#define VMTEST_WORD "hvrelay.vmtest=1"

enum role { ROLE_LISTEN, ROLE_CONNECT };

struct endpoint {
	struct sockaddr_storage addr;
	socklen_t len;
	const char *unix_path;	/* filesystem socket to replace on bind */
};

struct config {
	enum role role;
	struct endpoint ep;
	uint64_t send_bytes;
	uint64_t seed;
	bool has_expect;
	uint64_t expect_bytes;
	bool has_expect_seed;
	uint64_t expect_seed;
	bool after_eof;
	bool reset;		/* abortive close instead of a half-close */
	uint64_t delay_us;
	uint64_t read_delay_us;
	uint64_t read_rate;	/* bytes per second, 0 = unlimited */
	uint64_t hold_us;
	uint64_t timeout_us;	/* 0 = no deadline */
	uint64_t count;		/* listen: 0 = serve forever */
	uint64_t conns;
	uint64_t retry_us;
	const char *ready_file;
	bool listen_opts_used;
	bool connect_opts_used;
};

enum conn_state {
	CONN_RETRY_WAIT,
	CONN_CONNECTING,
	CONN_OPEN,
	CONN_HOLD,
	CONN_CLOSED
};

struct conn {
	int fd;
	enum conn_state state;
	uint64_t index;
	uint64_t send_seed;
	uint64_t expect_seed;
	uint64_t first_attempt_us;
	uint64_t next_attempt_us;
	uint64_t start_us;
	uint64_t established_us;
	uint64_t done_us;
	bool established;
	uint64_t sent;
	uint64_t received;
	uint64_t sent_digest;
	uint64_t recv_digest;
	size_t last_accepted;	/* by the previous send(), sizes the next */
	bool shut_wr;
	bool reset_sent;
	bool eof;
	bool mismatch;
	uint64_t mismatch_at;
	int error;
};

struct run {
	struct conn *conns;
	struct pollfd *pfds;	/* one per conn plus the listener */
	size_t n_conns;
	size_t cap;
	int listen_fd;
	uint64_t accepted;
	uint64_t ok;
	uint64_t failed;
	uint64_t peak;
	uint64_t deadline_us;
};

/*
 * Shared: received data is hashed and checked at once, and send data is
 * regenerated from the connection's offset for every send(), so hundreds of
 * connections cost no buffer memory each.
 */
static unsigned char recv_buf[BUF_SIZE];
static unsigned char send_buf[BUF_SIZE];
static unsigned char expect_buf[BUF_SIZE];

static const char usage_text[] =
	"usage: hvtest listen ENDPOINT [options]\n"
	"       hvtest connect ENDPOINT [options]\n"
	"       hvtest digest BYTES SEED\n"
	"\n"
	"ENDPOINT: tcp:IPV4:PORT, tcp:[IPV6]:PORT, unix:/path, unix:@abstract,\n"
	"          vsock:CID:PORT (CID: number, any, local, host)\n"
	"\n"
	"options (BYTES takes K, M, G suffixes, 1024-based):\n"
	"  --send BYTES         bytes to send per connection (default 0)\n"
	"  --seed N             seed of the sent stream (default 1; connect: N+i)\n"
	"  --expect BYTES       bytes each connection must receive\n"
	"  --expect-seed S      received bytes must be stream S (connect: S+i)\n"
	"  --after-eof          start sending only after the peer's EOF\n"
	"  --delay-ms N         wait N ms after connecting before sending\n"
	"  --read-delay-ms N    do not read during the first N ms\n"
	"  --read-rate BYTES    read about BYTES per second at most\n"
	"  --hold-ms N          keep the socket open N ms after both directions\n"
	"  --reset              once everything is sent, close with a reset\n"
	"                       (SO_LINGER 0) instead of half-closing\n"
	"  --timeout SECONDS    global deadline, 0 = none (default 60)\n"
	"  --count N            listen: connections to serve, 0 = unlimited"
	" (default 1)\n"
	"  --ready-file PATH    listen: create PATH once listening\n"
	"  --conns N            connect: concurrent connections (default 1)\n"
	"  --retry-ms N         connect: retry refused connects for N ms\n"
	"                       (ECONNREFUSED, ECONNRESET as vsock refuses, ENOENT)\n";

static _Noreturn void usage_error(const char *msg, const char *arg)
{
	if (msg != NULL) {
		fprintf(stderr, "hvtest: %s%s%s\n", msg, arg ? ": " : "",
			arg ? arg : "");
	}
	fputs(usage_text, stderr);
	exit(EXIT_USAGE);
}

static _Noreturn void die(const char *what)
{
	fprintf(stderr, "hvtest: %s: %s\n", what, strerror(errno));
	exit(EXIT_FAILED);
}

static uint64_t now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

/*
 * Word k of the splitmix64 sequence, computed directly so that any offset of
 * the stream can be regenerated for sending and for verifying alike.
 */
static uint64_t stream_word(uint64_t seed, uint64_t k)
{
	uint64_t z = seed + (k + 1) * SPLITMIX_GAMMA;

	z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
	z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
	return z ^ (z >> 31);
}

static void store_le64(unsigned char *p, uint64_t v)
{
	for (int i = 0; i < 8; i++) {
		p[i] = (unsigned char)(v >> (8 * i));
	}
}

static void stream_fill(uint64_t seed, uint64_t offset, unsigned char *buf,
			size_t len)
{
	uint64_t k = offset / 8;
	size_t skip = (size_t)(offset % 8);
	size_t pos = 0;
	unsigned char word[8];

	if (skip != 0 && len > 0) {
		pos = 8 - skip < len ? 8 - skip : len;
		store_le64(word, stream_word(seed, k++));
		memcpy(buf, word + skip, pos);
	}
	for (; len - pos >= 8; pos += 8) {
		store_le64(buf + pos, stream_word(seed, k++));
	}
	if (pos < len) {
		store_le64(word, stream_word(seed, k));
		memcpy(buf + pos, word, len - pos);
	}
}

static uint64_t fnv1a(uint64_t h, const unsigned char *p, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		h = (h ^ p[i]) * FNV_PRIME;
	}
	return h;
}

static bool parse_u64(const char *s, uint64_t max, uint64_t *out)
{
	char *end = NULL;
	unsigned long long v;

	if (s[0] < '0' || s[0] > '9') {
		return false;
	}
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno != 0 || *end != '\0' || v > max) {
		return false;
	}
	*out = v;
	return true;
}

static bool parse_size(const char *s, uint64_t *out)
{
	static const char suffixes[] = "kmg";
	char digits[32];
	size_t len = strlen(s);
	const char *suffix = NULL;
	unsigned shift = 0;
	uint64_t v;

	if (len == 0 || len >= sizeof(digits)) {
		return false;
	}
	memcpy(digits, s, len + 1);
	suffix = strchr(suffixes, digits[len - 1] | 0x20);
	if (suffix != NULL) {
		shift = 10 * (unsigned)(suffix - suffixes + 1);
		digits[len - 1] = '\0';
	}
	if (!parse_u64(digits, UINT64_MAX >> shift, &v)) {
		return false;
	}
	*out = v << shift;
	return true;
}

static bool parse_ms(const char *s, uint64_t *out_us)
{
	uint64_t ms;

	if (!parse_u64(s, MAX_MS, &ms)) {
		return false;
	}
	*out_us = ms * 1000;
	return true;
}

static bool parse_tcp(const char *spec, struct endpoint *ep)
{
	char host[INET6_ADDRSTRLEN];
	const char *host_start = spec;
	const char *host_end = NULL;
	const char *port_str = NULL;
	bool v6 = spec[0] == '[';
	uint64_t port;

	if (v6) {
		host_start = spec + 1;
		host_end = strchr(host_start, ']');
		if (host_end == NULL || host_end[1] != ':') {
			return false;
		}
		port_str = host_end + 2;
	} else {
		host_end = strrchr(spec, ':');
		if (host_end == NULL) {
			return false;
		}
		port_str = host_end + 1;
	}
	if ((size_t)(host_end - host_start) >= sizeof(host) ||
	    !parse_u64(port_str, 65535, &port)) {
		return false;
	}
	memcpy(host, host_start, (size_t)(host_end - host_start));
	host[host_end - host_start] = '\0';
	if (v6) {
		struct sockaddr_in6 sin6;

		memset(&sin6, 0, sizeof(sin6));
		sin6.sin6_family = AF_INET6;
		sin6.sin6_port = htons((uint16_t)port);
		if (inet_pton(AF_INET6, host, &sin6.sin6_addr) != 1) {
			return false;
		}
		memcpy(&ep->addr, &sin6, sizeof(sin6));
		ep->len = sizeof(sin6);
	} else {
		struct sockaddr_in sin;

		memset(&sin, 0, sizeof(sin));
		sin.sin_family = AF_INET;
		sin.sin_port = htons((uint16_t)port);
		if (inet_pton(AF_INET, host, &sin.sin_addr) != 1) {
			return false;
		}
		memcpy(&ep->addr, &sin, sizeof(sin));
		ep->len = sizeof(sin);
	}
	return true;
}

static bool parse_unix(const char *spec, struct endpoint *ep)
{
	struct sockaddr_un sun;
	bool abstract = spec[0] == '@';
	size_t len = strlen(spec);

	if (len == 0 || (abstract && len == 1) ||
	    len >= sizeof(sun.sun_path)) {
		return false;
	}
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	memcpy(sun.sun_path, spec, len);
	if (abstract) {
		/* Abstract names are length-delimited, without the NUL. */
		sun.sun_path[0] = '\0';
		ep->len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) +
				      len);
	} else {
		ep->len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) +
				      len + 1);
		ep->unix_path = spec;
	}
	memcpy(&ep->addr, &sun, sizeof(sun));
	return true;
}

static bool parse_vsock(const char *spec, struct endpoint *ep)
{
	struct sockaddr_vm svm;
	char cid_str[16];
	const char *colon = strchr(spec, ':');
	uint64_t cid;
	uint64_t port;

	if (colon == NULL || (size_t)(colon - spec) >= sizeof(cid_str) ||
	    !parse_u64(colon + 1, UINT32_MAX, &port)) {
		return false;
	}
	memcpy(cid_str, spec, (size_t)(colon - spec));
	cid_str[colon - spec] = '\0';
	if (strcmp(cid_str, "any") == 0) {
		cid = VMADDR_CID_ANY;
	} else if (strcmp(cid_str, "local") == 0) {
		cid = VMADDR_CID_LOCAL;
	} else if (strcmp(cid_str, "host") == 0) {
		cid = VMADDR_CID_HOST;
	} else if (!parse_u64(cid_str, UINT32_MAX, &cid)) {
		return false;
	}
	memset(&svm, 0, sizeof(svm));
	svm.svm_family = AF_VSOCK;
	svm.svm_cid = (unsigned)cid;
	svm.svm_port = (unsigned)port;
	memcpy(&ep->addr, &svm, sizeof(svm));
	ep->len = sizeof(svm);
	return true;
}

static bool parse_endpoint(const char *spec, struct endpoint *ep)
{
	memset(ep, 0, sizeof(*ep));
	if (strncmp(spec, "tcp:", 4) == 0) {
		return parse_tcp(spec + 4, ep);
	}
	if (strncmp(spec, "unix:", 5) == 0) {
		return parse_unix(spec + 5, ep);
	}
	if (strncmp(spec, "vsock:", 6) == 0) {
		return parse_vsock(spec + 6, ep);
	}
	return false;
}

/* vsock traffic must never leave the test VM, so insist on its marker. */
static bool vsock_allowed(void)
{
	char buf[16384];
	char *save = NULL;
	size_t len;
	FILE *f = fopen("/proc/cmdline", "r");

	if (f == NULL) {
		return false;
	}
	len = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[len] = '\0';
	for (char *w = strtok_r(buf, " \t\n", &save); w != NULL;
	     w = strtok_r(NULL, " \t\n", &save)) {
		if (strcmp(w, VMTEST_WORD) == 0) {
			return true;
		}
	}
	return false;
}

/* The only place that creates sockets, so the vsock guard cannot be missed. */
static int open_socket(int family)
{
	if (family == AF_VSOCK && !vsock_allowed()) {
		fputs("hvtest: refusing to use AF_VSOCK outside the test VM "
		      "(no " VMTEST_WORD " on the kernel command line)\n",
		      stderr);
		exit(EXIT_USAGE);
	}
	return socket(family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
}

enum {
	OPT_SEND = 256,
	OPT_SEED,
	OPT_EXPECT,
	OPT_EXPECT_SEED,
	OPT_AFTER_EOF,
	OPT_DELAY_MS,
	OPT_READ_DELAY_MS,
	OPT_READ_RATE,
	OPT_HOLD_MS,
	OPT_TIMEOUT,
	OPT_COUNT,
	OPT_READY_FILE,
	OPT_CONNS,
	OPT_RETRY_MS,
	OPT_RESET,
	OPT_HELP
};

/* Listed in enum order: diagnostics index it by option code. */
static const struct option long_opts[] = {
	{ "send", required_argument, NULL, OPT_SEND },
	{ "seed", required_argument, NULL, OPT_SEED },
	{ "expect", required_argument, NULL, OPT_EXPECT },
	{ "expect-seed", required_argument, NULL, OPT_EXPECT_SEED },
	{ "after-eof", no_argument, NULL, OPT_AFTER_EOF },
	{ "delay-ms", required_argument, NULL, OPT_DELAY_MS },
	{ "read-delay-ms", required_argument, NULL, OPT_READ_DELAY_MS },
	{ "read-rate", required_argument, NULL, OPT_READ_RATE },
	{ "hold-ms", required_argument, NULL, OPT_HOLD_MS },
	{ "timeout", required_argument, NULL, OPT_TIMEOUT },
	{ "count", required_argument, NULL, OPT_COUNT },
	{ "ready-file", required_argument, NULL, OPT_READY_FILE },
	{ "conns", required_argument, NULL, OPT_CONNS },
	{ "retry-ms", required_argument, NULL, OPT_RETRY_MS },
	{ "reset", no_argument, NULL, OPT_RESET },
	{ "help", no_argument, NULL, OPT_HELP },
	{ NULL, 0, NULL, 0 }
};

static bool apply_role_option(int opt, const char *arg, struct config *cfg)
{
	uint64_t secs;

	switch (opt) {
	case OPT_TIMEOUT:
		if (!parse_u64(arg, MAX_MS / 1000, &secs)) {
			return false;
		}
		cfg->timeout_us = secs * 1000000;
		return true;
	case OPT_COUNT:
		cfg->listen_opts_used = true;
		return parse_u64(arg, MAX_CONNS, &cfg->count);
	case OPT_READY_FILE:
		cfg->listen_opts_used = true;
		cfg->ready_file = arg;
		return true;
	case OPT_CONNS:
		cfg->connect_opts_used = true;
		return parse_u64(arg, MAX_CONNS, &cfg->conns) && cfg->conns > 0;
	case OPT_RETRY_MS:
		cfg->connect_opts_used = true;
		return parse_ms(arg, &cfg->retry_us);
	default:
		return false;
	}
}

static bool apply_option(int opt, const char *arg, struct config *cfg)
{
	switch (opt) {
	case OPT_SEND:
		return parse_size(arg, &cfg->send_bytes);
	case OPT_SEED:
		return parse_u64(arg, UINT64_MAX, &cfg->seed);
	case OPT_EXPECT:
		cfg->has_expect = true;
		return parse_size(arg, &cfg->expect_bytes);
	case OPT_EXPECT_SEED:
		cfg->has_expect_seed = true;
		return parse_u64(arg, UINT64_MAX, &cfg->expect_seed);
	case OPT_AFTER_EOF:
		cfg->after_eof = true;
		return true;
	case OPT_RESET:
		cfg->reset = true;
		return true;
	case OPT_DELAY_MS:
		return parse_ms(arg, &cfg->delay_us);
	case OPT_READ_DELAY_MS:
		return parse_ms(arg, &cfg->read_delay_us);
	case OPT_READ_RATE:
		return parse_size(arg, &cfg->read_rate);
	case OPT_HOLD_MS:
		return parse_ms(arg, &cfg->hold_us);
	default:
		return apply_role_option(opt, arg, cfg);
	}
}

static void parse_options(int argc, char **argv, struct config *cfg)
{
	static char prog_name[] = "hvtest";
	int opt;

	/* getopt prefixes its diagnostics with argv[0]; the role sits there. */
	argv[0] = prog_name;
	while ((opt = getopt_long(argc, argv, "", long_opts, NULL)) != -1) {
		if (opt == OPT_HELP) {
			fputs(usage_text, stdout);
			exit(0);
		}
		if (opt == '?') {
			usage_error(NULL, NULL);
		}
		if (!apply_option(opt, optarg, cfg)) {
			fprintf(stderr, "hvtest: invalid value for --%s: '%s'\n",
				long_opts[opt - OPT_SEND].name, optarg);
			usage_error(NULL, NULL);
		}
	}
	if (argc - optind != 1) {
		usage_error("expected exactly one ENDPOINT", NULL);
	}
	if (!parse_endpoint(argv[optind], &cfg->ep)) {
		usage_error("invalid endpoint", argv[optind]);
	}
	if ((cfg->role == ROLE_LISTEN && cfg->connect_opts_used) ||
	    (cfg->role == ROLE_CONNECT && cfg->listen_opts_used)) {
		usage_error("option not valid for this role", NULL);
	}
}

static void config_init(struct config *cfg, enum role role)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->role = role;
	cfg->seed = 1;
	cfg->timeout_us = 60 * 1000000ull;
	cfg->count = 1;
	cfg->conns = 1;
}

static void conn_init(struct conn *c, uint64_t index, uint64_t send_seed,
		      uint64_t expect_seed)
{
	memset(c, 0, sizeof(*c));
	c->fd = -1;
	c->index = index;
	c->send_seed = send_seed;
	c->expect_seed = expect_seed;
	c->sent_digest = FNV_OFFSET;
	c->recv_digest = FNV_OFFSET;
}

static void conn_fail(struct conn *c, int err, uint64_t now)
{
	c->error = err;
	c->state = CONN_CLOSED;
	c->done_us = now;
}

static void conn_established(struct conn *c, uint64_t now)
{
	c->state = CONN_OPEN;
	c->established = true;
	c->established_us = now;
}

/*
 * "Nobody listens there (yet)": ECONNREFUSED for TCP and Unix, ENOENT for a
 * Unix path not yet bound, ECONNRESET for vsock, which answers a connect to
 * a port without a listener with a reset. Anything else (ENODEV: no vsock
 * transport reaches that CID; ENETUNREACH, EACCES, ...) will not change by
 * waiting, so it fails at once.
 */
static bool connect_retryable(const struct conn *c, const struct config *cfg,
			      int err, uint64_t now)
{
	/* A full unix backlog is transient, like an unanswered TCP SYN. */
	if (err == EAGAIN && cfg->ep.addr.ss_family == AF_UNIX) {
		return true;
	}
	return (err == ECONNREFUSED || err == ECONNRESET || err == ENOENT) &&
	       now + RETRY_INTERVAL_US <= c->first_attempt_us + cfg->retry_us;
}

static void conn_connect_failed(struct conn *c, const struct config *cfg,
				int err, uint64_t now)
{
	close(c->fd);
	c->fd = -1;
	if (connect_retryable(c, cfg, err, now)) {
		c->state = CONN_RETRY_WAIT;
		c->next_attempt_us = now + RETRY_INTERVAL_US;
	} else {
		conn_fail(c, err, now);
	}
}

static void conn_start_connect(struct conn *c, const struct config *cfg,
			       uint64_t now)
{
	const struct endpoint *ep = &cfg->ep;

	c->start_us = now;
	c->fd = open_socket(ep->addr.ss_family);
	if (c->fd < 0) {
		conn_fail(c, errno, now);
		return;
	}
	if (connect(c->fd, (const struct sockaddr *)&ep->addr, ep->len) == 0) {
		conn_established(c, now);
	} else if (errno == EINPROGRESS) {
		c->state = CONN_CONNECTING;
	} else {
		conn_connect_failed(c, cfg, errno, now);
	}
}

static void conn_finish_connect(struct conn *c, const struct config *cfg,
				uint64_t now)
{
	int err = 0;
	socklen_t len = sizeof(err);

	if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0) {
		err = errno;
	}
	if (err == 0) {
		conn_established(c, now);
	} else {
		conn_connect_failed(c, cfg, err, now);
	}
}

static uint64_t read_ready_at(const struct conn *c, const struct config *cfg)
{
	uint64_t start = c->established_us + cfg->read_delay_us;

	if (cfg->read_rate == 0) {
		return start;
	}
	return start + (uint64_t)((double)c->received * 1e6 /
				  (double)cfg->read_rate);
}

static uint64_t send_ready_at(const struct conn *c, const struct config *cfg)
{
	if (cfg->after_eof && !c->eof) {
		return UINT64_MAX;
	}
	return c->established_us + cfg->delay_us;
}

/*
 * Throttled readers get an allowance that grows with time plus about 10 ms
 * worth of burst, so each wakeup reads a useful amount.
 */
static size_t read_budget(const struct conn *c, const struct config *cfg,
			  uint64_t now)
{
	double burst;
	double allowed;

	if (cfg->read_rate == 0) {
		return BUF_SIZE;
	}
	burst = (double)cfg->read_rate / 100;
	burst = burst < 1 ? 1 : burst;
	allowed = (double)cfg->read_rate *
		  (double)(now - c->established_us - cfg->read_delay_us) / 1e6 +
		  burst - (double)c->received;
	if (allowed < 1) {
		return 1;
	}
	return allowed > BUF_SIZE ? BUF_SIZE : (size_t)allowed;
}

static void verify_chunk(struct conn *c, const struct config *cfg, size_t len)
{
	if (!cfg->has_expect_seed || c->mismatch) {
		return;
	}
	stream_fill(c->expect_seed, c->received, expect_buf, len);
	if (memcmp(recv_buf, expect_buf, len) == 0) {
		return;
	}
	for (size_t i = 0; i < len; i++) {
		if (recv_buf[i] != expect_buf[i]) {
			c->mismatch = true;
			c->mismatch_at = c->received + i;
			return;
		}
	}
}

static void conn_do_read(struct conn *c, const struct config *cfg,
			 uint64_t now)
{
	ssize_t n = recv(c->fd, recv_buf, read_budget(c, cfg, now), 0);

	if (n > 0) {
		verify_chunk(c, cfg, (size_t)n);
		c->recv_digest = fnv1a(c->recv_digest, recv_buf, (size_t)n);
		c->received += (uint64_t)n;
	} else if (n == 0) {
		c->eof = true;
	} else if (errno != EAGAIN && errno != EINTR) {
		conn_fail(c, errno, now);
	}
}

/*
 * --reset: the connection ends here, with unread data or not. Over TCP the
 * peer gets an RST; vsock has no abortive close, so its peer sees both
 * directions shut down (and a reset only much later).
 */
static void conn_reset(struct conn *c, uint64_t now)
{
	struct linger lg = { .l_onoff = 1, .l_linger = 0 };

	if (setsockopt(c->fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg)) < 0) {
		conn_fail(c, errno, now);
		return;
	}
	close(c->fd);
	c->fd = -1;
	c->reset_sent = true;
	c->state = CONN_CLOSED;
	c->done_us = now;
}

static void conn_shutdown_wr(struct conn *c, const struct config *cfg,
			     uint64_t now)
{
	if (cfg->reset) {
		conn_reset(c, now);
		return;
	}
	if (shutdown(c->fd, SHUT_WR) < 0) {
		conn_fail(c, errno, now);
		return;
	}
	c->shut_wr = true;
}

/*
 * What the socket refuses is generated again next time, so offer about twice
 * what it took last time rather than always the whole buffer.
 */
static size_t send_chunk(const struct conn *c, const struct config *cfg)
{
	uint64_t left = cfg->send_bytes - c->sent;
	size_t chunk = 2 * c->last_accepted;

	if (chunk < MIN_SEND_CHUNK) {
		chunk = MIN_SEND_CHUNK;
	} else if (chunk > BUF_SIZE) {
		chunk = BUF_SIZE;
	}
	return left < chunk ? (size_t)left : chunk;
}

static void conn_do_write(struct conn *c, const struct config *cfg,
			  uint64_t now)
{
	size_t len;
	ssize_t n;

	if (c->sent == cfg->send_bytes) {
		conn_shutdown_wr(c, cfg, now);
		return;
	}
	len = send_chunk(c, cfg);
	stream_fill(c->send_seed, c->sent, send_buf, len);
	n = send(c->fd, send_buf, len, MSG_NOSIGNAL);
	if (n < 0) {
		if (errno != EAGAIN && errno != EINTR) {
			conn_fail(c, errno, now);
		}
		return;
	}
	c->sent_digest = fnv1a(c->sent_digest, send_buf, (size_t)n);
	c->last_accepted = (size_t)n;
	c->sent += (uint64_t)n;
	if (c->sent == cfg->send_bytes) {
		conn_shutdown_wr(c, cfg, now);
	}
}

static void conn_step_open(struct conn *c, const struct config *cfg,
			   short revents, uint64_t now)
{
	if ((revents & (POLLIN | POLLHUP | POLLERR)) && !c->eof &&
	    read_ready_at(c, cfg) <= now) {
		conn_do_read(c, cfg, now);
	}
	if (c->state == CONN_OPEN && (revents & (POLLOUT | POLLHUP | POLLERR)) &&
	    !c->shut_wr && send_ready_at(c, cfg) <= now) {
		conn_do_write(c, cfg, now);
	}
	if (c->state == CONN_OPEN && c->shut_wr && c->eof) {
		c->done_us = now;
		c->state = cfg->hold_us > 0 ? CONN_HOLD : CONN_CLOSED;
	}
}

static void conn_step(struct conn *c, const struct config *cfg, short revents,
		      uint64_t now)
{
	switch (c->state) {
	case CONN_RETRY_WAIT:
		if (now >= c->next_attempt_us) {
			conn_start_connect(c, cfg, now);
		}
		break;
	case CONN_CONNECTING:
		if (revents != 0) {
			conn_finish_connect(c, cfg, now);
		}
		break;
	case CONN_OPEN:
		conn_step_open(c, cfg, revents, now);
		break;
	case CONN_HOLD:
		if (now >= c->done_us + cfg->hold_us) {
			c->state = CONN_CLOSED;
		}
		break;
	case CONN_CLOSED:
		break;
	}
}

static void wake_at(uint64_t *wake, uint64_t t)
{
	if (t < *wake) {
		*wake = t;
	}
}

/* Events to poll for; timers that would change them go into *wake. */
static short conn_events(const struct conn *c, const struct config *cfg,
			 uint64_t now, uint64_t *wake)
{
	short events = 0;
	uint64_t t;

	switch (c->state) {
	case CONN_RETRY_WAIT:
		wake_at(wake, c->next_attempt_us);
		return 0;
	case CONN_CONNECTING:
		return POLLOUT;
	case CONN_HOLD:
		wake_at(wake, c->done_us + cfg->hold_us);
		return 0;
	case CONN_CLOSED:
		/* Not reaped yet (it failed before the loop ran): at once. */
		wake_at(wake, now);
		return 0;
	case CONN_OPEN:
		break;
	}
	if (!c->eof) {
		t = read_ready_at(c, cfg);
		events |= t <= now ? POLLIN : 0;
		wake_at(wake, t <= now ? UINT64_MAX : t);
	}
	if (!c->shut_wr) {
		t = send_ready_at(c, cfg);
		events |= t <= now ? POLLOUT : 0;
		wake_at(wake, t <= now ? UINT64_MAX : t);
	}
	return events;
}

static void print_conn_line(const struct conn *c, uint64_t end_us,
			    const char *result)
{
	printf("conn=%" PRIu64 " sent=%" PRIu64 " sent_digest=%016" PRIx64
	       " recv=%" PRIu64 " recv_digest=%016" PRIx64 " ms=%" PRIu64
	       " result=%s\n",
	       c->index, c->sent, c->sent_digest, c->received, c->recv_digest,
	       (end_us - c->start_us) / 1000, result);
	fflush(stdout);
}

static void describe_error(const struct conn *c, const struct config *cfg,
			   char *buf, size_t size)
{
	if (!c->established) {
		snprintf(buf, size, "error:%s", strerror(c->error));
	} else if (cfg->has_expect) {
		snprintf(buf, size,
			 "error:%s (received %" PRIu64 " of %" PRIu64
			 " expected bytes)",
			 strerror(c->error), c->received, cfg->expect_bytes);
	} else {
		snprintf(buf, size, "error:%s (%s peer EOF)", strerror(c->error),
			 c->eof ? "after" : "before");
	}
}

/* Formats the result field; true when the connection met every check. */
static bool conn_result(const struct conn *c, const struct config *cfg,
			char *buf, size_t size)
{
	if (c->error != 0) {
		describe_error(c, cfg, buf, size);
	} else if (c->mismatch) {
		snprintf(buf, size, "error:data mismatch at offset %" PRIu64,
			 c->mismatch_at);
	} else if (c->reset_sent) {
		/* It cut the connection itself: no more was to come. */
		snprintf(buf, size, "ok reset-sent");
		return true;
	} else if (cfg->has_expect && c->received < cfg->expect_bytes) {
		snprintf(buf, size,
			 "error:peer closed early (received %" PRIu64 " of %"
			 PRIu64 " expected bytes)",
			 c->received, cfg->expect_bytes);
	} else if (cfg->has_expect && c->received > cfg->expect_bytes) {
		snprintf(buf, size,
			 "error:received %" PRIu64 " bytes, expected %" PRIu64,
			 c->received, cfg->expect_bytes);
	} else {
		snprintf(buf, size, "ok");
		return true;
	}
	return false;
}


/* Reports and removes closed connections; output is in finishing order. */
static void reap(struct run *run, const struct config *cfg)
{
	char result[256];
	size_t i = 0;

	while (i < run->n_conns) {
		struct conn *c = &run->conns[i];

		if (c->state != CONN_CLOSED) {
			i++;
			continue;
		}
		if (conn_result(c, cfg, result, sizeof(result))) {
			run->ok++;
		} else {
			run->failed++;
		}
		print_conn_line(c, c->done_us, result);
		if (c->fd >= 0) {
			close(c->fd);
		}
		*c = run->conns[--run->n_conns];
	}
}

static void run_reserve(struct run *run, size_t cap)
{
	struct conn *conns = NULL;
	struct pollfd *pfds = NULL;

	if (cap <= run->cap) {
		return;
	}
	conns = realloc(run->conns, cap * sizeof(*conns));
	if (conns == NULL) {
		die("realloc");
	}
	run->conns = conns;
	pfds = realloc(run->pfds, (cap + 1) * sizeof(*pfds));
	if (pfds == NULL) {
		die("realloc");
	}
	run->pfds = pfds;
	run->cap = cap;
}

static void accept_conns(struct run *run, const struct config *cfg,
			 uint64_t now)
{
	while (run->listen_fd >= 0) {
		int fd = accept4(run->listen_fd, NULL, NULL,
				 SOCK_NONBLOCK | SOCK_CLOEXEC);
		struct conn *c = NULL;

		if (fd < 0) {
			if (errno == EAGAIN || errno == EINTR ||
			    errno == ECONNABORTED) {
				return;
			}
			die("accept");
		}
		run_reserve(run, run->n_conns == run->cap ? 2 * run->cap :
							   run->cap);
		c = &run->conns[run->n_conns++];
		conn_init(c, run->accepted++, cfg->seed, cfg->expect_seed);
		c->fd = fd;
		c->start_us = now;
		conn_established(c, now);
		/* Refuse the surplus rather than leave it queued forever. */
		if (cfg->count != 0 && run->accepted == cfg->count) {
			close(run->listen_fd);
			run->listen_fd = -1;
		}
	}
}

static const char *pending_work(const struct conn *c)
{
	switch (c->state) {
	case CONN_RETRY_WAIT:
	case CONN_CONNECTING:
		return "not connected";
	case CONN_HOLD:
		return "holding";
	default:
		break;
	}
	if (!c->shut_wr && !c->eof) {
		return "send unfinished, no peer EOF";
	}
	return c->shut_wr ? "no peer EOF" : "send unfinished";
}

static void print_totals(const struct run *run)
{
	printf("peak=%" PRIu64 "\nsummary ok=%" PRIu64 " failed=%" PRIu64 "\n",
	       run->peak, run->ok, run->failed);
	fflush(stdout);
}

static int report_timeout(struct run *run, const struct config *cfg,
			  uint64_t now)
{
	char result[128];

	for (size_t i = 0; i < run->n_conns; i++) {
		snprintf(result, sizeof(result), "error:timeout (%s)",
			 pending_work(&run->conns[i]));
		print_conn_line(&run->conns[i], now, result);
	}
	run->failed += run->n_conns;
	fprintf(stderr, "hvtest: timeout after %" PRIu64 " s, %zu connection(s)"
		" unfinished", cfg->timeout_us / 1000000, run->n_conns);
	if (cfg->role == ROLE_LISTEN) {
		fprintf(stderr, ", %" PRIu64 " accepted", run->accepted);
	}
	fputc('\n', stderr);
	print_totals(run);
	return EXIT_TIMEOUT;
}

static int poll_timeout_ms(uint64_t wake, uint64_t now)
{
	uint64_t ms;

	if (wake == UINT64_MAX) {
		return -1;
	}
	if (wake <= now) {
		return 0;
	}
	ms = (wake - now + 999) / 1000;
	return ms > INT_MAX ? INT_MAX : (int)ms;
}

static bool run_done(const struct run *run, const struct config *cfg)
{
	if (cfg->role == ROLE_CONNECT) {
		return run->n_conns == 0;
	}
	return cfg->count != 0 && run->ok + run->failed == cfg->count;
}

/* Fills the poll set and returns the earliest timer; tracks concurrency. */
static uint64_t prepare_poll(struct run *run, const struct config *cfg,
			     uint64_t now, nfds_t *nfds)
{
	uint64_t wake = cfg->timeout_us != 0 ? run->deadline_us : UINT64_MAX;
	uint64_t open = 0;

	for (size_t i = 0; i < run->n_conns; i++) {
		const struct conn *c = &run->conns[i];
		short events = conn_events(c, cfg, now, &wake);

		/* Idle sockets stay out so their POLLHUP cannot spin us. */
		run->pfds[i].fd = events != 0 ? c->fd : -1;
		run->pfds[i].events = events;
		run->pfds[i].revents = 0;
		open += c->state == CONN_OPEN || c->state == CONN_HOLD;
	}
	run->peak = open > run->peak ? open : run->peak;
	*nfds = run->n_conns;
	if (run->listen_fd >= 0) {
		run->pfds[*nfds].fd = run->listen_fd;
		run->pfds[*nfds].events = POLLIN;
		run->pfds[*nfds].revents = 0;
		(*nfds)++;
	}
	return wake;
}

static int run_loop(struct run *run, const struct config *cfg)
{
	nfds_t nfds;
	size_t polled;
	uint64_t now = now_us();
	uint64_t wake;

	/* A connect can fail before the first poll (vsock's ENODEV does). */
	reap(run, cfg);
	while (!run_done(run, cfg)) {
		if (cfg->timeout_us != 0 && now >= run->deadline_us) {
			return report_timeout(run, cfg, now);
		}
		wake = prepare_poll(run, cfg, now, &nfds);
		polled = run->n_conns;
		if (poll(run->pfds, nfds, poll_timeout_ms(wake, now)) < 0 &&
		    errno != EINTR) {
			die("poll");
		}
		now = now_us();
		for (size_t i = 0; i < polled; i++) {
			conn_step(&run->conns[i], cfg, run->pfds[i].revents, now);
		}
		reap(run, cfg);
		if (run->listen_fd >= 0 && run->pfds[polled].revents != 0) {
			accept_conns(run, cfg, now);
		}
	}
	print_totals(run);
	return run->failed == 0 ? 0 : EXIT_FAILED;
}

static void remove_stale_socket(const char *path)
{
	struct stat st;

	/* Only sockets: a typo must not delete a regular file. */
	if (lstat(path, &st) == 0 && S_ISSOCK(st.st_mode) && unlink(path) < 0) {
		die("unlink");
	}
}

static void announce_listening(const struct config *cfg)
{
	int fd;

	puts("listening");
	fflush(stdout);
	if (cfg->ready_file == NULL) {
		return;
	}
	fd = open(cfg->ready_file, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC,
		  0644);
	if (fd < 0) {
		die(cfg->ready_file);
	}
	close(fd);
}

static int open_listener(const struct config *cfg)
{
	const struct endpoint *ep = &cfg->ep;
	int family = ep->addr.ss_family;
	int one = 1;
	int fd = open_socket(family);

	if (fd < 0) {
		die("socket");
	}
	if ((family == AF_INET || family == AF_INET6) &&
	    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0) {
		die("setsockopt");
	}
	if (ep->unix_path != NULL) {
		remove_stale_socket(ep->unix_path);
	}
	if (bind(fd, (const struct sockaddr *)&ep->addr, ep->len) < 0) {
		die("bind");
	}
	if (listen(fd, SOMAXCONN) < 0) {
		die("listen");
	}
	return fd;
}

/* Hundreds of concurrent connections exceed the usual soft limit. */
static void raise_fd_limit(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
}

static void start_connects(struct run *run, const struct config *cfg,
			   uint64_t now)
{
	run_reserve(run, cfg->conns);
	for (uint64_t i = 0; i < cfg->conns; i++) {
		struct conn *c = &run->conns[run->n_conns++];

		conn_init(c, i, cfg->seed + i, cfg->expect_seed + i);
		c->first_attempt_us = now;
		conn_start_connect(c, cfg, now);
	}
}

static int cmd_run(const struct config *cfg)
{
	struct run run;
	uint64_t now = now_us();
	int rc;

	memset(&run, 0, sizeof(run));
	run.listen_fd = -1;
	run.deadline_us = now + cfg->timeout_us;
	raise_fd_limit();
	if (cfg->role == ROLE_LISTEN) {
		run_reserve(&run, 64);
		run.listen_fd = open_listener(cfg);
		announce_listening(cfg);
	} else {
		start_connects(&run, cfg, now);
	}
	rc = run_loop(&run, cfg);
	/* Only sanitizer runs care; the process exits right after. */
	free(run.conns);
	free(run.pfds);
	return rc;
}

static int cmd_digest(int argc, char **argv)
{
	uint64_t bytes;
	uint64_t seed;
	uint64_t h = FNV_OFFSET;

	if (argc != 4) {
		usage_error("digest takes BYTES and SEED", NULL);
	}
	if (!parse_size(argv[2], &bytes)) {
		usage_error("invalid BYTES", argv[2]);
	}
	if (!parse_u64(argv[3], UINT64_MAX, &seed)) {
		usage_error("invalid SEED", argv[3]);
	}
	for (uint64_t off = 0; off < bytes; off += BUF_SIZE) {
		size_t len = bytes - off < BUF_SIZE ? (size_t)(bytes - off) :
						      BUF_SIZE;

		stream_fill(seed, off, recv_buf, len);
		h = fnv1a(h, recv_buf, len);
	}
	printf("%016" PRIx64 "\n", h);
	return 0;
}

int main(int argc, char **argv)
{
	struct config cfg;

	if (argc < 2) {
		usage_error(NULL, NULL);
	}
	if (strcmp(argv[1], "digest") == 0) {
		return cmd_digest(argc, argv);
	}
	if (strcmp(argv[1], "listen") == 0) {
		config_init(&cfg, ROLE_LISTEN);
	} else if (strcmp(argv[1], "connect") == 0) {
		config_init(&cfg, ROLE_CONNECT);
	} else if (strcmp(argv[1], "--help") == 0) {
		fputs(usage_text, stdout);
		return 0;
	} else {
		usage_error("unknown command", argv[1]);
	}
	parse_options(argc - 1, argv + 1, &cfg);
	return cmd_run(&cfg);
}
