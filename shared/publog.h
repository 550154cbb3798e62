/* publog.h -- the publish log: what each batch version changed, per view */
#ifndef SHARED_PUBLOG_H
#define SHARED_PUBLOG_H

#include <stddef.h>
#include <stdint.h>

#include "shared/pipeline.h"
#include "shared/store.h"

/*
 * Every batch publish (lambda-batch, --from, --merge, --pull) records, in
 * its publish transaction, what it changed against the version it replaced:
 * per view, the base buckets (group key, bucket time) added, changed and
 * removed, all counted, the first PUBLOG_DETAILS of each kind in detail
 * (metric states before and after), and why, as far as the writer can
 * know. lambda-batch --dry-run computes the same diff and prints it.
 *
 * The diff (store_diff.c) is a merge walk: the new rows come in the
 * writer's key order and the previous version's rows are read alongside in
 * the same order, so it costs one cursor step and one memcmp() per row and
 * its memory is the details, whatever the number of rows. Rows a --from run
 * carries over (before --from) are neither read nor counted: unchanged by
 * construction.
 *
 * The log (store_publog.c) lives in the meta database:
 *     "publog/VVVVVVVVVV"          one publish (struct publog_info)
 *     "publogv/VVVVVVVVVV/VIEW"    one view of it (struct publog_view)
 * V is the version in 10 digits, so name order is version order. A publish
 * keeps the last PUBLOG_KEEP entries and deletes older ones in its own
 * transaction.
 *
 * Caveats:
 * - Pointers in a publog_view read from the store die with the transaction
 *   (or the store_publog_views() callback); those from a store_diff live
 *   until store_diff_free().
 * - Detailed rows are stored as the view's definition then encoded them;
 *   decode them only while pipeline_view_signature() still equals
 *   publog_view.sig.
 */

#define PUBLOG_KEEP 20          /* publishes kept in the log */
#define PUBLOG_DETAILS 100      /* buckets detailed per view and kind */

enum publog_kind {
    PUBLOG_ADDED, PUBLOG_CHANGED, PUBLOG_REMOVED, PUBLOG_NKINDS
};

/* Why a bucket is in the diff. */
enum publog_why {
    PUBLOG_WHY_NEW,         /* added at or after the previous cutoff, or in
                               the first version: "new data" */
    PUBLOG_WHY_LATE,        /* added or changed before the previous cutoff:
                               events the previous run did not have (late
                               events that reached the inputs, inputs added
                               or edited): "late data" */
    PUBLOG_WHY_BACKFILL,    /* the same in a --from run: "backfill" */
    PUBLOG_WHY_GONE,        /* removed before the new cutoff: "removed from
                               inputs" */
    PUBLOG_WHY_CUTOFF,      /* removed at or after the new cutoff: "cutoff
                               moved back" */
    PUBLOG_WHY_VIEW_ADDED,  /* the previous version had no such view */
    PUBLOG_WHY_REDEFINED,   /* the view's definition changed: every bucket
                               added, every old one removed (undetailed) */
    PUBLOG_WHY_DROPPED,     /* the view left the pipeline (undetailed) */
    PUBLOG_WHY_ABSORBED,    /* late data whose events the late-data ledger
                               held and this publish clears (late.h): "late
                               events absorbed" */
    PUBLOG_NWHY
};

/* "added", "changed", "removed"; "new data", "late data", ... (above). */
const char *publog_kind_name(int kind);
const char *publog_why_name(int why);

/* One publish. */
struct publog_info {
    int64_t version;
    int64_t previous;           /* the version it replaced, 0: none */
    int64_t cutoff;             /* ms */
    int64_t previous_cutoff;    /* ms, INT64_MIN: none */
    int64_t published_at;       /* ms */
    int64_t events;
    int64_t rejects;            /* -1: unknown (a --pull) */
    int64_t from;               /* --from (ms), -1: none */
    int64_t counts[PUBLOG_NKINDS];  /* buckets, over every view */
};

/* One view of a publish. */
struct publog_view {
    const char          *name;
    uint64_t             sig;       /* pipeline_view_signature() of rows */
    size_t               rowsize;   /* bytes of a detailed row */
    int64_t              counts[PUBLOG_NKINDS];
    int64_t              why[PUBLOG_NWHY];     /* buckets by reason */
    const unsigned char *details[PUBLOG_NKINDS];    /* publog_entry_next() */
    size_t               detlen[PUBLOG_NKINDS];
};

