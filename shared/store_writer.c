/* store_writer.c -- batch publication: rows, rollups, publish, purge */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <lmdb.h>

#include "shared/agg.h"
#include "shared/buf.h"
#include "shared/err.h"
#include "shared/late.h"
#include "shared/mem.h"
#include "shared/now.h"
#include "shared/publog.h"
#include "shared/store.h"
#include "shared/store_int.h"
#include "shared/ts.h"

#define CHUNK_ROWS 50000        /* rows per writer or purge transaction */
#define CHUNK_BYTES (16u << 20) /* and bytes per writer transaction: a row
                                   of quantiles is kilobytes (agg.h) */
#define ROLLUP_MAX (32u << 20)  /* rollup bytes buffered before spilling */

struct store_writer {
    struct store          *st;
    const struct pipeline *p;
    int                    locked;      /* st->writing is ours */
    int                    begun;       /* version reserved: rows may be in */
    int                    unlock;      /* we took st's batch lock */
    uint32_t               version;
    uint32_t               prev;        /* current version at begin, 0: none */
    int64_t                keep_before;
    int                   *order;       /* view indexes by strcmp() of names */
    int                    next;        /* order[] index of the next view */
    int64_t               *sigs;        /* per view */
    int64_t               *first;       /* per view: span of base buckets */
    int64_t               *last;
    int                   *has_rows;
    const struct view     *cv;          /* view being written, or NULL */
    int                    cvi;
    int                    failed;
    /* rows waiting for the next chunk transaction (w_flush()) */
    struct buf             chunk;
    size_t                 nrows;
    int                    noappend;    /* MDB_APPEND refused: plain puts */
    int                    spilled;     /* cv's rollups went out unordered */
    /* order check of puts within cv: suffix gkey|bucket of the last put */
    unsigned char          lastput[STORE_KMAX];
    size_t                 lastlen;
    /* base rows of the previous version carried into cv (keep_before),
     * read in a read txn that ends before every chunk is written */
    struct store_txn      *rt;
    int                    old_active;
    struct store_scan      old;
    int                    have_pend;
    unsigned char          pend_g[STORE_KMAX];
    size_t                 pend_glen;
    int64_t                pend_bucket;
    /* rollups of cv: current group, its day and all-time rows */
    int                    have_group;
    unsigned char          grp[STORE_KMAX];
    size_t                 grplen;
    int                    have_day;
    int64_t                day;
    int64_t               *rows;        /* 3 rows: pending old, day, all */
    int                    rows_slots;
    unsigned char         *enc;         /* one encoded row */
    struct buf             days, alls;  /* records: u16 glen|gkey|bucket|row */
    struct store_diff     *diff;        /* against prev, for the log */
    const struct late_listing *late;    /* store_writer_late(), or NULL */
    int                  (*hook)(void *, struct store_txn *,
        const struct store_batch_info *, int64_t, char *);
                                        /* store_writer_on_publish() */
    void                  *hook_arg;
};

/* ---- days ---- */

static int64_t
day_of(int64_t b)
{
    int64_t m = b % TS_DAY_MS;

    return m < 0 ? b - m - TS_DAY_MS : b - m;
}

/* ---- purge of batch versions ---- */

/* Delete meta entries "KIND/V/..." of every version V other than keep. */
static int
purge_meta(struct store_txn *t, const char *kind, uint32_t keep, char *err)
{
    size_t kl = strlen(kind);
    MDB_cursor *cur = NULL;
    MDB_val k, d;
    int rc;

    if ((rc = mdb_cursor_open(t->txn, t->st->meta, &cur)) != 0)
        goto done;
    k.mv_data = (void *)kind;
    k.mv_size = kl;
    rc = mdb_cursor_get(cur, &k, &d, MDB_SET_RANGE);
    while (rc == 0 && k.mv_size > kl &&
        memcmp(k.mv_data, kind, kl) == 0) {
        const char *p = (const char *)k.mv_data + kl;
        size_t i, rest = k.mv_size - kl;
        uint64_t v = 0;

        for (i = 0; i < rest && p[i] >= '0' && p[i] <= '9' && v < (1ULL << 40);
            i++)
            v = v * 10 + (uint64_t)(p[i] - '0');
        if (v != keep) {
            if ((rc = mdb_cursor_del(cur, 0)) != 0)
                goto done;
        }
        rc = mdb_cursor_get(cur, &k, &d, MDB_NEXT);
    }
done:
    return store_cursor_done(t, cur, rc, "purge meta", err);
}

