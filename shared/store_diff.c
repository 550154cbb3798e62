/* store_diff.c -- a new batch version against the current one, in one walk */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <lmdb.h>

#include "shared/agg.h"
#include "shared/buf.h"
#include "shared/err.h"
#include "shared/late.h"
#include "shared/mem.h"
#include "shared/publog.h"
#include "shared/store.h"
#include "shared/store_int.h"

/* How the rows of one view are diffed. */
enum {
    MODE_COMPARE,       /* against the previous version's rows */
    MODE_ADD,           /* nothing to compare with: every row is added */
    MODE_REPLACE        /* redefined: every row added, every old one removed */
};

struct dview {
    struct publog_view pv;
    char              *name;
    struct buf         det[PUBLOG_NKINDS];  /* publog_entry records */
};

struct store_diff {
    struct store          *st;          /* NULL: no store, no previous */
    const struct pipeline *p;
    uint32_t               prev;        /* the previous version, 0: none */
    int64_t                prev_cutoff;
    int64_t                keep_before;
    int64_t                cutoff;
    int64_t                rejects;
    const struct late_listing *late;    /* store_diff_late(), or NULL */
    struct dview          *dv;          /* p's views by name, then dropped */
    int                   *order;       /* p->views index of dv[i] */
    int                    ndv;
    int                    next;        /* dv index of the next view */
    int                    finished;
    /* the view being diffed */
    struct dview          *cur;
    const struct view     *cv;
    int                    mode;
    int                    why;         /* of added rows, but in compare */
    size_t                 rowsize;
    unsigned char          last[STORE_KMAX + 8];    /* gkey|bucket of the
                                                   last new row: order */
    size_t                 lastlen;
    /* the previous version's rows of cv, read in key order */
    struct store_txn      *rt;
    struct store_scan      old;
    int                    old_active;
    int                    have_old;
    unsigned char          ok[STORE_KMAX];      /* its gkey|bucket */
    size_t                 oklen;
    unsigned char         *orow;        /* its row, encoded */
    unsigned char         *nrow;        /* the new row, encoded */
    size_t                 rowcap;
};

/* Compare suffixes gkey|bucket(8) as the store orders the keys. */
static int
sfx_cmp(const unsigned char *a, size_t la, const unsigned char *b, size_t lb)
{
    int c = memcmp(a, b, la < lb ? la : lb);

    if (c != 0)
        return c;
    return la < lb ? -1 : la > lb;
}

/* Count a bucket of kind in dv, and detail it while there is room:
 * why(1) | gkey length(2) | gkey | bucket(8) | before row | after row. */
static void
note(struct dview *dv, int kind, int why, const unsigned char *sfx,
    size_t slen, const void *before, const void *after)
{
    struct buf *b = &dv->det[kind];
    unsigned char hdr[3];

    dv->pv.why[why]++;
    if (dv->pv.counts[kind]++ >= PUBLOG_DETAILS ||
        (kind != PUBLOG_ADDED && before == NULL))
        return;
    hdr[0] = (unsigned char)why;
    hdr[1] = (unsigned char)((slen - 8) >> 8);
    hdr[2] = (unsigned char)(slen - 8);
    buf_append(b, hdr, 3);
    buf_append(b, sfx, slen);
    if (kind != PUBLOG_ADDED)
        buf_append(b, before, dv->pv.rowsize);
    if (kind != PUBLOG_REMOVED)
        buf_append(b, after, dv->pv.rowsize);
}

static int
removed_why(const struct store_diff *d, const unsigned char *sfx, size_t slen)
{
    return store_bucket_get(sfx + slen - 8) >= d->cutoff ?
        PUBLOG_WHY_CUTOFF : PUBLOG_WHY_GONE;
}

static int
changed_why(const struct store_diff *d)
{
    return d->keep_before >= 0 ? PUBLOG_WHY_BACKFILL : PUBLOG_WHY_LATE;
}

static int
added_why(const struct store_diff *d, int64_t bucket)
{
    if (d->mode != MODE_COMPARE)
        return d->why;
    return bucket >= d->prev_cutoff ? PUBLOG_WHY_NEW : changed_why(d);
}

