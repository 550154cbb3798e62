/* topcol.h -- top's batch part per batch version: one additive metric of every group, as prefix sums */
#ifndef SERVING_TOPCOL_H
#define SERVING_TOPCOL_H

#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "shared/buf.h"
#include "shared/pipeline.h"

/*
 * A cold top merges every row of every group in the range (70k rows and
 * more per request). For a metric whose merge is an exact sum (count, sum,
 * avg), top keeps instead, per published batch version, a column: for
 * every group of the view, the prefix merges of that metric over the
 * version's base buckets, and how many rows each prefix holds. A group's
 * batch part over any range is then one subtraction, whatever the range.
 * The speed part (buckets from the cutoff on) is merged per group from the
 * speed rows of the snapshot, kept for the next requests of the same
 * snapshot identity (snap_identity(): equal identities mean equal rows), so
 * every speed commit costs one scan of the speed rows in range.
 *
 * DESIGN invariant 4: a column built from version V is only used with a
 * snapshot whose batch version is V (published versions never change), a
 * speed part only with a snapshot of the identity it was read in; both
 * from the one snapshot of the request.
 *
 * The ranking is exact: the metric's states are merged as agg_row_merge()
 * would (integer sums: any order gives the same bits), and a group takes
 * part iff it has a row in the range, as in the cold path.
 */

#define TOPCOL_MAX 4                /* columns kept, newest first */
#define TOPCOL_BYTES (512u << 20)   /* their memory at most */
#define TOPSPEED_MAX 4              /* speed parts kept */

struct topcol;
struct topspeed;
struct snap;

struct topcols {
    pthread_mutex_t     mu;         /* guards the arrays and refcounts */
    pthread_mutex_t     build;      /* one column built at a time */
    struct topcol      *col[TOPCOL_MAX];
    struct topspeed    *spd[TOPSPEED_MAX];
    size_t              bytes;
    pthread_cond_t      read_done;  /* a speed part was read */
    int                 reading;    /* one is being read, */
    struct buf          reading_id; /* for this identity */
    _Atomic uint64_t    hits, misses;       /* columns found, built */
    _Atomic uint64_t    shits, smisses;     /* speed parts found, read */
};

/* Embedded lifecycle; reset frees every column (no request running). */
void topcols_init(struct topcols *tc);
void topcols_reset(struct topcols *tc);

/* A view of one metric of v alone: rows of its slots only, the metric at
 * index 0. Filled by topcol_mini(). */
struct topcol_mini {
    struct view     v;
    struct metric   m;
    int             index;      /* the metric's index in the full view */
    int             slot;       /* and its first slot there */
};

/* Fill mini for metric m of v. Returns 1 when top can rank m from a
 * column (count, sum, avg), else 0. */
int topcol_mini(const struct view *v, int m, struct topcol_mini *mini);

/*
 * Rank metric m of view v over buckets [from, to) in snapshot s for the n
 * best: call fn(arg, gkey, gklen, mrow) once per group with a row in the
 * range that can be among the n best (every one for avg; for count and
 * sum those at least as good as the n-th best, ties included), mrow the
 * metric's merged state in mini's layout, valid during the call, in no
 * particular order. Returns 1 when it did, 0 when top must
 * compute cold (no batch version, a metric topcol_mini() refuses, a column
 * over TOPCOL_BYTES, or another request building the column meanwhile);
 * fn is then never called. -1 with err from the store or fn.
 */
int topcol_rank(struct topcols *tc, struct snap *s, const struct view *v,
    const struct topcol_mini *mini, int64_t from, int64_t to, int n,
    int (*fn)(void *arg, const void *gkey, size_t gklen, const int64_t *mrow,
        char *err),
    void *arg, char *err);

#endif
