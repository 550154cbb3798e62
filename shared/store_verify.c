/* store_verify.c -- the full walk of a store (lambda-batch --verify), in a child process */
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <lmdb.h>

#include "shared/agg.h"
#include "shared/buf.h"
#include "shared/err.h"
#include "shared/key.h"
#include "shared/mem.h"
#include "shared/store.h"
#include "shared/store_int.h"
#include "shared/ts.h"

/*
 * The child walks and writes one line per finding to a pipe: "D msg" damage,
 * "N msg" a note, "E msg" it could not walk, and last "C" with its counts.
 * Where it is (database, entries read, key) it keeps in memory shared with
 * the parent, which reports it when the child dies of a signal: LMDB
 * trusts its pages, and a damaged one can make it read out of bounds or
 * fail an assert.
 *
 * The free list is read as mdb_stat -f reads it: database 0, keyed by
 * transaction id, each value a page-number list (count, then the pages),
 * LMDB's IDL.
 */

enum { DB_MAIN, DB_FREE, DB_META, DB_BATCH, DB_SPEED, DB_LATE, NDB };
static const char *const dbname[NDB] = {"main", "free", "meta", "batch",
    "speed", "late"};

struct where {
    int           db;
    int64_t       n;                /* entries of db read */
    unsigned char key[32];          /* the last key read, its first bytes */
    size_t        klen;
};

/* The (version, view) of the batch rows being walked. */
struct seg {
    int                on;
    uint32_t           version;
    char               view[STORE_KMAX + 1];
    const struct view *v;           /* checked against it, or NULL */
    int64_t            rows, base;
    int64_t            first, last; /* base buckets */
    MDB_cursor        *c[3];        /* [1] day rows, [2] all-time rows */
    int                cstate[3];   /* 0 unread, 1 at a row, 2 past */
    unsigned char      pre[3][STORE_KMAX];
    size_t             plen[3];
    int                have_grp, have_day;
    unsigned char      grp[STORE_KMAX];
    size_t             glen;
    int64_t            day;
    int64_t           *acc[3];      /* [0] decoded row, [1] day, [2] all */
    int64_t           *tmp;
};

struct walk {
    struct store          *st;
    struct store_txn      *t;
    const struct pipeline *p;
    FILE                  *out;
    struct where          *at;
    struct store_verify    n;
    int64_t                shown[NDB];
    uint64_t               last_pgno;
    struct seg             seg;
    uint32_t               other;       /* an unpublished version seen */
    int64_t                other_rows;  /* and its rows so far */
    char                   sview[STORE_KMAX + 1]; /* speed: view of the */
    const struct view     *sv;          /* last row, checked against sv */
    struct buf             scratch;
};

/* ---- findings ---- */

