/* ddsketch.h -- quantiles with a relative accuracy in fixed slots (DDSketch) */
#ifndef SHARED_DDSKETCH_H
#define SHARED_DDSKETCH_H

#include <stdint.h>

/*
 * A quantile state is int64_t s[DDSKETCH_SLOTS], a pure function of the
 * multiset of int64 values added (DDSketch, Masson et al., VLDB 2019). It is
 * a stored format (metric rows keep it on disk as little-endian int64
 * slots, shared/agg.h):
 *
 *   s[0]                    how many values are 0
 *   s[1]                    top index of the positive store
 *   s[2]                    top index of the negative store
 *   s[3 .. 3+255]           positive store: s[3 + k] counts the values v > 0
 *                           whose index is top - 255 + k (k = 255: the top)
 *   s[3+256 .. 3+2*256-1]   negative store, the same for magnitudes of v < 0
 *
 * The index of a magnitude x >= 1 is the least i >= 0 with x <= B(i), where
 * B(i) is gamma^i, gamma = (1 + alpha) / (1 - alpha) = 51/49, evaluated in
 * IEEE-754 double by binary powering (ddsketch.c pow_gamma(): no libm, so
 * the same on every machine); |INT64_MIN| = 2^63 has index 1092. A store's
 * top is the largest index it holds (0 when empty); values whose index is
 * at or below top - 255 are counted in its lowest bin (k = 0), as DDSketch
 * collapses its lowest buckets. An empty store is top 0 and zero counts, so
 * all zeros is the empty sketch. ddsketch_merge() keeps the larger top of
 * each store and re-collapses the other side's low bins: the result is the
 * state of the union of the multisets, whatever the order and grouping.
 *
 * Accuracy: ddsketch_quantile() returns, for the value x at the rank it
 * selects, 2 gamma^i / (gamma + 1) with the sign of x, i its index: within
 * a relative alpha = 2% of x. This holds for every value whose bin was not
 * collapsed, i.e. whose magnitude is at least 1/gamma^255 (1/26,940) of the
 * largest magnitude of its sign; smaller magnitudes answer with the value of
 * the lowest bin, larger than theirs. Zero is exact.
 */

#define DDSKETCH_ALPHA 0.02         /* relative accuracy */
#define DDSKETCH_BINS 256           /* bins per sign */
#define DDSKETCH_SLOTS (3 + 2 * DDSKETCH_BINS)

/*
 * Add v (an exact value as an integer at the field's scale) to s. Returns
 * 0, or -1 if s would then count more than INT64_MAX values (s unchanged).
 */
int ddsketch_add(int64_t *s, int64_t v);

/* ddsketch_add() for a caller that has checked ddsketch_count(s) <
 * INT64_MAX itself (agg_row_add() checks every metric before it writes). */
void ddsketch_put(int64_t *s, int64_t v);

/*
 * dst = dst (+) src, the state of both multisets. dst may be src. Returns
 * 0, or -1 if dst would count more than INT64_MAX values (dst unchanged).
 */
int ddsketch_merge(int64_t *dst, const int64_t *src);

/* How many values s counts. */
int64_t ddsketch_count(const int64_t *s);

/*
 * The q-quantile of s into *out, in the units of the values added: the
 * value at rank floor(q * (n - 1)) (0-based) of the n values in ascending
 * order, negative values first, within the accuracy above. Returns 0, or -1
 * if s is empty or q is not in [0, 1] (*out unchanged).
 */
int ddsketch_quantile(const int64_t *s, double q, double *out);

#endif
