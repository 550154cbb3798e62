/* store_test.c -- unit tests for the LMDB store */
#include <sys/wait.h>

#include <pthread.h>

#include <limits.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <lmdb.h>
#include <sys/stat.h>
#include <fcntl.h>

#include "shared/agg.h"
#include "shared/err.h"
#include "shared/pipeline.h"
#include "shared/store.h"
#include "shared/ts.h"
#include "tests/test.h"

#define HOUR (3600LL * 1000)
#define DAY TS_DAY_MS

static char top[] = "/tmp/store_test.XXXXXX";
static int ndirs;

/*
 * A pipeline built by hand: views in file order by_cust (1h, group by
 * customer: orders count, revenue sum(amount), max_order max(amount)) and
 * a_tot (1d, no group, orders count), so name order differs from file order.
 */
static struct field fields[2];
static struct metric cust_metrics[3], tot_metrics[1];
static int cust_group[1] = {0};
static struct view views[2];
static struct pipeline pl;
static const struct view *by_cust = &views[0], *a_tot = &views[1];

static void
fixture(void)
{
    fields[0].name = "customer";
    fields[0].type = FIELD_STRING;
    fields[0].required = 1;
    fields[1].name = "amount";
    fields[1].type = FIELD_DECIMAL;
    fields[1].scale = 2;
    fields[1].required = 1;

    cust_metrics[0] = (struct metric){.name = "orders",
        .kind = METRIC_COUNT, .field = -1, .slot = 0};
    cust_metrics[1] = (struct metric){.name = "revenue",
        .kind = METRIC_SUM, .field = 1, .slot = 1};
    cust_metrics[2] = (struct metric){.name = "max_order",
        .kind = METRIC_MAX, .field = 1, .slot = 4};
    views[0].name = "by_cust";
    views[0].group_by = cust_group;
    views[0].ngroup = 1;
    views[0].granularity = HOUR;
    views[0].metrics = cust_metrics;
    views[0].nmetrics = 3;
    views[0].nslots = 6;

    tot_metrics[0] = (struct metric){.name = "orders",
        .kind = METRIC_COUNT, .field = -1, .slot = 0};
    views[1].name = "a_tot";
    views[1].granularity = DAY;
    views[1].metrics = tot_metrics;
    views[1].nmetrics = 1;
    views[1].nslots = 1;

    pl.name = "shop";
    pl.fields = fields;
    pl.nfields = 2;
    pl.views = views;
    pl.nviews = 2;
}

/* A fresh directory under the test's mkdtemp directory. */
static const char *
newdir(void)
{
    static char path[PATH_MAX];

    snprintf(path, sizeof(path), "%s/s%d", top, ++ndirs);
    return path;
}

/* by_cust row: n orders summing to sum (cents), largest max. */
static void
cust_row(int64_t *r, int64_t n, int64_t sum, int64_t max)
{
    r[0] = n;
    r[1] = n;
    r[2] = sum;
    r[3] = sum < 0 ? -1 : 0;
    r[4] = n;
    r[5] = max;
}

/* Encoded string group key, as key.h encodes one string component. */
static size_t
gk(char *out, const char *s)
{
    size_t n = strlen(s);

    out[0] = 0x04;
    memcpy(out + 1, s, n);
    out[n + 1] = 0x00;
    return n + 2;
}

struct want {
    const char *g;      /* group string (key.h encoded by the test) */
    int64_t     bucket;
    int64_t     n, sum, max;
};

static const struct want cust_rows[] = {
    {"c1", 0 * HOUR, 2, 500, 300},
    {"c1", 1 * HOUR, 1, 100, 100},
    {"c1", DAY + 2 * HOUR, 3, 900, 400},
    {"c2", 5 * HOUR, 1, 250, 250},
    {"c3", 0, 1, 1, 1},
    {"c3", 2 * DAY, 4, 40, 20},
};

static int
put_cust_rows(struct store_writer *w, const struct want *rows, int n,
    int64_t scale, char *err)
{
    char g[64];
    int64_t r[6];
    int i;

    for (i = 0; i < n; i++) {
        cust_row(r, rows[i].n * scale, rows[i].sum * scale, rows[i].max);
        if (store_writer_put(w, by_cust, g, gk(g, rows[i].g),
            rows[i].bucket, r, err) != 0)
            return -1;
    }
    return 0;
}

static int
put_tot(struct store_writer *w, int64_t bucket, int64_t n, char *err)
{
    return store_writer_put(w, a_tot, NULL, 0, bucket, &n, err);
}

/* Read every row of an iterator into rows (at most max); returns the count
 * or -1. */
static int
drain(struct store_iter *it, struct want *rows, char (*groups)[64], int max)
{
    struct store_row row;
    char err[ERR_LEN];
    int n = 0, rc;

    while ((rc = store_iter_next(it, &row, err)) == 0) {
        if (n < max) {
            size_t l = row.gklen < 63 ? row.gklen : 63;

            memcpy(groups[n], row.gkey, l);
            groups[n][l] = '\0';
            rows[n].g = groups[n];
            rows[n].bucket = row.bucket;
            rows[n].n = row.slots[0];
            rows[n].sum = row.slots[0];
            rows[n].max = 0;
        }
        n++;
    }
    if (rc != STORE_NOTFOUND) {
        printf("iter: %s\n", err);
        return -1;
    }
    return n;
}

/* Rows of by_cust in version at level: fills rows with n, sum, max. */
static int
read_cust(struct store_txn *t, int64_t version, int level, const char *g,
    int64_t from, int64_t to, struct want *rows, char (*groups)[64], int max)
{
    struct store_iter *it = NULL;
    struct store_row row;
    char err[ERR_LEN], key[64];
    size_t kl = g != NULL ? gk(key, g) : 0;
    int n = 0, rc;

    if (store_iter_batch(t, version, by_cust, level, g != NULL ? key : NULL,
        kl, from, to, &it, err) != 0) {
        printf("iter: %s\n", err);
        return -1;
    }
    while ((rc = store_iter_next(it, &row, err)) == 0) {
        if (n < max) {
            /* strip the 0x04 ... 0x00 of the string key */
            size_t l = row.gklen >= 2 ? row.gklen - 2 : 0;

            memcpy(groups[n], (const char *)row.gkey + 1, l);
            groups[n][l] = '\0';
            rows[n].g = groups[n];
            rows[n].bucket = row.bucket;
            rows[n].n = row.slots[0];
            rows[n].sum = row.slots[2];
            rows[n].max = row.slots[5];
        }
        n++;
    }
    store_iter_free(it);
    if (rc != STORE_NOTFOUND) {
        printf("iter: %s\n", err);
        return -1;
    }
    return n;
}

/* Sum of slot 0 of every row of view v at level in version; -1 on error. */
static int64_t
total(struct store *st, int64_t version, const struct view *v, int level,
    int *nrows)
{
    struct store_txn *t = NULL;
    struct store_iter *it = NULL;
    struct store_row row;
    char err[ERR_LEN];
    int64_t sum = 0;
    int rc, n = 0;

    if (store_txn_begin(st, 0, &t, err) != 0 ||
        store_iter_batch(t, version, v, level, NULL, 0, INT64_MIN, INT64_MAX,
        &it, err) != 0) {
        printf("total: %s\n", err);
        store_txn_abort(t);
        return -1;
    }
    while ((rc = store_iter_next(it, &row, err)) == 0) {
        sum += row.slots[0];
        n++;
    }
    store_iter_free(it);
    store_txn_abort(t);
    if (nrows != NULL)
        *nrows = n;
    return rc == STORE_NOTFOUND ? sum : -1;
}

static int64_t
current_version(struct store *st)
{
    struct store_batch_info info;
    struct store_txn *t = NULL;
    char err[ERR_LEN];
    int rc;

    if (store_txn_begin(st, 0, &t, err) != 0)
        return -1;
    rc = store_batch_current(t, &info, err);
    store_txn_abort(t);
    return rc == 0 ? info.version : rc == STORE_NOTFOUND ? 0 : -1;
}

/* Publish cust_rows (counts times scale) and a_tot; returns the version.
 * The version's events count is 100 * scale. */
static int64_t
publish_simple(struct store *st, int64_t scale, int64_t cutoff)
{
    struct store_batch_info info = {0, cutoff, 0, 100 * scale};
    struct store_writer *w = NULL;
    char err[ERR_LEN];

    if (store_writer_begin(st, &pl, -1, &w, err) != 0 ||
        put_tot(w, 0, 10 * scale, err) != 0 ||
        put_tot(w, DAY, 5 * scale, err) != 0 ||
        put_cust_rows(w, cust_rows, 6, scale, err) != 0 ||
        store_writer_publish(w, &info, err) != 0) {
        printf("publish: %s\n", err);
        return -1;
    }
    return info.version;
}

/* Equal snapshot ids mean the same data: equal while nothing commits,
 * different after a commit and across opens of the same directory. */
static void
test_snapid(void)
{
    struct store *st = NULL, *ro = NULL;
    struct store_txn *t = NULL;
    char err[ERR_LEN];
    uint64_t a[2], b[2], c[2], d[2];
    const char *dir = newdir();

    CHECK(store_open(&st, dir, 0, err) == 0);
    CHECK(store_open(&ro, dir, STORE_RDONLY, err) == 0);
    if (st == NULL || ro == NULL)
        goto out;
    CHECK(store_txn_begin(ro, 0, &t, err) == 0);
    store_txn_snapid(t, a);
    store_txn_abort(t);
    CHECK(store_txn_begin(ro, 0, &t, err) == 0);
    store_txn_snapid(t, b);
    store_txn_abort(t);
    CHECK(a[0] != 0 && a[0] == b[0] && a[1] == b[1]);
    CHECK(store_txn_begin(st, 1, &t, err) == 0);
    CHECK(store_meta_put_i64(t, "test.snapid", 1, err) == 0);
    CHECK(store_txn_commit(t, err) == 0);
    CHECK(store_txn_begin(ro, 0, &t, err) == 0);
    store_txn_snapid(t, c);
    store_txn_abort(t);
    CHECK(c[0] == a[0] && c[1] != a[1]);
    CHECK(store_txn_begin(st, 0, &t, err) == 0);
    store_txn_snapid(t, d);
    store_txn_abort(t);
    CHECK(d[0] != c[0] && d[1] == c[1]);   /* another open: another serial */
out:
    store_free(ro);
    store_free(st);
}

