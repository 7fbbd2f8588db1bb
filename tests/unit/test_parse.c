#include "autoconfig.h"

#include "parse.h"
#include "tap.h"

static void
duration_is(const char *text, uint64_t want)
{
	uint64_t got = 0;
	int rc = parse_duration_ms(text, &got);

	tap_ok(rc == 0 && got == want, "duration '%s' = %llu ms", text,
	    (unsigned long long)want);
}

static void
duration_rejected(const char *text)
{
	uint64_t got = 0;

	tap_ok(parse_duration_ms(text, &got) != 0,
	    "duration '%s' is rejected", text);
}

static void
test_durations(void)
{
	duration_is("500ms", 500);
	duration_is("5s", 5000);
	duration_is("2m", 120000);
	duration_is("1h", 3600000);
	duration_is("7", 7000);
	duration_is("0", 0);
	duration_rejected("");
	duration_rejected("5 s");
	duration_rejected("-1s");
	duration_rejected("1.5s");
	duration_rejected("5x");
	duration_rejected("s");
	duration_rejected("99999999999999999999");
	duration_rejected("9000h");
}

static void
test_numbers(void)
{
	uint64_t v = 0;

	tap_ok(parse_uint("65535", 1, 65535, &v) == 0 && v == 65535,
	    "uint at its maximum");
	tap_ok(parse_uint("65536", 1, 65535, &v) != 0, "uint above maximum");
	tap_ok(parse_uint("0", 1, 65535, &v) != 0, "uint below minimum");
	tap_ok(parse_uint("+5", 0, 10, &v) != 0, "uint with a sign");
	tap_ok(parse_uint("5 ", 0, 10, &v) != 0, "uint with trailing space");
	tap_ok(parse_uint("18446744073709551616", 0, UINT64_MAX, &v) != 0,
	    "uint overflow");
	tap_ok(parse_size("256K", 1 << 30, &v) == 0 && v == 262144,
	    "size 256K");
	tap_ok(parse_size("2M", 1 << 30, &v) == 0 && v == 2097152, "size 2M");
	tap_ok(parse_size("1G", 1 << 29, &v) != 0, "size above maximum");
	tap_ok(parse_size("1k", 1 << 30, &v) != 0, "size lower-case suffix");
}

static void
test_bools(void)
{
	int v = -1;

	tap_ok(parse_bool("yes", &v) == 0 && v == 1, "yes");
	tap_ok(parse_bool("off", &v) == 0 && v == 0, "off");
	tap_ok(parse_bool("true", &v) == 0 && v == 1, "true");
	tap_ok(parse_bool("Yes", &v) != 0, "case matters");
	tap_ok(parse_bool("1", &v) != 0, "numbers are not booleans");
}

int
main(void)
{
	test_durations();
	test_numbers();
	test_bools();
	return tap_done();
}
