/* store_check.c -- what LMDB cannot check: data.mdb's size, the format, the meta values */
#include <sys/stat.h>

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <lmdb.h>

#include "shared/err.h"
#include "shared/now.h"
#include "shared/segment.h"
#include "shared/speedmeta.h"
#include "shared/store.h"
#include "shared/store_int.h"
#include "shared/viewdef.h"
#include "shared/viewswitch.h"
#include "shared/store_reset.h"
#include "shared/ts.h"

/*
 * LMDB trusts its file: a data.mdb shorter than the pages its meta says are
 * in use is mapped anyway, and the first read past the end is a SIGBUS; a
 * meta value out of range reaches code that assumed it sane. These checks
 * are cheap (no page of the trees is read), so they run at every open, and
 * the file size at every transaction. Damage inside the pages is found only
 * by a full walk (store_verify.c).
 */

#define CREATE_WAIT_MS 200      /* another process may be creating the file */

/* The integer meta values every program relies on, and their ranges. */
static const struct {
    const char *name;
    int64_t     lo, hi;
} ranges[] = {
    {"batch.version", 1, UINT32_MAX - 1},
    {"batch.next", 0, UINT32_MAX - 1},
    {"batch.cutoff", TS_MIN, TS_MAX},
    {"batch.published_at", TS_MIN, TS_MAX},
    {"batch.events", 0, INT64_MAX},
    {SPEEDMETA_WATERMARK, -TS_MAX, TS_MAX},
    {SPEEDMETA_UPDATED_AT, TS_MIN, TS_MAX},
    {SEGMENT_TMAX_PRUNED, INT64_MIN, INT64_MAX},
};

/* Integer meta values under a prefix: "offset/T/P" (next offset to consume),
 * "sig/V/VIEW", "speedsig/VIEW" (signatures: any value). */
static const struct {
    const char *prefix;
    int64_t     lo, hi;
} prefixes[] = {
    {"offset/", 0, INT64_MAX},
    {"sig/", INT64_MIN, INT64_MAX},
    {"speedsig/", INT64_MIN, INT64_MAX},
    {VIEWSWITCH_GAP_PREFIX, TS_MIN, TS_MAX},
    {SEGMENT_TMAX_PREFIX, INT64_MIN, INT64_MAX},
};

int
store_damaged(struct store *st, char *err, const char *fmt, ...)
{
    char what[ERR_LEN];
    int room;
    va_list ap;

    va_start(ap, fmt);
    (void)vsnprintf(what, sizeof(what), fmt, ap);
    va_end(ap);
    /* what to do is the part to keep whole: cut the directory, then what */
    room = ERR_LEN - (int)sizeof("store : ; " STORE_DAMAGED_FIX);
    if (snprintf(err, ERR_LEN, "store %.*s: %.*s; %s", room / 3, st->dir,
        room - (int)(strlen(st->dir) < (size_t)room / 3 ? strlen(st->dir) :
        (size_t)room / 3), what, STORE_DAMAGED_FIX) >= ERR_LEN)
        err[ERR_LEN - 1] = '\0';
    return -1;
}

/* ---- the file ---- */

int
store_check_file_early(struct store *st, const char *path, char *err)
{
    long ps = sysconf(_SC_PAGESIZE);
    int64_t min = 2 * (ps > 0 ? ps : 4096);
    struct timespec nap = {0, 5000000};
    struct stat sb;
    int waited = 0;

    for (;;) {
        if (stat(path, &sb) != 0)
            return 0;           /* missing: LMDB creates it, or says so */
        if (!S_ISREG(sb.st_mode))
            return store_damaged(st, err, "data.mdb is not a regular file");
        if (sb.st_size >= min)
            return 0;
        /* LMDB writes a new file's two header pages at once, under its
         * exclusive lock: a file that stays short was cut */
        if (waited >= CREATE_WAIT_MS)
            break;
        (void)nanosleep(&nap, NULL);
        waited += 5;
    }
    if (sb.st_size == 0)
        return store_damaged(st, err, "data.mdb is empty: the file was "
            "truncated or never written");
    return store_damaged(st, err, "data.mdb is %lld bytes, shorter than "
        "LMDB's two header pages: the file is truncated",
        (long long)sb.st_size);
}

/*
 * A SIGBUS while free_past() reads LMDB's free list means the list itself
 * lies past the end of the file: damage, not a crash. The handler jumps
 * back only for the thread inside free_past(); anywhere else it puts the
 * previous action back and returns, so the fault repeats and ends the
 * process as it would have.
 */
static __thread sigjmp_buf *bus_jump;
static struct sigaction bus_old;
static pthread_once_t bus_once = PTHREAD_ONCE_INIT;

static void
on_bus(int sig)
{
    if (bus_jump != NULL)
        siglongjmp(*bus_jump, 1);
    (void)sigaction(sig, &bus_old, NULL);
}

static void
bus_install(void)
{
    struct sigaction sa;

    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_bus;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = SA_NODEFER;
    (void)sigaction(SIGBUS, &sa, &bus_old);
}