static void
test_open(void)
{
    struct store *st = NULL, *ro = NULL;
    struct store_txn *t = NULL;
    char err[ERR_LEN], path[PATH_MAX];
    const char *d = newdir();

    snprintf(path, sizeof(path), "%s/deep/er", d);
    CHECK(store_open(&st, path, 0, err) == 0);
    if (st == NULL)
        return;
    CHECK_STREQ(store_dir(st), path);
    CHECK(store_used_bytes(st) > 0);
    CHECK(current_version(st) == 0);
    store_free(st);
    st = NULL;

    /* reopen, both ways */
    CHECK(store_open(&st, path, 0, err) == 0);
    store_free(st);
    CHECK(store_open(&ro, path, STORE_RDONLY, err) == 0);
    if (ro != NULL) {
        CHECK(store_txn_begin(ro, 1, &t, err) == -1);
        CHECK(strstr(err, "read-only") != NULL);
        CHECK(store_txn_begin(ro, 0, &t, err) == 0);
        store_txn_abort(t);
        store_free(ro);
    }

    /* read-only on a missing store says how to create it */
    snprintf(path, sizeof(path), "%s/missing", d);
    ro = NULL;
    CHECK(store_open(&ro, path, STORE_RDONLY, err) == STORE_NOTFOUND);
    CHECK(ro == NULL);
    CHECK(strstr(err, path) != NULL);
    CHECK(strstr(err, "not created yet (run lambda-batch or lambda-speed "
        "first)") != NULL);
    CHECK(access(path, F_OK) != 0);     /* and created nothing */

    /* a store its first writer is creating (data.mdb, no databases yet):
     * not created either, and nothing to verify (lambda-batch's start
     * beside a lambda-speed creating it: seen in lab_calendar_test) */
    {
        MDB_env *env;
        int walked = 1;

        snprintf(path, sizeof(path), "%s/creating", d);
        CHECK(mkdir(path, 0755) == 0);
        CHECK(mdb_env_create(&env) == 0);
        CHECK(mdb_env_open(env, path, MDB_NOTLS, 0644) == 0);
        ro = NULL;
        CHECK(store_open(&ro, path, STORE_RDONLY, err) == STORE_NOTFOUND);
        CHECK(ro == NULL);
        CHECK(strstr(err, "not created yet") != NULL);
        CHECK(store_verify_check(path, NULL, &walked, err) == 0);
        CHECK(walked == 0);
        mdb_env_close(env);
    }

    CHECK(store_open(&ro, "", 0, err) == -1);
    CHECK(strstr(err, "empty") != NULL);

    store_free(NULL);
    store_txn_abort(NULL);
    store_writer_abort(NULL);
}

static void
test_map_size_env(void)
{
    static const char *bad[] = {"abc", "-5", "12x", "1000", "99999999999T"};
    struct store *st = NULL;
    char err[ERR_LEN];
    const char *d = newdir();
    size_t i;

    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        setenv("LAMBDA_MAP_SIZE", bad[i], 1);
        CHECK(store_open(&st, d, 0, err) == -1);
        CHECK(strstr(err, "LAMBDA_MAP_SIZE") != NULL);
    }
    setenv("LAMBDA_MAP_SIZE", "8M", 1);
    CHECK(store_open(&st, d, 0, err) == 0);
    store_free(st);
    setenv("LAMBDA_MAP_SIZE", "", 1);   /* empty counts as unset */
    CHECK(store_open(&st, d, 0, err) == 0);
    store_free(st);
    unsetenv("LAMBDA_MAP_SIZE");
}

static void
test_format(void)
{
    struct store *st = NULL;
    struct store_txn *t = NULL;
    char err[ERR_LEN];
    const char *d = newdir();
    int64_t f = 0;

    CHECK(store_open(&st, d, 0, err) == 0);
    if (st == NULL)
        return;
    CHECK(store_txn_begin(st, 1, &t, err) == 0);
    CHECK(store_meta_get_i64(t, "format", &f, err) == 0);
    CHECK(f == STORE_FORMAT);
    CHECK(store_meta_put_i64(t, "format", 7, err) == 0);
    CHECK(store_txn_commit(t, err) == 0);
    store_free(st);
    st = NULL;

    CHECK(store_open(&st, d, 0, err) == -1);
    CHECK(strstr(err, "format 7 is newer than this build reads (formats 1 "
        "to 2): run a newer lambdakit") != NULL);
    CHECK(strstr(err, d) != NULL);
    CHECK(store_open(&st, d, STORE_RDONLY, err) == -1);
    CHECK(strstr(err, "format 7 is newer") != NULL);
    CHECK(st == NULL);
}

/* A store of format 1 is read as it is and moved on by the first writer. */
static void
test_format_old(void)
{
    struct store *st = NULL, *ro = NULL;
    struct store_txn *t = NULL;
    char err[ERR_LEN];
    const char *d = newdir();
    int64_t f = 0;
    int n = -1;

    CHECK(STORE_FORMAT == 2 && STORE_FORMAT_OLDEST == 1);
    CHECK(store_open(&st, d, 0, err) == 0);
    if (st == NULL)
        return;
    CHECK(publish_simple(st, 1, DAY) == 1);
    CHECK(store_txn_begin(st, 1, &t, err) == 0);
    CHECK(store_meta_put_i64(t, "format", 1, err) == 0);
    CHECK(store_txn_commit(t, err) == 0);
    store_free(st);
    st = NULL;

    /* a reader takes it as it is: its rows are rows of format 2 */
    CHECK(store_open(&ro, d, STORE_RDONLY, err) == 0);
    if (ro == NULL)
        return;
    CHECK(total(ro, 1, by_cust, STORE_LEVEL_ALL, &n) == 12 && n == 3);
    CHECK(store_txn_begin(ro, 0, &t, err) == 0);
    CHECK(store_meta_get_i64(t, "format", &f, err) == 0);
    CHECK_EQ_INT(f, 1);
    store_txn_abort(t);

    /* the first writer moves it to 2, which the reader then sees too */
    CHECK(store_open(&st, d, 0, err) == 0);
    if (st == NULL) {
        store_free(ro);
        return;
    }
    CHECK(store_txn_begin(ro, 0, &t, err) == 0);
    CHECK(store_meta_get_i64(t, "format", &f, err) == 0);
    CHECK_EQ_INT(f, STORE_FORMAT);
    store_txn_abort(t);
    CHECK(publish_simple(st, 2, DAY) == 2);
    CHECK(total(ro, 2, by_cust, STORE_LEVEL_ALL, &n) == 24 && n == 3);
    store_free(st);
    store_free(ro);
}

/* Bytes of the file at path into a new buffer (free()), its size in *n. */
static char *
slurp(const char *path, size_t *n)
{
    FILE *f = fopen(path, "rb");
    char *p = NULL;
    long len;

    *n = 0;
    if (f == NULL)
        return NULL;
    if (fseek(f, 0, SEEK_END) == 0 && (len = ftell(f)) > 0 &&
        fseek(f, 0, SEEK_SET) == 0) {
        p = malloc((size_t)len);
        if (p != NULL && fread(p, 1, (size_t)len, f) == (size_t)len)
            *n = (size_t)len;
    }
    fclose(f);
    return p;
}

static int
spit(const char *path, const void *p, size_t n)
{
    FILE *f = fopen(path, "wb");
    int rc;

    if (f == NULL)
        return -1;
    rc = fwrite(p, 1, n, f) == n ? 0 : -1;
    return fclose(f) == 0 ? rc : -1;
}

/* A new store directory with version 1 published by publish_simple(). */
static const char *
published_dir(void)
{
    struct store *st = NULL;
    const char *d = newdir();
    char err[ERR_LEN];

    CHECK(store_open(&st, d, 0, err) == 0);
    if (st != NULL)
        CHECK(publish_simple(st, 1, DAY) == 1);
    store_free(st);
    return d;
}

/* store_open() of d refuses, both ways, with want in the message. */
static void
check_refused(const char *d, const char *want)
{
    struct store *st = NULL;
    char err[ERR_LEN];

    err[0] = '\0';
    CHECK(store_open(&st, d, 0, err) == -1);
    CHECK(st == NULL);
    if (strstr(err, want) == NULL || strstr(err, "restore it from a backup, "
        "or move it away and run lambda-batch") == NULL) {
        printf("want \"%s\" in: %s\n", want, err);
        CHECK(0);
    }
    CHECK(store_open(&st, d, STORE_RDONLY, err) == -1);
    CHECK(strstr(err, want) != NULL);
}

/*
 * LMDB never writes a page its writer allocated and freed in the same
 * transaction, so the newest meta's last page may lie past the file's end
 * with every missing page free: not damage. Large values put and deleted
 * in one transaction (in "meta", so the store's content is unchanged) leave
 * such a file within a few commits; the store must still open.
 */
