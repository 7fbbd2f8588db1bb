/* hvrelay as a Windows service: installing it with the Service Control
 * Manager, starting, stopping and reloading it from the command line, and
 * "hvrelay service run", the entry point the SCM starts. */
#include "autoconfig.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <winsock2.h>
#include <windows.h>

#include "config.h"
#include "daemon.h"
#include "log.h"
#include "service_win32.h"
#include "sock.h"
#include "usage.h"

#define SERVICE_NAME "hvrelay"
#define SERVICE_DESCRIPTION \
	"Relays TCP connections to and from Hyper-V sockets of virtual machines, as its configuration file says."
#define EVENTLOG_KEY \
	"SYSTEM\\CurrentControlSet\\Services\\EventLog\\Application\\" SERVICE_NAME
/* User-defined controls are 128 to 255; "sc control hvrelay 128" works too. */
#define HVRELAY_SERVICE_CONTROL_RELOAD 128
/* How long start, stop and uninstall wait for the service to get there. */
#define SERVICE_WAIT_MS 30000
#define SERVICE_POLL_MS 200
/* What the SCM is told to expect between two reports while pending. */
#define START_WAIT_HINT_MS 10000
#define STOP_WAIT_HINT_MS 15000

/* The state this process reports to the SCM: written by the daemon's
 * thread and by the control handler's, hence the lock. */
static SERVICE_STATUS_HANDLE status_handle;
static SERVICE_STATUS service_status;
static CRITICAL_SECTION status_lock;
static const char *run_config_path;
static int run_exit_status = EXIT_FAILURE;

static const char *
service_error_fix(DWORD err)
{
	switch (err) {
	case ERROR_ACCESS_DENIED:
		return "run it from an elevated prompt (Run as administrator)";
	case ERROR_SERVICE_DOES_NOT_EXIST:
		return "not installed: hvrelay service install [-c FILE]";
	case ERROR_SERVICE_EXISTS:
		return "already installed: to change its configuration file, hvrelay service uninstall, then install again";
	case ERROR_SERVICE_MARKED_FOR_DELETE:
		return "it is being deleted: close the Services console (services.msc) and any other program that has it open, then try again";
	case ERROR_SERVICE_NOT_ACTIVE:
		return "it is not running: hvrelay service start";
	case ERROR_SERVICE_DISABLED:
		return "it is disabled: sc config hvrelay start= auto";
	case ERROR_SERVICE_CANNOT_ACCEPT_CTRL:
		return "it is starting or stopping: try again in a moment (sc query hvrelay)";
	case ERROR_SERVICE_REQUEST_TIMEOUT:
		return "it did not answer the Service Control Manager in time: see the Application event log";
	case ERROR_FILE_NOT_FOUND:
	case ERROR_PATH_NOT_FOUND:
		return "the installed hvrelay.exe is gone: hvrelay service uninstall, then install again from its new place";
	default:
		return NULL;
	}
}

/* "hvrelay: service start: Access is denied: run it from an elevated ..." */
static void
print_service_error(const char *what, DWORD err)
{
	const char *fix = service_error_fix(err);

	fprintf(stderr, "hvrelay: %s: %s%s%s\n", what, sock_error_text((int)err),
	    fix != NULL ? ": " : "", fix != NULL ? fix : "");
}

/* Opens the SCM and the hvrelay service in it; on failure says why and
 * returns NULL with nothing left open. */
static SC_HANDLE
open_service(const char *what, DWORD access, SC_HANDLE *scm)
{
	SC_HANDLE svc = NULL;

	*scm = OpenSCManagerA(NULL, NULL, SC_MANAGER_CONNECT);
	if (*scm == NULL) {
		print_service_error(what, GetLastError());
		return NULL;
	}
	svc = OpenServiceA(*scm, SERVICE_NAME, access);
	if (svc == NULL) {
		print_service_error(what, GetLastError());
		CloseServiceHandle(*scm);
		*scm = NULL;
	}
	return svc;
}