/*
 * Delete every batch row, span and signature of a version other than keep
 * (0: keep none), in transactions of at most CHUNK_ROWS deletes so that a
 * speed writer in another process never waits long. Adds the rows deleted
 * to *ndel when ndel is not NULL.
 */
static int
purge(struct store *st, uint32_t keep, int64_t *ndel, char *err)
{
    struct store_txn *t = NULL;
    MDB_cursor *cur = NULL;
    unsigned char seek[4];
    MDB_val k, d;
    size_t n;
    int rc;

    for (;;) {
        if (store_txn_begin(st, 1, &t, err) != 0)
            return -1;
        if ((rc = mdb_cursor_open(t->txn, st->batch, &cur)) != 0)
            goto fail;
        n = 0;
        rc = mdb_cursor_get(cur, &k, &d, MDB_FIRST);
        while (rc == 0 && n < CHUNK_ROWS) {
            if (k.mv_size >= 4 && keep != 0 &&
                store_be32_get(k.mv_data) == keep) {
                if (keep == UINT32_MAX) {
                    rc = MDB_NOTFOUND;
                    break;
                }
                store_be32_put(seek, keep + 1);
                k.mv_data = seek;
                k.mv_size = 4;
                rc = mdb_cursor_get(cur, &k, &d, MDB_SET_RANGE);
                continue;
            }
            if ((rc = mdb_cursor_del(cur, 0)) != 0)
                goto fail;
            n++;
            rc = mdb_cursor_get(cur, &k, &d, MDB_NEXT);
        }
        if (rc != 0 && rc != MDB_NOTFOUND)
            goto fail;
        mdb_cursor_close(cur);
        cur = NULL;
        if (rc == MDB_NOTFOUND && (purge_meta(t, "span/", keep, err) != 0 ||
            purge_meta(t, "sig/", keep, err) != 0)) {
            store_txn_abort(t);
            return -1;
        }
        if (store_txn_commit(t, err) != 0)
            return -1;
        t = NULL;
        if (ndel != NULL)
            *ndel += (int64_t)n;
        if (rc == MDB_NOTFOUND)
            return 0;
    }
fail:
    store_set_err(st, err, "delete old batch rows", rc);
    if (cur != NULL)
        mdb_cursor_close(cur);
    store_txn_abort(t);
    return -1;
}

int
store_batch_reclaim(struct store *st, int64_t *rows, char *err)
{
    struct store_txn *t = NULL;
    int64_t cur = 0;
    int rc;

    *rows = 0;
    if (store_batch_lock(st, err) != 0 ||
        store_txn_begin(st, 0, &t, err) != 0)
        return -1;
    rc = store_meta_get_i64(t, "batch.version", &cur, err);
    store_txn_abort(t);
    if (rc < 0 ||
        (rc == 0 && store_check_i64(st, "batch.version", cur, err) != 0))
        return -1;
    return purge(st, (uint32_t)cur, rows, err);
}

/* ---- the batch writer ---- */

static int
writer_fail(struct store_writer *w)
{
    w->failed = 1;
    return -1;
}

/* End the read transaction on the previous version; reads resume by key. */
static void
old_close(struct store_writer *w)
{
    if (w->old.cur != NULL) {
        mdb_cursor_close(w->old.cur);   /* read txns do not close cursors */
        w->old.cur = NULL;
        if (w->old.state == STORE_SCAN_NEXT)
            w->old.state = STORE_SCAN_RESEEK;
    }
    store_txn_abort(w->rt);
    w->rt = NULL;
    store_diff_pause(w->diff);
}