static void
test_loose_tail(void)
{
    struct store *st = NULL;
    struct store_txn *t = NULL;
    char err[ERR_LEN], path[PATH_MAX];
    const char *d = published_dir();
    static char val[30000];
    MDB_env *env;
    MDB_txn *txn;
    MDB_dbi dbi;
    MDB_envinfo info;
    struct stat sb;
    int fd, i, shorter = 0;
    unsigned seed = 1;

    snprintf(path, sizeof(path), "%s/data.mdb", d);
    CHECK(mdb_env_create(&env) == 0);
    CHECK(mdb_env_set_maxdbs(env, 16) == 0);
    CHECK(mdb_env_open(env, d, MDB_NOTLS, 0644) == 0);
    fd = open(path, O_RDONLY);
    CHECK(fd >= 0);
    for (i = 0; i < 500 && !shorter; i++) {
        CHECK(mdb_txn_begin(env, NULL, 0, &txn) == 0);
        CHECK(mdb_dbi_open(txn, "meta", 0, &dbi) == 0);
        for (int j = 0; j < 50; j++) {
            char key[32];
            MDB_val k, v;

            snprintf(key, sizeof(key), "scratch/%d", j);
            k.mv_data = key;
            k.mv_size = strlen(key);
            v.mv_data = val;
            v.mv_size = (size_t)(rand_r(&seed) % (int)sizeof(val));
            CHECK(mdb_put(txn, dbi, &k, &v, 0) == 0);
            CHECK(mdb_del(txn, dbi, &k, NULL) == 0);
        }
        CHECK(mdb_txn_commit(txn) == 0);
        CHECK(mdb_env_info(env, &info) == 0 && fstat(fd, &sb) == 0);
        shorter = (uint64_t)sb.st_size <
            ((uint64_t)info.me_last_pgno + 1) * 4096;
    }
    close(fd);
    mdb_env_close(env);
    CHECK(shorter);     /* else this test tests nothing */
    CHECK(store_open(&st, d, 0, err) == 0);
    if (st == NULL) {
        printf("refused: %s\n", err);
        return;
    }
    CHECK(store_txn_begin(st, 0, &t, err) == 0);
    store_txn_abort(t);
    store_free(st);
    CHECK(store_open(&st, d, STORE_RDONLY, err) == 0);
    store_free(st);
}

/* A cut or overwritten data.mdb is refused at open and under an open
 * handle, never read (a read past the end of the file is a SIGBUS). */
static void
test_damaged_file(void)
{
    struct store *st = NULL;
    struct store_txn *t = NULL;
    char err[ERR_LEN], path[PATH_MAX], want[128], junk[20000];
    const char *d = published_dir();
    size_t n = 0, half;
    char *good;

    snprintf(path, sizeof(path), "%s/data.mdb", d);
    good = slurp(path, &n);
    CHECK(good != NULL && n >= 4 * 4096);
    if (good == NULL)
        return;

    /* cut in half: the last page LMDB uses ends at the old size */
    half = n / 2;
    CHECK(truncate(path, (off_t)half) == 0);
    snprintf(want, sizeof(want), "data.mdb is %zu bytes but its last page "
        "ends at %zu: the file is truncated", half, n);
    check_refused(d, want);

    /* cut under an open handle: the next transaction begun a millisecond
     * after the last check or later fails (store_check.c: a check that
     * fresh stands) */
    CHECK(spit(path, good, n) == 0);
    CHECK(store_open(&st, d, STORE_RDONLY, err) == 0);
    if (st != NULL) {
        struct timespec ms2 = {0, 2000000};

        CHECK(store_txn_begin(st, 0, &t, err) == 0);
        store_txn_abort(t);
        CHECK(truncate(path, (off_t)half) == 0);
        (void)nanosleep(&ms2, NULL);
        if (store_txn_begin(st, 0, &t, err) == 0)
            store_txn_abort(t);
        else
            t = NULL;
        CHECK(t == NULL);
        CHECK(strstr(err, want) != NULL);
        store_free(st);
        st = NULL;
    }

    /* empty, one byte, a header that is not LMDB's */
    CHECK(truncate(path, 0) == 0);
    check_refused(d, "data.mdb is empty: the file was truncated or never "
        "written");
    CHECK(spit(path, "x", 1) == 0);
    check_refused(d, "data.mdb is 1 bytes, shorter than LMDB's two header "
        "pages");
    memset(junk, 0x5a, sizeof(junk));
    CHECK(spit(path, junk, sizeof(junk)) == 0);
    check_refused(d, "data.mdb is not an LMDB file: its header pages are "
        "damaged");

    /* whole again: opens, and version 1 is there */
    CHECK(spit(path, good, n) == 0);
    CHECK(store_open(&st, d, 0, err) == 0);
    CHECK(st != NULL && current_version(st) == 1);
    store_free(st);
    free(good);
}

/* Put the raw bytes val under name in d's meta. */
static int
meta_poke(const char *d, const char *name, const void *val, size_t len)
{
    struct store *st = NULL;
    struct store_txn *t = NULL;
    char err[ERR_LEN];

    if (store_open(&st, d, 0, err) != 0 ||
        store_txn_begin(st, 1, &t, err) != 0 ||
        store_meta_put(t, name, val, len, err) != 0 ||
        store_txn_commit(t, err) != 0) {
        printf("meta_poke %s: %s\n", name, err);
        store_free(st);
        return -1;
    }
    store_free(st);
    return 0;
}

/* Meta values the programs rely on, out of range: refused at open. */
static void
test_damaged_meta(void)
{
    static const struct {
        const char *name;
        int64_t     v;
        int         len;        /* bytes written; 8 the integer */
        const char *want;
    } cases[] = {
        {"batch.version", -5, 8, "meta batch.version is -5, out of range "
            "(1 to 4294967294)"},
        {"batch.version", 1LL << 40, 8, "meta batch.version is "
            "1099511627776, out of range"},
        {"batch.version", 1, 3, "meta batch.version is 3 bytes, not an "
            "8-byte integer"},
        {"batch.next", -1, 8, "meta batch.next is -1, out of range"},
        {"batch.cutoff", INT64_MIN, 8, "meta batch.cutoff is "
            "-9223372036854775808, out of range"},
        {"batch.cutoff", TS_MAX + 1, 8, "meta batch.cutoff is "
            "253402300800000, out of range"},
        {"batch.published_at", -1, 8, "meta batch.published_at is -1"},
        {"batch.events", -7, 8, "meta batch.events is -7, out of range"},
        {"speed.watermark", INT64_MIN + 5, 8, "meta speed.watermark is "
            "-9223372036854775803, out of range"},
        {"speed.updated_at", 1, 2, "meta speed.updated_at is 2 bytes, "
            "not an 8-byte integer"},
        {"offset/orders/3", -3, 8, "meta offset/orders/3 is -3, out of "
            "range"},
        {"sig/1/by_cust", 1, 4, "meta sig/1/by_cust is 4 bytes, not an "
            "8-byte integer"},
        {"span/1/by_cust", 0, 16, "meta span/1/by_cust: not a span of "
            "buckets"},
    };
    struct store *ro = NULL;
    struct store_batch_info info;
    struct store_txn *t = NULL;
    unsigned char val[16];
    char err[ERR_LEN];
    size_t i;

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const char *d = published_dir();

        memset(val, 0, sizeof(val));
        for (int b = 0; b < 8; b++)
            val[b] = (unsigned char)((uint64_t)cases[i].v >> (8 * b));
        if (cases[i].len == 16) {       /* first after last */
            val[0] = 9;
            val[8] = 1;
        }
        CHECK(meta_poke(d, cases[i].name, val, (size_t)cases[i].len) == 0);
        check_refused(d, cases[i].want);
    }

    /* a version without its cutoff */
    {
        const char *d = newdir();

        memset(val, 0, 8);
        val[0] = 1;
        CHECK(meta_poke(d, "batch.version", val, 8) == 0);
        check_refused(d, "meta batch.version is 1 but batch.cutoff is "
            "missing");
    }

    /* damaged under an open reader: its reads fail, they do not go on */
    {
        const char *d = published_dir();

        CHECK(store_open(&ro, d, STORE_RDONLY, err) == 0);
        memset(val, 0xff, 8);   /* -1 */
        CHECK(meta_poke(d, "batch.version", val, 8) == 0);
        if (ro == NULL)
            return;
        CHECK(store_txn_begin(ro, 0, &t, err) == 0);
        CHECK(store_batch_current(t, &info, err) == -1);
        CHECK(strstr(err, "meta batch.version is -1, out of range") != NULL);
        store_txn_abort(t);
        store_free(ro);
    }
}

/* Nothing left behind, nothing to delete (test_killed_run: an aborted run
 * deletes its rows; test_fork_kill: a killed run's go with the next). */
static void
test_reclaim(void)
{
    struct store *st = NULL;
    char err[ERR_LEN];
    int64_t rows = -1;

    CHECK(store_open(&st, newdir(), 0, err) == 0);
    if (st == NULL)
        return;
    CHECK(store_batch_reclaim(st, &rows, err) == 0 && rows == 0);
    store_batch_unlock(st);
    CHECK(publish_simple(st, 1, DAY) == 1);
    CHECK(store_batch_reclaim(st, &rows, err) == 0 && rows == 0);
    CHECK(current_version(st) == 1);
    store_free(st);
}

static void
test_meta(void)
{
    struct store *st = NULL;
    struct store_txn *t = NULL;
    char err[ERR_LEN];
    const void *p;
    size_t n;
    int64_t v = 0;

    CHECK(store_open(&st, newdir(), 0, err) == 0);
    if (st == NULL)
        return;
    CHECK(store_txn_begin(st, 1, &t, err) == 0);
    CHECK(store_meta_get_i64(t, "speed.watermark", &v, err) ==
        STORE_NOTFOUND);
    CHECK(store_meta_put_i64(t, "speed.watermark", -42, err) == 0);
    CHECK(store_meta_put(t, "speed.status", "ok!", 3, err) == 0);
    CHECK(store_txn_commit(t, err) == 0);

    CHECK(store_txn_begin(st, 0, &t, err) == 0);
    CHECK(store_meta_get_i64(t, "speed.watermark", &v, err) == 0);
    CHECK(v == -42);
    CHECK(store_meta_get(t, "speed.status", &p, &n, err) == 0);
    CHECK(n == 3 && memcmp(p, "ok!", 3) == 0);
    CHECK(store_meta_get_i64(t, "speed.status", &v, err) == -1);
    CHECK(strstr(err, "not an integer") != NULL);
    CHECK(store_meta_put_i64(t, "x", 1, err) == -1);    /* read txn */
    store_txn_abort(t);

    /* an aborted write leaves nothing */
    CHECK(store_txn_begin(st, 1, &t, err) == 0);
    CHECK(store_meta_put_i64(t, "gone", 1, err) == 0);
    store_txn_abort(t);
    CHECK(store_txn_begin(st, 0, &t, err) == 0);
    CHECK(store_meta_get_i64(t, "gone", &v, err) == STORE_NOTFOUND);
    store_txn_abort(t);
    store_free(st);
}

