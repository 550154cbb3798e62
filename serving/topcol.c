/* topcol.c -- top's batch part per batch version: one additive metric of every group, as prefix sums */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "serving/query.h"
#include "serving/topcol.h"
#include "shared/agg.h"
#include "shared/buf.h"
#include "shared/err.h"
#include "shared/mem.h"

#define TOPCOL_SLOTS 3      /* a count, an int128 sum */

/* Group keys in ascending order, one buffer. */
struct keys {
    struct buf  text;
    size_t     *off;        /* n + 1 offsets */
    size_t      n, cap;
};

struct topcol {
    int             refs;
    int             dead;       /* evicted: freed at the last release */
    int64_t         version;
    const char     *view;       /* the definition's name: one pointer per
                                   definition, kept until exit (viewdefs.h) */
    int             m;
    int             w;          /* slots of the metric */
    int64_t         first, gran;
    size_t          nb;         /* buckets first, first + gran, ... */
    struct keys     k;
    int64_t        *pre;        /* (nb + 1) x k.n x w: prefix merges */
    uint32_t       *cnt;        /* (nb + 1) x k.n: rows in each prefix */
    size_t          bytes;
};

/* Where prefix i (the buckets before i) of group g is: bucket-major, so
 * that a range reads every group's two prefixes in sequence. */
#define AT(c, i, g) ((i) * (c)->k.n + (g))

struct topspeed {
    int             refs;
    int             dead;
    struct buf      id;         /* snapshot identity, view, metric, range */
    struct keys     k;
    long           *idx;        /* the group's index in the column, or -1 */
    int64_t        *rows;       /* k.n x w: the group's speed part */
};

static void
keys_add(struct keys *k, const void *key, size_t len)
{
    if (k->n + 2 > k->cap) {
        k->cap = k->cap ? 2 * k->cap : 1024;
        k->off = xrealloc(k->off, k->cap * sizeof(*k->off));
    }
    if (k->n == 0)
        k->off[0] = 0;
    buf_append(&k->text, key, len);
    k->off[++k->n] = k->text.len;
}

static const void *
keys_at(const struct keys *k, size_t i, size_t *len)
{
    *len = k->off[i + 1] - k->off[i];
    return k->text.data + k->off[i];
}

static void
keys_reset(struct keys *k)
{
    buf_reset(&k->text);
    free(k->off);
    memset(k, 0, sizeof(*k));
}

/* Key i of k against row's group key: memcmp, then the shorter first. */
static int
keys_cmp(const struct keys *k, size_t i, const struct store_row *row)
{
    size_t len = k->off[i + 1] - k->off[i];
    int c = memcmp(k->text.data + k->off[i], row->gkey,
        len < row->gklen ? len : row->gklen);

    return c != 0 ? c : (len > row->gklen) - (len < row->gklen);
}

void
topcols_init(struct topcols *tc)
{
    memset(tc->col, 0, sizeof(tc->col));
    memset(tc->spd, 0, sizeof(tc->spd));
    tc->bytes = 0;
    if (pthread_mutex_init(&tc->mu, NULL) != 0 ||
        pthread_mutex_init(&tc->build, NULL) != 0 ||
        pthread_cond_init(&tc->read_done, NULL) != 0)
        abort();
    tc->reading = 0;
    buf_init(&tc->reading_id);
    atomic_init(&tc->hits, 0);
    atomic_init(&tc->misses, 0);
    atomic_init(&tc->shits, 0);
    atomic_init(&tc->smisses, 0);
}

static void
col_free(struct topcol *c)
{
    keys_reset(&c->k);
    free(c->pre);
    free(c->cnt);
    free(c);
}

static void
spd_free(struct topspeed *sp)
{
    buf_reset(&sp->id);
    keys_reset(&sp->k);
    free(sp->idx);
    free(sp->rows);
    free(sp);
}

void
topcols_reset(struct topcols *tc)
{
    for (int i = 0; i < TOPCOL_MAX; i++)
        if (tc->col[i] != NULL)
            col_free(tc->col[i]);
    for (int i = 0; i < TOPSPEED_MAX; i++)
        if (tc->spd[i] != NULL)
            spd_free(tc->spd[i]);
    buf_reset(&tc->reading_id);
    (void)pthread_cond_destroy(&tc->read_done);
    (void)pthread_mutex_destroy(&tc->mu);
    (void)pthread_mutex_destroy(&tc->build);
}

