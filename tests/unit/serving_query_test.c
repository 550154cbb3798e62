/* serving_query_test.c -- unit tests for serving/query.c: read plans and the totals they give */
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "serving/query.h"
#include "shared/err.h"
#include "shared/store.h"
#include "tests/test.h"

#define H (3600LL * 1000)
#define D (24 * H)
#define MIN INT64_MIN
#define MAX INT64_MAX
#define LEN(a) ((int)(sizeof(a) / sizeof((a)[0])))
#define BASE STORE_LEVEL_BASE
#define DAY STORE_LEVEL_DAY
#define ALL STORE_LEVEL_ALL

static char top[] = "/tmp/serving_query_test.XXXXXX";

/*
 * Views in file order: hourly (1h) and daily (1d), both by customer and
 * counting, and empty (1h, no group), which never gets a batch row. The
 * writer takes views in name order: daily, empty, hourly.
 */
static struct field fields[] = {
    {.name = "customer", .type = FIELD_STRING, .required = 1},
};
static int by_customer[] = {0};
static struct metric m_hourly[] = {{.name = "n", .kind = METRIC_COUNT,
    .field = -1}};
static struct metric m_daily[] = {{.name = "n", .kind = METRIC_COUNT,
    .field = -1}};
static struct metric m_empty[] = {{.name = "n", .kind = METRIC_COUNT,
    .field = -1}};
static struct view views[] = {
    {.name = "hourly", .group_by = by_customer, .ngroup = 1,
        .granularity = H, .metrics = m_hourly, .nmetrics = 1, .nslots = 1},
    {.name = "daily", .group_by = by_customer, .ngroup = 1,
        .granularity = D, .metrics = m_daily, .nmetrics = 1, .nslots = 1},
    {.name = "empty", .granularity = H, .metrics = m_empty, .nmetrics = 1,
        .nslots = 1},
};
static struct pipeline pl = {.name = "q", .fields = fields, .nfields = 1,
    .views = views, .nviews = 3};
static const struct view *hourly = &views[0], *daily = &views[1],
    *empty = &views[2];

/* A row: customer ("c1", "c2"), bucket in hours, count. */
struct row {
    const char *g;
    int64_t     bucket;
    int64_t     n;
};

/* The batch rows, cutoff 96h (day 4): hourly spans 5h .. 75h, daily
 * 0h .. 72h. */
#define CUTOFF (96 * H)
static const struct row b_hourly[] = {
    {"c1", 5, 1}, {"c1", 30, 2}, {"c1", 47, 4}, {"c1", 50, 8},
    {"c1", 75, 16}, {"c2", 6, 32}, {"c2", 24, 64}, {"c2", 71, 128},
};
static const struct row b_daily[] = {
    {"c1", 0, 3}, {"c1", 24, 5}, {"c2", 72, 7},
};
/* Speed rows; the one at 90h is before the cutoff, not pruned yet, and
 * must never be read. */
static const struct row s_hourly[] = {
    {"c1", 90, 1000}, {"c1", 96, 256}, {"c1", 100, 512}, {"c2", 130, 1024},
};

/* key.h's encoding of one string into k[16]: 0x04, the bytes, 0x00 (the
 * string's terminator). */
static size_t
gkey(char *k, const char *g)
{
    return (size_t)snprintf(k, 16, "\x04%s", g) + 1;
}

static int
put_rows(struct store_writer *w, const struct view *v, const struct row *r,
    int n, char *err)
{
    for (int i = 0; i < n; i++) {
        char k[16];
        size_t kl = gkey(k, r[i].g);

        if (store_writer_put(w, v, k, kl, r[i].bucket * H, &r[i].n, err) != 0)
            return -1;
    }
    return 0;
}

/* A store in dir: the batch rows published with CUTOFF unless no_batch,
 * the speed rows and a watermark. NULL on failure. */
