/* serving_window_test.c -- unit tests for serving/window.c: series points */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "serving/window.h"
#include "shared/err.h"
#include "tests/test.h"

#define H (3600LL * 1000)
#define NSLOTS 8
#define MAXPTS 4096

/*
 * One view: orders count [0], sum(x) [1..3], max(x) [4..5], min(x) [6..7]
 * (agg.h's layout). The expectations below are computed with plain
 * arithmetic, never with agg.c.
 */
static struct metric metrics[] = {
    {.name = "orders", .kind = METRIC_COUNT, .field = -1, .slot = 0},
    {.name = "total", .kind = METRIC_SUM, .field = 0, .slot = 1},
    {.name = "top", .kind = METRIC_MAX, .field = 0, .slot = 4},
    {.name = "low", .kind = METRIC_MIN, .field = 0, .slot = 6},
};
static struct view view = {.name = "w", .granularity = H,
    .metrics = metrics, .nmetrics = 4, .nslots = NSLOTS};

/* A bucket row: n events, summing to sum, largest max, smallest min. */
struct src {
    int64_t bucket;     /* hours */
    int64_t n, sum, max, min;
};

/* An expected point. */
struct pt {
    int64_t t;          /* hours */
    int64_t n, sum, max, min;
};

static void
row_of(int64_t *row, int64_t n, int64_t sum, int64_t max, int64_t min)
{
    row[0] = n;
    row[1] = n;
    row[2] = sum;
    row[3] = sum < 0 ? -1 : 0;     /* the high half of a 128-bit sum */
    row[4] = n;
    row[5] = max;
    row[6] = n;
    row[7] = min;
}

/* What emit received. */
struct got {
    int     n;
    int64_t t[MAXPTS];
    int64_t row[MAXPTS][NSLOTS];
    int     stop_at;    /* > 0: fail the stop_at-th call */
};

static int
collect(void *arg, int64_t t, const int64_t *row, char *err)
{
    struct got *g = arg;

    if (g->n == MAXPTS) {
        snprintf(err, ERR_LEN, "too many points");
        return -1;
    }
    g->t[g->n] = t;
    memcpy(g->row[g->n], row, sizeof(g->row[0]));
    if (++g->n == g->stop_at) {
        snprintf(err, ERR_LEN, "stop");
        return -1;
    }
    return 0;
}

/* Feed rows (times in ms) through a window; returns its status. */
static int
run(struct got *g, int64_t step, int64_t width, int64_t first,
    const int64_t *buckets, const int64_t (*rows)[NSLOTS], int n, char *err)
{
    struct window w;
    int rc = 0;

    g->n = 0;
    window_init(&w, &view, step, width, first, collect, g);
    for (int i = 0; i < n && rc == 0; i++)
        rc = window_add(&w, buckets[i], rows[i], err);
    if (rc == 0)
        rc = window_finish(&w, err);
    window_reset(&w);
    return rc;
}

static void
check_points(const struct got *g, const struct pt *want, int nwant,
    int64_t unit)
{
    CHECK_EQ(g->n, nwant);
    for (int i = 0; i < g->n && i < nwant; i++) {
        int64_t r[NSLOTS];

        row_of(r, want[i].n, want[i].sum, want[i].max, want[i].min);
        CHECK_EQ(g->t[i], want[i].t * unit);
        for (int s = 0; s < NSLOTS; s++)
            CHECK_EQ(g->row[i][s], r[s]);
    }
}

#define MIN INT64_MIN
#define LEN(a) ((int)(sizeof(a) / sizeof((a)[0])))

/* Worked by hand: which rows fall in [t, t + width) for each multiple t of
 * step, in hours. */
