/* ddsketch_test.c -- unit tests for shared/ddsketch.c: index, accuracy, merge, collapse, overflow */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "shared/ddsketch.h"
#include "tests/test.h"

#define NB DDSKETCH_BINS
#define STATE_BYTES (DDSKETCH_SLOTS * sizeof(int64_t))
#define POS(s, k) ((s)[3 + (k)])
#define NEG(s, k) ((s)[3 + NB + (k)])
#define GAMMA (51.0 / 49.0)

static unsigned short xs[3];    /* erand48 state: POSIX fixes the sequence */

static void
seed(unsigned n)
{
    xs[0] = 0x330e;
    xs[1] = (unsigned short)n;
    xs[2] = (unsigned short)(n >> 16);
}

/* uniform in [0, 1) */
static double
uniform(void)
{
    return erand48(xs);
}

static double
normal(void)
{
    return sqrt(-2 * log(1 - uniform())) * cos(2 * M_PI * uniform());
}

/* got is within a relative alpha of want (and a hair for rounding) */
static int
close_to(double got, double want)
{
    return fabs(got - want) <= DDSKETCH_ALPHA * fabs(want) * (1 + 1e-9);
}

static void
build(int64_t *s, const int64_t *vals, size_t n)
{
    memset(s, 0, STATE_BYTES);
    for (size_t i = 0; i < n; i++)
        CHECK_EQ_INT(ddsketch_add(s, vals[i]), 0);
}

/*
 * Magnitude -> index, expected from gamma^i by binary powering in Python
 * floats (IEEE doubles, as documented), at bin edges: x = floor(gamma^i)
 * has index i, x + 1 index i + 1, where the double is above 2^53 too.
 */
static void
test_index(void)
{
    static const struct {
        uint64_t x;
        int64_t want;
    } cases[] = {
        {1ULL, 0}, {2ULL, 18}, {3ULL, 28}, {25ULL, 81}, {26ULL, 82},
        {27ULL, 83}, {28ULL, 84}, {51ULL, 99}, {54ULL, 100}, {55ULL, 101},
        {1000ULL, 173}, {26939ULL, 255}, {26940ULL, 256}, {28039ULL, 256},
        {28040ULL, 257}, {1000000ULL, 346}, {755375842ULL, 511},
        {755375843ULL, 512}, {1451667816422ULL, 700},
        {1451667816423ULL, 701}, {4331980195353662ULL, 900},
        {4331980195353663ULL, 901}, {9007199254740992ULL, 919},
        {9007199254740993ULL, 919}, {236644311578913408ULL, 1000},
        {236644311578913409ULL, 1001}, {9018593490989489152ULL, 1091},
        {9018593490989489153ULL, 1092}, {9223372036854775807ULL, 1092},
        {9223372036854775808ULL, 1092},
    };
    int64_t s[DDSKETCH_SLOTS];
    double out;

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        uint64_t x = cases[i].x;

        for (int neg = 0; neg <= 1; neg++) {
            if (!neg && x > INT64_MAX)
                continue;
            int64_t v = neg ? (x > INT64_MAX ? INT64_MIN : -(int64_t)x) :
                (int64_t)x;
            memset(s, 0, sizeof(s));
            CHECK_EQ_INT(ddsketch_add(s, v), 0);
            CHECK_EQ_INT(s[1 + neg], cases[i].want);
            CHECK_EQ_INT(neg ? NEG(s, NB - 1) : POS(s, NB - 1), 1);
            CHECK_EQ_INT(s[2 - neg], 0);
            CHECK_EQ_INT(ddsketch_count(s), 1);
            CHECK(ddsketch_quantile(s, 0.5, &out) == 0 &&
                close_to(out, (double)v));
        }
    }
}

/* Every small value alone, and zero: exact count, answer within alpha. */
static void
test_single(void)
{
    static const double qs[] = {0, 0.3, 1};
    int64_t s[DDSKETCH_SLOTS];
    double out;

    for (int64_t v = -30000; v <= 30000; v++) {
        memset(s, 0, sizeof(s));
        CHECK_EQ_INT(ddsketch_add(s, v), 0);
        CHECK_EQ_INT(ddsketch_count(s), 1);
        for (size_t i = 0; i < sizeof(qs) / sizeof(qs[0]); i++)
            CHECK(ddsketch_quantile(s, qs[i], &out) == 0 &&
                close_to(out, (double)v));
    }
    memset(s, 0, sizeof(s));
    CHECK_EQ_INT(ddsketch_add(s, 0), 0);
    CHECK(ddsketch_quantile(s, 1, &out) == 0 && out == 0);
    CHECK_EQ_INT(s[0], 1);
}

