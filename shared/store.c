/* store.c -- LMDB store: batch versions, speed buckets, offsets, metadata */
#include <sys/file.h>
#include <sys/stat.h>

#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <lmdb.h>

#include "shared/agg.h"
#include "shared/buf.h"
#include "shared/err.h"
#include "shared/mem.h"
#include "shared/store.h"
#include "shared/store_int.h"
#include "shared/ts.h"

/*
 * MDB_MAP_RESIZED (another process grew the map past ours) is handled at txn
 * begin with mdb_env_set_mapsize(env, 0), which LMDB allows only while this
 * process has no transaction live. So every transaction is counted in
 * st->live under st->mu; a resize waits (bounded) for live to reach zero
 * while new transactions wait for the resize. A mutex and a counter, not a
 * rwlock, because with MDB_NOTLS a read transaction may end in another thread
 * than the one that began it.
 */

#define CHUNK_ROWS 50000        /* rows per writer or purge transaction */
#define ROLLUP_MAX (32u << 20)  /* rollup bytes buffered before spilling */
#define RESIZE_WAIT_MS 2000
#define MAP_MIN (64u << 10)

struct store_iter {
    struct store      *st;
    const struct view *v;
    struct store_scan  s;
    int64_t           *slots;
    unsigned char      gkey[STORE_KMAX];
    size_t             gklen;
};

struct store_writer {
    struct store          *st;
    const struct pipeline *p;
    int                    locked;      /* st->writing is ours */
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
};

/* ---- clocks ---- */