/*
 * Write the buffered chunk in one write transaction and commit it. The
 * transaction lives only inside this call, so a caller computing between
 * puts never holds LMDB's writer lock and speed never waits on it for long.
 */
static int
w_flush(struct store_writer *w, char *err)
{
    struct store_txn *t = NULL;
    MDB_cursor *cur = NULL;
    const unsigned char *p;
    size_t off = 0;
    MDB_val k, d;
    unsigned flags;
    int rc;

    if (w->nrows == 0)
        return 0;
    old_close(w);       /* at most one transaction of ours at a time */
    if (store_txn_begin(w->st, 1, &t, err) != 0)
        return -1;
    if ((rc = mdb_cursor_open(t->txn, w->st->batch, &cur)) != 0) {
        store_set_err(w->st, err, "mdb_cursor_open", rc);
        goto fail;
    }
    while (off < w->chunk.len) {
        p = (const unsigned char *)w->chunk.data + off;
        k.mv_size = (size_t)p[1] << 8 | p[2];
        d.mv_size = (size_t)store_be32_get(p + 3);
        k.mv_data = (void *)(p + 7);
        d.mv_data = (void *)(p + 7 + k.mv_size);
        off += 7 + k.mv_size + d.mv_size;
        flags = w->noappend || p[0] ? MDB_NOOVERWRITE : MDB_APPEND;
        rc = mdb_cursor_put(cur, &k, &d, flags);
        if (rc == MDB_KEYEXIST && flags == MDB_APPEND) {
            /* a larger key exists (should not): carry on with plain puts */
            w->noappend = 1;
            rc = mdb_cursor_put(cur, &k, &d, MDB_NOOVERWRITE);
        }
        if (rc != 0) {
            store_set_err(w->st, err, "put batch row", rc);
            goto fail;
        }
    }
    buf_clear(&w->chunk);
    w->nrows = 0;
    return store_txn_commit(t, err);     /* closes cur */
fail:
    store_txn_abort(t);
    return -1;
}

/* Buffer one encoded row of cv under prefix(level) | gkey | bucket. */
static int
w_put(struct store_writer *w, int level, const void *gkey, size_t glen,
    int64_t bucket, const void *val, char *err)
{
    unsigned char hdr[7], kb[STORE_KMAX];
    size_t plen, vlen = agg_row_size(w->cv);

    if (store_batch_prefix(kb, &plen, w->version, w->cv->name, level) != 0 ||
        plen + glen + 8 > STORE_KMAX) {
        snprintf(err, ERR_LEN, "store %s: view %s: key too long", w->st->dir,
            w->cv->name);
        return -1;
    }
    store_copy(kb + plen, gkey, glen);
    store_bucket_put(kb + plen + glen, bucket);
    /* record: unordered(1) | key length(2) | value length(4) | key | value */
    hdr[0] = (unsigned char)w->spilled;
    hdr[1] = (unsigned char)((plen + glen + 8) >> 8);
    hdr[2] = (unsigned char)(plen + glen + 8);
    store_be32_put(hdr + 3, (uint32_t)vlen);
    buf_append(&w->chunk, hdr, 7);
    buf_append(&w->chunk, kb, plen + glen + 8);
    buf_append(&w->chunk, val, vlen);
    if (++w->nrows >= CHUNK_ROWS || w->chunk.len >= CHUNK_BYTES)
        return w_flush(w, err);
    return 0;
}

static void
rollup_record(struct store_writer *w, struct buf *b, int64_t bucket,
    const int64_t *row)
{
    unsigned char hdr[2];
    unsigned char bb[8];

    hdr[0] = (unsigned char)(w->grplen >> 8);
    hdr[1] = (unsigned char)w->grplen;
    store_bucket_put(bb, bucket);
    agg_row_encode(w->cv, row, w->enc);
    buf_append(b, hdr, 2);
    buf_append(b, w->grp, w->grplen);
    buf_append(b, bb, 8);
    buf_append(b, w->enc, agg_row_size(w->cv));
}