static int read_txn(struct store_diff *d, char *err);

/* Late data (why) in a bucket whose late events the publish clears from
 * the ledger is "late events absorbed". Returns 0 and *out, or -1. */
static int
late_why(struct store_diff *d, int why, const void *gkey, size_t gklen,
    int64_t bucket, int *out, char *err)
{
    int64_t events = 0;

    *out = why;
    if (why != PUBLOG_WHY_LATE || d->late == NULL || d->st == NULL)
        return 0;
    if (read_txn(d, err) != 0 || store_late_absorbed(d->rt, d->cv, gkey,
        gklen, bucket, d->cutoff, d->late, &events, err) != 0)
        return -1;
    if (events > 0)
        *out = PUBLOG_WHY_ABSORBED;
    return 0;
}

/* ---- the previous version's rows ---- */

void
store_diff_pause(struct store_diff *d)
{
    if (d == NULL)
        return;
    if (d->old.cur != NULL) {
        mdb_cursor_close(d->old.cur);   /* read txns do not close cursors */
        d->old.cur = NULL;
        if (d->old.state == STORE_SCAN_NEXT)
            d->old.state = STORE_SCAN_RESEEK;
    }
    store_txn_abort(d->rt);
    d->rt = NULL;
}

static int
read_txn(struct store_diff *d, char *err)
{
    if (d->rt == NULL && store_txn_begin(d->st, 0, &d->rt, err) != 0)
        return -1;
    return 0;
}

/* The next old row of cv into ok/orow (have_old), or none left. */
static int
old_fetch(struct store_diff *d, char *err)
{
    MDB_val k, v;
    int rc;

    d->have_old = 0;
    if (!d->old_active)
        return 0;
    if (read_txn(d, err) != 0)
        return -1;
    if (d->old.cur == NULL &&
        (rc = mdb_cursor_open(d->rt->txn, d->st->batch, &d->old.cur)) != 0) {
        store_set_err(d->st, err, "mdb_cursor_open", rc);
        return -1;
    }
    rc = store_scan_next(&d->old, &k, &v);
    if (rc == MDB_NOTFOUND) {
        d->old_active = 0;
        return 0;
    }
    if (rc != 0) {
        store_set_err(d->st, err, "read the previous version", rc);
        return -1;
    }
    if (d->mode == MODE_COMPARE && v.mv_size != d->rowsize) {
        snprintf(err, ERR_LEN, "store %s: view %s: row of %zu bytes in "
            "version %u, expected %zu", d->st->dir, d->cv->name, v.mv_size,
            d->prev, d->rowsize);
        return -1;
    }
    d->oklen = k.mv_size - d->old.plen;
    memcpy(d->ok, (const unsigned char *)k.mv_data + d->old.plen, d->oklen);
    if (d->mode == MODE_COMPARE)
        memcpy(d->orow, v.mv_data, d->rowsize);
    d->have_old = 1;
    return 0;
}

/* Note the pending old row as removed, and forget it. */
static void
old_removed(struct store_diff *d)
{
    if (d->mode == MODE_COMPARE)
        note(d->cur, PUBLOG_REMOVED, removed_why(d, d->ok, d->oklen), d->ok,
            d->oklen, d->orow, NULL);
    else
        note(d->cur, PUBLOG_REMOVED, d->why, d->ok, d->oklen, NULL, NULL);
    d->have_old = 0;
}

/* ---- views ---- */

/* The previous version's meta "KIND/PREV/VIEW": 0, STORE_NOTFOUND, -1. */
static int
prev_meta(struct store_diff *d, const char *kind, const char *view,
    char *err)
{
    char name[STORE_KMAX + 1];
    const void *val;
    size_t len;

    if (store_span_name(name, sizeof(name), kind, d->prev, view) != 0)
        return STORE_NOTFOUND;
    return store_meta_get(d->rt, name, &val, &len, err);
}

