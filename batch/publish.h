/* publish.h -- one run at a time; write and publish the new version */
#ifndef BATCH_PUBLISH_H
#define BATCH_PUBLISH_H

#include "batch/batch.h"

/*
 * Take the run lock: flock(LOCK_EX | LOCK_NB) on STORE/batch.run.lock, which
 * then holds our pid. The lock dies with the process, so a killed run never
 * leaves it behind. Returns 0, or -1 with err ("another lambda-batch is
 * running on var/shop (pid 4242)").
 */
int publish_lock(struct batch *b, char *err);

/* Release the lock (exit does it too). */
void publish_unlock(struct batch *b);

/*
 * Write the merged tables (work.h) as a new batch version: views in strcmp()
 * order of their names, rows of buckets before b->cutoff in (group key,
 * bucket) order, rows before b->from kept from the current version, then
 * publish it in one transaction. Sets b->version and b->stats.rows.
 * Stops with nothing published on a signal. Returns 0, or -1 with err.
 */
int publish_run(struct batch *b, char *err);

/*
 * Count the rows publish_run() would write (dry run). Sets b->stats.rows.
 */
void publish_count(struct batch *b);

#endif
