#include "autoconfig.h"

#include <ctype.h>
#include <string.h>

#include "parse.h"

/* Reads the leading digits of text; *rest points after them. */
static int
parse_digits(const char *text, uint64_t *out, const char **rest)
{
	uint64_t value = 0;
	const char *p = text;

	if (!isdigit((unsigned char)*p)) {
		return -1;
	}
	for (; isdigit((unsigned char)*p); p++) {
		unsigned digit = (unsigned)(*p - '0');

		if (value > (UINT64_MAX - digit) / 10) {
			return -1;
		}
		value = value * 10 + digit;
	}
	*out = value;
	*rest = p;
	return 0;
}

int
parse_uint(const char *text, uint64_t min, uint64_t max, uint64_t *out)
{
	const char *rest = NULL;
	uint64_t value;

	if (parse_digits(text, &value, &rest) != 0 || *rest != '\0') {
		return -1;
	}
	if (value < min || value > max) {
		return -1;
	}
	*out = value;
	return 0;
}

struct unit {
	const char *suffix;
	uint64_t factor;
};

/* Multiplies the leading number of text by the factor its suffix names. */
static int
parse_with_units(const char *text, const struct unit *units, uint64_t max,
    uint64_t *out)
{
	const char *rest = NULL;
	uint64_t value;
	size_t i;

	if (parse_digits(text, &value, &rest) != 0) {
		return -1;
	}
	for (i = 0; units[i].suffix != NULL; i++) {
		if (strcmp(rest, units[i].suffix) != 0) {
			continue;
		}
		if (value > max / units[i].factor) {
			return -1;
		}
		*out = value * units[i].factor;
		return 0;
	}
	return -1;
}

int
parse_duration_ms(const char *text, uint64_t *out_ms)
{
	static const struct unit units[] = {
		{ "", 1000 }, { "ms", 1 }, { "s", 1000 }, { "m", 60000 },
		{ "h", 3600000 }, { NULL, 0 },
	};

	return parse_with_units(text, units, DURATION_MAX_MS, out_ms);
}

int
parse_bool(const char *text, int *out)
{
	static const char *const yes[] = { "yes", "on", "true" };
	static const char *const no[] = { "no", "off", "false" };
	size_t i;

	for (i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
		if (strcmp(text, yes[i]) == 0 || strcmp(text, no[i]) == 0) {
			*out = strcmp(text, yes[i]) == 0;
			return 0;
		}
	}
	return -1;
}

int
parse_size(const char *text, uint64_t max, uint64_t *out)
{
	static const struct unit units[] = {
		{ "", 1 }, { "K", 1024 }, { "M", 1024 * 1024 },
		{ "G", 1024 * 1024 * 1024 }, { NULL, 0 },
	};

	return parse_with_units(text, units, max, out);
}