static void
test_publish(void)
{
    static const struct want base[] = {
        {"c1", 0 * HOUR, 2, 500, 300}, {"c1", 1 * HOUR, 1, 100, 100},
        {"c1", DAY + 2 * HOUR, 3, 900, 400}, {"c2", 5 * HOUR, 1, 250, 250},
        {"c3", 0, 1, 1, 1}, {"c3", 2 * DAY, 4, 40, 20},
    };
    static const struct want days[] = {
        {"c1", 0, 3, 600, 300}, {"c1", DAY, 3, 900, 400},
        {"c2", 0, 1, 250, 250}, {"c3", 0, 1, 1, 1}, {"c3", 2 * DAY, 4, 40, 20},
    };
    static const struct want all[] = {
        {"c1", 0, 6, 1500, 400}, {"c2", 0, 1, 250, 250}, {"c3", 0, 5, 41, 20},
    };
    static const struct {
        const struct want *w;
        int n, level;
    } levels[] = {
        {base, 6, STORE_LEVEL_BASE}, {days, 5, STORE_LEVEL_DAY},
        {all, 3, STORE_LEVEL_ALL},
    };
    struct store_batch_info info;
    struct store *st = NULL;
    struct store_txn *t = NULL;
    struct want got[16];
    char groups[16][64], err[ERR_LEN];
    int64_t v, first = 0, last = 0, before;
    int i, j, n;

    CHECK(store_open(&st, newdir(), 0, err) == 0);
    if (st == NULL)
        return;
    before = (int64_t)time(NULL) * 1000;
    v = publish_simple(st, 1, 3 * DAY);
    CHECK(v == 1);

    CHECK(store_txn_begin(st, 0, &t, err) == 0);
    CHECK(store_batch_current(t, &info, err) == 0);
    CHECK(info.version == 1);
    CHECK(info.cutoff == 3 * DAY);
    CHECK(info.events == 100);     /* scale 1 */
    CHECK(info.published_at >= before &&
        info.published_at < before + 60000);
    CHECK(store_batch_span(t, 1, "by_cust", &first, &last, err) == 0);
    CHECK(first == 0 && last == 2 * DAY);
    CHECK(store_batch_span(t, 1, "a_tot", &first, &last, err) == 0);
    CHECK(first == 0 && last == DAY);
    CHECK(store_batch_span(t, 1, "nope", &first, &last, err) ==
        STORE_NOTFOUND);
    CHECK(store_batch_span(t, 2, "by_cust", &first, &last, err) ==
        STORE_NOTFOUND);

    for (i = 0; i < 3; i++) {
        n = read_cust(t, 1, levels[i].level, NULL, INT64_MIN, INT64_MAX, got,
            groups, 16);
        CHECK(n == levels[i].n);
        for (j = 0; j < n && j < levels[i].n; j++) {
            CHECK_STREQ(got[j].g, levels[i].w[j].g);
            CHECK(got[j].bucket == levels[i].w[j].bucket);
            CHECK(got[j].n == levels[i].w[j].n);
            CHECK(got[j].sum == levels[i].w[j].sum);
            CHECK(got[j].max == levels[i].w[j].max);
        }
    }
    /* one group, a bucket range */
    n = read_cust(t, 1, STORE_LEVEL_BASE, "c1", HOUR, DAY + 3 * HOUR, got,
        groups, 16);
    CHECK(n == 2);
    CHECK(n == 2 && got[0].bucket == HOUR && got[1].bucket == DAY + 2 * HOUR);
    n = read_cust(t, 1, STORE_LEVEL_BASE, "c1", HOUR, DAY + 2 * HOUR, got,
        groups, 16);
    CHECK(n == 1);      /* to is exclusive */
    n = read_cust(t, 1, STORE_LEVEL_BASE, "c4", INT64_MIN, INT64_MAX, got,
        groups, 16);
    CHECK(n == 0);
    /* every group, a bucket range: skips within and across groups */
    n = read_cust(t, 1, STORE_LEVEL_BASE, NULL, HOUR, 2 * DAY, got, groups,
        16);
    CHECK(n == 3);
    if (n == 3) {
        CHECK_STREQ(got[0].g, "c1");
        CHECK(got[0].bucket == HOUR);
        CHECK(got[1].bucket == DAY + 2 * HOUR);
        CHECK_STREQ(got[2].g, "c2");
    }
    n = read_cust(t, 1, STORE_LEVEL_BASE, NULL, 5, 5, got, groups, 16);
    CHECK(n == 0);
    store_txn_abort(t);

    CHECK(total(st, 1, a_tot, STORE_LEVEL_BASE, &n) == 15 && n == 2);
    CHECK(total(st, 1, a_tot, STORE_LEVEL_DAY, &n) == 0 && n == 0);
    CHECK(total(st, 1, a_tot, STORE_LEVEL_ALL, &n) == 15 && n == 1);
    store_free(st);
}

static void
test_order(void)
{
    struct store_batch_info info = {0, DAY, 0, 0};
    struct store_writer *w = NULL;
    struct store *st = NULL;
    char err[ERR_LEN], g[64];
    int64_t r[6];
    int n;

    CHECK(store_open(&st, newdir(), 0, err) == 0);
    if (st == NULL)
        return;
    CHECK(store_writer_begin(st, &pl, -1, &w, err) == 0);
    if (w == NULL)
        goto out;
    cust_row(r, 1, 1, 1);
    CHECK(store_writer_put(w, by_cust, g, gk(g, "c2"), HOUR, r, err) == 0);
    /* same key, earlier bucket, earlier group: refused */
    CHECK(store_writer_put(w, by_cust, g, gk(g, "c2"), HOUR, r, err) == -1);
    CHECK(strstr(err, "out of order") != NULL);
    CHECK(store_writer_put(w, by_cust, g, gk(g, "c2"), 0, r, err) == -1);
    CHECK(store_writer_put(w, by_cust, g, gk(g, "c1"), 5 * HOUR, r,
        err) == -1);
    /* a view whose name sorts before the current one: refused */
    CHECK(put_tot(w, 0, 1, err) == -1);
    CHECK(strstr(err, "a_tot") != NULL && strstr(err, "order") != NULL);
    /* refused rows leave the writer usable */
    CHECK(store_writer_put(w, by_cust, g, gk(g, "c2"), 2 * HOUR, r,
        err) == 0);
    CHECK(store_writer_put(w, by_cust, g, gk(g, "c3"), 0, r, err) == 0);
    CHECK(store_writer_publish(w, &info, err) == 0);
    CHECK(total(st, info.version, by_cust, STORE_LEVEL_BASE, &n) == 3 &&
        n == 3);
    CHECK(total(st, info.version, a_tot, STORE_LEVEL_ALL, &n) == 0 && n == 0);
out:
    store_free(st);
}

static void
test_killed_run(void)
{
    struct store_batch_info info = {0, DAY, 0, 0};
    struct store_writer *w = NULL, *w2 = NULL;
    struct store *st = NULL;
    char err[ERR_LEN];
    int64_t v1;
    int n = -1;

    CHECK(store_open(&st, newdir(), 0, err) == 0);
    if (st == NULL)
        return;
    v1 = publish_simple(st, 1, DAY);
    CHECK(v1 == 1);

    /* a run that dies after writing rows (enough to commit some) */
    CHECK(store_writer_begin(st, &pl, -1, &w, err) == 0);
    /* only one run at a time */
    CHECK(store_writer_begin(st, &pl, -1, &w2, err) == -1);
    CHECK(strstr(err, "another batch run") != NULL);
    CHECK(put_tot(w, 0, 1000, err) == 0);
    for (int64_t b = 3 * DAY; b < 3 * DAY + 60000 * HOUR; b += HOUR)
        if (put_tot(w, b, 1, err) != 0)
            break;
    CHECK(put_cust_rows(w, cust_rows, 6, 7, err) == 0);
    /* the run wrote whole chunks of version 2, not all its rows */
    CHECK(total(st, 2, a_tot, STORE_LEVEL_BASE, &n) >= 1000);
    CHECK(n > 0 && n < 60001);
    store_writer_abort(w);
    CHECK(current_version(st) == 1);
    /* aborted: its rows went with it */
    CHECK(total(st, 2, a_tot, STORE_LEVEL_BASE, &n) == 0 && n == 0);
    CHECK(total(st, 2, by_cust, STORE_LEVEL_ALL, &n) == 0 && n == 0);
    CHECK(total(st, 1, a_tot, STORE_LEVEL_ALL, &n) == 15 && n == 1);
    CHECK(total(st, 1, by_cust, STORE_LEVEL_ALL, &n) == 12 && n == 3);

    /* the next run never reuses the number */
    CHECK(store_writer_begin(st, &pl, -1, &w, err) == 0);
    CHECK(total(st, 2, a_tot, STORE_LEVEL_BASE, &n) == 0 && n == 0);
    CHECK(total(st, 2, by_cust, STORE_LEVEL_DAY, &n) == 0 && n == 0);
    CHECK(put_tot(w, 0, 3, err) == 0);
    CHECK(store_writer_publish(w, &info, err) == 0);
    CHECK(info.version == 3);
    CHECK(current_version(st) == 3);
    /* the previous version's rows went with the publish */
    CHECK(total(st, 1, by_cust, STORE_LEVEL_BASE, &n) == 0 && n == 0);
    CHECK(total(st, 1, a_tot, STORE_LEVEL_ALL, &n) == 0 && n == 0);
    CHECK(total(st, 3, a_tot, STORE_LEVEL_ALL, &n) == 3 && n == 1);
    CHECK(total(st, 3, by_cust, STORE_LEVEL_ALL, &n) == 0 && n == 0);
    store_free(st);
}