static int64_t
now_ms(clockid_t clock)
{
    struct timespec ts;

    (void)clock_gettime(clock, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int64_t
day_of(int64_t b)
{
    int64_t m = b % TS_DAY_MS;

    return m < 0 ? b - m - TS_DAY_MS : b - m;
}

/* ---- errors ---- */

static uint64_t
map_size(struct store *st)
{
    MDB_envinfo info;

    if (mdb_env_info(st->env, &info) != 0)
        return 0;
    return info.me_mapsize;
}

void
store_set_err(struct store *st, char *err, const char *what, int rc)
{
    if (rc == MDB_MAP_FULL)
        snprintf(err, ERR_LEN, "store %s: full (map size %llu MiB)", st->dir,
            (unsigned long long)(map_size(st) >> 20));
    else
        snprintf(err, ERR_LEN, "store %s: %s: %s", st->dir, what,
            mdb_strerror(rc));
}

/* ---- transactions ---- */

static void
live_end(struct store *st)
{
    pthread_mutex_lock(&st->mu);
    st->live--;
    if (st->live == 0 && st->resizing)
        pthread_cond_broadcast(&st->cv);
    pthread_mutex_unlock(&st->mu);
}

/* Adopt the map size another process gave the data file. */
static int
remap(struct store *st, char *err)
{
    struct timespec dl;
    int rc = 0;

    pthread_mutex_lock(&st->mu);
    if (st->resizing) {
        /* another thread is at it: wait, then let the caller retry */
        while (st->resizing)
            pthread_cond_wait(&st->cv, &st->mu);
        pthread_mutex_unlock(&st->mu);
        return 0;
    }
    st->resizing = 1;
    (void)clock_gettime(CLOCK_MONOTONIC, &dl);
    dl.tv_sec += RESIZE_WAIT_MS / 1000;
    while (st->live > 0 && rc == 0)
        rc = pthread_cond_timedwait(&st->cv, &st->mu, &dl);
    if (st->live > 0) {
        snprintf(err, ERR_LEN, "store %s: the map was grown by another "
            "process while this one holds transactions", st->dir);
        rc = -1;
    } else if ((rc = mdb_env_set_mapsize(st->env, 0)) != 0) {
        store_set_err(st, err, "mdb_env_set_mapsize", rc);
        rc = -1;
    }
    st->resizing = 0;
    pthread_cond_broadcast(&st->cv);
    pthread_mutex_unlock(&st->mu);
    return rc;
}

int
store_txn_begin(struct store *st, int write, struct store_txn **out,
    char *err)
{
    MDB_txn *txn = NULL;
    int rc, tries;

    if (write && (st->flags & STORE_RDONLY)) {
        snprintf(err, ERR_LEN, "store %s: opened read-only", st->dir);
        return -1;
    }
    for (tries = 0;; tries++) {
        pthread_mutex_lock(&st->mu);
        while (st->resizing)
            pthread_cond_wait(&st->cv, &st->mu);
        st->live++;
        pthread_mutex_unlock(&st->mu);
        rc = mdb_txn_begin(st->env, NULL, write ? 0 : MDB_RDONLY, &txn);
        if (rc == 0)
            break;
        live_end(st);
        if (rc != MDB_MAP_RESIZED || tries == 3) {
            store_set_err(st, err, "mdb_txn_begin", rc);
            return -1;
        }
        if (remap(st, err) != 0)
            return -1;
    }
    *out = xmalloc(sizeof(**out));
    (*out)->st = st;
    (*out)->txn = txn;
    (*out)->write = write;
    return 0;
}

int
store_txn_commit(struct store_txn *t, char *err)
{
    struct store *st = t->st;
    int rc;

    rc = mdb_txn_commit(t->txn);
    live_end(st);
    free(t);
    if (rc != 0) {
        store_set_err(st, err, "commit", rc);
        return -1;
    }
    return 0;
}

void
store_txn_abort(struct store_txn *t)
{
    if (t == NULL)
        return;
    mdb_txn_abort(t->txn);
    live_end(t->st);
    free(t);
}

/* ---- open ---- */

static int
parse_map_size(const char *s, uint64_t *out, char *err)
{
    unsigned long long v;
    unsigned shift = 0;
    char *end;

    errno = 0;
    v = strtoull(s, &end, 10);
    if (end == s || *s == '-' || errno != 0)
        goto bad;
    switch (*end) {
    case 'K': case 'k': shift = 10; end++; break;
    case 'M': case 'm': shift = 20; end++; break;
    case 'G': case 'g': shift = 30; end++; break;
    case 'T': case 't': shift = 40; end++; break;
    default: break;
    }
    if (*end != '\0' || (shift > 0 && v > (ULLONG_MAX >> shift)))
        goto bad;
    v <<= shift;
    if (v < MAP_MIN || v > SIZE_MAX)
        goto bad;
    *out = v;
    return 0;
bad:
    snprintf(err, ERR_LEN, "LAMBDA_MAP_SIZE \"%.64s\": expected a size in "
        "bytes of at least %u (K, M, G, T suffixes allowed)", s, MAP_MIN);
    return -1;
}

static int
mkdir_p(const char *dir, char *err)
{
    char *p, *s = xstrdup(dir);
    int rc = -1;

    for (p = s + 1;; p++) {
        if (*p != '/' && *p != '\0')
            continue;
        if (p[-1] != '/') {
            char c = *p;

            *p = '\0';
            if (mkdir(s, 0755) != 0 && errno != EEXIST) {
                snprintf(err, ERR_LEN, "store %s: mkdir %s: %s", dir, s,
                    strerror(errno));
                goto done;
            }
            *p = c;
        }
        if (*p == '\0')
            break;
    }
    rc = 0;
done:
    free(s);
    return rc;
}

static int
not_created(const char *dir, char *err)
{
    snprintf(err, ERR_LEN, "store %s: not created yet (run lambda-batch or "
        "lambda-speed first)", dir);
    return -1;
}

/* Open the named databases and check (or, new, write) the format. */
static int
open_dbs(struct store *st, char *err)
{
    int rdonly = (st->flags & STORE_RDONLY) != 0;
    unsigned cflag = rdonly ? 0 : MDB_CREATE;
    struct store_txn *t = NULL;
    MDB_stat ms, bs, ss;
    MDB_val k, d;
    int rc;

    if (store_txn_begin(st, !rdonly, &t, err) != 0)
        return -1;
    if ((rc = mdb_dbi_open(t->txn, "meta", cflag, &st->meta)) != 0 ||
        (rc = mdb_dbi_open(t->txn, "batch", cflag, &st->batch)) != 0 ||
        (rc = mdb_dbi_open(t->txn, "speed", cflag, &st->speed)) != 0) {
        if (rc == MDB_NOTFOUND)
            not_created(st->dir, err);
        else
            store_set_err(st, err, "mdb_dbi_open", rc);
        goto fail;
    }
    k.mv_data = (void *)"format";
    k.mv_size = 6;
    rc = mdb_get(t->txn, st->meta, &k, &d);
    if (rc == 0) {
        int64_t f = d.mv_size == 8 ? store_le64_get(d.mv_data) : -1;

        if (f != STORE_FORMAT) {
            snprintf(err, ERR_LEN, "store %s: format %lld, this build reads "
                "format %d", st->dir, (long long)f, STORE_FORMAT);
            goto fail;
        }
    } else if (rc != MDB_NOTFOUND) {
        store_set_err(st, err, "get format", rc);
        goto fail;
    } else if (rdonly) {
        not_created(st->dir, err);
        goto fail;
    } else {
        unsigned char v[8];

        if ((rc = mdb_stat(t->txn, st->meta, &ms)) != 0 ||
            (rc = mdb_stat(t->txn, st->batch, &bs)) != 0 ||
            (rc = mdb_stat(t->txn, st->speed, &ss)) != 0) {
            store_set_err(st, err, "mdb_stat", rc);
            goto fail;
        }
        if (ms.ms_entries + bs.ms_entries + ss.ms_entries != 0) {
            snprintf(err, ERR_LEN, "store %s: no format number: not a "
                "lambdakit store", st->dir);
            goto fail;
        }
        store_le64_put(v, STORE_FORMAT);
        d.mv_data = v;
        d.mv_size = 8;
        if ((rc = mdb_put(t->txn, st->meta, &k, &d, 0)) != 0) {
            store_set_err(st, err, "put format", rc);
            goto fail;
        }
    }
    /* commit even a read txn: it keeps the dbi handles opened in it */
    return store_txn_commit(t, err);
fail:
    store_txn_abort(t);
    return -1;
}

int
store_open(struct store **out, const char *dir, unsigned flags, char *err)
{
    struct store *st = xcalloc(1, sizeof(*st));
    uint64_t size = STORE_MAP_DEFAULT;
    pthread_condattr_t ca;
    const char *env;
    struct stat sb;
    char *path = NULL;
    size_t plen;
    int rc, dead;

    st->dir = xstrdup(dir);
    st->flags = flags;
    st->lockfd = -1;
    if (*dir == '\0') {
        snprintf(err, ERR_LEN, "store: empty directory name");
        goto fail;
    }
    if (pthread_mutex_init(&st->mu, NULL) != 0 ||
        pthread_condattr_init(&ca) != 0) {
        snprintf(err, ERR_LEN, "store %s: pthread init failed", dir);
        goto fail;
    }
    (void)pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    rc = pthread_cond_init(&st->cv, &ca);
    (void)pthread_condattr_destroy(&ca);
    if (rc != 0) {
        pthread_mutex_destroy(&st->mu);
        snprintf(err, ERR_LEN, "store %s: pthread init failed", dir);
        goto fail;
    }
    st->sync_init = 1;

    if ((env = getenv("LAMBDA_MAP_SIZE")) != NULL && *env != '\0' &&
        parse_map_size(env, &size, err) != 0)
        goto fail;
    if (flags & STORE_RDONLY) {
        plen = strlen(dir) + sizeof("/data.mdb");
        path = xmalloc(plen);
        snprintf(path, plen, "%s/data.mdb", dir);
        if (stat(path, &sb) != 0 && errno == ENOENT) {
            not_created(dir, err);
            goto fail;
        }
    } else if (mkdir_p(dir, err) != 0) {
        goto fail;
    }

    if ((rc = mdb_env_create(&st->env)) != 0) {
        st->env = NULL;
        store_set_err(st, err, "mdb_env_create", rc);
        goto fail;
    }
    if ((rc = mdb_env_set_maxdbs(st->env, 4)) != 0 ||
        (rc = mdb_env_set_maxreaders(st->env, 256)) != 0 ||
        (rc = mdb_env_set_mapsize(st->env, (size_t)size)) != 0) {
        store_set_err(st, err, "mdb_env_set", rc);
        goto fail;
    }
    rc = mdb_env_open(st->env, dir,
        MDB_NOTLS | ((flags & STORE_RDONLY) ? MDB_RDONLY : 0), 0644);
    if (rc == ENOENT && (flags & STORE_RDONLY)) {
        not_created(dir, err);
        goto fail;
    }
    if (rc != 0) {
        store_set_err(st, err, "mdb_env_open", rc);
        goto fail;
    }
    /* free reader slots of killed processes, or they pin old pages forever */
    (void)mdb_reader_check(st->env, &dead);
    if (open_dbs(st, err) != 0)
        goto fail;
    free(path);
    *out = st;
    return 0;
fail:
    free(path);
    store_free(st);
    return -1;
}

void
store_free(struct store *st)
{
    if (st == NULL)
        return;
    store_batch_unlock(st);
    if (st->env != NULL)
        mdb_env_close(st->env);
    if (st->sync_init) {
        assert(st->live == 0);
        pthread_cond_destroy(&st->cv);
        pthread_mutex_destroy(&st->mu);
    }
    free(st->dir);
    free(st);
}

const char *
store_dir(const struct store *st)
{
    return st->dir;
}

uint64_t
store_used_bytes(struct store *st)
{
    MDB_envinfo info;
    MDB_stat ms;

    if (mdb_env_info(st->env, &info) != 0 || mdb_env_stat(st->env, &ms) != 0)
        return 0;
    return ((uint64_t)info.me_last_pgno + 1) * ms.ms_psize;
}

/* ---- meta ---- */

static int
meta_key(struct store_txn *t, const char *name, MDB_val *k, char *err)
{
    size_t n = strlen(name);

    if (n == 0 || n > STORE_KMAX) {
        snprintf(err, ERR_LEN, "store %s: meta name of %zu bytes", t->st->dir,
            n);
        return -1;
    }
    k->mv_data = (void *)name;
    k->mv_size = n;
    return 0;
}

int
store_need_write(struct store_txn *t, char *err)
{
    if (t->write)
        return 0;
    snprintf(err, ERR_LEN, "store %s: write in a read-only transaction",
        t->st->dir);
    return -1;
}

int
store_meta_get(struct store_txn *t, const char *name, const void **val,
    size_t *len, char *err)
{
    MDB_val k, d;
    int rc;

    if (meta_key(t, name, &k, err) != 0)
        return -1;
    rc = mdb_get(t->txn, t->st->meta, &k, &d);
    if (rc == MDB_NOTFOUND)
        return STORE_NOTFOUND;
    if (rc != 0) {
        snprintf(err, ERR_LEN, "store %s: get %s: %s", t->st->dir, name,
            mdb_strerror(rc));
        return -1;
    }
    *val = d.mv_data;
    *len = d.mv_size;
    return 0;
}

int
store_meta_put(struct store_txn *t, const char *name, const void *val,
    size_t len, char *err)
{
    MDB_val k, d;
    int rc;

    if (store_need_write(t, err) != 0 || meta_key(t, name, &k, err) != 0)
        return -1;
    d.mv_data = (void *)val;
    d.mv_size = len;
    if ((rc = mdb_put(t->txn, t->st->meta, &k, &d, 0)) != 0) {
        store_set_err(t->st, err, "put meta", rc);
        return -1;
    }
    return 0;
}

int
store_meta_get_i64(struct store_txn *t, const char *name, int64_t *v,
    char *err)
{
    const void *p;
    size_t n;
    int rc;

    if ((rc = store_meta_get(t, name, &p, &n, err)) != 0)
        return rc;
    if (n != 8) {
        snprintf(err, ERR_LEN, "store %s: meta %s: %zu bytes, not an "
            "integer", t->st->dir, name, n);
        return -1;
    }
    *v = store_le64_get(p);
    return 0;
}

int
store_meta_put_i64(struct store_txn *t, const char *name, int64_t v,
    char *err)
{
    unsigned char b[8];

    store_le64_put(b, v);
    return store_meta_put(t, name, b, 8, err);
}

/* ---- batch info ---- */

int
store_batch_current(struct store_txn *t, struct store_batch_info *info,
    char *err)
{
    int rc;

    rc = store_meta_get_i64(t, "batch.version", &info->version, err);
    if (rc != 0)
        return rc;
    if ((rc = store_meta_get_i64(t, "batch.cutoff", &info->cutoff,
        err)) == 0 &&
        (rc = store_meta_get_i64(t, "batch.published_at",
        &info->published_at, err)) == 0 &&
        (rc = store_meta_get_i64(t, "batch.events", &info->events, err)) == 0)
        return 0;
    if (rc == STORE_NOTFOUND)
        snprintf(err, ERR_LEN, "store %s: batch meta incomplete", t->st->dir);
    return -1;
}

int
store_span_name(char *buf, size_t size, const char *kind, int64_t version,
    const char *view)
{
    int n = snprintf(buf, size, "%s/%lld/%s", kind, (long long)version, view);

    return n < 0 || (size_t)n >= size ? -1 : 0;
}

static void
changed(struct store_txn *t, const struct view *v, int64_t version, char *err)
{
    if (version > 0)
        snprintf(err, ERR_LEN, "store %s: view %s changed since batch "
            "version %lld was published (run lambda-batch to rebuild it)",
            t->st->dir, v->name, (long long)version);
    else
        snprintf(err, ERR_LEN, "store %s: view %s changed since lambda-speed "
            "wrote its rows (start from a new store and replay the topic)",
            t->st->dir, v->name);
}

int
store_view_check(struct store_txn *t, const struct pipeline *p,
    const struct view *v, int64_t version, char *err)
{
    char name[STORE_KMAX + 1];
    int64_t sig;
    int rc;

    if (version > 0)
        rc = store_span_name(name, sizeof(name), "sig", version, v->name);
    else
        rc = snprintf(name, sizeof(name), "speedsig/%s", v->name) >=
            (int)sizeof(name) ? -1 : 0;
    if (rc != 0)
        return 0;
    if ((rc = store_meta_get_i64(t, name, &sig, err)) != 0)
        return rc == STORE_NOTFOUND ? 0 : -1;
    if (sig != (int64_t)pipeline_view_signature(p, v)) {
        changed(t, v, version, err);
        return -1;
    }
    return 0;
}

int
store_speed_sign(struct store_txn *t, const struct pipeline *p, char *err)
{
    for (int i = 0; i < p->nviews; i++) {
        const struct view *v = &p->views[i];
        char name[STORE_KMAX + 1];
        struct store_iter *it = NULL;
        struct store_row row;
        int rc;

        if (snprintf(name, sizeof(name), "speedsig/%s", v->name) >=
            (int)sizeof(name))
            continue;
        if (store_view_check(t, p, v, 0, err) != 0) {
            /* rows written under the old definition: refuse; none: re-sign */
            if (store_iter_speed(t, v, NULL, 0, INT64_MIN, INT64_MAX, &it,
                err) != 0)
                return -1;
            rc = store_iter_next(it, &row, err);  /* -1: old row size */
            store_iter_free(it);
            if (rc != STORE_NOTFOUND) {
                changed(t, v, 0, err);
                return -1;
            }
        }
        if (store_meta_put_i64(t, name,
            (int64_t)pipeline_view_signature(p, v), err) != 0)
            return -1;
    }
    return 0;
}

int
store_meta_scan(struct store_txn *t, const char *prefix,
    int (*fn)(void *arg, const char *name, const void *val, size_t len),
    void *arg, char *err)
{
    size_t pl = strlen(prefix);
    char name[STORE_KMAX + 1];
    MDB_cursor *cur = NULL;
    MDB_val k, d;
    int rc;

    if ((rc = mdb_cursor_open(t->txn, t->st->meta, &cur)) != 0)
        goto fail;
    k.mv_data = (void *)prefix;
    k.mv_size = pl;
    for (rc = mdb_cursor_get(cur, &k, &d, MDB_SET_RANGE); rc == 0;
        rc = mdb_cursor_get(cur, &k, &d, MDB_NEXT)) {
        if (k.mv_size < pl || memcmp(k.mv_data, prefix, pl) != 0)
            break;
        if (k.mv_size >= sizeof(name))
            continue;
        memcpy(name, k.mv_data, k.mv_size);
        name[k.mv_size] = '\0';
        if (fn(arg, name, d.mv_data, d.mv_size) != 0)
            break;
    }
    if (rc != 0 && rc != MDB_NOTFOUND && rc != MDB_SUCCESS)
        goto fail;
    mdb_cursor_close(cur);
    return 0;
fail:
    store_set_err(t->st, err, "meta scan", rc);
    if (cur != NULL)
        mdb_cursor_close(cur);
    return -1;
}

int
store_batch_span(struct store_txn *t, int64_t version, const char *view,
    int64_t *first, int64_t *last, char *err)
{
    char name[STORE_KMAX + 1];
    const void *p;
    size_t n;
    int rc;

    if (store_span_name(name, sizeof(name), "span", version, view) != 0)
        return STORE_NOTFOUND;
    if ((rc = store_meta_get(t, name, &p, &n, err)) != 0)
        return rc;
    if (n != 16) {
        snprintf(err, ERR_LEN, "store %s: meta %.100s: %zu bytes, expected 16",
            t->st->dir, name, n);
        return -1;
    }
    *first = store_le64_get(p);
    *last = store_le64_get((const unsigned char *)p + 8);
    return 0;
}

/* ---- scans ---- */

static int
scan_seek(struct store_scan *s, unsigned char *k, size_t n, MDB_val *key,
    MDB_val *val)
{
    key->mv_data = k;
    key->mv_size = n;
    return mdb_cursor_get(s->cur, key, val, MDB_SET_RANGE);
}

/*
 * Next row of the scan: 0 with key and val, MDB_NOTFOUND at the end, or an
 * LMDB error. Every-group scans skip a group's rows outside [from, to) by
 * seeking, not by walking them: past bucket to, the next key is found by
 * seeking to the group's largest possible key.
 */
int
store_scan_next(struct store_scan *s, MDB_val *key, MDB_val *val)
{
    unsigned char tmp[STORE_KMAX + 9];
    const unsigned char *k;
    size_t n;
    int64_t b;
    int rc;

    switch (s->state) {
    case STORE_SCAN_END:
        return MDB_NOTFOUND;
    case STORE_SCAN_START:
        memcpy(tmp, s->pre, s->plen);
        n = s->plen;
        if (s->exact) {
            store_bucket_put(tmp + n, s->from);
            n += 8;
        }
        rc = scan_seek(s, tmp, n, key, val);
        break;
    case STORE_SCAN_RESEEK:
        memcpy(tmp, s->last, s->llen);
        tmp[s->llen] = 0x00;    /* the smallest key after last */
        rc = scan_seek(s, tmp, s->llen + 1, key, val);
        break;
    default:
        rc = mdb_cursor_get(s->cur, key, val, MDB_NEXT);
        break;
    }
    for (; rc == 0;) {
        k = key->mv_data;
        if (key->mv_size < s->plen || memcmp(k, s->pre, s->plen) != 0) {
            rc = MDB_NOTFOUND;
            break;
        }
        if (s->exact) {
            size_t rest = key->mv_size - s->plen;
            unsigned char hi[8];
            int c;

            store_bucket_put(hi, s->to);
            c = memcmp(k + s->plen, hi, rest < 8 ? rest : 8);
            if (c > 0 || (c == 0 && rest >= 8)) {
                rc = MDB_NOTFOUND;      /* at or past prefix|to */
                break;
            }
            if (rest == 8 && store_bucket_get(k + s->plen) >= s->from)
                break;
            /* a longer group key that starts with ours */
            rc = mdb_cursor_get(s->cur, key, val, MDB_NEXT);
            continue;
        }
        if (key->mv_size < s->plen + 8)
            return MDB_CORRUPTED;
        n = key->mv_size - 8;
        b = store_bucket_get(k + n);
        if (b < s->from) {
            memcpy(tmp, k, n);
            store_bucket_put(tmp + n, s->from);
            rc = scan_seek(s, tmp, n + 8, key, val);
            continue;
        }
        if (b >= s->to) {
            memcpy(tmp, k, n);
            memset(tmp + n, 0xff, 8);
            rc = scan_seek(s, tmp, n + 8, key, val);
            if (rc == 0 && key->mv_size == n + 8 &&
                memcmp(key->mv_data, tmp, n + 8) == 0)
                rc = mdb_cursor_get(s->cur, key, val, MDB_NEXT);
            continue;
        }
        break;
    }
    if (rc == 0) {
        memcpy(s->last, key->mv_data, key->mv_size);
        s->llen = key->mv_size;
        s->state = STORE_SCAN_NEXT;
    } else if (rc == MDB_NOTFOUND) {
        s->state = STORE_SCAN_END;
    }
    return rc;
}

/* Prefix of a view's batch rows: version | view | 0x00 | level. */
int
store_batch_prefix(unsigned char *p, size_t *n, uint32_t version,
    const char *view, int level)
{
    size_t vl = strlen(view);

    if (4 + vl + 2 + 8 > STORE_KMAX)
        return -1;
    store_be32_put(p, version);
    memcpy(p + 4, view, vl);
    p[4 + vl] = 0x00;
    p[5 + vl] = (unsigned char)level;
    *n = vl + 6;
    return 0;
}

static int
iter_new(struct store_txn *t, MDB_dbi dbi, const struct view *v,
    const unsigned char *pre, size_t plen, const void *gkey, size_t gklen,
    int64_t from, int64_t to, struct store_iter **out, char *err)
{
    struct store_iter *it;
    int rc;

    if (plen + gklen + 8 > STORE_KMAX) {
        snprintf(err, ERR_LEN, "store %s: view %s: key too long",
            t->st->dir, v->name);
        return -1;
    }
    it = xcalloc(1, sizeof(*it));
    it->st = t->st;
    it->v = v;
    it->slots = xcalloc(v->nslots > 0 ? (size_t)v->nslots : 1,
        sizeof(int64_t));
    memcpy(it->s.pre, pre, plen);
    it->s.plen = plen;
    if (gkey != NULL) {
        store_copy(it->s.pre + plen, gkey, gklen);
        it->s.plen += gklen;
        it->s.exact = 1;
        store_copy(it->gkey, gkey, gklen);
        it->gklen = gklen;
    }
    it->s.from = from;
    it->s.to = to;
    it->s.state = from >= to ? STORE_SCAN_END : STORE_SCAN_START;
    if ((rc = mdb_cursor_open(t->txn, dbi, &it->s.cur)) != 0) {
        store_set_err(t->st, err, "mdb_cursor_open", rc);
        store_iter_free(it);
        return -1;
    }
    *out = it;
    return 0;
}

int
store_iter_batch(struct store_txn *t, int64_t version, const struct view *v,
    int level, const void *gkey, size_t gklen, int64_t from, int64_t to,
    struct store_iter **out, char *err)
{
    unsigned char pre[STORE_KMAX];
    size_t plen;

    if (version <= 0 || version > UINT32_MAX || level < STORE_LEVEL_BASE ||
        level > STORE_LEVEL_ALL ||
        store_batch_prefix(pre, &plen, (uint32_t)version, v->name,
        level) != 0) {
        snprintf(err, ERR_LEN, "store %s: view %s: bad batch version %lld, "
            "level %d or name", t->st->dir, v->name, (long long)version,
            level);
        return -1;
    }
    return iter_new(t, t->st->batch, v, pre, plen, gkey, gklen, from, to,
        out, err);
}

int
store_iter_speed(struct store_txn *t, const struct view *v, const void *gkey,
    size_t gklen, int64_t from, int64_t to, struct store_iter **out,
    char *err)
{
    unsigned char pre[STORE_KMAX];
    size_t vl = strlen(v->name);

    if (vl + 1 + 8 > STORE_KMAX) {
        snprintf(err, ERR_LEN, "store %s: view name too long", t->st->dir);
        return -1;
    }
    memcpy(pre, v->name, vl);
    pre[vl] = 0x00;
    return iter_new(t, t->st->speed, v, pre, vl + 1, gkey, gklen, from, to,
        out, err);
}

int
store_iter_next(struct store_iter *it, struct store_row *row, char *err)
{
    MDB_val k, d;
    size_t size = agg_row_size(it->v);
    int rc;

    rc = store_scan_next(&it->s, &k, &d);
    if (rc == MDB_NOTFOUND)
        return STORE_NOTFOUND;
    if (rc != 0) {
        store_set_err(it->st, err, "cursor", rc);
        return -1;
    }
    if (d.mv_size != size) {
        snprintf(err, ERR_LEN, "store %s: view %s: row of %zu bytes, "
            "expected %zu", it->st->dir, it->v->name, d.mv_size, size);
        return -1;
    }
    agg_row_decode(it->v, d.mv_data, it->slots);
    if (!it->s.exact) {
        /* the group key sits between the prefix and the bucket */
        it->gklen = k.mv_size - 8 - it->s.plen;
        store_copy(it->gkey, (const unsigned char *)k.mv_data + it->s.plen,
            it->gklen);
    }
    row->gkey = it->gkey;
    row->gklen = it->gklen;
    row->bucket = store_bucket_get((const unsigned char *)k.mv_data +
        k.mv_size - 8);
    row->slots = it->slots;
    return 0;
}

void
store_iter_free(struct store_iter *it)
{
    if (it == NULL)
        return;
    if (it->s.cur != NULL)
        mdb_cursor_close(it->s.cur);
    free(it->slots);
    free(it);
}

/* ---- speed ---- */

static int
speed_key(struct store_txn *t, const struct view *v, const void *gkey,
    size_t gklen, int64_t bucket, unsigned char *k, size_t *n, char *err)
{
    size_t vl = strlen(v->name);

    if (vl + 1 + gklen + 8 > STORE_KMAX) {
        snprintf(err, ERR_LEN, "store %s: view %s: key of %zu bytes too "
            "long", t->st->dir, v->name, vl + 1 + gklen + 8);
        return -1;
    }
    memcpy(k, v->name, vl);
    k[vl] = 0x00;
    if (gklen > 0)
        memcpy(k + vl + 1, gkey, gklen);
    store_bucket_put(k + vl + 1 + gklen, bucket);
    *n = vl + 1 + gklen + 8;
    return 0;
}

int
store_speed_merge(struct store_txn *t, const struct view *v, const void *gkey,
    size_t gklen, int64_t bucket, const int64_t *delta, char *err)
{
    unsigned char kb[STORE_KMAX];
    int64_t stackrow[64], *row = stackrow;
    size_t size = agg_row_size(v);
    MDB_val k, d;
    int rc, ret = -1;

    if (store_need_write(t, err) != 0 ||
        speed_key(t, v, gkey, gklen, bucket, kb, &k.mv_size, err) != 0)
        return -1;
    k.mv_data = kb;
    if (v->nslots > 64)
        row = xmalloc((size_t)v->nslots * sizeof(int64_t));
    rc = mdb_get(t->txn, t->st->speed, &k, &d);
    if (rc == 0) {
        if (d.mv_size != size) {
            snprintf(err, ERR_LEN, "store %s: view %s: speed row of %zu "
                "bytes, expected %zu", t->st->dir, v->name, d.mv_size, size);
            goto done;
        }
        agg_row_decode(v, d.mv_data, row);
    } else if (rc == MDB_NOTFOUND) {
        agg_row_init(v, row);
    } else {
        store_set_err(t->st, err, "get speed row", rc);
        goto done;
    }
    if (agg_row_merge(v, row, delta) != 0) {
        snprintf(err, ERR_LEN, "store %s: view %s: sum overflow in a speed "
            "row", t->st->dir, v->name);
        goto done;
    }
    d.mv_size = size;
    if ((rc = mdb_put(t->txn, t->st->speed, &k, &d, MDB_RESERVE)) != 0) {
        store_set_err(t->st, err, "put speed row", rc);
        goto done;
    }
    agg_row_encode(v, row, d.mv_data);
    ret = 0;
done:
    if (row != stackrow)
        free(row);
    return ret;
}

int
store_speed_prune(struct store_txn *t, int64_t cutoff, char *err)
{
    unsigned char tmp[STORE_KMAX];
    MDB_cursor *cur = NULL;
    MDB_val k, d;
    size_t n;
    int rc;

    if (store_need_write(t, err) != 0)
        return -1;
    if ((rc = mdb_cursor_open(t->txn, t->st->speed, &cur)) != 0)
        goto fail;
    rc = mdb_cursor_get(cur, &k, &d, MDB_FIRST);
    while (rc == 0) {
        if (k.mv_size < 8) {
            rc = MDB_CORRUPTED;
            break;
        }
        n = k.mv_size - 8;
        if (store_bucket_get((const unsigned char *)k.mv_data + n) < cutoff) {
            if ((rc = mdb_cursor_del(cur, 0)) != 0)
                break;
            rc = mdb_cursor_get(cur, &k, &d, MDB_NEXT);
            continue;
        }
        /* the rest of this group is at or after cutoff: skip past it */
        memcpy(tmp, k.mv_data, n);
        memset(tmp + n, 0xff, 8);
        k.mv_data = tmp;
        k.mv_size = n + 8;
        rc = mdb_cursor_get(cur, &k, &d, MDB_SET_RANGE);
        if (rc == 0 && k.mv_size == n + 8 && memcmp(k.mv_data, tmp, n + 8) == 0)
            rc = mdb_cursor_get(cur, &k, &d, MDB_NEXT);
    }
    if (rc != MDB_NOTFOUND)
        goto fail;
    mdb_cursor_close(cur);
    return 0;
fail:
    store_set_err(t->st, err, "prune speed rows", rc);
    if (cur != NULL)
        mdb_cursor_close(cur);
    return -1;
}

/* ---- offsets ---- */

static int
offset_name(struct store_txn *t, char *buf, size_t size, const char *topic,
    int32_t partition, char *err)
{
    int n = snprintf(buf, size, "offset/%s/%d", topic, (int)partition);

    if (n < 0 || (size_t)n >= size) {
        snprintf(err, ERR_LEN, "store %s: topic name too long", t->st->dir);
        return -1;
    }
    return 0;
}

int
store_offset_get(struct store_txn *t, const char *topic, int32_t partition,
    int64_t *next, char *err)
{
    char name[STORE_KMAX + 1];

    if (offset_name(t, name, sizeof(name), topic, partition, err) != 0)
        return -1;
    return store_meta_get_i64(t, name, next, err);
}

int
store_offset_put(struct store_txn *t, const char *topic, int32_t partition,
    int64_t next, char *err)
{
    char name[STORE_KMAX + 1];

    if (offset_name(t, name, sizeof(name), topic, partition, err) != 0)
        return -1;
    return store_meta_put_i64(t, name, next, err);
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
        goto fail;
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
                goto fail;
        }
        rc = mdb_cursor_get(cur, &k, &d, MDB_NEXT);
    }
    if (rc != 0 && rc != MDB_NOTFOUND)
        goto fail;
    mdb_cursor_close(cur);
    return 0;
fail:
    store_set_err(t->st, err, "purge meta", rc);
    if (cur != NULL)
        mdb_cursor_close(cur);
    return -1;
}

