/* hll_test.c -- unit tests for shared/hll.c: pinned hash, exact range, accuracy, merge laws */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "shared/hll.h"
#include "tests/test.h"

#define STATE_BYTES (HLL_SLOTS * sizeof(int64_t))

/* splitmix64: the tests' deterministic random numbers */
static uint64_t
rnd(uint64_t *x)
{
    uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);

    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

/* The value v as 8 little-endian bytes, hashed. */
static uint64_t
hash_u64(uint64_t v)
{
    unsigned char b[8];

    for (int i = 0; i < 8; i++)
        b[i] = (unsigned char)(v >> (8 * i));
    return hll_hash(b, sizeof(b));
}

static void
build(int64_t *s, const uint64_t *vals, size_t n)
{
    memset(s, 0, STATE_BYTES);
    for (size_t i = 0; i < n; i++)
        hll_add(s, hash_u64(vals[i]));
}

/* Expected values from FNV-1a 64 then fmix64 computed in Python. */
static void
test_hash_pinned(void)
{
    static const struct {
        const char *data;
        size_t len;
        uint64_t want;
    } cases[] = {
        {"", 0, 0xefd01f60ba992926ULL},
        {"a", 1, 0x82a2a958a9bece5bULL},
        {"foobar", 6, 0x2c22194922d1672bULL},
        {"btc", 3, 0x90183257c314a092ULL},
        {"\0", 1, 0xb9034ad37056f5fbULL},
        {"\0\0\0\0\0\0\0\0", 8, 0x7bd3144f29c0cc9eULL},
    };
    unsigned char all[256];

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
        CHECK_EQ_UINT(hll_hash(cases[i].data, cases[i].len), cases[i].want);
    for (int i = 0; i < 256; i++)
        all[i] = (unsigned char)i;
    CHECK_EQ_UINT(hll_hash(all, sizeof(all)), 0x2067db6dbd4efa06ULL);
}

/* n distinct values, each added twice, in two orders: exact count, the
 * documented layout, the same bytes. */
static void
test_exact(void)
{
    int64_t s[HLL_SLOTS], r[HLL_SLOTS];
    int exact = -1;

    for (int n = 0; n <= HLL_EXACT_MAX; n++) {
        memset(s, 0, sizeof(s));
        memset(r, 0, sizeof(r));
        for (int i = 0; i < 2 * n; i++) {
            hll_add(s, hash_u64((uint64_t)(i % n)));
            hll_add(r, hash_u64((uint64_t)(n - 1 - i / 2)));
        }
        CHECK_EQ_UINT(hll_count(s, &exact), (uint64_t)n);
        CHECK_EQ_INT(exact, 1);
        CHECK_EQ_UINT(hll_count(s, NULL), (uint64_t)n);
        CHECK(memcmp(s, r, sizeof(s)) == 0);
        CHECK_EQ_INT(s[0], n);
        for (int i = 1; i < n; i++)
            CHECK((uint64_t)s[i] < (uint64_t)s[i + 1]);
        for (int i = n + 1; i < HLL_SLOTS; i++)
            CHECK_EQ_INT(s[i], 0);
    }
    /* the 129th distinct value turns it into registers */
    hll_add(s, hash_u64(HLL_EXACT_MAX));
    CHECK_EQ_INT(s[0], -1);
    uint64_t e = hll_count(s, &exact);
    CHECK_EQ_INT(exact, 0);
    CHECK(e >= HLL_EXACT_MAX + 1 &&
        fabs((double)e - 129) <= 3 * hll_error() * 129);
}

/* The registers layout, on hashes chosen to hit known registers. */
static void
test_registers_layout(void)
{
    static const struct {
        uint64_t hash;
        int reg;            /* top 10 bits */
        int rho;            /* first 1 in the other 54, from the top */
    } cases[] = {
        {0x0000000000000000ULL, 0, 55},
        {0xffc0000000000001ULL, 1023, 54},
        {0x0060000000000000ULL, 1, 1},     /* reg 1, next bit 1 */
        {0x00e0000000000000ULL, 3, 1},
        {0x0410000000000000ULL, 16, 2},
        {0x07c0000000000400ULL, 31, 44},
    };
    int64_t s[HLL_SLOTS] = {0};
    size_t n = sizeof(cases) / sizeof(cases[0]);

    for (int i = 0; i <= HLL_EXACT_MAX; i++)    /* into registers mode */
        hll_add(s, ((uint64_t)1000 + (uint64_t)i) << 1 | 1);
    memset(s + 1, 0, (HLL_SLOTS - 1) * sizeof(*s));
    for (size_t i = 0; i < n; i++)
        hll_add(s, cases[i].hash);
    for (size_t i = 0; i < n; i++) {
        int reg = cases[i].reg;
        uint64_t slot = (uint64_t)s[1 + reg / 8];
        CHECK_EQ_INT((int)(slot >> (8 * (reg % 8)) & 0xff), cases[i].rho);
        s[1 + reg / 8] = (int64_t)(slot & ~((uint64_t)0xff << (8 * (reg % 8))));
    }
    for (int i = 1; i < HLL_SLOTS; i++)
        CHECK_EQ_INT(s[i], 0);
}