static struct store *
make_store(const char *dir, int no_batch)
{
    struct store_batch_info info = {0, CUTOFF, 0, 1};
    struct store_writer *w = NULL;
    struct store_txn *t = NULL;
    struct store *st = NULL;
    char err[ERR_LEN];

    if (store_open(&st, dir, 0, err) != 0)
        goto fail;
    if (!no_batch && (store_writer_begin(st, &pl, -1, &w, err) != 0 ||
        put_rows(w, daily, b_daily, LEN(b_daily), err) != 0 ||
        put_rows(w, hourly, b_hourly, LEN(b_hourly), err) != 0 ||
        store_writer_publish(w, &info, err) != 0))
        goto fail;
    if (store_txn_begin(st, 1, &t, err) != 0)
        goto fail;
    for (int i = 0; i < LEN(s_hourly); i++) {
        char k[16];
        size_t kl = gkey(k, s_hourly[i].g);

        if (store_speed_merge(t, hourly, k, kl, s_hourly[i].bucket * H,
            &s_hourly[i].n, err) != 0)
            goto fail;
    }
    if (store_meta_put_i64(t, "speed.watermark", 131 * H, err) != 0 ||
        store_txn_commit(t, err) != 0) {
        t = NULL;
        goto fail;
    }
    return st;
fail:
    printf("store %s: %s\n", dir, err);
    store_txn_abort(t);
    store_free(st);
    return NULL;
}

/* make_store() in top/name and begin a snapshot of it. Returns the store,
 * or NULL (a failed check). */
static struct store *
open_snap(const char *name, int no_batch, struct snap *s)
{
    char dir[PATH_MAX], err[ERR_LEN];
    struct store *st;

    snprintf(dir, sizeof(dir), "%s/%s", top, name);
    st = make_store(dir, no_batch);
    CHECK(st != NULL);
    if (st != NULL && snap_begin(s, st, err) != 0) {
        CHECK_EQ_STR(err, "");
        store_free(st);
        st = NULL;
    }
    return st;
}

struct seg {
    int     speed, level;
    int64_t from, to;
};

#define HR(x) ((x) * H)

/* Plans worked by hand from the spans above (hourly: first 5h, last 75h,
 * so batch rows end at 76h; daily: 0h .. 72h, ending at 96h). */