static int
view_start(struct store_diff *d, int i, char *err)
{
    struct dview *dv = &d->dv[i];
    const struct view *v = &d->p->views[d->order[i]];
    char name[STORE_KMAX + 1];
    int64_t sig;
    size_t plen;
    int rs, rp;

    d->cur = dv;
    d->cv = v;
    d->rowsize = agg_row_size(v);
    if (d->rowsize > d->rowcap) {
        d->rowcap = d->rowsize;
        d->orow = xrealloc(d->orow, d->rowcap);
        d->nrow = xrealloc(d->nrow, d->rowcap);
    }
    d->lastlen = 0;
    d->have_old = d->old_active = 0;
    memset(&d->old, 0, sizeof(d->old));
    d->mode = MODE_ADD;
    d->why = PUBLOG_WHY_NEW;
    if (d->prev == 0)
        return 0;
    if (read_txn(d, err) != 0)
        return -1;
    rs = store_span_name(name, sizeof(name), "sig", d->prev, v->name) != 0 ?
        STORE_NOTFOUND : store_meta_get_i64(d->rt, name, &sig, err);
    if (rs < 0 || (rp = prev_meta(d, "span", v->name, err)) < 0)
        return -1;
    if (rs == 0 && (uint64_t)sig != dv->pv.sig) {
        d->mode = MODE_REPLACE;
        d->why = PUBLOG_WHY_REDEFINED;
    } else if (rs == STORE_NOTFOUND && rp == STORE_NOTFOUND) {
        d->why = PUBLOG_WHY_VIEW_ADDED;
        return 0;
    } else {
        d->mode = MODE_COMPARE;
    }
    if (store_batch_prefix(d->old.pre, &plen, d->prev, v->name,
        STORE_LEVEL_BASE) != 0)
        return 0;       /* a name no key can hold has no rows */
    d->old.plen = plen;
    d->old.from = d->keep_before >= 0 ? d->keep_before : INT64_MIN;
    d->old.to = INT64_MAX;
    d->old.state = STORE_SCAN_START;
    d->old_active = 1;
    return 0;
}

/* Finish the current view: the old rows left over were removed. */
static int
view_end(struct store_diff *d, char *err)
{
    struct dview *dv = d->cur;

    if (dv == NULL)
        return 0;
    for (;;) {
        if (!d->have_old && old_fetch(d, err) != 0)
            return -1;
        if (!d->have_old)
            break;
        old_removed(d);
    }
    for (int k = 0; k < PUBLOG_NKINDS; k++) {
        dv->pv.details[k] = (const unsigned char *)dv->det[k].data;
        dv->pv.detlen[k] = dv->det[k].len;
    }
    if (d->old.cur != NULL) {
        mdb_cursor_close(d->old.cur);
        d->old.cur = NULL;
    }
    d->cur = NULL;
    d->cv = NULL;
    return 0;
}

/* Finish the current view and start the next ones up to name (NULL: all),
 * finishing those passed over (no new rows). */
static int
advance(struct store_diff *d, const char *name, char *err)
{
    if (view_end(d, err) != 0)
        return -1;
    while (d->next < d->p->nviews) {
        int i = d->next++;

        if (view_start(d, i, err) != 0)
            return -1;
        if (name != NULL && strcmp(d->dv[i].name, name) == 0)
            return 0;
        if (view_end(d, err) != 0)
            return -1;
    }
    if (name == NULL)
        return 0;
    snprintf(err, ERR_LEN, "diff: view %s out of order or not in the "
        "pipeline", name);
    return -1;
}

static struct dview *
dview_add(struct store_diff *d, const char *name, uint64_t sig, size_t rowsize)
{
    struct dview *dv;

    d->dv = xrealloc(d->dv, (size_t)(d->ndv + 1) * sizeof(*d->dv));
    dv = &d->dv[d->ndv++];
    memset(dv, 0, sizeof(*dv));
    dv->name = xstrdup(name);
    dv->pv.name = dv->name;
    dv->pv.sig = sig;
    dv->pv.rowsize = rowsize;
    for (int k = 0; k < PUBLOG_NKINDS; k++)
        buf_init(&dv->det[k]);
    return dv;
}