static void
close_service(SC_HANDLE svc, SC_HANDLE scm)
{
	if (svc != NULL) {
		CloseServiceHandle(svc);
	}
	if (scm != NULL) {
		CloseServiceHandle(scm);
	}
}

/* Why a service that should run has stopped, from its exit codes. */
static void
print_stopped_service(const SERVICE_STATUS *st)
{
	if (st->dwWin32ExitCode == ERROR_SERVICE_SPECIFIC_ERROR) {
		fprintf(stderr,
		    "hvrelay: the service stopped with status %lu: see its log (the Application event log, or its log-file), or check the configuration with hvrelay -t -c FILE\n",
		    (unsigned long)st->dwServiceSpecificExitCode);
	} else if (st->dwWin32ExitCode != NO_ERROR) {
		print_service_error("the service stopped", st->dwWin32ExitCode);
	} else {
		fprintf(stderr, "hvrelay: the service stopped at once\n");
	}
}

/* Polls until the service is in state `want` or `give_up`, for
 * SERVICE_WAIT_MS at most; st holds the last state seen. -1 when it could
 * not be queried. */
static int
wait_for_state(SC_HANDLE svc, DWORD want, DWORD give_up, SERVICE_STATUS *st)
{
	ULONGLONG deadline = GetTickCount64() + SERVICE_WAIT_MS;

	for (;;) {
		if (!QueryServiceStatus(svc, st)) {
			print_service_error("service status", GetLastError());
			return -1;
		}
		if (st->dwCurrentState == want || st->dwCurrentState == give_up ||
		    GetTickCount64() >= deadline) {
			return 0;
		}
		Sleep(SERVICE_POLL_MS);
	}
}

static int
service_start(void)
{
	SC_HANDLE scm = NULL, svc = NULL;
	SERVICE_STATUS st;
	DWORD err;
	int status = EXIT_FAILURE;

	svc = open_service("service start", SERVICE_START | SERVICE_QUERY_STATUS,
	    &scm);
	if (svc == NULL) {
		return EXIT_FAILURE;
	}
	if (!StartServiceA(svc, 0, NULL)) {
		err = GetLastError();
		if (err == ERROR_SERVICE_ALREADY_RUNNING) {
			printf("hvrelay is already running\n");
			status = EXIT_SUCCESS;
		} else {
			print_service_error("service start", err);
		}
		goto done;
	}
	if (wait_for_state(svc, SERVICE_RUNNING, SERVICE_STOPPED, &st) != 0) {
		goto done;
	}
	if (st.dwCurrentState == SERVICE_RUNNING) {
		printf("started hvrelay: every forward is listening\n");
		status = EXIT_SUCCESS;
	} else if (st.dwCurrentState == SERVICE_STOPPED) {
		print_stopped_service(&st);
	} else {
		fprintf(stderr,
		    "hvrelay: still starting after %d s: see sc query hvrelay and the Application event log\n",
		    SERVICE_WAIT_MS / 1000);
	}
done:
	close_service(svc, scm);
	return status;
}

/* Asks the service to stop unless it has already, and waits for it:
 * 0 once it is stopped. */
static int
stop_and_wait(SC_HANDLE svc, const char *what)
{
	SERVICE_STATUS st;
	DWORD err;

	if (!QueryServiceStatus(svc, &st)) {
		print_service_error(what, GetLastError());
		return -1;
	}
	if (st.dwCurrentState == SERVICE_STOPPED) {
		return 0;
	}
	if (st.dwCurrentState != SERVICE_STOP_PENDING &&
	    !ControlService(svc, SERVICE_CONTROL_STOP, &st)) {
		err = GetLastError();
		if (err == ERROR_SERVICE_NOT_ACTIVE) {
			return 0;
		}
		print_service_error(what, err);
		return -1;
	}
	if (wait_for_state(svc, SERVICE_STOPPED, SERVICE_STOPPED, &st) != 0) {
		return -1;
	}
	if (st.dwCurrentState != SERVICE_STOPPED) {
		/* Connections may still be draining (shutdown-timeout). */
		fprintf(stderr,
		    "hvrelay: %s: still stopping after %d s: its connections may still be draining (shutdown-timeout); see sc query hvrelay\n",
		    what, SERVICE_WAIT_MS / 1000);
		return -1;
	}
	return 0;
}

