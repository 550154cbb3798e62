/* store_late_test.c -- unit tests for the late-data ledger: slots, keys, merge, scan, clear */
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <lmdb.h>

#include "shared/agg.h"
#include "shared/err.h"
#include "shared/late.h"
#include "shared/pipeline.h"
#include "shared/segment.h"
#include "shared/store.h"
#include "shared/store_int.h"
#include "shared/ts.h"
#include "tests/test.h"

#define HOUR (3600LL * 1000)
#define DAY TS_DAY_MS
#define T0 (20000 * DAY)        /* a day in 2024 */

static char top[] = "/tmp/store_late_test.XXXXXX";

/* By hand: view v (1h, group by customer: orders count, max_order
 * max(amount)); a row is slots [orders, max_order's count, its max]. */
static struct field fields[2];
static struct metric metrics[2];
static int group[1] = {0};
static struct view views[1];
static const struct view *v = &views[0];

static void
fixture(void)
{
    fields[0] = (struct field){.name = "customer", .type = FIELD_STRING,
        .required = 1};
    fields[1] = (struct field){.name = "amount", .type = FIELD_DECIMAL,
        .scale = 2, .required = 1};
    metrics[0] = (struct metric){.name = "orders", .kind = METRIC_COUNT,
        .field = -1, .slot = 0};
    metrics[1] = (struct metric){.name = "max_order", .kind = METRIC_MAX,
        .field = 1, .slot = 1, .type = FIELD_DECIMAL};
    views[0] = (struct view){.name = "v", .group_by = group, .ngroup = 1,
        .granularity = HOUR, .metrics = metrics, .nmetrics = 2,
        .nslots = 3};
}

static struct store *
open_new(const char *name)
{
    static char path[PATH_MAX];
    struct store *st = NULL;
    char err[ERR_LEN];

    snprintf(path, sizeof(path), "%s/%s", top, name);
    if (store_open(&st, path, 0, err) != 0)
        printf("store_open: %s\n", err);
    return st;
}

/* A row of n orders whose largest is max cents. */
static void
row_of(int64_t *row, int64_t n, int64_t max)
{
    int64_t one[3];

    agg_row_init(v, row);
    for (int64_t i = 0; i < n; i++) {
        agg_row_init(v, one);
        one[0] = 1;
        one[1] = 1;
        one[2] = i == 0 ? max : 1;
        (void)agg_row_merge(v, row, one);
    }
}

static int
merge(struct store *st, const char *g, int64_t bucket, int32_t part,
    int64_t offset, int archived, int64_t n, int64_t max)
{
    struct store_txn *t;
    int64_t row[3];
    char err[ERR_LEN];
    int rc;

    row_of(row, n, max);
    if (store_txn_begin(st, 1, &t, err) != 0)
        return -1;
    rc = store_late_merge(t, v, g, strlen(g), bucket, part, offset, archived,
        n, row, err);
    if (rc != 0) {
        printf("store_late_merge: %s\n", err);
        store_txn_abort(t);
        return -1;
    }
    return store_txn_commit(t, err);
}

/* The entries of group g in [from, to) as text:
 * "HOUR/PART/OFFSET:ARCHIVED/EVENTS/ORDERS/MAX ". */
struct text {
    char s[1024];
};

static int
put_entry(void *arg, const struct late_entry *e)
{
    struct text *x = arg;
    size_t n = strlen(x->s);

    snprintf(x->s + n, sizeof(x->s) - n, "%lld/%d/%lld:%d/%lld/%lld/%lld ",
        (long long)((e->bucket - T0) / HOUR), (int)e->part,
        (long long)e->offset, e->archived, (long long)e->events,
        (long long)e->row[0], (long long)e->row[2]);
    return 0;
}

static const char *
entries(struct store *st, const char *g, int64_t from, int64_t to)
{
    static struct text x;
    struct store_txn *t;
    char err[ERR_LEN];

    x.s[0] = '\0';
    if (store_txn_begin(st, 0, &t, err) != 0 ||
        store_late_scan(t, v, g, strlen(g), from, to, put_entry, &x,
        err) != 0)
        snprintf(x.s, sizeof(x.s), "error: %s", err);
    store_txn_abort(t);
    return x.s;
}