static void
test_keep_before(void)
{
    static const struct want fresh[] = {
        {"c0", 2 * DAY + HOUR, 9, 90, 10},
        {"c1", 2 * DAY, 10, 1000, 100},
        {"c3", 2 * DAY + 5 * HOUR, 5, 50, 10},
        {"c9", 3 * DAY, 1, 1, 1},
    };
    static const struct want merged[] = {
        {"c0", 2 * DAY + HOUR, 9, 90, 10},
        {"c1", 0 * HOUR, 2, 500, 300},
        {"c1", 1 * HOUR, 1, 100, 100},
        {"c1", DAY + 2 * HOUR, 3, 900, 400},
        {"c1", 2 * DAY, 10, 1000, 100},
        {"c2", 5 * HOUR, 1, 250, 250},
        {"c3", 0, 1, 1, 1},
        {"c3", 2 * DAY + 5 * HOUR, 5, 50, 10},
        {"c9", 3 * DAY, 1, 1, 1},
    };
    struct store_batch_info info = {0, 4 * DAY, 0, 0};
    struct store_writer *w = NULL;
    struct store *st = NULL;
    struct store_txn *t = NULL;
    struct want got[16];
    char groups[16][64], err[ERR_LEN], g[64];
    int64_t first = 0, last = 0, r[6];
    int i, n;

    CHECK(store_open(&st, newdir(), 0, err) == 0);
    if (st == NULL)
        return;
    CHECK(publish_simple(st, 1, 3 * DAY) == 1);

    /* recompute [2d, 4d): rows before 2d are carried, c3 @2d dropped */
    CHECK(store_writer_begin(st, &pl, 2 * DAY, &w, err) == 0);
    if (w == NULL)
        goto out;
    cust_row(r, 1, 1, 1);
    CHECK(store_writer_put(w, by_cust, g, gk(g, "c1"), DAY, r, err) == -1);
    CHECK(strstr(err, "before the kept range") != NULL);
    CHECK(put_cust_rows(w, fresh, 4, 1, err) == 0);
    /* a_tot gets no new rows: its old rows before 2d are carried */
    CHECK(store_writer_publish(w, &info, err) == 0);
    CHECK(info.version == 2);

    CHECK(store_txn_begin(st, 0, &t, err) == 0);
    n = read_cust(t, 2, STORE_LEVEL_BASE, NULL, INT64_MIN, INT64_MAX, got,
        groups, 16);
    CHECK(n == 9);
    for (i = 0; i < n && i < 9; i++) {
        CHECK_STREQ(got[i].g, merged[i].g);
        CHECK(got[i].bucket == merged[i].bucket);
        CHECK(got[i].n == merged[i].n);
        CHECK(got[i].sum == merged[i].sum);
    }
    n = read_cust(t, 2, STORE_LEVEL_ALL, "c1", INT64_MIN, INT64_MAX, got,
        groups, 16);
    CHECK(n == 1 && got[0].n == 16 && got[0].sum == 2500 &&
        got[0].max == 400);
    n = read_cust(t, 2, STORE_LEVEL_DAY, "c3", INT64_MIN, INT64_MAX, got,
        groups, 16);
    CHECK(n == 2 && got[1].bucket == 2 * DAY && got[1].n == 5);
    CHECK(store_batch_span(t, 2, "by_cust", &first, &last, err) == 0);
    CHECK(first == 0 && last == 3 * DAY);
    store_txn_abort(t);
    CHECK(total(st, 2, a_tot, STORE_LEVEL_ALL, &n) == 15 && n == 1);
    CHECK(total(st, 2, by_cust, STORE_LEVEL_ALL, &n) == 33 && n == 5);
    CHECK(total(st, 1, by_cust, STORE_LEVEL_BASE, &n) == 0 && n == 0);

    /* a changed view definition refuses to carry rows */
    views[0].granularity = 2 * HOUR;
    CHECK(store_writer_begin(st, &pl, 2 * DAY, &w, err) == -1);
    CHECK(strstr(err, "by_cust changed") != NULL);
    views[0].granularity = HOUR;
    CHECK(store_writer_begin(st, &pl, 2 * DAY, &w, err) == 0);
    store_writer_abort(w);
out:
    store_free(st);
}

/* Many carried rows: chunk commits and page splits while merging. */
static void
test_keep_before_large(void)
{
    struct store_batch_info info = {0, 0, 0, 0};
    struct store_writer *w = NULL;
    struct store *st = NULL;
    char err[ERR_LEN], g[64], name[32];
    int64_t r[6], b;
    int i, n = 0, ok = 1;

    CHECK(store_open(&st, newdir(), 0, err) == 0);
    if (st == NULL)
        return;
    CHECK(store_writer_begin(st, &pl, -1, &w, err) == 0);
    cust_row(r, 1, 10, 10);
    for (i = 0; i < 300 && ok; i++) {
        snprintf(name, sizeof(name), "g%04d", i);
        for (b = 0; b < 10 * DAY && ok; b += HOUR)
            ok = store_writer_put(w, by_cust, g, gk(g, name), b, r, err) == 0;
    }
    CHECK(ok);
    CHECK(store_writer_publish(w, &info, err) == 0);
    CHECK(total(st, 1, by_cust, STORE_LEVEL_BASE, &n) == 72000 &&
        n == 72000);

    /* recompute from day 5 with doubled rows, for every other group */
    CHECK(store_writer_begin(st, &pl, 5 * DAY, &w, err) == 0);
    cust_row(r, 2, 20, 10);
    for (i = 0; i < 300 && ok; i += 2) {
        snprintf(name, sizeof(name), "g%04d", i);
        for (b = 5 * DAY; b < 10 * DAY && ok; b += HOUR)
            ok = store_writer_put(w, by_cust, g, gk(g, name), b, r, err) == 0;
    }
    CHECK(ok);
    if (!ok)
        printf("put: %s\n", err);
    CHECK(store_writer_publish(w, &info, err) == 0);
    /* 300 groups * 120 h kept + 150 groups * 120 h * 2 */
    CHECK(total(st, 2, by_cust, STORE_LEVEL_BASE, &n) == 72000 &&
        n == 54000);
    CHECK(total(st, 2, by_cust, STORE_LEVEL_DAY, &n) == 72000 && n == 2250);
    CHECK(total(st, 2, by_cust, STORE_LEVEL_ALL, &n) == 72000 && n == 300);
    store_free(st);
}

static void
test_snapshot(void)
{
    struct store_batch_info info;
    struct store *st = NULL;
    struct store_txn *old = NULL, *t = NULL;
    struct store_iter *it = NULL;
    struct store_row row;
    char err[ERR_LEN];
    int64_t sum = 0;
    int rc;

    CHECK(store_open(&st, newdir(), 0, err) == 0);
    if (st == NULL)
        return;
    CHECK(publish_simple(st, 1, DAY) == 1);
    CHECK(store_txn_begin(st, 0, &old, err) == 0);
    CHECK(publish_simple(st, 2, 2 * DAY) == 2);

    /* the reader from before the publish still sees version 1, whole */
    CHECK(store_batch_current(old, &info, err) == 0);
    CHECK(info.version == 1 && info.cutoff == DAY);
    CHECK(store_iter_batch(old, 1, by_cust, STORE_LEVEL_ALL, NULL, 0,
        INT64_MIN, INT64_MAX, &it, err) == 0);
    while ((rc = store_iter_next(it, &row, err)) == 0)
        sum += row.slots[0];
    CHECK(rc == STORE_NOTFOUND && sum == 12);
    store_iter_free(it);
    store_txn_abort(old);

    CHECK(store_txn_begin(st, 0, &t, err) == 0);
    CHECK(store_batch_current(t, &info, err) == 0);
    CHECK(info.version == 2 && info.cutoff == 2 * DAY);
    store_txn_abort(t);
    CHECK(total(st, 2, by_cust, STORE_LEVEL_ALL, NULL) == 24);
    CHECK(total(st, 1, by_cust, STORE_LEVEL_ALL, NULL) == 0);
    store_free(st);
}

struct reader {
    struct store   *st;
    atomic_int     *stop;
    int             reads, torn, errors;
    int64_t         maxver;
};

/* Read the current version's totals over and over: each must be whole. */
static void *
reader_main(void *arg)
{
    struct reader *r = arg;
    struct store_batch_info info;
    char err[ERR_LEN];

    while (atomic_load(r->stop) == 0) {
        struct store_txn *t = NULL;
        struct store_iter *it = NULL;
        struct store_row row;
        int64_t sum = 0;
        int rc;

        if (store_txn_begin(r->st, 0, &t, err) != 0) {
            r->errors++;
            continue;
        }
        if (store_batch_current(t, &info, err) == 0 &&
            store_iter_batch(t, info.version, by_cust, STORE_LEVEL_BASE, NULL,
            0, INT64_MIN, INT64_MAX, &it, err) == 0) {
            while ((rc = store_iter_next(it, &row, err)) == 0)
                sum += row.slots[0];
            /* version v was published with scale events / 100 */
            if (rc != STORE_NOTFOUND)
                r->errors++;
            else if (sum != 12 * (info.events / 100))
                r->torn++;
            if (info.version > r->maxver)
                r->maxver = info.version;
            r->reads++;
        } else {
            r->errors++;
        }
        store_iter_free(it);
        store_txn_abort(t);
    }
    return NULL;
}