static void
test_empty(void)
{
    static const double bad_q[] = {-0.01, 1.01, NAN, INFINITY};
    int64_t s[DDSKETCH_SLOTS] = {0}, zero[DDSKETCH_SLOTS] = {0};
    double out = 42;

    CHECK_EQ_INT(ddsketch_count(s), 0);
    CHECK_EQ_INT(ddsketch_quantile(s, 0.5, &out), -1);
    CHECK(out == 42);
    CHECK_EQ_INT(ddsketch_merge(s, zero), 0);
    CHECK_EQ_INT(ddsketch_merge(s, s), 0);
    CHECK(memcmp(s, zero, sizeof(s)) == 0);
    CHECK_EQ_INT(ddsketch_add(s, 7), 0);
    for (size_t i = 0; i < sizeof(bad_q) / sizeof(bad_q[0]); i++)
        CHECK_EQ_INT(ddsketch_quantile(s, bad_q[i], &out), -1);
    CHECK(out == 42);
}

enum dist { UNIFORM, LOGNORMAL, MIXED, SMALL, EXTREME };

static int64_t
draw(enum dist d)
{
    double u;

    switch (d) {
    case UNIFORM:
        return 1000 + (int64_t)(uniform() * 999001);
    case LOGNORMAL:
        return llround(exp(12 + normal()));
    case MIXED:             /* 20% zeros, 40% negative, 40% log-normal */
        u = uniform();
        return u < 0.2 ? 0 : u < 0.6 ? -draw(UNIFORM) : draw(LOGNORMAL);
    case SMALL:
        return (uniform() < 0.5 ? -1 : 1) * (1 + (int64_t)(uniform() * 1000));
    case EXTREME:                   /* magnitudes in [2^62, 2^63] */
        u = uniform();
        if (u < 0.01)
            return u < 0.005 ? INT64_MIN : INT64_MAX;
        int64_t m = INT64_C(1) << 62 | (int64_t)(uniform() * 0x1p62);
        return u < 0.5 ? -m : m;
    }
    return 0;
}

static int
cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

/* 100k values: each quantile within alpha of the value at rank
 * floor(q * (n - 1)) of the sorted values. */
static void
test_accuracy(void)
{
    static const struct {
        const char *name;
        enum dist d;
        unsigned seed;
    } cases[] = {
        {"uniform", UNIFORM, 1}, {"lognormal", LOGNORMAL, 2},
        {"mixed", MIXED, 3}, {"small", SMALL, 4}, {"extreme", EXTREME, 5},
    };
    static const double qs[] = {0, 0.01, 0.5, 0.9, 0.99, 1};
    enum { N = 100000 };
    static int64_t vals[N];
    int64_t s[DDSKETCH_SLOTS];

    for (size_t c = 0; c < sizeof(cases) / sizeof(cases[0]); c++) {
        double worst = 0, out;

        seed(cases[c].seed);
        for (size_t i = 0; i < N; i++)
            vals[i] = draw(cases[c].d);
        build(s, vals, N);
        CHECK_EQ_INT(ddsketch_count(s), N);
        qsort(vals, N, sizeof(vals[0]), cmp_i64);
        for (size_t i = 0; i < sizeof(qs) / sizeof(qs[0]); i++) {
            double want = (double)vals[(size_t)floor(qs[i] * (N - 1))];

            CHECK_EQ_INT(ddsketch_quantile(s, qs[i], &out), 0);
            CHECK(close_to(out, want));
            if (want != 0 && fabs(out - want) / fabs(want) > worst)
                worst = fabs(out - want) / fabs(want);
        }
        printf("%s: worst relative error %.5f\n", cases[c].name, worst);
    }
}

/* n values with magnitudes log-uniform over [1, 10^digits], random signs,
 * some zeros: wide ranges collapse. */
static void
draw_wide(int64_t *vals, size_t n, double digits)
{
    for (size_t i = 0; i < n; i++) {
        int64_t m = (int64_t)pow(10, uniform() * digits);
        double u = uniform();
        vals[i] = u < 0.05 ? 0 : u < 0.4 ? -m : m;
    }
}