static int
service_stop(void)
{
	SC_HANDLE scm = NULL, svc = NULL;
	SERVICE_STATUS st;
	int status = EXIT_FAILURE;

	svc = open_service("service stop", SERVICE_STOP | SERVICE_QUERY_STATUS,
	    &scm);
	if (svc == NULL) {
		return EXIT_FAILURE;
	}
	if (QueryServiceStatus(svc, &st) &&
	    st.dwCurrentState == SERVICE_STOPPED) {
		printf("hvrelay is not running\n");
		status = EXIT_SUCCESS;
	} else if (stop_and_wait(svc, "service stop") == 0) {
		printf("stopped hvrelay\n");
		status = EXIT_SUCCESS;
	}
	close_service(svc, scm);
	return status;
}

static int
service_reload(void)
{
	SC_HANDLE scm = NULL, svc = NULL;
	SERVICE_STATUS st;
	int status = EXIT_FAILURE;

	svc = open_service("service reload",
	    SERVICE_USER_DEFINED_CONTROL | SERVICE_QUERY_STATUS, &scm);
	if (svc == NULL) {
		return EXIT_FAILURE;
	}
	if (!ControlService(svc, HVRELAY_SERVICE_CONTROL_RELOAD, &st)) {
		print_service_error("service reload", GetLastError());
	} else {
		/* The outcome is only in the log: a bad file is reported there
		 * and the running configuration kept. */
		printf("asked hvrelay to reload its configuration\n");
		status = EXIT_SUCCESS;
	}
	close_service(svc, scm);
	return status;
}

/* The Application event log shows hvrelay's messages by this source;
 * without it they still appear, only with a note that the description is
 * missing, so a failure here is only a warning. */
static void
register_event_source(const char *exe)
{
	DWORD types = EVENTLOG_ERROR_TYPE | EVENTLOG_WARNING_TYPE |
	    EVENTLOG_INFORMATION_TYPE;
	HKEY key = NULL;
	LONG rc;

	rc = RegCreateKeyExA(HKEY_LOCAL_MACHINE, EVENTLOG_KEY, 0, NULL,
	    REG_OPTION_NON_VOLATILE, KEY_SET_VALUE, NULL, &key, NULL);
	if (rc == ERROR_SUCCESS) {
		rc = RegSetValueExA(key, "EventMessageFile", 0, REG_EXPAND_SZ,
		    (const BYTE *)exe, (DWORD)strlen(exe) + 1);
	}
	if (rc == ERROR_SUCCESS) {
		rc = RegSetValueExA(key, "TypesSupported", 0, REG_DWORD,
		    (const BYTE *)&types, sizeof(types));
	}
	if (key != NULL) {
		RegCloseKey(key);
	}
	if (rc != ERROR_SUCCESS) {
		fprintf(stderr,
		    "hvrelay: warning: cannot register the event log source (%s): the event log will show hvrelay's messages without a description\n",
		    sock_error_text((int)rc));
	}
}

static void
unregister_event_source(void)
{
	LONG rc = RegDeleteKeyA(HKEY_LOCAL_MACHINE, EVENTLOG_KEY);

	if (rc != ERROR_SUCCESS && rc != ERROR_FILE_NOT_FOUND) {
		fprintf(stderr,
		    "hvrelay: warning: cannot remove the event log source HKLM\\%s: %s\n",
		    EVENTLOG_KEY, sock_error_text((int)rc));
	}
}

/* A service that cannot load its file stops at once with nobody watching:
 * refuse to install it rather. */
static int
check_config(const char *path)
{
	struct config *cfg = config_load_reporting(path);

	if (cfg == NULL) {
		fprintf(stderr,
		    "hvrelay: service install: fix %s first (hvrelay -t -c FILE checks it)\n",
		    path);
		return -1;
	}
	if (cfg->log_target == LOG_TARGET_STDERR && cfg->log_file == NULL) {
		fprintf(stderr,
		    "hvrelay: note: %s sets 'log = stderr', which a service does not have: remove it to log to the Application event log, or set log-file\n",
		    path);
	}
	config_free(cfg);
	return 0;
}

