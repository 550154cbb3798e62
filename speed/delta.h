/* delta.h -- the micro-batch: view deltas by (view, group key, bucket), in memory */
#ifndef SPEED_DELTA_H
#define SPEED_DELTA_H

#include <stddef.h>
#include <stdint.h>

#include "shared/event.h"
#include "shared/pipeline.h"

/*
 * A hash table of rows, one per (view, group key, bucket) touched since the
 * last commit. Rows start as the identity (agg_row_init) and take events
 * with agg_row_add, so merging a delta into the stored row gives the same
 * bytes as adding the events one by one (agg.h: rows are a monoid).
 * Memory comes from an arena that delta_clear() reuses.
 */

struct delta;

struct delta_entry {
    int             view;       /* index into pipeline.views */
    int64_t         bucket;
    size_t          gklen;
    const void     *gkey;       /* valid until delta_clear() */
    int64_t        *row;        /* view->nslots slots */
    int64_t         events;     /* events added to it (delta_add_event()) */
};

/* A new empty micro-batch for p's views (p borrowed, must outlive it). */
struct delta *delta_new(const struct pipeline *p);
void delta_free(struct delta *d);

/*
 * The row of (view, gkey, bucket), created as the identity if absent.
 * Valid until delta_clear().
 */
int64_t *delta_row(struct delta *d, int view, const void *gkey, size_t gklen,
    int64_t bucket);

/*
 * Add an accepted event to every row it makes in the views (fanout.h: where,
 * explode, group keys), each in its bucket. Returns 0; DELTA_KEY_TOO_LONG
 * when a group key of view *view is longer than KEY_MAX (nothing was added:
 * reject the event); DELTA_OVERFLOW when a sum of view *view overflowed
 * (rows before it took the event). ev is borrowed.
 */
#define DELTA_KEY_TOO_LONG (-1)
#define DELTA_OVERFLOW (-2)
int delta_add_event(struct delta *d, struct event *ev, int *view);

/* Number of rows. */
size_t delta_count(const struct delta *d);

/*
 * The rows sorted by view index, then group key bytes, then bucket: store
 * key order, so the commit writes LMDB pages in sequence. Returns an array
 * of delta_count() entries owned by d, valid until the next call or
 * delta_clear().
 */
const struct delta_entry *delta_sorted(struct delta *d);

/* Forget every row, keeping the memory for the next micro-batch. */
void delta_clear(struct delta *d);

#endif