/*
 * Pages past the end of the file are not damage when they are all free:
 * LMDB does not write a page its writer allocated and freed again in the
 * same transaction (a "loose" page, which goes to the free list), so the
 * newest meta's last page may lie past the file's end (seen under
 * concurrent writers). Counts the free pages numbered from first up in the
 * free list of the snapshot whose meta said seen; 0 and *n, 1 when a commit
 * raced the look (ask again), -1 on an LMDB error or a free list that is
 * itself past the end.
 */
static int
free_past(struct store *st, uint64_t first, const MDB_envinfo *seen,
    uint64_t *n)
{
    MDB_envinfo now;
    MDB_txn *volatile txn = NULL;
    MDB_cursor *volatile c = NULL;
    MDB_val k, d;
    sigjmp_buf jb;
    volatile int rc = -1;

    (void)pthread_once(&bus_once, bus_install);
    if (mdb_txn_begin(st->env, NULL, MDB_RDONLY, (MDB_txn **)&txn) != 0)
        return -1;
    if (mdb_env_info(st->env, &now) != 0 ||
        now.me_last_txnid != seen->me_last_txnid ||
        mdb_txn_id(txn) != seen->me_last_txnid) {
        mdb_txn_abort(txn);
        return 1;
    }
    *n = 0;
    if (sigsetjmp(jb, 1) == 0) {
        bus_jump = &jb;
        /* dbi 0: LMDB's free list, records of [count, page...] */
        if (mdb_cursor_open(txn, 0, (MDB_cursor **)&c) == 0) {
            int got;

            for (got = mdb_cursor_get(c, &k, &d, MDB_FIRST); got == 0;
                got = mdb_cursor_get(c, &k, &d, MDB_NEXT)) {
                const size_t *idl = d.mv_data;
                size_t i, cnt = d.mv_size / sizeof(size_t);

                if (cnt == 0 || idl[0] > cnt - 1)
                    break;
                for (i = 1; i <= idl[0]; i++)
                    if (idl[i] >= first && idl[i] <= seen->me_last_pgno)
                        (*n)++;
            }
            rc = got == MDB_NOTFOUND ? 0 : -1;
        }
    }
    bus_jump = NULL;
    if (c != NULL)
        mdb_cursor_close(c);
    mdb_txn_abort(txn);
    return rc;
}

/*
 * A file that held `pages` pages less than CHECK_FRESH_NS ago, when the
 * newest meta needs no more, still does: no fstat for it. A server begins
 * tens of thousands of transactions a second and the fstat was 6% of a
 * small answer's time; a file cut since is seen by the transactions that
 * begin a millisecond later or more (one already reading was never safe).
 */
#define CHECK_FRESH_NS 1000000

int
store_check_file(struct store *st, char *err)
{
    MDB_envinfo info;
    struct stat sb;
    uint64_t need, have, nfree, now;
    int rc, tries;

    for (tries = 0;; tries++) {
        /* the last page first: a commit in between only grows the file */
        if ((rc = mdb_env_info(st->env, &info)) != 0) {
            store_set_err(st, err, "mdb_env_info", rc);
            return -1;
        }
        now = (uint64_t)now_mono_ns();
        if (now - atomic_load_explicit(&st->checked_ns,
            memory_order_acquire) < CHECK_FRESH_NS &&
            (uint64_t)info.me_last_pgno + 1 <= atomic_load_explicit(
            &st->checked_pages, memory_order_relaxed))
            return 0;
        if (fstat(st->fd, &sb) != 0) {
            snprintf(err, ERR_LEN, "store %s: data.mdb: fstat: %s", st->dir,
                strerror(errno));
            return -1;
        }
        need = ((uint64_t)info.me_last_pgno + 1) * st->psize;
        if ((uint64_t)sb.st_size >= need) {
            /* pages before time: a reader that sees the time sees pages
             * at least this fresh (both only ever move forward here) */
            atomic_store_explicit(&st->checked_pages,
                (uint64_t)sb.st_size / st->psize, memory_order_relaxed);
            atomic_store_explicit(&st->checked_ns, now,
                memory_order_release);
            return 0;
        }
        have = (uint64_t)sb.st_size / st->psize;    /* pages wholly there */
        rc = free_past(st, have, &info, &nfree);
        if (rc == 0 && nfree >= info.me_last_pgno + 1 - have)
            return 0;
        if (rc != 1 || tries == 3)
            break;
    }
    return store_damaged(st, err, "data.mdb is %lld bytes but its last "
        "page ends at %llu: the file is truncated",
        (long long)sb.st_size, (unsigned long long)need);
}

/* ---- meta values ---- */

int
store_check_i64(struct store *st, const char *name, int64_t v, char *err)
{
    size_t i;

    for (i = 0; i < sizeof(ranges) / sizeof(ranges[0]); i++) {
        if (strcmp(name, ranges[i].name) != 0)
            continue;
        if (v < ranges[i].lo || v > ranges[i].hi)
            return store_damaged(st, err, "meta %s is %lld, out of range "
                "(%lld to %lld)", name, (long long)v,
                (long long)ranges[i].lo, (long long)ranges[i].hi);
        return 0;
    }
    return 0;
}