static int
rollup_flush_buf(struct store_writer *w, struct buf *b, int level, char *err)
{
    size_t rs = agg_row_size(w->cv), off = 0, glen;
    const unsigned char *p;

    while (off < b->len) {
        p = (const unsigned char *)b->data + off;
        glen = (size_t)p[0] << 8 | p[1];
        if (w_put(w, level, p + 2, glen, store_bucket_get(p + 2 + glen),
            p + 2 + glen + 8, err) != 0)
            return -1;
        off += 2 + glen + 8 + rs;
    }
    buf_clear(b);
    return 0;
}

/* Write buffered rollups: day rows, then all-time rows, in key order. */
static int
rollup_flush(struct store_writer *w, char *err)
{
    if (rollup_flush_buf(w, &w->days, STORE_LEVEL_DAY, err) != 0 ||
        rollup_flush_buf(w, &w->alls, STORE_LEVEL_ALL, err) != 0)
        return -1;
    return 0;
}

static int64_t *
w_row(struct store_writer *w, int which)
{
    return w->rows + (size_t)which * (size_t)w->rows_slots;
}

/* The current day (and, with group, the group) ends: buffer its rollups. */
static int
rollup_close(struct store_writer *w, int group, char *err)
{
    if (w->have_day) {
        rollup_record(w, &w->days, w->day, w_row(w, 1));
        w->have_day = 0;
    }
    if (group && w->have_group) {
        rollup_record(w, &w->alls, 0, w_row(w, 2));
        w->have_group = 0;
    }
    if (w->days.len + w->alls.len > ROLLUP_MAX) {
        /*
         * Too many to hold: put them now, out of key order. The rest of this
         * view is then written with plain puts, slower but bounded in memory.
         */
        w->spilled = 1;
        if (rollup_flush(w, err) != 0)
            return -1;
    }
    return 0;
}

/* Write one base row of cv and fold it into the rollups. */
static int
w_emit(struct store_writer *w, const void *gkey, size_t glen, int64_t bucket,
    const int64_t *row, char *err)
{
    const struct view *v = w->cv;

    agg_row_encode(v, row, w->enc);
    if (w_put(w, STORE_LEVEL_BASE, gkey, glen, bucket, w->enc, err) != 0)
        return -1;
    if (!w->has_rows[w->cvi] || bucket < w->first[w->cvi])
        w->first[w->cvi] = bucket;
    if (!w->has_rows[w->cvi] || bucket > w->last[w->cvi])
        w->last[w->cvi] = bucket;
    w->has_rows[w->cvi] = 1;

    if (!w->have_group || w->grplen != glen ||
        (glen > 0 && memcmp(w->grp, gkey, glen) != 0)) {
        if (rollup_close(w, 1, err) != 0)
            return -1;
        store_copy(w->grp, gkey, glen);
        w->grplen = glen;
        w->have_group = 1;
        agg_row_init(v, w_row(w, 2));
    }
    if (v->granularity < TS_DAY_MS) {
        int64_t d = day_of(bucket);

        if (w->have_day && d != w->day && rollup_close(w, 0, err) != 0)
            return -1;
        if (!w->have_day) {
            w->have_day = 1;
            w->day = d;
            agg_row_init(v, w_row(w, 1));
        }
        if (agg_row_merge(v, w_row(w, 1), row) != 0)
            goto overflow;
    }
    if (agg_row_merge(v, w_row(w, 2), row) != 0)
        goto overflow;

    return 0;
overflow:
    snprintf(err, ERR_LEN, "store %s: view %s: sum overflow in a rollup",
        w->st->dir, v->name);
    return -1;
}

/* Compare key suffixes gkey|bucket as the store orders them. */
static int
sfx_cmp(const void *ga, size_t la, int64_t ba, const void *gb, size_t lb,
    int64_t bb)
{
    unsigned char a[STORE_KMAX + 8], b[STORE_KMAX + 8];
    size_t m;
    int c;

    store_copy(a, ga, la);
    store_bucket_put(a + la, ba);
    store_copy(b, gb, lb);
    store_bucket_put(b + lb, bb);
    m = la < lb ? la + 8 : lb + 8;
    if ((c = memcmp(a, b, m)) != 0)
        return c;
    return la < lb ? -1 : la > lb;
}

