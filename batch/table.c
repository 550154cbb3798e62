/* table.c -- hash table of one view's rows by group key and bucket */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "batch/table.h"
#include "shared/agg.h"
#include "shared/mem.h"

void
table_init(struct table *t, const struct view *v)
{
    memset(t, 0, sizeof(*t));
    t->v = v;
    t->stride = TABLE_E_ROW + (size_t)v->nslots;
    if (t->stride > 8)      /* whole cache lines: an entry is 2 misses, not 3 */
        t->stride = (t->stride + 7) / 8 * 8;
    t->mask = 1023;
    t->idx = xcalloc(t->mask + 1, sizeof(*t->idx));
    t->kcap = 256;      /* never NULL, even when every key is inline */
    t->keys = xmalloc(t->kcap);
}

void
table_reset(struct table *t)
{
    for (size_t b = 0; b < t->nblocks; b++)
        free(t->blocks[b]);
    free(t->blocks);
    free(t->idx);
    free(t->keys);
    memset(t, 0, sizeof(*t));
}

#define HUGE_PAGE (2u << 20)

/*
 * Memory for the big arrays, on transparent huge pages when large: lookups
 * land anywhere in them, and with 4 KiB pages each would cost a TLB miss (a
 * page walk) on top of the cache miss. Zeroed when zero != 0.
 */
static void *
big_alloc(size_t n, int zero)
{
    size_t align = n < HUGE_PAGE ? 64 : HUGE_PAGE;
    void *p;

    n = (n + align - 1) / align * align;
    if (posix_memalign(&p, align, n) != 0) {
        fprintf(stderr, "out of memory (%zu bytes)\n", n);
        abort();
    }
    if (align == HUGE_PAGE)
        (void)madvise(p, n, MADV_HUGEPAGE);
    if (zero)
        memset(p, 0, n);
    return p;
}

static void
grow_index(struct table *t)
{
    size_t size = (t->mask + 1) * 2;
    uint64_t *idx = big_alloc(size * sizeof(*idx), 1);

    for (size_t e = 0; e < t->nents; e++) {
        uint64_t h = (uint64_t)table_ent(t, e)[TABLE_E_HASH];
        size_t i = (size_t)h & (size - 1);

        while (idx[i] != 0)
            i = (i + 1) & (size - 1);
        idx[i] = TABLE_SLOT(h, e);
    }
    free(t->idx);
    t->idx = idx;
    t->mask = size - 1;
}

static inline const unsigned char *
entry_key(const struct table *t, const int64_t *e)
{
    if ((e[TABLE_E_KEY] & 0xffff) <= TABLE_INLINE)
        return (const unsigned char *)(e + TABLE_E_INL);
    return t->keys + ((uint64_t)e[TABLE_E_KEY] >> 16);
}

