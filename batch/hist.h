/* hist.h -- events counted per cutoff-unit bucket, which a shard records for the merge's cutoff */
#ifndef BATCH_HIST_H
#define BATCH_HIST_H

#include <stddef.h>
#include <stdint.h>

/*
 * A --shard cannot know the cutoff: the hold (hold.c) is computed from the
 * store at --merge time. So each shard counts its events per bucket of the
 * cutoff unit (pipeline_cutoff_unit()), and the merge derives from these
 * counts exactly what one run would have counted before its cutoff.
 * Events arrive mostly in time order, so the last bucket is cached.
 */
struct hist {
    int64_t *unit;          /* open addressing; HIST_EMPTY: free */
    int64_t *count;
    size_t   cap, n;        /* cap a power of 2, at most half full */
    size_t   last;          /* slot of the last bucket added */
};

#define HIST_EMPTY INT64_MIN

/* Embedded lifecycle. */
void hist_init(struct hist *h);
void hist_reset(struct hist *h);

/* Add n events to the bucket starting at unit (not HIST_EMPTY). */
void hist_add(struct hist *h, int64_t unit, int64_t n);

/* Add every bucket of src to dst. */
void hist_merge(struct hist *dst, const struct hist *src);

/* The buckets in ascending order: *units and *counts are new arrays of
 * h->n entries (free with free()). */
void hist_sorted(const struct hist *h, int64_t **units, int64_t **counts);

#endif
