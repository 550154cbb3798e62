/* work.h -- worker threads: parse records, validate, aggregate every view into hash tables */
#ifndef BATCH_WORK_H
#define BATCH_WORK_H

#include "batch/batch.h"
#include "batch/table.h"

/*
 * Each worker pops chunks (queue.h), parses each record with event_parse()
 * (its own struct event and arena), notes rejects in the chunk, and adds
 * every accepted event to its own table per view (no locks on the hot
 * path). Events before b->from are skipped, and so are events at or after
 * b->until when it is set; otherwise every bucket is kept until the cutoff
 * is known (work_finish()).
 */

struct worker {
    struct batch       *b;
    pthread_t           tid;
    int                 started;
    struct table       *tables;     /* one per view, pipeline order */
    struct event        ev;
    struct buf          key;        /* the group keys of one event */
    size_t             *koff;       /* per view: offset in key, or SIZE_MAX
                                       when the view's where fails */
    size_t             *klen;
    struct batch_stats  st;
};

/* Start b->threads workers. Returns 0, or -1 after batch_fail(). */
int work_start(struct batch *b);

/*
 * Wait for the workers, fold their counts into b->stats, set b->cutoff
 * (b->until, else the start of the cutoff-unit bucket of the latest event;
 * 0 when there were none) and merge every worker's tables into the first
 * worker's. Returns 0, or -1 after batch_fail() (a worker failed, sum
 * overflow).
 */
int work_finish(struct batch *b);

/* The merged table of view i (after work_finish()). */
struct table *work_table(struct batch *b, int i);

/* Free the workers and their tables. */
void work_free(struct batch *b);

#endif
