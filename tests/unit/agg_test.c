/* agg_test.c -- unit tests for shared/agg.c: merge laws, add vs merge, JSON, ranking */
#include <assert.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "shared/agg.h"
#include "shared/buf.h"
#include "shared/ddsketch.h"
#include "shared/dec.h"
#include "shared/hll.h"
#include "shared/metric.h"
#include "tests/test.h"

__extension__ typedef unsigned __int128 u128;

#define I128_MAX ((dec_i128)(((u128)1 << 127) - 1))
#define MAXSLOTS 2048

/* fields: 0 amount decimal(2), 1 qty int, 2 score decimal(3) optional,
 * 3 customer string optional, 4 flag bool (only view2 reads 3 and 4) */
static struct field fields[] = {
    {.name = "amount", .type = FIELD_DECIMAL, .scale = 2, .required = 1},
    {.name = "qty", .type = FIELD_INT, .required = 1},
    {.name = "score", .type = FIELD_DECIMAL, .scale = 3},
    {.name = "customer", .type = FIELD_STRING},
    {.name = "flag", .type = FIELD_BOOL, .required = 1},
};
static struct pipeline pl = {.name = "t", .fields = fields, .nfields = 5};

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

/* The layout pipeline.c computes: metrics in file order, each taking
 * metric_slots() of its kind (count 1, sum/avg 3, min/max 2). */
static void
layout(struct view *v)
{
    int slot = 0;

    for (int i = 0; i < v->nmetrics; i++) {
        v->metrics[i].slot = slot;
        v->metrics[i].type = v->metrics[i].field >= 0 ?
            fields[v->metrics[i].field].type : FIELD_INT;
        slot += metric_slots(v->metrics[i].kind);
    }
    v->nslots = slot;
}

struct tev {
    struct event_value vals[5];
    struct event       ev;
};

static void
ev_set(struct tev *e, int64_t amount, int64_t qty, int has_score,
    int64_t score)
{
    memset(e, 0, sizeof(*e));
    e->ev.vals = e->vals;
    e->ev.nvals = 5;
    e->vals[0].present = 1;
    e->vals[0].num = amount;
    e->vals[1].present = 1;
    e->vals[1].num = qty;
    e->vals[2].present = has_score;
    e->vals[2].num = has_score ? score : 0;
    e->vals[4].present = 1;
}

/* The fields only view2 reads: customer (NULL: none) and flag. */
static void
ev_set_more(struct tev *e, const char *customer, int flag)
{
    e->vals[3].present = customer != NULL;
    e->vals[3].str = customer;
    e->vals[3].len = customer != NULL ? strlen(customer) : 0;
    e->vals[4].num = flag;
}

static int64_t
rnd(int64_t lo, int64_t hi)
{
    uint64_t r = ((uint64_t)rand() << 32) ^ (uint64_t)rand();

    return lo + (int64_t)(r % (uint64_t)(hi - lo + 1));
}

static void
ev_random(struct tev *e)
{
    int64_t big = rand() % 4 == 0 ? DEC_MAX_ABS : 100000;

    ev_set(e, rnd(-big, big), rnd(-1000, 1000), rand() % 3 != 0,
        rnd(-big, big));
}

static int
rows_equal(const struct view *v, const int64_t *a, const int64_t *b)
{
    static unsigned char ea[MAXSLOTS * 8], eb[MAXSLOTS * 8];

    agg_row_encode(v, a, ea);
    agg_row_encode(v, b, eb);
    return memcmp(ea, eb, agg_row_size(v)) == 0;
}

/* A random state: sometimes the identity, else 1..20 random events. */
static void
row_random(int64_t *row)
{
    struct tev e;
    int n = rand() % 5 == 0 ? 0 : 1 + rand() % 20;

    agg_row_init(&view, row);
    for (int i = 0; i < n; i++) {
        ev_random(&e);
        (void)agg_row_add(&view, row, &e.ev);
    }
}

/* Associative, commutative, all zeros the identity, byte for byte, on
 * iters triples of random states of v made by gen. */
