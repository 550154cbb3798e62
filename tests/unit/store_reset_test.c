/* store_reset_test.c -- store_reset_apply (rows from a bucket, offsets, floors, watermark), the run lock */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "shared/agg.h"
#include "shared/err.h"
#include "shared/pipeline.h"
#include "shared/speedmeta.h"
#include "shared/store.h"
#include "shared/store_reset.h"
#include "tests/test.h"

static char dir[] = "/tmp/store_reset_test.XXXXXX";
static struct pipeline *p;

static const char pipe_json[] =
    "{\"name\": \"r\", \"store\": \"unused\",\n"
    " \"event\": {\"time\": \"ts\", \"fields\": {\"customer\": \"string\"}},\n"
    " \"views\": {\"a\": {\"group_by\": [\"customer\"], \"granularity\": "
    "\"1s\", \"metrics\": {\"n\": \"count\"}},\n"
    "            \"b\": {\"granularity\": \"2s\", \"metrics\": "
    "{\"n\": \"count\"}}}}\n";

/* A fresh store under dir/NAME with, in view a, groups g1 (buckets 0 to 9
 * s), g2 (0 to 3 s) and g3 (5 to 9 s), and in view b buckets 0 to 8 s by
 * 2 s: 10 + 4 + 5 + 5 = 24 rows. */
static struct store *
filled(const char *name)
{
    char path[512], err[ERR_LEN];
    struct store *st = NULL;
    struct store_txn *t = NULL;
    int64_t one[8];
    static const struct {
        const char *g;
        int64_t first, last;
    } groups[] = {{"g1", 0, 9}, {"g2", 0, 3}, {"g3", 5, 9}};

    snprintf(path, sizeof(path), "%s/%s", dir, name);
    if (store_open(&st, path, 0, err) != 0 ||
        store_txn_begin(st, 1, &t, err) != 0) {
        printf("FAIL open %s: %s\n", path, err);
        exit(1);
    }
    agg_row_init(&p->views[0], one);
    one[0] = 1;
    for (size_t i = 0; i < sizeof(groups) / sizeof(groups[0]); i++)
        for (int64_t s = groups[i].first; s <= groups[i].last; s++)
            CHECK(store_speed_merge(t, &p->views[0], groups[i].g,
                strlen(groups[i].g) + 1, s * 1000, one, err) == 0);
    for (int64_t s = 0; s <= 8; s += 2)
        CHECK(store_speed_merge(t, &p->views[1], NULL, 0, s * 1000, one,
            err) == 0);
    CHECK(store_offset_put(t, "t", 0, 100, err) == 0);
    CHECK(store_offset_put(t, "t", 1, 200, err) == 0);
    CHECK(store_meta_put_i64(t, SPEEDMETA_WATERMARK, 9000, err) == 0);
    CHECK(store_txn_commit(t, err) == 0);
    return st;
}

/* Rows of view v: how many, and the last bucket (INT64_MIN: none). */
static int64_t
rows(struct store *st, int v, int64_t *last)
{
    struct store_txn *t = NULL;
    struct store_iter *it = NULL;
    struct store_row row;
    char err[ERR_LEN];
    int64_t n = 0;

    *last = INT64_MIN;
    if (store_txn_begin(st, 0, &t, err) != 0 ||
        store_iter_speed(t, &p->views[v], NULL, 0, INT64_MIN, INT64_MAX,
        &it, err) != 0)
        return -1;
    while (store_iter_next(it, &row, err) == 0) {
        n++;
        if (row.bucket > *last)
            *last = row.bucket;
    }
    store_iter_free(it);
    store_txn_abort(t);
    return n;
}

static int
apply(struct store *st, const struct store_reset *r, int64_t *deleted)
{
    struct store_txn *t = NULL;
    char err[ERR_LEN];

    int64_t late;

    if (store_txn_begin(st, 1, &t, err) != 0)
        return -1;
    if (store_reset_apply(t, r, deleted, &late, err) != 0) {
        printf("store_reset_apply: %s\n", err);
        store_txn_abort(t);
        return -1;
    }
    return store_txn_commit(t, err);
}

static void
test_rows_from(void)
{
    static const struct {
        int64_t from;
        int64_t deleted, a, a_last, b, b_last;
    } cases[] = {
        /* g1 4..9, g3 5..9 and b 4, 6, 8 go; g2 stays whole */
        {4000, 6 + 5 + 3, 4 + 4, 3000, 2, 2000},
        {4500, 5 + 5 + 2, 5 + 4, 4000, 3, 4000},    /* mid-bucket of b */
        {0, 24, 0, INT64_MIN, 0, INT64_MIN},
        {INT64_MIN, 24, 0, INT64_MIN, 0, INT64_MIN},
        {INT64_MAX, 0, 19, 9000, 5, 8000},
        {10000, 0, 19, 9000, 5, 8000},
    };
    char name[32];
    int64_t deleted, last;

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct store_reset r = {.topic = "t", .from = cases[i].from,
            .watermark = 1000};
        struct store *st;

        snprintf(name, sizeof(name), "rows%zu", i);
        st = filled(name);
        CHECK(apply(st, &r, &deleted) == 0);
        CHECK_EQ_INT(deleted, cases[i].deleted);
        CHECK_EQ_INT(rows(st, 0, &last), cases[i].a);
        CHECK_EQ_INT(last, cases[i].a_last);
        CHECK_EQ_INT(rows(st, 1, &last), cases[i].b);
        CHECK_EQ_INT(last, cases[i].b_last);
        store_free(st);
    }
}

