/* batch_table_test.c -- unit tests for batch/table.c: rows by key and bucket, merge, sorted order */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "batch/table.h"
#include "tests/test.h"

#define H (3600LL * 1000)
#define LEN(a) ((int)(sizeof(a) / sizeof((a)[0])))

/* A count view (one slot) and a view of count and sum (4 slots), so entries
 * have two strides. */
static struct metric m_count[] = {
    {.name = "n", .kind = METRIC_COUNT, .field = -1, .slot = 0},
};
static struct metric m_two[] = {
    {.name = "n", .kind = METRIC_COUNT, .field = -1, .slot = 0},
    {.name = "s", .kind = METRIC_SUM, .field = 0, .slot = 1},
};
static struct view v_count = {.name = "c", .granularity = H,
    .metrics = m_count, .nmetrics = 1, .nslots = 1};
static struct view v_two = {.name = "t", .granularity = H,
    .metrics = m_two, .nmetrics = 2, .nslots = 4};

/* Keys are written as key.h encodes them (a string: 0x04, bytes, 0x00), so
 * none is a prefix of another. */
struct kb {
    const char *s;      /* the string; NULL: the empty key */
    int64_t     bucket; /* hours */
    int64_t     add;
};

/* Into k[64]: 0x04, the bytes, then 0x00 (the string's terminator). */
static size_t
encode(unsigned char *k, const char *s)
{
    if (s == NULL)
        return 0;
    return (size_t)snprintf((char *)k, 64, "\x04%s", s) + 1;
}

static int64_t *
row_of(struct table *t, const unsigned char *k, size_t klen, int64_t bucket)
{
    return table_row(t, k, klen, bucket, table_hash(k, klen, bucket));
}

/* Insert ops, then check table_sorted(lo, hi) against want, worked by hand:
 * key bytes first, then bucket. */
static void
check_sorted(const struct kb *ops, int nops, int64_t lo, int64_t hi,
    const struct kb *want, int nwant)
{
    struct table t;
    uint32_t *ord;
    size_t n;

    table_init(&t, &v_count);
    for (int i = 0; i < nops; i++) {
        unsigned char k[64];
        size_t kl = encode(k, ops[i].s);

        row_of(&t, k, kl, ops[i].bucket * H)[0] += ops[i].add;
    }
    ord = table_sorted(&t, lo, hi, &n);
    CHECK_EQ(n, nwant);
    for (int i = 0; i < nwant && i < (int)n; i++) {
        unsigned char k[64];
        size_t kl = encode(k, want[i].s), klen;
        const void *key;
        const int64_t *row;
        int64_t bucket;

        table_entry(&t, ord[i], &key, &klen, &bucket, &row);
        CHECK_EQ(klen, kl);
        CHECK(klen != kl || memcmp(key, k, kl) == 0);
        CHECK_EQ(bucket, want[i].bucket * H);
        CHECK_EQ(row[0], want[i].add);
    }
    free(ord);
    table_reset(&t);
}

/* Short keys only: the radix sort. */
static void
test_table_sorted_short(void)
{
    static const struct kb ops[] = {
        {"b", 3, 1}, {"a", 5, 1}, {"ab", 0, 2}, {NULL, 9, 4}, {"a", -2, 3},
        {"b", 3, 10}, {"a", 1 << 20, 1}, {"abcdefghijklm", 1, 1},
        {"abcdefghijkl", 1, 1}, {"a", 5, 6}, {"", 2, 1},
    };
    /* the empty key, then 04 00 (""), 04 61 00 ("a"), 04 61 62 ... */
    static const struct kb all[] = {
        {NULL, 9, 4}, {"", 2, 1}, {"a", -2, 3}, {"a", 5, 7},
        {"a", 1 << 20, 1}, {"ab", 0, 2}, {"abcdefghijkl", 1, 1},
        {"abcdefghijklm", 1, 1}, {"b", 3, 11},
    };
    /* buckets in [0h, 5h) */
    static const struct kb some[] = {
        {"", 2, 1}, {"ab", 0, 2}, {"abcdefghijkl", 1, 1},
        {"abcdefghijklm", 1, 1}, {"b", 3, 11},
    };

    check_sorted(ops, LEN(ops), INT64_MIN, INT64_MAX, all, LEN(all));
    check_sorted(ops, LEN(ops), 0, 5 * H, some, LEN(some));
    check_sorted(ops, LEN(ops), 100 * H, 200 * H, NULL, 0);
}

/* A key longer than TABLE_INLINE: the comparison sort, with keys that agree
 * on their first 16 bytes and differ after. */