static void
test_merge_laws(void)
{
    static const struct {
        size_t n;
        double digits;
    } cases[] = {
        {0, 0}, {1, 3}, {10, 18}, {300, 2}, {300, 8}, {2000, 12}, {500, 18},
    };
    enum { NS = sizeof(cases) / sizeof(cases[0]), MAXN = 2000 };
    static int64_t st[NS][DDSKETCH_SLOTS], vals[2 * MAXN];
    int64_t ab[DDSKETCH_SLOTS], ba[DDSKETCH_SLOTS], l[DDSKETCH_SLOTS],
        r[DDSKETCH_SLOTS], zero[DDSKETCH_SLOTS] = {0};

    seed(6);
    for (int i = 0; i < NS; i++) {
        draw_wide(vals, cases[i].n, cases[i].digits);
        build(st[i], vals, cases[i].n);
    }
    for (int a = 0; a < NS; a++) {
        memcpy(l, st[a], STATE_BYTES);          /* identity, both sides */
        CHECK_EQ_INT(ddsketch_merge(l, zero), 0);
        CHECK(memcmp(l, st[a], STATE_BYTES) == 0);
        memcpy(r, zero, STATE_BYTES);
        CHECK_EQ_INT(ddsketch_merge(r, st[a]), 0);
        CHECK(memcmp(r, st[a], STATE_BYTES) == 0);
        CHECK_EQ_INT(ddsketch_merge(r, r), 0);  /* aliased: counts twice */
        CHECK_EQ_INT(ddsketch_count(r), 2 * ddsketch_count(st[a]));
        memcpy(l, st[a], STATE_BYTES);
        CHECK_EQ_INT(ddsketch_merge(l, st[a]), 0);
        CHECK(memcmp(l, r, STATE_BYTES) == 0);
        for (int b = 0; b < NS; b++) {
            memcpy(ab, st[a], STATE_BYTES);     /* commutative */
            CHECK_EQ_INT(ddsketch_merge(ab, st[b]), 0);
            memcpy(ba, st[b], STATE_BYTES);
            CHECK_EQ_INT(ddsketch_merge(ba, st[a]), 0);
            CHECK(memcmp(ab, ba, STATE_BYTES) == 0);
            for (int c = 0; c < NS; c++) {      /* associative */
                memcpy(l, ab, STATE_BYTES);
                CHECK_EQ_INT(ddsketch_merge(l, st[c]), 0);
                memcpy(r, st[b], STATE_BYTES);
                CHECK_EQ_INT(ddsketch_merge(r, st[c]), 0);
                memcpy(ba, st[a], STATE_BYTES);
                CHECK_EQ_INT(ddsketch_merge(ba, r), 0);
                CHECK(memcmp(l, ba, STATE_BYTES) == 0);
            }
        }
    }
}

/*
 * Values split into parts (at random, or sorted into ranges so that each
 * part has its own scale), each part added shuffled, the parts merged in a
 * random order: the same bytes as one sketch of every value.
 */
static void
test_split(void)
{
    static const struct {
        size_t n;
        double digits;
        int parts;
        int sorted;
    } cases[] = {
        {3000, 18, 2, 0}, {3000, 18, 6, 0}, {3000, 18, 2, 1},
        {3000, 18, 6, 1}, {1000, 5, 3, 0}, {1000, 9, 4, 1}, {50, 18, 5, 1},
    };
    enum { MAXN = 3000, MAXPARTS = 6 };
    static int64_t vals[MAXN], part[MAXPARTS][DDSKETCH_SLOTS];
    int64_t one[DDSKETCH_SLOTS], all[DDSKETCH_SLOTS];

    seed(7);
    for (size_t c = 0; c < sizeof(cases) / sizeof(cases[0]); c++) {
        for (int round = 0; round < 10; round++) {
            size_t n = cases[c].n;
            int k = cases[c].parts, order[MAXPARTS] = {0};

            draw_wide(vals, n, cases[c].digits);
            build(one, vals, n);
            if (cases[c].sorted)
                qsort(vals, n, sizeof(vals[0]), cmp_i64);
            memset(part, 0, sizeof(part));
            for (size_t i = 0; i < n; i++) {
                int p = cases[c].sorted ? (int)(i * (size_t)k / n) :
                    (int)(uniform() * k);
                CHECK_EQ_INT(ddsketch_add(part[p], vals[i]), 0);
            }
            for (int i = 0; i < k; i++)
                order[i] = i;
            for (int i = k - 1; i > 0; i--) {
                int j = (int)(uniform() * (i + 1)), t = order[i];
                order[i] = order[j];
                order[j] = t;
            }
            memcpy(all, part[order[0]], STATE_BYTES);
            for (int i = 1; i < k; i++)
                CHECK_EQ_INT(ddsketch_merge(all, part[order[i]]), 0);
            CHECK(memcmp(all, one, STATE_BYTES) == 0);
        }
    }
}

/* A value 10^6 times below the largest of its sign lands in the lowest bin
 * (index 519 - 255 = 264 for 10^9) and loses accuracy; merges agree. */
