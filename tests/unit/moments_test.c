/* moments_test.c -- unit tests for shared/moments.c: exact stddev, merges, overflow, order */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "shared/dec.h"
#include "shared/moments.h"
#include "tests/test.h"

#define NVALS 9

/*
 * Expected answers computed with python3's decimal module (precision 120,
 * the textbook formula sum((x - mean)^2) / (n - 1) or / n, sqrt, quantized
 * to scale + 2 digits ROUND_HALF_UP), never printed by this code.
 */
static const struct {
    int scale, n;
    int64_t vals[NVALS];
    const char *sample, *pop;   /* NULL: null */
} cases[] = {
    {0, 4, {1LL, 2LL, 3LL, 4LL}, "1.29", "1.12"},
    {2, 4, {1LL, 2LL, 3LL, 4LL}, "0.0129", "0.0112"},
    {0, 1, {5LL}, NULL, "0.00"},
    {0, 0, {0}, NULL, NULL},
    {0, 3, {7LL, 7LL, 7LL}, "0.00", "0.00"},
    {2, 5, {1250LL, -300LL, 99999LL, 0LL, 1LL}, "446.1858", "399.0807"},
    {6, 3, {43123123456LL, 43123120000LL, 43124000001LL}, "0.50707410",
        "0.41402427"},
    {6, 3, {9223372036854775807LL, -9223372036854775807LL, 0LL},
        "9223372036854.77580700", "7530851732716.32075125"},
    {0, 2, {9223372036854775807LL, 9223372036854775807LL}, "0.00", "0.00"},
    {0, 2, {INT64_MIN, 9223372036854775807LL}, "13043817825332782211.64",
        "9223372036854775807.50"},
    {9, 2, {1LL, 2LL}, "0.00000000071", "0.00000000050"},
    {3, 3, {-5LL, -5LL, -6LL}, "0.00058", "0.00047"},
    {3, 4, {-891270107159472LL, 849344509292339LL, -788036767379413LL,
        312320237980152LL}, "849961966638.24421", "736088655359.30101"},
    {0, 5, {-8LL, 3LL, 3LL, -8LL, -3LL}, "5.50", "4.92"},
    {0, 8, {8LL, -7LL, -3LL, 10LL, 10LL, 8LL, -9LL, 8LL}, "8.04", "7.52"},
    {6, 2, {-905LL, 140LL}, "0.00073893", "0.00052250"},
    {2, 6, {217516473804452LL, 285583001854400LL, 261587838577208LL,
        535733486430255LL, -767942140783221LL, 286237828923281LL},
        "4570034451851.6738", "4171851596424.8645"},
    {2, 7, {7LL, -8LL, 8LL, -9LL, 9LL, -4LL, 5LL}, "0.0786", "0.0728"},
};
#define NCASES ((int)(sizeof(cases) / sizeof(cases[0])))

static void
check_answer(const int64_t *s, int pop, int scale, const char *want)
{
    char buf[DEC_BUFSZ];
    const char *got = moments_format(s, pop, scale, buf, sizeof(buf));

    CHECK_EQ_STR(got, want);
    CHECK(moments_defined(s, pop) == (want != NULL));
}

static void
test_table(void)
{
    for (int i = 0; i < NCASES; i++) {
        int64_t s[MOMENTS_SLOTS] = {0};

        for (int j = 0; j < cases[i].n; j++)
            CHECK(moments_add(s, cases[i].vals[j]) == 0);
        CHECK_EQ_INT(s[0], cases[i].n);
        check_answer(s, 0, cases[i].scale, cases[i].sample);
        check_answer(s, 1, cases[i].scale, cases[i].pop);
    }
}

/* v_i = (i * 7919) % 20011 - 10000, i < 10000, at scale 2 (python3 Decimal:
 * 57.7749 and 57.7720). */
static void
test_long_sequence(void)
{
    int64_t s[MOMENTS_SLOTS] = {0};

    for (int64_t i = 0; i < 10000; i++)
        CHECK(moments_add(s, (i * 7919) % 20011 - 10000) == 0);
    check_answer(s, 0, 2, "57.7749");
    check_answer(s, 1, 2, "57.7720");
}

/* Any order and any split of the values: the same bytes. */
static void
test_order_and_split(void)
{
    for (int i = 0; i < NCASES; i++) {
        int n = cases[i].n;

        for (int cut = 0; cut <= n; cut++) {
            int64_t fwd[MOMENTS_SLOTS] = {0}, a[MOMENTS_SLOTS] = {0},
                b[MOMENTS_SLOTS] = {0};

            for (int j = 0; j < n; j++)
                CHECK(moments_add(fwd, cases[i].vals[j]) == 0);
            for (int j = n - 1; j >= cut; j--)
                CHECK(moments_add(a, cases[i].vals[j]) == 0);
            for (int j = 0; j < cut; j++)
                CHECK(moments_add(b, cases[i].vals[j]) == 0);
            CHECK(moments_merge(a, b) == 0);
            CHECK(memcmp(a, fwd, sizeof(a)) == 0);
        }
    }
}