static void
check_merge_laws(const struct view *v, void (*gen)(int64_t *), int iters)
{
    static int64_t a[MAXSLOTS], b[MAXSLOTS], c[MAXSLOTS], zero[MAXSLOTS];
    static int64_t x[MAXSLOTS], y[MAXSLOTS];
    size_t size = agg_row_size(v);
    int bad_assoc = 0, bad_comm = 0, bad_id = 0;

    agg_row_init(v, zero);
    for (int it = 0; it < iters; it++) {
        gen(a);
        gen(b);
        gen(c);

        /* (a + b) + c == a + (b + c) */
        memcpy(x, a, size);
        CHECK(agg_row_merge(v, x, b) == 0);
        CHECK(agg_row_merge(v, x, c) == 0);
        memcpy(y, b, size);
        CHECK(agg_row_merge(v, y, c) == 0);
        memcpy(c, a, size);
        CHECK(agg_row_merge(v, c, y) == 0);
        bad_assoc += !rows_equal(v, x, c);

        /* a + b == b + a */
        memcpy(x, a, size);
        CHECK(agg_row_merge(v, x, b) == 0);
        memcpy(y, b, size);
        CHECK(agg_row_merge(v, y, a) == 0);
        bad_comm += !rows_equal(v, x, y);

        /* a + 0 == 0 + a == a */
        memcpy(x, a, size);
        CHECK(agg_row_merge(v, x, zero) == 0);
        bad_id += !rows_equal(v, x, a);
        memcpy(y, zero, size);
        CHECK(agg_row_merge(v, y, a) == 0);
        bad_id += !rows_equal(v, y, a);
    }
    CHECK(bad_assoc == 0);
    CHECK(bad_comm == 0);
    CHECK(bad_id == 0);
}

/* Adding events one by one equals merging rows of any split of them, in
 * either order (what batch + speed relies on): iters runs of up to nev
 * events of v made by gen. */
static void
check_add_vs_merge(const struct view *v, void (*gen)(struct tev *), int nev,
    int iters)
{
    static struct tev evs[1000];
    static int64_t all[MAXSLOTS], parts[MAXSLOTS], part[MAXSLOTS];
    int bad = 0;

    assert(nev <= 1000);
    for (int it = 0; it < iters; it++) {
        int n = rand() % nev;

        agg_row_init(v, all);
        for (int i = 0; i < n; i++) {
            gen(&evs[i]);
            CHECK(agg_row_add(v, all, &evs[i].ev) == 0);
        }
        /* cut into random pieces, merge them back to front */
        agg_row_init(v, parts);
        for (int end = n; end > 0;) {
            int start = end - 1 - rand() % end;
            agg_row_init(v, part);
            for (int i = start; i < end; i++)
                CHECK(agg_row_add(v, part, &evs[i].ev) == 0);
            CHECK(agg_row_merge(v, parts, part) == 0);
            end = start;
        }
        bad += !rows_equal(v, all, parts);
    }
    CHECK(bad == 0);
}

static void
test_agg_merge_laws(void)
{
    srand(11);
    check_merge_laws(&view, row_random, 20000);
}