/* The archive's sealed segments, as batch lists them (segment.h). */
static void
test_segment_path(void)
{
    static const struct {
        const char *path;
        int         ok;
        int32_t     part;
        int64_t     first, last;
    } cases[] = {
        {"a/t/p3/00000000000000000010-00000000000000000019.jsonl", 1, 3, 10,
            19},
        {"a/t/p0/00000000000000000000-00000000000000000000.jsonl", 1, 0, 0,
            0},
        {"a/t/p3/.00000000000000000010.jsonl.open", 0, 0, 0, 0},
        {"a/t/p3/00000000000000000010-0000000000000000019.jsonl", 0, 0, 0, 0},
        {"a/u/p3/00000000000000000010-00000000000000000019.jsonl", 0, 0, 0, 0},
        {"b/t/p3/00000000000000000010-00000000000000000019.jsonl", 0, 0, 0, 0},
        {"a/t/q3/00000000000000000010-00000000000000000019.jsonl", 0, 0, 0, 0},
        {"a/t/p3/x/00000000000000000010-00000000000000000019.jsonl", 0, 0, 0,
            0},
        {"a/t/p3/00000000000000000010-00000000000000000019.json", 0, 0, 0, 0},
    };

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        int32_t part = -1;
        int64_t first = -1, last = -1;
        int rc = segment_path_parse(cases[i].path, "a/", "t", &part, &first,
            &last);

        CHECK_EQ(rc, cases[i].ok ? 0 : -1);
        if (cases[i].ok) {
            CHECK_EQ(part, cases[i].part);
            CHECK_EQ(first, cases[i].first);
            CHECK_EQ(last, cases[i].last);
        }
    }
}

/* The key is view | 0 | group | bucket (sign flipped, BE) | partition (BE)
 * | offset (BE) | archived; the value events | flags (LE) | the row, as agg
 * encodes it. */
static void
test_encoding(void)
{
    struct store *st = open_new("enc");
    struct store_txn *t;
    MDB_cursor *cur;
    MDB_val k, d;
    char err[ERR_LEN];
    unsigned char want[2 + 2 + 21], row[24];
    int64_t r[3];

    CHECK(st != NULL);
    if (st == NULL)
        return;
    CHECK(merge(st, "c1", T0 + HOUR, 0x0a0b0c0d, 0x0102030405060708LL, 1, 3,
        500) == 0);
    memcpy(want, "v\0c1", 4);
    store_bucket_put(want + 4, T0 + HOUR);
    for (int i = 0; i < 4; i++)
        want[12 + i] = (unsigned char)(0x0a + i);
    for (int i = 0; i < 8; i++)
        want[16 + i] = (unsigned char)(i + 1);
    want[24] = 1;
    CHECK(store_txn_begin(st, 0, &t, err) == 0);
    CHECK(mdb_cursor_open(t->txn, st->late, &cur) == 0);
    CHECK(mdb_cursor_get(cur, &k, &d, MDB_FIRST) == 0);
    CHECK_EQ(k.mv_size, sizeof(want));
    CHECK(k.mv_size == sizeof(want) && memcmp(k.mv_data, want,
        sizeof(want)) == 0);
    CHECK_EQ(d.mv_size, 16 + agg_row_size(v));
    CHECK_EQ(store_le64_get(d.mv_data), 3);
    CHECK_EQ(store_le64_get((unsigned char *)d.mv_data + 8), LATE_ARCHIVED);
    row_of(r, 3, 500);
    agg_row_encode(v, r, row);
    CHECK(d.mv_size >= 16 + sizeof(row) && memcmp((unsigned char *)d.mv_data
        + 16, row, agg_row_size(v)) == 0);
    CHECK(mdb_cursor_get(cur, &k, &d, MDB_NEXT) == MDB_NOTFOUND);
    mdb_cursor_close(cur);
    store_txn_abort(t);
    store_free(st);
}