/* The SCM runs the service elsewhere than here: it needs this program's
 * full path and the configuration's. */
static int
find_paths(const char *config_arg, char *exe, DWORD exelen, char *conf,
    DWORD conflen)
{
	DWORD n;

	n = GetModuleFileNameA(NULL, exe, exelen);
	if (n == 0 || n >= exelen) {
		fprintf(stderr, "hvrelay: service install: cannot find the path of hvrelay.exe: %s\n",
		    sock_error_text((int)GetLastError()));
		return -1;
	}
	n = GetFullPathNameA(config_arg, conflen, conf, NULL);
	if (n == 0 || n >= conflen) {
		fprintf(stderr, "hvrelay: service install: %s: not a usable path\n",
		    config_arg);
		return -1;
	}
	return 0;
}

static int
service_install(const char *config_arg)
{
	char exe[MAX_PATH], conf[MAX_PATH], bin[2 * MAX_PATH + 32];
	char description[] = SERVICE_DESCRIPTION;
	SERVICE_DESCRIPTIONA desc = { description };
	SC_HANDLE scm = NULL, svc = NULL;
	int status = EXIT_FAILURE;

	if (find_paths(config_arg, exe, sizeof(exe), conf, sizeof(conf)) != 0 ||
	    check_config(conf) != 0) {
		return EXIT_FAILURE;
	}
	/* Both quoted: either may have spaces ("C:\Program Files"). */
	snprintf(bin, sizeof(bin), "\"%s\" service run -c \"%s\"", exe, conf);
	scm = OpenSCManagerA(NULL, NULL, SC_MANAGER_CREATE_SERVICE);
	if (scm == NULL) {
		print_service_error("service install", GetLastError());
		goto done;
	}
	svc = CreateServiceA(scm, SERVICE_NAME, SERVICE_NAME,
	    SERVICE_ALL_ACCESS, SERVICE_WIN32_OWN_PROCESS, SERVICE_AUTO_START,
	    SERVICE_ERROR_NORMAL, bin, NULL, NULL, NULL, NULL, NULL);
	if (svc == NULL) {
		print_service_error("service install", GetLastError());
		goto done;
	}
	if (!ChangeServiceConfig2A(svc, SERVICE_CONFIG_DESCRIPTION, &desc)) {
		fprintf(stderr, "hvrelay: warning: cannot set the description: %s\n",
		    sock_error_text((int)GetLastError()));
	}
	register_event_source(exe);
	printf("installed service hvrelay (automatic start): %s\n", bin);
	printf("start it now with: hvrelay service start\n");
	status = EXIT_SUCCESS;
done:
	close_service(svc, scm);
	return status;
}

static int
service_uninstall(void)
{
	SC_HANDLE scm = NULL, svc = NULL;
	int stopped, status = EXIT_FAILURE;

	svc = open_service("service uninstall",
	    SERVICE_STOP | SERVICE_QUERY_STATUS | DELETE, &scm);
	if (svc == NULL) {
		return EXIT_FAILURE;
	}
	stopped = stop_and_wait(svc, "service uninstall") == 0;
	if (!DeleteService(svc)) {
		print_service_error("service uninstall", GetLastError());
		goto done;
	}
	unregister_event_source();
	if (stopped) {
		printf("uninstalled service hvrelay\n");
	} else {
		printf("service hvrelay will be uninstalled once it has stopped\n");
	}
	status = EXIT_SUCCESS;
done:
	close_service(svc, scm);
	return status;
}

/* Tells the SCM where the service is; a "running" that comes after the
 * stop began (a reload finishing late) must not undo it. */