int64_t *
table_row(struct table *t, const void *key, size_t klen, int64_t bucket,
    uint64_t h)
{
    size_t i = (size_t)h & t->mask;
    int64_t inl[2] = {0, 0}, want = (int64_t)klen, *e;
    uint64_t x;

    if (klen <= TABLE_INLINE) {
        if (klen > 0)
            memcpy(inl, key, klen);
        while ((x = t->idx[i]) != 0) {
            if (TABLE_SLOT_TAG(x, h)) {
                e = table_ent(t, TABLE_SLOT_ENTRY(x));
                if ((uint64_t)e[TABLE_E_HASH] == h &&
                    e[TABLE_E_BUCKET] == bucket &&
                    e[TABLE_E_KEY] == want && e[TABLE_E_INL] == inl[0] &&
                    e[TABLE_E_INL + 1] == inl[1])
                    return e + TABLE_E_ROW;
            }
            i = (i + 1) & t->mask;
        }
    } else {
        while ((x = t->idx[i]) != 0) {
            if (TABLE_SLOT_TAG(x, h)) {
                e = table_ent(t, TABLE_SLOT_ENTRY(x));
                if ((uint64_t)e[TABLE_E_HASH] == h &&
                    e[TABLE_E_BUCKET] == bucket &&
                    (size_t)(e[TABLE_E_KEY] & 0xffff) == klen &&
                    memcmp(entry_key(t, e), key, klen) == 0)
                    return e + TABLE_E_ROW;
            }
            i = (i + 1) & t->mask;
        }
    }
    if (t->nents == UINT32_MAX - 1)
        abort();    /* 4 billion groups in one view: out of design range */
    if ((t->nents & (TABLE_BLOCK - 1)) == 0) {
        if (t->nblocks == t->blockcap) {
            t->blockcap = t->blockcap ? t->blockcap * 2 : 16;
            t->blocks = xrealloc(t->blocks, t->blockcap * sizeof(*t->blocks));
        }
        /* not zeroed: pages count only once entries are written */
        t->blocks[t->nblocks] = big_alloc(TABLE_BLOCK * t->stride *
            sizeof(int64_t), 0);
        t->nblocks++;
    }
    e = table_ent(t, t->nents);
    e[TABLE_E_HASH] = (int64_t)h;
    e[TABLE_E_BUCKET] = bucket;
    e[TABLE_E_INL] = inl[0];
    e[TABLE_E_INL + 1] = inl[1];
    if (klen <= TABLE_INLINE) {
        e[TABLE_E_KEY] = want;
    } else {
        if (t->klen + klen > t->kcap) {
            while (t->klen + klen > t->kcap)
                t->kcap *= 2;
            t->keys = xrealloc(t->keys, t->kcap);
        }
        memcpy(t->keys + t->klen, key, klen);
        e[TABLE_E_KEY] = (int64_t)((uint64_t)t->klen << 16 | klen);
        t->klen += klen;
    }
    agg_row_init(t->v, e + TABLE_E_ROW);
    t->idx[i] = TABLE_SLOT(h, t->nents);
    t->nents++;
    if (t->nents * 2 > t->mask + 1)
        grow_index(t);
    return e + TABLE_E_ROW;
}

int
table_merge(struct table *dst, const struct table *src)
{
    for (size_t n = 0; n < src->nents; n++) {
        const int64_t *e = table_ent(src, n);

        /* the same software pipeline as the workers' (work.h) */
        if (n + 16 < src->nents)
            table_prefetch(dst,
                (uint64_t)table_ent(src, n + 16)[TABLE_E_HASH]);
        if (n + 8 < src->nents)
            table_prefetch_entry(dst,
                (uint64_t)table_ent(src, n + 8)[TABLE_E_HASH]);
        int64_t *row = table_row(dst, entry_key(src, e),
            (size_t)(e[TABLE_E_KEY] & 0xffff), e[TABLE_E_BUCKET],
            (uint64_t)e[TABLE_E_HASH]);

        if (agg_row_merge(dst->v, row, e + TABLE_E_ROW) != 0)
            return -1;
    }
    return 0;
}

/* A row to sort: its first 16 key bytes big-endian, so that integer order
 * is memcmp() order (keys are self-delimiting: none is a prefix of another,
 * so zero padding never decides). */
struct sortrec {
    uint64_t k0, k1;
    int64_t  bucket;
    uint32_t e;
    uint32_t klen;
};

static uint64_t
load_be(const unsigned char *p, size_t n)
{
    uint64_t v = 0;

    for (size_t i = 0; i < 8; i++)
        v = v << 8 | (i < n ? p[i] : 0);
    return v;
}

static int
cmp_sortrec(const void *a, const void *b, void *arg)
{
    const struct sortrec *x = a, *y = b;
    const struct table *t = arg;

    if (x->k0 != y->k0)
        return x->k0 < y->k0 ? -1 : 1;
    if (x->k1 != y->k1)
        return x->k1 < y->k1 ? -1 : 1;
    if (x->klen > TABLE_INLINE && y->klen > TABLE_INLINE) {
        const int64_t *ex = table_ent(t, x->e);
        const int64_t *ey = table_ent(t, y->e);
        size_t n = (x->klen < y->klen ? x->klen : y->klen) - TABLE_INLINE;
        int c = memcmp(entry_key(t, ex) + TABLE_INLINE,
            entry_key(t, ey) + TABLE_INLINE, n);

        if (c != 0)
            return c;
    }
    if (x->klen != y->klen)
        return x->klen < y->klen ? -1 : 1;
    if (x->bucket != y->bucket)
        return x->bucket < y->bucket ? -1 : 1;
    return 0;
}