static void
test_table_sorted_long(void)
{
    static const struct kb ops[] = {
        {"customer-00000000042", 7, 1}, {"customer-00000000041", 7, 2},
        {"customer-000000000", 3, 3}, {"customer-00000000042", 2, 4},
        {"customer-0000", 1, 5}, {"b", 0, 6}, {"customer-00000000041z", 0, 7},
        {"customer-00000000042", 7, 8}, {NULL, 4, 9},
    };
    static const struct kb all[] = {
        {NULL, 4, 9}, {"b", 0, 6}, {"customer-0000", 1, 5},
        {"customer-000000000", 3, 3}, {"customer-00000000041", 7, 2},
        {"customer-00000000041z", 0, 7}, {"customer-00000000042", 2, 4},
        {"customer-00000000042", 7, 9},
    };
    static const struct kb late[] = {
        {"customer-00000000041", 7, 2}, {"customer-00000000042", 7, 9},
    };

    check_sorted(ops, LEN(ops), INT64_MIN, INT64_MAX, all, LEN(all));
    check_sorted(ops, LEN(ops), 5 * H, 8 * H, late, LEN(late));
}

/* A reference row for the random test. */
struct ref {
    unsigned char key[48];
    size_t        klen;
    int64_t       bucket, total;
};

/* Keys are zero-padded to the whole array: as none is a prefix of another,
 * comparing the arrays is comparing the keys. */
static int
ref_cmp(const void *a, const void *b)
{
    const struct ref *x = a, *y = b;
    int c = memcmp(x->key, y->key, sizeof(x->key));

    if (c != 0)
        return c;
    return (x->bucket > y->bucket) - (x->bucket < y->bucket);
}

/* A string key, or an int key (0x03 and 8 bytes), of up to maxlen bytes. */
static size_t
random_key(unsigned char *k, size_t maxlen)
{
    size_t n;

    if (rand() % 5 == 0) {
        k[0] = 0x03;
        for (int i = 1; i < 9; i++)
            k[i] = (unsigned char)(rand() % 3 == 0 ? 0x80 : rand() % 256);
        return 9;
    }
    n = (size_t)rand() % (maxlen - 1);
    if (rand() % 2 == 0 && n > 4)
        n = 4;  /* many short keys: more sharing */
    k[0] = 0x04;
    for (size_t i = 0; i < n; i++)
        k[1 + i] = (unsigned char)('a' + rand() % 2);
    k[n + 1] = 0x00;
    return n + 2;
}

/*
 * Random rows against a sorted reference list: every row found again by
 * its (key, bucket), totals, the order of table_sorted() over all buckets
 * and over a range. Keys up to 16 bytes (radix sort) or up to 40 (qsort);
 * one round passes TABLE_BLOCK entries.
 */
static void
test_table_random(void)
{
    enum { NMAX = 50000 };
    static struct ref ref[NMAX];

    srand(11);
    for (int round = 0; round < 6; round++) {
        size_t maxlen = round % 2 == 0 ? TABLE_INLINE : 40;
        int nops = round >= 4 ? NMAX : 3000, n = 0;
        struct table t;
        uint32_t *ord;
        size_t got;
        int64_t lo = 20 * H, hi = 60 * H;
        int before = test_cur_failed;

        table_init(&t, round % 3 == 0 ? &v_two : &v_count);
        for (int i = 0; i < nops; i++) {
            struct ref *r = &ref[n];
            int64_t *row;

            memset(r->key, 0, sizeof(r->key));
            r->klen = random_key(r->key, maxlen);
            r->bucket = (rand() % 100 - 10) * H;
            r->total = rand() % 1000;
            row = row_of(&t, r->key, r->klen, r->bucket);
            row[0] += r->total;
            n++;
        }
        /* each distinct (key, bucket) is one row holding its total */
        qsort(ref, (size_t)n, sizeof(ref[0]), ref_cmp);
        {
            int m = 0;

            for (int i = 0; i < n; i++) {
                if (m > 0 && ref_cmp(&ref[m - 1], &ref[i]) == 0)
                    ref[m - 1].total += ref[i].total;
                else
                    ref[m++] = ref[i];
            }
            n = m;
        }
        CHECK_EQ(t.nents, n);
        ord = table_sorted(&t, INT64_MIN, INT64_MAX, &got);
        CHECK_EQ(got, n);
        for (int i = 0; i < n && i < (int)got; i++) {
            const void *key;
            size_t klen;
            int64_t bucket;
            const int64_t *row;

            table_entry(&t, ord[i], &key, &klen, &bucket, &row);
            CHECK_EQ(klen, ref[i].klen);
            CHECK(klen != ref[i].klen ||
                memcmp(key, ref[i].key, klen) == 0);
            CHECK_EQ(bucket, ref[i].bucket);
            CHECK_EQ(row[0], ref[i].total);
            /* found again, same row */
            CHECK(row_of(&t, ref[i].key, ref[i].klen, ref[i].bucket) == row);
            if (test_cur_failed != before)
                break;
        }
        free(ord);
        CHECK_EQ(t.nents, n);   /* the lookups inserted nothing */

        ord = table_sorted(&t, lo, hi, &got);
        {
            int j = 0;

            for (int i = 0; i < n; i++) {
                const void *key;
                size_t klen;
                int64_t bucket;
                const int64_t *row;

                if (ref[i].bucket < lo || ref[i].bucket >= hi)
                    continue;
                if (j < (int)got) {
                    table_entry(&t, ord[j], &key, &klen, &bucket, &row);
                    CHECK(klen == ref[i].klen && bucket == ref[i].bucket &&
                        memcmp(key, ref[i].key, klen) == 0);
                }
                j++;
            }
            CHECK_EQ(got, j);
        }
        free(ord);
        table_reset(&t);
        if (test_cur_failed != before) {
            printf("  in round %d\n", round);
            return;
        }
    }
}

