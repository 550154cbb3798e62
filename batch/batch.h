/* batch.h -- lambda-batch: the program state every batch module works on */
#ifndef BATCH_BATCH_H
#define BATCH_BATCH_H

#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>

#include "batch/progress.h"
#include "batch/queue.h"
#include "batch/rejects.h"
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
    int64_t  elem;          /* index in its JSON array (from 0), or -1 */
    uint64_t toolong;       /* nonzero: skipped, this many bytes long; the
                               data holds only its first EVENT_RAW_MAX bytes */
};

/* A reject noted by a worker, written when its chunk retires. */
struct rejref {
    int64_t line;           /* like rec.line */
    int64_t elem;           /* like rec.elem */
    size_t  off, len;       /* its "reason":...,"raw":... text in chunk->rj */
};

struct chunk {
    char          *data;
    size_t         len;
    uint64_t       seq;         /* queue order, from 0 */
    int            file;        /* index into batch.inputs */
    int            piece;       /* index into batch.pieces, or -1 */
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
    int64_t   mtime;        /* modification time, ms since the epoch */
    struct csv_header *csv; /* a CSV input's header (reader.c), or NULL */
};

/* What one --shard reads of an input (shard.h): lines that start in
 * [start, end), or the whole file when end is UINT64_MAX. */
struct piece {
    int       file;         /* index into batch.inputs */
    uint64_t  start, end;
    int64_t   lines;        /* lines read, counted as chunks retire */
};

/* What a run does (main.c). */
enum batch_mode {
    BATCH_RUN,              /* read the inputs, publish */
    BATCH_SHARD,            /* --shard: read a share, write a partial */
    BATCH_MERGE,            /* --merge: fold partials, publish */
    BATCH_PULL,             /* --pull: import a repository version */
    BATCH_VERIFY            /* --verify: walk the store, report damage */
};

struct batch_stats {
    int64_t events;         /* accepted events counted into the new version */
    int64_t rejects[REJECT_NREASONS];
    int64_t nrejects;
    int64_t after_cutoff;   /* accepted but at or after the cutoff: speed's */
    int64_t held;           /* of those, at or after the hold (hold.c) */
    int64_t before_from;    /* accepted but before --from: kept rows */
    int64_t accepted;       /* every valid event seen */
    int64_t last_unit;      /* start of the latest cutoff-unit bucket seen
                               (of the run: set by work_finish() or the
                               merge; INT64_MIN when no event) */
    int64_t last_unit_events; /* counted events in that bucket */
    int64_t last_before_from; /* start of the latest cutoff-unit bucket
                                 of the events before --from */
    int64_t rows;           /* base rows written */
};

struct csv_header;
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
    int64_t          default_time;  /* time of events without one (ms), or
                                       -1: they are bad_time */
    int              default_mtime; /* their file's mtime instead */
    int              threads;
    int              dry_run;
    int              force;         /* --force: a cutoff past the inputs,
                                       the clock or speed (guard.h) */
    int              allow_shrink;  /* --allow-shrink (guard.h) */
    enum batch_mode  mode;
    int              shard, nshards;    /* --shard I/N */
    const char      *partial;       /* --shard: the file to write */
    char *const     *partials;      /* --merge: the files to fold */
    int              npartials;
    const char      *pull;          /* --pull: the repository */

    /* inputs */
    struct input    *inputs;
    int              ninputs;
    uint64_t         total_bytes;
    struct piece    *pieces;        /* --shard: what it reads, in order */
    int              npieces;

    /* resources */
    struct store    *st;           /* holds the batch lock for the run */
    struct rejects   rejects;       /* the rejects file (rejects.c) */
    struct queue     queue;         /* the chunk queue (queue.c) */
    struct progress  progress;      /* the progress line (progress.c) */
    atomic_int       stop;          /* abort: signal or error */

    /* workers and results */
    struct worker   *workers;
    int              nworkers;
    struct batch_stats stats;
    int64_t          cutoff;
    int64_t          limit;         /* events at or after it are speed's:
                                       --until, else the hold (hold.c) */
    const char      *hold_why;      /* why the hold, NULL when none */
    int64_t          version;       /* published version, 0 if none */
    int              published;     /* a version was published (even if
                                       the repository copy then failed) */
    double           started;       /* now_mono_s() at start */
    pthread_mutex_t  fail_mu;
    char             fail[ERR_LEN];     /* first runtime error, "" if none */
};

/* The only mutable global: set by the signal handler (main.c). */
extern volatile sig_atomic_t batch_signal;

/* Record the first runtime error and ask every thread to stop. */
void batch_fail(struct batch *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Add src's counts to dst (a worker's or a shard's to the run's); the
 * latest last_before_from wins. The other bucket fields are untouched. */
void batch_stats_add(struct batch_stats *dst, const struct batch_stats *src);

#endif
