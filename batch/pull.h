/* pull.h -- --pull DIR: import a repository's newest version as one publish */
#ifndef BATCH_PULL_H
#define BATCH_PULL_H

#include "batch/batch.h"

/*
 * Import the version LATEST names in the repository b->pull into b->st
 * (batch lock held) as a publish: one transaction (store_writer_*), under
 * the version's own number (store_batch_reserve()), with its cutoff and
 * event count; lambda-speed on this store prunes before the new cutoff on
 * its next commit, as after a computed publish. The file is checked whole
 * first (repo_open()) and must hold this pipeline's views: a truncated or
 * corrupt file, a checksum mismatch or another pipeline's version is
 * refused and the store keeps its version. Nothing happens when the store
 * holds that version already; a store holding a newer or another version
 * of the same number is refused. Logs one line either way. Returns 0, or
 * -1 with err.
 */
int pull_run(struct batch *b, char *err);

#endif
