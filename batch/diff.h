/* diff.h -- --dry-run: what a publish would change, per view, printed */
#ifndef BATCH_DIFF_H
#define BATCH_DIFF_H

#include "batch/batch.h"

#define DIFF_SHOW 5     /* buckets printed per view and kind */

/*
 * The diff a publish of the merged tables would record (publog.h), against
 * the version published in b->st (none when NULL), printed on stdout: per
 * view "NAME: added A, changed C, removed R buckets (REASON N, ...)" and the
 * first DIFF_SHOW buckets of each kind with their metrics before and after.
 * Sets b->stats.rows. Returns 0, or -1 with err (a read of the store
 * failed, or a signal).
 */
int diff_dry(struct batch *b, char *err);

#endif
