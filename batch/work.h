/* work.h -- worker threads: parse, validate, aggregate into tables */
#ifndef BATCH_WORK_H
#define BATCH_WORK_H

#include "batch/batch.h"
#include "batch/hist.h"
#include "batch/shuffle.h"
#include "batch/table.h"
#include "shared/csv.h"
#include "shared/fanout.h"

/*
 * Each worker pops chunks (queue.h), parses each record with event_parse()
 * (its own struct event and arena), notes rejects in the chunk, and adds
 * every accepted event to its own table per view (no locks on the hot
 * path). Events before b->from are skipped, and so are events at or after
 * b->until when it is set; otherwise every bucket is kept until the cutoff
 * is known (work_finish()).
 */

#define WORK_RING 16         /* accepted events in flight (power of 2) */
#define WORK_AHEAD 8         /* events between the two prefetches */

/*
 * With many groups a table lookup is two cache misses (index slot, entry),
 * longer than parsing a small event. So accepted events go through a short
 * software pipeline, a ring of WORK_RING: when an event arrives its index
 * slots are prefetched; WORK_AHEAD events later the entries they point to;
 * WORK_RING events later its rows are updated, from the cache. Few misses
 * are in flight at any time, so the hardware keeps every prefetch.
 */
#define WORK_ALIGN 128      /* bytes: two cache lines, adjacent-line prefetch */

struct worker {
    _Alignas(WORK_ALIGN)
    struct batch       *b;
    pthread_t           tid;
    int                 started;
    struct table       *tables;     /* one per view, pipeline order */
    struct event        ev;
    int64_t             elem;       /* the record's array index, or -1 */
    struct fanout       fo;         /* the rows of one event (fanout.h) */
    struct csv_fields   csvf;       /* a CSV row's fields */
    struct buf          csvjson;    /* and the row as JSON */
    int                 exploding;  /* some view is added at once: */
    unsigned char      *direct;     /* per view: 1 when its rows skip the
                                       ring, as it explodes an array or
                                       reads strings (agg_view_reads_text) */
    size_t             *koff;       /* per view without explode: its key's
                                       offset in fo.keys, or SIZE_MAX when
                                       the view's where fails */
    size_t             *klen;

    /* the ring: event j in slot j % WORK_RING; [slot * nviews + k] */
    uint64_t            nin;        /* events queued so far */
    uint64_t            nout;       /* events whose rows are updated */
    unsigned char      *pkeys;      /* KEY_MAX bytes per slot and view */
    struct event_value *pvals;      /* [slot * nfields + f]: numbers only */
    int64_t            *ptime;
    size_t             *pklen;      /* SIZE_MAX: the view's where failed */
    uint64_t           *phash;
    int64_t            *pbucket;
    struct event        pev;        /* stands in for a queued event */

    /* rows of split views whose group another worker owns (shuffle.h) */
    int                 id;         /* index in b->workers */
    struct shuffle     *sh;         /* shared; NULL: nothing is split */
    struct event        mev;        /* stands in for a received row */
    const unsigned char **mptr;     /* the messages of a received batch */
    size_t              mcap;

    struct batch_stats  st;
    struct hist         hist;       /* --shard: events per cutoff unit */
};

/* Start b->threads workers. Returns 0, or -1 after batch_fail(). */
int work_start(struct batch *b);

/*
 * Wait for the workers, fold their counts into b->stats, set b->cutoff
 * (b->until, else the start of the cutoff-unit bucket of the latest event;
 * 0 when there were none) and merge every worker's tables into the first
 * worker's. Returns 0, or -1 after batch_fail() (a worker failed, sum
 * overflow). A --shard sets no cutoff (the merge does): its counts stay as
 * counted, and the workers' event counts per cutoff unit are merged too.
 */
int work_finish(struct batch *b);

/* For --merge: one worker with empty tables and no thread, which the
 * partials are folded into. */
void work_empty(struct batch *b);

/* The merged table of view i (after work_finish()). */
struct table *work_table(struct batch *b, int i);

/* The merged events per cutoff unit (--shard, after work_finish()). */
struct hist *work_hist(struct batch *b);

/* Free the workers and their tables. */
void work_free(struct batch *b);

#endif
