/* A minimal TAP producer for the unit tests. */
#ifndef HVRELAY_TAP_H
#define HVRELAY_TAP_H

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static int tap_count;
static int tap_failed;

static inline void __attribute__((format(gnu_printf, 2, 3)))
tap_ok(int pass, const char *fmt, ...)
{
	va_list ap;

	tap_count++;
	if (!pass) {
		tap_failed++;
	}
	printf("%s %d - ", pass ? "ok" : "not ok", tap_count);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
}

/* Compares strings and shows both when they differ. */
static inline void
tap_str(const char *got, const char *want, const char *name)
{
	int pass = got != NULL && strcmp(got, want) == 0;

	tap_ok(pass, "%s", name);
	if (!pass) {
		printf("#   got:  '%s'\n#   want: '%s'\n",
		    got != NULL ? got : "(null)", want);
	}
}

static inline int
tap_done(void)
{
	printf("1..%d\n", tap_count);
	return tap_failed == 0 ? 0 : 1;
}

#endif
