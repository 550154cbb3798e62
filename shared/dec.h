/* dec.h -- exact decimals: scaled integers, checked arithmetic, exact printing */
#ifndef SHARED_DEC_H
#define SHARED_DEC_H

#include <stddef.h>
#include <stdint.h>

/*
 * A decimal field with scale s stores value * 10^s as an int64 ("12.50" at
 * scale 2 is 1250). Ints are decimals with scale 0. Sums are 128-bit, so the
 * sum of 2^63 values of 15 significant digits cannot overflow; dec_add still
 * checks and reports overflow rather than wrapping.
 */
__extension__ typedef __int128 dec_i128;

#define DEC_MAX_SCALE 9
#define DEC_MAX_DIGITS 15
#define DEC_MAX_ABS 999999999999999LL   /* largest scaled magnitude: 15 digits */

enum dec_status {
    DEC_OK = 0,
    DEC_SCALE = 1,  /* more fractional digits than the scale allows */
    DEC_RANGE = 2,  /* NaN, infinite, or more than DEC_MAX_DIGITS digits */
    DEC_SYNTAX = 3  /* dec_round_text(): not a number */
};

/*
 * Rounded values (float fields, decimals with "round": true) come from the
 * number's text, so they may use every bit of the int64: at scale 6 that is
 * up to 9223372036854.775807. Their sums stay exact in 128 bits for any
 * number of events a store can hold.
 */
#define DEC_ROUND_MAX INT64_MAX

/*
 * Convert a double (as cJSON hands numbers over) to a scaled integer at scale
 * (0..DEC_MAX_SCALE). Exact for every decimal of up to 15 significant digits
 * with at most `scale` fractional digits; a value with more fractional digits
 * is DEC_SCALE (never rounded silently). Returns DEC_OK and sets *out.
 */
enum dec_status dec_from_double(double d, int scale, int64_t *out);

/*
 * Parse decimal text ("12.5", "-3", "0.05") at scale into *out, with the same
 * rules as dec_from_double (too many fractional digits is DEC_SCALE). Returns
 * DEC_OK, DEC_SCALE or DEC_RANGE (also for malformed text).
 */
enum dec_status dec_parse(const char *s, int scale, int64_t *out);

/*
 * Round the number text s[0..len) to scale (0..DEC_MAX_SCALE) fractional
 * digits, half to even, exactly: from the digits as written, never through a
 * double, so "0.1234565000000000001" at scale 6 is 123457 and "0.1234565"
 * is 123456. Text is [-]digits[.digits][(e|E)[+|-]digits], with the integer
 * or the fraction digits possibly empty ("5.", "-.5", as cJSON accepts them)
 * and any number of digits; -0.0 is 0. Returns DEC_OK and sets *out,
 * DEC_RANGE when the rounded magnitude exceeds DEC_ROUND_MAX, or DEC_SYNTAX.
 */
enum dec_status dec_round_text(const char *s, size_t len, int scale,
    int64_t *out);

/* *acc += v. Returns 0, or -1 on overflow (then *acc is unchanged). */
int dec_add(dec_i128 *acc, dec_i128 v);

/*
 * Print v / 10^scale exactly with exactly `scale` fractional digits
 * ("12.50", "-0.05", "3" at scale 0) into buf. size >= DEC_BUFSZ.
 * Returns buf.
 */
#define DEC_BUFSZ 48
char *dec_format(dec_i128 v, int scale, char *buf, size_t size);

/*
 * Print sum / n (n > 0) at scale + extra fractional digits, rounded half away
 * from zero, exactly (no floating point): avg of 1000 and 2001 at scale 2,
 * extra 2 is "15.0050". Returns buf.
 */
char *dec_format_ratio(dec_i128 sum, int64_t n, int scale, int extra,
    char *buf, size_t size);

/* The same two, returning the end of the text (its NUL): for writers that
 * append in place (buf_space()). */
char *dec_format_end(dec_i128 v, int scale, char *buf, size_t size);
char *dec_format_ratio_end(dec_i128 sum, int64_t n, int scale, int extra,
    char *buf, size_t size);

/* Print d as the shortest text that reads back as d ("12.345", "1e+20"),
 * or "NaN", "Infinity", "-Infinity": for messages that quote a number as
 * cJSON parsed it. Returns buf. */
char *dec_format_double(double d, char *buf, size_t size);

#endif
