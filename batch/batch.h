/* batch.h -- lambda-batch: the program state every batch module works on */
#ifndef BATCH_BATCH_H
#define BATCH_BATCH_H

#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>

#include "shared/buf.h"
#include "shared/err.h"
#include "shared/event.h"
#include "shared/pipeline.h"
#include "shared/store.h"

/*
 * Data flow: the main thread reads the inputs (reader.c) into chunks of
 * whole records and queues them (queue.c); worker threads (work.c) parse
 * the records, aggregate them into per-view hash tables (table.c) and note
 * rejects in the chunk; chunks retire in input order, which writes their
 * rejects (rejects.c) and frees them for reuse. At the end the tables are
 * merged, sorted and written as a new batch version (publish.c).
 * Memory is bounded by BATCH_CHUNK * nchunks plus the groups.
 */

#define BATCH_CHUNK (4u << 20)      /* bytes a chunk; > 2 * EVENT_MAX_LINE */
#define BATCH_MAX_THREADS 256

/* One record inside a chunk when the reader delimited it (JSON arrays and
 * skipped over-long lines); JSON Lines chunks are split by the workers. */
struct rec {
    size_t   off, len;      /* its bytes in chunk->data */
    int64_t  line;          /* line where it starts (see chunk->abs_lines) */
    uint64_t toolong;       /* nonzero: skipped, this many bytes long; the
                               data holds only its first EVENT_RAW_MAX bytes */
};

/* A reject noted by a worker, written when its chunk retires. */
struct rejref {
    int64_t line;           /* like rec.line */
    size_t  off, len;       /* its "reason":...,"raw":... text in chunk->rj */
};

struct chunk {
    char          *data;
    size_t         len;
    uint64_t       seq;         /* queue order, from 0 */
    int            file;        /* index into batch.inputs */
    int            first;       /* its file's first: line numbers restart */
    int            abs_lines;   /* rec.line counts from the file's start */
    int64_t        nlines;      /* lines it spans (relative numbering) */
    struct rec    *recs;        /* NULL: JSON Lines, split at '\n' */
    size_t         nrecs, recap;
    int            has_recs;
    struct buf     rj;          /* reject texts */
    struct rejref *rjs;
    size_t         nrjs, rjcap;
    int            done;        /* processed, waiting to retire */
};

struct input {
    char     *path;
    uint64_t  size;         /* bytes on disk, for progress */
};

struct batch_stats {
    int64_t events;         /* accepted events counted into the new version */
    int64_t rejects[REJECT_NREASONS];
    int64_t nrejects;
    int64_t after_cutoff;   /* accepted but at or after the cutoff: speed's */
    int64_t held;           /* of those, at or after the hold (hold.c) */
    int64_t before_from;    /* accepted but before --from: kept rows */
    int64_t accepted;       /* every valid event seen */
    int64_t last_unit;      /* start of the latest cutoff-unit bucket seen */
    int64_t last_unit_events; /* counted events in that bucket */
    int64_t rows;           /* base rows written */
};

struct worker;
struct table;

struct batch {
    /* configuration */
    struct pipeline *p;
    const char      *prog;
    const char      *rejects_path;  /* NULL: no rejects file (dry run) */
    int64_t          until;         /* -1: computed from the inputs */
    int64_t          from;          /* -1: recompute everything */
    int64_t          unit;          /* pipeline_cutoff_unit() */
    int              threads;
    int              dry_run;
    int              progress;      /* draw the progress line (stderr tty) */

    /* inputs */
    struct input    *inputs;
    int              ninputs;
    uint64_t         total_bytes;

    /* resources */
    struct store    *st;           /* holds the batch lock (publish_lock()) */
    int              lockfd;        /* unused: the lock is st's; main.c
                                     * still sets it */
    FILE            *rejf;          /* the rejects file being written */
    char            *rej_tmp;       /* its temporary name, renamed at commit */
    int              rej_failed;    /* a write failed: the run must fail */
    char             rej_err[ERR_LEN];

    /* the chunk queue (queue.c) */
    pthread_mutex_t  mu;
    pthread_cond_t   free_cv;       /* a chunk was freed */
    pthread_cond_t   fill_cv;       /* a chunk was queued, or the end */
    pthread_cond_t   turn_cv;       /* a chunk retired */
    struct chunk    *chunks;
    int              nchunks;
    struct chunk   **freel;         /* free chunks */
    int              nfree;
    struct chunk   **fifo;          /* queued chunks, ring of nchunks */
    int              qhead, qlen;
    struct chunk   **ring;          /* in flight by seq % nchunks */
    uint64_t         next_seq;      /* seq of the next chunk queued */
    uint64_t         retire_seq;    /* seq of the next chunk to retire */
    int64_t          line_base;     /* lines of the retiring file so far */
    int              closed;        /* reader finished */
    atomic_int       stop;          /* abort: signal or error */

    /* workers and results */
    struct worker   *workers;
    int              nworkers;
    atomic_llong     progress_events;
    uint64_t         bytes_done;    /* reader's position over every input */
    double           progress_last; /* when the progress line was drawn */
    int              progress_drawn;
    struct batch_stats stats;
    int64_t          cutoff;
    int64_t          limit;         /* events at or after it are speed's:
                                       --until, else the hold (hold.c) */
    const char      *hold_why;      /* why the hold, NULL when none */
    int64_t          version;       /* published version, 0 if none */
    double           started;       /* now_mono_s() at start */
    pthread_mutex_t  fail_mu;
    char             fail[ERR_LEN];     /* first runtime error, "" if none */
};

/* The only mutable global: set by the signal handler (main.c). */
extern volatile sig_atomic_t batch_signal;

/* Record the first runtime error and ask every thread to stop. */
void batch_fail(struct batch *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

#endif
