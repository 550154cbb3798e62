/* store_check.c -- what LMDB cannot check: data.mdb's size, the format, the meta values */
#include <sys/stat.h>

#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <lmdb.h>

#include "shared/err.h"
#include "shared/speedmeta.h"
#include "shared/store.h"
#include "shared/store_int.h"
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

int
store_check_file(struct store *st, char *err)
{
    MDB_envinfo info;
    struct stat sb;
    uint64_t need;
    int rc;

    /* the last page first: a commit in between only grows the file */
    if ((rc = mdb_env_info(st->env, &info)) != 0) {
        store_set_err(st, err, "mdb_env_info", rc);
        return -1;
    }
    if (fstat(st->fd, &sb) != 0) {
        snprintf(err, ERR_LEN, "store %s: data.mdb: fstat: %s", st->dir,
            strerror(errno));
        return -1;
    }
    need = ((uint64_t)info.me_last_pgno + 1) * st->psize;
    if ((uint64_t)sb.st_size < need)
        return store_damaged(st, err, "data.mdb is %lld bytes but its last "
            "page ends at %llu: the file is truncated",
            (long long)sb.st_size, (unsigned long long)need);
    return 0;
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

/* One integer meta value by name: absent is fine, else 8 bytes in range. */
static int
check_named(struct store_txn *t, const char *name, int *present, char *err)
{
    int64_t v;
    int rc;

    rc = store_meta_get_i64(t, name, &v, err);
    if (rc == STORE_NOTFOUND) {
        *present = 0;
        return 0;
    }
    if (rc != 0) {
        if (strstr(err, "not an integer") != NULL)
            return store_damaged(t->st, err, "meta %s is not an 8-byte "
                "integer", name);
        return -1;
    }
    *present = 1;
    return store_check_i64(t->st, name, v, err);
}

struct scan_check {
    struct store *st;
    int64_t       lo, hi;
    int           span;     /* values are spans: 16 bytes, first <= last */
    int           bad;
    char         *err;
};

static int
scan_value(void *arg, const char *name, const void *val, size_t len)
{
    struct scan_check *c = arg;
    int64_t a, b;

    if (c->span) {
        if (len == 16) {
            a = store_le64_get(val);
            b = store_le64_get((const unsigned char *)val + 8);
            if (a <= b && a >= TS_MIN && b <= TS_MAX)
                return 0;
        }
        c->bad = 1;
        store_damaged(c->st, c->err, "meta %.100s: not a span of "
            "buckets", name);
        return 1;
    }
    if (len == 8) {
        a = store_le64_get(val);
        if (a >= c->lo && a <= c->hi)
            return 0;
        c->bad = 1;
        store_damaged(c->st, c->err, "meta %.100s is %lld, out of range",
            name, (long long)a);
        return 1;
    }
    c->bad = 1;
    store_damaged(c->st, c->err, "meta %.100s is %zu bytes, not an 8-byte "
        "integer", name, len);
    return 1;
}

static int
check_prefix(struct store_txn *t, const char *prefix, int64_t lo, int64_t hi,
    int span, char *err)
{
    struct scan_check c = {t->st, lo, hi, span, 0, err};

    if (store_meta_scan(t, prefix, scan_value, &c, err) != 0)
        return -1;
    return c.bad ? -1 : 0;
}

int
store_check_meta(struct store_txn *t, char *err)
{
    static const char *const needs[] = {"batch.cutoff", "batch.published_at",
        "batch.events"};
    char prefix[32];
    int64_t version = 0;
    int present;
    size_t i;

    for (i = 0; i < sizeof(ranges) / sizeof(ranges[0]); i++)
        if (check_named(t, ranges[i].name, &present, err) != 0)
            return -1;
    for (i = 0; i < sizeof(prefixes) / sizeof(prefixes[0]); i++)
        if (check_prefix(t, prefixes[i].prefix, prefixes[i].lo,
            prefixes[i].hi, 0, err) != 0)
            return -1;
    if (store_meta_get_i64(t, "batch.version", &version, err) != 0)
        return 0;
    for (i = 0; i < sizeof(needs) / sizeof(needs[0]); i++) {
        if (check_named(t, needs[i], &present, err) != 0)
            return -1;
        if (!present)
            return store_damaged(t->st, err, "meta batch.version is %lld "
                "but %s is missing", (long long)version, needs[i]);
    }
    snprintf(prefix, sizeof(prefix), "span/%lld/", (long long)version);
    return check_prefix(t, prefix, 0, 0, 1, err);
}
