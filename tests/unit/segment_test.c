/* segment_test.c -- unit tests for shared/segment.c: the speed archive's names and record */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "shared/buf.h"
#include "shared/segment.h"
#include "tests/test.h"

static void
test_segment_key(void)
{
    struct buf b;
    int32_t part = -1;

    buf_init(&b);
    segment_key(&b, "shop", 7);
    CHECK_STREQ(b.data, "speed.archive/shop/7");
    CHECK(segment_key_part(b.data, "shop", &part) == 0 && part == 7);
    buf_clear(&b);
    segment_key(&b, "shop", -1);
    CHECK_STREQ(b.data, "speed.archive/shop/");
    buf_clear(&b);
    segment_key(&b, "shop", INT32_MAX);
    CHECK(segment_key_part(b.data, "shop", &part) == 0 &&
        part == INT32_MAX);
    buf_reset(&b);

    /* only names segment_key() makes */
    static const char *const bad[] = {
        "speed.archive/shop/", "speed.archive/shop/x", "speed.archive/shop/1x",
        "speed.archive/shop/-1", "speed.archive/shop/01",
        "speed.archive/shop/ 1", "speed.archive/shop/+1",
        "speed.archive/shop/2147483648", "speed.archive/shop", "speed.archive/",
        "speed.archive/shops/1", "speed.archive/sho/1", "speed.status",
        "archive/shop/1", "",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        int rc;

        part = -7;
        if ((rc = segment_key_part(bad[i], "shop", &part)) != -1)
            printf("  key \"%s\" taken\n", bad[i]);
        CHECK(rc == -1 && part == -7);
    }
}

static void
test_segment_record(void)
{
    static const struct segment cases[] = {
        {0, 1, 0, 0, 0},
        {42, 1234, 99, 1763640000123, 1763639990000},
        {INT64_MAX, INT64_MAX, INT64_MAX, INT64_MAX, INT64_MAX},
        {0, 0, -1, INT64_MIN, INT64_MIN},
    };
    char text[SEGMENT_RECORD_MAX];
    struct segment s;
    size_t n;

    n = segment_format(&cases[1], text);
    CHECK_STREQ(text, "42 1234 99 1763640000123 1763639990000");
    CHECK(n == strlen(text));
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        memset(&s, 0xa5, sizeof(s));
        n = segment_format(&cases[i], text);
        CHECK(n < SEGMENT_RECORD_MAX && n == strlen(text));
        /* as the store hands it: not NUL-terminated */
        text[n] = 'X';
        CHECK(segment_parse(&s, text, n) == 0);
        CHECK(memcmp(&s, &cases[i], sizeof(s)) == 0);
    }
}

static void
test_segment_record_bad(void)
{
    static const char *const bad[] = {
        "", "1 2 3 4", "1 2 3 4 5 6", "1 2 3 4 x", "1  2 3 4 5", " 1 2 3 4 5",
        "1 2 3 4 5 ", "1 2 3 4 5\n", "1,2,3,4,5", "1 2 3 4 +5", "1 2 3 4 5x",
        "1 2 3 4 9223372036854775808", "1 2 3 4 -9223372036854775809",
        "1 2 3 4 -", "0x1 2 3 4 5",
    };
    struct segment s = {1, 2, 3, 4, 5}, was = s;
    char big[SEGMENT_RECORD_MAX + 8];

    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        int rc = segment_parse(&s, bad[i], strlen(bad[i]));

        if (rc != -1)
            printf("  record \"%s\" taken\n", bad[i]);
        CHECK(rc == -1);
        CHECK(memcmp(&s, &was, sizeof(s)) == 0);   /* untouched */
    }
    /* longer than any record */
    memset(big, '1', sizeof(big));
    for (size_t i = 1; i < 9; i += 2)
        big[i] = ' ';
    CHECK(segment_parse(&s, big, sizeof(big)) == -1);
    CHECK(segment_parse(&s, "1 2 3 4 5", 5) == -1);     /* cut short */
    CHECK(segment_parse(&s, "1 2 3 4 5", 9) == 0);
}

static void
test_segment_names(void)
{
    char name[SEGMENT_NAME_MAX];

    CHECK_STREQ(segment_open_name(name, 42),
        ".00000000000000000042.jsonl.open");
    CHECK_STREQ(segment_sealed_name(name, 42, 99),
        "00000000000000000042-00000000000000000099.jsonl");
    CHECK_STREQ(segment_sealed_name(name, INT64_MAX, INT64_MAX),
        "09223372036854775807-09223372036854775807.jsonl");
    CHECK(strlen(name) < SEGMENT_NAME_MAX);

    CHECK(segment_path_is("var/archive/shop/p3/"
        "00000000000000000042-00000000000000000099.jsonl", 3, 42));
    CHECK(!segment_path_is("var/archive/shop/p3/"
        "00000000000000000042-00000000000000000099.jsonl", 3, 43));
    CHECK(!segment_path_is("var/archive/shop/p13/"
        "00000000000000000042-00000000000000000099.jsonl", 3, 42));
    CHECK(!segment_path_is("var/archive/shop/p3/"
        ".00000000000000000042.jsonl.open", 3, 42));
    CHECK(!segment_path_is("p3/00000000000000000042-1.jsonl", 3, 42));
}

int
main(void)
{
    RUN(test_segment_key);
    RUN(test_segment_record);
    RUN(test_segment_record_bad);
    RUN(test_segment_names);
    return test_report();
}
