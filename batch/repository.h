/* repository.h -- every publish also written to batch.repository as one file */
#ifndef BATCH_REPOSITORY_H
#define BATCH_REPOSITORY_H

#include "batch/batch.h"

/*
 * After a publish, with batch.repository set: write the published version
 * (b->version, read back from the store: the rows a --from run kept
 * included) to the repository as one file (shared/repo.h), move LATEST to
 * it and drop the versions past batch.repository_keep. A no-op without
 * batch.repository. Returns 0, or -1 with err (the version stays published
 * in the store; the next publish writes the repository again).
 */
int repository_publish(struct batch *b, char *err);

#endif
