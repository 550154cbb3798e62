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
 * consecutive slots from metric->slot:
 *     count      [n]
 *     sum, avg   [n, lo, hi]   n values; 128-bit sum, low then high 64 bits
 *     min, max   [n, v]        v is 0 while n == 0
 * n counts the events that carried the field (count: every event). Rows are
 * a commutative monoid under agg_row_merge() with agg_row_init() as identity,
 * so batch, speed and serving combine states in any order and get the same
 * bytes.
 * On disk a row is its slots as little-endian int64 (agg_row_encode()).
 */

/* Set row to the identity (all zeros). */
void agg_row_init(const struct view *v, int64_t *row);

/* Add one accepted event to row. Returns 0, or -1 on sum overflow (row
 * unchanged). */
int agg_row_add(const struct view *v, int64_t *row, const struct event *ev);

/* dst = dst (+) src. Returns 0, or -1 on sum overflow (dst unchanged). */
int agg_row_merge(const struct view *v, int64_t *dst, const int64_t *src);

/* Bytes of a row on disk: nslots * 8. */
size_t agg_row_size(const struct view *v);

/* Row <-> on-disk bytes (little-endian slots); out/in hold agg_row_size(). */
void agg_row_encode(const struct view *v, const int64_t *row, void *out);
void agg_row_decode(const struct view *v, const void *in, int64_t *row);

/*
 * Append metric m of row as a JSON value: count an integer; sum, min, max
 * exact at the field's scale ("12.50"); avg at scale + 2 digits, rounded
 * half away from zero; null for min/max/avg of no values (sum of none is 0).
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
 * Compare metric m of two rows for ranking (top): <0, 0, >0 like strcmp, by
 * value; a null (no values) sorts below every value. Exact, no floating point.
 */
int agg_metric_cmp(const struct view *v, int m, const int64_t *a,
    const int64_t *b);

#endif