/*
 * Keys whose hashes collide (forced here: every row gets hash 42) are still
 * told apart by every byte, inline or in the arena, and by bucket.
 */
static void
test_table_collisions(void)
{
    static const char *keys[] = {
        "abcdefg", "abcdefgh", "abcdefghijklmn", "abcdefghijklmx",
        "abcdefgXijklmn", "abcdefghijklmnopqrstuvw", "abcdefghijklmnopqrstuvx",
    };
    struct table t;
    unsigned char k[64];
    size_t kl;

    table_init(&t, &v_count);
    for (int pass = 0; pass < 2; pass++)
        for (int i = 0; i < LEN(keys); i++)
            for (int64_t b = 0; b < 3; b++) {
                kl = encode(k, keys[i]);
                table_row(&t, k, kl, b * H, 42)[0] += i * 10 + b + 1;
            }
    CHECK_EQ(t.nents, LEN(keys) * 3);
    for (int i = 0; i < LEN(keys); i++)
        for (int64_t b = 0; b < 3; b++) {
            kl = encode(k, keys[i]);
            CHECK_EQ(table_row(&t, k, kl, b * H, 42)[0],
                2 * (i * 10 + b + 1));
        }
    table_reset(&t);
}

/* table_merge adds src's rows into dst's, creating the missing ones; a
 * count overflow fails. */
static void
test_table_merge(void)
{
    static const struct kb a[] = {
        {"x", 1, 1}, {"y", 1, 2}, {"customer-00000000000042", 2, 3},
    };
    static const struct kb b[] = {
        {"y", 1, 10}, {"y", 2, 20}, {"customer-00000000000042", 2, 30},
        {NULL, 0, 40},
    };
    static const struct kb want[] = {
        {NULL, 0, 40}, {"customer-00000000000042", 2, 33}, {"x", 1, 1},
        {"y", 1, 12}, {"y", 2, 20},
    };
    struct table ta, tb;
    uint32_t *ord;
    size_t n;
    unsigned char k[64];
    size_t kl;

    table_init(&ta, &v_two);
    table_init(&tb, &v_two);
    for (int i = 0; i < LEN(a); i++) {
        kl = encode(k, a[i].s);
        row_of(&ta, k, kl, a[i].bucket * H)[0] += a[i].add;
    }
    for (int i = 0; i < LEN(b); i++) {
        kl = encode(k, b[i].s);
        row_of(&tb, k, kl, b[i].bucket * H)[0] += b[i].add;
    }
    CHECK_EQ(table_merge(&ta, &tb), 0);
    CHECK_EQ(tb.nents, LEN(b));     /* src unchanged */
    ord = table_sorted(&ta, INT64_MIN, INT64_MAX, &n);
    CHECK_EQ(n, LEN(want));
    for (int i = 0; i < LEN(want) && i < (int)n; i++) {
        const void *key;
        size_t klen;
        int64_t bucket;
        const int64_t *row;

        kl = encode(k, want[i].s);
        table_entry(&ta, ord[i], &key, &klen, &bucket, &row);
        CHECK(klen == kl && memcmp(key, k, kl) == 0);
        CHECK_EQ(bucket, want[i].bucket * H);
        CHECK_EQ(row[0], want[i].add);
        CHECK_EQ(row[1], 0);    /* the sum's state: still the identity */
    }
    free(ord);

    kl = encode(k, "x");
    row_of(&tb, k, kl, 1 * H)[0] = INT64_MAX;
    CHECK_EQ(table_merge(&ta, &tb), -1);
    table_reset(&ta);
    table_reset(&tb);
}

int
main(void)
{
    RUN(test_table_sorted_short);
    RUN(test_table_sorted_long);
    RUN(test_table_random);
    RUN(test_table_collisions);
    RUN(test_table_merge);
    return test_report();
}
