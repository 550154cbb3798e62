/* agg_test.c -- unit tests for shared/agg.c: merge laws, add vs merge, JSON, ranking */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "shared/agg.h"
#include "shared/buf.h"
#include "shared/dec.h"
#include "tests/test.h"

__extension__ typedef unsigned __int128 u128;

#define I128_MAX ((dec_i128)(((u128)1 << 127) - 1))
#define MAXSLOTS 64

/* fields: 0 amount decimal(2), 1 qty int, 2 score decimal(3) optional */
static struct field fields[] = {
    {.name = "amount", .type = FIELD_DECIMAL, .scale = 2, .required = 1},
    {.name = "qty", .type = FIELD_INT, .required = 1},
    {.name = "score", .type = FIELD_DECIMAL, .scale = 3},
};
static struct pipeline pl = {.name = "t", .fields = fields, .nfields = 3};

/* every metric kind, on required and optional fields */
static struct metric metrics[] = {
    {.name = "orders", .kind = METRIC_COUNT, .field = -1},
    {.name = "revenue", .kind = METRIC_SUM, .field = 0},
    {.name = "avg_order", .kind = METRIC_AVG, .field = 0},
    {.name = "min_order", .kind = METRIC_MIN, .field = 0},
    {.name = "max_order", .kind = METRIC_MAX, .field = 0},
    {.name = "items", .kind = METRIC_SUM, .field = 1},
    {.name = "avg_items", .kind = METRIC_AVG, .field = 1},
    {.name = "min_score", .kind = METRIC_MIN, .field = 2},
    {.name = "max_score", .kind = METRIC_MAX, .field = 2},
    {.name = "avg_score", .kind = METRIC_AVG, .field = 2},
    {.name = "sum_score", .kind = METRIC_SUM, .field = 2},
};
static struct view view = {.name = "v", .metrics = metrics,
    .nmetrics = sizeof(metrics) / sizeof(metrics[0])};

/* The layout pipeline.c computes: metrics in file order, count 1 slot,
 * sum/avg 3, min/max 2. */
static void
layout(struct view *v)
{
    int slot = 0;

    for (int i = 0; i < v->nmetrics; i++) {
        v->metrics[i].slot = slot;
        switch (v->metrics[i].kind) {
        case METRIC_COUNT: slot += 1; break;
        case METRIC_SUM:
        case METRIC_AVG:   slot += 3; break;
        case METRIC_MIN:
        case METRIC_MAX:   slot += 2; break;
        }
    }
    v->nslots = slot;
}

struct ev3 {
    struct event_value vals[3];
    struct event       ev;
};

static void
ev_set(struct ev3 *e, int64_t amount, int64_t qty, int has_score,
    int64_t score)
{
    memset(e, 0, sizeof(*e));
    e->ev.vals = e->vals;
    e->ev.nvals = 3;
    e->vals[0].present = 1;
    e->vals[0].num = amount;
    e->vals[1].present = 1;
    e->vals[1].num = qty;
    e->vals[2].present = has_score;
    e->vals[2].num = has_score ? score : 0;
}

static int64_t
rnd(int64_t lo, int64_t hi)
{
    uint64_t r = ((uint64_t)rand() << 32) ^ (uint64_t)rand();

    return lo + (int64_t)(r % (uint64_t)(hi - lo + 1));
}

static void
ev_random(struct ev3 *e)
{
    int64_t big = rand() % 4 == 0 ? DEC_MAX_ABS : 100000;

    ev_set(e, rnd(-big, big), rnd(-1000, 1000), rand() % 3 != 0,
        rnd(-big, big));
}

static int
rows_equal(const int64_t *a, const int64_t *b)
{
    unsigned char ea[MAXSLOTS * 8], eb[MAXSLOTS * 8];

    agg_row_encode(&view, a, ea);
    agg_row_encode(&view, b, eb);
    return memcmp(ea, eb, agg_row_size(&view)) == 0;
}

/* A random state: sometimes the identity, else 1..20 random events. */
static void
row_random(int64_t *row)
{
    struct ev3 e;
    int n = rand() % 5 == 0 ? 0 : 1 + rand() % 20;

    agg_row_init(&view, row);
    for (int i = 0; i < n; i++) {
        ev_random(&e);
        (void)agg_row_add(&view, row, &e.ev);
    }
}

