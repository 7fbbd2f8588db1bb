#include "autoconfig.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "control.h"
#include "daemon.h"
#include "endpoint.h"
#include "log.h"
#include "parse.h"
#include "platform.h"
#include "sock.h"
#include "usage.h"

static void
usage(FILE *out)
{
	fprintf(out,
	    "usage: hvrelay [-c FILE] [-v]...   relay in the foreground\n"
	    "       hvrelay -t [-c FILE]        check the configuration\n"
	    "       hvrelay guid PORT|GUID      vsock port <-> Hyper-V service GUID\n"
	    "       hvrelay status [--json] [-c FILE | -s SOCKET]\n"
	    "                                   counters of the running daemon\n"
	    "       hvrelay reload [-c FILE | -s SOCKET]\n"
	    "                                   reload the running daemon, report the outcome\n"
	    "%s"
	    "       hvrelay --version | --help\n"
	    "\n"
	    "  -c, --config FILE  configuration (default %s)\n"
	    "  -t, --test         check the configuration and exit\n"
	    "  -s, --socket PATH  control socket (default: from the configuration)\n"
	    "  -j, --json         status as JSON\n"
	    "  -v, --verbose      log more (debug)\n",
	    platform_usage(), platform_default_config());
}

/* "hvrelay guid 22" prints the service GUID of vsock port 22, and
 * "hvrelay guid 00000016-facb-11e6-bd58-64006a7986d3" prints 22. */
static int
run_guid(int argc, char **argv)
{
	char text[GUID_TEXT_LEN + 1];
	struct guid g;
	uint64_t port;
	uint32_t port32;

	if (argc != 2) {
		return usage_error("guid takes one argument: a port or a GUID");
	}
	if (parse_uint(argv[1], 0, VSOCK_PORT_MAX, &port) == 0) {
		guid_from_port((uint32_t)port, &g);
		guid_format(&g, text);
		printf("%s\n", text);
		return EXIT_SUCCESS;
	}
	if (guid_parse(argv[1], &g) != 0) {
		return usage_error(
		    "guid: expected a port number (0 to 4294967294) or a GUID");
	}
	if (guid_to_port(&g, &port32) != 0) {
		fprintf(stderr,
		    "hvrelay: %s is not a port GUID: those end in -facb-11e6-bd58-64006a7986d3\n",
		    argv[1]);
		return EXIT_FAILURE;
	}
	printf("%u\n", (unsigned)port32);
	return EXIT_SUCCESS;
}

/* "hvrelay status" and "hvrelay reload" ask the running daemon over its
 * control socket, found in the configuration unless given with -s. */
static int
run_control(int argc, char **argv)
{
	static const struct option long_options[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "socket", required_argument, NULL, 's' },
		{ "json", no_argument, NULL, 'j' },
		{ NULL, 0, NULL, 0 },
	};
	const char *path = platform_default_config(), *socket_path = NULL;
	int status = strcmp(argv[0], "status") == 0;
	struct config *cfg = NULL;
	int json = 0, opt, rc;

	while ((opt = getopt_long(argc, argv, status ? "c:s:j" : "c:s:",
	    long_options, NULL)) != -1) {
		if (opt == 'c') {
			path = optarg;
		} else if (opt == 's') {
			socket_path = optarg;
		} else if (opt == 'j' && status) {
			json = 1;
		} else {
			return usage_error(status ?
			    "status takes --json, -c FILE or -s SOCKET" :
			    "reload takes -c FILE or -s SOCKET");
		}
	}
	if (optind < argc) {
		return usage_error(status ? "status takes no other argument" :
		    "reload takes no other argument");
	}
	if (socket_path == NULL) {
		cfg = config_load_reporting(path);
		if (cfg == NULL) {
			return EXIT_FAILURE;
		}
		if (cfg->control_socket[0] == '\0') {
			fprintf(stderr, "hvrelay: %s sets control-socket = off%s\n",
			    path, status ? "" :
			    ": send the daemon SIGHUP instead (it cannot report the outcome)");
			config_free(cfg);
			return EXIT_FAILURE;
		}
		socket_path = cfg->control_socket;
	}
	rc = control_query(socket_path,
	    !status ? "reload" : json ? "status json" : "status", stdout);
	config_free(cfg);
	return rc == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}

int
main(int argc, char **argv)
{
	static const struct option long_options[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "test", no_argument, NULL, 't' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	const char *path = platform_default_config();
	struct config *cfg = NULL;
	char err[256];
	int test_only = 0, verbose = 0, opt, status;

	/* Before any command: each may read a configuration, and so resolve
	 * addresses, or use a socket. */
	if (sock_platform_init(err, sizeof(err)) != 0) {
		fprintf(stderr, "hvrelay: %s\n", err);
		return EXIT_FAILURE;
	}
	if (argc >= 2 && strcmp(argv[1], "guid") == 0) {
		return run_guid(argc - 1, argv + 1);
	}
	if (argc >= 2 && (strcmp(argv[1], "status") == 0 ||
	    strcmp(argv[1], "reload") == 0)) {
		return run_control(argc - 1, argv + 1);
	}
	if (argc >= 2 && (status = platform_command(argc - 1, argv + 1)) >= 0) {
		return status;
	}
	while ((opt = getopt_long(argc, argv, "c:tvh", long_options, NULL)) !=
	    -1) {
		switch (opt) {
		case 'c':
			path = optarg;
			break;
		case 't':
			test_only = 1;
			break;
		case 'v':
			verbose++;
			break;
		case 'h':
			usage(stdout);
			return EXIT_SUCCESS;
		case 'V':
			printf("hvrelay %s\n", PACKAGE_VERSION);
			return EXIT_SUCCESS;
		default:
			return usage_error("unknown option");
		}
	}
	if (optind < argc) {
		snprintf(err, sizeof(err), "unexpected argument '%s'",
		    argv[optind]);
		return usage_error(err);
	}
	log_init(LOG_TARGET_STDERR);
	cfg = config_load_reporting(path);
	if (cfg == NULL) {
		return EXIT_FAILURE;
	}
	if (test_only) {
		printf("configuration OK\n");
		config_free(cfg);
		return EXIT_SUCCESS;
	}
	if (verbose > 0) {
		log_set_floor(LOG_LEVEL_DEBUG);
	}
	return daemon_run(cfg, path);
}