/* One detailed bucket. */
struct publog_entry {
    const void *gkey;           /* group key bytes (key.h) */
    size_t      gklen;
    int64_t     bucket;         /* ms */
    int         why;            /* enum publog_why */
    const void *before;         /* rows of pv->rowsize bytes, to decode with */
    const void *after;          /* agg_row_decode(); NULL when none */
};

/*
 * The next detailed bucket of kind in pv, from *off (0 to start; advanced).
 * Returns 0 and e (pointers into pv's details), STORE_NOTFOUND after the
 * last, or -1 when the record is malformed.
 */
int publog_entry_next(const struct publog_view *pv, int kind, size_t *off,
    struct publog_entry *e);

/* ---- computing a diff (store_diff.c) ---- */

struct store_diff;

/*
 * Begin the diff of a new version of p's views against the version current
 * in st (st NULL: no store yet, so against nothing). keep_before >= 0 is
 * --from: rows before it are carried over and left out. The caller holds
 * the batch lock, or accepts that a publish in between makes the diff
 * stale (a dry run). Returns 0 and *out (free with store_diff_free()), or
 * -1 with err.
 */
int store_diff_begin(struct store *st, const struct pipeline *p,
    int64_t keep_before, struct store_diff **out, char *err);

/* The new version's cutoff (removed buckets at or after it are "cutoff
 * moved back"; INT64_MAX until told) and its rejects (-1: unknown). */
void store_diff_note(struct store_diff *d, int64_t cutoff, int64_t rejects);

/*
 * One base row of the new version (not a carried one): views in strcmp()
 * order of their names, rows within a view in ascending (group key bytes,
 * bucket) order, as store_writer_put() takes them. Views skipped over had
 * no rows. Returns 0, or -1 with err (a read of the previous version
 * failed, or the order is wrong).
 */
int store_diff_row(struct store_diff *d, const struct view *v,
    const void *gkey, size_t gklen, int64_t bucket, const int64_t *row,
    char *err);

/* After the last row: finish every view, and count the rows of views the
 * previous version has and p has not. Returns 0, or -1 with err. */
int store_diff_finish(struct store_diff *d, char *err);

/* End the read transaction on the previous version until the next row, so
 * the caller may begin a write transaction. NULL is a no-op. */
void store_diff_pause(struct store_diff *d);

/* The result, after store_diff_finish(): info without version, cutoff,
 * published_at and events (0), and the views: p's in name order, then the
 * dropped ones. Valid until store_diff_free(). */
void store_diff_info(const struct store_diff *d, struct publog_info *info);
int store_diff_nviews(const struct store_diff *d);
const struct publog_view *store_diff_view(const struct store_diff *d, int i);

/* NULL is a no-op. */
void store_diff_free(struct store_diff *d);

/* ---- the log (store_publog.c) ---- */

/*
 * In a write transaction: record info with d's views under info->version,
 * and delete the entries older than the last PUBLOG_KEEP. Returns 0, or -1
 * with err.
 */
int store_publog_put(struct store_txn *t, const struct publog_info *info,
    const struct store_diff *d, char *err);

/* Call fn with every recorded publish, newest first (info valid during the
 * call); fn returns 0 to go on, nonzero to stop. Returns 0, or -1 with
 * err. */
int store_publog_list(struct store_txn *t,
    int (*fn)(void *arg, const struct publog_info *info), void *arg,
    char *err);

/* The publish of version: 0 and info, STORE_NOTFOUND when it is not (or no
 * longer) in the log, or -1 with err. */
int store_publog_get(struct store_txn *t, int64_t version,
    struct publog_info *info, char *err);

/* Call fn with every view recorded for version, in name order (pv valid
 * during the call); fn returns 0 to go on, nonzero to stop. Returns 0, or
 * -1 with err (also for a malformed record). */
int store_publog_views(struct store_txn *t, int64_t version,
    int (*fn)(void *arg, const struct publog_view *pv), void *arg,
    char *err);

/* ---- the writer's side (store_writer.c) ---- */

/* Tell w the cutoff its version will have and the run's rejects (-1:
 * unknown), for the log (store_diff_note()); before the first put. */
void store_writer_log(struct store_writer *w, int64_t cutoff,
    int64_t rejects);

/*
 * Tell w (and its diff) what its inputs hold of speed's archive (late.h;
 * borrowed until the publish; NULL, the default, when they hold none or it
 * is not known): the publish clears the late-data ledger's entries its
 * inputs held, and the diff says "late events absorbed" for their buckets.
 * Before the first put.
 */
struct late_listing;
void store_writer_late(struct store_writer *w, const struct late_listing *l);

/* The same for a diff alone (a dry run). */
void store_diff_late(struct store_diff *d, const struct late_listing *l);

#endif