static void
test_overflow(void)
{
    int64_t s[MOMENTS_SLOTS] = {0}, keep[MOMENTS_SLOTS], one[MOMENTS_SLOTS] =
        {0};

    CHECK(moments_add(one, 3) == 0);
    /* the count */
    s[0] = INT64_MAX;
    memcpy(keep, s, sizeof(s));
    CHECK(!moments_fits(s, NULL, 1));
    CHECK(moments_add(s, 1) == -1 && memcmp(s, keep, sizeof(s)) == 0);
    CHECK(moments_merge(s, one) == -1 && memcmp(s, keep, sizeof(s)) == 0);
    /* the 128-bit sum: 2^127 - 1 */
    memset(s, 0, sizeof(s));
    s[0] = 5;
    s[1] = -1;
    s[2] = INT64_MAX;
    memcpy(keep, s, sizeof(s));
    CHECK(!moments_fits(s, one, 0));
    CHECK(moments_add(s, 1) == -1 && memcmp(s, keep, sizeof(s)) == 0);
    CHECK(moments_add(s, -1) == 0);             /* down is fine */
    /* the 192-bit sum of squares: 2^192 - 1, then + 9 */
    memset(s, 0, sizeof(s));
    s[0] = 5;
    s[3] = s[4] = s[5] = -1;
    memcpy(keep, s, sizeof(s));
    CHECK(moments_merge(s, one) == -1 && memcmp(s, keep, sizeof(s)) == 0);
    CHECK(moments_add(s, 0) == 0);              /* 0^2 adds nothing */
    /* the carry from the low 128 bits into the top limb */
    memset(s, 0, sizeof(s));
    s[3] = s[4] = -1;
    CHECK(moments_add(s, 1) == 0);
    CHECK(s[3] == 0 && s[4] == 0 && s[5] == 1);
}

static void
state_of(int64_t *s, const int64_t *vals, int n)
{
    memset(s, 0, MOMENTS_SLOTS * sizeof(*s));
    for (int i = 0; i < n; i++)
        (void)moments_add(s, vals[i]);
}

/* Ranking follows the exact value; null first; equal spreads tie. */
static void
test_cmp(void)
{
    static const int64_t v12[] = {1, 2}, v56[] = {6, 5}, v13[] = {1, 3},
        big[] = {INT64_MIN, INT64_MAX}, one[] = {9};
    int64_t a[MOMENTS_SLOTS], b[MOMENTS_SLOTS], c[MOMENTS_SLOTS],
        d[MOMENTS_SLOTS], e[MOMENTS_SLOTS], z[MOMENTS_SLOTS] = {0};

    state_of(a, v12, 2);
    state_of(b, v56, 2);
    state_of(c, v13, 2);
    state_of(d, big, 2);
    state_of(e, one, 1);
    for (int pop = 0; pop <= 1; pop++) {
        CHECK(moments_cmp(a, b, pop) == 0);
        CHECK(moments_cmp(a, c, pop) < 0 && moments_cmp(c, a, pop) > 0);
        CHECK(moments_cmp(c, d, pop) < 0);
        CHECK(moments_cmp(z, a, pop) < 0 && moments_cmp(a, z, pop) > 0);
        CHECK(moments_cmp(z, z, pop) == 0);
    }
    /* one value: null for the sample stddev, 0 for the population's */
    CHECK(moments_cmp(e, a, 0) < 0 && moments_cmp(e, z, 0) == 0);
    CHECK(moments_cmp(e, a, 1) < 0 && moments_cmp(e, z, 1) > 0);
    /* the table's answers, pairwise: the order of their printed values */
    for (int i = 0; i < NCASES; i++) {
        for (int j = 0; j < NCASES; j++) {
            double x, y;

            if (cases[i].sample == NULL || cases[j].sample == NULL ||
                cases[i].scale != cases[j].scale)
                continue;
            state_of(a, cases[i].vals, cases[i].n);
            state_of(b, cases[j].vals, cases[j].n);
            x = strtod(cases[i].sample, NULL);
            y = strtod(cases[j].sample, NULL);
            if (x < y)
                CHECK(moments_cmp(a, b, 0) < 0);
            else if (x > y)
                CHECK(moments_cmp(a, b, 0) > 0);
        }
    }
}

int
main(void)
{
    RUN(test_table);
    RUN(test_long_sequence);
    RUN(test_order_and_split);
    RUN(test_overflow);
    RUN(test_cmp);
    return test_report();
}
