/* merge.h -- --merge: fold every shard's partial as one run over all the inputs would count */
#ifndef BATCH_MERGE_H
#define BATCH_MERGE_H

#include "batch/batch.h"

/*
 * Open the partials b->partials (partial.h) and refuse a wrong set, naming
 * the file: another pipeline's, of another split (N) or input set or
 * --from/--until, a shard given twice, a shard missing. Then do what one
 * run over the recorded inputs would have done: take --from and --until
 * from the partials and the hold from the store now (hold.c), so the cutoff
 * and the counts are one run's (from the shards' events per cutoff unit);
 * write the rejects in input order with absolute line numbers; fold every
 * row into the tables (work_empty()). b->inputs becomes the recorded input
 * set. publish_run() then publishes. Returns 0, or -1 with err.
 */
int merge_run(struct batch *b, char *err);

#endif
