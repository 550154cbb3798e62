/* speed.h -- lambda-speed's state and the modules that share it */
#ifndef SPEED_SPEED_H
#define SPEED_SPEED_H

#include <signal.h>
#include <stdint.h>

#include <librdkafka/rdkafka.h>

#include "shared/buf.h"
#include "shared/event.h"
#include "shared/pipeline.h"
#include "shared/store.h"

/*
 * Exactly once without Kafka transactions (DESIGN.md invariant 2):
 * - The store is the truth for offsets. On assignment each partition starts
 *   at its offset in the store (speed.start when there is none).
 * - Accepted events become deltas in an in-memory micro-batch; a commit is
 *   ONE LMDB write transaction holding every delta, the next offset of every
 *   partition consumed, the watermark and the status. A kill -9 before it
 *   loses the micro-batch and its offsets together, so the restart replays
 *   exactly what was lost.
 * - Fencing: a commit first checks that each partition's offset in the store
 *   is still the one this process last read or wrote. If another process
 *   (a new owner after a rebalance, or a second instance on the same store)
 *   moved it, the transaction is dropped, the micro-batch discarded and every
 *   partition re-read from the store offsets. A stalled "zombie" consumer
 *   therefore can never double-count.
 * - Before a revoke the pending micro-batch is committed.
 * - The watermark used to reject late events only moves at a commit (as in
 *   Spark's micro-batches), so whether an event is late does not depend on
 *   where a micro-batch was cut inside it.
 * - Events before the published batch cutoff are late too: batch answers
 *   for their buckets, so a speed row there would never be read (DESIGN.md
 *   invariant 7: rejected with a reason, archived, counted by the next
 *   batch run, never silently dropped). When a batch publishes a later
 *   cutoff while the micro-batch holds events before it, the commit is
 *   dropped as when fenced and the records re-read against the new cutoff.
 */

struct delta;
struct speed_late;
struct archive;
struct rejects;

/* Counters kept in the store's status, summed over every commit. */
struct speed_counters {
    int64_t consumed;               /* records read (accepted + rejected) */
    int64_t accepted;
    int64_t rejects[REJECT_NREASONS]; /* by reason; [REJECT_LATE] is late */
    int64_t lost;                   /* offsets skipped after data loss */
};

/* One partition of the topic, indexed by partition id. */
struct speed_part {
    int      assigned;
    int64_t  stored;    /* next offset in the store as last seen; -1 none */
    int64_t  next;      /* next offset to consume; -1 until the first record */
    int      touched;   /* its offset changed since the last commit */
    int      eof;       /* --once: reached the end since the last record */
    int64_t  high;      /* high watermark last seen */
    int64_t  last_ts;   /* record timestamp (ms) of the last record consumed */
};

/* A partition's replay floor after a reset (shared/store_reset.h). */
struct speed_replay {
    int64_t  below;     /* offsets below it were consumed before; -1 none */
    int64_t  before;    /* ... and their events before this time counted */
};

#define SPEED_FRESH_BUCKETS 10001   /* freshness histogram in ms; last: 10 s+ */

/* A broker that could not be reached, and why, as last logged: each
 * broker's reason is logged once per change, not once per retry. */
#define SPEED_UNREACHABLE_MAX 16
struct speed_unreachable {
    char broker[96];        /* "127.0.0.1:9092/1", "host:9092/bootstrap" */
    char why[256];          /* the reason, without librdkafka's "(after
                               ...)" suffix */
};

struct speed {
    struct pipeline        *p;
    struct store           *st;
    const char             *topic;
    int                     once;

    rd_kafka_t             *rk;             /* the group consumer */
    rd_kafka_queue_t       *q;              /* its message queue */
    int                     cooperative;    /* rebalance protocol */
    struct speed_part      *parts;
    int                     nparts;         /* allocated entries */
    int                     nassigned;

    struct delta           *delta;          /* the open micro-batch */
    struct speed_late      *late;           /* its late events by
                                               partition (speed/late.h) */
    int                     nlate;
    struct archive         *archive;        /* NULL without speed.archive */
    struct rejects         *rejects;
    struct event            ev;
    struct buf              line;           /* scratch: archive lines */

    int                     npending;       /* records in the micro-batch */
    int                     status_due;     /* assigned, no commit since: write
                                               the status once caught up, so a
                                               replica on an idle topic knows
                                               its lag (serving/ready.c) */
    int64_t                 opened_ms;      /* monotonic ms it opened, 0 none */
    int64_t                 batch_max_time; /* newest accepted event time */
    int64_t                *fresh_ts;       /* record timestamps, accepted */
    int                     nfresh, fresh_cap;
    struct speed_counters   pend;           /* counts of the open micro-batch */
    struct speed_counters   total;          /* counted by this process */

    int64_t                 watermark;      /* INT64_MIN: none yet */
    int64_t                 pruned_cutoff;  /* batch cutoff already pruned */
    int64_t                 batch_cutoff;   /* the published batch cutoff as
                                               last read (INT64_MIN: none):
                                               events before it are late */
    int64_t                 commits;
    int64_t                 last_commit_ms; /* wall clock */
    int64_t                 last_group_commit; /* monotonic ms */
    uint32_t                fresh[2][SPEED_FRESH_BUCKETS]; /* window halves */
    int                     fresh_cur;      /* half being filled */
    int64_t                 fresh_rotated;  /* monotonic ms */
    uint64_t                fresh_all[SPEED_FRESH_BUCKETS]; /* since start */