/* n random distinct values: within 3 standard errors. */
static void
test_accuracy(void)
{
    static const struct {
        size_t n;
        uint64_t seed;
    } cases[] = {
        {1000, 1}, {1000, 2}, {10000, 3}, {10000, 4}, {100000, 5},
        {100000, 6}, {100000, 7}, {1000000, 8},
    };
    int64_t s[HLL_SLOTS];

    for (size_t c = 0; c < sizeof(cases) / sizeof(cases[0]); c++) {
        uint64_t seed = cases[c].seed, key = rnd(&seed), x;
        int exact;

        memset(s, 0, sizeof(s));
        for (size_t i = 0; i < cases[c].n; i++) {
            x = i ^ key;            /* distinct, then a bijective mix */
            hll_add(s, hash_u64(rnd(&x)));
        }
        double e = (double)hll_count(s, &exact);
        double err = (e - (double)cases[c].n) / (double)cases[c].n;
        printf("n=%zu seed=%ju estimate=%.0f error=%+.4f\n", cases[c].n,
            (uintmax_t)cases[c].seed, e, err);
        CHECK_EQ_INT(exact, 0);
        CHECK(fabs(err) <= 3 * hll_error());
    }
    CHECK(fabs(hll_error() - 0.0325) < 1e-12);
}

/* A random state: n values drawn from [0, universe), so states overlap. */
static void
random_state(int64_t *s, size_t n, uint64_t universe, uint64_t *seed)
{
    memset(s, 0, STATE_BYTES);
    for (size_t i = 0; i < n; i++)
        hll_add(s, hash_u64(rnd(seed) % universe));
}

static void
test_merge_laws(void)
{
    static const size_t sizes[] = {0, 1, 60, 128, 129, 200, 3000};
    enum { NS = sizeof(sizes) / sizeof(sizes[0]) };
    static int64_t st[NS][HLL_SLOTS];
    int64_t ab[HLL_SLOTS], ba[HLL_SLOTS], l[HLL_SLOTS], r[HLL_SLOTS];
    int64_t zero[HLL_SLOTS] = {0};
    uint64_t seed = 42;

    for (int i = 0; i < NS; i++)
        random_state(st[i], sizes[i], 400, &seed);
    for (int a = 0; a < NS; a++) {
        memcpy(l, st[a], STATE_BYTES);          /* identity, both sides */
        hll_merge(l, zero);
        CHECK(memcmp(l, st[a], STATE_BYTES) == 0);
        memcpy(r, zero, STATE_BYTES);
        hll_merge(r, st[a]);
        CHECK(memcmp(r, st[a], STATE_BYTES) == 0);
        hll_merge(r, r);                        /* idempotent, aliased */
        CHECK(memcmp(r, st[a], STATE_BYTES) == 0);
        for (int b = 0; b < NS; b++) {
            memcpy(ab, st[a], STATE_BYTES);     /* commutative */
            hll_merge(ab, st[b]);
            memcpy(ba, st[b], STATE_BYTES);
            hll_merge(ba, st[a]);
            CHECK(memcmp(ab, ba, STATE_BYTES) == 0);
            for (int c = 0; c < NS; c++) {      /* associative */
                memcpy(l, ab, STATE_BYTES);
                hll_merge(l, st[c]);
                memcpy(r, st[b], STATE_BYTES);
                hll_merge(r, st[c]);
                memcpy(ba, st[a], STATE_BYTES);
                hll_merge(ba, r);
                CHECK(memcmp(l, ba, STATE_BYTES) == 0);
            }
        }
    }
}

/*
 * Values (with duplicates) split at random into parts, each part added in a
 * shuffled order, the parts merged in a random order: the same bytes as
 * adding every value to one sketch.
 */
static void
test_split(void)
{
    static const struct {
        size_t n;           /* values, drawn from [0, universe) */
        uint64_t universe;
        int parts;
        int small;          /* 1: part 0 gets only about 1 value in 40 */
    } cases[] = {
        {150, 100, 2, 0},   /* exact + exact, stays exact */
        {400, 128, 3, 0},   /* exactly 128 distinct at most */
        {260, 200, 2, 0},   /* exact + exact crossing 128 */
        {300, 140, 5, 0},
        {4000, 3000, 2, 1}, /* exact + registers */
        {4000, 3000, 4, 0}, /* registers + registers */
        {20, 1000, 3, 0},
    };
    enum { MAXN = 4000, MAXPARTS = 5 };
    static uint64_t vals[MAXN];
    static int64_t part[MAXPARTS][HLL_SLOTS];
    int64_t one[HLL_SLOTS], all[HLL_SLOTS];
    uint64_t seed = 7;

    for (size_t c = 0; c < sizeof(cases) / sizeof(cases[0]); c++) {
        for (int round = 0; round < 20; round++) {
            size_t n = cases[c].n;
            int k = cases[c].parts, order[MAXPARTS] = {0};

            for (size_t i = 0; i < n; i++)
                vals[i] = rnd(&seed) % cases[c].universe;
            build(one, vals, n);
            for (size_t i = n - 1; i > 0; i--) {        /* shuffle */
                size_t j = rnd(&seed) % (i + 1);
                uint64_t t = vals[i];
                vals[i] = vals[j];
                vals[j] = t;
            }
            memset(part, 0, sizeof(part));
            for (size_t i = 0; i < n; i++) {
                int p = (int)(rnd(&seed) % (uint64_t)k);
                if (cases[c].small && p == 0 && rnd(&seed) % 40 != 0)
                    p = 1;
                hll_add(part[p], hash_u64(vals[i]));
            }
            for (int i = 0; i < k; i++)
                order[i] = i;
            for (int i = k - 1; i > 0; i--) {
                int j = (int)(rnd(&seed) % (uint64_t)(i + 1)), t = order[i];
                order[i] = order[j];
                order[j] = t;
            }
            memcpy(all, part[order[0]], STATE_BYTES);
            for (int i = 1; i < k; i++)
                hll_merge(all, part[order[i]]);
            CHECK(memcmp(all, one, STATE_BYTES) == 0);
        }
    }
}

int
main(void)
{
    RUN(test_hash_pinned);
    RUN(test_exact);
    RUN(test_registers_layout);
    RUN(test_accuracy);
    RUN(test_merge_laws);
    RUN(test_split);
    return test_report();
}