/* Kinds whose state is a count and an exact sum: prefixes subtract. */
static int
additive(enum metric_kind k)
{
    return k == METRIC_COUNT || k == METRIC_SUM || k == METRIC_AVG;
}

int
topcol_mini(const struct view *v, int m, struct topcol_mini *mini)
{
    const struct metric *mt = &v->metrics[m];
    int end = m + 1 < v->nmetrics ? v->metrics[m + 1].slot : v->nslots;

    memset(mini, 0, sizeof(*mini));
    mini->v = *v;
    mini->m = *mt;
    mini->m.slot = 0;
    mini->v.metrics = &mini->m;
    mini->v.nmetrics = 1;
    mini->v.nslots = end - mt->slot;
    mini->v.outputs = NULL;
    mini->v.noutputs = 0;
    mini->index = m;
    mini->slot = mt->slot;
    return additive(mt->kind) && mini->v.nslots <= TOPCOL_SLOTS;
}

/*
 * hi minus lo, two prefix merges of an additive metric: the merge of the
 * rows between them. The state is a count, then for sum and avg the exact
 * decimal sum as an int128 in two slots, low half first (agg.c's layout).
 */
__extension__ typedef __int128 i128;
__extension__ typedef unsigned __int128 u128;

static i128
sum_at(const int64_t *s)
{
    return (i128)((u128)(uint64_t)s[1] | (u128)(uint64_t)s[2] << 64);
}

static void
pre_diff(int w, const int64_t *hi, const int64_t *lo, int64_t *out)
{
    out[0] = hi[0] - lo[0];
    if (w == 3) {
        i128 d = sum_at(hi) - sum_at(lo);

        out[1] = (int64_t)(uint64_t)(u128)d;
        out[2] = (int64_t)(uint64_t)((u128)d >> 64);
    }
}

/* Build the column of mini's metric in s's batch version. NULL with err
 * on a store error, NULL with err "" when it would exceed TOPCOL_BYTES. */
static struct topcol *
col_build(struct snap *s, const struct view *v,
    const struct topcol_mini *mini, char *err)
{
    struct topcol *c = xcalloc(1, sizeof(*c));
    struct store_iter *it = NULL;
    struct store_row row;
    int64_t last, *tmp = NULL;
    size_t g = 0, w;
    int rc;

    c->refs = 1;
    c->version = s->batch.version;
    c->view = v->name;
    c->m = mini->index;
    c->w = mini->v.nslots;
    c->gran = v->granularity;
    w = (size_t)c->w;
    buf_init(&c->k.text);
    rc = store_batch_span(s->txn, c->version, v->name, &c->first, &last,
        err);
    if (rc < 0)
        goto fail;
    if (rc == STORE_NOTFOUND)
        return c;       /* no batch rows: no group */
    c->nb = (size_t)((last - c->first) / c->gran) + 1;
    /* the groups, from the all-time level: one row each */
    if (store_iter_batch(s->txn, c->version, v, STORE_LEVEL_ALL, NULL, 0,
        INT64_MIN, INT64_MAX, &it, err) != 0)
        goto fail;
    while ((rc = store_iter_next(it, &row, err)) == 0)
        keys_add(&c->k, row.gkey, row.gklen);
    store_iter_free(it);
    it = NULL;
    if (rc != STORE_NOTFOUND)
        goto fail;
    c->bytes = c->k.n * (c->nb + 1) * (w * 8 + 4) + c->k.text.len;
    if (c->bytes > TOPCOL_BYTES) {
        err[0] = '\0';
        goto fail;
    }
    c->pre = xcalloc(c->k.n * (c->nb + 1) * w, sizeof(int64_t));
    c->cnt = xcalloc(c->k.n * (c->nb + 1), sizeof(uint32_t));
    if (store_iter_batch(s->txn, c->version, v, STORE_LEVEL_BASE, NULL, 0,
        INT64_MIN, INT64_MAX, &it, err) != 0)
        goto fail;
    while ((rc = store_iter_next(it, &row, err)) == 0) {
        size_t i = (size_t)((row.bucket - c->first) / c->gran);

        while (keys_cmp(&c->k, g, &row) < 0 && g + 1 < c->k.n)
            g++;
        if (keys_cmp(&c->k, g, &row) != 0 || i >= c->nb) {
            snprintf(err, ERR_LEN, "view %s: batch version %lld: base row "
                "outside its all-time level or span", v->name,
                (long long)c->version);
            rc = -1;
            break;
        }
        memcpy(c->pre + AT(c, i + 1, g) * w, row.slots + mini->slot,
            w * sizeof(int64_t));
        c->cnt[AT(c, i + 1, g)] = 1;
    }
    store_iter_free(it);
    it = NULL;
    if (rc != STORE_NOTFOUND)
        goto fail;
    /* each slot i + 1 holds bucket i's row: merge it onto prefix i */
    tmp = xmalloc(w * sizeof(int64_t));
    for (size_t i = 1; i <= c->nb; i++) {
        for (g = 0; g < c->k.n; g++) {
            int64_t *p = c->pre + AT(c, i, g) * w;

            memcpy(tmp, c->pre + AT(c, i - 1, g) * w, w * sizeof(int64_t));
            if (agg_row_merge(&mini->v, tmp, p) != 0) {
                snprintf(err, ERR_LEN, "view %s: sum overflow", v->name);
                goto fail;
            }
            memcpy(p, tmp, w * sizeof(int64_t));
            c->cnt[AT(c, i, g)] += c->cnt[AT(c, i - 1, g)];
        }
    }
    free(tmp);
    return c;
fail:
    store_iter_free(it);
    free(tmp);
    col_free(c);
    return NULL;
}