static void
test_window_cases(void)
{
    static const struct src rows_a[] = {
        {0, 1, 5, 5, 5}, {1, 2, 6, 3, 3}, {3, 1, 7, 7, 7}, {8, 4, 4, 1, 1},
    };
    static const struct pt tumble2[] = {
        {0, 3, 11, 5, 3}, {2, 1, 7, 7, 7}, {8, 4, 4, 1, 1},
    };
    static const struct pt tumble2_from2[] = {
        {2, 1, 7, 7, 7}, {8, 4, 4, 1, 1},
    };
    static const struct src rows_c[] = {
        {0, 1, 1, 1, 1}, {1, 1, 2, 2, 2}, {5, 1, 4, 4, 4},
    };
    /* step 1h, window 3h: point t holds rows in [t, t+3) */
    static const struct pt slide3[] = {
        {-2, 1, 1, 1, 1}, {-1, 2, 3, 2, 1}, {0, 2, 3, 2, 1},
        {1, 1, 2, 2, 2}, {3, 1, 4, 4, 4}, {4, 1, 4, 4, 4},
        {5, 1, 4, 4, 4},
    };
    static const struct pt slide3_from0[] = {
        {0, 2, 3, 2, 1}, {1, 1, 2, 2, 2}, {3, 1, 4, 4, 4},
        {4, 1, 4, 4, 4}, {5, 1, 4, 4, 4},
    };
    static const struct src rows_e[] = {
        {0, 1, 1, 1, 1}, {1, 1, 2, 2, 2}, {2, 1, 3, 3, 3},
        {4, 1, 4, 4, 4}, {9, 1, 5, 5, 5},
    };
    /* step 2h, window 3h (chunks of 1h) */
    static const struct pt step2_win3[] = {
        {-2, 1, 1, 1, 1}, {0, 3, 6, 3, 1}, {2, 2, 7, 4, 3},
        {4, 1, 4, 4, 4}, {8, 1, 5, 5, 5},
    };
    static const struct src rows_f[] = {
        {0, 1, 1, 1, 1}, {1, 1, 2, 2, 2}, {2, 1, 3, 3, 3},
        {3, 1, 4, 4, 4}, {5, 1, 5, 5, 5},
    };
    /* step 3h, window 2h: rows at 2h and 5h fall between windows */
    static const struct pt step3_win2[] = {
        {0, 2, 3, 2, 1}, {3, 1, 4, 4, 4},
    };
    /* negative sums and buckets before the epoch, one day tumbling */
    static const struct src rows_g[] = {
        {-25, 2, -9, -1, -8}, {-3, 1, 4, 4, 4}, {23, 1, -2, -2, -2},
        {24, 1, 0, 0, 0},
    };
    static const struct pt day[] = {
        {-48, 2, -9, -1, -8}, {-24, 1, 4, 4, 4}, {0, 1, -2, -2, -2},
        {24, 1, 0, 0, 0},
    };
    static const struct {
        const char      *name;
        int64_t          step, width, first;    /* hours, first: MIN */
        const struct src *rows;
        int              nrows;
        const struct pt *want;
        int              nwant;
    } cases[] = {
        {"tumbling 2h", 2, 2, MIN, rows_a, LEN(rows_a), tumble2,
            LEN(tumble2)},
        {"tumbling 2h from 2h", 2, 2, 2, rows_a, LEN(rows_a), tumble2_from2,
            LEN(tumble2_from2)},
        {"sliding 1h/3h", 1, 3, MIN, rows_c, LEN(rows_c), slide3,
            LEN(slide3)},
        {"sliding 1h/3h from 0", 1, 3, 0, rows_c, LEN(rows_c), slide3_from0,
            LEN(slide3_from0)},
        {"step 2h window 3h", 2, 3, MIN, rows_e, LEN(rows_e), step2_win3,
            LEN(step2_win3)},
        {"step 3h window 2h", 3, 2, MIN, rows_f, LEN(rows_f), step3_win2,
            LEN(step3_win2)},
        {"tumbling 1d", 24, 24, MIN, rows_g, LEN(rows_g), day, LEN(day)},
        {"no rows", 1, 3, MIN, NULL, 0, NULL, 0},
    };
    static struct got g;

    for (int c = 0; c < LEN(cases); c++) {
        int64_t buckets[16], rows[16][NSLOTS];
        int64_t first = cases[c].first == MIN ? MIN : cases[c].first * H;
        char err[ERR_LEN] = "";
        int before = test_cur_failed;

        for (int i = 0; i < cases[c].nrows; i++) {
            const struct src *r = &cases[c].rows[i];

            buckets[i] = r->bucket * H;
            row_of(rows[i], r->n, r->sum, r->max, r->min);
        }
        CHECK_EQ(run(&g, cases[c].step * H, cases[c].width * H, first,
            buckets, (const int64_t (*)[NSLOTS])rows, cases[c].nrows, err),
            0);
        check_points(&g, cases[c].want, cases[c].nwant, H);
        if (test_cur_failed != before)
            printf("  in case \"%s\"\n", cases[c].name);
    }
}