/* Fetch the next carried row of the previous version into pend. */
static int
old_fetch(struct store_writer *w, char *err)
{
    MDB_val k, d;
    int rc;

    if (w->rt == NULL && store_txn_begin(w->st, 0, &w->rt, err) != 0)
        return -1;
    if (w->old.cur == NULL &&
        (rc = mdb_cursor_open(w->rt->txn, w->st->batch, &w->old.cur)) != 0) {
        store_set_err(w->st, err, "mdb_cursor_open", rc);
        return -1;
    }
    rc = store_scan_next(&w->old, &k, &d);
    if (rc == MDB_NOTFOUND) {
        w->old_active = 0;
        return 0;
    }
    if (rc != 0) {
        store_set_err(w->st, err, "read previous version", rc);
        return -1;
    }
    if (d.mv_size != agg_row_size(w->cv)) {
        snprintf(err, ERR_LEN, "store %s: view %s: row of %zu bytes, "
            "expected %zu", w->st->dir, w->cv->name, d.mv_size,
            agg_row_size(w->cv));
        return -1;
    }
    w->pend_glen = k.mv_size - 8 - w->old.plen;
    store_copy(w->pend_g, (const unsigned char *)k.mv_data + w->old.plen,
        w->pend_glen);
    w->pend_bucket = store_bucket_get((const unsigned char *)k.mv_data +
        k.mv_size - 8);
    agg_row_decode(w->cv, d.mv_data, w_row(w, 0));
    w->have_pend = 1;
    return 0;
}

/* Emit carried rows that sort before gkey|bucket (all of them: gkey NULL). */
static int
old_until(struct store_writer *w, const void *gkey, size_t glen,
    int64_t bucket, char *err)
{
    for (;;) {
        if (!w->have_pend) {
            if (!w->old_active)
                return 0;
            if (old_fetch(w, err) != 0)
                return -1;
            if (!w->have_pend)
                return 0;
        }
        if (gkey != NULL && sfx_cmp(w->pend_g, w->pend_glen, w->pend_bucket,
            gkey, glen, bucket) >= 0)
            return 0;
        w->have_pend = 0;
        if (w_emit(w, w->pend_g, w->pend_glen, w->pend_bucket, w_row(w, 0),
            err) != 0)
            return -1;
    }
}

static void
view_start(struct store_writer *w, int vi)
{
    const struct view *v = &w->p->views[vi];
    size_t plen;

    w->cv = v;
    w->cvi = vi;
    w->lastlen = 0;
    w->have_group = w->have_day = w->have_pend = 0;
    w->spilled = 0;
    if (v->nslots > w->rows_slots) {
        w->rows_slots = v->nslots;
        w->rows = xrealloc(w->rows, 3 * (size_t)v->nslots * sizeof(int64_t));
    }
    w->enc = xrealloc(w->enc, agg_row_size(v) + 1);
    w->old_active = 0;
    old_close(w);
    memset(&w->old, 0, sizeof(w->old));
    if (w->keep_before >= 0 && w->prev != 0 &&
        store_batch_prefix(w->old.pre, &plen, w->prev, v->name,
            STORE_LEVEL_BASE) == 0) {
        w->old.plen = plen;
        w->old.from = INT64_MIN;
        w->old.to = w->keep_before;
        w->old.state = STORE_SCAN_START;
        w->old_active = 1;
    }
}

/* Finish cv: the carried rows left, then its rollups. */
static int
view_finish(struct store_writer *w, char *err)
{
    if (w->cv == NULL)
        return 0;
    if (old_until(w, NULL, 0, 0, err) != 0 ||
        rollup_close(w, 1, err) != 0 || rollup_flush(w, err) != 0)
        return -1;
    w->cv = NULL;
    w->old_active = 0;
    old_close(w);
    return 0;
}

/* Advance to view index vi (by name order), finishing the views between. */
static int
view_advance(struct store_writer *w, int vi, char *err)
{
    if (view_finish(w, err) != 0)
        return -1;
    while (w->next < w->p->nviews) {
        int i = w->order[w->next++];

        view_start(w, i);
        if (i == vi)
            return 0;
        if (view_finish(w, err) != 0)
            return -1;
    }
    return 0;
}

