/* viewswitch.h -- the publish that switches views, speed rows and all */
#ifndef SHARED_VIEWSWITCH_H
#define SHARED_VIEWSWITCH_H

#include <stdint.h>

#include "shared/pipeline.h"
#include "shared/store.h"

/*
 * A view's definition changes in one place: lambda-batch's publish
 * transaction (DESIGN invariant 3). viewswitch_publish() runs inside it
 * (store_writer_on_publish()), after the new version's "sig/V/VIEW" are put:
 *
 * - every view of p gets its definition recorded (viewdef_put());
 * - a view whose speed rows were written under another definition, or have
 *   none recorded (changed, added), is switched: its speed rows are
 *   deleted, and with speed.archive every archived event of speed.topic
 *   whose bucket is at or after the new cutoff is added again through the
 *   same fan-out and agg_row_add() as lambda-speed's (for the switched views
 *   only), and its "speedsig/" is set to p's. The publish holds the LMDB
 *   writer lock, so lambda-speed cannot commit meanwhile: the archive's
 *   committed lengths ("speed.archive/TOPIC/P") are stable and every event
 *   speed committed is read exactly once. Serving sees the old definition
 *   (batch and speed) before the commit and the new one after it.
 * - without speed.archive, or when it cannot cover the speed rows (a
 *   partition with an offset and no segment record), the switched views'
 *   speed rows are deleted and "speedgap/VIEW" = the cutoff records that
 *   the view's speed part lacks the events from the cutoff to where
 *   lambda-speed went on (lambda-speed --reset-to CUTOFF replays them); the
 *   message says so.
 * - a view of the previous version or of the speed rows that p no longer
 *   has is removed: its speed rows, "speedsig/" and "speedgap/" go (its
 *   batch rows go with the previous version).
 *
 * Which archived events count: every line of the sealed segments and the
 * open one up to its committed length, late ones included (speed archives
 * the events it refused as late; the archive line does not say which): a
 * rebuilt view counts them from the cutoff on, as the next batch run does.
 * Cost: only the segments that can hold an event at or after the cutoff
 * are read: lambda-speed records each segment's newest event time in the
 * commit that appends to it ("speed.archive.tmax/TOPIC/P/FIRST",
 * segment.h), and a segment whose newest event is before the cutoff is
 * skipped; segments archived before that was kept are read whole. Every
 * publish (switching or not) deletes the times before its cutoff, so they
 * stay few, and records that cutoff: a switch from an earlier time (a
 * cutoff moved back) reads every segment. The reading happens under the
 * store's writer lock: lambda-speed waits for it.
 */

#define VIEWSWITCH_GAP_PREFIX "speedgap/"

struct viewswitch_stats {
    int     switched;       /* views switched (changed or added) */
    int     removed;
    int     gap;            /* 1: no archive: lambda-speed --reset-to */
    int64_t events;         /* archived events read again */
    int64_t rows;           /* speed rows written for switched views */
};

/* What a publish does to a view, as viewswitch_plan() names it. */
enum viewswitch_change {
    VIEWSWITCH_CHANGED,     /* speed rows of another definition: switched */
    VIEWSWITCH_NEW,         /* no speed definition yet, speed ran: switched */
    VIEWSWITCH_REMOVED      /* no longer in the pipeline: dropped */
};

/*
 * What viewswitch_publish() would do, without doing it (lambda-batch
 * --dry-run): fn once per view of p it would switch and per view it would
 * remove, decided in t (read or write) as the publish decides. prev: the
 * previous published version (0: none). Returns 0, or -1 with err (fn's
 * -1 too).
 */
int viewswitch_plan(struct store_txn *t, const struct pipeline *p,
    int64_t prev,
    int (*fn)(void *arg, const char *view, enum viewswitch_change c,
        char *err),
    void *arg, char *err);

/*
 * In the publish's write transaction t of p's version, with cutoff (ms):
 * the above. prev: the previous published version (0: none). Logs what it
 * did. Returns 0 and *st, or -1 with err (the publish is rolled back).
 */
int viewswitch_publish(struct store_txn *t, const struct pipeline *p,
    int64_t prev, int64_t cutoff, struct viewswitch_stats *st, char *err);

/* The speed part of view is being rebuilt (lambda-speed --reset-to):
 * 1 and *from (the cutoff it lacks events from), 0 when not, -1. */
int viewswitch_gap(struct store_txn *t, const char *view, int64_t *from,
    char *err);

/*
 * After lambda-speed --reset-to from: forget the gaps it fills (those at or
 * after from). Returns 0, or -1 with err.
 */
int viewswitch_gap_clear(struct store_txn *t, int64_t from, char *err);

#endif