/* Read the speed part of [lo, to) in s for column c. NULL with err. */
static struct topspeed *
spd_read(struct snap *s, const struct view *v, const struct topcol_mini *mini,
    const struct topcol *c, int64_t lo, int64_t to, char *err)
{
    struct topspeed *sp = xcalloc(1, sizeof(*sp));
    struct store_iter *it;
    struct store_row row;
    size_t w = (size_t)mini->v.nslots, cap = 0, g = 0;
    int rc;

    sp->refs = 1;
    buf_init(&sp->id);
    buf_init(&sp->k.text);
    if (store_iter_speed(s->txn, v, NULL, 0, lo, to, &it, err) != 0)
        goto fail;
    while ((rc = store_iter_next(it, &row, err)) == 0) {
        size_t n = sp->k.n;

        if (n == 0 || keys_cmp(&sp->k, n - 1, &row) != 0) {
            if (n + 1 > cap) {
                cap = cap ? 2 * cap : 1024;
                sp->idx = xrealloc(sp->idx, cap * sizeof(*sp->idx));
                sp->rows = xrealloc(sp->rows, cap * w * sizeof(int64_t));
            }
            keys_add(&sp->k, row.gkey, row.gklen);
            agg_row_init(&mini->v, sp->rows + n * w);
            /* speed rows come in key order too: walk the column along */
            while (g < c->k.n && keys_cmp(&c->k, g, &row) < 0)
                g++;
            sp->idx[n] = g < c->k.n && keys_cmp(&c->k, g, &row) == 0 ?
                (long)g : -1;
            n++;
        }
        if (agg_row_merge(&mini->v, sp->rows + (n - 1) * w,
            row.slots + mini->slot) != 0) {
            snprintf(err, ERR_LEN, "view %s: sum overflow", v->name);
            rc = -1;
            break;
        }
    }
    store_iter_free(it);
    if (rc != STORE_NOTFOUND)
        goto fail;
    return sp;
fail:
    spd_free(sp);
    return NULL;
}

/* Drop a reference: nonzero when it was the last one of an evicted entry
 * (the caller frees it). */
static int
unref(struct topcols *tc, int *refs, const int *dead)
{
    int last;

    (void)pthread_mutex_lock(&tc->mu);
    last = --*refs == 0 && *dead;
    (void)pthread_mutex_unlock(&tc->mu);
    return last;
}

static void
col_release(struct topcols *tc, struct topcol *c)
{
    if (unref(tc, &c->refs, &c->dead))
        col_free(c);
}

static void
spd_release(struct topcols *tc, struct topspeed *sp)
{
    if (sp != NULL && unref(tc, &sp->refs, &sp->dead))
        spd_free(sp);
}

