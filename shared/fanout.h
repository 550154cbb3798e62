/* fanout.h -- the rows one event adds to the views: where, explode, group keys */
#ifndef SHARED_FANOUT_H
#define SHARED_FANOUT_H

#include <stddef.h>

#include "shared/buf.h"
#include "shared/event.h"
#include "shared/pipeline.h"

/*
 * Batch and speed turn an accepted event into view rows with this one
 * function, so both count an event in the same (view, group) rows:
 * - a view without "explode" takes the event once if it satisfies where;
 * - a view that explodes an array field takes it once per element, in
 *   array order, duplicates included, each time with the element in the
 *   array's place for where and group_by; a missing or empty array gives
 *   no row (and is no reject).
 * Metrics never read an array, so every row adds the event itself
 * (agg_row_add(v, row, ev)).
 */

struct fanout_row {
    int     view;           /* index into pipeline.views */
    size_t  off, len;       /* the group key, in fanout.keys */
};

struct fanout {
    struct buf          keys;   /* the rows' group keys, back to back */
    struct fanout_row  *rows;   /* in view order */
    int                 nrows, cap;
};

/* Embedded lifecycle: fanout_init() an empty one, fanout_reset() frees. */
void fanout_init(struct fanout *fo);
void fanout_reset(struct fanout *fo);

/*
 * Replace fo's rows with those ev adds to p's views. Returns the number of
 * rows, or -1 when a group key would be longer than KEY_MAX: *bad_view is
 * then that view's index, and the event must be rejected (out_of_range)
 * with no row touched. ev is borrowed; its exploded values are put back
 * before the call returns. The rows are valid until the next call.
 */
int fanout_event(struct fanout *fo, const struct pipeline *p,
    struct event *ev, int *bad_view);

#endif