static void
test_merge_scan(void)
{
    struct store *st = open_new("merge");

    CHECK(st != NULL);
    if (st == NULL)
        return;
    /* one entry takes two commits at one offset; another offset, another
     * partition, another flag and another hour are other entries */
    CHECK(merge(st, "c1", T0 + 2 * HOUR, 0, 5, 1, 2, 700) == 0);
    CHECK(merge(st, "c1", T0 + 2 * HOUR, 0, 5, 1, 1, 900) == 0);
    CHECK(merge(st, "c1", T0 + 2 * HOUR, 0, 6, 1, 1, 100) == 0);
    CHECK(merge(st, "c1", T0 + 2 * HOUR, 1, 2, 1, 1, 200) == 0);
    CHECK(merge(st, "c1", T0 + 2 * HOUR, 0, 5, 0, 4, 300) == 0);
    CHECK(merge(st, "c1", T0 + HOUR, 0, 9, 1, 1, 50) == 0);
    /* c10 starts with c1's bytes: never one of c1's entries */
    CHECK(merge(st, "c10", T0 + HOUR, 0, 5, 1, 7, 70) == 0);
    CHECK(merge(st, "", T0, 0, 5, 0, 1, 10) == 0);
    CHECK_EQ_STR(entries(st, "c1", INT64_MIN, INT64_MAX),
        "1/0/9:1/1/1/50 2/0/5:0/4/4/300 2/0/5:1/3/3/900 2/0/6:1/1/1/100 "
        "2/1/2:1/1/1/200 ");
    CHECK_EQ_STR(entries(st, "c1", T0 + 2 * HOUR, INT64_MAX),
        "2/0/5:0/4/4/300 2/0/5:1/3/3/900 2/0/6:1/1/1/100 2/1/2:1/1/1/200 ");
    CHECK_EQ_STR(entries(st, "c1", INT64_MIN, T0 + 2 * HOUR),
        "1/0/9:1/1/1/50 ");
    CHECK_EQ_STR(entries(st, "c1", T0 + 3 * HOUR, INT64_MAX), "");
    CHECK_EQ_STR(entries(st, "c10", INT64_MIN, INT64_MAX),
        "1/0/5:1/7/7/70 ");
    CHECK_EQ_STR(entries(st, "", INT64_MIN, INT64_MAX), "0/0/5:0/1/1/10 ");
    CHECK_EQ_STR(entries(st, "c2", INT64_MIN, INT64_MAX), "");
    store_free(st);
}

static int64_t
absorbed(struct store *st, const char *g, int64_t bucket, int64_t cutoff,
    const struct late_listing *l)
{
    struct store_txn *t;
    int64_t n = -1;
    char err[ERR_LEN];

    if (store_txn_begin(st, 0, &t, err) != 0 ||
        store_late_absorbed(t, v, g, strlen(g), bucket, cutoff, l, &n,
        err) != 0)
        n = -1;
    store_txn_abort(t);
    return n;
}

/* Archived entries go when bucket < cutoff and their offset is listed in
 * their partition; the others only a week of buckets before the cutoff. */
static void
test_clear(void)
{
    struct store *st = open_new("clear");
    struct store_txn *t;
    int64_t arch = 0, unarch = 0;
    int64_t last10[2] = {10, -1}, last11[2] = {11, 3};
    struct late_listing l10 = {2, last10}, l11 = {2, last11};
    char err[ERR_LEN];

    CHECK(st != NULL);
    if (st == NULL)
        return;
    CHECK(merge(st, "c1", T0, 0, 10, 1, 2, 10) == 0);       /* goes */
    CHECK(merge(st, "c1", T0, 0, 11, 1, 3, 10) == 0);       /* not listed */
    CHECK(merge(st, "c1", T0, 1, 3, 1, 8, 10) == 0);        /* nor p1 */
    CHECK(merge(st, "c1", T0, 2, 0, 1, 9, 10) == 0);        /* nor p2 */
    CHECK(merge(st, "c1", T0 + DAY, 0, 1, 1, 4, 10) == 0);  /* cutoff */
    CHECK(merge(st, "c1", T0, 0, 1, 0, 5, 10) == 0);        /* not archived */
    CHECK(merge(st, "c2", T0 - 8 * DAY, 0, 1, 0, 6, 10) == 0);  /* a week */
    CHECK(merge(st, "c2", T0 - 8 * DAY, 0, 1, 1, 7, 10) == 0);  /* goes */

    /* what the diff counts is what the clear deletes */
    CHECK_EQ(absorbed(st, "c1", T0, T0 + DAY, &l10), 2);
    CHECK_EQ(absorbed(st, "c1", T0, T0 + DAY, &l11), 13);
    CHECK_EQ(absorbed(st, "c1", T0 + DAY, T0 + DAY, &l11), 0);
    CHECK_EQ(absorbed(st, "c1", T0, T0 + DAY, NULL), 0);
    CHECK_EQ(absorbed(st, "c2", T0 - 8 * DAY, T0 + DAY, &l10), 7);

    /* no listing: archived entries stay, old unarchived ones go */
    CHECK(store_txn_begin(st, 1, &t, err) == 0);
    CHECK(store_late_clear(t, T0 + DAY, NULL, &arch, &unarch, err) == 0);
    CHECK(store_txn_commit(t, err) == 0);
    CHECK_EQ(arch, 0);
    CHECK_EQ(unarch, 6);
    CHECK_EQ_STR(entries(st, "c2", INT64_MIN, INT64_MAX),
        "-192/0/1:1/7/7/10 ");

    CHECK(store_txn_begin(st, 1, &t, err) == 0);
    CHECK(store_late_clear(t, T0 + DAY, &l10, &arch, &unarch, err) == 0);
    CHECK(store_txn_commit(t, err) == 0);
    CHECK_EQ(arch, 9);
    CHECK_EQ(unarch, 6);
    CHECK_EQ_STR(entries(st, "c1", INT64_MIN, INT64_MAX),
        "0/0/1:0/5/5/10 0/0/11:1/3/3/10 0/1/3:1/8/8/10 0/2/0:1/9/9/10 "
        "24/0/1:1/4/4/10 ");
    CHECK_EQ_STR(entries(st, "c2", INT64_MIN, INT64_MAX), "");
    /* a read-only transaction cannot clear */
    CHECK(store_txn_begin(st, 0, &t, err) == 0);
    CHECK(store_late_clear(t, T0 + DAY, &l11, NULL, NULL, err) == -1);
    store_txn_abort(t);
    store_free(st);
}