/*
 * Delete what an unpublished writer wrote, every version but the current
 * one, best effort: if that fails too (the disk is still full), the next
 * store_batch_reclaim() or store_writer_begin() does it.
 */
static void
writer_discard(struct store_writer *w)
{
    char err[ERR_LEN];

    if (w == NULL || !w->begun)
        return;
    old_close(w);
    (void)purge(w->st, w->prev, NULL, err);
}

static void
writer_free(struct store_writer *w)
{
    if (w == NULL)
        return;
    old_close(w);
    store_diff_free(w->diff);
    if (w->locked)
        w->st->writing = 0;
    if (w->unlock)
        store_batch_unlock(w->st);
    free(w->order);
    free(w->sigs);
    free(w->first);
    free(w->last);
    free(w->has_rows);
    free(w->rows);
    free(w->enc);
    buf_reset(&w->days);
    buf_reset(&w->alls);
    buf_reset(&w->chunk);
    free(w);
}

/* The writer's claim on st: its batch lock (taken here unless the handle
 * holds it already, as lambda-batch's does) and its one writer. */
static int
writer_lock(struct store_writer *w, char *err)
{
    struct store *st = w->st;
    int held = st->lockfd >= 0;

    if (st->writing) {
        snprintf(err, ERR_LEN, "store %s: another batch run is writing "
            "this store", st->dir);
        return -1;
    }
    if (store_batch_lock(st, err) != 0)
        return -1;
    w->unlock = !held;
    w->locked = 1;
    st->writing = 1;
    return 0;
}

int
store_writer_begin(struct store *st, const struct pipeline *p,
    int64_t keep_before, struct store_writer **out, char *err)
{
    struct store_writer *w = xcalloc(1, sizeof(*w));
    struct store_txn *t = NULL;
    char name[STORE_KMAX + 1];
    int64_t cur = 0, next = 0, old;
    int i, rc;

    w->st = st;
    w->p = p;
    w->keep_before = keep_before;
    buf_init(&w->days);
    buf_init(&w->alls);
    buf_init(&w->chunk);
    w->order = xcalloc((size_t)p->nviews + 1, sizeof(int));
    w->sigs = xcalloc((size_t)p->nviews + 1, sizeof(int64_t));
    w->first = xcalloc((size_t)p->nviews + 1, sizeof(int64_t));
    w->last = xcalloc((size_t)p->nviews + 1, sizeof(int64_t));
    w->has_rows = xcalloc((size_t)p->nviews + 1, sizeof(int));
    for (i = 0; i < p->nviews; i++) {
        int j = i;

        /* insertion sort by name: views are few */
        while (j > 0 && strcmp(p->views[w->order[j - 1]].name,
            p->views[i].name) > 0) {
            w->order[j] = w->order[j - 1];
            j--;
        }
        w->order[j] = i;
        w->sigs[i] = (int64_t)pipeline_view_signature(p, &p->views[i]);
    }

    if ((st->flags & STORE_RDONLY) != 0) {
        snprintf(err, ERR_LEN, "store %s: opened read-only", st->dir);
        goto fail;
    }
    if (writer_lock(w, err) != 0 || store_txn_begin(st, 1, &t, err) != 0)
        goto fail;
    /* cur and next stay 0 when not found */
    if (store_meta_get_i64(t, "batch.version", &cur, err) < 0 ||
        store_meta_get_i64(t, "batch.next", &next, err) < 0)
        goto fail;
    if (cur < 0 || cur > UINT32_MAX || next < 0 || next >= UINT32_MAX ||
        cur >= UINT32_MAX) {
        snprintf(err, ERR_LEN, "store %s: batch versions exhausted or "
            "corrupt (%lld, %lld)", st->dir, (long long)cur,
            (long long)next);
        goto fail;
    }
    w->prev = (uint32_t)cur;
    w->version = (uint32_t)(next > cur ? next : cur) + 1;
    if (keep_before >= 0 && cur != 0) {
        /* carried rows must mean what the new rows mean */
        for (i = 0; i < p->nviews; i++) {
            if (store_span_name(name, sizeof(name), "sig", cur,
                p->views[i].name) != 0)
                continue;
            rc = store_meta_get_i64(t, name, &old, err);
            if (rc < 0)
                goto fail;
            if (rc == STORE_NOTFOUND) {
                snprintf(err, ERR_LEN, "store %s: view %s is new since "
                    "batch version %lld: compute it whole (run without "
                    "--from)", st->dir, p->views[i].name, (long long)cur);
                goto fail;
            }
            if (rc == 0 && old != w->sigs[i]) {
                snprintf(err, ERR_LEN, "store %s: view %s changed since "
                    "batch version %lld: its whole history must be "
                    "recomputed (run without --from)", st->dir,
                    p->views[i].name, (long long)cur);
                goto fail;
            }
        }
    }
    if (store_meta_put_i64(t, "batch.next", w->version, err) != 0)
        goto fail;
    rc = store_txn_commit(t, err);
    t = NULL;
    if (rc != 0 || purge(st, w->prev, NULL, err) != 0 ||
        store_diff_begin(st, p, keep_before, &w->diff, err) != 0)
        goto fail;
    w->begun = 1;
    *out = w;
    return 0;
fail:
    store_txn_abort(t);
    writer_free(w);
    return -1;
}

