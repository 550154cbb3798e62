/* table.h -- open-addressing hash table of one view's rows, keyed by group key and bucket */
#ifndef BATCH_TABLE_H
#define BATCH_TABLE_H

#include <stddef.h>
#include <stdint.h>

#include "shared/pipeline.h"

#define TABLE_BLOCK_SHIFT 15
#define TABLE_BLOCK (1u << TABLE_BLOCK_SHIFT)

/*
 * Entries live in blocks of TABLE_BLOCK, int64 arrays with a fixed stride
 * (whole cache lines): hash, bucket, key length (and offset of a long key in
 * a byte arena), short keys inline, then the view's row slots. Blocks never
 * move, so growing costs no copy and memory follows the number of groups.
 * The index is a power-of-two array of entry numbers + 1 (0: empty) tagged
 * with the high half of their hash, probed linearly, at most half full:
 * probing past other entries never touches them. One table belongs to one
 * thread.
 * With many groups a lookup is two cache misses (index, entry): callers
 * that can work ahead hide them with table_prefetch() a while before the
 * lookup and table_prefetch_entry() shortly before.
 */
struct table {
    const struct view *v;
    size_t          stride;     /* int64 per entry */
    int64_t       **blocks;     /* entries, TABLE_BLOCK per block */
    size_t          nblocks, blockcap;
    size_t          nents;
    uint64_t       *idx;        /* tag << 32 | entry + 1, 0: empty */
    size_t          mask;       /* index size - 1 */
    unsigned char  *keys;
    size_t          klen, kcap;
};

/* Embedded lifecycle: an empty table for view v; table_reset frees it. */
void table_init(struct table *t, const struct view *v);
void table_reset(struct table *t);

/* The hash of a (group key, bucket) pair. */
uint64_t table_hash(const void *key, size_t klen, int64_t bucket);

/*
 * The row of (key, bucket) whose hash is h (table_hash()), inserted as the
 * identity (agg_row_init()) when new. The pointer is valid until the next
 * insertion.
 */
int64_t *table_row(struct table *t, const void *key, size_t klen,
    int64_t bucket, uint64_t h);

/* Hints only, no effect on contents: bring the index slot of hash h into
 * the cache; bring the entry it points to (if any) into the cache. */
void table_prefetch(const struct table *t, uint64_t h);
void table_prefetch_entry(const struct table *t, uint64_t h);

/* Merge every row of src into dst (same view). Returns 0, or -1 on sum
 * overflow. */
int table_merge(struct table *dst, const struct table *src);

/*
 * Entry numbers of the rows with lo <= bucket < hi, sorted by group key
 * bytes then bucket: the order store_writer_put() wants. Returns a new
 * array (free with free()) and sets *n.
 */
uint32_t *table_sorted(const struct table *t, int64_t lo, int64_t hi,
    size_t *n);

/* Entry e's key, bucket and row (borrowed from t). */
void table_entry(const struct table *t, uint32_t e, const void **key,
    size_t *klen, int64_t *bucket, const int64_t **row);

#endif
