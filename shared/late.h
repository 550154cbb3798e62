/* late.h -- the late-data ledger: what speed refused as late, until a batch holds it */
#ifndef SHARED_LATE_H
#define SHARED_LATE_H

#include <stddef.h>
#include <stdint.h>

#include "shared/pipeline.h"
#include "shared/store.h"

/*
 * lambda-speed rejects a valid event as late when it is before its
 * watermark or before the published batch cutoff. It still records it,
 * per view, group and bucket, in the store's database "late", in the same
 * write transaction as its offsets (so exactly once, like the speed rows):
 *     key    view | 0x00 | group key | bucket(8) | partition(4 BE) |
 *            offset(8 BE) | archived(1)
 *     value  events(8) | flags(8) | view->nslots row slots (agg_row_encode)
 * bucket is encoded as in the speed rows (big-endian, sign bit flipped),
 * events and flags little-endian like rows; flags bit 0 (LATE_ARCHIVED)
 * repeats the key's last byte. offset is the last offset of the partition
 * that the committing micro-batch consumed: every event of the entry is at
 * or before it (the late events of one partition, view, group and bucket
 * in one commit are one entry). Archived (speed.archive set: the event
 * joined the master dataset as a line of the partition's archive segment
 * holding its offset) and not archived events are separate entries.
 *
 * Clearing (store_late_clear(), in the publish transaction of a version
 * with cutoff C):
 * - an archived entry goes when bucket < C and its offset is at or before
 *   the last offset of its partition that the run's inputs hold without a
 *   gap (struct late_listing, from the sealed archive segments the run
 *   listed, batch/late.c): its events were lines of those files, so the
 *   run counted them;
 * - an entry not archived never reaches the master dataset: it stays,
 *   shown as "archived": false and never counted as pending, until its
 *   bucket is LATE_KEEP_MS before the cutoff of a publish.
 * Serving's answer cache needs nothing more: the ledger only changes in a
 * speed commit or a publish, and both change snap_identity().
 */

#define LATE_KEEP_MS (7 * 86400000LL)       /* not archived: a week */
#define LATE_ARCHIVED 0x1

/*
 * What a run's inputs hold of speed's archive: for partition p < n,
 * last[p] is the last offset of the sealed segments listed, from the first
 * listed one on without a gap (-1: none). NULL (or n 0) clears no archived
 * entry.
 */
struct late_listing {
    int      n;
    int64_t *last;
};

/*
 * In a write transaction: merge row (v->nslots slots, agg_row_merge()) and
 * add events to the entry (v, gkey, bucket, part, offset, archived), created
 * when absent. Returns 0, or -1 with err (key too long, sum overflow, LMDB).
 */
int store_late_merge(struct store_txn *t, const struct view *v,
    const void *gkey, size_t gklen, int64_t bucket, int32_t part,
    int64_t offset, int archived, int64_t events, const int64_t *row,
    char *err);

/* One entry of the ledger, as store_late_scan() hands it. */
struct late_entry {
    int64_t        bucket;
    int32_t        part;
    int64_t        offset;
    int            archived;
    int64_t        events;
    const int64_t *row;         /* v->nslots slots, valid during the call */
};

/*
 * Call fn for every entry of v's group gkey (gklen bytes; the empty key is
 * NULL, 0) with bucket in [from, to), in key order (bucket, partition,
 * offset, archived last). fn returns 0 to go on, nonzero to stop. Returns
 * 0, or -1 with err. A store opened read-only that has no ledger yet (an
 * older store) has no entries.
 */
int store_late_scan(struct store_txn *t, const struct view *v,
    const void *gkey, size_t gklen, int64_t from, int64_t to,
    int (*fn)(void *arg, const struct late_entry *e), void *arg, char *err);

/*
 * The events of v's group gkey in bucket that store_late_clear(t, cutoff,
 * l) would delete (archived ones). 0 and *events, or -1 with err.
 */
int store_late_absorbed(struct store_txn *t, const struct view *v,
    const void *gkey, size_t gklen, int64_t bucket, int64_t cutoff,
    const struct late_listing *l, int64_t *events, char *err);

/*
 * In the publish transaction of a version with cutoff: delete the entries
 * the rules above clear (l NULL: no archived entry goes). The events
 * deleted are added to *archived and *unarchived (may be NULL). Returns 0,
 * or -1 with err.
 */
int store_late_clear(struct store_txn *t, int64_t cutoff,
    const struct late_listing *l, int64_t *archived, int64_t *unarchived,
    char *err);

/*
 * In the transaction of a lambda-speed --reset-to: delete the entries with
 * a bucket at or after from, whose events the replay counts in the speed
 * rows (it replays every record whose event time is at or after the
 * boundary and the batch cutoff; the caller passes the later of the two).
 * *entries counts them (an event is in one entry per view). dry_run:
 * only count them (any transaction). Returns 0, or -1 with err.
 */
int store_late_replayed(struct store_txn *t, int64_t from, int dry_run,
    int64_t *entries, char *err);

#endif