/* Readers in threads while versions are published: never a torn view. */
static void
test_publish_under_readers(void)
{
    struct reader rs[2];
    pthread_t th[2];
    struct store *st = NULL;
    atomic_int stop = 0;
    char err[ERR_LEN];
    int i, started = 0;

    CHECK(store_open(&st, newdir(), 0, err) == 0);
    if (st == NULL)
        return;
    CHECK(publish_simple(st, 1, DAY) == 1);
    for (i = 0; i < 2; i++) {
        memset(&rs[i], 0, sizeof(rs[i]));
        rs[i].st = st;
        rs[i].stop = &stop;
        if (pthread_create(&th[i], NULL, reader_main, &rs[i]) == 0)
            started++;
    }
    CHECK(started == 2);
    for (i = 2; i <= 30; i++)
        CHECK(publish_simple(st, i, DAY) == i);
    atomic_store(&stop, 1);
    for (i = 0; i < started; i++) {
        pthread_join(th[i], NULL);
        CHECK(rs[i].reads > 0);
        CHECK(rs[i].torn == 0);
        CHECK(rs[i].errors == 0);
        CHECK(rs[i].maxver <= 30);
    }
    store_free(st);
}

/* Speed rows of view v for exact group g (NULL: all) in [from, to). */
static int
speed_rows(struct store_txn *t, const struct view *v, const char *g,
    size_t gl, int64_t from, int64_t to, struct want *rows,
    char (*groups)[64], int max)
{
    struct store_iter *it = NULL;
    char err[ERR_LEN];
    int n;

    if (store_iter_speed(t, v, g, gl, from, to, &it, err) != 0) {
        printf("iter: %s\n", err);
        return -1;
    }
    n = drain(it, rows, groups, max);
    store_iter_free(it);
    return n;
}

static void
test_speed(void)
{
    struct store *st = NULL;
    struct store_txn *t = NULL;
    struct store_iter *it = NULL;
    struct store_row row;
    struct want got[16];
    char groups[16][64], err[ERR_LEN], g[64];
    int64_t r[6], off = 0, one = 1;
    size_t gl;
    int n;

    CHECK(store_open(&st, newdir(), 0, err) == 0);
    if (st == NULL)
        return;
    gl = gk(g, "c1");
    CHECK(store_txn_begin(st, 1, &t, err) == 0);
    cust_row(r, 1, 100, 100);
    CHECK(store_speed_merge(t, by_cust, g, gl, HOUR, r, err) == 0);
    cust_row(r, 2, 50, 30);
    CHECK(store_speed_merge(t, by_cust, g, gl, HOUR, r, err) == 0);
    CHECK(store_speed_merge(t, by_cust, g, gl, -HOUR, r, err) == 0);
    CHECK(store_speed_merge(t, a_tot, NULL, 0, 0, &one, err) == 0);
    CHECK(store_offset_put(t, "shop.events", 3, 1234, err) == 0);
    CHECK(store_offset_put(t, "shop.events", 30, 99, err) == 0);
    CHECK(store_txn_commit(t, err) == 0);

    CHECK(store_txn_begin(st, 0, &t, err) == 0);
    CHECK(store_iter_speed(t, by_cust, NULL, 0, INT64_MIN, INT64_MAX, &it,
        err) == 0);
    CHECK(store_iter_next(it, &row, err) == 0);
    CHECK(row.bucket == -HOUR && row.slots[0] == 2);    /* time order */
    CHECK(row.gklen == gl && memcmp(row.gkey, g, gl) == 0);
    CHECK(store_iter_next(it, &row, err) == 0);
    CHECK(row.bucket == HOUR && row.slots[0] == 3 && row.slots[2] == 150 &&
        row.slots[5] == 100);
    CHECK(store_iter_next(it, &row, err) == STORE_NOTFOUND);
    store_iter_free(it);
    CHECK(store_offset_get(t, "shop.events", 3, &off, err) == 0 &&
        off == 1234);
    CHECK(store_offset_get(t, "shop.events", 30, &off, err) == 0 &&
        off == 99);
    CHECK(store_offset_get(t, "shop.events", 4, &off, err) ==
        STORE_NOTFOUND);
    CHECK(store_offset_get(t, "shop", 3, &off, err) == STORE_NOTFOUND);
    CHECK(store_speed_merge(t, a_tot, NULL, 0, 0, &one, err) == -1);
    store_txn_abort(t);

    /* prune keeps buckets at or after the cutoff, in every view */
    CHECK(store_txn_begin(st, 1, &t, err) == 0);
    CHECK(store_speed_prune(t, HOUR, err) == 0);
    CHECK(store_txn_commit(t, err) == 0);
    CHECK(store_txn_begin(st, 0, &t, err) == 0);
    n = speed_rows(t, by_cust, NULL, 0, INT64_MIN, INT64_MAX, got, groups,
        16);
    CHECK(n == 1 && got[0].bucket == HOUR);
    n = speed_rows(t, a_tot, NULL, 0, INT64_MIN, INT64_MAX, got, groups, 16);
    CHECK(n == 0);
    store_txn_abort(t);
    store_free(st);
}

/*
 * Exact groups never match a longer key that starts with them, even with raw
 * keys that are not self-delimiting; every-group scans (which skip by
 * seeking) are checked on key.h encodings, as the store requires.
 */
static void
test_exact_group(void)
{
    static const struct {
        const char *g;
        int64_t     b;
    } rows[] = {
        {"c1", INT64_MIN + 1}, {"c1", 0}, {"c1", HOUR}, {"c1", 2 * HOUR},
        {"c10", 0}, {"c10", HOUR}, {"c", HOUR}, {"c2", -HOUR},
    };
    static const struct {
        int         raw;        /* raw keys (a_tot), else encoded (by_cust) */
        const char *g;          /* NULL: every group */
        int64_t     from, to;
        int         n;
    } cases[] = {
        {1, "c1", INT64_MIN, INT64_MAX, 4},
        {1, "c1", 0, INT64_MAX, 3},
        {1, "c1", HOUR, 2 * HOUR, 1},
        {1, "c10", INT64_MIN, INT64_MAX, 2},
        {1, "c", INT64_MIN, INT64_MAX, 1},
        {1, "c100", INT64_MIN, INT64_MAX, 0},
        {1, NULL, INT64_MIN, INT64_MAX, 8},
        {0, "c1", INT64_MIN, INT64_MAX, 4},
        {0, "c1", 0, 2 * HOUR, 2},
        {0, "c", INT64_MIN, INT64_MAX, 1},
        {0, NULL, INT64_MIN, INT64_MAX, 8},
        {0, NULL, HOUR, 2 * HOUR, 3},
        {0, NULL, 0, 1, 2},
        {0, NULL, -HOUR, 0, 1},
        {0, NULL, INT64_MIN, -HOUR, 1},
        {0, NULL, 3 * HOUR, INT64_MAX, 0},
        {0, NULL, 2 * HOUR, 2 * HOUR, 0},
    };
    struct store *st = NULL;
    struct store_txn *t = NULL;
    struct want got[16];
    char groups[16][64], err[ERR_LEN], g[64];
    int64_t one = 1, r[6];
    size_t i;
    int n;

    CHECK(store_open(&st, newdir(), 0, err) == 0);
    if (st == NULL)
        return;
    CHECK(store_txn_begin(st, 1, &t, err) == 0);
    cust_row(r, 1, 1, 1);
    for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        CHECK(store_speed_merge(t, a_tot, rows[i].g, strlen(rows[i].g),
            rows[i].b, &one, err) == 0);
        CHECK(store_speed_merge(t, by_cust, g, gk(g, rows[i].g), rows[i].b,
            r, err) == 0);
    }
    CHECK(store_txn_commit(t, err) == 0);

    CHECK(store_txn_begin(st, 0, &t, err) == 0);
    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const char *cg = cases[i].g;
        size_t gl = 0;
        int j;

        if (cases[i].raw) {
            gl = cg != NULL ? strlen(cg) : 0;
            n = speed_rows(t, a_tot, cg, gl, cases[i].from, cases[i].to,
                got, groups, 16);
        } else {
            gl = cg != NULL ? gk(g, cg) : 0;
            n = speed_rows(t, by_cust, cg != NULL ? g : NULL, gl,
                cases[i].from, cases[i].to, got, groups, 16);
        }
        if (n != cases[i].n)
            printf("case %zu: %d rows, want %d\n", i, n, cases[i].n);
        CHECK(n == cases[i].n);
        for (j = 0; j < n && j < 16; j++) {
            if (cg != NULL && cases[i].raw)
                CHECK_STREQ(got[j].g, cg);
            if (cg != NULL && !cases[i].raw)
                CHECK(strcmp(got[j].g, g) == 0);
            CHECK(got[j].bucket >= cases[i].from &&
                got[j].bucket < cases[i].to);
        }
    }
    store_txn_abort(t);
    store_free(st);
}

/* A new store whose map is LAMBDA_MAP_SIZE=size, or NULL (a failed check). */
static struct store *
open_sized(const char *size)
{
    struct store *st = NULL;
    char err[ERR_LEN];

    setenv("LAMBDA_MAP_SIZE", size, 1);
    CHECK(store_open(&st, newdir(), 0, err) == 0);
    unsetenv("LAMBDA_MAP_SIZE");
    return st;
}

/* Publish up to 100000 groups with 206-byte names: 0, or -1 with err. */
static int
publish_long_keys(struct store *st, char *err)
{
    struct store_batch_info info = {0, DAY, 0, 0};
    struct store_writer *w = NULL;
    char g[300], name[256];
    int64_t r[6];
    int rc;

    if (store_writer_begin(st, &pl, -1, &w, err) != 0)
        return -1;
    cust_row(r, 1, 1, 1);
    memset(name, 'x', 200);
    rc = 0;
    for (int i = 0; i < 100000 && rc == 0; i++) {
        snprintf(name + 200, 56, "%06d", i);
        rc = store_writer_put(w, by_cust, g, gk(g, name), 0, r, err);
    }
    if (rc == 0)
        return store_writer_publish(w, &info, err);
    store_writer_abort(w);
    return rc;
}