static void
test_plan_cases(void)
{
    static const struct {
        const char        *name;
        const struct view *const *v;
        unsigned           flags;
        int64_t            from, to;
        int                n;
        struct seg         seg[PLAN_MAX];
    } cases[] = {
        {"base only", &hourly, 0, MIN, MAX, 2,
            {{0, BASE, MIN, CUTOFF}, {1, BASE, CUTOFF, MAX}}},
        {"all time", &hourly, PLAN_ALL | PLAN_DAY, MIN, MAX, 2,
            {{0, ALL, MIN, MAX}, {1, BASE, CUTOFF, MAX}}},
        {"covers the span", &hourly, PLAN_ALL | PLAN_DAY, 0, MAX, 2,
            {{0, ALL, MIN, MAX}, {1, BASE, CUTOFF, MAX}}},
        {"covers the span, before cutoff", &hourly, PLAN_ALL | PLAN_DAY,
            HR(5), HR(76), 1, {{0, ALL, MIN, MAX}}},
        {"misses the first bucket", &hourly, PLAN_ALL | PLAN_DAY, HR(6), MAX,
            4, {{0, BASE, HR(6), HR(24)}, {0, DAY, HR(24), HR(72)},
            {0, BASE, HR(72), HR(76)}, {1, BASE, CUTOFF, MAX}}},
        {"misses the last bucket", &hourly, PLAN_ALL | PLAN_DAY, MIN, HR(75),
            3, {{0, BASE, HR(5), HR(24)}, {0, DAY, HR(24), HR(72)},
            {0, BASE, HR(72), HR(75)}}},
        {"days, clipped to the span", &hourly, PLAN_DAY, MIN, HR(50), 3,
            {{0, BASE, HR(5), HR(24)}, {0, DAY, HR(24), HR(48)},
            {0, BASE, HR(48), HR(50)}}},
        {"whole days", &hourly, PLAN_DAY, HR(24), HR(72), 1,
            {{0, DAY, HR(24), HR(72)}}},
        {"within one day", &hourly, PLAN_DAY, HR(10), HR(20), 1,
            {{0, BASE, HR(10), HR(20)}}},
        {"across a day edge, no whole day", &hourly, PLAN_DAY, HR(20),
            HR(30), 1, {{0, BASE, HR(20), HR(30)}}},
        {"no days allowed", &hourly, 0, HR(6), HR(100), 2,
            {{0, BASE, HR(6), CUTOFF}, {1, BASE, CUTOFF, HR(100)}}},
        {"after the cutoff", &hourly, PLAN_ALL | PLAN_DAY, HR(100), HR(200),
            1, {{1, BASE, HR(100), HR(200)}}},
        {"from the cutoff", &hourly, PLAN_DAY, CUTOFF, MAX, 1,
            {{1, BASE, CUTOFF, MAX}}},
        {"past the batch rows", &hourly, PLAN_DAY, HR(80), HR(90), 0, {{0}}},
        {"empty range", &hourly, PLAN_ALL | PLAN_DAY, HR(10), HR(10), 0,
            {{0}}},
        {"reversed range", &hourly, 0, HR(10), HR(9), 0, {{0}}},
        {"daily view: no day level", &daily, PLAN_DAY, MIN, MAX, 2,
            {{0, BASE, 0, CUTOFF}, {1, BASE, CUTOFF, MAX}}},
        {"daily view, all time", &daily, PLAN_ALL | PLAN_DAY, HR(0), MAX, 2,
            {{0, ALL, MIN, MAX}, {1, BASE, CUTOFF, MAX}}},
        {"no batch rows", &empty, PLAN_DAY, HR(6), MAX, 1,
            {{1, BASE, CUTOFF, MAX}}},
        {"no batch rows, all time", &empty, PLAN_ALL | PLAN_DAY, MIN, MAX, 2,
            {{0, ALL, MIN, MAX}, {1, BASE, CUTOFF, MAX}}},
    };
    char err[ERR_LEN];
    struct store *st;
    struct snap s;

    if ((st = open_snap("plan", 0, &s)) == NULL)
        return;
    CHECK_EQ(s.cutoff, CUTOFF);
    CHECK_EQ(s.watermark, 131 * H);
    CHECK(snap_has_data(&s));
    for (int c = 0; c < LEN(cases); c++) {
        struct plan p;
        int before = test_cur_failed;

        memset(&p, 0xff, sizeof(p));
        CHECK_EQ(plan_make(&s, *cases[c].v, cases[c].from, cases[c].to,
            cases[c].flags, &p, err), 0);
        CHECK_EQ(p.n, cases[c].n);
        for (int i = 0; i < p.n && i < cases[c].n; i++) {
            CHECK_EQ(p.seg[i].speed, cases[c].seg[i].speed);
            CHECK_EQ(p.seg[i].level, cases[c].seg[i].level);
            CHECK_EQ(p.seg[i].from, cases[c].seg[i].from);
            CHECK_EQ(p.seg[i].to, cases[c].seg[i].to);
        }
        if (test_cur_failed != before)
            printf("  in case \"%s\"\n", cases[c].name);
    }
    snap_end(&s);
    store_free(st);
}

