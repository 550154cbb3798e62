/* late.h -- when a run's inputs surely held the late events speed archived */
#ifndef BATCH_LATE_H
#define BATCH_LATE_H

#include <stdint.h>

#include "batch/batch.h"

/*
 * The listing time a publish of this run gives the late-data ledger
 * (shared/late.h, store_late_clear()): a time before which every line
 * speed archived is in the inputs. LATE_NONE, leaving the ledger's archived
 * entries, unless the pipeline sets speed.archive and some input lies
 * under it (a warning is logged when none does). Else b->listed_at,
 * lowered to when any archive segment the run did not list (not sealed
 * yet) was opened, as speed recorded it in the store; for a segment opened
 * after the listing began, to the last write of the newest listed segment
 * of its partition (the one open at the listing may have been sealed
 * since). Call it right after hold_limit(), so speed's records are read
 * close to the listing. A --merge run (no listing of its own), a --pull and
 * a run without a store give LATE_NONE. Returns 0 and *listed, or -1 with
 * err.
 */
int late_listed(struct batch *b, int64_t *listed, char *err);

#endif
