/* store_int.h -- private to shared/store*.c: the handle, keys, scans */
#ifndef SHARED_STORE_INT_H
#define SHARED_STORE_INT_H

#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <lmdb.h>

/*
 * Private to shared/store*.c; programs and tests use store.h only.
 *
 *     store.c         the environment, transactions, meta, batch info
 *     store_check.c   checks at open: data.mdb's size, the meta values
 *     store_err.c     what a failed LMDB call means: map full, disk full, damage
 *     store_verify.c  the full walk of lambda-batch --verify
 *     store_sig.c     view signatures (store_view_check, store_speed_sign)
 *     store_iter.c    cursor scans and row iterators
 *     store_speed.c   speed rows and Kafka offsets
 *     store_lock.c    the batch lock
 *     store_writer.c  the batch writer: rows, rollups, publish, purge
 *     store_diff.c    a new version against the current one (publog.h)
 *     store_publog.c  the publish log (publog.h)
 *     store_late.c    the late-data ledger (late.h)
 *
 * Keys (store.h):
 *     batch  version(4 BE) | view | 0x00 | level(1) | group key | bucket(8)
 *     speed  view | 0x00 | group key | bucket(8)
 * Batch meta: "batch.version", "batch.cutoff", "batch.published_at",
 * "batch.events", "batch.next" (highest version ever reserved, so a killed
 * run's number is never reused), "span/V/VIEW" (first, last base bucket) and
 * "sig/V/VIEW" (pipeline_view_signature() of the rows) per published version.
 * Integers in meta are 8 bytes little-endian.
 */

#define STORE_KMAX 511          /* LMDB's default maximum key size */

/* store_open() flag of store_verify()'s walk: open a store whose meta values
 * are damaged (the walk reports each); the file is checked all the same. */
#define STORE_NOCHECK 0x100

struct store {
    MDB_env         *env;
    MDB_dbi          meta, batch, speed;
    MDB_dbi          late;      /* the ledger (late.h), if has_late */
    int              has_late;  /* 0: a read-only open of an older store */
    char            *dir;
    unsigned         flags;
    pthread_mutex_t  mu;        /* guards live and resizing */
    pthread_cond_t   cv;
    int              sync_init; /* mu and cv were initialised */
    int              live;      /* transactions of this process */
    int              resizing;
    int              lockfd;    /* the batch lock while held, else -1 */
    int              writing;   /* a store_writer is open on this handle */
    int              fd;        /* LMDB's descriptor of data.mdb */
    unsigned         psize;     /* LMDB's page size */
    uint64_t         serial;    /* this open's number (store_txn_snapid()) */
    _Atomic uint64_t checked_pages; /* data.mdb's pages at the last check */
    _Atomic uint64_t checked_ns;    /* and its monotonic time */
};

struct store_txn {
    struct store *st;
    MDB_txn      *txn;
    int           write;
};

enum {
    STORE_SCAN_START, STORE_SCAN_NEXT, STORE_SCAN_RESEEK, STORE_SCAN_END
};

/* A cursor walk over rows sharing a prefix, with [from, to) on buckets. */
struct store_scan {
    MDB_cursor    *cur;
    unsigned char  pre[STORE_KMAX]; /* prefix; with exact, the group key too */
    size_t         plen;
    int            exact;           /* only keys of length plen + 8 */
    int64_t        from, to;
    unsigned char  last[STORE_KMAX]; /* key last returned, for RESEEK */
    size_t         llen;
    int            state;
};

/* ---- encodings ---- */

/* Big-endian, n bytes of u: memcmp order is numeric order. */
static inline void
store_be_put(unsigned char *p, uint64_t u, int n)
{
    while (n-- > 0) {
        p[n] = (unsigned char)u;
        u >>= 8;
    }
}

static inline uint64_t
store_be_get(const unsigned char *p, int n)
{
    uint64_t u = 0;

    for (int i = 0; i < n; i++)
        u = u << 8 | p[i];
    return u;
}

static inline void
store_be32_put(unsigned char *p, uint32_t v)
{
    store_be_put(p, v, 4);
}

static inline uint32_t
store_be32_get(const unsigned char *p)
{
    return (uint32_t)store_be_get(p, 4);
}

/* A bucket: big-endian with the sign bit flipped, so that key order is time
 * order. */
static inline void
store_bucket_put(unsigned char *p, int64_t b)
{
    store_be_put(p, (uint64_t)b ^ (1ULL << 63), 8);
}

static inline int64_t
store_bucket_get(const unsigned char *p)
{
    return (int64_t)(store_be_get(p, 8) ^ (1ULL << 63));
}