static void
test_map_full(void)
{
    struct store_batch_info info = {0, DAY, 0, 0};
    struct store_writer *w = NULL;
    struct store *st = NULL;
    char err[ERR_LEN];
    int64_t b;
    int rc = 0, n;

    /* 1 MiB: the first chunk of long keys does not fit */
    if ((st = open_sized("1048576")) == NULL)
        return;
    CHECK(publish_simple(st, 1, DAY) == 1);
    CHECK(publish_long_keys(st, err) == -1);
    CHECK(strstr(err, "map full: it reached its map size of 1 MiB; set "
        "LAMBDA_MAP_SIZE larger for every program on the store, e.g. "
        "LAMBDA_MAP_SIZE=2M") != NULL);
    if (strstr(err, "map full") == NULL)
        printf("err: %s\n", err);
    /* version 1 is still current and whole */
    CHECK(current_version(st) == 1);
    CHECK(total(st, 1, by_cust, STORE_LEVEL_ALL, &n) == 12 && n == 3);
    CHECK(total(st, 1, by_cust, STORE_LEVEL_BASE, &n) == 12 && n == 6);
    CHECK(publish_simple(st, 3, DAY) == 3);
    store_free(st);

    /* below 1 MiB the size is said in KiB, not as "0 MiB", and the hint
     * in LAMBDA_MAP_SIZE's units */
    if ((st = open_sized("640K")) == NULL)
        return;
    CHECK(publish_long_keys(st, err) == -1);
    CHECK(strstr(err, "map full: it reached its map size of 640 KiB") != NULL);
    CHECK(strstr(err, "e.g. LAMBDA_MAP_SIZE=1280K") != NULL);
    store_free(st);

    /* 6 MiB: whole chunks commit before the map fills; they are cleaned up */
    if ((st = open_sized("6M")) == NULL)
        return;
    CHECK(publish_simple(st, 1, DAY) == 1);
    CHECK(store_writer_begin(st, &pl, -1, &w, err) == 0);
    for (b = 0, rc = 0; rc == 0 && b < 10000000 * HOUR; b += HOUR)
        rc = put_tot(w, b, 1, err);
    CHECK(rc == -1);
    CHECK(strstr(err, "map full: it reached its map size of 6 MiB") != NULL);
    CHECK(strstr(err, "LAMBDA_MAP_SIZE=12M") != NULL);
    CHECK(total(st, 2, a_tot, STORE_LEVEL_BASE, &n) >= 50000);
    CHECK(store_writer_publish(w, &info, err) == -1);
    CHECK(strstr(err, "failed earlier") != NULL);
    CHECK(current_version(st) == 1);
    /* the failed run's rows are gone: only version 1's are left */
    CHECK(total(st, 2, a_tot, STORE_LEVEL_BASE, &n) == 0 && n == 0);
    CHECK(total(st, 1, by_cust, STORE_LEVEL_ALL, &n) == 12 && n == 3);
    CHECK(total(st, 1, a_tot, STORE_LEVEL_BASE, &n) == 15 && n == 2);
    CHECK(publish_simple(st, 3, DAY) == 3);
    CHECK(total(st, 3, by_cust, STORE_LEVEL_ALL, &n) == 36 && n == 3);
    CHECK(total(st, 2, a_tot, STORE_LEVEL_BASE, &n) == 0 && n == 0);
    store_free(st);
}

/* Fork a child that tells the parent when it got somewhere by writing a
 * byte to fds[1]; the parent reads it from fds[0]. Returns fork()'s pid. */
static pid_t
fork_teller(int fds[2])
{
    pid_t pid;

    CHECK(pipe(fds) == 0);
    fflush(stdout);
    pid = fork();
    CHECK(pid >= 0);
    close(fds[pid == 0 ? 0 : 1]);
    return pid;
}

/* kill -9 a writer on store d once it committed two chunks of version
 * 2. Returns 0 when it died so. */
