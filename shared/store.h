/* store.h -- the LMDB store: batch versions, speed buckets, Kafka offsets, metadata */
#ifndef SHARED_STORE_H
#define SHARED_STORE_H

#include <stddef.h>
#include <stdint.h>

#include "shared/pipeline.h"

/*
 * One store is one LMDB environment in a directory, shared by lambda-batch,
 * lambda-speed and lambda-serving (several processes). Named databases:
 *     meta   format version, current batch version and cutoff, speed
 *            watermark and status, Kafka offsets ("offset/TOPIC/PARTITION");
 *            the store owns "format" and the names starting "batch.",
 *            "span/", "sig/" (view signatures per batch version),
 *            "speedsig/" (view signatures of the speed rows), "offset/",
 *            "publog/" and "publogv/" (the publish log, publog.h)
 *     batch  version(4 BE) | view | 0x00 | level(1) | group key | bucket(8 BE)
 *     speed  view | 0x00 | group key | bucket(8 BE)
 *     late   the late-data ledger (late.h)
 * Buckets are encoded big-endian with the sign bit flipped, so key order is
 * time order. Levels of the batch view:
 *     STORE_LEVEL_BASE  rows at the view's granularity
 *     STORE_LEVEL_DAY   one row per UTC day (only when granularity < 1d)
 *     STORE_LEVEL_ALL   one row per group over every batch bucket, bucket 0
 * Every level of a version holds the same totals; serving picks the coarsest
 * that fits a query.
 *
 * Caveats (as lmdb.h):
 * - One write transaction at a time, across all processes: keep them short.
 * - Pointers handed out by reads die with their transaction or iterator.
 * - A store must not be used across fork().
 * - The environment is opened MDB_NOTLS: read transactions are not tied to a
 *   thread and several may run at once in any threads; a write transaction
 *   belongs to the thread that began it.
 * - The on-disk format is versioned (STORE_FORMAT). A store of an older
 *   format this build reads (STORE_FORMAT_OLDEST on) is read as it is and
 *   moved on to STORE_FORMAT by the first writer that opens it; a newer one
 *   is refused at open with a message saying what to do. Format 2 added
 *   metric kinds; rows of the kinds of format 1 kept their layout.
 * - The map size is fixed at open (LAMBDA_MAP_SIZE bytes if set in the
 *   environment, else STORE_MAP_DEFAULT). A write that does not fit fails
 *   with "store DIR: map full: ..." and is rolled back whole; one the disk
 *   has no room for with "store DIR: disk full: ...".
 * - A damaged store is refused, not read (store_open()); damage inside the
 *   pages, which only a full walk finds, is store_verify()'s.
 */

#define STORE_NOTFOUND 1
#define STORE_FORMAT 2
#define STORE_FORMAT_OLDEST 1
#define STORE_MAP_DEFAULT (64ULL << 30)

enum { STORE_LEVEL_BASE = 0, STORE_LEVEL_DAY = 1, STORE_LEVEL_ALL = 2 };

#define STORE_RDONLY 0x1    /* open read-only; fail if the store is missing */

struct store;
struct store_txn;
struct store_iter;
struct store_writer;

/*
 * Check LAMBDA_MAP_SIZE (unset or empty counts as fine), so a program can
 * refuse a bad value at start as the configuration error it is. Returns 0,
 * or -1 with err saying what a size looks like.
 */
int store_map_size_check(char *err);

/*
 * Open the store in dir, creating the directory and the environment unless
 * STORE_RDONLY. Checks, cheaply (no page of the trees is read), what LMDB
 * does not: that data.mdb holds every page its header says is in use (a
 * shorter file would be a SIGBUS at the first read past its end), the
 * format, and the meta values every program relies on (batch version,
 * cutoff, spans, watermark, offsets). Returns 0 and a new store (free with
 * store_free()); STORE_NOTFOUND with STORE_RDONLY when there is no store
 * yet, also while its first writer is creating it, with err "store
 * var/shop: not created yet (run lambda-batch or lambda-speed first)"; or
 * -1 with err: "store var/shop: format 7 is newer
 * than this build reads ...", or for damage "store var/shop: data.mdb is
 * 1048576 bytes but its last page ends at 2097152: the file is truncated;
 * restore it from a backup, or move it away and run lambda-batch
 * (lambda-speed replays Kafka)".
 */