static int
check_int(struct store *st, const char *name, const void *val, size_t len,
    int64_t lo, int64_t hi, char *err)
{
    int64_t v;

    if (len != 8)
        return store_damaged(st, err, "meta %.100s is %zu bytes, not an "
            "8-byte integer", name, len);
    v = store_le64_get(val);
    if (v < lo || v > hi)
        return store_damaged(st, err, "meta %.100s is %lld, out of range "
            "(%lld to %lld)", name, (long long)v, (long long)lo,
            (long long)hi);
    return 0;
}

int
store_check_meta_entry(struct store *st, const char *name, const void *val,
    size_t len, int deep, char *err)
{
    struct speedmeta_status ss;
    struct segment seg;
    size_t i;
    int rc;

    if (strcmp(name, "format") == 0)
        return check_int(st, name, val, len, 1, INT64_MAX, err);
    for (i = 0; i < sizeof(ranges) / sizeof(ranges[0]); i++)
        if (strcmp(name, ranges[i].name) == 0)
            return check_int(st, name, val, len, ranges[i].lo, ranges[i].hi,
                err);
    for (i = 0; i < sizeof(prefixes) / sizeof(prefixes[0]); i++)
        if (strncmp(name, prefixes[i].prefix,
            strlen(prefixes[i].prefix)) == 0)
            return check_int(st, name, val, len, prefixes[i].lo,
                prefixes[i].hi, err);
    if (strncmp(name, "span/", 5) == 0) {
        if (len == 16 && store_le64_get(val) <=
            store_le64_get((const unsigned char *)val + 8) &&
            store_le64_get(val) >= TS_MIN &&
            store_le64_get((const unsigned char *)val + 8) <= TS_MAX)
            return 0;
        return store_damaged(st, err, "meta %.100s: not a span of buckets",
            name);
    }
    if (strncmp(name, STORE_REPLAY_PREFIX,
        strlen(STORE_REPLAY_PREFIX)) == 0) {
        if (len == 16 && store_le64_get(val) >= 0)
            return 0;
        return store_damaged(st, err, "meta %.100s: not a replay floor",
            name);
    }
    if (strcmp(name, SPEEDMETA_STATUS) == 0) {
        if (!deep)
            return 0;
        speedmeta_status_init(&ss);
        rc = speedmeta_status_parse(&ss, val, len);
        speedmeta_status_reset(&ss);
        return rc == 0 ? 0 : store_damaged(st, err, "meta %s is not a JSON "
            "object", name);
    }
    /* the publish log's records: store_publog.c reads them, and a damaged
     * one makes only its /v1/publishes answer fail */
    if (strncmp(name, "publog/", 7) == 0 || strncmp(name, "publogv/", 8) == 0)
        return 0;
    if (strncmp(name, VIEWDEF_PREFIX, strlen(VIEWDEF_PREFIX)) == 0)
        return 0;               /* a pipeline text: viewdef_get() checks it */
    if (strncmp(name, SEGMENT_KEY_PREFIX, strlen(SEGMENT_KEY_PREFIX)) == 0) {
        if (!deep || segment_parse(&seg, val, len) == 0)
            return 0;
        return store_damaged(st, err, "meta %.100s is not a segment record",
            name);
    }
    return 1;
}

int
store_check_version_meta(struct store_txn *t, char *err)
{
    static const char *const needs[] = {"batch.cutoff", "batch.published_at",
        "batch.events"};
    int64_t version;
    const void *p;
    size_t i, n;

    if (store_meta_get_i64(t, "batch.version", &version, err) != 0)
        return 0;
    for (i = 0; i < sizeof(needs) / sizeof(needs[0]); i++)
        if (store_meta_get(t, needs[i], &p, &n, err) != 0)
            return store_damaged(t->st, err, "meta batch.version is %lld "
                "but %s is missing", (long long)version, needs[i]);
    return 0;
}

int
store_check_meta(struct store_txn *t, char *err)
{
    char name[STORE_KMAX + 1];
    MDB_cursor *cur = NULL;
    MDB_val k, d;
    int rc;

    if ((rc = mdb_cursor_open(t->txn, t->st->meta, &cur)) != 0)
        return store_cursor_done(t, NULL, rc, "meta", err);
    for (rc = mdb_cursor_get(cur, &k, &d, MDB_FIRST); rc == 0;
        rc = mdb_cursor_get(cur, &k, &d, MDB_NEXT)) {
        if (k.mv_size > STORE_KMAX) {
            mdb_cursor_close(cur);
            return store_damaged(t->st, err, "a meta name of %zu bytes",
                k.mv_size);
        }
        memcpy(name, k.mv_data, k.mv_size);
        name[k.mv_size] = '\0';
        if (store_check_meta_entry(t->st, name, d.mv_data, d.mv_size, 0,
            err) < 0) {
            mdb_cursor_close(cur);
            return -1;
        }
    }
    if (store_cursor_done(t, cur, rc, "meta", err) != 0)
        return -1;
    return store_check_version_meta(t, err);
}