static void
test_agg_merge_laws(void)
{
    int64_t a[MAXSLOTS], b[MAXSLOTS], c[MAXSLOTS], zero[MAXSLOTS];
    int64_t x[MAXSLOTS], y[MAXSLOTS];
    int bad_assoc = 0, bad_comm = 0, bad_id = 0;

    srand(11);
    agg_row_init(&view, zero);
    for (int it = 0; it < 20000; it++) {
        row_random(a);
        row_random(b);
        row_random(c);

        /* (a + b) + c == a + (b + c) */
        memcpy(x, a, sizeof(a));
        CHECK(agg_row_merge(&view, x, b) == 0);
        CHECK(agg_row_merge(&view, x, c) == 0);
        memcpy(y, b, sizeof(b));
        CHECK(agg_row_merge(&view, y, c) == 0);
        memcpy(c, a, sizeof(a));
        CHECK(agg_row_merge(&view, c, y) == 0);
        bad_assoc += !rows_equal(x, c);

        /* a + b == b + a */
        memcpy(x, a, sizeof(a));
        CHECK(agg_row_merge(&view, x, b) == 0);
        memcpy(y, b, sizeof(b));
        CHECK(agg_row_merge(&view, y, a) == 0);
        bad_comm += !rows_equal(x, y);

        /* a + 0 == 0 + a == a */
        memcpy(x, a, sizeof(a));
        CHECK(agg_row_merge(&view, x, zero) == 0);
        bad_id += !rows_equal(x, a);
        memcpy(y, zero, sizeof(zero));
        CHECK(agg_row_merge(&view, y, a) == 0);
        bad_id += !rows_equal(y, a);
    }
    CHECK(bad_assoc == 0);
    CHECK(bad_comm == 0);
    CHECK(bad_id == 0);
}

/* Adding events one by one equals merging rows of any split of them, in
 * either order: what batch + speed relies on. */
static void
test_agg_add_vs_merge(void)
{
    enum { NEV = 200 };
    static struct ev3 evs[NEV];
    int64_t all[MAXSLOTS], parts[MAXSLOTS], part[MAXSLOTS];
    int bad = 0;

    srand(5);
    for (int it = 0; it < 500; it++) {
        int n = rand() % NEV;

        agg_row_init(&view, all);
        for (int i = 0; i < n; i++) {
            ev_random(&evs[i]);
            CHECK(agg_row_add(&view, all, &evs[i].ev) == 0);
        }
        /* cut into random pieces, merge them back to front */
        agg_row_init(&view, parts);
        for (int end = n; end > 0;) {
            int start = end - 1 - rand() % end;
            agg_row_init(&view, part);
            for (int i = start; i < end; i++)
                CHECK(agg_row_add(&view, part, &evs[i].ev) == 0);
            CHECK(agg_row_merge(&view, parts, part) == 0);
            end = start;
        }
        bad += !rows_equal(all, parts);
    }
    CHECK(bad == 0);
}

/* What a row holds after known events, slot by slot and as JSON. */
static void
test_agg_json(void)
{
    static const char *const want_empty[] = {
        "0", "0.00", "null", "null", "null", "0", "null", "null", "null",
        "null", "0.000",
    };
    static const char *const want[] = {
        "3", "30.01", "10.0033", "0.00", "20.01", "6", "2.00", "-1.500",
        "-1.500", "-1.50000", "-1.500",
    };
    int64_t row[MAXSLOTS];
    struct ev3 e;
    struct buf b;

    buf_init(&b);
    agg_row_init(&view, row);
    for (int m = 0; m < view.nmetrics; m++) {
        buf_clear(&b);
        buf_puts(&b, "");
        agg_metric_json(&pl, &view, m, row, &b);
        CHECK_STREQ(b.data, want_empty[m]);
    }
    ev_set(&e, 1000, 1, 0, 0);                  /* 10.00 */
    CHECK(agg_row_add(&view, row, &e.ev) == 0);
    ev_set(&e, 2001, 2, 1, -1500);             /* 20.01, score -1.5 */
    CHECK(agg_row_add(&view, row, &e.ev) == 0);
    ev_set(&e, 0, 3, 0, 0);                     /* 0.00 */
    CHECK(agg_row_add(&view, row, &e.ev) == 0);
    for (int m = 0; m < view.nmetrics; m++) {
        buf_clear(&b);
        buf_puts(&b, "");
        agg_metric_json(&pl, &view, m, row, &b);
        CHECK_STREQ(b.data, want[m]);
    }
    /* the slots themselves, as agg.h documents them */
    const int64_t slots[] = {
        3,                  /* orders */
        3, 3001, 0,         /* revenue */
        3, 3001, 0,         /* avg_order */
        3, 0,               /* min_order */
        3, 2001,            /* max_order */
        3, 6, 0,            /* items */
        3, 6, 0,            /* avg_items */
        1, -1500,           /* min_score */
        1, -1500,           /* max_score */
        1, -1500, -1,       /* avg_score: 128-bit -1500 */
        1, -1500, -1,       /* sum_score */
    };
    CHECK(view.nslots == (int)(sizeof(slots) / sizeof(slots[0])));
    CHECK(memcmp(row, slots, sizeof(slots)) == 0);

    /* avg rounds half away from zero: 1000 and 2001 at scale 2 */
    agg_row_init(&view, row);
    ev_set(&e, 1000, 0, 0, 0);
    CHECK(agg_row_add(&view, row, &e.ev) == 0);
    ev_set(&e, 2001, 0, 0, 0);
    CHECK(agg_row_add(&view, row, &e.ev) == 0);
    buf_clear(&b);
    agg_metric_json(&pl, &view, 2, row, &b);
    CHECK_STREQ(b.data, "15.0050");
    buf_reset(&b);
}

