/* speed_delta_test.c -- unit tests for speed/delta.c: rows by (view, key, bucket), store order, clear */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "speed/delta.h"
#include "tests/test.h"

#define H (3600LL * 1000)
#define LEN(a) ((int)(sizeof(a) / sizeof((a)[0])))

/* Two views: 0 holds one slot (count), 1 three (a sum). Only the slot
 * counts matter to delta.c. */
static struct metric m_count[] = {
    {.name = "n", .kind = METRIC_COUNT, .field = -1, .slot = 0},
};
static struct metric m_sum[] = {
    {.name = "s", .kind = METRIC_SUM, .field = 0, .slot = 0},
};
static struct view views[] = {
    {.name = "a", .granularity = H, .metrics = m_count, .nmetrics = 1,
        .nslots = 1},
    {.name = "b", .granularity = H, .metrics = m_sum, .nmetrics = 1,
        .nslots = 3},
};
static struct pipeline pl = {.name = "d", .views = views, .nviews = 2};

/* Group keys as key.h encodes them: a string is 0x04, bytes, 0x00; an int
 * 0x03 and 8 bytes; the empty key for a view without group_by. */
#define K_EMPTY ""
#define K_A "\x04" "a"
#define K_AB "\x04" "ab"
#define K_B "\x04" "b"
#define K_LONG "\x04" "customer-000000000042"

struct op {
    int         view;
    const char *key;    /* string key: its bytes and the closing 0x00 */
    int         empty;  /* the empty key (0 bytes) */
    int64_t     bucket; /* hours */
    int64_t     add;
};

static size_t
klen_of(const struct op *o)
{
    return o->empty ? 0 : strlen(o->key) + 1;
}

/* Rows worked by hand: the sorted order is view, then key bytes (a key is
 * never a prefix of another), then bucket. */
static void
test_delta_sorted_cases(void)
{
    static const struct op ops[] = {
        {1, K_B, 0, 5, 1},
        {0, K_AB, 0, 2, 1},
        {0, K_A, 0, 7, 2},
        {1, K_EMPTY, 1, -1, 4},
        {0, K_A, 0, 3, 5},
        {0, K_LONG, 0, 1, 1},
        {0, K_A, 0, 7, 10},     /* same row as the third */
        {1, K_B, 0, -4, 3},
        {1, K_EMPTY, 1, -1, 1}, /* same row as the fourth */
        {0, K_B, 0, 0, 6},
    };
    /* view, key, bucket, total */
    static const struct op want[] = {
        {0, K_A, 0, 3, 5},
        {0, K_A, 0, 7, 12},
        {0, K_AB, 0, 2, 1},
        {0, K_B, 0, 0, 6},
        {0, K_LONG, 0, 1, 1},
        {1, K_EMPTY, 1, -1, 5},
        {1, K_B, 0, -4, 3},
        {1, K_B, 0, 5, 1},
    };
    struct delta *d = delta_new(&pl);
    const struct delta_entry *e;

    CHECK_EQ(delta_count(d), 0);
    for (int i = 0; i < LEN(ops); i++) {
        int64_t *row = delta_row(d, ops[i].view, ops[i].key, klen_of(&ops[i]),
            ops[i].bucket * H);

        row[0] += ops[i].add;
    }
    CHECK_EQ(delta_count(d), LEN(want));
    e = delta_sorted(d);
    for (int i = 0; i < LEN(want) && i < (int)delta_count(d); i++) {
        size_t kl = klen_of(&want[i]);

        CHECK_EQ(e[i].view, want[i].view);
        CHECK_EQ(e[i].gklen, kl);
        CHECK(memcmp(e[i].gkey, want[i].key, kl) == 0);
        CHECK_EQ(e[i].bucket, want[i].bucket * H);
        CHECK_EQ(e[i].row[0], want[i].add);
        /* the rest of a new row is the identity */
        if (e[i].view == 1) {
            CHECK_EQ(e[i].row[1], 0);
            CHECK_EQ(e[i].row[2], 0);
        }
    }
    delta_free(d);
    delta_free(NULL);
}

/* A reference row for the random test. */
struct ref {
    int           view;
    unsigned char key[24];
    size_t        klen;
    int64_t       bucket, total;
    int64_t      *row;      /* what delta_row() returned first */
};

static int
ref_cmp(const void *a, const void *b)
{
    const struct ref *x = a, *y = b;
    size_t i;

    if (x->view != y->view)
        return x->view - y->view;
    for (i = 0; i < x->klen && i < y->klen; i++)
        if (x->key[i] != y->key[i])
            return x->key[i] - y->key[i];
    if (x->klen != y->klen)
        return x->klen < y->klen ? -1 : 1;
    return x->bucket < y->bucket ? -1 : x->bucket > y->bucket;
}