static void
test_offsets_floors_watermark(void)
{
    struct store_reset_part parts[] = {
        {.part = 0, .next = 40, .below = 100, .before = 4000},
        {.part = 1, .next = 250, .below = -1},
    };
    struct store_reset r = {.topic = "t", .from = 4000, .watermark =
        INT64_MIN, .parts = parts, .nparts = 2};
    struct store *st = filled("floors");
    struct store_txn *t = NULL;
    char err[ERR_LEN], path[512];
    int64_t v, below, before, deleted;

    CHECK(apply(st, &r, &deleted) == 0);
    CHECK(store_txn_begin(st, 0, &t, err) == 0);
    CHECK(store_offset_get(t, "t", 0, &v, err) == 0 && v == 40);
    CHECK(store_offset_get(t, "t", 1, &v, err) == 0 && v == 250);
    CHECK(store_replay_get(t, "t", 0, &below, &before, err) == 0);
    CHECK_EQ_INT(below, 100);
    CHECK_EQ_INT(before, 4000);
    CHECK_EQ_INT(store_replay_get(t, "t", 1, &below, &before, err),
        STORE_NOTFOUND);
    CHECK_EQ_INT(store_meta_get_i64(t, SPEEDMETA_WATERMARK, &v, err),
        STORE_NOTFOUND);
    store_txn_abort(t);

    /* the floor goes when a later reset says so; a watermark is set */
    parts[0].below = -1;
    r.watermark = 3000;
    CHECK(apply(st, &r, &deleted) == 0);
    CHECK_EQ_INT(deleted, 0);
    CHECK(store_txn_begin(st, 0, &t, err) == 0);
    CHECK_EQ_INT(store_replay_get(t, "t", 0, &below, &before, err),
        STORE_NOTFOUND);
    CHECK(store_meta_get_i64(t, SPEEDMETA_WATERMARK, &v, err) == 0 &&
        v == 3000);
    store_txn_abort(t);
    store_free(st);

    /* a floor in the store passes the checks at open */
    parts[0].below = 7;
    st = filled("floors2");
    CHECK(apply(st, &r, &deleted) == 0);
    store_free(st);
    snprintf(path, sizeof(path), "%s/floors2", dir);
    st = NULL;
    CHECK(store_open(&st, path, STORE_RDONLY, err) == 0);
    store_free(st);
}

static void
test_lock(void)
{
    char err[ERR_LEN], want[512];
    int a, b, x;

    a = store_speed_lock(dir, 0, 0, err);
    b = store_speed_lock(dir, 0, 0, err);
    CHECK(a >= 0 && b >= 0);            /* lambda-speeds share it */
    CHECK_EQ_INT(store_speed_lock(dir, 1, 0, err), -2);
    snprintf(want, sizeof(want), "another lambda-speed is running on %s "
        "(pid %ld)", dir, (long)getpid());
    CHECK_STREQ(err, want);
    (void)close(a);
    CHECK_EQ_INT(store_speed_lock(dir, 1, 0, err), -2);
    (void)close(b);
    x = store_speed_lock(dir, 1, 0, err);
    CHECK(x >= 0);                      /* a reset, once they are gone */
    CHECK_EQ_INT(store_speed_lock(dir, 0, 0, err), -2);
    snprintf(want, sizeof(want), "lambda-speed --reset-to is running on %s "
        "(pid %ld)", dir, (long)getpid());
    CHECK_STREQ(err, want);
    (void)close(x);
    a = store_speed_lock(dir, 0, 1, err);
    CHECK(a >= 0);
    (void)close(a);
    CHECK_EQ_INT(store_speed_lock("/nonexistent/dir", 1, 0, err), -1);
    CHECK(strstr(err, "speed.run.lock") != NULL);
}

int
main(void)
{
    char path[512], err[ERR_LEN];
    FILE *f;

    test_tmpdir(dir);
    snprintf(path, sizeof(path), "%s/r.json", dir);
    if ((f = fopen(path, "w")) == NULL || fputs(pipe_json, f) == EOF ||
        fclose(f) != 0 || pipeline_load(&p, path, err) != 0) {
        printf("FAIL pipeline: %s\n", err);
        return 1;
    }
    RUN(test_rows_from);
    RUN(test_offsets_floors_watermark);
    RUN(test_lock);
    pipeline_free(p);
    test_tmpdir_remove(dir);
    return test_report();
}