/* Names of the previous version's views (its "sig/PREV/NAME") that p has
 * not, with their signatures. */
struct gone {
    struct store_diff *d;
    size_t             plen;
    char             **names;
    int64_t           *sigs;
    int                n;
};

static int
gone_one(void *arg, const char *name, const void *val, size_t len)
{
    struct gone *g = arg;
    const char *view = name + g->plen;

    if (len != 8 || pipeline_view(g->d->p, view) != NULL)
        return 0;
    g->names = xrealloc(g->names, (size_t)(g->n + 1) * sizeof(char *));
    g->sigs = xrealloc(g->sigs, (size_t)(g->n + 1) * sizeof(int64_t));
    g->names[g->n] = xstrdup(view);
    g->sigs[g->n++] = store_le64_get(val);
    return 0;
}

/* Every base row of a view p has dropped was removed: count them. */
static int
dropped(struct store_diff *d, char *err)
{
    struct gone g = {d, 0, NULL, NULL, 0};
    char prefix[32];
    size_t plen;
    int rc = 0;

    if (d->prev == 0)
        return 0;
    snprintf(prefix, sizeof(prefix), "sig/%u/", d->prev);
    g.plen = strlen(prefix);
    if (read_txn(d, err) != 0 ||
        store_meta_scan(d->rt, prefix, gone_one, &g, err) != 0)
        rc = -1;
    for (int i = 0; rc == 0 && i < g.n; i++) {
        d->cur = dview_add(d, g.names[i], (uint64_t)g.sigs[i], 0);
        d->mode = MODE_REPLACE;
        d->why = PUBLOG_WHY_DROPPED;
        d->have_old = d->old_active = 0;
        memset(&d->old, 0, sizeof(d->old));
        if (store_batch_prefix(d->old.pre, &plen, d->prev, g.names[i],
            STORE_LEVEL_BASE) == 0) {
            d->old.plen = plen;
            d->old.from = INT64_MIN;
            d->old.to = INT64_MAX;
            d->old.state = STORE_SCAN_START;
            d->old_active = 1;
        }
        rc = view_end(d, err);
    }
    for (int i = 0; i < g.n; i++)
        free(g.names[i]);
    free(g.names);
    free(g.sigs);
    return rc;
}

/* ---- the interface ---- */

int
store_diff_begin(struct store *st, const struct pipeline *p,
    int64_t keep_before, struct store_diff **out, char *err)
{
    struct store_diff *d = xcalloc(1, sizeof(*d));
    struct store_batch_info cur;
    int rc;

    d->st = st;
    d->p = p;
    d->keep_before = keep_before;
    d->cutoff = INT64_MAX;
    d->rejects = -1;
    d->prev_cutoff = INT64_MIN;
    d->order = xcalloc((size_t)p->nviews + 1, sizeof(int));
    for (int i = 0; i < p->nviews; i++) {
        int j = i;

        /* insertion sort by name: views are few */
        while (j > 0 && strcmp(p->views[d->order[j - 1]].name,
            p->views[i].name) > 0) {
            d->order[j] = d->order[j - 1];
            j--;
        }
        d->order[j] = i;
    }
    for (int i = 0; i < p->nviews; i++) {
        const struct view *v = &p->views[d->order[i]];

        dview_add(d, v->name, pipeline_view_signature(p, v), agg_row_size(v));
    }
    if (st != NULL) {
        if (read_txn(d, err) != 0)
            goto fail;
        rc = store_batch_current(d->rt, &cur, err);
        store_diff_pause(d);
        if (rc < 0)
            goto fail;
        if (rc == 0 && (cur.version < 1 || cur.version > UINT32_MAX)) {
            snprintf(err, ERR_LEN, "store %s: batch version %lld is "
                "corrupt", st->dir, (long long)cur.version);
            goto fail;
        }
        if (rc == 0) {
            d->prev = (uint32_t)cur.version;
            d->prev_cutoff = cur.cutoff;
        }
    }
    *out = d;
    return 0;
fail:
    store_diff_free(d);
    return -1;
}

