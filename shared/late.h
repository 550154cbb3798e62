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
 *     key    view | 0x00 | group key | bucket(8) | slot(8 BE) | archived(1)
 *     value  events(8) | flags(8) | view->nslots row slots (agg_row_encode)
 * bucket is encoded as in the speed rows (big-endian, sign bit flipped),
 * events and flags little-endian like rows; flags bit 0 (LATE_ARCHIVED)
 * repeats the key's last byte. slot is the commit's wall clock, read once
 * its archive lines are on disk, floored to the second (LATE_SLOT_MS):
 * entries of one second merge, and a publish can tell which ones its inputs
 * surely held. Archived (speed.archive set: the event joined the master
 * dataset) and not archived events are separate entries.
 *
 * Clearing (store_late_clear(), in the publish transaction of a version
 * with cutoff C whose inputs were listed at wall time L and hold the speed
 * archive):
 * - an archived entry goes when bucket < C and slot + LATE_SLOT_MS <= L:
 *   every event of it was archived before L, and the run counted it (L is
 *   lowered to when any archive segment the run did not list was opened,
 *   batch/late.c: its lines were not in the inputs);
 * - an entry not archived never reaches the master dataset: it stays,
 *   shown as "archived": false and never counted as pending, until its
 *   bucket is LATE_KEEP_MS before the cutoff of a publish.
 */

#define LATE_SLOT_MS 1000                   /* a slot: one second */
#define LATE_KEEP_MS (7 * 86400000LL)       /* not archived: a week */
#define LATE_ARCHIVED 0x1
#define LATE_NONE INT64_MIN                 /* no listing time: keep */

/* The slot of a commit at wall clock ms. */
int64_t late_slot(int64_t wall_ms);

/*
 * In a write transaction: merge row (v->nslots slots, agg_row_merge()) and
 * add events to the entry (v, gkey, bucket, slot, archived), created when
 * absent. Returns 0, or -1 with err (key too long, sum overflow, LMDB).
 */
int store_late_merge(struct store_txn *t, const struct view *v,
    const void *gkey, size_t gklen, int64_t bucket, int64_t slot,
    int archived, int64_t events, const int64_t *row, char *err);

/* One entry of the ledger, as store_late_scan() hands it. */
struct late_entry {
    int64_t        bucket;
    int64_t        slot;
    int            archived;
    int64_t        events;
    const int64_t *row;         /* v->nslots slots, valid during the call */
};

/*
 * Call fn for every entry of v's group gkey (gklen bytes; the empty key is
 * NULL, 0) with bucket in [from, to), in key order (bucket, slot, archived
 * last). fn returns 0 to go on, nonzero to stop. Returns 0, or -1 with err.
 * A store opened read-only that has no ledger yet (an older store) has no
 * entries.
 */
int store_late_scan(struct store_txn *t, const struct view *v,
    const void *gkey, size_t gklen, int64_t from, int64_t to,
    int (*fn)(void *arg, const struct late_entry *e), void *arg, char *err);

/*
 * The events of v's group gkey in bucket that store_late_clear(t, cutoff,
 * listed) would delete: archived, bucket < cutoff, slot + LATE_SLOT_MS <=
 * listed. 0 and *events, or -1 with err.
 */
int store_late_absorbed(struct store_txn *t, const struct view *v,
    const void *gkey, size_t gklen, int64_t bucket, int64_t cutoff,
    int64_t listed, int64_t *events, char *err);

/*
 * In the publish transaction of a version with cutoff: delete the entries
 * the rule above clears (listed LATE_NONE: no archived entry goes). The
 * events deleted are added to *archived and *unarchived (may be NULL).
 * Returns 0, or -1 with err.
 */
int store_late_clear(struct store_txn *t, int64_t cutoff, int64_t listed,
    int64_t *archived, int64_t *unarchived, char *err);

#endif
