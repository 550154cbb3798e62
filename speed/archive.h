/* archive.h -- accepted events appended to the master dataset, exactly once */
#ifndef SPEED_ARCHIVE_H
#define SPEED_ARCHIVE_H

#include <stddef.h>
#include <stdint.h>

#include "shared/store.h"

/*
 * Layout, one folder per topic and partition (names and the meta record are
 * the contract with lambda-batch, in shared/segment.h):
 *     DIR/TOPIC/pP/FIRST-LAST.jsonl         sealed segments
 *     DIR/TOPIC/pP/.FIRST.jsonl.open        the open segment (hidden)
 * Only sealed *.jsonl files are part of the master dataset; the
 * open segment is sealed (renamed) when it reaches ARCHIVE_SEAL_BYTES or
 * ARCHIVE_SEAL_MS, when its partition is revoked, and at shutdown.
 *
 * Exactly once: each micro-batch's lines are appended to the open segment
 * and fdatasync'ed inside the commit's LMDB write transaction, after the
 * fence check, and the segment's committed length is stored in the same
 * transaction (meta "speed.archive/TOPIC/P", with the segment's oldest
 * event time, so lambda-batch can hold its cutoff before the events of
 * segments not sealed yet). Every append first truncates
 * the segment to its committed length, so lines of a micro-batch that was
 * killed before its commit are cut off and written again by the replay,
 * however the replay cuts its micro-batches. Appends happen under the LMDB
 * writer lock, so two processes never interleave writes to one segment.
 * A seal is a rename after the commit; a crash before it leaves the segment
 * open, and it is continued and sealed later.
 */

#define ARCHIVE_SEAL_BYTES (64 << 20)
#define ARCHIVE_SEAL_MS 60000

struct archive;

/* Open DIR for TOPIC (folders created on demand). Returns 0 or -1 with err.
 * Free with archive_free(). */
int archive_open(struct archive **out, const char *dir, const char *topic,
    char *err);
void archive_free(struct archive *a);

/* Take part on (it was assigned): learn its open segment from the store
 * (any transaction), so it is sealed on time even without new lines. */
int archive_assign(struct archive *a, struct store_txn *t, int32_t part,
    char *err);

/* Let part go (revoked, after the commit that sealed it): its segments are
 * no longer ours to seal. */
void archive_release(struct archive *a, int32_t part);

/* Add one line (no newline) for offset of part, an event of the given
 * time (ms), to the open micro-batch. */
void archive_add(struct archive *a, int32_t part, int64_t offset,
    int64_t time, const char *line, size_t len);

/* Forget the open micro-batch's lines. */
void archive_discard(struct archive *a);

/* Seal part's segment (-1: every partition we hold) at the next commit. */
void archive_seal(struct archive *a, int32_t part);

/* Nonzero when some open segment is due for sealing at now_ms (wall). */
int archive_due(const struct archive *a, int64_t now_ms);

/* Nonzero when there are lines or seals waiting for a commit. */
int archive_pending(const struct archive *a);

/*
 * Inside the commit's write transaction, after the fence check: append the
 * micro-batch's lines to their segments (durably) and store the new
 * lengths. Returns 0, or -1 with err (the transaction must be aborted).
 */
int archive_write(struct archive *a, struct store_txn *t, int64_t now_ms,
    char *err);

/* After the transaction committed: seal what is due, forget the lines.
 * Failures are logged (the segment stays open and is sealed later). */
void archive_committed(struct archive *a);

#endif