    int                     brokers_down;   /* logged "all brokers down" */
    int64_t                 probe_ms;       /* next reachability probe */
    struct speed_unreachable unreachable[SPEED_UNREACHABLE_MAX];
    int                     nunreachable;   /* brokers logged unreachable */
    char                    kafka_why[256]; /* the last connection error */
    int                     topic_err_logged;
    int                     fatal;          /* stop: exit 1 */
    unsigned char          *follows;        /* per view: its standing at
                                               start (redefine.h) */
    int                     redefined;      /* stopped for a switch */

    int64_t                 once_wait_ms;   /* --once: give up after this
                                               long without progress */
    int64_t                 progress_ms;    /* --once: monotonic ms of the
                                               last progress (a record, a
                                               partition end, partitions) */
    int                     once_assigned;  /* --once: partitions taken */

    const char             *reset_to;       /* --reset-to, or NULL */
    int64_t                 reset_at;       /* its time (ms); INT64_MIN
                                               earliest, INT64_MAX latest */
    int                     runlock;        /* speed.run.lock, -1 */
    struct speed_replay    *replay;         /* per partition, nreplay */
    int                     nreplay;
};

extern volatile sig_atomic_t speed_stop;    /* set by SIGTERM, SIGINT, SIGHUP */

/* ---- consume.c, consume_*.c (consume_int.h) ---- */

/*
 * A librdkafka configuration with speed.kafka applied after ours and our
 * log and error callbacks set. Returns NULL with err on a bad property.
 * Used for the consumer and the rejects producer.
 */
rd_kafka_conf_t *speed_kafka_conf(struct speed *sp, int consumer, char *err);

/* Create the consumer and subscribe to the topic (with --once, speed_run()
 * assigns the partitions instead). Returns 0 or -1 with err. */
int speed_consumer_open(struct speed *sp, char *err);

/*
 * Poll, apply and commit until speed_stop is set, or with --once until
 * every partition of the topic is at its end. Returns 0, or -1 on a fatal
 * error (logged), --once's wait without progress (--wait) included.
 */
int speed_run(struct speed *sp);

/*
 * Commit what is pending, leave the group and destroy the consumer, within
 * a few seconds. Returns 0, or -1 if the last micro-batch could not be
 * committed (it will be replayed).
 */
int speed_consumer_close(struct speed *sp);

/* ---- commit.c, commit_status.c (commit_int.h) ---- */

#define SPEED_FENCED 1

/*
 * Commit the open micro-batch: rejects and archive files first, then one
 * LMDB write transaction with the deltas, offsets, watermark, status and
 * pruning. Returns 0 (also when there was nothing to commit), SPEED_FENCED
 * when another process moved one of our partitions' offsets, or when a
 * batch published a cutoff past events of the micro-batch (nothing was
 * written; the caller must discard and re-seek), or -1 with err.
 */
int speed_commit(struct speed *sp, char *err);

/* Offsets to the group too, asynchronously, so lag tools see progress (the
 * store stays the truth): at most once a second unless force. */
void speed_group_commit(struct speed *sp, int force);

/* Forget the open micro-batch (deltas, counts, archive lines). */
void speed_discard(struct speed *sp);

/* Load the watermark and the batch cutoff from the store, and record the
 * views' definitions for the speed rows (store_speed_sign()) and their
 * standing (redefine.h). Returns 0 or -1 with err. */
int speed_load_state(struct speed *sp, char *err);

/* Write st as the store's status record (shared/speedmeta.h) in t, and
 * reset st. Returns 0, or -1 with err. */
struct speedmeta_status;
int speed_status_store(struct store_txn *t, struct speedmeta_status *st,
    char *err);

/* Freshness percentile q (0..1) in ms of the histogram h, or -1 if empty. */
int64_t speed_fresh_percentile(const uint64_t *h, double q);

/* Log the one-line summary of this process's work: counts, rejects by
 * reason, commits, freshness. */
void speed_log_summary(const struct speed *sp, const char *why);

/* ---- reset.c ---- */

/* Parse --reset-to's argument into sp->reset_to and sp->reset_at:
 * earliest, latest, RFC 3339, epoch seconds, "-10m" or "10m ago". Returns
 * 0, or -1 with err. */
int speed_reset_parse(struct speed *sp, const char *arg, char *err);

/* The whole --reset-to run: opens sp->st, prints the plan on stdout and,
 * unless dry_run, applies it in one transaction. Returns the exit status
 * (0, or 1 logged). */
int speed_reset(struct speed *sp, int dry_run);

/* Before consuming: take the store's run lock shared (waiting while a
 * reset holds it) and load the replay floors. Returns 0 or -1 with err. */
int speed_reset_setup(struct speed *sp, char *err);

/* Nonzero when offset of part was consumed before a reset: its rejects and
 * archive lines were written then. */
int speed_replay_below(const struct speed *sp, int32_t part, int64_t offset);

/* Nonzero when the record at offset of part, parsed into sp->ev with
 * result r, is still counted from before a reset: skip it silently. */
int speed_replay_skip(const struct speed *sp, int32_t part, int64_t offset,
    enum reject r);

#endif