/* Before any batch publish: every range is read from speed. */
static void
test_plan_speed_only(void)
{
    char err[ERR_LEN];
    struct store *st;
    struct snap s;
    struct plan p;

    if ((st = open_snap("speed", 1, &s)) == NULL)
        return;
    CHECK(!s.has_batch);
    CHECK_EQ(s.cutoff, MIN);
    CHECK(snap_has_data(&s));
    CHECK_EQ(plan_make(&s, hourly, MIN, MAX, PLAN_ALL | PLAN_DAY, &p, err),
        0);
    CHECK_EQ(p.n, 1);
    CHECK(p.seg[0].speed == 1 && p.seg[0].level == BASE &&
        p.seg[0].from == MIN && p.seg[0].to == MAX);
    CHECK_EQ(plan_make(&s, hourly, HR(3), HR(7), 0, &p, err), 0);
    CHECK_EQ(p.n, 1);
    CHECK(p.seg[0].speed == 1 && p.seg[0].from == HR(3) &&
        p.seg[0].to == HR(7));
    snap_end(&s);
    store_free(st);
}

/* The definition: base rows of the group in [from, to), batch below the
 * cutoff, speed at or after it. */
static int64_t
expected(const char *g, int64_t from, int64_t to)
{
    int64_t sum = 0;

    for (int i = 0; i < LEN(b_hourly); i++) {
        int64_t b = b_hourly[i].bucket * H;

        if ((g == NULL || strcmp(b_hourly[i].g, g) == 0) && b >= from &&
            b < to && b < CUTOFF)
            sum += b_hourly[i].n;
    }
    for (int i = 0; i < LEN(s_hourly); i++) {
        int64_t b = s_hourly[i].bucket * H;

        if ((g == NULL || strcmp(s_hourly[i].g, g) == 0) && b >= from &&
            b < to && b >= CUTOFF)
            sum += s_hourly[i].n;
    }
    return sum;
}

struct seen {
    int64_t sum, last;
    int     ordered;
};

static int
see_row(void *arg, int64_t bucket, const int64_t *row, char *err)
{
    struct seen *sn = arg;

    (void)err;
    if (bucket < sn->last)
        sn->ordered = 0;
    sn->last = bucket;
    sn->sum += row[0];
    return 0;
}

struct groups {
    int     n;
    char    g[4][8];
    int64_t sum[4];
};

static int
see_group(void *arg, const void *gk, size_t gklen, const int64_t *row,
    char *err)
{
    struct groups *gr = arg;

    if (gr->n == 4 || gklen < 2 || gklen > 8) {
        snprintf(err, ERR_LEN, "unexpected group");
        return -1;
    }
    memcpy(gr->g[gr->n], (const char *)gk + 1, gklen - 2);
    gr->g[gr->n][gklen - 2] = '\0';
    gr->sum[gr->n++] = row[0];
    return 0;
}

/*
 * A cursor over every group of plan p, reading all the rows of each group
 * (skip 0) or only the first (skip 1, the rest skipped by the next group),
 * into gr: the sum of the rows read per group, and whether they ascend.
 */
static void
cursor_groups(struct snap *s, const struct plan *p, int skip,
    struct groups *gr, int *ordered)
{
    struct query_cursor *c;
    const int64_t *row;
    const void *k;
    size_t kl;
    int64_t b;
    char err[ERR_LEN];
    int rc;

    gr->n = 0;
    *ordered = 1;
    CHECK_EQ(query_cursor_open(s, hourly, p, NULL, 0, &c, err), 0);
    while ((rc = query_cursor_group(c, &k, &kl, err)) == 0) {
        struct seen sn = {0, MIN, 1};

        while ((rc = query_cursor_row(c, &b, &row, err)) == 0) {
            see_row(&sn, b, row, err);
            if (skip)
                break;
        }
        CHECK(rc == 0 || rc == QUERY_END);
        *ordered &= sn.ordered;
        CHECK_EQ(see_group(gr, k, kl, &sn.sum, err), 0);
    }
    CHECK_EQ(rc, QUERY_END);
    query_cursor_free(c);
}

/*
 * Every range of whole hours from -2h to 140h (and open ends), under each
 * set of flags the API uses: a plan's segments are in time order and do
 * not overlap, use only the levels the flags allow, and read exactly the
 * rows of the definition: per group (query_total, query_key_rows, in
 * ascending buckets) and over all groups (query_groups, in key order).
 */