/* On disk a row is its slots as little-endian int64, whatever the host. */
static void
test_agg_encode(void)
{
    int64_t row[MAXSLOTS], back[MAXSLOTS];
    unsigned char enc[MAXSLOTS * 8];
    int bad = 0;

    CHECK(agg_row_size(&view) == (size_t)view.nslots * 8);
    agg_row_init(&view, row);
    row[0] = 0x0102030405060708LL;
    row[1] = -2;
    agg_row_encode(&view, row, enc);
    static const unsigned char head[16] = {
        0x08, 0x07, 0x06, 0x05, 0x04, 0x03, 0x02, 0x01,
        0xfe, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
    };
    CHECK(memcmp(enc, head, sizeof(head)) == 0);
    for (size_t i = sizeof(head); i < agg_row_size(&view); i++)
        bad += enc[i] != 0;
    CHECK(bad == 0);

    srand(9);
    for (int it = 0; it < 1000; it++) {
        row_random(row);
        agg_row_encode(&view, row, enc);
        memset(back, 0x55, sizeof(back));
        agg_row_decode(&view, enc, back);
        bad += memcmp(row, back, agg_row_size(&view)) != 0;
    }
    CHECK(bad == 0);
}

/* Overflowing sums fail and leave the row exactly as it was. */
static void
test_agg_overflow(void)
{
    int64_t row[MAXSLOTS], before[MAXSLOTS], src[MAXSLOTS];
    struct ev3 e;

    agg_row_init(&view, row);
    ev_set(&e, 5, 1, 1, 1);
    CHECK(agg_row_add(&view, row, &e.ev) == 0);
    /* sum_score (last metric) at the int128 limit */
    int s = metrics[10].slot;
    row[s + 1] = -1;
    row[s + 2] = INT64_MAX;
    memcpy(before, row, sizeof(row));
    CHECK(agg_row_add(&view, row, &e.ev) == -1);
    CHECK(memcmp(row, before, sizeof(row)) == 0);
    ev_set(&e, 5, 1, 0, 0);                     /* no score: fine */
    CHECK(agg_row_add(&view, row, &e.ev) == 0);
    CHECK(row[0] == 2 && row[s + 2] == INT64_MAX);
    ev_set(&e, 5, 1, 1, -1);                    /* moving away: fine */
    CHECK(agg_row_add(&view, row, &e.ev) == 0);

    /* merge: sum overflow */
    memcpy(before, row, sizeof(row));
    agg_row_init(&view, src);
    ev_set(&e, 1, 1, 1, 2);
    CHECK(agg_row_add(&view, src, &e.ev) == 0);
    CHECK(agg_row_merge(&view, row, src) == -1);
    CHECK(memcmp(row, before, sizeof(row)) == 0);

    /* merge: count overflow */
    agg_row_init(&view, row);
    agg_row_init(&view, src);
    row[0] = INT64_MAX;
    src[0] = 1;
    memcpy(before, row, sizeof(row));
    CHECK(agg_row_merge(&view, row, src) == -1);
    CHECK(memcmp(row, before, sizeof(row)) == 0);
}

/* Reference for small states: sa*nb against sb*na fits in 128 bits. */
static int
ref_avg_cmp(dec_i128 sa, int64_t na, dec_i128 sb, int64_t nb)
{
    dec_i128 l = sa * nb, r = sb * na;

    return (l > r) - (l < r);
}

static void
set_sum(int64_t *row, int m, int64_t n, dec_i128 s)
{
    int slot = metrics[m].slot;

    row[slot] = n;
    row[slot + 1] = (int64_t)(uint64_t)(u128)s;
    row[slot + 2] = (int64_t)(uint64_t)((u128)s >> 64);
}

