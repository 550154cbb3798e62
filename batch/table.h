/* table.h -- hash table of one view's rows by group key and bucket */
#ifndef BATCH_TABLE_H
#define BATCH_TABLE_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

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


/*
 * The row of (key, bucket) whose hash is h (table_hash()), inserted as the
 * identity (agg_row_init()) when new. The pointer is valid until the next
 * insertion.
 */
int64_t *table_row(struct table *t, const void *key, size_t klen,
    int64_t bucket, uint64_t h);

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

/* ---- inline: called for every event and view ---------------------------- */

/*
 * Entry layout, in int64 slots: hash, bucket, key offset << 16 | length,
 * two slots holding keys of up to TABLE_INLINE bytes (zero-padded), then
 * the row. Short keys (most: "c00042" encodes to 8 bytes) are compared in
 * place, so a lookup touches the index slot and one entry, and nothing else.
 */
enum { TABLE_E_HASH, TABLE_E_BUCKET, TABLE_E_KEY, TABLE_E_INL,
    TABLE_E_ROW = TABLE_E_INL + 2 };
#define TABLE_INLINE 16

/* An index slot: the hash's high half as a tag, so that probing past other
 * entries never touches them, and the entry number + 1. */
#define TABLE_SLOT(h, e) ((h) >> 32 << 32 | ((uint64_t)(e) + 1))
#define TABLE_SLOT_TAG(x, h) ((((x) ^ (h)) >> 32) == 0)
#define TABLE_SLOT_ENTRY(x) ((size_t)((x) & 0xffffffffu) - 1)

/* Entry e. */
static inline int64_t *
table_ent(const struct table *t, size_t e)
{
    return t->blocks[e >> TABLE_BLOCK_SHIFT] +
        (e & (TABLE_BLOCK - 1)) * t->stride;
}

__extension__ typedef unsigned __int128 table_u128;

static inline uint64_t
table_mix(uint64_t a, uint64_t b)
{
    table_u128 r = (table_u128)a * b;

    return (uint64_t)r ^ (uint64_t)(r >> 64);
}

/* The hash of a (group key, bucket) pair. */
static inline uint64_t
table_hash(const void *key, size_t klen, int64_t bucket)
{
    const unsigned char *p = key;
    uint64_t h = table_mix((uint64_t)bucket ^ 0x9e3779b97f4a7c15ULL,
        0xbf58476d1ce4e5b9ULL ^ klen);
    uint64_t w;

    while (klen >= 8) {
        memcpy(&w, p, 8);
        h = table_mix(h ^ w, 0x94d049bb133111ebULL);
        p += 8;
        klen -= 8;
    }
    if (klen > 0) {
        w = 0;
        memcpy(&w, p, klen);
        h = table_mix(h ^ w, 0x94d049bb133111ebULL);
    }
    return h;
}

/*
 * The three hints below are always inlined: GCC finds a function that only
 * reads and prefetches "pure", and deletes a call to a pure function whose
 * result is unused, prefetches and all, when it does not inline it first
 * (publish_walk() ran without its prefetch that way).
 */
#define TABLE_HINT static inline __attribute__((always_inline)) void

/* Hint, no effect on contents: bring the index slot of hash h into the
 * cache. */
TABLE_HINT
table_prefetch(const struct table *t, uint64_t h)
{
    __builtin_prefetch(&t->idx[h & t->mask]);
}

/* Hint: bring the entry of hash h (if there is one) into the cache; its
 * index slot should be there already (table_prefetch()). */
TABLE_HINT
table_prefetch_entry(const struct table *t, uint64_t h)
{
    size_t i = (size_t)h & t->mask;
    uint64_t x;

    while ((x = t->idx[i]) != 0) {
        if (TABLE_SLOT_TAG(x, h)) {
            const char *e = (const char *)table_ent(t, TABLE_SLOT_ENTRY(x));

            for (size_t off = 0; off < t->stride * 8; off += 64)
                __builtin_prefetch(e + off, 1);
            return;
        }
        i = (i + 1) & t->mask;
    }
}

/* Hint: bring entry e into the cache (before table_entry()). */
TABLE_HINT
table_prefetch_row(const struct table *t, uint32_t e)
{
    const char *p = (const char *)table_ent(t, e);

    for (size_t off = 0; off < t->stride * 8; off += 64)
        __builtin_prefetch(p + off);
}

#endif