static void
set_service_state(DWORD state, DWORD wait_hint)
{
	DWORD now;

	EnterCriticalSection(&status_lock);
	now = service_status.dwCurrentState;
	if (state == SERVICE_RUNNING &&
	    (now == SERVICE_STOP_PENDING || now == SERVICE_STOPPED)) {
		LeaveCriticalSection(&status_lock);
		return;
	}
	service_status.dwCurrentState = state;
	service_status.dwControlsAccepted = state == SERVICE_RUNNING ?
	    SERVICE_ACCEPT_STOP | SERVICE_ACCEPT_SHUTDOWN |
	    SERVICE_ACCEPT_PARAMCHANGE : 0;
	service_status.dwWaitHint = wait_hint;
	if (state == SERVICE_START_PENDING || state == SERVICE_STOP_PENDING) {
		service_status.dwCheckPoint++;
	} else {
		service_status.dwCheckPoint = 0;
	}
	(void)SetServiceStatus(status_handle, &service_status);
	LeaveCriticalSection(&status_lock);
}

void
service_report_running(void)
{
	if (status_handle != NULL) {
		set_service_state(SERVICE_RUNNING, 0);
	}
}

void
service_report_stopping(void)
{
	if (status_handle != NULL) {
		set_service_state(SERVICE_STOP_PENDING, STOP_WAIT_HINT_MS);
	}
}

/* The daemon's exit status becomes a service-specific exit code, which
 * "sc query hvrelay" shows. */
static void
report_stopped(int exit_status)
{
	EnterCriticalSection(&status_lock);
	service_status.dwCurrentState = SERVICE_STOPPED;
	service_status.dwControlsAccepted = 0;
	service_status.dwCheckPoint = 0;
	service_status.dwWaitHint = 0;
	service_status.dwWin32ExitCode = exit_status == EXIT_SUCCESS ?
	    NO_ERROR : ERROR_SERVICE_SPECIFIC_ERROR;
	service_status.dwServiceSpecificExitCode = (DWORD)exit_status;
	(void)SetServiceStatus(status_handle, &service_status);
	LeaveCriticalSection(&status_lock);
}

static DWORD
current_state(void)
{
	DWORD state;

	EnterCriticalSection(&status_lock);
	state = service_status.dwCurrentState;
	LeaveCriticalSection(&status_lock);
	return state;
}

/* Runs on the dispatcher's thread while the daemon runs on its own: it
 * must not log or touch the daemon, only post requests to its loop. */
static DWORD WINAPI
on_control(DWORD control, DWORD type, LPVOID data, LPVOID context)
{
	(void)type;
	(void)data;
	(void)context;
	switch (control) {
	case SERVICE_CONTROL_STOP:
	case SERVICE_CONTROL_SHUTDOWN:
		set_service_state(SERVICE_STOP_PENDING, STOP_WAIT_HINT_MS);
		platform_post_request(REQUEST_STOP);
		return NO_ERROR;
	case SERVICE_CONTROL_PARAMCHANGE:
	case HVRELAY_SERVICE_CONTROL_RELOAD:
		/* The SCM passes user-defined controls on in any state: before
		 * RUNNING the loop cannot take requests yet, and once stopping
		 * it is going away. */
		if (current_state() != SERVICE_RUNNING) {
			return ERROR_SERVICE_CANNOT_ACCEPT_CTRL;
		}
		platform_post_request(REQUEST_RELOAD);
		return NO_ERROR;
	case SERVICE_CONTROL_INTERROGATE:
		/* The SCM answers with the state reported last. */
		return NO_ERROR;
	default:
		return ERROR_CALL_NOT_IMPLEMENTED;
	}
}

/* What main() does for a console run. A service has no stderr: its log
 * goes to the event log unless the configuration says otherwise. */
static int
run_daemon(const char *path)
{
	struct config *cfg = NULL;
	char *errors = NULL;

	log_init(LOG_TARGET_SYSTEM);
	cfg = config_load(path, &errors);
	if (cfg == NULL) {
		log_error("cannot start, the configuration has errors:\n%s",
		    errors != NULL ? errors : "out of memory");
		free(errors);
		return EXIT_FAILURE;
	}
	return daemon_run(cfg, path);
}