static int
sgn(int x)
{
    return (x > 0) - (x < 0);
}

static void
test_agg_cmp(void)
{
    /* avg_order is metric 2, revenue 1, min_order 3, orders 0 */
    static const struct {
        int       m;
        int64_t   na;
        dec_i128  sa;
        int64_t   nb;
        dec_i128  sb;
        int       want;
    } cases[] = {
        {0, 3, 0, 2, 0, 1},
        {0, 2, 0, 2, 0, 0},
        {1, 1, 5, 1, -5, 1},
        {1, 1, (dec_i128)1 << 64, 1, ((dec_i128)1 << 64) - 1, 1},
        {1, 1, -((dec_i128)1 << 64), 1, -1, -1},
        {1, 0, 0, 1, -1, 1},                    /* sum of none is 0 */
        {2, 0, 0, 1, -1000, -1},                /* null below every avg */
        {2, 0, 0, 0, 0, 0},
        {2, 2, 3, 3, 4, 1},                     /* 1.5 > 1.333 */
        {2, 2, -3, 3, -4, -1},                  /* -1.5 < -1.333 */
        {2, 2, 2, 3, 3, 0},                     /* 1 == 1 */
        {2, 4, -2, 2, -1, 0},                   /* -0.5 == -0.5 */
        {2, 3, -1, 3, 0, -1},
        /* beyond double precision: (2^100 + 1)/3 vs 2^100/3 */
        {2, 3, ((dec_i128)1 << 100) + 1, 3, (dec_i128)1 << 100, 1},
        /* same quotient, remainders decide with huge n */
        {2, INT64_MAX, I128_MAX, INT64_MAX - 1, I128_MAX, -1},
        {2, INT64_MAX, -I128_MAX, INT64_MAX - 1, -I128_MAX, 1},
        {2, INT64_MAX, (dec_i128)INT64_MAX * 7 + 1, INT64_MAX,
            (dec_i128)INT64_MAX * 7, 1},
    };
    int64_t a[MAXSLOTS], b[MAXSLOTS];

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        int m = cases[i].m;
        agg_row_init(&view, a);
        agg_row_init(&view, b);
        set_sum(a, 1, cases[i].na, cases[i].sa);
        set_sum(a, 2, cases[i].na, cases[i].sa);
        set_sum(b, 1, cases[i].nb, cases[i].sb);
        set_sum(b, 2, cases[i].nb, cases[i].sb);
        a[0] = cases[i].na;
        b[0] = cases[i].nb;
        int got = agg_metric_cmp(&view, m, a, b);
        if (sgn(got) != cases[i].want)
            printf("  case %zu: got %d\n", i, got);
        CHECK(sgn(got) == cases[i].want);
        CHECK(sgn(agg_metric_cmp(&view, m, b, a)) == -cases[i].want);
    }

    /* min/max: null below every value, then by value */
    agg_row_init(&view, a);
    agg_row_init(&view, b);
    int s = metrics[3].slot;
    CHECK(agg_metric_cmp(&view, 3, a, b) == 0);
    b[s] = 1;
    b[s + 1] = INT64_MIN + 1;
    CHECK(agg_metric_cmp(&view, 3, a, b) < 0);
    CHECK(agg_metric_cmp(&view, 3, b, a) > 0);
    a[s] = 5;
    a[s + 1] = -7;
    CHECK(agg_metric_cmp(&view, 3, a, b) > 0);
    a[s + 1] = INT64_MIN + 1;
    CHECK(agg_metric_cmp(&view, 3, a, b) == 0);

    /* random small averages against the product reference */
    int bad = 0;
    srand(17);
    for (int it = 0; it < 200000; it++) {
        int64_t na = 1 + rand() % 1000, nb = 1 + rand() % 1000;
        dec_i128 sa = rnd(-1000000, 1000000), sb;

        sb = rand() % 2 ? rnd(-1000000, 1000000) : sa * nb / na;
        agg_row_init(&view, a);
        agg_row_init(&view, b);
        set_sum(a, 2, na, sa);
        set_sum(b, 2, nb, sb);
        bad += sgn(agg_metric_cmp(&view, 2, a, b)) !=
            ref_avg_cmp(sa, na, sb, nb);
    }
    CHECK(bad == 0);
}

int
main(void)
{
    layout(&view);
    RUN(test_agg_merge_laws);
    RUN(test_agg_add_vs_merge);
    RUN(test_agg_json);
    RUN(test_agg_encode);
    RUN(test_agg_overflow);
    RUN(test_agg_cmp);
    return test_report();
}