/*
 * Delete every batch row, span and signature of a version other than keep
 * (0: keep none), in transactions of at most CHUNK_ROWS deletes so that a
 * speed writer in another process never waits long.
 */
static int
purge(struct store *st, uint32_t keep, char *err)
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
    if (++w->nrows >= CHUNK_ROWS)
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

static void
writer_free(struct store_writer *w)
{
    if (w == NULL)
        return;
    old_close(w);
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

int
store_batch_lock(struct store *st, char *err)
{
    size_t n = strlen(st->dir) + sizeof("/" STORE_LOCK_FILE);
    char *path = xmalloc(n), pid[32];
    ssize_t got;
    int fd = -1, len, rc = -1;

    if (st->lockfd >= 0) {
        rc = 0;
        goto done;
    }
    snprintf(path, n, "%s/" STORE_LOCK_FILE, st->dir);
    if ((fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644)) < 0) {
        snprintf(err, ERR_LEN, "store %s: " STORE_LOCK_FILE ": %s", st->dir,
            strerror(errno));
        goto done;
    }
    if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
        if (errno == EWOULDBLOCK) {
            got = pread(fd, pid, sizeof(pid) - 1, 0);
            pid[got > 0 ? got : 0] = '\0';
            pid[strcspn(pid, "\n")] = '\0';
            snprintf(err, ERR_LEN, "another lambda-batch is running on %s "
                "(pid %s)", st->dir, pid[0] != '\0' ? pid : "unknown");
        } else {
            snprintf(err, ERR_LEN, "store %s: " STORE_LOCK_FILE ": flock: %s",
                st->dir, strerror(errno));
        }
        (void)close(fd);
        goto done;
    }
    /* the pid is for the message above only: a failure to record it
     * leaves "pid unknown" */
    len = snprintf(pid, sizeof(pid), "%ld\n", (long)getpid());
    if (ftruncate(fd, 0) == 0)
        (void)!pwrite(fd, pid, (size_t)len, 0);
    st->lockfd = fd;
    rc = 0;
