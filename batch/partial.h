/* partial.h -- a shard's states in one file: what --shard writes and --merge reads */
#ifndef BATCH_PARTIAL_H
#define BATCH_PARTIAL_H

#include <stdint.h>

#include "batch/batch.h"
#include "shared/repo.h"

/*
 * A partial is a shared/repo.h file of kind REPO_KIND_PARTIAL. Its rows are
 * the shard's base rows of every view, every bucket (the cutoff is the
 * merge's to set), and its meta block holds, in this order (u, s and str as
 * in repo.h):
 *
 *     str pipeline name
 *     u shard, u nshards            which I/N it is
 *     s from, s until               --from and --until, -1 when not given
 *     u ninputs, then per input     the whole input set, in order:
 *         str path, u size          as listed and as stat(2) saw it
 *     u npieces, then per piece     what this shard read (shard.h):
 *         u input, u start, u end, u lines   end 2^64-1: to the end
 *     s accepted, s events, s after_cutoff, s held, s before_from
 *     s last_before_from            latest cutoff unit before --from
 *     u nreasons, then per reason   rejects by reason:
 *         str name, s count         (event_reject_name())
 *     u nunits, then per unit       events per cutoff-unit bucket, in
 *         s unit, s count           ascending order (hist.h)
 *     str rejects                   "INPUT LINE TEXT" lines (rejects.h)
 */

struct partial {
    char               *path;
    struct repo_reader *r;          /* at the rows, after the views table */
    char                pipeline[128];
    int                 shard, nshards;
    int64_t             from, until;
    struct input       *inputs;     /* paths owned */
    int                 ninputs;
    struct piece       *pieces;
    int                 npieces;
    struct batch_stats  st;
    int64_t            *units, *counts;
    size_t              nunits;
    struct buf          meta;       /* the block; rejects point into it */
    const char         *rejects;
    size_t              rejlen;
};

/*
 * --shard, after work_finish(): write the merged tables, the counts and the
 * rejects (rejects_take()) to b->partial (temporary name, fsync, rename).
 * Sets b->stats.rows. Returns 0, or -1 with err.
 */
int partial_write(struct batch *b, char *err);

/*
 * Open the partial at path for pipeline p: check it whole (repo_open()),
 * decode its meta block and check its views table against p (another
 * pipeline's partial is refused). Returns 0 with *pt filled (free with
 * partial_reset()), or -1 with err naming the file and what is wrong.
 */
int partial_open(struct partial *pt, const char *path,
    const struct pipeline *p, char *err);

/* Free what pt holds. A zeroed pt is fine. */
void partial_reset(struct partial *pt);

#endif
