/* late.h -- when a run's inputs surely held the late events speed archived */
#ifndef BATCH_LATE_H
#define BATCH_LATE_H

#include <stdint.h>

#include "batch/batch.h"

/*
 * The listing time a publish of this run gives the late-data ledger
 * (shared/late.h, store_late_clear()): LATE_NONE, leaving its archived
 * entries, unless the pipeline sets speed.archive and some input lies
 * under it (then a warning is logged, once a run, when none does). Else
 * b->listed_at, lowered to the time any archive segment was opened that
 * the run did not list (not sealed yet: its lines are not in the inputs).
 * A --merge run (no listing of its own) and a dry run without a store give
 * LATE_NONE. Returns 0 and *listed, or -1 with err.
 */
int late_listed(struct batch *b, int64_t *listed, char *err);

#endif
