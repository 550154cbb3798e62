/* hold.h -- the default cutoff never passes events that are not in the inputs yet */
#ifndef BATCH_HOLD_H
#define BATCH_HOLD_H

#include "batch/batch.h"

/*
 * Without --until, lower b->cutoff (computed from the latest event read) so
 * that no bucket before it can still receive events batch did not read:
 * - never past the start of the cutoff-unit bucket holding the wall clock
 *   (an event stamped in the future must not end the speed view);
 * - with speed.archive set: never past the oldest event of an archive
 *   segment that lambda-speed has not sealed yet (or sealed after the
 *   inputs were listed), nor past speed's watermark (events speed accepts
 *   from now on are not older than it). Those events reach the master
 *   dataset later; cutting before them keeps them in the speed view.
 * Reads the store's meta after the inputs were listed. Logs when it holds
 * the cutoff. Returns 0, or -1 with err.
 */
int hold_cutoff(struct batch *b, char *err);

#endif