done:
    free(path);
    return rc;
}

void
store_batch_unlock(struct store *st)
{
    if (st == NULL || st->lockfd < 0)
        return;
    (void)close(st->lockfd);    /* releases the flock */
    st->lockfd = -1;
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
            if (rc == 0 && old != w->sigs[i]) {
                snprintf(err, ERR_LEN, "store %s: view %s changed since "
                    "batch version %lld: recompute it whole (without "
                    "--from)", st->dir, p->views[i].name, (long long)cur);
                goto fail;
            }
        }
    }
    if (store_meta_put_i64(t, "batch.next", w->version, err) != 0)
        goto fail;
    rc = store_txn_commit(t, err);
    t = NULL;
    if (rc != 0 || purge(st, w->prev, err) != 0)
        goto fail;
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
        w_emit(w, gkey, gklen, bucket, row, err) != 0)
        return writer_fail(w);
    store_copy(w->lastput, gkey, gklen);
    store_bucket_put(w->lastput + gklen, bucket);
    w->lastlen = gklen + 8;
    return 0;
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
    if (w_flush(w, err) != 0)
        goto fail;

    info->version = w->version;
    info->published_at = now_ms(CLOCK_REALTIME);
    if (store_txn_begin(st, 1, &t, err) != 0)
        goto fail;
    if (store_meta_put_i64(t, "batch.version", info->version, err) != 0 ||
        store_meta_put_i64(t, "batch.cutoff", info->cutoff, err) != 0 ||
        store_meta_put_i64(t, "batch.published_at", info->published_at,
            err) != 0 ||
        store_meta_put_i64(t, "batch.events", info->events, err) != 0)
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
    rc = store_txn_commit(t, err);
    t = NULL;
    if (rc != 0)
        goto fail;
    /*
     * Published. The previous version's rows go now, in bounded
     * transactions; if this fails or is killed, the next
     * store_writer_begin() finishes it. Not a failure of the publish.
     */
    (void)purge(st, w->version, cleanup_err);
    writer_free(w);
    return 0;
fail:
    store_txn_abort(t);
    writer_free(w);
    return -1;
}

void
store_writer_abort(struct store_writer *w)
{
    writer_free(w);
}
