/* moments.h -- stddev states: count, exact sum and exact sum of squares */
#ifndef SHARED_MOMENTS_H
#define SHARED_MOMENTS_H

#include <stddef.h>
#include <stdint.h>

/*
 * The state of stddev(f) and stddev_pop(f): MOMENTS_SLOTS int64 slots
 *     [n, sum lo, sum hi, sq 0, sq 1, sq 2]
 * n the values seen, sum their 128-bit signed sum (low, high 64 bits),
 * sq the 192-bit unsigned sum of their squares (least significant 64 bits
 * first). Values are the field's scaled integers (dec.h), so every slot is
 * an exact integer and a merge is three additions: the state of a set of
 * values is the same bytes in whatever order or split they come. All zeros
 * is the empty state. 2^63 values of any int64 fit without overflow; the
 * functions still check and refuse rather than wrap.
 *
 * The answer is computed from the state alone, exactly:
 *     V = n * sq - sum^2       (n^2 times the population variance)
 *     stddev     = sqrt(V / (n (n - 1)))      (sample, as SQL and Spark)
 *     stddev_pop = sqrt(V / n^2)
 * in integers of up to 384 bits, rounded half away from zero to two digits
 * more than the field's scale (like avg); no floating point, so every
 * layer prints the same digits and they are the true ones.
 */

#define MOMENTS_SLOTS 6

/* Add value v to state s. Returns 0, or -1 on overflow (s unchanged). */
int moments_add(int64_t *s, int64_t v);

/* dst = dst (+) src. Returns 0, or -1 on overflow (dst unchanged). */
int moments_merge(int64_t *dst, const int64_t *src);

/* Nonzero when moments_add(s, v), or moments_merge(s, src) with src given,
 * would succeed (src NULL: the add). For callers that check a whole row
 * before they write any of it. */
int moments_fits(const int64_t *s, const int64_t *src, int64_t v);

/* Nonzero when the state has an answer: n >= 2 (sample), n >= 1 (pop). */
int moments_defined(const int64_t *s, int pop);

/*
 * The standard deviation of state s (sample, or population when pop) at
 * the field's scale (0..9) plus 2 fractional digits, rounded half away from
 * zero, into buf (size >= DEC_BUFSZ): "1.29" for the sample stddev of
 * {1, 2, 3, 4} at scale 0, "0.0112" for the population one of {0.01, 0.02,
 * 0.03, 0.04} at scale 2. Returns buf, or NULL when undefined
 * (moments_defined() is 0: the answer is null).
 */
char *moments_format(const int64_t *s, int pop, int scale, char *buf,
    size_t size);

/*
 * Compare the standard deviations of a and b exactly: <0, 0, >0 like
 * strcmp; an undefined one sorts below every defined one.
 */
int moments_cmp(const int64_t *a, const int64_t *b, int pop);

#endif