int store_open(struct store **out, const char *dir, unsigned flags, char *err);

/* Close the environment. Every transaction must have ended. NULL is a no-op. */
void store_free(struct store *st);

/* The directory the store was opened with (borrowed). */
const char *store_dir(const struct store *st);

/* Bytes in use in the data file (pages used * page size), for metrics. */
uint64_t store_used_bytes(struct store *st);

/*
 * Begin a transaction: write != 0 for a write transaction (waits for any
 * other writer, in any process). Returns 0 and *out, or -1 with err, also
 * when data.mdb was cut shorter than its pages since the open. End it with
 * store_txn_commit() or store_txn_abort(), which free it.
 */
int store_txn_begin(struct store *st, int write, struct store_txn **out,
    char *err);

/*
 * What names t's snapshot within this process: id[0] numbers the open
 * store (never reused, even after a store_free() and a new open at the
 * same address), id[1] is LMDB's transaction id. Two read transactions with
 * equal ids see the same data, so what was read in one holds for the other.
 */
void store_txn_snapid(const struct store_txn *t, uint64_t id[2]);

/* Commit and free t. On failure nothing of t is kept: returns -1 with err,
 * "store DIR: disk full: commit: No space left on device (0 bytes free on
 * its filesystem): ..." or "store DIR: map full: ..." named as such. */
int store_txn_commit(struct store_txn *t, char *err);

/* Abort and free t. NULL is a no-op. */
void store_txn_abort(struct store_txn *t);

/* Metadata values: 64-bit integers or raw bytes, by name. get returns 0,
 * STORE_NOTFOUND or -1; bytes from store_meta_get die with the txn. */
int store_meta_get_i64(struct store_txn *t, const char *name, int64_t *v,
    char *err);
int store_meta_put_i64(struct store_txn *t, const char *name, int64_t v,
    char *err);
int store_meta_get(struct store_txn *t, const char *name, const void **val,
    size_t *len, char *err);
int store_meta_put(struct store_txn *t, const char *name, const void *val,
    size_t len, char *err);

/* Delete the meta value name (absent: a no-op), in a write transaction.
 * Returns 0 or -1 with err. (store_sig.c) */
int store_meta_del(struct store_txn *t, const char *name, char *err);

/* Call fn for every meta name starting with prefix, in name order, with
 * its value (valid during the call); fn returns 0 to go on, nonzero to stop.
 * Returns 0, or -1 with err. */
int store_meta_scan(struct store_txn *t, const char *prefix,
    int (*fn)(void *arg, const char *name, const void *val, size_t len),
    void *arg, char *err);

/* The published batch version, as one read of meta. */
struct store_batch_info {
    int64_t version;        /* 1, 2, ... */
    int64_t cutoff;         /* ms: buckets before it are complete in batch */
    int64_t published_at;   /* ms, wall clock of the publish */
    int64_t events;         /* events counted into this version */
};

/* Returns 0 and fills info, STORE_NOTFOUND if nothing was ever published,
 * or -1 with err (also for values out of range: a damaged store). */
int store_batch_current(struct store_txn *t, struct store_batch_info *info,
    char *err);

/* First and last base bucket of view in a batch version. Returns 0,
 * STORE_NOTFOUND if the view has no rows there, or -1. */
int store_batch_span(struct store_txn *t, int64_t version, const char *view,
    int64_t *first, int64_t *last, char *err);