static void
test_agg_add_vs_merge(void)
{
    srand(5);
    check_add_vs_merge(&view, ev_random, 200, 500);
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
    struct tev e;
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
    struct tev e;

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

/* ---- the kinds with sketch and moment states: view2 ---------------------- */

static struct metric metrics2[] = {
    {.name = "n", .kind = METRIC_COUNT, .field = -1},
    {.name = "sd", .kind = METRIC_STDDEV, .field = 0},
    {.name = "sdp", .kind = METRIC_STDDEV_POP, .field = 1},
    {.name = "sd_score", .kind = METRIC_STDDEV, .field = 2},
    {.name = "dc", .kind = METRIC_DISTINCT, .field = 3},
    {.name = "dq", .kind = METRIC_DISTINCT, .field = 1},
    {.name = "df", .kind = METRIC_DISTINCT, .field = 4},
    {.name = "p50", .kind = METRIC_QUANTILE, .field = 0, .q = 0.5},
    {.name = "p99", .kind = METRIC_QUANTILE, .field = 2, .q = 0.99},
    {.name = "rev", .kind = METRIC_SUM, .field = 0},
};
static struct view view2 = {.name = "v2", .metrics = metrics2,
    .nmetrics = sizeof(metrics2) / sizeof(metrics2[0])};

/* Customer names, so that events can carry strings that outlive them. */
static char names[1000][16];

/* A random event for view2 over ncust customers (1 in 5 has none). */
static void
ev_random2(struct tev *e, int ncust)
{
    ev_random(e);
    ev_set_more(e, rand() % 5 == 0 ? NULL : names[rand() % ncust],
        rand() % 2);
}

/* A random view2 state: the identity, a few events, or past the exact
 * range of distinct (up to 400 events over 300 customers). */
static void
row_random2(int64_t *row)
{
    struct tev e;
    int k = rand() % 6;
    int n = k == 0 ? 0 : k < 4 ? 1 + rand() % 20 : 100 + rand() % 300;

    agg_row_init(&view2, row);
    for (int i = 0; i < n; i++) {
        ev_random2(&e, 300);
        (void)agg_row_add(&view2, row, &e.ev);
    }
}

/* The laws, tried past the exact range of distinct too. */
static void
test_agg_merge_laws_sketches(void)
{
    static int64_t a[MAXSLOTS];
    int approx = 0;
    double e;

    srand(23);
    check_merge_laws(&view2, row_random2, 1500);
    for (int it = 0; it < 100; it++) {
        row_random2(a);
        approx += agg_metric_approximate(&view2, 4, a, &e);
    }
    CHECK(approx > 10);
}

static void
ev_random2_1000(struct tev *e)
{
    ev_random2(e, 1000);
}

static void
test_agg_add_vs_merge_sketches(void)
{
    srand(29);
    check_add_vs_merge(&view2, ev_random2_1000, 600, 100);
}

static const char *
json2(int m, const int64_t *row, struct buf *b)
{
    buf_clear(b);
    buf_puts(b, "");
    agg_metric_json(&pl, &view2, m, row, b);
    return b->data;
}

/* The answers of a known row; stddev values from python3's decimal. */
static void
test_agg_json_sketches(void)
{
    static const char *const want_empty[] = {
        "0", "null", "null", "null", "0", "0", "0", "null", "null", "0.00",
    };
    static int64_t row[MAXSLOTS];
    struct tev e;
    struct buf b;
    double err, v;

    buf_init(&b);
    agg_row_init(&view2, row);
    for (int m = 0; m < view2.nmetrics; m++)
        CHECK_STREQ(json2(m, row, &b), want_empty[m]);
    ev_set(&e, 1000, 1, 0, 0);                  /* 10.00 */
    ev_set_more(&e, "a", 1);
    CHECK(agg_row_add(&view2, row, &e.ev) == 0);
    ev_set(&e, 2001, 2, 1, -1500);              /* 20.01, score -1.5 */
    ev_set_more(&e, "b", 0);
    CHECK(agg_row_add(&view2, row, &e.ev) == 0);
    ev_set(&e, 0, 3, 0, 0);                     /* 0.00 */
    ev_set_more(&e, "a", 1);
    CHECK(agg_row_add(&view2, row, &e.ev) == 0);
    CHECK_STREQ(json2(0, row, &b), "3");
    CHECK_STREQ(json2(1, row, &b), "10.0050");  /* {10.00, 20.01, 0.00} */
    CHECK_STREQ(json2(2, row, &b), "0.82");     /* pop of {1, 2, 3} */
    CHECK_STREQ(json2(3, row, &b), "null");     /* one score: no sample */
    CHECK_STREQ(json2(4, row, &b), "2");
    CHECK_STREQ(json2(5, row, &b), "3");
    CHECK_STREQ(json2(6, row, &b), "2");
    /* the median of {0.00, 10.00, 20.01} is 10.00, within 2% */
    v = strtod(json2(7, row, &b), NULL);
    CHECK(fabs(v - 10.0) <= 10.0 * DDSKETCH_ALPHA);
    CHECK(strchr(b.data, '.') != NULL && strlen(strchr(b.data, '.')) == 5);
    /* the 0.99 quantile of one score, -1.500: scale 3 + 2 digits */
    v = strtod(json2(8, row, &b), NULL);
    CHECK(fabs(v + 1.5) <= 1.5 * DDSKETCH_ALPHA);
    CHECK(strlen(strchr(b.data, '.')) == 6);
    CHECK_STREQ(json2(9, row, &b), "30.01");

    /* approximate: quantiles always, distinct past its exact range */
    for (int m = 0; m < view2.nmetrics; m++) {
        int want = m == 7 || m == 8;
        CHECK(agg_metric_approximate(&view2, m, row, &err) == want);
        if (want)
            CHECK(err == DDSKETCH_ALPHA);
    }
    for (int i = 0; i < HLL_EXACT_MAX - 2; i++) {
        ev_set(&e, 0, 3, 0, 0);
        ev_set_more(&e, names[i], 1);
        CHECK(agg_row_add(&view2, row, &e.ev) == 0);
    }
    CHECK_STREQ(json2(4, row, &b), "128");      /* a, b and 126 names */
    CHECK(!agg_metric_approximate(&view2, 4, row, &err));
    ev_set_more(&e, names[HLL_EXACT_MAX], 1);
    CHECK(agg_row_add(&view2, row, &e.ev) == 0);
    CHECK(agg_metric_approximate(&view2, 4, row, &err));
    CHECK(err == hll_error());
    v = strtod(json2(4, row, &b), NULL);
    CHECK(v > HLL_EXACT_MAX && fabs(v - 129) <= 3 * 129 * hll_error());
    buf_reset(&b);
}

/* The hash of a value is its type tag and its bytes: pinned, as stored
 * states hold these hashes. */
static void
test_agg_distinct_hash(void)
{
    static const struct metric one_dc[] = {
        {.name = "d", .kind = METRIC_DISTINCT, .field = 3,
            .type = FIELD_STRING},
    };
    struct view vs = {.name = "vs", .metrics = (struct metric *)one_dc,
        .nmetrics = 1, .nslots = HLL_SLOTS};
    int64_t row[HLL_SLOTS], want[HLL_SLOTS];
    unsigned char bytes[301];
    char long_name[301];
    struct tev e;

    memset(long_name, 'x', 300);
    long_name[300] = '\0';
    bytes[0] = 'S';
    memset(bytes + 1, 'x', 300);
    ev_set(&e, 5, 5, 0, 0);
    ev_set_more(&e, "abc", 1);
    agg_row_init(&vs, row);
    memset(want, 0, sizeof(want));
    CHECK(agg_row_add(&vs, row, &e.ev) == 0);
    hll_add(want, hll_hash("Sabc", 4));
    ev_set_more(&e, long_name, 1);
    CHECK(agg_row_add(&vs, row, &e.ev) == 0);
    CHECK(agg_row_add(&vs, row, &e.ev) == 0);   /* again: no change */
    hll_add(want, hll_hash(bytes, 301));
    CHECK(memcmp(row, want, sizeof(row)) == 0);
    CHECK(agg_view_reads_text(&vs) && agg_view_reads_text(&view2));
    CHECK(!agg_view_reads_text(&view));

    /* numbers: 'N' and the scaled integer, little-endian; bools: 'B' */
    static const unsigned char n5[9] = {'N', 5, 0, 0, 0, 0, 0, 0, 0};
    static const unsigned char nm1[9] = {'N', 0xff, 0xff, 0xff, 0xff, 0xff,
        0xff, 0xff, 0xff};
    static const unsigned char b1[9] = {'B', 1, 0, 0, 0, 0, 0, 0, 0};
    int dq = metrics2[5].slot, df = metrics2[6].slot;
    static int64_t r2[MAXSLOTS];

    agg_row_init(&view2, r2);
    ev_set(&e, 0, 5, 0, 0);
    ev_set_more(&e, NULL, 1);
    CHECK(agg_row_add(&view2, r2, &e.ev) == 0);
    ev_set(&e, 0, -1, 0, 0);
    ev_set_more(&e, NULL, 1);
    CHECK(agg_row_add(&view2, r2, &e.ev) == 0);
    memset(want, 0, sizeof(want));
    hll_add(want, hll_hash(n5, 9));
    hll_add(want, hll_hash(nm1, 9));
    CHECK(memcmp(r2 + dq, want, sizeof(want)) == 0);
    memset(want, 0, sizeof(want));
    hll_add(want, hll_hash(b1, 9));
    CHECK(memcmp(r2 + df, want, sizeof(want)) == 0);
    /* a missing customer left distinct(customer) empty */
    CHECK_EQ_INT(hll_count(r2 + metrics2[4].slot, NULL), 0);
}

/* Ranking by the new kinds: by value, null below, ties 0. */
static void
test_agg_cmp_sketches(void)
{
    static int64_t a[MAXSLOTS], b[MAXSLOTS];
    struct tev e;

    agg_row_init(&view2, a);
    agg_row_init(&view2, b);
    for (int m = 0; m < view2.nmetrics; m++)
        CHECK(agg_metric_cmp(&view2, m, a, b) == 0);
    /* one event in b: its quantile and stddev_pop beat a's null */
    ev_set(&e, -500, 4, 1, 7);
    ev_set_more(&e, "x", 0);
    CHECK(agg_row_add(&view2, b, &e.ev) == 0);
    CHECK(agg_metric_cmp(&view2, 7, a, b) < 0);     /* p50: null < -5.00 */
    CHECK(agg_metric_cmp(&view2, 7, b, a) > 0);
    CHECK(agg_metric_cmp(&view2, 2, a, b) < 0);     /* sdp: null < 0 */
    CHECK(agg_metric_cmp(&view2, 1, a, b) == 0);    /* sd: both null */
    CHECK(agg_metric_cmp(&view2, 4, a, b) < 0);     /* dc: 0 < 1 */
    /* a: two events, wider spread, higher median, more customers */
    ev_set(&e, 100, 1, 1, 7);
    ev_set_more(&e, "x", 0);
    CHECK(agg_row_add(&view2, a, &e.ev) == 0);
    ev_set(&e, 900, 9, 0, 0);
    ev_set_more(&e, "y", 1);
    CHECK(agg_row_add(&view2, a, &e.ev) == 0);
    CHECK(agg_metric_cmp(&view2, 7, a, b) > 0);
    CHECK(agg_metric_cmp(&view2, 2, a, b) > 0);
    CHECK(agg_metric_cmp(&view2, 1, a, b) > 0);     /* a's sd beats null */
    CHECK(agg_metric_cmp(&view2, 4, a, b) > 0);
    CHECK(agg_metric_cmp(&view2, 8, a, b) == 0);    /* p99: 7.000 both */
    CHECK(agg_metric_cmp(&view2, 6, a, b) > 0);     /* df: 2 > 1 */
}

/* An overflow anywhere leaves the whole row as it was. */
static void
test_agg_overflow_sketches(void)
{
    static int64_t row[MAXSLOTS], before[MAXSLOTS], src[MAXSLOTS];
    struct tev e;
    int sd = metrics2[1].slot, p50 = metrics2[7].slot;

    agg_row_init(&view2, row);
    ev_set(&e, 5, 1, 1, 1);
    ev_set_more(&e, "c", 1);
    CHECK(agg_row_add(&view2, row, &e.ev) == 0);
    row[sd + 1] = -1;                   /* stddev(amount)'s sum: 2^127 - 1 */
    row[sd + 2] = INT64_MAX;
    memcpy(before, row, sizeof(row));
    ev_set_more(&e, "d", 0);
    CHECK(agg_row_add(&view2, row, &e.ev) == -1);
    CHECK(memcmp(row, before, sizeof(row)) == 0);
    agg_row_init(&view2, src);
    CHECK(agg_row_add(&view2, src, &e.ev) == 0);
    CHECK(agg_row_merge(&view2, row, src) == -1);
    CHECK(memcmp(row, before, sizeof(row)) == 0);

    /* a quantile's count at INT64_MAX (its zeros) */
    agg_row_init(&view2, row);
    row[p50] = INT64_MAX;
    memcpy(before, row, sizeof(row));
    CHECK(agg_row_merge(&view2, row, src) == -1);
    CHECK(memcmp(row, before, sizeof(row)) == 0);
}

/* Through the rows, on 20,000 random values: quantiles within alpha of
 * the value at the exact rank, distinct within 4 standard errors. */
static int
cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

    return (x > y) - (x < y);
}

