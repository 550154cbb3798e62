/* ts.h -- event time: RFC 3339 and epoch parsing, formatting, durations, buckets */
#ifndef SHARED_TS_H
#define SHARED_TS_H

#include <stddef.h>
#include <stdint.h>

/*
 * All times are int64 milliseconds since 1970-01-01T00:00:00Z (UTC). Valid
 * event times lie in [TS_MIN, TS_MAX]: 1970-01-01 up to 9999-12-31T23:59:59.999Z.
 * Durations are int64 milliseconds too.
 */
#define TS_MIN 0LL
#define TS_MAX 253402300799999LL
#define TS_DAY_MS 86400000LL

/*
 * Parse RFC 3339 text of length len (not NUL-terminated necessarily):
 * "2026-11-20T13:00:00Z", fractions of any length (truncated to ms),
 * offsets "Z", "z", "+02:00", "-05:30"; 't' or ' ' between date and time.
 * Rejects invalid dates (Feb 30), out-of-range fields and times outside
 * [TS_MIN, TS_MAX]. Returns 0 and sets *ms, or -1.
 */
int ts_parse(const char *s, size_t len, int64_t *ms);

/*
 * Interpret a JSON number as an epoch time: values whose magnitude is at least
 * 1e11 are milliseconds, smaller ones seconds (fractions allowed: 1.5 is
 * 1500 ms). NaN, infinities and results outside [TS_MIN, TS_MAX] fail.
 * Returns 0 and sets *ms, or -1.
 */
int ts_from_number(double d, int64_t *ms);

/*
 * Parse a query parameter: RFC 3339 text or integer epoch seconds
 * ("1763643600"). Returns 0 and sets *ms, or -1.
 */
int ts_param_parse(const char *s, int64_t *ms);

/*
 * Format ms as RFC 3339 UTC into buf: "2026-11-20T13:00:00Z", or with
 * ".123" before the Z when ms is not a whole second. Returns buf. size must
 * be at least TS_BUFSZ. Values past 9999-12-31 print as TS_MAX, values far
 * below year 1 as a time in year -9999 (no event has either).
 */
#define TS_BUFSZ 32
char *ts_format(int64_t ms, char *buf, size_t size);
/* The same, returning the end of the text (its NUL). */
char *ts_format_end(int64_t ms, char *buf, size_t size);

/*
 * Parse a duration: a positive integer followed by a unit, one of
 * "ms", "s", "m", "h", "d" ("250ms", "10m", "1d"). Returns 0 and sets *ms,
 * or -1 for anything else (no unit, zero, negative, overflow).
 */
int ts_duration_parse(const char *s, int64_t *ms);

/* Format a duration the way ts_duration_parse() reads it, with the largest
 * unit that divides it exactly ("1h", "90s"). Returns buf. */
char *ts_duration_format(int64_t ms, char *buf, size_t size);

/* Greatest common divisor of two durations (> 0): the widest bucket both
 * are multiples of. */
int64_t ts_gcd(int64_t a, int64_t b);

/* Start of the bucket of width gran (> 0) holding t: floor(t / gran) * gran,
 * correct for negative t. Within gran of INT64_MIN, where that start does
 * not fit, the lowest start that does. */
int64_t ts_bucket(int64_t t, int64_t gran);

#endif