/*
 * Rows, read through an iterator in key order.
 *
 * store_iter_batch: rows of view at level in batch version; store_iter_speed:
 * speed rows of view. gkey/gklen: NULL, 0 for every group, else only that
 * exact group. Only buckets in [from, to) are returned (use INT64_MIN and
 * INT64_MAX for all). Scans of every group skip out-of-range buckets by
 * seeking, which relies on group keys being self-delimiting (key.h). Returns
 * 0 and *out (free with store_iter_free(), before the transaction ends), or
 * -1 with err.
 */
int store_iter_batch(struct store_txn *t, int64_t version,
    const struct view *v, int level, const void *gkey, size_t gklen,
    int64_t from, int64_t to, struct store_iter **out, char *err);
int store_iter_speed(struct store_txn *t, const struct view *v,
    const void *gkey, size_t gklen, int64_t from, int64_t to,
    struct store_iter **out, char *err);

struct store_row {
    const void    *gkey;    /* group key bytes, valid until the next call */
    size_t         gklen;
    int64_t        bucket;
    const int64_t *slots;   /* view->nslots decoded slots, iterator-owned */
};

/* Next row: 0 and *row, STORE_NOTFOUND at the end, or -1 with err. */
int store_iter_next(struct store_iter *it, struct store_row *row, char *err);
void store_iter_free(struct store_iter *it);

/*
 * Speed writes, inside a write transaction. store_speed_merge() merges delta
 * into the stored row (agg_row_merge(); a missing row is the identity).
 * store_speed_prune() deletes every speed row, of every view, whose bucket is
 * before cutoff (those are answered from batch). Return 0 or -1 with err.
 */
int store_speed_merge(struct store_txn *t, const struct view *v,
    const void *gkey, size_t gklen, int64_t bucket, const int64_t *delta,
    char *err);
int store_speed_prune(struct store_txn *t, int64_t cutoff, char *err);

/* Next offset to consume for a topic partition, kept in meta with the
 * deltas. get returns 0, STORE_NOTFOUND or -1. */
int store_offset_get(struct store_txn *t, const char *topic, int32_t partition,
    int64_t *next, char *err);
int store_offset_put(struct store_txn *t, const char *topic, int32_t partition,
    int64_t next, char *err);

/*
 * A view's rows are only meaningful under the definition they were written
 * with (pipeline_view_signature()): a changed group_by, granularity, metric or
 * where makes old rows unmergeable with new ones.
 *
 * store_view_check: check view v against what the store recorded for the rows
 * of batch version `version` (> 0) or, with version 0, for the speed rows.
 * Returns 0 when they match or nothing was recorded, or -1 with err:
 * "store DIR: view NAME changed since batch version 3 was published (run
 * lambda-batch to rebuild it)".
 *
 * store_view_sig: the signature recorded for view's rows in batch version
 * `version` (> 0) or, with 0, for its speed rows: 0 and *sig, STORE_NOTFOUND,
 * or -1 with err.
 *
 * store_speed_follows: may lambda-speed write v's rows under p's definition?
 * The store's definition of a view is its speed rows' ("speedsig/VIEW"),
 * else the published version's. STORE_SPEED_SAME: it is p's;
 * STORE_SPEED_NEW: the store has none (a new view); STORE_SPEED_OTHER: the
 * store holds another definition, which only lambda-batch switches (in its
 * publish, with the view's speed rows: viewswitch.h); -1 with err.
 *
 * store_speed_sign: in a write transaction, record every view of p that is
 * SAME or NEW as the definition its speed rows are written under ("speedsig/"
 * and the definition itself, viewdef.h). A view the store defines otherwise
 * is left as it is (lambda-speed skips it until lambda-batch switches it);
 * it never refuses.
 *
 * store_speed_drop_view: delete every speed row of the view named view, its
 * late-data ledger entries (late.h: written under the same definition) and
 * its "speedsig/" (the view was switched or removed).
 */