/* Rows sharing a bucket, or a chunk, merge into one. */
static void
test_window_same_chunk(void)
{
    static const struct pt want[] = {{0, 3, 6, 3, 1}, {4, 1, 9, 9, 9}};
    int64_t buckets[] = {0, 0, 3 * H, 5 * H};
    int64_t rows[4][NSLOTS];
    char err[ERR_LEN];
    static struct got g;

    row_of(rows[0], 1, 1, 1, 1);
    row_of(rows[1], 1, 2, 2, 2);
    row_of(rows[2], 1, 3, 3, 3);
    row_of(rows[3], 1, 9, 9, 9);
    CHECK_EQ(run(&g, 4 * H, 4 * H, MIN, buckets,
        (const int64_t (*)[NSLOTS])rows, 4, err), 0);
    check_points(&g, want, LEN(want), H);
}

static int64_t
rnd(int64_t lo, int64_t hi)
{
    return lo + (int64_t)((uint64_t)rand() % (uint64_t)(hi - lo + 1));
}

static int64_t
floor_div(int64_t a, int64_t b)
{
    return a / b - (a % b != 0 && (a < 0) != (b < 0));
}

/*
 * Random rows against the definition, point by point: for every multiple t
 * of step, merge the rows with t <= bucket < t + width. Windows up to 60
 * chunks wide make the chunk ring grow.
 */
static void
test_window_random(void)
{
    enum { NROWS = 200 };
    static int64_t buckets[NROWS], rows[NROWS][NSLOTS];
    static struct src in[NROWS];
    static struct pt want[MAXPTS];
    static struct got g;

    srand(9);
    for (int iter = 0; iter < 3000; iter++) {
        int64_t step = rnd(1, 8), width = rnd(1, iter % 4 == 0 ? 60 : 10);
        int nrows = (int)rnd(0, iter % 3 == 0 ? NROWS : 20), nwant = 0;
        int64_t b = rnd(-100, 100), first = MIN, lo, hi;
        char err[ERR_LEN] = "";
        int before = test_cur_failed;

        for (int i = 0; i < nrows; i++) {
            int64_t x = rnd(-50, 50), y = rnd(-50, 50);

            b += rand() % 4 == 0 ? 0 : rnd(1, iter % 5 == 0 ? 2 : 12);
            in[i] = (struct src){b, rnd(1, 3), 0, x > y ? x : y,
                x > y ? y : x};
            in[i].sum = in[i].min + in[i].max;  /* a feasible row */
            buckets[i] = b * H;
            row_of(rows[i], in[i].n, in[i].sum, in[i].max, in[i].min);
        }
        if (iter % 2 == 0 && nrows > 0)
            first = (floor_div(in[0].bucket, step) + rnd(-3, 10)) * step;
        if (nrows > 0) {
            lo = (floor_div(in[0].bucket - width, step)) * step;
            hi = in[nrows - 1].bucket;
            for (int64_t t = lo; t <= hi; t += step) {
                struct pt p = {t, 0, 0, INT64_MIN, INT64_MAX};

                if (first != MIN && t < first)
                    continue;
                for (int i = 0; i < nrows; i++) {
                    if (in[i].bucket < t || in[i].bucket >= t + width)
                        continue;
                    p.n += in[i].n;
                    p.sum += in[i].sum;
                    p.max = in[i].max > p.max ? in[i].max : p.max;
                    p.min = in[i].min < p.min ? in[i].min : p.min;
                }
                if (p.n > 0)
                    want[nwant++] = p;
            }
        }
        CHECK_EQ(run(&g, step * H, width * H,
            first == MIN ? MIN : first * H, buckets,
            (const int64_t (*)[NSLOTS])rows, nrows, err), 0);
        check_points(&g, want, nwant, H);
        if (test_cur_failed != before) {
            printf("  in iteration %d: step %lldh, width %lldh\n", iter,
                (long long)step, (long long)width);
            return;
        }
    }
}