static void
test_collapse(void)
{
    static const int64_t small[] = {1000, 2000, 5000, 10000};
    int64_t a[DDSKETCH_SLOTS], b[DDSKETCH_SLOTS], one[DDSKETCH_SLOTS];
    int64_t vals[5];
    double out;

    for (int sign = 1; sign >= -1; sign -= 2) {
        int neg = sign < 0;

        for (int i = 0; i < 4; i++)
            vals[i] = sign * small[i];
        vals[4] = sign * INT64_C(1000000000);
        build(one, vals, 5);
        CHECK_EQ_INT(one[1 + neg], 519);
        CHECK_EQ_INT(neg ? NEG(one, 0) : POS(one, 0), 4);
        CHECK_EQ_INT(neg ? NEG(one, NB - 1) : POS(one, NB - 1), 1);
        CHECK_EQ_INT(ddsketch_quantile(one, neg ? 1 : 0, &out), 0);
        CHECK(close_to(out, sign * 2 * pow(GAMMA, 264) / (GAMMA + 1)));
        CHECK(fabs(out) > 1000000000.0 / pow(GAMMA, 256));
        CHECK_EQ_INT(ddsketch_quantile(one, neg ? 0 : 1, &out), 0);
        CHECK(close_to(out, (double)vals[4]));
        build(a, vals, 4);                      /* not collapsed alone */
        CHECK_EQ_INT(a[1 + neg], 231);
        CHECK_EQ_INT(ddsketch_quantile(a, 0.5, &out), 0);
        CHECK(close_to(out, (double)vals[neg ? 2 : 1]));    /* rank 1 */
        build(b, vals + 4, 1);
        CHECK_EQ_INT(ddsketch_merge(b, a), 0);
        CHECK(memcmp(b, one, sizeof(b)) == 0);
        build(b, vals + 4, 1);
        CHECK_EQ_INT(ddsketch_merge(a, b), 0);
        CHECK(memcmp(a, one, sizeof(a)) == 0);
    }
    /* index 0 (the value 1) stays exact under top 255, collapses under 257 */
    vals[0] = 1;
    vals[1] = 26939;
    build(a, vals, 2);
    CHECK(ddsketch_quantile(a, 0, &out) == 0 && close_to(out, 1));
    vals[1] = 28040;
    build(a, vals, 2);
    CHECK_EQ_INT(POS(a, 0), 1);
    CHECK(ddsketch_quantile(a, 0, &out) == 0 && !close_to(out, 1) &&
        close_to(out, 2 * GAMMA * GAMMA / (GAMMA + 1)));
}

/* Counts that would pass INT64_MAX are refused and change nothing. */
static void
test_overflow(void)
{
    int64_t s[DDSKETCH_SLOTS] = {0}, t[DDSKETCH_SLOTS] = {0},
        copy[DDSKETCH_SLOTS];
    double out;

    s[0] = INT64_MAX / 2;                       /* zeros */
    s[1] = 173;                                 /* 1000 */
    POS(s, NB - 1) = INT64_MAX - INT64_MAX / 2 - 1;
    CHECK_EQ_INT(ddsketch_count(s), INT64_MAX - 1);
    CHECK_EQ_INT(ddsketch_add(t, -5), 0);
    CHECK_EQ_INT(ddsketch_add(t, 5), 0);
    memcpy(copy, s, sizeof(s));
    CHECK_EQ_INT(ddsketch_merge(s, t), -1);     /* one too many */
    CHECK(memcmp(copy, s, sizeof(s)) == 0);
    CHECK_EQ_INT(ddsketch_add(s, 1000), 0);     /* exactly INT64_MAX */
    CHECK_EQ_INT(ddsketch_count(s), INT64_MAX);
    memcpy(copy, s, sizeof(s));
    CHECK_EQ_INT(ddsketch_add(s, -3), -1);
    CHECK_EQ_INT(ddsketch_add(s, 0), -1);
    CHECK_EQ_INT(ddsketch_add(s, INT64_MAX), -1);
    CHECK_EQ_INT(ddsketch_merge(s, t), -1);
    CHECK_EQ_INT(ddsketch_merge(s, s), -1);
    CHECK(memcmp(copy, s, sizeof(s)) == 0);
    memset(t, 0, sizeof(t));
    CHECK_EQ_INT(ddsketch_merge(s, t), 0);      /* adding nothing is fine */
    CHECK(memcmp(copy, s, sizeof(s)) == 0);
    /* ranks at the top of the range */
    CHECK(ddsketch_quantile(s, 0, &out) == 0 && out == 0);
    CHECK(ddsketch_quantile(s, 0.49, &out) == 0 && out == 0);
    CHECK(ddsketch_quantile(s, 0.51, &out) == 0 && close_to(out, 1000));
    CHECK(ddsketch_quantile(s, 1, &out) == 0 && close_to(out, 1000));
}

int
main(void)
{
    RUN(test_index);
    RUN(test_single);
    RUN(test_empty);
    RUN(test_accuracy);
    RUN(test_merge_laws);
    RUN(test_split);
    RUN(test_collapse);
    RUN(test_overflow);
    return test_report();
}
