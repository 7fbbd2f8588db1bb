#include "autoconfig.h"

#include <ctype.h>
#include <dirent.h>
#include <stdlib.h>

#include "config.h"
#include "tap.h"

#define EXPECT_PREFIX "; expect: "

static const char *
tests_dir(void)
{
	const char *dir = getenv("TESTS_DIR");

	return dir != NULL ? dir : "tests";
}

/* The "; expect: LINE: message" lines at the top of a bad config, each
 * turned into the "PATH:LINE: message" line config_load must produce. */
static char *
expected_errors(const char *path)
{
	char line[512];
	char *want = calloc(1, 8192);
	FILE *fp = fopen(path, "r");
	size_t len = 0, plen = strlen(EXPECT_PREFIX);

	if (fp == NULL || want == NULL) {
		free(want);
		if (fp != NULL) {
			fclose(fp);
		}
		return NULL;
	}
	while (fgets(line, sizeof(line), fp) != NULL &&
	    strncmp(line, EXPECT_PREFIX, plen) == 0) {
		const char *msg = line + plen;

		len += (size_t)snprintf(want + len, 8192 - len, "%s%s%s", path,
		    isdigit((unsigned char)msg[0]) ? ":" : ": ", msg);
	}
	fclose(fp);
	return want;
}

static void
check_bad(const char *path)
{
	char *errors = NULL;
	char *want = expected_errors(path);
	struct config *cfg = config_load(path, &errors);

	tap_ok(cfg == NULL, "%s is rejected", path);
	tap_ok(want != NULL && want[0] != '\0', "  names its expected error");
	tap_str(errors, want != NULL ? want : "", "  with exactly these messages");
	config_free(cfg);
	free(errors);
	free(want);
}

static void
check_good(const char *path)
{
	char *errors = NULL;
	struct config *cfg = config_load(path, &errors);

	tap_ok(cfg != NULL, "%s is accepted", path);
	if (errors != NULL) {
		printf("# %s", errors);
	}
	config_free(cfg);
	free(errors);
}

static int
compare_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Runs check on every .conf file of a corpus folder, in name order. */
static void
each_conf(const char *sub, void (*check)(const char *))
{
	char dir[1024], path[2048];
	char *names[512];
	size_t n = 0, i;
	struct dirent *de = NULL;
	DIR *d = NULL;

	snprintf(dir, sizeof(dir), "%s/conf/%s", tests_dir(), sub);
	d = opendir(dir);
	tap_ok(d != NULL, "corpus %s can be read", dir);
	if (d == NULL) {
		return;
	}
	while ((de = readdir(d)) != NULL && n < 512) {
		size_t len = strlen(de->d_name);

		if (len > 5 && strcmp(de->d_name + len - 5, ".conf") == 0) {
			names[n++] = strdup(de->d_name);
		}
	}
	closedir(d);
	qsort(names, n, sizeof(names[0]), compare_names);
	tap_ok(n > 0, "corpus %s is not empty", sub);
	for (i = 0; i < n; i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
		check(path);
		free(names[i]);
	}
}

/* Global keys become defaults; sections override them. */
static void
test_values(void)
{
	char path[1024];
	char *errors = NULL;
	struct config *cfg = NULL;
	const struct forward_conf *a = NULL, *b = NULL;

	snprintf(path, sizeof(path), "%s/conf/good/defaults.conf", tests_dir());
	cfg = config_load(path, &errors);
	tap_ok(cfg != NULL && cfg->nforwards == 2, "defaults.conf loads two forwards");
	if (cfg == NULL || cfg->nforwards != 2) {
		free(errors);
		config_free(cfg);
		return;
	}
	a = &cfg->forwards[0];
	b = &cfg->forwards[1];
	tap_ok(cfg->max_connections == 100, "global max-connections caps the process");
	tap_ok(cfg->shutdown_timeout_ms == 2500, "shutdown-timeout in ms");
	tap_ok(cfg->log_level == LOG_LEVEL_DEBUG, "log-level");
	tap_ok(a->max_connections == 0, "a forward without max-connections has no own cap");
	tap_ok(b->max_connections == 8, "a forward's own max-connections");
	tap_ok(a->connect_timeout_ms == 1500, "connect-timeout default inherited");
	tap_ok(b->connect_timeout_ms == 250, "connect-timeout overridden");
	tap_ok(a->idle_timeout_ms == 120000 && b->idle_timeout_ms == 0,
	    "idle-timeout inherited, and 0 for never");
	tap_ok(a->half_close_timeout_ms == 60000, "half-close-timeout default");
	tap_ok(a->connect_retries == 10 && b->connect_retries == 0,
	    "connect-retries default and override");
	tap_ok(a->sock_opts.buffer_size == 262144, "buffer-size inherited");
	tap_ok(a->splice == 1 && b->splice == 0, "splice default and override");
	tap_str(a->name, "ssh", "first section name");
	tap_str(b->connect.text, "unix:/run/app.sock", "connect text kept");
	tap_ok(cfg->log_target == LOG_TARGET_DEFAULT && cfg->log_file == NULL,
	    "without log or log-file, where to log is left to the process");
	tap_str(cfg->control_socket, RUNDIR "/defaults.sock",
	    "the control socket is named after the file");
	config_free(cfg);
}

/* Windows file names ignore case: Upper.CONF names the socket Upper.sock
 * as upper.conf would. The file is written in the build directory. */
static void
test_conf_suffix_any_case(void)
{
	char *errors = NULL;
	struct config *cfg = NULL;
	FILE *fp = fopen("Upper.CONF", "w");

	if (fp == NULL) {
		tap_ok(0, "cannot write Upper.CONF in the current directory");
		return;
	}
	fputs("[x]\nlisten = tcp:127.0.0.1:1\nconnect = tcp:127.0.0.1:2\n", fp);
	fclose(fp);
	cfg = config_load("Upper.CONF", &errors);
	tap_ok(cfg != NULL, "Upper.CONF loads");
	if (cfg != NULL) {
		tap_str(cfg->control_socket, RUNDIR "/Upper.sock",
		    "the .CONF suffix is dropped from the socket name too");
	}
	free(errors);
	config_free(cfg);
	remove("Upper.CONF");
}

/* log-file goes with the destination that log names. */
static void
test_log_file(void)
{
	char path[1024];
	char *errors = NULL;
	struct config *cfg = NULL;

	snprintf(path, sizeof(path), "%s/conf/good/log-file.conf", tests_dir());
	cfg = config_load(path, &errors);
	tap_ok(cfg != NULL, "log-file.conf loads");
	if (cfg == NULL) {
		free(errors);
		return;
	}
	tap_ok(cfg->log_target == LOG_TARGET_SYSTEM, "log = syslog");
	tap_str(cfg->log_file, "/var/log/hvrelay/hvrelay.log", "log-file");
	config_free(cfg);
}

int
main(void)
{
	each_conf("good", check_good);
	each_conf("bad", check_bad);
	/* What only this platform accepts or refuses. */
	each_conf("good-" HV_PLATFORM, check_good);
	each_conf("bad-" HV_PLATFORM, check_bad);
	test_values();
	test_log_file();
	test_conf_suffix_any_case();
	return tap_done();
}
