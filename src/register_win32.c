/* Hyper-V lets a host program use a service GUID only once the host has it
 * in the registry (a key named after the GUID with an ElementName):
 * "hvrelay register" adds, lists and removes those keys. */
#include "autoconfig.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <winsock2.h>
#include <windows.h>

#include "config.h"
#include "endpoint.h"
#include "parse.h"
#include "service_win32.h"
#include "sock.h"
#include "usage.h"

#define GCS_KEY \
	"SOFTWARE\\Microsoft\\Windows NT\\CurrentVersion\\Virtualization\\GuestCommunicationServices"
#define GCS_PATH_MAX (sizeof(GCS_KEY) + GUID_TEXT_LEN + 1)
#define ELEMENT_NAME_MAX 256
/* Hyper-V reads the 64-bit view, whichever way this program was built. */
#define REG_VIEW KEY_WOW64_64KEY

static void
print_registry_error(const char *what, LONG rc)
{
	fprintf(stderr, "hvrelay: register: %s: %s%s\n", what,
	    sock_error_text((int)rc), rc == ERROR_ACCESS_DENIED ?
	    ": run it from an elevated prompt (Run as administrator)" : "");
}

/* A vsock port stands for its template GUID, as in "hvrelay guid". */
static int
parse_service_id(const char *text, struct guid *g)
{
	uint64_t port;

	if (parse_uint(text, 0, VSOCK_PORT_MAX, &port) == 0) {
		guid_from_port((uint32_t)port, g);
		return 0;
	}
	return guid_parse(text, g);
}

/* " (port 22)" for a template GUID, "" for any other. */
static void
port_note(const struct guid *g, char *out, size_t outlen)
{
	uint32_t port;

	if (guid_to_port(g, &port) == 0) {
		snprintf(out, outlen, " (port %u)", (unsigned)port);
	} else if (outlen > 0) {
		out[0] = '\0';
	}
}

static void
key_path(const struct guid *g, char text[GUID_TEXT_LEN + 1], char *path,
    size_t pathlen)
{
	/* Microsoft's own keys are bare GUIDs, without braces. */
	guid_format(g, text);
	snprintf(path, pathlen, "%s\\%s", GCS_KEY, text);
}

static int
register_guid(const struct guid *g, const char *name)
{
	char text[GUID_TEXT_LEN + 1], path[GCS_PATH_MAX], note[32];
	DWORD disposition = 0;
	HKEY key = NULL;
	LONG rc;

	key_path(g, text, path, sizeof(path));
	port_note(g, note, sizeof(note));
	rc = RegCreateKeyExA(HKEY_LOCAL_MACHINE, path, 0, NULL,
	    REG_OPTION_NON_VOLATILE, KEY_SET_VALUE | REG_VIEW, NULL, &key,
	    &disposition);
	if (rc == ERROR_SUCCESS) {
		rc = RegSetValueExA(key, "ElementName", 0, REG_SZ,
		    (const BYTE *)name, (DWORD)strlen(name) + 1);
		RegCloseKey(key);
	}
	if (rc != ERROR_SUCCESS) {
		print_registry_error(text, rc);
		return -1;
	}
	printf("%s %s%s as \"%s\"\n",
	    disposition == REG_OPENED_EXISTING_KEY ? "updated" : "registered",
	    text, note, name);
	return 0;
}

static int
register_one(const char *arg, const char *name)
{
	char text[GUID_TEXT_LEN + 1], default_name[ELEMENT_NAME_MAX];
	struct guid g;
	uint32_t port;

	if (parse_service_id(arg, &g) != 0) {
		return usage_error(
		    "register: expected a port number (0 to 4294967294) or a GUID");
	}
	if (name == NULL) {
		guid_format(&g, text);
		if (guid_to_port(&g, &port) == 0) {
			snprintf(default_name, sizeof(default_name),
			    "hvrelay port %u", (unsigned)port);
		} else {
			snprintf(default_name, sizeof(default_name), "hvrelay %s",
			    text);
		}
		name = default_name;
	}
	if (name[0] == '\0' || strlen(name) >= ELEMENT_NAME_MAX) {
		return usage_error("register: NAME must have 1 to 255 characters");
	}
	return register_guid(&g, name) == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}

static int
already_seen(const struct guid *seen, size_t nseen, const struct guid *g)
{
	size_t i;

	for (i = 0; i < nseen; i++) {
		if (guid_equal(&seen[i], g)) {
			return 1;
		}
	}
	return 0;
}

/* Every hvsock: service of the file once, named after its first forward. */
static int
register_config(const char *path)
{
	struct config *cfg = NULL;
	struct guid *seen = NULL;
	const struct endpoint *eps[2];
	char name[ELEMENT_NAME_MAX];
	size_t i, j, nseen = 0;

	cfg = config_load_reporting(path);
	if (cfg == NULL) {
		goto fail;
	}
	seen = calloc(2 * cfg->nforwards, sizeof(*seen));
	if (seen == NULL) {
		fprintf(stderr, "hvrelay: out of memory\n");
		goto fail;
	}
	for (i = 0; i < cfg->nforwards; i++) {
		eps[0] = &cfg->forwards[i].listen;
		eps[1] = &cfg->forwards[i].connect;
		for (j = 0; j < 2; j++) {
			if (eps[j]->kind != ENDPOINT_HVSOCK ||
			    already_seen(seen, nseen, &eps[j]->u.hv.service)) {
				continue;
			}
			seen[nseen++] = eps[j]->u.hv.service;
			snprintf(name, sizeof(name), "hvrelay %s",
			    cfg->forwards[i].name);
			if (register_guid(&eps[j]->u.hv.service, name) != 0) {
				goto fail;
			}
		}
	}
	if (nseen == 0) {
		printf("%s has no hvsock: endpoint: nothing to register\n", path);
	}
	free(seen);
	config_free(cfg);
	return EXIT_SUCCESS;
fail:
	free(seen);
	config_free(cfg);
	return EXIT_FAILURE;
}