static void
test_plan_totals(void)
{
    static const unsigned flags[] = {0, PLAN_DAY, PLAN_ALL | PLAN_DAY};
    static const char *groups[] = {"c1", "c2"};
    char err[ERR_LEN];
    struct store *st;
    struct snap s;

    if ((st = open_snap("totals", 0, &s)) == NULL)
        return;
    for (int64_t f = -3; f <= 140; f++) {
        for (int64_t t = f; t <= 141; t++) {
            int64_t from = f == -3 ? MIN : f * H, to = t == 141 ? MAX : t * H;

            for (int fl = 0; fl < LEN(flags); fl++) {
                struct groups gr = {0};
                struct plan p;
                int before = test_cur_failed, ng = 0;

                CHECK_EQ(plan_make(&s, hourly, from, to, flags[fl], &p, err),
                    0);
                for (int i = 0; i < p.n; i++) {
                    const struct plan_seg *sg = &p.seg[i];

                    CHECK(sg->from < sg->to);
                    CHECK(i == 0 || sg->from >= p.seg[i - 1].to ||
                        p.seg[i - 1].level == ALL);
                    CHECK(sg->level != DAY || (flags[fl] & PLAN_DAY));
                    CHECK(sg->level != ALL || (flags[fl] & PLAN_ALL));
                    CHECK(!sg->speed || sg->level == BASE);
                }
                for (int g = 0; g < LEN(groups); g++) {
                    char k[16];
                    size_t kl = gkey(k, groups[g]);
                    struct seen sn = {0, MIN, 1};
                    int64_t row[1] = {-1}, want = expected(groups[g], from,
                        to);

                    CHECK_EQ(query_total(&s, hourly, &p, k, kl, row, err), 0);
                    CHECK_EQ(row[0], want);
                    CHECK_EQ(query_key_rows(&s, hourly, &p, k, kl, see_row,
                        &sn, err), 0);
                    CHECK_EQ(sn.sum, want);
                    /* the series feed: ascending buckets (ALL is bucket 0
                     * and never planned for series) */
                    CHECK(sn.ordered || (flags[fl] & PLAN_ALL));
                    ng += want != 0;
                }
                CHECK_EQ(query_groups(&s, hourly, &p, see_group, &gr, err),
                    0);
                for (int i = 0, g = 0; g < LEN(groups); g++) {
                    int64_t want = expected(groups[g], from, to);

                    if (want == 0)
                        continue;   /* no rows: the group is not listed */
                    CHECK(i < gr.n && strcmp(gr.g[i], groups[g]) == 0);
                    CHECK(i < gr.n && gr.sum[i] == want);
                    i++;
                }
                CHECK_EQ(gr.n, ng);
                /* the cursor: every group's rows, as query_key_rows */
                for (int skip = 0; skip < 2; skip++) {
                    struct groups cg;
                    int ordered;

                    cursor_groups(&s, &p, skip, &cg, &ordered);
                    CHECK_EQ(cg.n, gr.n);
                    for (int i = 0; i < cg.n && i < gr.n; i++) {
                        CHECK(strcmp(cg.g[i], gr.g[i]) == 0);
                        CHECK(skip || cg.sum[i] == gr.sum[i]);
                    }
                    CHECK(ordered || (flags[fl] & PLAN_ALL));
                }
                if (test_cur_failed != before) {
                    printf("  for [%lldh, %lldh) flags %u\n", (long long)f,
                        (long long)t, flags[fl]);
                    goto out;
                }
            }
        }
    }
out:
    snap_end(&s);
    store_free(st);
}

int
main(void)
{
    int rc;

    test_tmpdir(top);
    RUN(test_plan_cases);
    RUN(test_plan_speed_only);
    RUN(test_plan_totals);
    rc = test_report();
    return test_tmpdir_remove(top) == 0 ? rc : 1;
}