static inline void
store_le64_put(unsigned char *p, int64_t v)
{
    uint64_t u = (uint64_t)v;
    int i;

    for (i = 0; i < 8; i++) {
        p[i] = (unsigned char)u;
        u >>= 8;
    }
}

static inline int64_t
store_le64_get(const unsigned char *p)
{
    uint64_t u = 0;
    int i;

    for (i = 7; i >= 0; i--)
        u = u << 8 | p[i];
    return (int64_t)u;
}

/* memcpy() that accepts (NULL, 0): the empty group key is NULL, 0. */
static inline void
store_copy(void *dst, const void *src, size_t n)
{
    if (n > 0)
        memcpy(dst, src, n);
}

/* ---- store.c ---- */

/* Put the reason for LMDB's rc while doing what into err: "store DIR: WHAT:
 * REASON"; a full map, a full disk and a damaged page are named as such,
 * with what to do ("store DIR: map full: ...", "store DIR: disk full:
 * ..."). */
void store_set_err(struct store *st, char *err, const char *what, int rc);

/* (store_speed.c) A meta name of one topic partition, PREFIX TOPIC/P, in
 * buf. Returns 0, or -1 with err when it does not fit ("topic name too
 * long"). */
int store_part_name(struct store_txn *t, char *buf, size_t size,
    const char *prefix, const char *topic, int32_t partition, char *err);

/*
 * End a cursor walk in t: close cur (NULL: it was never opened) and return
 * 0 when rc is 0 or MDB_NOTFOUND (the walk ran off its keys), else -1 with
 * err about what (store_set_err()).
 */
int store_cursor_done(struct store_txn *t, MDB_cursor *cur, int rc,
    const char *what, char *err);

/* 0 in a write transaction, else -1 with err. */
int store_need_write(struct store_txn *t, char *err);

/* The meta name "KIND/VERSION/VIEW" ("span", "sig") into buf; -1 when it
 * does not fit in size. */
int store_span_name(char *buf, size_t size, const char *kind, int64_t version,
    const char *view);

/* ---- store_check.c ---- */

/* What to do about a damaged store, the end of every such message. */
#define STORE_DAMAGED_FIX "restore it from a backup, or move it away and " \
    "run lambda-batch (lambda-speed replays Kafka)"

/* Put "store DIR: WHAT; STORE_DAMAGED_FIX" into err (WHAT printf-style,
 * truncated to fit). Returns -1. */
int store_damaged(struct store *st, char *err, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/*
 * Before mdb_env_open(): data.mdb at path, if it exists, must be a regular
 * file of at least two pages (LMDB's headers). A shorter one is given
 * CREATE_WAIT_MS to grow, as another process may be creating it. Returns 0,
 * or -1 with err.
 */
int store_check_file_early(struct store *st, const char *path, char *err);

/* data.mdb must hold every page LMDB's newest meta says is in use. Cheap
 * (fstat and LMDB's meta); returns 0, or -1 with err. */
int store_check_file(struct store *st, char *err);

/* An integer meta value the programs rely on must be in its range: 0, or
 * -1 with err ("meta batch.version is -5, out of range ..."). Names
 * without a range pass. */
int store_check_i64(struct store *st, const char *name, int64_t v, char *err);

/*
 * One meta entry: the names the store and its programs own hold values of
 * their kind in range (integers of 8 bytes, spans, "format"). With deep, also
 * the records only some program parses (speed's status, archive segments).
 * Returns 0, 1 for a name this build does not know, or -1 with err.
 */
int store_check_meta_entry(struct store *st, const char *name,
    const void *val, size_t len, int deep, char *err);

/* A published version's companions are present (cutoff, time, events).
 * Returns 0, or -1 with err. */
int store_check_version_meta(struct store_txn *t, char *err);

/* Every meta entry of t (store_check_meta_entry(), not deep), and
 * store_check_version_meta(). Returns 0, or -1 with err. */
int store_check_meta(struct store_txn *t, char *err);

/* ---- store_iter.c ---- */

/*
 * Next row of the scan: 0 with key and val (valid until the cursor moves),
 * MDB_NOTFOUND at the end, or an LMDB error. s->cur must be open and s set
 * up (pre, plen, exact, from, to, state STORE_SCAN_START).
 */
int store_scan_next(struct store_scan *s, MDB_val *key, MDB_val *val);

/* Prefix of a view's batch rows, version | view | 0x00 | level, into p
 * (STORE_KMAX bytes) and its length into *n; -1 when the view's name leaves
 * no room for a key. */
int store_batch_prefix(unsigned char *p, size_t *n, uint32_t version,
    const char *view, int level);

#endif
