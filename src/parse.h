/* Strict parsers for the scalar values of the configuration and command line. */
#ifndef HVRELAY_PARSE_H
#define HVRELAY_PARSE_H

#include <stdint.h>

/* Longest accepted duration: one year, far beyond any sensible timeout. */
#define DURATION_MAX_MS (366ULL * 24 * 3600 * 1000)

/* Whole decimal number in [min, max]; no sign, no spaces, no trailing junk. */
int parse_uint(const char *text, uint64_t min, uint64_t max, uint64_t *out);

/* "500ms", "5s", "2m", "1h", or a bare number of seconds. */
int parse_duration_ms(const char *text, uint64_t *out_ms);

/* yes/no, on/off, true/false. */
int parse_bool(const char *text, int *out);

/* A byte count with an optional K, M or G suffix (powers of 1024). */
int parse_size(const char *text, uint64_t max, uint64_t *out);

#endif