/* Byte d (0: least significant) of a record's sort key (k0, k1, bucket). */
static inline unsigned
digit(const struct sortrec *r, int d)
{
    uint64_t v = d < 8 ? (uint64_t)r->bucket ^ (1ULL << 63) :
        d < 16 ? r->k1 : r->k0;

    return (unsigned)(v >> (d % 8 * 8)) & 0xff;
}

/*
 * LSD radix sort of n records by (k0, k1, bucket), byte by byte, skipping
 * the bytes every record shares (most of them: keys share prefixes, buckets
 * share high bytes). Right when no key is longer than TABLE_INLINE, as then
 * equal (k0, k1) means equal keys. Returns the sorted array: rec or tmp.
 */
static struct sortrec *
radix_sort(struct sortrec *rec, struct sortrec *tmp, size_t n)
{
    uint32_t (*count)[256] = xcalloc(24, sizeof(*count));

    for (size_t i = 0; i < n; i++)
        for (int d = 0; d < 24; d++)
            count[d][digit(&rec[i], d)]++;
    for (int d = 0; d < 24; d++) {
        uint32_t sum = 0, c;
        int distinct = 0;

        for (int b = 0; b < 256; b++)
            distinct += count[d][b] != 0;
        if (distinct < 2)
            continue;
        for (int b = 0; b < 256; b++) {
            c = count[d][b];
            count[d][b] = sum;
            sum += c;
        }
        for (size_t i = 0; i < n; i++)
            tmp[count[d][digit(&rec[i], d)]++] = rec[i];
        struct sortrec *swap = rec;
        rec = tmp;
        tmp = swap;
    }
    free(count);
    return rec;
}

uint32_t *
table_sorted(const struct table *t, int64_t lo, int64_t hi, size_t *n)
{
    /* fresh memory, 2 x 32 bytes a row: on huge pages, as a page fault
     * per 4 KiB was a third of the sort's time */
    struct sortrec *rec = big_alloc((t->nents + 1) * sizeof(*rec), 0);
    struct sortrec *tmp = NULL, *sorted = rec;
    uint32_t *out;
    size_t k = 0, longest = 0;

    for (size_t e = 0; e < t->nents; e++) {
        const int64_t *x = table_ent(t, e);
        const unsigned char *key = entry_key(t, x);
        size_t klen = (size_t)(x[TABLE_E_KEY] & 0xffff);

        if (x[TABLE_E_BUCKET] < lo || x[TABLE_E_BUCKET] >= hi)
            continue;
        rec[k].k0 = load_be(key, klen);
        rec[k].k1 = klen > 8 ? load_be(key + 8, klen - 8) : 0;
        rec[k].bucket = x[TABLE_E_BUCKET];
        rec[k].e = (uint32_t)e;
        rec[k].klen = (uint32_t)klen;
        if (klen > longest)
            longest = klen;
        k++;
    }
    if (longest <= TABLE_INLINE) {
        tmp = big_alloc((k + 1) * sizeof(*tmp), 0);
        sorted = radix_sort(rec, tmp, k);
    } else {
        qsort_r(rec, k, sizeof(*rec), cmp_sortrec, (void *)(uintptr_t)t);
    }
    out = xmalloc((k + 1) * sizeof(*out));
    for (size_t i = 0; i < k; i++)
        out[i] = sorted[i].e;
    free(rec);
    free(tmp);
    *n = k;
    return out;
}

void
table_entry(const struct table *t, uint32_t e, const void **key,
    size_t *klen, int64_t *bucket, const int64_t **row)
{
    const int64_t *x = table_ent(t, e);

    *key = entry_key(t, x);
    *klen = (size_t)(x[TABLE_E_KEY] & 0xffff);
    *bucket = x[TABLE_E_BUCKET];
    *row = x + TABLE_E_ROW;
}