#define STORE_SPEED_SAME 0
#define STORE_SPEED_NEW 1
#define STORE_SPEED_OTHER 2
int store_view_check(struct store_txn *t, const struct pipeline *p,
    const struct view *v, int64_t version, char *err);
int store_view_sig(struct store_txn *t, int64_t version, const char *view,
    int64_t *sig, char *err);
int store_speed_follows(struct store_txn *t, const struct pipeline *p,
    const struct view *v, char *err);
int store_speed_sign(struct store_txn *t, const struct pipeline *p, char *err);
int store_speed_drop_view(struct store_txn *t, const char *view, char *err);

/*
 * The batch lock: one batch run writes a store at a time. Whoever holds it
 * may purge what an unpublished run left and reserve versions, so nobody
 * else's rows are deleted under them; lambda-batch holds it from before it
 * reads its inputs, so a second run fails in its first second rather than
 * after reading everything. It is flock(LOCK_EX | LOCK_NB) on
 * DIR/batch.run.lock, which then holds the holder's pid; the lock dies with
 * its process (kill -9 included), so it is never left behind.
 *
 * store_batch_lock: take it for the handle, until store_batch_unlock() or
 * store_free(); a no-op when the handle holds it. Returns 0, or -1 with err:
 * "another lambda-batch is running on DIR (pid 4242)" when another holder
 * has it, "store DIR: batch.run.lock: REASON" when the file cannot be
 * opened or locked. store_batch_unlock: release it; no-op when not held or
 * st is NULL.
 */
#define STORE_LOCK_FILE "batch.run.lock"
int store_batch_lock(struct store *st, char *err);
void store_batch_unlock(struct store *st);

/*
 * Batch publication. store_writer_begin() takes the batch lock unless the
 * handle holds it already (store_batch_lock(); released with the writer if
 * the writer took it); a second writer on the same handle fails with "store
 * DIR: another batch run is writing this store". It deletes
 * rows left by runs that were killed before publishing and reserves a new
 * version, one above any version ever used. With keep_before >= 0
 * (lambda-batch --from), base rows of the current version with bucket <
 * keep_before are carried into the new version, merged in key order with the
 * rows put; it fails if a view's definition (pipeline_view_signature())
 * changed since the current version. Rows are buffered and written in
 * transactions of bounded size, none left open between calls, and stay
 * invisible until publish. Returns 0 and *out, or -1 with err.
 */
int store_writer_begin(struct store *st, const struct pipeline *p,
    int64_t keep_before, struct store_writer **out, char *err);

/*
 * Add one base row. Views must come in ascending strcmp() order of their
 * names, and within a view rows in ascending (group key bytes, bucket)
 * order; the writer derives the day and all-time rollups itself. A row out
 * of order, or with keep_before >= 0 a bucket before keep_before, is refused
 * (-1, err; the writer stays usable). A failed write (disk or map full)
 * fails the writer: later puts and the publish fail too.
 */
int store_writer_put(struct store_writer *w, const struct view *v,
    const void *gkey, size_t gklen, int64_t bucket, const int64_t *row,
    char *err);

/*
 * Make the new version current in one write transaction (with info->cutoff
 * and info->events; version and published_at are filled in), then delete
 * the previous version's rows. Readers see the old version or the new one,
 * never a mix. Frees w whatever happens. Returns 0, or -1 with err (the
 * previous version stays current and the new one's rows are deleted, as by
 * store_writer_abort()).
 */
int store_writer_publish(struct store_writer *w, struct store_batch_info *info,
    char *err);

/*
 * A function the publish calls inside its write transaction t, after the new
 * version's meta is put and before the commit (viewswitch.h): info is the
 * version being published, prev the one it replaces (0: none). Returning -1
 * with err rolls the publish back.
 */
void store_writer_on_publish(struct store_writer *w,
    int (*fn)(void *arg, struct store_txn *t,
        const struct store_batch_info *info, int64_t prev, char *err),
    void *arg);