static int
fork_kill_writer(const char *d)
{
    struct store_writer *w = NULL;
    struct store *st = NULL;
    char err[ERR_LEN], c;
    int fds[2], status;
    pid_t pid;

    if ((pid = fork_teller(fds)) == 0) {
        int64_t b;

        if (store_open(&st, d, 0, err) != 0 ||
            store_writer_begin(st, &pl, -1, &w, err) != 0)
            _exit(1);
        for (b = 0;; b += HOUR) {
            if (put_tot(w, b, 1, err) != 0)
                _exit(1);
            if (b == 120000 * HOUR && write(fds[1], "x", 1) != 1)
                _exit(1);
        }
    }
    CHECK(read(fds[0], &c, 1) == 1);    /* >= 2 chunks committed */
    kill(pid, SIGKILL);
    CHECK(waitpid(pid, &status, 0) == pid);
    close(fds[0]);
    CHECK(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
    return WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL ? 0 : -1;
}

/* kill -9 in the middle of a writer's chunked puts. */
static void
test_fork_kill(void)
{
    struct store_writer *w = NULL;
    struct store *st = NULL;
    const char *d = newdir();
    char err[ERR_LEN];
    int64_t rows = -1;
    int n;

    CHECK(store_open(&st, d, 0, err) == 0);
    if (st == NULL)
        return;
    CHECK(publish_simple(st, 1, DAY) == 1);
    store_free(st);     /* never across fork() */
    st = NULL;
    CHECK(fork_kill_writer(d) == 0);

    CHECK(store_open(&st, d, 0, err) == 0);
    if (st == NULL)
        return;
    CHECK(current_version(st) == 1);
    CHECK(total(st, 1, a_tot, STORE_LEVEL_BASE, &n) == 15 && n == 2);
    CHECK(total(st, 1, by_cust, STORE_LEVEL_ALL, &n) == 12 && n == 3);
    CHECK(total(st, 2, a_tot, STORE_LEVEL_BASE, &n) >= 100000);
    /* the flock died with the child: the next run deletes them first */
    CHECK(store_batch_reclaim(st, &rows, err) == 0);
    CHECK_EQ_INT(rows, n);
    CHECK(total(st, 2, a_tot, STORE_LEVEL_BASE, &n) == 0 && n == 0);
    CHECK(total(st, 1, a_tot, STORE_LEVEL_BASE, &n) == 15 && n == 2);
    CHECK(store_writer_begin(st, &pl, -1, &w, err) == 0);
    store_writer_abort(w);
    store_free(st);
}

/* What store_verify() said, one finding a line ("D msg" or "N msg"). */
static char found[8192];

static void
collect(void *arg, int kind, const char *msg)
{
    size_t n = strlen(found);

    (void)arg;
    snprintf(found + n, sizeof(found) - n, "%c %s\n",
        kind == STORE_VERIFY_DAMAGE ? 'D' : 'N', msg);
}

static int
verify(const char *d, struct store_verify *n, char *err)
{
    found[0] = '\0';
    return store_verify(d, &pl, collect, NULL, n, err);
}

/* Flip bit 0 of every place in path where the 8 bytes of v are (old copies
 * of a page stay in the file's free pages). Returns the places. */
static int
flip_all(const char *path, int64_t v)
{
    unsigned char needle[8];
    size_t n;
    char *p = slurp(path, &n);
    int hits = 0;

    for (int i = 0; i < 8; i++)
        needle[i] = (unsigned char)((uint64_t)v >> (8 * i));
    for (size_t i = 0; p != NULL && i + 8 <= n; i++)
        if (memcmp(p + i, needle, 8) == 0) {
            p[i] ^= 1;
            hits++;
        }
    if (p == NULL || spit(path, p, n) != 0)
        hits = 0;
    free(p);
    return hits;
}

/* The full walk: counts of a whole store, its notes and its damage. */
static void
test_verify(void)
{
    struct store_batch_info info = {0, DAY, 0, 0};
    struct store_writer *w = NULL;
    struct store *st = NULL;
    struct store_txn *t = NULL;
    struct store_verify n;
    char err[ERR_LEN], path[PATH_MAX];
    const int64_t odd = 0x0123456789abLL;
    const char *d = newdir();
    int64_t slot[1];
    size_t len;
    char *good;

    CHECK(verify(d, &n, err) == -1);
    CHECK(strstr(err, "not created yet") != NULL);

    /* by_cust: 6 base rows, 5 day rows (c1: 2 days, c2: 1, c3: 2), 3
     * all-time rows; a_tot (1d): 2 base rows, 1 all-time row */
    CHECK(store_open(&st, d, 0, err) == 0);
    if (st == NULL)
        return;
    CHECK(store_writer_begin(st, &pl, -1, &w, err) == 0);
    CHECK(put_tot(w, 0, odd, err) == 0);
    CHECK(put_tot(w, DAY, 5, err) == 0);
    CHECK(put_cust_rows(w, cust_rows, 6, 1, err) == 0);
    CHECK(store_writer_publish(w, &info, err) == 0);
    CHECK(store_txn_begin(st, 1, &t, err) == 0);
    CHECK(store_speed_merge(t, by_cust, "\x04" "c9", 4, 3 * HOUR,
        (int64_t[6]){1, 1, 7, 0, 1, 7}, err) == 0);
    CHECK(store_speed_merge(t, a_tot, NULL, 0, 3 * DAY, (int64_t[1]){2},
        err) == 0);
    CHECK(store_txn_commit(t, err) == 0);
    CHECK(verify(d, &n, err) == 0);
    CHECK_EQ_INT(n.damage, 0);
    CHECK_EQ_INT(n.version, 1);
    CHECK_EQ_INT(n.batch, 14 + 3);
    CHECK(n.speed >= 1);
    CHECK(n.meta >= 6);
    if (n.damage != 0)
        printf("%s", found);

    /* a run that died: its rows are a note, not damage */
    store_free(st);
    st = NULL;
    if (fork_kill_writer(d) == 0) {
        CHECK(verify(d, &n, err) == 0);
        CHECK_EQ_INT(n.damage, 0);
        CHECK(strstr(found, "rows of version 2, which is not published")
            != NULL);
    }
    CHECK(store_open(&st, d, 0, err) == 0);
    CHECK(st != NULL && store_batch_reclaim(st, &slot[0], err) == 0);
    store_free(st);

    /* a bit of a base row flipped: its all-time row no longer sums */
    snprintf(path, sizeof(path), "%s/data.mdb", d);
    good = slurp(path, &len);
    CHECK(flip_all(path, odd) >= 1);
    CHECK(verify(d, &n, err) == 0);
    CHECK_EQ_INT(n.damage, 1);
    CHECK(strstr(found, "D batch version 1, view a_tot, group {}: the "
        "all-time row is not the sum of its base rows") != NULL);

    /* a meta value out of range: reported, and the walk goes on */
    CHECK(spit(path, good, len) == 0);
    CHECK(meta_poke(d, "batch.events", (int64_t[1]){-3}, 8) == 0);
    CHECK(verify(d, &n, err) == 0);
    CHECK_EQ_INT(n.damage, 1);
    CHECK(strstr(found, "D meta batch.events is -3, out of range") != NULL);
    CHECK_EQ_INT(n.batch, 17);

    /* the file cut: one finding, no walk */
    CHECK(spit(path, good, len) == 0);
    CHECK(truncate(path, (off_t)len / 2) == 0);
    CHECK(verify(d, &n, err) == 0);
    CHECK_EQ_INT(n.damage, 1);
    CHECK(strstr(found, "D data.mdb is ") != NULL &&
        strstr(found, "the file is truncated") != NULL);

    /* every page's node offsets garbled: LMDB may crash; we report it */
    for (size_t pg = 2; good != NULL && (pg + 1) * 4096 <= len; pg++)
        memset(good + pg * 4096 + 12, 0x7f, 4);
    CHECK(spit(path, good, len) == 0);
    CHECK(verify(d, &n, err) == 0);
    CHECK(n.damage >= 1);
    if (n.damage < 1)
        printf("err: %s\nfound: %s", err, found);
    free(good);
}

/* Another process grows the map past this one's: MDB_MAP_RESIZED. */
static void
test_map_resized(void)
{
    struct store *st = NULL;
    const char *d = newdir();
    char err[ERR_LEN], c = 'x';
    int go[2], done[2], status, n;
    pid_t pid;

    CHECK(store_open(&st, d, 0, err) == 0);
    store_free(st);
    st = NULL;
    CHECK(pipe(go) == 0 && pipe(done) == 0);
    fflush(stdout);
    pid = fork();
    CHECK(pid >= 0);
    if (pid == 0) {
        struct store_batch_info info = {0, 0, 0, 0};
        struct store_writer *w = NULL;
        int64_t b;

        if (read(go[0], &c, 1) != 1)
            _exit(1);
        setenv("LAMBDA_MAP_SIZE", "64M", 1);
        if (store_open(&st, d, 0, err) != 0 ||
            store_writer_begin(st, &pl, -1, &w, err) != 0)
            _exit(1);
        for (b = 0; b < 200000 * HOUR; b += HOUR)
            if (put_tot(w, b, 1, err) != 0)
                _exit(1);
        if (store_writer_publish(w, &info, err) != 0)
            _exit(1);
        store_free(st);
        _exit(write(done[1], "x", 1) == 1 ? 0 : 1);
    }
    setenv("LAMBDA_MAP_SIZE", "1M", 1);
    CHECK(store_open(&st, d, 0, err) == 0);
    unsetenv("LAMBDA_MAP_SIZE");
    CHECK(write(go[1], &c, 1) == 1);
    CHECK(read(done[0], &c, 1) == 1);
    CHECK(waitpid(pid, &status, 0) == pid);
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    if (st != NULL) {
        CHECK(current_version(st) == 1);
        CHECK(total(st, 1, a_tot, STORE_LEVEL_ALL, &n) == 200000 && n == 1);
        store_free(st);
    }
    close(go[0]);
    close(go[1]);
    close(done[0]);
    close(done[1]);
}

/* A changed view definition is never merged with old rows: speed leaves
 * the store's definition until a publish switches it. */
static void
test_view_signature(void)
{
    struct store *st = NULL;
    struct store_txn *t = NULL;
    char err[ERR_LEN], g[64];
    int64_t r[6], v1;

    CHECK(store_open(&st, newdir(), 0, err) == 0);
    if (st == NULL)
        return;
    v1 = publish_simple(st, 1, DAY);
    CHECK(store_txn_begin(st, 1, &t, err) == 0);
    CHECK(store_speed_sign(t, &pl, err) == 0);
    cust_row(r, 1, 100, 100);
    CHECK(store_speed_merge(t, by_cust, g, gk(g, "c1"), HOUR, r, err) == 0);
    CHECK(store_txn_commit(t, err) == 0);

    CHECK(store_txn_begin(st, 1, &t, err) == 0);
    CHECK(store_view_check(t, &pl, by_cust, v1, err) == 0);
    CHECK(store_view_check(t, &pl, by_cust, 0, err) == 0);
    views[0].granularity = 2 * HOUR;    /* the pipeline file changed */
    CHECK(store_view_check(t, &pl, by_cust, v1, err) == -1);
    CHECK(strstr(err, "view by_cust changed since batch version 1") != NULL);
    CHECK(store_view_check(t, &pl, by_cust, 0, err) == -1);
    CHECK(strstr(err, "changed since lambda-speed wrote its rows") != NULL);
    CHECK(store_speed_follows(t, &pl, by_cust, err) == STORE_SPEED_OTHER);
    CHECK(store_speed_sign(t, &pl, err) == 0);  /* no refusal, no re-sign */
    CHECK(store_view_check(t, &pl, by_cust, 0, err) == -1);
    CHECK(store_speed_drop_view(t, "by_cust", err) == 0);
    {
        struct want got[2];
        char groups[2][64];
        CHECK(speed_rows(t, by_cust, NULL, 0, INT64_MIN, INT64_MAX, got,
            groups, 2) == 0);
    }
    /* no speed rows: the published version's definition holds */
    CHECK(store_speed_follows(t, &pl, by_cust, err) == STORE_SPEED_OTHER);
    views[0].granularity = HOUR;
    CHECK(store_speed_follows(t, &pl, by_cust, err) == STORE_SPEED_SAME);
    views[1].granularity = HOUR;        /* a_tot: signed DAY, stays */
    CHECK(store_speed_sign(t, &pl, err) == 0);
    CHECK(store_view_check(t, &pl, a_tot, 0, err) == -1);
    views[1].granularity = DAY;
    CHECK(store_view_check(t, &pl, a_tot, 0, err) == 0);
    store_txn_abort(t);
    store_free(st);
}

/* One batch lock for a store: lambda-batch's run and every writer. */
static void
test_batch_lock(void)
{
    struct store_writer *w = NULL, *w2 = NULL;
    struct store *st = NULL;
    const char *d = newdir();
    char err[ERR_LEN], want[ERR_LEN], path[PATH_MAX], c;
    int fds[2], status;
    FILE *f;
    long pid = -1;
    pid_t child;

    CHECK(store_open(&st, d, 0, err) == 0);
    if (st == NULL)
        return;
    /* the handle holds it: writers on it go on, one at a time */
    CHECK(store_batch_lock(st, err) == 0);
    CHECK(store_batch_lock(st, err) == 0);      /* held: no-op */
    snprintf(path, sizeof(path), "%s/" STORE_LOCK_FILE, d);
    CHECK((f = fopen(path, "r")) != NULL);
    if (f != NULL) {
        CHECK(fscanf(f, "%ld", &pid) == 1 && pid == (long)getpid());
        fclose(f);
    }
    CHECK(store_writer_begin(st, &pl, -1, &w, err) == 0);
    CHECK(store_writer_begin(st, &pl, -1, &w2, err) == -1);
    CHECK(strstr(err, "another batch run") != NULL);
    store_writer_abort(w);
    CHECK(store_writer_begin(st, &pl, -1, &w, err) == 0);
    store_writer_abort(w);
    store_free(st);     /* releases it; never across fork() */
    st = NULL;

    /* another process holds it: the lock and any writer are refused */
    if ((child = fork_teller(fds)) == 0) {
        if (store_open(&st, d, 0, err) != 0 ||
            store_batch_lock(st, err) != 0 || write(fds[1], "x", 1) != 1)
            _exit(1);
        pause();
        _exit(0);
    }
    CHECK(read(fds[0], &c, 1) == 1);
    close(fds[0]);
    CHECK(store_open(&st, d, 0, err) == 0);
    if (st != NULL) {
        snprintf(want, sizeof(want), "another lambda-batch is running on %s "
            "(pid %ld)", d, (long)child);
        CHECK(store_batch_lock(st, err) == -1);
        CHECK_STREQ(err, want);
        CHECK(store_writer_begin(st, &pl, -1, &w, err) == -1);
        CHECK_STREQ(err, want);
    }
    kill(child, SIGKILL);
    CHECK(waitpid(child, &status, 0) == child);
    /* it died with its holder */
    CHECK(st != NULL && store_batch_lock(st, err) == 0);
    store_batch_unlock(st);
    store_batch_unlock(st);                     /* not held: no-op */
    store_batch_unlock(NULL);
    store_free(st);
}

int
main(void)
{
    int rc;

    test_tmpdir(top);
    unsetenv("LAMBDA_MAP_SIZE");
    fixture();
    RUN(test_open);
    RUN(test_snapid);
    RUN(test_map_size_env);
    RUN(test_format);
    RUN(test_format_old);
    RUN(test_loose_tail);
    RUN(test_damaged_file);
    RUN(test_damaged_meta);
    RUN(test_reclaim);
    RUN(test_meta);
    RUN(test_publish);
    RUN(test_order);
    RUN(test_killed_run);
    RUN(test_batch_lock);
    RUN(test_keep_before);
    RUN(test_keep_before_large);
    RUN(test_snapshot);
    RUN(test_publish_under_readers);
    RUN(test_speed);
    RUN(test_exact_group);
    RUN(test_map_full);
    RUN(test_fork_kill);
    RUN(test_verify);
    RUN(test_map_resized);
    RUN(test_view_signature);
    rc = test_report();
    if (test_tmpdir_remove(top) != 0)
        return 1;
    return rc;
}
