/* hist.c -- events counted per cutoff-unit bucket, which a shard records for the merge's cutoff */
#include <stdlib.h>

#include "batch/hist.h"
#include "shared/mem.h"

void
hist_init(struct hist *h)
{
    h->unit = h->count = NULL;
    h->cap = h->n = h->last = 0;
}

void
hist_reset(struct hist *h)
{
    free(h->unit);
    free(h->count);
    hist_init(h);
}

static size_t
slot(int64_t unit, size_t mask)
{
    uint64_t x = (uint64_t)unit * 0x9e3779b97f4a7c15ULL;

    return (size_t)(x >> 32) & mask;
}

static void
grow(struct hist *h)
{
    size_t cap = h->cap ? h->cap * 2 : 64;
    int64_t *unit = xmalloc(cap * sizeof(*unit));
    int64_t *count = xcalloc(cap, sizeof(*count));

    for (size_t i = 0; i < cap; i++)
        unit[i] = HIST_EMPTY;
    for (size_t i = 0; i < h->cap; i++) {
        size_t j;

        if (h->unit[i] == HIST_EMPTY)
            continue;
        for (j = slot(h->unit[i], cap - 1); unit[j] != HIST_EMPTY;
            j = (j + 1) & (cap - 1))
            continue;
        unit[j] = h->unit[i];
        count[j] = h->count[i];
    }
    free(h->unit);
    free(h->count);
    h->unit = unit;
    h->count = count;
    h->cap = cap;
    h->last = 0;
}

void
hist_add(struct hist *h, int64_t unit, int64_t n)
{
    size_t i;

    if (h->cap > 0 && h->unit[h->last] == unit) {
        h->count[h->last] += n;
        return;
    }
    if (2 * (h->n + 1) > h->cap)
        grow(h);
    for (i = slot(unit, h->cap - 1); h->unit[i] != HIST_EMPTY &&
        h->unit[i] != unit; i = (i + 1) & (h->cap - 1))
        continue;
    if (h->unit[i] == HIST_EMPTY) {
        h->unit[i] = unit;
        h->n++;
    }
    h->count[i] += n;
    h->last = i;
}

void
hist_merge(struct hist *dst, const struct hist *src)
{
    for (size_t i = 0; i < src->cap; i++)
        if (src->unit[i] != HIST_EMPTY)
            hist_add(dst, src->unit[i], src->count[i]);
}

static int
by_unit(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

    return x < y ? -1 : x > y;
}

void
hist_sorted(const struct hist *h, int64_t **units, int64_t **counts)
{
    int64_t *pairs = xmalloc((h->n + 1) * 2 * sizeof(*pairs));
    size_t n = 0;

    for (size_t i = 0; i < h->cap; i++) {
        if (h->unit[i] == HIST_EMPTY)
            continue;
        pairs[2 * n] = h->unit[i];
        pairs[2 * n + 1] = h->count[i];
        n++;
    }
    qsort(pairs, n, 2 * sizeof(*pairs), by_unit);
    *units = xmalloc((n + 1) * sizeof(**units));
    *counts = xmalloc((n + 1) * sizeof(**counts));
    for (size_t i = 0; i < n; i++) {
        (*units)[i] = pairs[2 * i];
        (*counts)[i] = pairs[2 * i + 1];
    }
    free(pairs);
}
