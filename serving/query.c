/* query.c -- one consistent read of the store: batch levels below the cutoff, speed above */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "serving/query.h"
#include "shared/agg.h"
#include "shared/err.h"
#include "shared/key.h"
#include "shared/mem.h"
#include "shared/speedmeta.h"
#include "shared/ts.h"

/* What this thread read for the snapshot id kept.id: the meta of snap
 * (txn aside) and, when ident_len > 0, snap_identity()'s bytes. */
#define SNAP_IDENT_MAX 4096
static __thread struct {
    uint64_t        id[2];      /* {0, 0}: nothing kept */
    struct snap     s;
    size_t          ident_len;
    unsigned char   ident[SNAP_IDENT_MAX];
} kept;

/* b is a snapshot's id (never {0, 0}: store serials start at 1) */
static int
same_id(const uint64_t a[2], const uint64_t b[2])
{
    return b[0] != 0 && a[0] == b[0] && a[1] == b[1];
}

int
snap_begin(struct snap *s, struct store *st, char *err)
{
    int rc;

    memset(s, 0, sizeof(*s));
    s->cutoff = INT64_MIN;
    if (store_txn_begin(st, 0, &s->txn, err) != 0) {
        s->txn = NULL;
        return -1;
    }
    store_txn_snapid(s->txn, s->id);
    if (same_id(kept.id, s->id)) {
        struct store_txn *txn = s->txn;

        *s = kept.s;
        s->txn = txn;
        return 0;
    }
    if ((rc = store_batch_current(s->txn, &s->batch, err)) < 0)
        goto fail;
    if (rc == 0) {
        s->has_batch = 1;
        s->cutoff = s->batch.cutoff;
    }
    rc = store_meta_get_i64(s->txn, SPEEDMETA_WATERMARK, &s->watermark, err);
    if (rc < 0)
        goto fail;
    s->has_watermark = rc == 0;
    kept.s = *s;
    kept.s.txn = NULL;
    kept.ident_len = 0;
    memcpy(kept.id, s->id, sizeof(kept.id));
    return 0;
fail:
    snap_end(s);
    return -1;
}

void
snap_end(struct snap *s)
{
    store_txn_abort(s->txn);
    s->txn = NULL;
}

int
snap_identity(struct snap *s, struct buf *out, char *err)
{
    int64_t head[6], upd = 0;
    const void *val = NULL;
    size_t len = 0, start = out->len;
    int rc, rs;

    if (same_id(kept.id, s->id) && kept.ident_len > 0) {
        buf_append(out, kept.ident, kept.ident_len);
        return 0;
    }
    if ((rc = store_meta_get_i64(s->txn, SPEEDMETA_UPDATED_AT, &upd,
        err)) < 0 || (rs = store_meta_get(s->txn, SPEEDMETA_STATUS, &val, &len,
        err)) < 0)
        return -1;
    head[0] = s->has_batch ? s->batch.version : 0;
    head[1] = s->has_batch ? s->batch.cutoff : 0;
    head[2] = s->has_watermark ? s->watermark : INT64_MIN;
    head[3] = rc == 0 ? upd : INT64_MIN;
    head[4] = rs == 0 ? (int64_t)len : -1;
    head[5] = s->has_batch ? s->batch.published_at : 0;
    buf_append(out, head, sizeof(head));
    if (rs == 0)
        buf_append(out, val, len);
    if (same_id(kept.id, s->id) && out->len - start <= SNAP_IDENT_MAX) {
        kept.ident_len = out->len - start;
        memcpy(kept.ident, out->data + start, kept.ident_len);
    }
    return 0;
}

int
snap_has_data(const struct snap *s)
{
    return s->has_batch || s->has_watermark;
}

static void
seg_add(struct plan *pl, int speed, int level, int64_t from, int64_t to)
{
    struct plan_seg *sg;

    if (from >= to || pl->n == PLAN_MAX)
        return;
    sg = &pl->seg[pl->n++];
    sg->speed = speed;
    sg->level = level;
    sg->from = from;
    sg->to = to;
}

static int64_t
day_ceil(int64_t t)
{
    int64_t d = ts_bucket(t, TS_DAY_MS);

    return d == t ? t : d + TS_DAY_MS;
}

