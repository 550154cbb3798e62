/* commit_int.h -- private to speed/commit*.c: the status a commit writes */
#ifndef SPEED_COMMIT_INT_H
#define SPEED_COMMIT_INT_H

#include <stdint.h>

#include "shared/store.h"
#include "speed/speed.h"

/*
 * Private to speed/commit*.c; the other modules use speed.h only.
 *
 *     commit.c         the commit transaction, discard, load
 *     commit_status.c  the status record, freshness, the summary line
 */

/*
 * Add this commit to the status record (shared/speedmeta.h) in t: counters
 * summed over every commit of every process (read, added to, written back
 * in the commit transaction, so they are exact), this process's partitions,
 * freshness and last commit (now, wall clock ms). Returns 0, or -1 with err.
 */
int commit_status_put(struct speed *sp, struct store_txn *t, int64_t now,
    int64_t watermark, char *err);

/*
 * Count the committed records' freshness (now, wall clock ms, minus each
 * record's timestamp) into the histograms, rotating the status window.
 */
void commit_status_fresh(struct speed *sp, int64_t now);

#endif