static int
view_index(const struct pipeline *p, const struct view *v)
{
    int i;

    if (v >= p->views && v < p->views + p->nviews)
        return (int)(v - p->views);
    for (i = 0; i < p->nviews; i++)
        if (strcmp(p->views[i].name, v->name) == 0)
            return i;
    return -1;
}

int
store_writer_put(struct store_writer *w, const struct view *v,
    const void *gkey, size_t gklen, int64_t bucket, const int64_t *row,
    char *err)
{
    int vi;

    if (w->failed) {
        snprintf(err, ERR_LEN, "store %s: batch writer failed earlier",
            w->st->dir);
        return -1;
    }
    if ((vi = view_index(w->p, v)) < 0) {
        snprintf(err, ERR_LEN, "store %s: view %s is not in the pipeline",
            w->st->dir, v->name);
        return -1;
    }
    if (w->cv == NULL || vi != w->cvi) {
        if ((w->cv != NULL && strcmp(v->name, w->cv->name) < 0) ||
            (w->cv == NULL && w->next > 0 &&
            strcmp(v->name, w->p->views[w->order[w->next - 1]].name) <= 0)) {
            snprintf(err, ERR_LEN, "store %s: view %s out of order (views "
                "must come in name order)", w->st->dir, v->name);
            return -1;
        }
    } else if (w->lastlen > 0 &&
        sfx_cmp(w->lastput, w->lastlen - 8, store_bucket_get(w->lastput +
        w->lastlen - 8), gkey, gklen, bucket) >= 0) {
        snprintf(err, ERR_LEN, "store %s: view %s: row out of order (group "
            "key bytes, then bucket, must ascend)", w->st->dir, v->name);
        return -1;
    }
    if (w->keep_before >= 0 && bucket < w->keep_before) {
        snprintf(err, ERR_LEN, "store %s: view %s: bucket %lld before the "
            "kept range ends (%lld)", w->st->dir, v->name, (long long)bucket,
            (long long)w->keep_before);
        return -1;
    }
    if (6 + strlen(v->name) + gklen + 8 > STORE_KMAX) {
        snprintf(err, ERR_LEN, "store %s: view %s: group key of %zu bytes "
            "too long", w->st->dir, v->name, gklen);
        return -1;
    }
    if ((w->cv == NULL || vi != w->cvi) && view_advance(w, vi, err) != 0)
        return writer_fail(w);
    if (old_until(w, gkey, gklen, bucket, err) != 0 ||
        w_emit(w, gkey, gklen, bucket, row, err) != 0 ||
        store_diff_row(w->diff, v, gkey, gklen, bucket, row, err) != 0)
        return writer_fail(w);
    store_copy(w->lastput, gkey, gklen);
    store_bucket_put(w->lastput + gklen, bucket);
    w->lastlen = gklen + 8;
    return 0;
}