/* Plan the batch part, buckets [from, to) with to <= cutoff. */
static int
plan_batch(struct snap *s, const struct view *v, int64_t from, int64_t to,
    unsigned flags, struct plan *pl, char *err)
{
    int64_t first, last, d0, d1;
    int rc;

    if ((flags & PLAN_ALL) && from == INT64_MIN && to == s->cutoff) {
        seg_add(pl, 0, STORE_LEVEL_ALL, INT64_MIN, INT64_MAX);
        return 0;
    }
    if ((flags & (PLAN_ALL | PLAN_DAY)) == 0) {
        seg_add(pl, 0, STORE_LEVEL_BASE, from, to);
        return 0;
    }
    rc = store_batch_span(s->txn, s->batch.version, v->name, &first, &last,
        err);
    if (rc < 0)
        return -1;
    if (rc == STORE_NOTFOUND)
        return 0;       /* the view has no batch rows at all */
    if ((flags & PLAN_ALL) && from <= first && to > last) {
        seg_add(pl, 0, STORE_LEVEL_ALL, INT64_MIN, INT64_MAX);
        return 0;
    }
    if (from < first)
        from = first;
    if (to > last + v->granularity)
        to = last + v->granularity;
    if (from >= to)
        return 0;
    d0 = day_ceil(from);
    d1 = ts_bucket(to, TS_DAY_MS);
    if (v->granularity >= TS_DAY_MS || d0 >= d1) {
        seg_add(pl, 0, STORE_LEVEL_BASE, from, to);
        return 0;
    }
    seg_add(pl, 0, STORE_LEVEL_BASE, from, d0);
    seg_add(pl, 0, STORE_LEVEL_DAY, d0, d1);
    seg_add(pl, 0, STORE_LEVEL_BASE, d1, to);
    return 0;
}

int
plan_make(struct snap *s, const struct view *v, int64_t from, int64_t to,
    unsigned flags, struct plan *pl, char *err)
{
    pl->n = 0;
    if (from >= to)
        return 0;
    if (s->has_batch && from < s->cutoff &&
        plan_batch(s, v, from, to < s->cutoff ? to : s->cutoff, flags, pl,
        err) != 0)
        return -1;
    seg_add(pl, 1, STORE_LEVEL_BASE, from > s->cutoff ? from : s->cutoff, to);
    return 0;
}

static int
seg_open(struct snap *s, const struct view *v, const struct plan_seg *sg,
    const void *gkey, size_t gklen, struct store_iter **it, char *err)
{
    if (sg->speed)
        return store_iter_speed(s->txn, v, gkey, gklen, sg->from, sg->to, it,
            err);
    return store_iter_batch(s->txn, s->batch.version, v, sg->level, gkey,
        gklen, sg->from, sg->to, it, err);
}

int
query_key_rows(struct snap *s, const struct view *v, const struct plan *pl,
    const void *gkey, size_t gklen,
    int (*fn)(void *arg, int64_t bucket, const int64_t *row, char *err),
    void *arg, char *err)
{
    for (int i = 0; i < pl->n; i++) {
        struct store_iter *it;
        struct store_row row;
        int rc;

        if (seg_open(s, v, &pl->seg[i], gkey, gklen, &it, err) != 0)
            return -1;
        while ((rc = store_iter_next(it, &row, err)) == 0)
            if (fn(arg, row.bucket, row.slots, err) != 0)
                break;
        store_iter_free(it);
        if (rc != STORE_NOTFOUND)
            return -1;
    }
    return 0;
}

static int
merge_row(void *arg, int64_t bucket, const int64_t *row, char *err)
{
    const struct view *v = ((const struct view **)arg)[0];
    int64_t *acc = ((int64_t **)arg)[1];

    (void)bucket;
    if (agg_row_merge(v, acc, row) != 0) {
        snprintf(err, ERR_LEN, "view %s: sum overflow", v->name);
        return -1;
    }
    return 0;
}

int
query_total(struct snap *s, const struct view *v, const struct plan *pl,
    const void *gkey, size_t gklen, int64_t *row, char *err)
{
    void *arg[2] = {(void *)v, row};

    agg_row_init(v, row);
    return query_key_rows(s, v, pl, gkey, gklen, merge_row, arg, err);
}

struct head {
    struct store_iter *it;
    struct store_row   row;
    int                live;
};

struct query_cursor {
    const struct view *v;
    struct head        h[PLAN_MAX];
    int                n;           /* segments open */
    unsigned char      key[KEY_MAX];    /* the current group's */
    size_t             klen;
    int                open;        /* a group is current */
    int                seg;         /* the segment its rows come from now */
    int                handed;      /* h[seg]'s row went out: step past it */
};