/* A reset deletes the entries its replay counts: bucket >= from. */
static void
test_replayed(void)
{
    struct store *st = open_new("replayed");
    struct store_txn *t;
    int64_t deleted = 0;
    char err[ERR_LEN];

    CHECK(st != NULL);
    if (st == NULL)
        return;
    CHECK(merge(st, "c1", T0, 0, 10, 1, 2, 10) == 0);           /* stays */
    CHECK(merge(st, "c1", T0 + HOUR, 0, 11, 1, 3, 10) == 0);    /* goes */
    CHECK(merge(st, "c1", T0 + HOUR, 1, 4, 0, 4, 10) == 0);     /* goes */
    CHECK(merge(st, "c2", T0 + 2 * HOUR, 0, 12, 1, 5, 10) == 0);  /* goes */
    CHECK(merge(st, "c2", T0 - HOUR, 1, 2, 0, 6, 10) == 0);     /* stays */
    /* a dry run counts them in a read-only transaction, deletes none */
    CHECK(store_txn_begin(st, 0, &t, err) == 0);
    CHECK(store_late_replayed(t, T0 + HOUR, 1, &deleted, err) == 0);
    store_txn_abort(t);
    CHECK_EQ(deleted, 3);
    CHECK(store_txn_begin(st, 0, &t, err) == 0);
    CHECK(store_late_replayed(t, T0 + HOUR, 0, &deleted, err) == -1);
    store_txn_abort(t);
    deleted = 0;
    CHECK(store_txn_begin(st, 1, &t, err) == 0);
    CHECK(store_late_replayed(t, T0 + HOUR, 0, &deleted, err) == 0);
    CHECK(store_txn_commit(t, err) == 0);
    CHECK_EQ(deleted, 3);
    CHECK_EQ_STR(entries(st, "c1", INT64_MIN, INT64_MAX), "0/0/10:1/2/2/10 ");
    CHECK_EQ_STR(entries(st, "c2", INT64_MIN, INT64_MAX),
        "-1/1/2:0/6/6/10 ");
    /* nothing at or after the end of time */
    CHECK(store_txn_begin(st, 1, &t, err) == 0);
    CHECK(store_late_replayed(t, INT64_MAX, 0, &deleted, err) == 0);
    CHECK(store_txn_commit(t, err) == 0);
    CHECK_EQ(deleted, 3);
    store_free(st);
}

int
main(void)
{
    int rc;

    test_tmpdir(top);
    unsetenv("LAMBDA_MAP_SIZE");
    fixture();
    RUN(test_segment_path);
    RUN(test_encoding);
    RUN(test_merge_scan);
    RUN(test_clear);
    RUN(test_replayed);
    rc = test_report();
    if (test_tmpdir_remove(top) != 0)
        return 1;
    return rc;
}
