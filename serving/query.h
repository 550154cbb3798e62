/* query.h -- one consistent read of the store: batch levels below the cutoff, speed above */
#ifndef SERVING_QUERY_H
#define SERVING_QUERY_H

#include <stddef.h>
#include <stdint.h>

#include "shared/buf.h"
#include "shared/pipeline.h"
#include "shared/store.h"

/*
 * Every answer reads through one snapshot: one LMDB read transaction, so the
 * batch version, its cutoff and the speed rows all belong to the same
 * instant (DESIGN invariant 4). A bucket starting before the cutoff is read
 * from batch, one starting at or after it from speed; speed rows before the
 * cutoff that speed has not pruned yet are never read.
 *
 * A time range [from, to) selects the buckets whose start lies in it
 * (INT64_MIN, INT64_MAX: all time). A plan splits it into segments, each
 * read with one iterator, in time order: batch rows at the coarsest level
 * that gives the same totals (ALL when the range covers every batch bucket
 * of the view, DAY for whole UTC days, BASE for the edges), then speed.
 */

struct snap {
    struct store_txn        *txn;
    int                      has_batch;
    struct store_batch_info  batch;
    int64_t                  cutoff;        /* batch cutoff; INT64_MIN: none */
    int                      has_watermark;
    int64_t                  watermark;     /* meta speed.watermark, ms */
    uint64_t                 id[2];         /* store_txn_snapid() */
};

/*
 * Begin a snapshot of st (a read transaction) and read the batch and speed
 * metadata. Returns 0, or -1 with err. End it with snap_end(). A thread
 * keeps what it read for its last snapshot id (store_txn_snapid()): while
 * nothing commits, the next snapshots take it from there rather than read
 * the meta again (speed commits every 100 ms; requests come in thousands).
 */
int snap_begin(struct snap *s, struct store *st, char *err);
void snap_end(struct snap *s);

/*
 * Append to out the bytes that identify the snapshot's data: batch version
 * and cutoff, speed watermark, speed.updated_at and the speed status, all
 * rewritten by every batch publish or speed commit. Equal identities mean
 * equal rows. Returns 0, or -1 with err.
 */
int snap_identity(struct snap *s, struct buf *out, char *err);

/* Nonzero when anything was ever written: a batch version or a speed
 * watermark. Before that, queries answer 503. */
int snap_has_data(const struct snap *s);

#define PLAN_ALL 0x1    /* may read the all-time level (totals, top) */
#define PLAN_DAY 0x2    /* may read whole days from the day level */
#define PLAN_MAX 4

struct plan_seg {
    int      speed;     /* 1: speed rows; 0: batch rows at level */
    int      level;     /* STORE_LEVEL_* */
    int64_t  from, to;  /* buckets [from, to) */
};

struct plan {
    struct plan_seg seg[PLAN_MAX];
    int             n;
};

/*
 * Plan the read of view v over buckets [from, to) in snapshot s, using the
 * levels flags allows. Returns 0, or -1 with err.
 */
int plan_make(struct snap *s, const struct view *v, int64_t from, int64_t to,
    unsigned flags, struct plan *pl, char *err);

/*
 * Call fn for every row of the one group gkey in plan order (ascending
 * bucket; a day-level row has its day's start, an all-level row bucket 0).
 * row is valid during the call only. fn returns 0 to go on, or -1 with err
 * to stop. Returns 0, or -1 with err.
 */
int query_key_rows(struct snap *s, const struct view *v,
    const struct plan *pl, const void *gkey, size_t gklen,
    int (*fn)(void *arg, int64_t bucket, const int64_t *row, char *err),
    void *arg, char *err);

/* Merge every row of group gkey in the plan into row (v->nslots slots,
 * initialised here). Returns 0, or -1 with err. */
int query_total(struct snap *s, const struct view *v, const struct plan *pl,
    const void *gkey, size_t gklen, int64_t *row, char *err);

/*
 * Call fn once per group with rows in the plan, in ascending key order, with
 * the merge of its rows. gkey and row are valid during the call only.
 * Returns 0, or -1 with err (from fn or the store).
 */
int query_groups(struct snap *s, const struct view *v, const struct plan *pl,
    int (*fn)(void *arg, const void *gkey, size_t gklen, const int64_t *row,
        char *err),
    void *arg, char *err);

/*
 * A cursor over the groups of a plan: group after group in ascending key
 * order, each group's rows in plan order (ascending bucket), the rows
 * query_key_rows() gives for that group. It holds one iterator per segment,
 * so its memory does not grow with the rows or the groups (an export of a
 * whole view). Free it before the snapshot ends.
 */
struct query_cursor;

#define QUERY_END 1     /* no more groups, or no more rows in the group */

/*
 * Open a cursor over the groups of plan pl (gkey NULL, 0: every group; else
 * only that one). Returns 0 and *out (free with query_cursor_free()), or
 * -1 with err.
 */
int query_cursor_open(struct snap *s, const struct view *v,
    const struct plan *pl, const void *gkey, size_t gklen,
    struct query_cursor **out, char *err);

/*
 * Move to the next group, past the rows of the current one left unread.
 * Returns 0 and its key (valid until the next call), QUERY_END after the
 * last group, or -1 with err.
 */
int query_cursor_group(struct query_cursor *c, const void **gkey,
    size_t *gklen, char *err);

/*
 * The next row of the current group: 0 with its bucket and slots (valid
 * until the next call), QUERY_END when the group has no more, or -1 with
 * err.
 */
int query_cursor_row(struct query_cursor *c, int64_t *bucket,
    const int64_t **row, char *err);

/* Free c and its iterators. NULL is a no-op. */
void query_cursor_free(struct query_cursor *c);

#endif