static void WINAPI
service_main(DWORD argc, LPSTR *argv)
{
	(void)argc;
	(void)argv;
	status_handle = RegisterServiceCtrlHandlerExA(SERVICE_NAME, on_control,
	    NULL);
	if (status_handle == NULL) {
		/* Without a handle the SCM cannot even be told. */
		return;
	}
	service_status.dwServiceType = SERVICE_WIN32_OWN_PROCESS;
	set_service_state(SERVICE_START_PENDING, START_WAIT_HINT_MS);
	run_exit_status = run_daemon(run_config_path);
	report_stopped(run_exit_status);
}

static int
service_run(const char *path)
{
	static char name[] = SERVICE_NAME;
	const SERVICE_TABLE_ENTRYA table[] = {
		{ name, service_main },
		{ NULL, NULL },
	};
	DWORD err;

	run_config_path = path;
	InitializeCriticalSection(&status_lock);
	if (!StartServiceCtrlDispatcherA(table)) {
		err = GetLastError();
		if (err == ERROR_FAILED_SERVICE_CONTROLLER_CONNECT) {
			fprintf(stderr,
			    "hvrelay: hvrelay service run is started by the Service Control Manager; to run in a console use: hvrelay -c FILE\n");
		} else {
			print_service_error("service run", err);
		}
		return EXIT_FAILURE;
	}
	return run_exit_status;
}

static void
service_usage(void)
{
	printf("usage: hvrelay service install [-c FILE]  register the service (automatic start)\n"
	    "       hvrelay service uninstall          stop it and remove it\n"
	    "       hvrelay service start|stop         start or stop it, waiting up to %d s\n"
	    "       hvrelay service reload             re-read its configuration\n"
	    "       hvrelay service run [-c FILE]      what the Service Control Manager runs\n"
	    "\n"
	    "  -c, --config FILE  configuration (default %s)\n",
	    SERVICE_WAIT_MS / 1000, platform_default_config());
}

/* argv[0] is the action, then its options. NULL path: none given. */
static int
parse_service_options(int argc, char **argv, const char **path)
{
	static const struct option long_options[] = {
		{ "config", required_argument, NULL, 'c' },
		{ NULL, 0, NULL, 0 },
	};
	char msg[256];
	int opt;

	optind = 1;
	opterr = 0;
	while ((opt = getopt_long(argc, argv, "c:", long_options, NULL)) != -1) {
		if (opt != 'c') {
			snprintf(msg, sizeof(msg),
			    "service %s: unknown option or missing FILE", argv[0]);
			return usage_error(msg);
		}
		*path = optarg;
	}
	if (optind < argc) {
		snprintf(msg, sizeof(msg), "service %s: unexpected argument '%s'",
		    argv[0], argv[optind]);
		return usage_error(msg);
	}
	return 0;
}

int
service_command(int argc, char **argv)
{
	const char *action = NULL, *path = NULL;
	int rc, takes_config;

	if (argc < 2) {
		return usage_error(
		    "service takes install, uninstall, start, stop, reload or run");
	}
	action = argv[1];
	if (strcmp(action, "--help") == 0 || strcmp(action, "-h") == 0) {
		service_usage();
		return EXIT_SUCCESS;
	}
	rc = parse_service_options(argc - 1, argv + 1, &path);
	if (rc != 0) {
		return rc;
	}
	takes_config = strcmp(action, "install") == 0 ||
	    strcmp(action, "run") == 0;
	if (path != NULL && !takes_config) {
		return usage_error(
		    "-c goes with service install and run: the installed service keeps the file it was installed with");
	}
	if (path == NULL) {
		path = platform_default_config();
	}
	if (strcmp(action, "install") == 0) {
		return service_install(path);
	} else if (strcmp(action, "uninstall") == 0) {
		return service_uninstall();
	} else if (strcmp(action, "start") == 0) {
		return service_start();
	} else if (strcmp(action, "stop") == 0) {
		return service_stop();
	} else if (strcmp(action, "reload") == 0) {
		return service_reload();
	} else if (strcmp(action, "run") == 0) {
		return service_run(path);
	}
	return usage_error(
	    "service takes install, uninstall, start, stop, reload or run");
}
