/* late.h -- what a run's inputs hold of speed's archive, for the late-data ledger */
#ifndef BATCH_LATE_H
#define BATCH_LATE_H

#include "batch/batch.h"
#include "shared/late.h"

/*
 * What the run's inputs hold of the speed archive (shared/late.h): per
 * partition, the last offset of the sealed segments listed, from the first
 * listed one on without a gap. A publish clears the late-data ledger's
 * archived entries at or before it. NULL for a --merge, when the pipeline
 * has no speed.archive, or when no input is a sealed segment of it (then a
 * warning is logged: the ledger keeps its archived entries). Free with
 * late_listing_free().
 */
struct late_listing *late_listing_new(const struct batch *b);

/* NULL is a no-op. */
void late_listing_free(struct late_listing *l);

#endif