/* Under tc->mu: evict column i (freed now if unused). */
static void
col_evict(struct topcols *tc, int i)
{
    struct topcol *c = tc->col[i];

    tc->col[i] = NULL;
    tc->bytes -= c->bytes;
    c->dead = 1;
    if (--c->refs == 0)         /* the array's reference */
        col_free(c);
}

/* The column for (s's version, v, mini's metric), with a reference; NULL
 * when there is none yet. */
static struct topcol *
col_find(struct topcols *tc, int64_t version, const struct view *v, int m)
{
    struct topcol *c = NULL;

    (void)pthread_mutex_lock(&tc->mu);
    for (int i = 0; i < TOPCOL_MAX && c == NULL; i++)
        if (tc->col[i] != NULL && tc->col[i]->version == version &&
            tc->col[i]->view == v->name && tc->col[i]->m == m) {
            c = tc->col[i];
            c->refs++;
        }
    (void)pthread_mutex_unlock(&tc->mu);
    return c;
}

/* Keep c (holding the caller's reference, plus one for the array):
 * newest first, older versions of the same view and metric out, and the
 * oldest out while over TOPCOL_BYTES. */
static void
col_keep(struct topcols *tc, struct topcol *c)
{
    (void)pthread_mutex_lock(&tc->mu);
    for (int i = 0; i < TOPCOL_MAX; i++)
        if (tc->col[i] != NULL && tc->col[i]->view == c->view &&
            tc->col[i]->m == c->m)
            col_evict(tc, i);
    for (int i = TOPCOL_MAX - 1; i >= 0; i--)
        if (tc->col[i] != NULL && (i == TOPCOL_MAX - 1 ||
            tc->bytes + c->bytes > TOPCOL_BYTES))
            col_evict(tc, i);
    memmove(&tc->col[1], &tc->col[0], (TOPCOL_MAX - 1) * sizeof(tc->col[0]));
    tc->col[0] = c;
    c->refs++;
    tc->bytes += c->bytes;
    (void)pthread_mutex_unlock(&tc->mu);
}

/* Under tc->mu: the kept speed part for identity id, with a reference, or
 * NULL. */
static struct topspeed *
spd_find(struct topcols *tc, const struct buf *id)
{
    for (int i = 0; i < TOPSPEED_MAX; i++)
        if (tc->spd[i] != NULL && tc->spd[i]->id.len == id->len &&
            memcmp(tc->spd[i]->id.data, id->data, id->len) == 0) {
            tc->spd[i]->refs++;
            return tc->spd[i];
        }
    return NULL;
}

/*
 * The speed part for identity id, with a reference; read and kept when
 * missing. One request reads a given identity's part at a time: the others
 * asking for it meanwhile wait for it rather than read it too (after a
 * speed commit, every request of the new snapshot wants it). NULL with err.
 */
static struct topspeed *
spd_get(struct topcols *tc, struct snap *s, const struct view *v,
    const struct topcol_mini *mini, const struct topcol *c,
    const struct buf *id, int64_t lo, int64_t to, char *err)
{
    struct topspeed *sp;
    int slot = TOPSPEED_MAX - 1, mine = 0;

    (void)pthread_mutex_lock(&tc->mu);
    while ((sp = spd_find(tc, id)) == NULL && tc->reading &&
        tc->reading_id.len == id->len &&
        memcmp(tc->reading_id.data, id->data, id->len) == 0)
        (void)pthread_cond_wait(&tc->read_done, &tc->mu);
    if (sp == NULL && !tc->reading) {
        tc->reading = mine = 1;
        buf_clear(&tc->reading_id);
        buf_append(&tc->reading_id, id->data, id->len);
    }
    (void)pthread_mutex_unlock(&tc->mu);
    atomic_fetch_add_explicit(sp != NULL ? &tc->shits : &tc->smisses, 1,
        memory_order_relaxed);
    if (sp != NULL)
        return sp;
    sp = spd_read(s, v, mini, c, lo, to, err);
    (void)pthread_mutex_lock(&tc->mu);
    if (sp != NULL) {
        buf_append(&sp->id, id->data, id->len);
        if (tc->spd[slot] != NULL) {
            tc->spd[slot]->dead = 1;
            if (--tc->spd[slot]->refs == 0)     /* the array's reference */
                spd_free(tc->spd[slot]);
        }
        memmove(&tc->spd[1], &tc->spd[0], (TOPSPEED_MAX - 1) * sizeof(sp));
        tc->spd[0] = sp;
        sp->refs++;
    }
    if (mine) {
        tc->reading = 0;
        (void)pthread_cond_broadcast(&tc->read_done);
    }
    (void)pthread_mutex_unlock(&tc->mu);
    return sp;
}

