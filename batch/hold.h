/* hold.h -- the default cutoff never passes events that are not in the inputs yet */
#ifndef BATCH_HOLD_H
#define BATCH_HOLD_H

#include "batch/batch.h"

/*
 * Set b->limit, before the inputs are read: events at or after it are left
 * to speed (reported as after_cutoff). With --until it is --until. Without,
 * it holds the default cutoff:
 * - before the cutoff-unit bucket holding the wall clock (an event stamped
 *   in the future must not end the speed view);
 * - with speed.archive set, before speed's watermark (speed may still accept
 *   events from it on) and before the oldest event of any archive segment
 *   that batch did not list (not sealed yet): those events reach the master
 *   dataset later, so their buckets stay with speed.
 * The hold never goes below the published version's cutoff (those buckets
 * are batch's already; speed has pruned them). INT64_MAX when nothing holds.
 * Call after the inputs were listed and the store opened (b->st; NULL for a
 * dry run, then only the clock holds). Returns 0, or -1 with err.
 */
int hold_limit(struct batch *b, char *err);

#endif