static void
read_element_name(HKEY root, const char *subkey, char *out, size_t outlen)
{
	DWORD size = (DWORD)outlen - 1, type = 0;
	HKEY key = NULL;

	out[0] = '\0';
	if (RegOpenKeyExA(root, subkey, 0, KEY_QUERY_VALUE | REG_VIEW,
	    &key) != ERROR_SUCCESS) {
		return;
	}
	if (RegQueryValueExA(key, "ElementName", NULL, &type, (BYTE *)out,
	    &size) != ERROR_SUCCESS || type != REG_SZ) {
		size = 0;
	}
	/* A stored string need not end with its NUL. */
	out[size < outlen ? size : outlen - 1] = '\0';
	RegCloseKey(key);
}

static void
print_registered(HKEY root, const char *subkey, int first)
{
	char element[ELEMENT_NAME_MAX], port_text[16] = "-";
	struct guid g;
	uint32_t port;

	if (guid_parse(subkey, &g) == 0 && guid_to_port(&g, &port) == 0) {
		snprintf(port_text, sizeof(port_text), "%u", (unsigned)port);
	}
	read_element_name(root, subkey, element, sizeof(element));
	if (first) {
		printf("%-36s  %-10s  %s\n", "GUID", "PORT", "NAME");
	}
	printf("%-36s  %-10s  %s\n", subkey, port_text, element);
}

static int
list_registered(void)
{
	char subkey[256];
	HKEY root = NULL;
	DWORD i, len;
	LONG rc;

	rc = RegOpenKeyExA(HKEY_LOCAL_MACHINE, GCS_KEY, 0, KEY_READ | REG_VIEW,
	    &root);
	if (rc == ERROR_FILE_NOT_FOUND) {
		printf("no service GUID is registered on this host\n");
		return EXIT_SUCCESS;
	}
	if (rc != ERROR_SUCCESS) {
		print_registry_error("--list", rc);
		return EXIT_FAILURE;
	}
	for (i = 0;; i++) {
		len = sizeof(subkey);
		rc = RegEnumKeyExA(root, i, subkey, &len, NULL, NULL, NULL, NULL);
		if (rc != ERROR_SUCCESS) {
			break;
		}
		print_registered(root, subkey, i == 0);
	}
	RegCloseKey(root);
	if (rc != ERROR_NO_MORE_ITEMS) {
		print_registry_error("--list", rc);
		return EXIT_FAILURE;
	}
	if (i == 0) {
		printf("no service GUID is registered on this host\n");
	}
	return EXIT_SUCCESS;
}

static int
remove_registered(const char *arg)
{
	char text[GUID_TEXT_LEN + 1], path[GCS_PATH_MAX], note[32];
	struct guid g;
	LONG rc;

	if (parse_service_id(arg, &g) != 0) {
		return usage_error(
		    "register --remove: expected a port number (0 to 4294967294) or a GUID");
	}
	key_path(&g, text, path, sizeof(path));
	port_note(&g, note, sizeof(note));
	rc = RegDeleteKeyExA(HKEY_LOCAL_MACHINE, path, REG_VIEW, 0);
	if (rc == ERROR_FILE_NOT_FOUND) {
		fprintf(stderr,
		    "hvrelay: register: %s%s is not registered (hvrelay register --list shows what is)\n",
		    text, note);
		return EXIT_FAILURE;
	}
	if (rc != ERROR_SUCCESS) {
		print_registry_error(text, rc);
		return EXIT_FAILURE;
	}
	printf("removed %s%s\n", text, note);
	return EXIT_SUCCESS;
}

static void
register_usage(void)
{
	printf("usage: hvrelay register PORT|GUID [NAME]   let Hyper-V sockets use this service\n"
	    "       hvrelay register -c FILE            every hvsock: service of FILE\n"
	    "       hvrelay register --list             the registered services\n"
	    "       hvrelay register --remove PORT|GUID\n"
	    "\n"
	    "A PORT stands for its GUID PORT-facb-11e6-bd58-64006a7986d3 (port in hex).\n"
	    "Changing the registration needs an elevated prompt (Run as administrator).\n");
}

int
register_command(int argc, char **argv)
{
	static const struct option long_options[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "list", no_argument, NULL, 'l' },
		{ "remove", required_argument, NULL, 'r' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *config_path = NULL, *remove = NULL;
	int list = 0, opt, modes;

	optind = 1;
	opterr = 0;
	while ((opt = getopt_long(argc, argv, "c:", long_options, NULL)) != -1) {
		if (opt == 'c') {
			config_path = optarg;
		} else if (opt == 'l') {
			list = 1;
		} else if (opt == 'r') {
			remove = optarg;
		} else if (opt == 'h') {
			register_usage();
			return EXIT_SUCCESS;
		} else {
			return usage_error(
			    "register: unknown option or missing argument");
		}
	}
	modes = (config_path != NULL) + list + (remove != NULL) + (optind < argc);
	if (modes != 1 || argc - optind > 2) {
		return usage_error(
		    "register takes PORT|GUID [NAME], -c FILE, --list or --remove PORT|GUID");
	}
	if (config_path != NULL) {
		return register_config(config_path);
	}
	if (list) {
		return list_registered();
	}
	if (remove != NULL) {
		return remove_registered(remove);
	}
	return register_one(argv[optind],
	    optind + 1 < argc ? argv[optind + 1] : NULL);
}
