/* store.c -- LMDB store: environment, open, transactions, meta, batch info */
#include <sys/stat.h>

#include <assert.h>
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <lmdb.h>

#include "shared/err.h"
#include "shared/fs.h"
#include "shared/mem.h"
#include "shared/now.h"
#include "shared/store.h"
#include "shared/store_int.h"
#include "shared/ts.h"

static _Atomic uint64_t store_serials;     /* opens so far: store->serial */

/*
 * MDB_MAP_RESIZED (another process grew the map past ours) is handled at txn
 * begin with mdb_env_set_mapsize(env, 0), which LMDB allows only while this
 * process has no transaction live. So every transaction is counted in
 * st->live under st->mu; a resize waits (bounded) for live to reach zero
 * while new transactions wait for the resize. A mutex and a counter, not a
 * rwlock, because with MDB_NOTLS a read transaction may end in another thread
 * than the one that began it.
 */

#define RESIZE_WAIT_MS 2000
#define MAP_MIN (64u << 10)

int
store_cursor_done(struct store_txn *t, MDB_cursor *cur, int rc,
    const char *what, char *err)
{
    if (cur != NULL)
        mdb_cursor_close(cur);
    if (rc == 0 || rc == MDB_NOTFOUND)
        return 0;
    store_set_err(t->st, err, what, rc);
    return -1;
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
    int64_t due;
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
    /* st->cv waits on CLOCK_MONOTONIC (store_open) */
    due = now_mono_ns() + (int64_t)RESIZE_WAIT_MS * 1000000;
    dl.tv_sec = (time_t)(due / 1000000000);
    dl.tv_nsec = (long)(due % 1000000000);
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
    /* a file cut under us would be a SIGBUS at the first read past its end */
    if (st->psize != 0 && store_check_file(st, err) != 0) {
        store_txn_abort(*out);
        *out = NULL;
        return -1;
    }
    return 0;
}