static int
head_next(struct head *h, char *err)
{
    int rc = store_iter_next(h->it, &h->row, err);

    h->live = rc == 0;
    return rc < 0 ? -1 : 0;
}

static int
key_cmp(const void *a, size_t alen, const void *b, size_t blen)
{
    int c = memcmp(a, b, alen < blen ? alen : blen);

    if (c != 0)
        return c;
    return (alen > blen) - (alen < blen);
}

/* Nonzero when head h is live on the current group. */
static int
head_on(const struct query_cursor *c, const struct head *h)
{
    return h->live && key_cmp(h->row.gkey, h->row.gklen, c->key,
        c->klen) == 0;
}

int
query_cursor_open(struct snap *s, const struct view *v,
    const struct plan *pl, const void *gkey, size_t gklen,
    struct query_cursor **out, char *err)
{
    struct query_cursor *c = xcalloc(1, sizeof(*c));

    c->v = v;
    /* Each segment is in (group key, bucket) order: merge them by key. */
    for (; c->n < pl->n; c->n++) {
        if (seg_open(s, v, &pl->seg[c->n], gkey, gklen, &c->h[c->n].it,
            err) != 0)
            goto fail;
        if (head_next(&c->h[c->n], err) != 0) {
            c->n++;
            goto fail;
        }
    }
    *out = c;
    return 0;
fail:
    query_cursor_free(c);
    return -1;
}

/* Step past the row handed out last, if one was. */
static int
cursor_settle(struct query_cursor *c, char *err)
{
    if (!c->handed)
        return 0;
    c->handed = 0;
    return head_next(&c->h[c->seg], err);
}

int
query_cursor_group(struct query_cursor *c, const void **gkey, size_t *gklen,
    char *err)
{
    const struct store_row *min = NULL;

    if (cursor_settle(c, err) != 0)
        return -1;
    for (int i = 0; c->open && i < c->n; i++)  /* rows left unread */
        while (head_on(c, &c->h[i]))
            if (head_next(&c->h[i], err) != 0)
                return -1;
    c->open = 0;
    for (int i = 0; i < c->n; i++)
        if (c->h[i].live && (min == NULL || key_cmp(c->h[i].row.gkey,
            c->h[i].row.gklen, min->gkey, min->gklen) < 0))
            min = &c->h[i].row;
    if (min == NULL)
        return QUERY_END;
    if (min->gklen > sizeof(c->key)) {
        snprintf(err, ERR_LEN, "view %s: group key of %zu bytes",
            c->v->name, min->gklen);
        return -1;
    }
    memcpy(c->key, min->gkey, min->gklen);
    c->klen = min->gklen;
    c->open = 1;
    c->seg = 0;
    *gkey = c->key;
    *gklen = c->klen;
    return 0;
}

int
query_cursor_row(struct query_cursor *c, int64_t *bucket,
    const int64_t **row, char *err)
{
    if (cursor_settle(c, err) != 0)
        return -1;
    for (; c->open && c->seg < c->n; c->seg++) {
        struct head *h = &c->h[c->seg];

        if (head_on(c, h)) {
            *bucket = h->row.bucket;
            *row = h->row.slots;
            c->handed = 1;
            return 0;
        }
    }
    return QUERY_END;
}

void
query_cursor_free(struct query_cursor *c)
{
    if (c == NULL)
        return;
    for (int i = 0; i < c->n; i++)
        store_iter_free(c->h[i].it);
    free(c);
}

int
query_groups(struct snap *s, const struct view *v, const struct plan *pl,
    int (*fn)(void *arg, const void *gkey, size_t gklen, const int64_t *row,
        char *err),
    void *arg, char *err)
{
    struct query_cursor *c;
    int64_t *acc, bucket;
    const int64_t *row;
    const void *gkey;
    size_t gklen;
    int rc;

    if (query_cursor_open(s, v, pl, NULL, 0, &c, err) != 0)
        return -1;
    acc = xmalloc(agg_row_size(v));
    while ((rc = query_cursor_group(c, &gkey, &gklen, err)) == 0) {
        agg_row_init(v, acc);
        while ((rc = query_cursor_row(c, &bucket, &row, err)) == 0) {
            if (agg_row_merge(v, acc, row) != 0) {
                snprintf(err, ERR_LEN, "view %s: sum overflow", v->name);
                rc = -1;
                break;
            }
        }
        if (rc < 0 || fn(arg, gkey, gklen, acc, err) != 0) {
            rc = -1;
            break;
        }
    }
    query_cursor_free(c);
    free(acc);
    return rc < 0 ? -1 : 0;
}