/* The bucket index of the first bucket at or after t, within [0, nb]. */
static size_t
bucket_index(const struct topcol *c, int64_t t)
{
    if (t <= c->first)
        return 0;
    if ((t - c->first) / c->gran >= (int64_t)c->nb)
        return c->nb;
    return (size_t)((t - c->first + c->gran - 1) / c->gran);
}

/* dst merged with src as agg_row_merge() merges additive states; -1 on
 * an overflow. */
static int
row_add(size_t w, int64_t *dst, const int64_t *src)
{
    int64_t n;
    i128 sum;

    if (src[0] == 0)
        return 0;
    if (__builtin_add_overflow(dst[0], src[0], &n))
        return -1;
    if (w == 3) {
        if (__builtin_add_overflow(sum_at(dst), sum_at(src), &sum))
            return -1;
        dst[1] = (int64_t)(uint64_t)(u128)sum;
        dst[2] = (int64_t)(uint64_t)((u128)sum >> 64);
    }
    dst[0] = n;
    return 0;
}

/* The groups of a ranking: the speed part's, then the column's without
 * speed rows in range. */
struct walk {
    const struct topcol     *c;
    const struct topspeed   *sp;
    size_t                   ilo, ihi, w, nsp;
    unsigned char           *touched;   /* column groups with speed rows */
};

/* Candidate i's row into row, its key: 1, 0 when it has no row in the
 * range, -1 on an overflow. */
static int
walk_row(const struct walk *wk, size_t i, int64_t *row, const void **key,
    size_t *len)
{
    const struct topcol *c = wk->c;
    size_t g, w = wk->w;
    long idx = -1;

    if (i < wk->nsp) {
        *key = keys_at(&wk->sp->k, i, len);
        idx = wk->sp->idx[i];
        if (idx < 0) {
            memcpy(row, wk->sp->rows + i * w, w * sizeof(int64_t));
            return 1;
        }
        g = (size_t)idx;
    } else {
        g = i - wk->nsp;
        if ((wk->touched[g / 8] & (1u << (g % 8))) ||
            c->cnt[AT(c, wk->ihi, g)] == c->cnt[AT(c, wk->ilo, g)])
            return 0;
        *key = keys_at(&c->k, g, len);
    }
    pre_diff((int)w, c->pre + AT(c, wk->ihi, g) * w,
        c->pre + AT(c, wk->ilo, g) * w, row);
    if (idx >= 0 && row_add(w, row, wk->sp->rows + i * w) != 0)
        return -1;
    return 1;
}

/* What a count or a sum ranks by (agg_metric_cmp()). */
static i128
score(enum metric_kind k, const int64_t *row)
{
    return k == METRIC_COUNT ? row[0] : sum_at(row);
}

/* Min-heap of the n best scores so far, h[0] the worst of them. */
static void
score_push(i128 *h, int *cnt, int n, i128 x)
{
    int i;

    if (*cnt == n) {
        if (x <= h[0])
            return;
        for (i = 0; 2 * i + 1 < n;) {   /* replace the root, sift down */
            int l = 2 * i + 1, m = l + 1 < n && h[l + 1] < h[l] ? l + 1 : l;

            if (h[m] >= x)
                break;
            h[i] = h[m];
            i = m;
        }
        h[i] = x;
        return;
    }
    for (i = (*cnt)++; i > 0 && h[(i - 1) / 2] > x; i = (i - 1) / 2)
        h[i] = h[(i - 1) / 2];
    h[i] = x;
}

/*
 * Call fn for the groups of c and sp that can be among the n best: for a
 * count or a sum, those scoring at least the n-th best score (ties
 * included: fn's ranking breaks them by key); for an avg, all. Returns 0,
 * -1 with err from fn, or -2 on a sum overflow.
 */