/* A key.h string key of 0..20 letters from a small alphabet, so that keys
 * share prefixes and some are long enough for the 8-byte hash steps. */
static size_t
random_key(unsigned char *k)
{
    size_t n = (size_t)(rand() % 4 == 0 ? rand() % 21 : rand() % 3);

    k[0] = 0x04;
    for (size_t i = 0; i < n; i++)
        k[1 + i] = (unsigned char)('a' + rand() % 3);
    k[1 + n] = 0x00;
    return n + 2;
}

static struct ref *
ref_find(struct ref *r, size_t n, const struct ref *x)
{
    for (size_t i = 0; i < n; i++)
        if (r[i].view == x->view && r[i].bucket == x->bucket &&
            r[i].klen == x->klen && memcmp(r[i].key, x->key, x->klen) == 0)
            return &r[i];
    return NULL;
}

/*
 * Random (view, key, bucket) rows, some repeated, against a list kept by
 * linear search: counts, totals, store order, row pointers that stay put
 * while the table grows, then clear and a second round on the same delta.
 */
static void
test_delta_random(void)
{
    enum { NOPS = 6000 };
    static struct ref ref[NOPS];
    struct delta *d = delta_new(&pl);

    srand(7);
    for (int round = 0; round < 3; round++) {
        const struct delta_entry *e;
        size_t n = 0;
        int before = test_cur_failed;

        for (int i = 0; i < NOPS; i++) {
            struct ref x = {0}, *r;
            int64_t *row;

            x.view = rand() % 2;
            x.klen = rand() % 10 == 0 ? 0 : random_key(x.key);
            x.bucket = (rand() % 200 - 100) * H;
            row = delta_row(d, x.view, x.key, x.klen, x.bucket);
            if ((r = ref_find(ref, n, &x)) == NULL) {
                r = &ref[n++];
                *r = x;
                r->row = row;
                for (int s = 0; s < views[x.view].nslots; s++)
                    CHECK_EQ(row[s], 0);
            }
            CHECK(row == r->row);
            row[0] += i + 1;
            r->total += i + 1;
        }
        CHECK_EQ(delta_count(d), n);
        qsort(ref, n, sizeof(ref[0]), ref_cmp);
        e = delta_sorted(d);
        for (size_t i = 0; i < n && i < delta_count(d); i++) {
            CHECK_EQ(e[i].view, ref[i].view);
            CHECK_EQ(e[i].gklen, ref[i].klen);
            CHECK(e[i].gklen != ref[i].klen ||
                memcmp(e[i].gkey, ref[i].key, ref[i].klen) == 0);
            CHECK_EQ(e[i].bucket, ref[i].bucket);
            CHECK_EQ(e[i].row[0], ref[i].total);
            CHECK(e[i].row == ref[i].row);
        }
        if (test_cur_failed != before) {
            printf("  in round %d\n", round);
            break;
        }
        delta_clear(d);
        CHECK_EQ(delta_count(d), 0);
        delta_sorted(d);
    }
    delta_free(d);
}

/* After a burst that grew the table past its clearing size, clear gives an
 * empty delta whose rows start again from the identity. */
static void
test_delta_clear_burst(void)
{
    enum { N = 40000 };
    struct delta *d = delta_new(&pl);
    unsigned char k[4] = {0x04, 'k', 'x', 0x00};
    int64_t *row;

    for (int i = 0; i < N; i++) {
        row = delta_row(d, 0, k, sizeof(k), (int64_t)i * H);
        row[0] = i + 1;
    }
    CHECK_EQ(delta_count(d), N);
    row = delta_row(d, 0, k, sizeof(k), 123 * H);
    CHECK_EQ(row[0], 124);
    delta_clear(d);
    CHECK_EQ(delta_count(d), 0);
    row = delta_row(d, 0, k, sizeof(k), 123 * H);
    CHECK_EQ(row[0], 0);
    CHECK_EQ(delta_count(d), 1);
    row[0] = 9;
    CHECK_EQ(delta_sorted(d)[0].row[0], 9);
    CHECK_EQ(delta_sorted(d)[0].bucket, 123 * H);
    delta_free(d);
}

int
main(void)
{
    RUN(test_delta_sorted_cases);
    RUN(test_delta_random);
    RUN(test_delta_clear_burst);
    return test_report();
}
