/* agg.h -- metric states: one row per (view, group, bucket), one merge for every layer */
#ifndef SHARED_AGG_H
#define SHARED_AGG_H

#include <stddef.h>
#include <stdint.h>

#include "shared/buf.h"
#include "shared/event.h"
#include "shared/pipeline.h"

/*
 * A row is an array of view->nslots int64 slots. Each metric owns
 * consecutive slots from metric->slot (metric_slots() says how many):
 *     count      [n]
 *     sum, avg   [n, lo, hi]   n values; 128-bit sum, low then high 64 bits
 *     min, max   [n, v]        v is 0 while n == 0
 *     stddev, stddev_pop       [n, sum lo, sum hi, sum of squares in 3
 *                              slots]: exact integers (moments.h)
 *     distinct   HLL_SLOTS     the hashes of the values while at most
 *                              HLL_EXACT_MAX, then HyperLogLog registers
 *                              (hll.h); a value's hash covers its type and
 *                              its bytes (strings) or scaled integer
 *     quantile   DDSKETCH_SLOTS  log-bucketed counts (ddsketch.h)
 * n counts the events that carried the field (count: every event); an
 * event without the field leaves every state of that field as it was. Rows
 * are a commutative monoid under agg_row_merge() with agg_row_init() (all
 * zeros) as identity, and every state is a function of the multiset of
 * values alone, so batch, speed and serving combine states in any order
 * and split and get the same bytes.
 * On disk a row is its slots as little-endian int64 (agg_row_encode()).
 */

/* Set row to the identity (all zeros). */
void agg_row_init(const struct view *v, int64_t *row);

/*
 * Add one accepted event to row. Returns 0, or -1 on overflow: a sum past
 * 128 bits, a count past INT64_MAX (row unchanged; a quantile's count, which
 * no store reaches, is found only once the metrics before it were added).
 * The event's string values must still be valid (agg_view_reads_text()).
 */
int agg_row_add(const struct view *v, int64_t *row, const struct event *ev);

/* Nonzero when agg_row_add() reads the event's strings (a distinct of a
 * string field), so the event must be added while they live. */
int agg_view_reads_text(const struct view *v);

/* dst = dst (+) src. Returns 0, or -1 on overflow (dst unchanged). */
int agg_row_merge(const struct view *v, int64_t *dst, const int64_t *src);

/* Bytes of a row on disk: nslots * 8. */
size_t agg_row_size(const struct view *v);

/* Row <-> on-disk bytes (little-endian slots); out/in hold agg_row_size(). */
void agg_row_encode(const struct view *v, const int64_t *row, void *out);
void agg_row_decode(const struct view *v, const void *in, int64_t *row);

/*
 * Append metric m of row as a JSON value: count and distinct an integer;
 * sum, min, max exact at the field's scale ("12.50"); avg, stddev and
 * stddev_pop at scale + 2 digits, exactly rounded half away from zero;
 * quantile at scale + 2 digits (the sketch's value, rounded half away from
 * zero); null for min/max/avg/stddev_pop/quantile of no values and stddev
 * of fewer than two (sum of none is 0, distinct of none 0).
 */
void agg_metric_json(const struct pipeline *p, const struct view *v, int m,
    const int64_t *row, struct buf *out);

/*
 * The value of metric m of row as a number: what agg_metric_json() prints,
 * read as a long double, so a computed output (outputs.h) agrees with the
 * metrics printed beside it whatever the metric's kind. Returns 0 and *out,
 * or -1 when the metric is null (no values) or prints no number.
 */
int agg_metric_value(const struct pipeline *p, const struct view *v, int m,
    const int64_t *row, long double *out);

/*
 * Nonzero when metric m of row is an estimate: a distinct past
 * HLL_EXACT_MAX values, a quantile always. *rel_err is then its relative
 * error: hll_error() (a standard error), DDSKETCH_ALPHA (a bound).
 */
int agg_metric_approximate(const struct view *v, int m, const int64_t *row,
    double *rel_err);

/*
 * Compare metric m of two rows for ranking (top): <0, 0, >0 like strcmp, by
 * the value agg_metric_json() prints before rounding; a null sorts below
 * every value. Exact (integers) for all but quantile, which compares the
 * sketch's values. Equal values compare 0 (top then orders by key).
 */
int agg_metric_cmp(const struct view *v, int m, const int64_t *a,
    const int64_t *b);

#endif