/* Drop the unpublished version: delete the rows it wrote (in bounded
 * transactions; if that fails too, as on a disk still full, the next
 * store_batch_reclaim() or store_writer_begin() does it) and free w. NULL
 * is a no-op. */
void store_writer_abort(struct store_writer *w);

/*
 * Delete the rows of every batch version but the published one: what a run
 * that was killed, or whose clean-up failed, left behind. Takes the batch
 * lock unless the handle holds it (kept until store_batch_unlock()).
 * lambda-batch calls it before it reads its inputs, so that a run after a
 * full disk gets that room back first. Returns 0 and the rows deleted in
 * *rows, or -1 with err.
 */
int store_batch_reclaim(struct store *st, int64_t *rows, char *err);

/*
 * (store_verify.c) Walk the whole store in dir and report its damage: every
 * database LMDB keeps (the names, its free list: pages in the file), every
 * meta value decoded, every batch and speed key and row decoded against the
 * views of p whose definition wrote them (row size, group key, bucket
 * alignment), each batch version's day and all-time rows against the sum of
 * its base rows and its span, keys in order, the entries LMDB counts. LMDB
 * keeps no checksums and may read out of bounds or abort on a damaged page,
 * so the walk runs in a child process: a crash is reported as damage, with
 * the database and key where it happened. Read-only; it needs no lock and
 * may run beside the other programs.
 *
 * fn is called, in the caller's process, once per finding: kind
 * STORE_VERIFY_DAMAGE (damage) or STORE_VERIFY_NOTE (worth knowing, not
 * damage: rows of an unpublished run, a view changed since a version, a meta
 * name this build does not know), msg one line valid during the call. Up to
 * STORE_VERIFY_SHOWN findings of each database are passed on; all are
 * counted in *out. Returns 0 when the walk ran (damage or not: see
 * out->damage), or -1 with err when it could not (no store, a newer format,
 * fork() failed).
 */
#define STORE_VERIFY_DAMAGE 1
#define STORE_VERIFY_NOTE 2
#define STORE_VERIFY_SHOWN 20

struct store_verify {
    int64_t damage;         /* damaged places found */
    int64_t notes;
    int64_t version;        /* the published batch version; 0: none */
    int64_t meta;           /* entries read in each database */
    int64_t batch;
    int64_t speed;
    int64_t free_pages;     /* pages on LMDB's free list */
    int64_t late;           /* entries of the late-data ledger */
};

int store_verify(const char *dir, const struct pipeline *p,
    void (*fn)(void *arg, int kind, const char *msg), void *arg,
    struct store_verify *out, char *err);

/*
 * (store_verify.c) The walk of store_verify() before a program uses the
 * store in dir: lambda-batch before it writes, lambda-serving before it
 * opens. Returns 0 when it found no damage, when dir holds no data.mdb yet
 * (store_open() creates or waits for it) or when LAMBDA_NO_VERIFY is set
 * (to anything but "", "0" or "false": the walk is skipped); -1 with err
 * "store DIR: damaged: FIRST FINDING (and N more); run lambda-batch
 * --verify for the full report", or what store_open() says (a read-only
 * open first: its checks of size, format and meta in its own words), or
 * why it could not walk (fork() failed).
 * *walked is set to 1 when the walk ran to its end (damage found or not).
 */
int store_verify_check(const char *dir, const struct pipeline *p,
    int *walked, char *err);

/*
 * (store_pull.c) Make the next store_writer_begin() on st reserve exactly
 * version, which must be above the current one: lambda-batch --pull
 * publishes a repository's version under the number it has there, so that
 * replicas' answers name the same version. Takes the batch lock unless the
 * handle holds it (kept until store_batch_unlock()). Returns 0, or -1 with
 * err.
 */
int store_batch_reserve(struct store *st, int64_t version, char *err);

#endif
