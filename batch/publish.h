/* publish.h -- write and publish the new version */
#ifndef BATCH_PUBLISH_H
#define BATCH_PUBLISH_H

#include "batch/batch.h"

/*
 * Before publish_run() or a dry run's diff_dry() (b->st NULL: no store
 * yet): refuse what would leave buckets that neither layer answers:
 * --from without a published version to keep rows from, and --from after
 * the published cutoff. Warn about a cutoff moved back (speed pruned the
 * buckets before the published cutoff); an empty or shrunken version is
 * guard.h's. Returns 0, or -1 with err.
 */
int publish_check(struct batch *b, char *err);

/*
 * After publish_check(): write the merged tables (work.h) as a new batch
 * version: views in strcmp() order of their names, rows of buckets before
 * b->cutoff in (group key, bucket) order, rows before b->from kept from the
 * current version, then publish it in one transaction. Sets b->version and
 * b->stats.rows. Stops with nothing published on a signal. Returns 0, or -1
 * with err.
 */
int publish_run(struct batch *b, char *err);

/*
 * store_writer_on_publish()'s function for every publish of lambda-batch
 * (arg: the struct batch): in the publish transaction, views whose
 * definition changed switch, with their speed rows (viewswitch.h).
 */
int publish_switch_views(void *arg, struct store_txn *t,
    const struct store_batch_info *info, int64_t prev, char *err);

/*
 * Call fn with every row publish_run() writes (not those kept before
 * --from), in its order: views by name, then (group key, bucket); fn
 * returns 0 to go on, or -1 with err to stop. Sets b->stats.rows. Stops on
 * a signal. Returns 0, or -1 with err.
 */
int publish_walk(struct batch *b,
    int (*fn)(void *arg, const struct view *v, const void *key, size_t klen,
    int64_t bucket, const int64_t *row, char *err), void *arg, char *err);

/* The view indexes of p in strcmp() order of their names, the order of a
 * version's views (store.h, repo.h); a new array, free with free(). */
int *publish_order(const struct pipeline *p);

#endif
