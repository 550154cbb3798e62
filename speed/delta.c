/* delta.c -- the micro-batch: an open-addressing hash table over an arena */
#include <stdlib.h>
#include <string.h>

#include "shared/agg.h"
#include "shared/fanout.h"
#include "shared/mem.h"
#include "shared/ts.h"
#include "speed/delta.h"

#define CHUNK (256 * 1024)

struct chunk {
    struct chunk   *next;
    size_t          used, cap;
    unsigned char   data[];
};

struct slot {
    uint64_t        hash;
    struct delta_entry *e;      /* NULL: empty */
};

struct delta {
    const struct pipeline *p;
    struct slot    *tab;
    size_t          cap;        /* power of two */
    size_t          n;
    struct chunk   *chunks;     /* first is the current one */
    struct delta_entry *sorted;
    size_t          sorted_cap;
    struct fanout   fo;         /* the rows of the event being added */
};

static void *
arena_alloc(struct delta *d, size_t n)
{
    struct chunk *c = d->chunks;
    void *p;

    n = (n + 15) & ~(size_t)15;
    if (c == NULL || c->cap - c->used < n) {
        size_t cap = n > CHUNK ? n : CHUNK;

        c = xmalloc(sizeof(*c) + cap);
        c->used = 0;
        c->cap = cap;
        c->next = d->chunks;
        d->chunks = c;
    }
    p = c->data + c->used;
    c->used += n;
    return p;
}

struct delta *
delta_new(const struct pipeline *p)
{
    struct delta *d = xcalloc(1, sizeof(*d));

    d->p = p;
    d->cap = 1024;
    d->tab = xcalloc(d->cap, sizeof(*d->tab));
    fanout_init(&d->fo);
    return d;
}

void
delta_free(struct delta *d)
{
    struct chunk *c, *next;

    if (d == NULL)
        return;
    for (c = d->chunks; c != NULL; c = next) {
        next = c->next;
        free(c);
    }
    free(d->tab);
    free(d->sorted);
    fanout_reset(&d->fo);
    free(d);
}

/* Eight bytes at a time: group keys are short, and this runs three times
 * per event for three views. */
static uint64_t
hash_of(int view, const void *gkey, size_t gklen, int64_t bucket)
{
    const unsigned char *s = gkey;
    uint64_t h = 0x9E3779B97F4A7C15ULL ^ ((uint64_t)view << 32) ^ gklen;
    uint64_t w;

    while (gklen >= 8) {
        memcpy(&w, s, 8);
        h = (h ^ w) * 0xff51afd7ed558ccdULL;
        h ^= h >> 32;
        s += 8;
        gklen -= 8;
    }
    w = 0;
    if (gklen > 0)
        memcpy(&w, s, gklen);
    h = (h ^ w ^ (uint64_t)bucket) * 0xc4ceb9fe1a85ec53ULL;
    return h ^ (h >> 29);
}

static void
grow(struct delta *d)
{
    size_t cap = d->cap * 2, i, j;
    struct slot *tab = xcalloc(cap, sizeof(*tab));

    for (i = 0; i < d->cap; i++) {
        if (d->tab[i].e == NULL)
            continue;
        for (j = d->tab[i].hash & (cap - 1); tab[j].e != NULL;
            j = (j + 1) & (cap - 1))
            ;
        tab[j] = d->tab[i];
    }
    free(d->tab);
    d->tab = tab;
    d->cap = cap;
}

int64_t *
delta_row(struct delta *d, int view, const void *gkey, size_t gklen,
    int64_t bucket)
{
    const struct view *v = &d->p->views[view];
    uint64_t h = hash_of(view, gkey, gklen, bucket);
    struct delta_entry *e;
    size_t i;

    for (i = h & (d->cap - 1); d->tab[i].e != NULL;
        i = (i + 1) & (d->cap - 1)) {
        e = d->tab[i].e;
        if (d->tab[i].hash == h && e->view == view && e->bucket == bucket &&
            e->gklen == gklen && memcmp(e->gkey, gkey, gklen) == 0)
            return e->row;
    }
    e = arena_alloc(d, sizeof(*e) + agg_row_size(v) + gklen);
    e->view = view;
    e->bucket = bucket;
    e->gklen = gklen;
    e->row = (int64_t *)(e + 1);
    e->events = 0;
    agg_row_init(v, e->row);
    e->gkey = (unsigned char *)e->row + agg_row_size(v);
    if (gklen > 0)
        memcpy((void *)e->gkey, gkey, gklen);
    d->tab[i].hash = h;
    d->tab[i].e = e;
    if (++d->n * 2 > d->cap)
        grow(d);
    return e->row;
}

int
delta_add_event(struct delta *d, struct event *ev, int *view)
{
    const struct pipeline *p = d->p;

    /* every key first: a reject leaves the micro-batch untouched */
    if (fanout_event(&d->fo, p, ev, view) < 0)
        return DELTA_KEY_TOO_LONG;
    for (int i = 0; i < d->fo.nrows; i++) {
        const struct fanout_row *r = &d->fo.rows[i];
        const struct view *v = &p->views[r->view];
        int64_t *row = delta_row(d, r->view, d->fo.keys.data + r->off,
            r->len, ts_bucket(ev->time, v->granularity));

        /* the entry's header sits right before its row (delta_row()) */
        ((struct delta_entry *)row - 1)->events++;
        if (agg_row_add(v, row, ev) != 0) {
            *view = r->view;
            return DELTA_OVERFLOW;
        }
    }
    return 0;
}

size_t
delta_count(const struct delta *d)
{
    return d->n;
}

static int
cmp_entry(const void *a, const void *b)
{
    const struct delta_entry *x = a, *y = b;
    size_t n = x->gklen < y->gklen ? x->gklen : y->gklen;
    int c;

    if (x->view != y->view)
        return x->view < y->view ? -1 : 1;
    /* a key is never a prefix of another (key.h), so memcmp then length */
    if (n > 0 && (c = memcmp(x->gkey, y->gkey, n)) != 0)
        return c;
    if (x->gklen != y->gklen)
        return x->gklen < y->gklen ? -1 : 1;
    if (x->bucket != y->bucket)
        return x->bucket < y->bucket ? -1 : 1;
    return 0;
}

const struct delta_entry *
delta_sorted(struct delta *d)
{
    size_t i, n = 0;

    if (d->sorted_cap < d->n) {
        d->sorted_cap = d->n;
        free(d->sorted);
        d->sorted = xmalloc(d->sorted_cap * sizeof(*d->sorted));
    }
    for (i = 0; i < d->cap; i++)
        if (d->tab[i].e != NULL)
            d->sorted[n++] = *d->tab[i].e;
    if (n > 1)
        qsort(d->sorted, n, sizeof(*d->sorted), cmp_entry);
    return d->sorted;
}

void
delta_clear(struct delta *d)
{
    struct chunk *c, *next;

    if (d->n > 0) {
        /* a table grown by a burst shrinks back, so clearing stays cheap */
        if (d->cap > 65536) {
            free(d->tab);
            d->cap = 65536;
            d->tab = xcalloc(d->cap, sizeof(*d->tab));
        } else {
            memset(d->tab, 0, d->cap * sizeof(*d->tab));
        }
    }
    d->n = 0;
    if (d->chunks != NULL) {
        for (c = d->chunks->next; c != NULL; c = next) {
            next = c->next;
            free(c);
        }
        d->chunks->next = NULL;
        d->chunks->used = 0;
    }
}