void
store_writer_log(struct store_writer *w, int64_t cutoff, int64_t rejects)
{
    store_diff_note(w->diff, cutoff, rejects);
}

void
store_writer_late(struct store_writer *w, const struct late_listing *l)
{
    w->late = l;
    store_diff_late(w->diff, l);
}

/* The publish log's entry for the version being published (publog.h). */
static int
log_put(struct store_writer *w, struct store_txn *t,
    const struct store_batch_info *info, char *err)
{
    struct publog_info pi;

    store_diff_info(w->diff, &pi);
    pi.version = info->version;
    pi.cutoff = info->cutoff;
    pi.published_at = info->published_at;
    pi.events = info->events;
    return store_publog_put(t, &pi, w->diff, err);
}

int
store_writer_publish(struct store_writer *w, struct store_batch_info *info,
    char *err)
{
    struct store *st = w->st;
    struct store_txn *t = NULL;
    char name[STORE_KMAX + 1];
    unsigned char span[16];
    char cleanup_err[ERR_LEN];
    int i, rc;

    if (w->failed) {
        snprintf(err, ERR_LEN, "store %s: batch writer failed earlier; "
            "nothing published", st->dir);
        goto fail;
    }
    /* every view not yet written: carried rows, rollups */
    if (view_finish(w, err) != 0)
        goto fail;
    while (w->next < w->p->nviews) {
        view_start(w, w->order[w->next++]);
        if (view_finish(w, err) != 0)
            goto fail;
    }
    if (w_flush(w, err) != 0 || store_diff_finish(w->diff, err) != 0)
        goto fail;

    info->version = w->version;
    info->published_at = now_wall_ms();
    if (store_txn_begin(st, 1, &t, err) != 0)
        goto fail;
    if (store_meta_put_i64(t, "batch.version", info->version, err) != 0 ||
        store_meta_put_i64(t, "batch.cutoff", info->cutoff, err) != 0 ||
        store_meta_put_i64(t, "batch.published_at", info->published_at,
            err) != 0 ||
        store_meta_put_i64(t, "batch.events", info->events, err) != 0 ||
        log_put(w, t, info, err) != 0 ||
        store_late_clear(t, info->cutoff, w->late, NULL, NULL, err) != 0)
        goto fail;
    for (i = 0; i < w->p->nviews; i++) {
        const char *vn = w->p->views[i].name;

        if (store_span_name(name, sizeof(name), "sig", w->version, vn) != 0 ||
            store_meta_put_i64(t, name, w->sigs[i], err) != 0)
            goto fail;
        if (!w->has_rows[i])
            continue;
        store_le64_put(span, w->first[i]);
        store_le64_put(span + 8, w->last[i]);
        if (store_span_name(name, sizeof(name), "span", w->version, vn) != 0 ||
            store_meta_put(t, name, span, 16, err) != 0)
            goto fail;
    }
    if (w->hook != NULL && w->hook(w->hook_arg, t, info, w->prev, err) != 0)
        goto fail;
    rc = store_txn_commit(t, err);
    t = NULL;
    if (rc != 0)
        goto fail;
    /*
     * Published. The previous version's rows go now, in bounded
     * transactions; if this fails or is killed, the next
     * store_writer_begin() finishes it. Not a failure of the publish.
     */
    (void)purge(st, w->version, NULL, cleanup_err);
    writer_free(w);
    return 0;
fail:
    store_txn_abort(t);
    writer_discard(w);
    writer_free(w);
    return -1;
}

void
store_writer_on_publish(struct store_writer *w,
    int (*fn)(void *arg, struct store_txn *t,
        const struct store_batch_info *info, int64_t prev, char *err),
    void *arg)
{
    w->hook = fn;
    w->hook_arg = arg;
}

void
store_writer_abort(struct store_writer *w)
{
    writer_discard(w);
    writer_free(w);
}