void
store_txn_snapid(const struct store_txn *t, uint64_t id[2])
{
    id[0] = t->st->serial;
    id[1] = (uint64_t)mdb_txn_id(t->txn);
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

int
store_map_size_check(char *err)
{
    const char *env = getenv("LAMBDA_MAP_SIZE");
    uint64_t size;

    if (env == NULL || *env == '\0')
        return 0;
    return parse_map_size(env, &size, err);
}

static int
not_created(const char *dir, char *err)
{
    snprintf(err, ERR_LEN, "store %s: not created yet (run lambda-batch or "
        "lambda-speed first)", dir);
    return -1;
}

/* The last page in use, as LMDB's newest header says; 0 unknown. */
static uint64_t
last_pgno(struct store *st)
{
    MDB_envinfo info;

    return mdb_env_info(st->env, &info) == 0 ? info.me_last_pgno : 0;
}

/*
 * The format number d: 0 when it is this build's, 1 when it is an older one
 * this build reads (STORE_FORMAT_OLDEST on), or -1 with err.
 */
static int
check_format(struct store *st, const MDB_val *d, char *err)
{
    int64_t f = d->mv_size == 8 ? store_le64_get(d->mv_data) : 0;

    if (f < 1)
        return store_damaged(st, err, "meta format is not a format number");
    if (f > STORE_FORMAT) {
        snprintf(err, ERR_LEN, "store %s: format %lld is newer than this "
            "build reads (formats %d to %d): run a newer lambdakit on it, or "
            "give the pipeline another store", st->dir, (long long)f,
            STORE_FORMAT_OLDEST, STORE_FORMAT);
        return -1;
    }
    if (f < STORE_FORMAT_OLDEST) {
        snprintf(err, ERR_LEN, "store %s: format %lld is older than this "
            "build reads (formats %d to %d): rebuild it with lambda-batch in "
            "a new store", st->dir, (long long)f, STORE_FORMAT_OLDEST,
            STORE_FORMAT);
        return -1;
    }
    return f < STORE_FORMAT;
}

/*
 * Open the named databases, check (or, new, write) the format, moving an
 * older one on in a write transaction, and check the meta values.
 */
static int
open_dbs(struct store *st, char *err)
{
    int rdonly = (st->flags & STORE_RDONLY) != 0;
    unsigned cflag = rdonly ? 0 : MDB_CREATE;
    struct store_txn *t = NULL;
    unsigned char v[8];
    MDB_stat ms, bs, ss;
    MDB_val k, d;
    int rc;

    if (store_txn_begin(st, !rdonly, &t, err) != 0)
        return -1;
    if ((rc = mdb_dbi_open(t->txn, "meta", cflag, &st->meta)) != 0 ||
        (rc = mdb_dbi_open(t->txn, "batch", cflag, &st->batch)) != 0 ||
        (rc = mdb_dbi_open(t->txn, "speed", cflag, &st->speed)) != 0) {
        if (rc == MDB_NOTFOUND && last_pgno(st) > 1)
            /* pages in use, yet not ours: LMDB's main database is hit */
            store_damaged(st, err, "data.mdb holds pages but not the "
                "store's databases: a page is damaged");
        else if (rc == MDB_NOTFOUND) {
            /* a writer created data.mdb and has not committed yet */
            not_created(st->dir, err);
            store_txn_abort(t);
            return STORE_NOTFOUND;
        } else
            store_set_err(st, err, "mdb_dbi_open", rc);
        goto fail;
    }
    /* the late-data ledger (late.h): an older store has none until its
     * first writer opens it */
    rc = mdb_dbi_open(t->txn, "late", cflag, &st->late);
    if (rc != 0 && (rc != MDB_NOTFOUND || !rdonly)) {
        store_set_err(st, err, "mdb_dbi_open late", rc);
        goto fail;
    }
    st->has_late = rc == 0;
    k.mv_data = (void *)"format";
    k.mv_size = 6;
    rc = mdb_get(t->txn, st->meta, &k, &d);
    if (rc == 0) {
        if ((rc = check_format(st, &d, err)) < 0)
            goto fail;
        if (rc == 0 || rdonly)
            goto meta;
        /* an older format, whose rows are valid rows of this one: the
         * first write transaction moves it on */
    } else if (rc != MDB_NOTFOUND) {
        store_set_err(st, err, "get format", rc);
        goto fail;
    } else if (rdonly) {
        not_created(st->dir, err);
        goto fail;
    } else {
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
    }
    store_le64_put(v, STORE_FORMAT);
    d.mv_data = v;
    d.mv_size = 8;
    if ((rc = mdb_put(t->txn, st->meta, &k, &d, 0)) != 0) {
        store_set_err(st, err, "put format", rc);
        goto fail;
    }
meta:
    if (!(st->flags & STORE_NOCHECK) && store_check_meta(t, err) != 0)
        goto fail;
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
    char *path = NULL, e[ERR_LEN];
    MDB_stat ms;
    size_t plen;
    int rc, dead, ret = -1;

    st->dir = xstrdup(dir);
    st->flags = flags;
    st->lockfd = -1;
    st->fd = -1;
    st->serial = atomic_fetch_add(&store_serials, 1) + 1;
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
    plen = strlen(dir) + sizeof("/data.mdb");
    path = xmalloc(plen);
    snprintf(path, plen, "%s/data.mdb", dir);
    if (flags & STORE_RDONLY) {
        if (stat(path, &sb) != 0 && errno == ENOENT) {
            not_created(dir, err);
            ret = STORE_NOTFOUND;
            goto fail;
        }
    } else if (fs_mkdir_p(dir, 0755, e) != 0) {
        snprintf(err, ERR_LEN, "store %s: %.200s", dir, e);
        goto fail;
    }
    if (store_check_file_early(st, path, err) != 0)
        goto fail;

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
        ret = STORE_NOTFOUND;
        goto fail;
    }
    if (rc == MDB_INVALID) {
        store_damaged(st, err, "data.mdb is not an LMDB file: its header "
            "pages are damaged");
        goto fail;
    }
    if (rc == MDB_VERSION_MISMATCH) {
        snprintf(err, ERR_LEN, "store %s: data.mdb was written by an LMDB "
            "of another data format than this build's %s", dir,
            mdb_version(NULL, NULL, NULL));
        goto fail;
    }
    if (rc != 0) {
        store_set_err(st, err, "mdb_env_open", rc);
        goto fail;
    }
    if ((rc = mdb_env_get_fd(st->env, &st->fd)) != 0 ||
        (rc = mdb_env_stat(st->env, &ms)) != 0) {
        store_set_err(st, err, "mdb_env_stat", rc);
        goto fail;
    }
    st->psize = ms.ms_psize;
    /* free reader slots of killed processes, or they pin old pages forever */
    (void)mdb_reader_check(st->env, &dead);
    if ((ret = open_dbs(st, err)) != 0)
        goto fail;
    free(path);
    *out = st;
    return 0;
fail:
    free(path);
    store_free(st);
    return ret;
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
        char what[128];

        snprintf(what, sizeof(what), "get %.100s", name);
        store_set_err(t->st, err, what, rc);
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
        goto done;
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
done:
    return store_cursor_done(t, cur, rc, "meta scan", err);
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
        return store_check_i64(t->st, "batch.version", info->version, err) ||
            store_check_i64(t->st, "batch.cutoff", info->cutoff, err) ||
            store_check_i64(t->st, "batch.published_at", info->published_at,
            err) ||
            store_check_i64(t->st, "batch.events", info->events, err) ? -1 : 0;
    if (rc == STORE_NOTFOUND)
        store_damaged(t->st, err, "meta batch.version is %lld but the "
            "version's cutoff, time or events are missing",
            (long long)info->version);
    return -1;
}

int
store_span_name(char *buf, size_t size, const char *kind, int64_t version,
    const char *view)
{
    int n = snprintf(buf, size, "%s/%lld/%s", kind, (long long)version, view);

    return n < 0 || (size_t)n >= size ? -1 : 0;
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
    if (n != 16)
        return store_damaged(t->st, err, "meta %.100s is %zu bytes, not a "
            "span of buckets", name, n);
    *first = store_le64_get(p);
    *last = store_le64_get((const unsigned char *)p + 8);
    if (*first > *last || *first < TS_MIN || *last > TS_MAX)
        return store_damaged(t->st, err, "meta %.100s: not a span of "
            "buckets", name);
    return 0;
}