/*
 * Wider than the ring's first size: a 40h window sliding by 1h over one row
 * per hour, i = 0..99, each one event of value i. Point t holds the hours
 * max(0, t) .. min(99, t + 39): a count and an arithmetic series.
 */
static void
test_window_wide(void)
{
    enum { N = 100, W = 40 };
    static int64_t buckets[N], rows[N][NSLOTS];
    static struct pt want[N + W];
    static struct got g;
    char err[ERR_LEN] = "";
    int nwant = 0;

    for (int i = 0; i < N; i++) {
        buckets[i] = i * H;
        row_of(rows[i], 1, i, i, i);
    }
    for (int64_t t = 1 - W; t < N; t++) {
        int64_t lo = t > 0 ? t : 0, hi = t + W - 1 < N - 1 ? t + W - 1 : N - 1;

        want[nwant++] = (struct pt){t, hi - lo + 1,
            (lo + hi) * (hi - lo + 1) / 2, hi, lo};
    }
    CHECK_EQ(run(&g, H, W * H, MIN, buckets, (const int64_t (*)[NSLOTS])rows,
        N, err), 0);
    check_points(&g, want, nwant, H);
}

/* An emit error stops the window and comes back with its message. */
static void
test_window_emit_error(void)
{
    static const struct {
        int64_t step, width;
    } cases[] = {{1, 1}, {1, 3}, {2, 1}};
    int64_t buckets[6], rows[6][NSLOTS];
    static struct got g;

    for (int i = 0; i < 6; i++) {
        buckets[i] = i * 4 * H;
        row_of(rows[i], 1, i, i, i);
    }
    for (int c = 0; c < LEN(cases); c++) {
        char err[ERR_LEN] = "";

        g.stop_at = 2;
        CHECK_EQ(run(&g, cases[c].step * H, cases[c].width * H, MIN, buckets,
            (const int64_t (*)[NSLOTS])rows, 6, err), -1);
        CHECK_EQ_STR(err, "stop");
        CHECK_EQ(g.n, 2);
    }
    g.stop_at = 0;
}

/* A count that overflows while merging, inside one chunk or across the
 * chunks of a sliding window, is an error naming the view. */
static void
test_window_overflow(void)
{
    static const struct {
        int64_t b0, b1, step, width;
    } cases[] = {
        {0, 0, 1, 1},   /* one bucket */
        {0, 1, 2, 2},   /* one tumbling chunk */
        {0, 1, 1, 2},   /* two chunks, one sliding window */
    };
    static struct got g;

    for (int c = 0; c < LEN(cases); c++) {
        int64_t buckets[2] = {cases[c].b0 * H, cases[c].b1 * H};
        int64_t rows[2][NSLOTS];
        char err[ERR_LEN] = "";

        row_of(rows[0], INT64_MAX, 1, 1, 1);
        row_of(rows[1], INT64_MAX, 1, 1, 1);
        CHECK_EQ(run(&g, cases[c].step * H, cases[c].width * H, MIN, buckets,
            (const int64_t (*)[NSLOTS])rows, 2, err), -1);
        CHECK_EQ_STR(err, "view w: sum overflow");
    }
}

int
main(void)
{
    RUN(test_window_cases);
    RUN(test_window_same_chunk);
    RUN(test_window_wide);
    RUN(test_window_random);
    RUN(test_window_emit_error);
    RUN(test_window_overflow);
    return test_report();
}