static void
test_agg_sketch_accuracy(void)
{
    enum { N = 20000 };
    static int64_t row[MAXSLOTS], vals[N];
    static char seen[N];
    static char cust[N][12];
    struct tev e;
    struct buf b;
    int ndistinct = 0;

    srand(31);
    buf_init(&b);
    agg_row_init(&view2, row);
    memset(seen, 0, sizeof(seen));
    for (int i = 0; i < N; i++) {
        int c = rand() % 15000;

        vals[i] = rnd(1, 5000000);      /* 0.01 .. 50000.00 */
        snprintf(cust[i], sizeof(cust[i]), "c%d", c);
        ndistinct += !seen[c];
        seen[c] = 1;
        ev_set(&e, vals[i], 1, 0, 0);
        ev_set_more(&e, cust[i], 0);
        CHECK(agg_row_add(&view2, row, &e.ev) == 0);
    }
    qsort(vals, N, sizeof(vals[0]), cmp_i64);
    double exact = (double)vals[(int)floor(0.5 * (N - 1))] / 100;
    double got = strtod(json2(7, row, &b), NULL);
    CHECK(fabs(got - exact) <= exact * DDSKETCH_ALPHA + 0.0001);
    double d = strtod(json2(4, row, &b), NULL);
    CHECK(fabs(d - ndistinct) <= 4 * hll_error() * ndistinct);
    buf_reset(&b);
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
    layout(&view2);
    for (int i = 0; i < 1000; i++)
        snprintf(names[i], sizeof(names[i]), "name%d", i);
    RUN(test_agg_merge_laws_sketches);
    RUN(test_agg_add_vs_merge_sketches);
    RUN(test_agg_json_sketches);
    RUN(test_agg_distinct_hash);
    RUN(test_agg_cmp_sketches);
    RUN(test_agg_overflow_sketches);
    RUN(test_agg_sketch_accuracy);
    return test_report();
}