static int
rank_walk(const struct topcol *c, const struct topspeed *sp,
    enum metric_kind kind, size_t ilo, size_t ihi, int n,
    int (*fn)(void *arg, const void *gkey, size_t gklen, const int64_t *mrow,
        char *err),
    void *arg, char *err)
{
    struct walk wk = {c, sp, ilo, ihi, (size_t)c->w, sp ? sp->k.n : 0, NULL};
    int64_t row[TOPCOL_SLOTS];
    i128 *h = NULL, min = 0;
    int cnt = 0, rc = 0, filter = kind != METRIC_AVG;
    const void *key = NULL;
    size_t len = 0, all;

    wk.touched = xcalloc(c->k.n / 8 + 1, 1);
    for (size_t i = 0; i < wk.nsp; i++)
        if (sp->idx[i] >= 0)
            wk.touched[sp->idx[i] / 8] |= (unsigned char)(1u <<
                (sp->idx[i] % 8));
    all = wk.nsp + c->k.n;
    if (filter) {       /* the n-th best score */
        h = xmalloc((size_t)n * sizeof(*h));
        for (size_t i = 0; i < all && rc >= 0; i++)
            if ((rc = walk_row(&wk, i, row, &key, &len)) == 1)
                score_push(h, &cnt, n, score(kind, row));
        filter = cnt == n;
        min = cnt > 0 ? h[0] : 0;
    }
    for (size_t i = 0; i < all && rc >= 0; i++) {
        if ((rc = walk_row(&wk, i, row, &key, &len)) != 1)
            continue;
        if ((!filter || score(kind, row) >= min) &&
            fn(arg, key, len, row, err) != 0)
            rc = -3;
    }
    free(h);
    free(wk.touched);
    return rc == -1 ? -2 : rc == -3 ? -1 : 0;
}

int
topcol_rank(struct topcols *tc, struct snap *s, const struct view *v,
    const struct topcol_mini *mini, int64_t from, int64_t to, int n,
    int (*fn)(void *arg, const void *gkey, size_t gklen, const int64_t *mrow,
        char *err),
    void *arg, char *err)
{
    struct topcol *c;
    struct topspeed *sp = NULL;
    int64_t lo = from > s->cutoff ? from : s->cutoff;
    size_t ilo = 0, ihi = 0, w = (size_t)mini->v.nslots;
    int rc = -1;

    if (!s->has_batch || !additive(mini->m.kind) || w > TOPCOL_SLOTS)
        return 0;
    if ((c = col_find(tc, s->batch.version, v, mini->index)) != NULL) {
        atomic_fetch_add_explicit(&tc->hits, 1, memory_order_relaxed);
    } else {
        if (pthread_mutex_trylock(&tc->build) != 0)
            return 0;   /* being built: answer cold meanwhile */
        c = col_find(tc, s->batch.version, v, mini->index);
        if (c == NULL && (c = col_build(s, v, mini, err)) != NULL)
            col_keep(tc, c);
        (void)pthread_mutex_unlock(&tc->build);
        if (c == NULL)
            return err[0] == '\0' ? 0 : -1;
        atomic_fetch_add_explicit(&tc->misses, 1, memory_order_relaxed);
    }
    if (from < s->cutoff) {
        ilo = bucket_index(c, from);
        ihi = bucket_index(c, to < s->cutoff ? to : s->cutoff);
    }
    if (lo < to) {
        struct buf id;

        buf_init(&id);
        if (snap_identity(s, &id, err) == 0) {
            buf_append(&id, &v, sizeof(v));     /* its definition */
            buf_append(&id, v->name, strlen(v->name) + 1);
            buf_append(&id, &mini->index, sizeof(mini->index));
            buf_append(&id, &lo, sizeof(lo));
            buf_append(&id, &to, sizeof(to));
            sp = spd_get(tc, s, v, mini, c, &id, lo, to, err);
        }
        buf_reset(&id);
        if (sp == NULL)
            goto out;
    }
    rc = rank_walk(c, sp, mini->m.kind, ilo, ihi, n, fn, arg, err);
    if (rc == -2)
        snprintf(err, ERR_LEN, "view %s: sum overflow", v->name);
    rc = rc < 0 ? -1 : 1;
out:
    spd_release(tc, sp);
    col_release(tc, c);
    return rc;
}
