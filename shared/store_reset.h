/* store_reset.h -- lambda-speed --reset-to in the store: offsets, rows, floors, the run lock */
#ifndef SHARED_STORE_RESET_H
#define SHARED_STORE_RESET_H

#include <stdint.h>

#include "shared/store.h"

/*
 * A reset moves a topic's stored offsets (meta "offset/TOPIC/P") back or
 * forward and deletes the speed rows from a bucket boundary on, in one
 * write transaction, so a kill -9 leaves the old state or the new one.
 *
 * The replay floor, meta "replay/TOPIC/P" (16 bytes: two little-endian
 * int64, below and before): offsets below `below` were consumed before the
 * reset, and their events with a time before `before` are still counted in
 * the rows kept (or were refused and archived), so lambda-speed skips them
 * when it reads them again. At `below` and after it, the floor means
 * nothing; the next reset replaces or deletes it.
 *
 * The run lock, DIR/speed.run.lock: every lambda-speed holds it shared
 * (flock LOCK_SH) for its lifetime, a reset exclusive, so a reset never
 * runs beside a lambda-speed of this store. The file holds the pid of the
 * last process that took it, for the messages; the lock dies with its
 * process (kill -9 included).
 */

#define STORE_SPEED_LOCK_FILE "speed.run.lock"
#define STORE_REPLAY_PREFIX "replay/"

/* One partition of a reset. */
struct store_reset_part {
    int32_t part;
    int64_t next;       /* the new offset to store */
    int64_t below;      /* the floor's offset; -1: delete the floor */
    int64_t before;     /* the floor's time, ms (INT64_MIN, INT64_MAX too) */
};

/* A reset of one topic. */
struct store_reset {
    const char              *topic;
    int64_t                  from;      /* delete speed rows with bucket >=
                                           from; INT64_MAX: none */
    int64_t                  watermark; /* the new speed.watermark;
                                           INT64_MIN: none (deleted) */
    const struct store_reset_part *parts;
    int                      nparts;
};

/*
 * In the write transaction t: store every partition's offset and floor,
 * delete the speed rows of every view from r->from on and the late-data
 * ledger's entries the replay will count (store_late_replayed()), set the
 * watermark. *rows gets the number of rows deleted, *late of entries.
 * Returns 0, or -1 with err (abort t then).
 */
int store_reset_apply(struct store_txn *t, const struct store_reset *r,
    int64_t *rows, int64_t *late, char *err);

/*
 * The speed rows a reset to from deletes: every row with a bucket at or
 * after from, of every view in the store (one no longer in the pipeline
 * too, until a publish drops it). Deleted (write t), or with dry_run only
 * counted; *rows gets how many. from INT64_MAX (latest): none. Returns 0,
 * or -1 with err.
 */
int store_reset_rows(struct store_txn *t, int64_t from, int dry_run,
    int64_t *rows, char *err);

/*
 * The late-data ledger's entries a reset to from deletes, the events its
 * replay counts: bucket at or after the later of from and the batch
 * cutoff (the replay skips older events below the old offsets), the cutoff
 * read in t, as a publish may come between a plan and the reset. Deleted
 * (write t), or with dry_run only counted; *late gets how many. from
 * INT64_MAX (latest): none. Returns 0, or -1 with err.
 */
int store_reset_late(struct store_txn *t, int64_t from, int dry_run,
    int64_t *late, char *err);

/*
 * The floor of topic's partition: 0 with *below and *before,
 * STORE_NOTFOUND, or -1 with err (a record of the wrong size is damage).
 */
int store_replay_get(struct store_txn *t, const char *topic, int32_t part,
    int64_t *below, int64_t *before, char *err);

/*
 * Take the run lock of the store in dir: shared (exclusive 0), as every
 * lambda-speed does, or exclusive, as a reset does; with wait, block until
 * it is granted. Returns the lock's descriptor (close() releases it), -2
 * with err when another process holds it the other way and wait is 0:
 * "another lambda-speed is running on DIR (pid 4242)" for a reset,
 * "lambda-speed --reset-to is running on DIR (pid 4242)" for a shared
 * taker, or -1 with err "store DIR: speed.run.lock: REASON".
 */
int store_speed_lock(const char *dir, int exclusive, int wait, char *err);

#endif