static void finding(struct walk *w, int db, int kind, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static void
finding(struct walk *w, int db, int kind, const char *fmt, ...)
{
    char msg[ERR_LEN];
    va_list ap;

    if (kind == STORE_VERIFY_DAMAGE)
        w->n.damage++;
    else
        w->n.notes++;
    if (w->shown[db]++ >= STORE_VERIFY_SHOWN)
        return;
    va_start(ap, fmt);
    (void)vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    for (char *c = msg; *c != '\0'; c++)
        if (*c == '\n')
            *c = ' ';
    fprintf(w->out, "%c %s\n", kind == STORE_VERIFY_DAMAGE ? 'D' : 'N', msg);
    fflush(w->out);
}

/* err of a store_check_*() without "store DIR: " and what to do. */
static const char *
bare(const char *dir, char *err)
{
    size_t dl = strlen(dir), fl = strlen("; " STORE_DAMAGED_FIX);
    size_t n = strlen(err);
    char *s = err;

    if (n >= fl && strcmp(err + n - fl, "; " STORE_DAMAGED_FIX) == 0)
        err[n - fl] = '\0';
    if (strncmp(s, "store ", 6) == 0 && strncmp(s + 6, dir, dl) == 0 &&
        strncmp(s + 6 + dl, ": ", 2) == 0)
        s += 8 + dl;
    return s;
}

static void
at_key(struct walk *w, int db, const MDB_val *k)
{
    w->at->db = db;
    w->at->n++;
    w->at->klen = k->mv_size < sizeof(w->at->key) ? k->mv_size :
        sizeof(w->at->key);
    memcpy(w->at->key, k->mv_data, w->at->klen);
}

/* Keys must ascend as LMDB orders them: memcmp, then the shorter first. A
 * key that does not is damage, and the walk of db stops there (a damaged
 * page could lead it round in a loop). */
static int
in_order(struct walk *w, int db, unsigned char *prev, size_t *plen,
    const MDB_val *k)
{
    size_t m = *plen < k->mv_size ? *plen : k->mv_size;
    int c;

    if (k->mv_size > STORE_KMAX) {
        finding(w, db, STORE_VERIFY_DAMAGE, "database %s: a key of %zu "
            "bytes, longer than LMDB's keys: a page is damaged", dbname[db],
            k->mv_size);
        return 0;
    }
    if (w->at->n > 1) {
        c = memcmp(prev, k->mv_data, m);
        if (c > 0 || (c == 0 && *plen >= k->mv_size)) {
            finding(w, db, STORE_VERIFY_DAMAGE, "database %s: keys out of "
                "order after entry %lld: a page is damaged", dbname[db],
                (long long)w->at->n - 1);
            return 0;
        }
    }
    memcpy(prev, k->mv_data, k->mv_size);
    *plen = k->mv_size;
    return 1;
}

/* Every entry was read: LMDB's count agrees. */
static void
count_check(struct walk *w, int db, MDB_dbi dbi, int64_t n, int whole)
{
    MDB_stat ms;

    if (whole && mdb_stat(w->t->txn, dbi, &ms) == 0 &&
        (uint64_t)n != (uint64_t)ms.ms_entries)
        finding(w, db, STORE_VERIFY_DAMAGE, "database %s: %lld entries "
            "read, LMDB counts %llu: a page is damaged", dbname[db],
            (long long)n, (unsigned long long)ms.ms_entries);
}

/* Open a cursor on dbi and walk it: fn per entry, 0 to go on. */
static int64_t
walk_db(struct walk *w, int db, MDB_dbi dbi,
    int (*fn)(struct walk *w, const MDB_val *k, const MDB_val *d))
{
    unsigned char prev[STORE_KMAX];
    size_t plen = 0;
    MDB_cursor *cur;
    MDB_val k, d;
    int64_t n = 0;
    int rc, whole = 1;

    w->at->db = db;
    w->at->n = 0;
    if ((rc = mdb_cursor_open(w->t->txn, dbi, &cur)) != 0) {
        finding(w, db, STORE_VERIFY_DAMAGE, "database %s: %s", dbname[db],
            mdb_strerror(rc));
        return 0;
    }
    for (rc = mdb_cursor_get(cur, &k, &d, MDB_FIRST); rc == 0;
        rc = mdb_cursor_get(cur, &k, &d, MDB_NEXT)) {
        at_key(w, db, &k);
        if ((db != DB_FREE && !in_order(w, db, prev, &plen, &k)) ||
            fn(w, &k, &d) != 0) {
            whole = 0;
            break;
        }
        n++;
    }
    if (rc != 0 && rc != MDB_NOTFOUND) {
        finding(w, db, STORE_VERIFY_DAMAGE, "database %s: after entry %lld: "
            "%s", dbname[db], (long long)n, mdb_strerror(rc));
        whole = 0;
    }
    mdb_cursor_close(cur);
    count_check(w, db, dbi, n, whole);
    return n;
}

/* ---- main, free, meta ---- */

static int
main_entry(struct walk *w, const MDB_val *k, const MDB_val *d)
{
    static const char *const known[] = {"batch", "meta", "speed", "late"};

    (void)d;
    for (size_t i = 0; i < 4; i++)
        if (k->mv_size == strlen(known[i]) &&
            memcmp(k->mv_data, known[i], k->mv_size) == 0)
            return 0;
    finding(w, DB_MAIN, STORE_VERIFY_NOTE, "database %.*s: not one of "
        "lambdakit's", (int)(k->mv_size < 64 ? k->mv_size : 64),
        (const char *)k->mv_data);
    return 0;
}

static int
free_entry(struct walk *w, const MDB_val *k, const MDB_val *d)
{
    const unsigned char *p = d->mv_data;
    uint64_t n, pg;

    if (k->mv_size != sizeof(size_t) || d->mv_size < sizeof(size_t) ||
        d->mv_size % sizeof(size_t) != 0) {
        finding(w, DB_FREE, STORE_VERIFY_DAMAGE, "free list: an entry of "
            "%zu and %zu bytes: a page is damaged", k->mv_size, d->mv_size);
        return 1;
    }
    memcpy(&n, p, sizeof(n));
    if (n != d->mv_size / sizeof(size_t) - 1) {
        finding(w, DB_FREE, STORE_VERIFY_DAMAGE, "free list: an entry "
            "counts %llu pages in %zu bytes: a page is damaged",
            (unsigned long long)n, d->mv_size);
        return 1;
    }
    for (uint64_t i = 1; i <= n; i++) {
        memcpy(&pg, p + i * sizeof(size_t), sizeof(pg));
        if (pg < 2 || pg > w->last_pgno) {
            finding(w, DB_FREE, STORE_VERIFY_DAMAGE, "free list: page %llu "
                "is outside the file's pages (2 to %llu): LMDB would hand "
                "out a page in use", (unsigned long long)pg,
                (unsigned long long)w->last_pgno);
            return 1;
        }
    }
    w->n.free_pages += (int64_t)n;
    return 0;
}

static int
meta_entry(struct walk *w, const MDB_val *k, const MDB_val *d)
{
    char name[STORE_KMAX + 1], err[ERR_LEN];
    int rc;

    memcpy(name, k->mv_data, k->mv_size);
    name[k->mv_size] = '\0';
    for (size_t i = 0; i < k->mv_size; i++)
        if (name[i] < 0x20 || name[i] == 0x7f)
            name[i] = '?';
    rc = store_check_meta_entry(w->st, name, d->mv_data, d->mv_size, 1, err);
    if (rc < 0)
        finding(w, DB_META, STORE_VERIFY_DAMAGE, "%s", bare(w->st->dir, err));
    else if (rc == 1)
        finding(w, DB_META, STORE_VERIFY_NOTE, "meta %.100s: a name this "
            "build does not know", name);
    return 0;
}

/* ---- rows ---- */

static const struct view *
view_named(const struct pipeline *p, const char *name)
{
    for (int i = 0; i < p->nviews; i++)
        if (strcmp(p->views[i].name, name) == 0)
            return &p->views[i];
    return NULL;
}

/* The signature recorded under name is v's: 1, 0 when another, -1 none. */
static int
signed_by(struct walk *w, const char *name, const struct view *v)
{
    int64_t sig;
    char err[ERR_LEN];

    if (store_meta_get_i64(w->t, name, &sig, err) != 0)
        return -1;
    return sig == (int64_t)pipeline_view_signature(w->p, v);
}

/* "{"customer":"c1"}" of group key g of v into w->scratch, or "(bad
 * key)"; returns NULL when it does not decode. */
static const char *
group_text(struct walk *w, const struct view *v, const void *g, size_t glen)
{
    buf_clear(&w->scratch);
    if (key_to_json(&w->scratch, w->p, v, g, glen) != 0)
        return NULL;
    if (w->scratch.len > 80) {
        w->scratch.len = 77;
        buf_puts(&w->scratch, "...");
    }
    buf_putc(&w->scratch, '\0');
    return w->scratch.data;
}

/* Checks every row of a view shares: size, group key, bucket alignment. */
static int
row_shape(struct walk *w, int db, const char *where, const struct view *v,
    const void *g, size_t glen, int64_t bucket, int64_t align,
    const MDB_val *d)
{
    if (d->mv_size != agg_row_size(v)) {
        finding(w, db, STORE_VERIFY_DAMAGE, "%s: a row of %zu bytes, the "
            "view's rows are %zu", where, d->mv_size, agg_row_size(v));
        return -1;
    }
    if (group_text(w, v, g, glen) == NULL) {
        finding(w, db, STORE_VERIFY_DAMAGE, "%s: a group key that does not "
            "decode", where);
        return -1;
    }
    if (align > 0 ? ts_bucket(bucket, align) != bucket : bucket != 0) {
        finding(w, db, STORE_VERIFY_DAMAGE, "%s, group %s: bucket %lld is "
            "not a bucket of the view", where, group_text(w, v, g, glen),
            (long long)bucket);
        return -1;
    }
    return 0;
}

static void
seg_where(struct walk *w, char *buf, size_t size)
{
    snprintf(buf, size, "batch version %u, view %.100s",
        (unsigned)w->seg.version, w->seg.view);
}

/*
 * The rollup row of level lvl that the base rows of the current group
 * (and day) sum to must be the next row of that level: rows before it are
 * rollups without base rows, a row past it means it is missing.
 */
static void
rollup_expect(struct walk *w, int lvl, int64_t bucket)
{
    struct seg *s = &w->seg;
    const struct view *v = s->v;
    unsigned char want[STORE_KMAX];
    size_t wl = s->plen[lvl] + s->glen + 8, m;
    char where[ERR_LEN];
    const char *what = lvl == STORE_LEVEL_DAY ? "day" : "all-time";
    MDB_val k, d;
    int rc, c;

    if (s->c[lvl] == NULL)
        return;
    memcpy(want, s->pre[lvl], s->plen[lvl]);
    store_copy(want + s->plen[lvl], s->grp, s->glen);
    store_bucket_put(want + s->plen[lvl] + s->glen, bucket);
    seg_where(w, where, sizeof(where));
    for (;;) {
        if (s->cstate[lvl] == 2) {
            rc = MDB_NOTFOUND;
        } else {
            k.mv_data = s->pre[lvl];
            k.mv_size = s->plen[lvl];
            rc = mdb_cursor_get(s->c[lvl], &k, &d,
                s->cstate[lvl] == 0 ? MDB_SET_RANGE : MDB_GET_CURRENT);
            if (rc == 0 && (k.mv_size < s->plen[lvl] ||
                memcmp(k.mv_data, s->pre[lvl], s->plen[lvl]) != 0))
                rc = MDB_NOTFOUND;
        }
        if (rc != 0) {
            s->cstate[lvl] = 2;
            c = 1;
        } else {
            s->cstate[lvl] = 1;
            m = k.mv_size < wl ? k.mv_size : wl;
            c = memcmp(k.mv_data, want, m);
            if (c == 0)
                c = k.mv_size < wl ? -1 : k.mv_size > wl;
        }
        if (c > 0) {
            finding(w, DB_BATCH, STORE_VERIFY_DAMAGE, "%s, group %s: the %s "
                "row of its base rows is missing", where,
                group_text(w, v, s->grp, s->glen), what);
            return;
        }
        if (c < 0) {
            finding(w, DB_BATCH, STORE_VERIFY_DAMAGE, "%s: a %s row without "
                "base rows", where, what);
            if ((rc = mdb_cursor_get(s->c[lvl], &k, &d, MDB_NEXT)) != 0)
                s->cstate[lvl] = 2;
            continue;
        }
        break;
    }
    if (d.mv_size != agg_row_size(v)) {
        finding(w, DB_BATCH, STORE_VERIFY_DAMAGE, "%s, group %s: a %s row "
            "of %zu bytes", where, group_text(w, v, s->grp, s->glen), what,
            d.mv_size);
    } else {
        agg_row_decode(v, d.mv_data, s->tmp);
        if (memcmp(s->tmp, s->acc[lvl], (size_t)v->nslots *
            sizeof(int64_t)) != 0)
            finding(w, DB_BATCH, STORE_VERIFY_DAMAGE, "%s, group %s: the %s "
                "row is not the sum of its base rows: a row is damaged",
                where, group_text(w, v, s->grp, s->glen), what);
    }
    if (mdb_cursor_get(s->c[lvl], &k, &d, MDB_NEXT) != 0)
        s->cstate[lvl] = 2;
}

static void
day_end(struct walk *w)
{
    if (w->seg.have_day)
        rollup_expect(w, STORE_LEVEL_DAY, w->seg.day);
    w->seg.have_day = 0;
}

static void
group_end(struct walk *w)
{
    day_end(w);
    if (w->seg.have_grp)
        rollup_expect(w, STORE_LEVEL_ALL, 0);
    w->seg.have_grp = 0;
}

/* A base row of a checked view: its span, and into its rollups. */
static void
base_row(struct walk *w, const void *g, size_t glen, int64_t bucket,
    const MDB_val *d)
{
    struct seg *s = &w->seg;
    const struct view *v = s->v;
    char where[ERR_LEN];
    int64_t day = bucket - (bucket % TS_DAY_MS + TS_DAY_MS) % TS_DAY_MS;

    if (s->base++ == 0 || bucket < s->first)
        s->first = bucket;
    if (s->base == 1 || bucket > s->last)
        s->last = bucket;
    if (!s->have_grp || s->glen != glen ||
        (glen > 0 && memcmp(s->grp, g, glen) != 0)) {
        group_end(w);
        store_copy(s->grp, g, glen);
        s->glen = glen;
        s->have_grp = 1;
        agg_row_init(v, s->acc[STORE_LEVEL_ALL]);
    }
    agg_row_decode(v, d->mv_data, s->acc[0]);
    if (v->granularity < TS_DAY_MS) {
        if (s->have_day && day != s->day)
            day_end(w);
        if (!s->have_day) {
            s->have_day = 1;
            s->day = day;
            agg_row_init(v, s->acc[STORE_LEVEL_DAY]);
        }
        if (agg_row_merge(v, s->acc[STORE_LEVEL_DAY], s->acc[0]) != 0)
            goto overflow;
    }
    if (agg_row_merge(v, s->acc[STORE_LEVEL_ALL], s->acc[0]) != 0)
        goto overflow;
    return;
overflow:
    seg_where(w, where, sizeof(where));
    finding(w, DB_BATCH, STORE_VERIFY_DAMAGE, "%s, group %s: its rows "
        "overflow when summed: a row is damaged", where,
        group_text(w, v, g, glen));
}

static void
seg_start(struct walk *w, uint32_t version, const char *view)
{
    struct seg *s = &w->seg;
    char name[STORE_KMAX + 1], where[ERR_LEN];
    int sig;

    s->on = 1;
    s->version = version;
    snprintf(s->view, sizeof(s->view), "%s", view);
    s->rows = s->base = 0;
    s->have_grp = s->have_day = 0;
    s->v = NULL;
    if (version != w->n.version)
        return;
    seg_where(w, where, sizeof(where));
    if ((s->v = view_named(w->p, view)) == NULL) {
        finding(w, DB_BATCH, STORE_VERIFY_NOTE, "%s: not a view of the "
            "pipeline: its rows were not checked", where);
        return;
    }
    if (store_span_name(name, sizeof(name), "sig", version, view) != 0 ||
        (sig = signed_by(w, name, s->v)) < 0) {
        finding(w, DB_BATCH, STORE_VERIFY_DAMAGE, "%s: meta %s, its "
            "definition, is missing", where, name);
        s->v = NULL;
        return;
    }
    if (sig == 0) {
        finding(w, DB_BATCH, STORE_VERIFY_NOTE, "%s: changed in the "
            "pipeline since it was published: its rows were not checked",
            where);
        s->v = NULL;
        return;
    }
    for (int l = STORE_LEVEL_DAY; l <= STORE_LEVEL_ALL; l++) {
        (void)store_batch_prefix(s->pre[l], &s->plen[l], version, view, l);
        s->cstate[l] = 0;
        if (mdb_cursor_open(w->t->txn, w->st->batch, &s->c[l]) != 0)
            s->c[l] = NULL;
    }
    s->tmp = xrealloc(s->tmp, (size_t)(s->v->nslots + 1) * sizeof(int64_t));
    for (int l = 0; l < 3; l++)
        s->acc[l] = xrealloc(s->acc[l], (size_t)(s->v->nslots + 1) *
            sizeof(int64_t));
}

/* Rows of unpublished versions are counted, one note per version. */
static void
other_flush(struct walk *w)
{
    if (w->other_rows > 0)
        finding(w, DB_BATCH, STORE_VERIFY_NOTE, "%lld rows of version %u, "
            "which is not published: a run failed, was killed or is "
            "running; the next lambda-batch deletes them",
            (long long)w->other_rows, (unsigned)w->other);
    w->other_rows = 0;
}

/* Rollup rows of level l left after the last group's have no base rows. */
static void
rollup_left(struct walk *w, int l, const char *where)
{
    struct seg *s = &w->seg;
    MDB_val k, d;
    int rc;

    if (s->c[l] == NULL || s->cstate[l] == 2)
        return;
    k.mv_data = s->pre[l];
    k.mv_size = s->plen[l];
    rc = mdb_cursor_get(s->c[l], &k, &d, s->cstate[l] == 0 ? MDB_SET_RANGE :
        MDB_GET_CURRENT);
    if (rc == 0 && k.mv_size >= s->plen[l] &&
        memcmp(k.mv_data, s->pre[l], s->plen[l]) == 0)
        finding(w, DB_BATCH, STORE_VERIFY_DAMAGE, "%s: %s rows without base "
            "rows", where, l == STORE_LEVEL_DAY ? "day" : "all-time");
}

/* The version's rows of the view are all read: rollups left over, span. */
static void
seg_end(struct walk *w)
{
    struct seg *s = &w->seg;
    char where[ERR_LEN], err[ERR_LEN];
    int64_t first, last;
    int rc;

    if (!s->on)
        return;
    s->on = 0;
    if (s->version != w->n.version) {
        if (w->other != s->version)
            other_flush(w);
        w->other = s->version;
        w->other_rows += s->rows;
        return;
    }
    if (s->v == NULL)
        return;
    group_end(w);
    seg_where(w, where, sizeof(where));
    for (int l = STORE_LEVEL_DAY; l <= STORE_LEVEL_ALL; l++) {
        rollup_left(w, l, where);
        if (s->c[l] != NULL)
            mdb_cursor_close(s->c[l]);
        s->c[l] = NULL;
    }
    rc = store_batch_span(w->t, s->version, s->view, &first, &last, err);
    if (s->base > 0 && (rc != 0 || first != s->first || last != s->last))
        finding(w, DB_BATCH, STORE_VERIFY_DAMAGE, "%s: its span in meta "
            "is not the first and last bucket of its rows", where);
    else if (s->base == 0 && rc == 0)
        finding(w, DB_BATCH, STORE_VERIFY_DAMAGE, "%s: a span in meta but "
            "no rows", where);
}

static int
batch_entry(struct walk *w, const MDB_val *k, const MDB_val *d)
{
    const unsigned char *p = k->mv_data;
    const unsigned char *nul;
    char view[STORE_KMAX + 1], where[ERR_LEN];
    size_t vl, glen;
    uint32_t version;
    int64_t bucket;
    int level;

    if (k->mv_size < 4 + 1 + 1 + 1 + 8 ||
        (nul = memchr(p + 4, 0, k->mv_size - 4)) == NULL ||
        (size_t)(nul - p) + 2 + 8 > k->mv_size) {
        finding(w, DB_BATCH, STORE_VERIFY_DAMAGE, "database batch: a key "
            "of %zu bytes that is not version|view|level|group|bucket",
            k->mv_size);
        return 0;
    }
    version = store_be32_get(p);
    vl = (size_t)(nul - p) - 4;
    memcpy(view, p + 4, vl);
    view[vl] = '\0';
    level = nul[1];
    glen = k->mv_size - 4 - vl - 2 - 8;
    bucket = store_bucket_get(p + k->mv_size - 8);
    if (!w->seg.on || version != w->seg.version ||
        strcmp(view, w->seg.view) != 0) {
        seg_end(w);
        seg_start(w, version, view);
    }
    w->seg.rows++;
    if (version == w->n.version)
        w->n.batch++;
    if (w->seg.v == NULL)
        return 0;
    seg_where(w, where, sizeof(where));
    if (level > STORE_LEVEL_ALL || (level == STORE_LEVEL_DAY &&
        w->seg.v->granularity >= TS_DAY_MS)) {
        finding(w, DB_BATCH, STORE_VERIFY_DAMAGE, "%s: a row of level %d",
            where, level);
        return 0;
    }
    if (row_shape(w, DB_BATCH, where, w->seg.v, nul + 2, glen, bucket,
        level == STORE_LEVEL_BASE ? w->seg.v->granularity :
        level == STORE_LEVEL_DAY ? TS_DAY_MS : 0, d) != 0)
        return 0;
    if (level == STORE_LEVEL_BASE)
        base_row(w, nul + 2, glen, bucket, d);
    return 0;
}

static int
speed_entry(struct walk *w, const MDB_val *k, const MDB_val *d)
{
    const unsigned char *p = k->mv_data, *nul;
    char view[STORE_KMAX + 1], name[STORE_KMAX + 16], where[ERR_LEN];
    size_t vl;
    int sig = 1;

    w->n.speed++;
    if (k->mv_size < 1 + 8 || (nul = memchr(p, 0, k->mv_size)) == NULL ||
        (size_t)(nul - p) + 1 + 8 > k->mv_size) {
        finding(w, DB_SPEED, STORE_VERIFY_DAMAGE, "database speed: a key of "
            "%zu bytes that is not view|group|bucket", k->mv_size);
        return 0;
    }
    vl = (size_t)(nul - p);
    memcpy(view, p, vl);
    view[vl] = '\0';
    snprintf(where, sizeof(where), "speed rows of view %.100s", view);
    if (w->n.speed == 1 || strcmp(view, w->sview) != 0) {
        memcpy(w->sview, view, vl + 1);
        snprintf(name, sizeof(name), "speedsig/%s", view);
        if ((w->sv = view_named(w->p, view)) == NULL)
            finding(w, DB_SPEED, STORE_VERIFY_NOTE, "%s: not a view of the "
                "pipeline: they were not checked", where);
        else if ((sig = signed_by(w, name, w->sv)) <= 0)
            finding(w, DB_SPEED, STORE_VERIFY_NOTE, "%s: %s since they were "
                "written: they were not checked", where, sig < 0 ?
                "no definition recorded" : "changed in the pipeline");
        if (sig <= 0)
            w->sv = NULL;
    }
    if (w->sv != NULL)
        (void)row_shape(w, DB_SPEED, where, w->sv, nul + 1,
            k->mv_size - vl - 1 - 8, store_bucket_get(p + k->mv_size - 8),
            w->sv->granularity, d);
    return 0;
}

/* The late-data ledger (late.h): keys and rows as the speed rows', with
 * partition, offset and flag after the bucket, events and flags before
 * the row. */
static int
late_entry(struct walk *w, const MDB_val *k, const MDB_val *d)
{
    const unsigned char *p = k->mv_data, *nul;
    char view[STORE_KMAX + 1], name[STORE_KMAX + 16], where[ERR_LEN];
    const struct view *v;
    MDB_val row;
    size_t vl, gl;

    w->n.late++;
    if (k->mv_size < 1 + 21 || (nul = memchr(p, 0, k->mv_size - 21)) ==
        NULL || d->mv_size < 16 || p[k->mv_size - 1] > 1 ||
        (store_le64_get((const unsigned char *)d->mv_data + 8) & 1) !=
        p[k->mv_size - 1] || store_le64_get(d->mv_data) < 0) {
        finding(w, DB_LATE, STORE_VERIFY_DAMAGE, "database late: an entry "
            "of %zu and %zu bytes that is not view|group|bucket|partition|"
            "offset|flag and events|flags|row", k->mv_size, d->mv_size);
        return 0;
    }
    vl = (size_t)(nul - p);
    gl = k->mv_size - vl - 1 - 21;
    memcpy(view, p, vl);
    view[vl] = '\0';
    snprintf(name, sizeof(name), "speedsig/%s", view);
    if ((v = view_named(w->p, view)) == NULL || signed_by(w, name, v) <= 0)
        return 0;   /* the speed walk notes views it could not check */
    snprintf(where, sizeof(where), "late entries of view %.100s", view);
    row.mv_data = (unsigned char *)d->mv_data + 16;
    row.mv_size = d->mv_size - 16;
    (void)row_shape(w, DB_LATE, where, v, nul + 1, gl,
        store_bucket_get(p + k->mv_size - 21), v->granularity, &row);
    return 0;
}

/* ---- the child ---- */

static void
walk_all(struct walk *w)
{
    MDB_envinfo info;
    MDB_dbi main;
    char err[ERR_LEN];
    int64_t v;

    if (mdb_env_info(w->st->env, &info) != 0)
        return;
    w->last_pgno = info.me_last_pgno;
    if (mdb_dbi_open(w->t->txn, NULL, 0, &main) == 0)
        (void)walk_db(w, DB_MAIN, main, main_entry);
    (void)walk_db(w, DB_FREE, 0, free_entry);
    /* a version out of range is the meta walk's to report */
    if (store_meta_get_i64(w->t, "batch.version", &v, err) == 0 &&
        store_check_i64(w->st, "batch.version", v, err) == 0)
        w->n.version = v;
    w->n.meta = walk_db(w, DB_META, w->st->meta, meta_entry);
    if (store_check_version_meta(w->t, err) != 0)
        finding(w, DB_META, STORE_VERIFY_DAMAGE, "%s", bare(w->st->dir, err));
    (void)walk_db(w, DB_BATCH, w->st->batch, batch_entry);
    seg_end(w);
    other_flush(w);
    (void)walk_db(w, DB_SPEED, w->st->speed, speed_entry);
    if (w->st->has_late)
        (void)walk_db(w, DB_LATE, w->st->late, late_entry);
}

static void
child(const char *dir, const struct pipeline *p, int fd, struct where *at)
{
    struct walk w;
    char err[ERR_LEN];

    memset(&w, 0, sizeof(w));
    w.p = p;
    w.at = at;
    buf_init(&w.scratch);
    if ((w.out = fdopen(fd, "w")) == NULL)
        _exit(2);
    if (store_open(&w.st, dir, STORE_RDONLY | STORE_NOCHECK, err) != 0 ||
        store_txn_begin(w.st, 0, &w.t, err) != 0) {
        /* damage LMDB cannot read past is one finding; the rest no walk */
        if (strstr(err, STORE_DAMAGED_FIX) == NULL) {
            fprintf(w.out, "E %s\n", err);
            _exit(fclose(w.out) == 0 ? 0 : 2);
        }
        fprintf(w.out, "D %s\n", bare(dir, err));
        w.n.damage = 1;
    } else {
        walk_all(&w);
    }
    fprintf(w.out, "C %lld %lld %lld %lld %lld %lld %lld %lld\n",
        (long long)w.n.damage, (long long)w.n.notes, (long long)w.n.version,
        (long long)w.n.meta, (long long)w.n.batch, (long long)w.n.speed,
        (long long)w.n.free_pages, (long long)w.n.late);
    _exit(fclose(w.out) == 0 ? 0 : 2);
}

/* ---- the parent ---- */

/* No data.mdb in dir (yet). */
static int
absent(const char *dir)
{
    size_t n = strlen(dir) + sizeof("/data.mdb");
    char *path = xmalloc(n);
    struct stat sb;
    int rc;

    snprintf(path, n, "%s/data.mdb", dir);
    rc = stat(path, &sb) != 0 && errno == ENOENT;
    free(path);
    return rc;
}

/* The child died before its counts: where it was is where the damage is. */
static void
crashed(const struct where *at, int status,
    void (*fn)(void *arg, int kind, const char *msg), void *arg)
{
    char hex[2 * sizeof(at->key) + 1], msg[ERR_LEN];

    for (size_t i = 0; i < at->klen; i++)
        snprintf(hex + 2 * i, 3, "%02x", at->key[i]);
    hex[2 * at->klen] = '\0';
    snprintf(msg, sizeof(msg), "reading database %s crashed LMDB (%s) after "
        "%lld entries, the last key %s%s: a page after it is damaged",
        at->db >= 0 && at->db < NDB ? dbname[at->db] : "(opening)",
        WIFSIGNALED(status) ? strsignal(WTERMSIG(status)) : "no report",
        (long long)at->n, at->klen > 0 ? hex : "(none)",
        at->klen == sizeof(at->key) ? "..." : "");
    fn(arg, STORE_VERIFY_DAMAGE, msg);
}

int
store_verify(const char *dir, const struct pipeline *p,
    void (*fn)(void *arg, int kind, const char *msg), void *arg,
    struct store_verify *out, char *err)
{
    size_t cap = 0;
    int fds[2], status, got_counts = 0, failed = 0;
    struct where *at;
    char *line = NULL;
    long long c[8];
    ssize_t len;
    FILE *in;
    pid_t pid;

    memset(out, 0, sizeof(*out));
    if (absent(dir)) {
        snprintf(err, ERR_LEN, "store %s: not created yet (run lambda-batch "
            "or lambda-speed first)", dir);
        return -1;
    }
    at = mmap(NULL, sizeof(*at), PROT_READ | PROT_WRITE,
        MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (at == MAP_FAILED || pipe(fds) != 0) {
        snprintf(err, ERR_LEN, "store %s: verify: %s", dir, strerror(errno));
        if (at != MAP_FAILED)
            munmap(at, sizeof(*at));
        return -1;
    }
    memset(at, 0, sizeof(*at));
    at->db = -1;
    fflush(NULL);
    if ((pid = fork()) < 0) {
        snprintf(err, ERR_LEN, "store %s: verify: fork: %s", dir,
            strerror(errno));
        close(fds[0]);
        close(fds[1]);
        munmap(at, sizeof(*at));
        return -1;
    }
    if (pid == 0) {
        close(fds[0]);
        child(dir, p, fds[1], at);
    }
    close(fds[1]);
    if ((in = fdopen(fds[0], "r")) == NULL)
        close(fds[0]);
    while (in != NULL && (len = getline(&line, &cap, in)) > 0) {
        if (line[len - 1] == '\n')
            line[len - 1] = '\0';
        if (line[0] == 'E') {
            snprintf(err, ERR_LEN, "%s", line + 2);
            failed = 1;
        } else if (line[0] == 'C' && sscanf(line + 2, "%lld %lld %lld %lld "
            "%lld %lld %lld %lld", &c[0], &c[1], &c[2], &c[3], &c[4], &c[5],
            &c[6], &c[7]) == 8) {
            got_counts = 1;
        } else if (line[0] == 'D' || line[0] == 'N') {
            fn(arg, line[0] == 'D' ? STORE_VERIFY_DAMAGE :
                STORE_VERIFY_NOTE, line + 2);
            out->damage += line[0] == 'D';
            out->notes += line[0] == 'N';
        }
    }
    if (in != NULL)
        fclose(in);
    free(line);
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
        continue;
    if (got_counts) {
        out->damage = c[0];
        out->notes = c[1];
        out->version = c[2];
        out->meta = c[3];
        out->batch = c[4];
        out->speed = c[5];
        out->free_pages = c[6];
        out->late = c[7];
    } else if (!failed) {
        crashed(at, status, fn, arg);
        out->damage++;
    }
    munmap(at, sizeof(*at));
    return failed ? -1 : 0;
}

/* ---- before use ---- */

#define VERIFY_TAIL "; run lambda-batch --verify for the full report"

/* The first damage found, and how many. */
struct first {
    char    msg[ERR_LEN];
    int64_t n;
};

static void
keep_first(void *arg, int kind, const char *msg)
{
    struct first *f = arg;

    if (kind != STORE_VERIFY_DAMAGE || f->n++ > 0)
        return;
    snprintf(f->msg, sizeof(f->msg), "%s", msg);
}

int
store_verify_check(const char *dir, const struct pipeline *p, int *walked,
    char *err)
{
    const char *env = getenv("LAMBDA_NO_VERIFY");
    struct store_verify got;
    struct first f = {.n = 0};
    struct store *st;
    char more[32] = "";
    int room, dl;

    *walked = 0;
    if ((env != NULL && *env != '\0' && strcmp(env, "0") != 0 &&
        strcmp(env, "false") != 0) || absent(dir))
        return 0;
    /* what opening checks (size, format, meta) it says in its own words */
    if (store_open(&st, dir, STORE_RDONLY, err) != 0)
        return -1;
    store_free(st);
    if (store_verify(dir, p, keep_first, &f, &got, err) != 0)
        return -1;
    *walked = 1;
    if (got.damage == 0)
        return 0;
    if (got.damage > 1)
        snprintf(more, sizeof(more), " (and %lld more)",
            (long long)got.damage - 1);
    /* what to run is the part to keep whole: cut the directory, then the
     * finding */
    room = ERR_LEN - (int)sizeof("store : damaged: " VERIFY_TAIL) -
        (int)strlen(more);
    dl = strlen(dir) < (size_t)room / 3 ? (int)strlen(dir) : room / 3;
    if (snprintf(err, ERR_LEN, "store %.*s: damaged: %.*s%s" VERIFY_TAIL, dl,
        dir, room - dl, f.msg[0] != '\0' ? f.msg : "(none shown)",
        more) >= ERR_LEN)
        err[ERR_LEN - 1] = '\0';
    return -1;
}
