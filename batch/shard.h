/* shard.h -- --shard I/N: a deterministic share of the inputs, by file and by byte range */
#ifndef BATCH_SHARD_H
#define BATCH_SHARD_H

#include "batch/batch.h"

/*
 * The split. The inputs, in their listed order (input.h), are seen as one
 * stream of T bytes (their sizes on disk); shard I of N owns the bytes
 * [T*I/N, T*(I+1)/N) (rounded down). A JSON Lines file that crosses a
 * boundary is split there: a shard reads the lines that start in its bytes
 * (the line holding a boundary belongs to the shard where it starts). A
 * file that cannot be split (gzip, a JSON array) is read whole by the
 * shard owning its first byte, and so is every file inside one shard's
 * bytes. So every line of every input is read by exactly one shard, the
 * same one on every machine that sees the same files, and the union of the
 * shards' states is the state of one run over everything.
 *
 * shard_plan: set b->pieces to what shard b->shard of b->nshards reads, in
 * input order, and b->total_bytes to their size. Only files that cross a
 * boundary are opened (to tell their kind). Returns 0, or -1 with err.
 */
int shard_plan(struct batch *b, char *err);

/* Free b->pieces. */
void shard_free(struct batch *b);

/* Parse "I/N" (0 <= I < N <= SHARD_MAX). Returns 0, or -1. */
#define SHARD_MAX 100000
int shard_parse(const char *text, int *i, int *n);

#endif