void
store_diff_note(struct store_diff *d, int64_t cutoff, int64_t rejects)
{
    d->cutoff = cutoff;
    d->rejects = rejects;
}

void
store_diff_late(struct store_diff *d, const struct late_listing *l)
{
    d->late = l;
}

int
store_diff_row(struct store_diff *d, const struct view *v,
    const void *gkey, size_t gklen, int64_t bucket, const int64_t *row,
    char *err)
{
    unsigned char nk[STORE_KMAX + 8];
    size_t nlen = gklen + 8;
    int c, why;

    if (d->finished) {
        snprintf(err, ERR_LEN, "diff: row after the end");
        return -1;
    }
    if (v != d->cv && (d->cv == NULL || strcmp(v->name, d->cv->name) != 0) &&
        advance(d, v->name, err) != 0)
        return -1;
    if (gklen > STORE_KMAX) {
        snprintf(err, ERR_LEN, "diff: view %s: group key of %zu bytes",
            v->name, gklen);
        return -1;
    }
    store_copy(nk, gkey, gklen);
    store_bucket_put(nk + gklen, bucket);
    if (d->lastlen > 0 && sfx_cmp(d->last, d->lastlen, nk, nlen) >= 0) {
        snprintf(err, ERR_LEN, "diff: view %s: row out of order", v->name);
        return -1;
    }
    memcpy(d->last, nk, nlen);
    d->lastlen = nlen;
    agg_row_encode(d->cv, row, d->nrow);
    while (d->mode == MODE_COMPARE) {
        if (!d->have_old && old_fetch(d, err) != 0)
            return -1;
        if (!d->have_old)
            break;
        c = sfx_cmp(d->ok, d->oklen, nk, nlen);
        if (c < 0) {
            old_removed(d);
            continue;
        }
        if (c > 0)
            break;
        d->have_old = 0;
        if (memcmp(d->orow, d->nrow, d->rowsize) == 0)
            return 0;
        if (late_why(d, changed_why(d), gkey, gklen, bucket, &why, err) != 0)
            return -1;
        note(d->cur, PUBLOG_CHANGED, why, nk, nlen, d->orow, d->nrow);
        return 0;
    }
    if (late_why(d, added_why(d, bucket), gkey, gklen, bucket, &why, err) != 0)
        return -1;
    note(d->cur, PUBLOG_ADDED, why, nk, nlen, NULL, d->nrow);
    return 0;
}

int
store_diff_finish(struct store_diff *d, char *err)
{
    if (d->finished)
        return 0;
    if (advance(d, NULL, err) != 0 || dropped(d, err) != 0) {
        store_diff_pause(d);
        return -1;
    }
    d->finished = 1;
    store_diff_pause(d);
    return 0;
}

void
store_diff_info(const struct store_diff *d, struct publog_info *info)
{
    memset(info, 0, sizeof(*info));
    info->previous = d->prev;
    info->previous_cutoff = d->prev_cutoff;
    info->rejects = d->rejects;
    info->from = d->keep_before >= 0 ? d->keep_before : -1;
    for (int i = 0; i < d->ndv; i++)
        for (int k = 0; k < PUBLOG_NKINDS; k++)
            info->counts[k] += d->dv[i].pv.counts[k];
}

int
store_diff_nviews(const struct store_diff *d)
{
    return d->ndv;
}

const struct publog_view *
store_diff_view(const struct store_diff *d, int i)
{
    return &d->dv[i].pv;
}

void
store_diff_free(struct store_diff *d)
{
    if (d == NULL)
        return;
    store_diff_pause(d);
    for (int i = 0; i < d->ndv; i++) {
        free(d->dv[i].name);
        for (int k = 0; k < PUBLOG_NKINDS; k++)
            buf_reset(&d->dv[i].det[k]);
    }
    free(d->dv);
    free(d->order);
    free(d->orow);
    free(d->nrow);
    free(d);
}
