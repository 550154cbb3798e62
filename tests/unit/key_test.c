/* key_test.c -- unit tests for shared/key.c: order, self-delimiting, text and JSON */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "shared/buf.h"
#include "shared/err.h"
#include "shared/key.h"
#include "tests/test.h"

/* fields: 0 customer string, 1 n int, 2 amount decimal(2), 3 flag bool,
 * 4 "geo.country" string */
static struct field fields[] = {
    {.name = "customer", .type = FIELD_STRING, .required = 1},
    {.name = "n", .type = FIELD_INT, .required = 1},
    {.name = "amount", .type = FIELD_DECIMAL, .scale = 2, .required = 1},
    {.name = "flag", .type = FIELD_BOOL, .required = 1},
    {.name = "geo.country", .type = FIELD_STRING},
};
static struct pipeline pl = {.name = "t", .fields = fields, .nfields = 5};

static int gb_customer[] = {0}, gb_n[] = {1}, gb_amount[] = {2},
    gb_flag[] = {3}, gb_all[] = {0, 1, 2, 3, 4}, gb_str_int[] = {0, 1};
static struct view v_customer = {.name = "c", .group_by = gb_customer,
    .ngroup = 1};
static struct view v_n = {.name = "n", .group_by = gb_n, .ngroup = 1};
static struct view v_amount = {.name = "a", .group_by = gb_amount, .ngroup = 1};
static struct view v_flag = {.name = "f", .group_by = gb_flag, .ngroup = 1};
static struct view v_all = {.name = "all", .group_by = gb_all, .ngroup = 5};
static struct view v_str_int = {.name = "si", .group_by = gb_str_int,
    .ngroup = 2};
static struct view v_none = {.name = "none"};

static struct event_value vals[5];
static struct event ev = {.vals = vals, .nvals = 5};

static void
set_str(int i, const char *s)
{
    vals[i].present = s != NULL;
    vals[i].str = s;
    vals[i].len = s != NULL ? strlen(s) : 0;
    vals[i].num = 0;
}

static void
set_num(int i, int64_t n)
{
    vals[i].present = 1;
    vals[i].str = NULL;
    vals[i].len = 0;
    vals[i].num = n;
}

static int
sign(int x)
{
    return (x > 0) - (x < 0);
}

static int
keycmp(const struct buf *a, const struct buf *b)
{
    size_t n = a->len < b->len ? a->len : b->len;
    int c = memcmp(a->data, b->data, n);

    if (c != 0)
        return sign(c);
    return (a->len > b->len) - (a->len < b->len);
}

/* Sorted int values: every pair's key order must equal value order. */
static void
test_key_int_order(void)
{
    static const int64_t sorted[] = {
        INT64_MIN, INT64_MIN + 1, -4294967296LL, -65536, -256, -255, -2, -1,
        0, 1, 2, 255, 256, 65536, 4294967296LL, INT64_MAX - 1, INT64_MAX,
    };
    enum { N = sizeof(sorted) / sizeof(sorted[0]) };
    struct buf k[N];

    for (int i = 0; i < N; i++) {
        buf_init(&k[i]);
        set_num(1, sorted[i]);
        CHECK(key_encode_event(&k[i], &pl, &v_n, &ev) == 0);
        CHECK(k[i].len == 9 && (unsigned char)k[i].data[0] == 0x03);
    }
    for (int i = 0; i < N; i++)
        for (int j = 0; j < N; j++)
            CHECK(keycmp(&k[i], &k[j]) == sign((i > j) - (i < j)));
    for (int i = 0; i < N; i++)
        buf_reset(&k[i]);
}

/* Decimals (as scaled values) and random ints against value order. */
static void
test_key_decimal_order(void)
{
    static const char *const sorted[] = {
        "-9999999999999.99", "-12.5", "-12.49", "-0.01", "0", "0.01",
        "0.10", "1", "9.99", "10", "12.5", "9999999999999.99",
    };
    enum { N = sizeof(sorted) / sizeof(sorted[0]) };
    struct buf k[N];
    char err[ERR_LEN];

    for (int i = 0; i < N; i++) {
        buf_init(&k[i]);
        CHECK(key_encode_text(&k[i], &fields[2], sorted[i], err) == 0);
    }
    for (int i = 0; i < N; i++)
        for (int j = 0; j < N; j++)
            CHECK(keycmp(&k[i], &k[j]) == sign((i > j) - (i < j)));
    for (int i = 0; i < N; i++)
        buf_reset(&k[i]);

    struct buf a, b;
    int bad = 0;

    buf_init(&a);
    buf_init(&b);
    srand(3);
    for (int i = 0; i < 100000; i++) {
        uint64_t ux = ((uint64_t)rand() << 33) ^ ((uint64_t)rand() << 2) ^
            (uint64_t)rand();
        uint64_t uy = i % 2 ? 0 - ux + (uint64_t)(rand() % 3) :
            ((uint64_t)rand() << 32) - ux;
        int64_t x = (int64_t)ux, y = (int64_t)uy;

        buf_clear(&a);
        buf_clear(&b);
        set_num(2, x);
        (void)key_encode_event(&a, &pl, &v_amount, &ev);
        set_num(2, y);
        (void)key_encode_event(&b, &pl, &v_amount, &ev);
        if (keycmp(&a, &b) != sign((x > y) - (x < y)))
            bad++;
    }
    CHECK(bad == 0);
    buf_reset(&a);
    buf_reset(&b);
}

/* Strings sort bytewise, prefixes first ("c1" < "c10" < "c2"); absent sorts
 * before every value; false < true. */
static void
test_key_string_order(void)
{
    static const char *const sorted[] = {
        NULL, "", "a", "ab", "b", "c", "c1", "c10", "c100", "c2", "c20",
        "z", "\xc3\xa9", "\xe2\x82\xac", "\xf0\x9f\x98\x80",
    };
    enum { N = sizeof(sorted) / sizeof(sorted[0]) };
    struct buf k[N];

    for (int i = 0; i < N; i++) {
        buf_init(&k[i]);
        set_str(0, sorted[i]);
        CHECK(key_encode_event(&k[i], &pl, &v_customer, &ev) == 0);
    }
    for (int i = 0; i < N; i++)
        for (int j = 0; j < N; j++)
            CHECK(keycmp(&k[i], &k[j]) == sign((i > j) - (i < j)));
    for (int i = 0; i < N; i++)
        buf_reset(&k[i]);

    struct buf f, t, n;
    buf_init(&f);
    buf_init(&t);
    buf_init(&n);
    vals[3].present = 0;
    CHECK(key_encode_event(&n, &pl, &v_flag, &ev) == 0);
    set_num(3, 0);
    CHECK(key_encode_event(&f, &pl, &v_flag, &ev) == 0);
    set_num(3, 1);
    CHECK(key_encode_event(&t, &pl, &v_flag, &ev) == 0);
    CHECK(n.len == 1 && f.len == 1 && t.len == 1);
    CHECK(keycmp(&n, &f) < 0 && keycmp(&f, &t) < 0);
    buf_reset(&f);
    buf_reset(&t);
    buf_reset(&n);
}

/*
 * Composite keys (customer, n): memcmp order is tuple order and no key is a
 * prefix of another, so "c1" with any n sorts before "c10" with any n.
 */
static void
test_key_self_delimiting(void)
{
    static const char *const strs[] = {"", "c", "c1", "c1\x01", "c10", "d"};
    static const int64_t nums[] = {INT64_MIN, -1, 0, 1, 0x0400000000000000LL,
        INT64_MAX};
    enum { NS = 6, NN = 6, N = NS * NN };
    struct buf k[N];

    for (int i = 0; i < NS; i++) {
        for (int j = 0; j < NN; j++) {
            struct buf *b = &k[i * NN + j];
            buf_init(b);
            set_str(0, strs[i]);
            set_num(1, nums[j]);
            CHECK(key_encode_event(b, &pl, &v_str_int, &ev) == 0);
        }
    }
    for (int a = 0; a < N; a++) {
        for (int b = 0; b < N; b++) {
            int want = a < b ? -1 : a > b;
            CHECK(keycmp(&k[a], &k[b]) == want);
            if (a != b) {
                size_t n = k[a].len < k[b].len ? k[a].len : k[b].len;
                CHECK(memcmp(k[a].data, k[b].data, n) != 0);
            }
        }
    }
    for (int i = 0; i < N; i++)
        buf_reset(&k[i]);
}

/* Events and query text give the same bytes, and key_to_json prints them. */
static void
test_key_text_and_json(void)
{
    static const struct {
        const char *customer;       /* NULL: absent */
        int64_t     n;
        const char *n_text;
        int64_t     amount;
        const char *amount_text;
        int         flag;
        const char *country;
        const char *json;
    } cases[] = {
        {"c1", 7, "7", 1250, "12.5", 1, "NL",
            "{\"customer\":\"c1\",\"n\":7,\"amount\":12.50,\"flag\":true,"
            "\"geo.country\":\"NL\"}"},
        {"", -3, "-3", -5, "-0.05", 0, NULL,
            "{\"customer\":\"\",\"n\":-3,\"amount\":-0.05,\"flag\":false,"
            "\"geo.country\":null}"},
        {"a \"q\" \\ \n\xc3\xa9", INT64_MIN, "-9223372036854775808", 0, "0",
            1, "\xe2\x82\xac",
            "{\"customer\":\"a \\\"q\\\" \\\\ \\n\xc3\xa9\","
            "\"n\":-9223372036854775808,\"amount\":0.00,\"flag\":true,"
            "\"geo.country\":\"\xe2\x82\xac\"}"},
        {NULL, INT64_MAX, "9223372036854775807", 99999999999999LL,
            "999999999999.99", 0, "",
            "{\"customer\":null,\"n\":9223372036854775807,"
            "\"amount\":999999999999.99,\"flag\":false,\"geo.country\":\"\"}"},
    };
    struct buf a, b, j;
    char err[ERR_LEN];

    buf_init(&a);
    buf_init(&b);
    buf_init(&j);
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        buf_clear(&a);
        buf_clear(&b);
        buf_clear(&j);
        set_str(0, cases[i].customer);
        set_num(1, cases[i].n);
        set_num(2, cases[i].amount);
        set_num(3, cases[i].flag);
        set_str(4, cases[i].country);
        CHECK(key_encode_event(&a, &pl, &v_all, &ev) == 0);

        CHECK(key_encode_text(&b, &fields[0], cases[i].customer, err) == 0);
        CHECK(key_encode_text(&b, &fields[1], cases[i].n_text, err) == 0);
        CHECK(key_encode_text(&b, &fields[2], cases[i].amount_text, err) == 0);
        CHECK(key_encode_text(&b, &fields[3],
            cases[i].flag ? "true" : "false", err) == 0);
        CHECK(key_encode_text(&b, &fields[4], cases[i].country, err) == 0);
        CHECK(a.len == b.len && memcmp(a.data, b.data, a.len) == 0);

        buf_puts(&j, "x");          /* appends after what is there */
        CHECK(key_to_json(&j, &pl, &v_all, a.data, a.len) == 0);
        CHECK(j.data[0] == 'x');
        CHECK_STREQ(j.data + 1, cases[i].json);
    }

    /* the empty key of a view without group_by */
    buf_clear(&a);
    buf_clear(&j);
    CHECK(key_encode_event(&a, &pl, &v_none, &ev) == 0 && a.len == 0);
    CHECK(key_to_json(&j, &pl, &v_none, "", 0) == 0);
    CHECK_STREQ(j.data, "{}");
    /* and its NULL (an empty LMDB key): no NULL + 0 (UBSan in make check) */
    buf_clear(&j);
    CHECK(key_to_json(&j, &pl, &v_none, NULL, 0) == 0);
    CHECK_STREQ(j.data, "{}");
    buf_reset(&a);
    buf_reset(&b);
    buf_reset(&j);
}

static void
test_key_text_bad(void)
{
    static const struct {
        int         field;
        const char *text;
        const char *err;
    } cases[] = {
        {3, "yes", "flag: expected true or false, got \"yes\""},
        {3, "True", "flag: expected true or false, got \"True\""},
        {3, "", "flag: expected true or false, got \"\""},
        {1, "", "n: expected an integer, got \"\""},
        {1, "1.5", "n: expected an integer, got \"1.5\""},
        {1, "abc", "n: expected an integer, got \"abc\""},
        {1, " 1", "n: expected an integer, got \" 1\""},
        {1, "+1", "n: expected an integer, got \"+1\""},
        {1, "1 ", "n: expected an integer, got \"1 \""},
        {1, "9223372036854775808", "n: expected an integer, got "
            "\"9223372036854775808\""},
        {2, "12.345", "amount: expected a number with at most 2 decimals, "
            "got \"12.345\""},
        {2, "x", "amount: expected a number with at most 2 decimals, "
            "got \"x\""},
        {2, "10000000000000", "amount: expected a number with at most 2 "
            "decimals, got \"10000000000000\""},
        {0, "\xff", "customer: expected UTF-8 text"},
        {0, "a\xc3", "customer: expected UTF-8 text"},
        {0, "\xc0\xaf", "customer: expected UTF-8 text"},          /* overlong */
        {0, "\xe0\x80\xaf", "customer: expected UTF-8 text"},
        {0, "\xed\xa0\x80", "customer: expected UTF-8 text"},      /* surrogate */
        {0, "\xf4\x90\x80\x80", "customer: expected UTF-8 text"},  /* > U+10FFFF */
        {0, "\x80", "customer: expected UTF-8 text"},
    };
    struct buf b;
    char err[ERR_LEN];

    buf_init(&b);
    buf_puts(&b, "keep");
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        err[0] = '\0';
        CHECK(key_encode_text(&b, &fields[cases[i].field], cases[i].text,
            err) == -1);
        CHECK_STREQ(err, cases[i].err);
        CHECK(b.len == 4);
    }
    buf_reset(&b);
}

/* Keys over KEY_MAX are refused whole, and out is left as it was. */
static void
test_key_too_long(void)
{
    char big[KEY_MAX + 8];
    struct buf b;
    char err[ERR_LEN];

    buf_init(&b);
    buf_puts(&b, "keep");
    memset(big, 'x', sizeof(big));
    big[KEY_MAX - 2] = '\0';            /* 398 bytes + 2 = KEY_MAX: fits */
    set_str(0, big);
    CHECK(key_encode_event(&b, &pl, &v_customer, &ev) == 0);
    CHECK(b.len == 4 + KEY_MAX);
    CHECK(key_encode_text(&b, &fields[0], big, err) == 0);
    CHECK(b.len == 4 + 2 * KEY_MAX);

    buf_clear(&b);
    buf_puts(&b, "keep");
    big[KEY_MAX - 2] = 'x';
    big[KEY_MAX - 1] = '\0';            /* one byte too many */
    set_str(0, big);
    CHECK(key_encode_event(&b, &pl, &v_customer, &ev) == -1);
    CHECK(key_encode_text(&b, &fields[0], big, err) == -1);
    CHECK(b.len == 4 && strcmp(b.data, "keep") == 0);
    key_reject_msg(err, &v_customer);  /* what both programs reject it with */
    CHECK_EQ_STR(err, "view c: group key longer than 400 bytes");

    /* five fields: a long customer pushes the whole key over */
    big[KEY_MAX - 12] = '\0';
    set_str(0, big);
    set_num(1, 1);
    set_num(2, 1);
    set_num(3, 1);
    set_str(4, "NL");
    CHECK(key_encode_event(&b, &pl, &v_all, &ev) == -1);
    CHECK(b.len == 4);

    /* a NUL inside a string value would make the key ambiguous */
    vals[0].present = 1;
    vals[0].str = "a\0b";
    vals[0].len = 3;
    CHECK(key_encode_event(&b, &pl, &v_customer, &ev) == -1);
    CHECK(b.len == 4);
    buf_reset(&b);
}

static void
test_key_json_bad(void)
{
    static const struct {
        const struct view *v;
        const char        *key;
        size_t             len;
    } cases[] = {
        {&v_customer, "", 0},                   /* missing component */
        {&v_customer, "\x04" "c1", 3},          /* unterminated string */
        {&v_customer, "\x04" "c1\0\0", 5},      /* trailing bytes */
        {&v_customer, "\x03\x80\0\0\0\0\0\0\0", 9},     /* int for a string */
        {&v_customer, "\x04\xff\0", 3},         /* not UTF-8 */
        {&v_n, "\x03\x80\0\0", 4},              /* short number */
        {&v_n, "\x02", 1},                      /* bool for an int */
        {&v_n, "\x05", 1},                      /* unknown tag */
        {&v_flag, "\x04" "a\0", 3},
        {&v_none, "\0", 1},
    };
    struct buf b;

    buf_init(&b);
    buf_puts(&b, "keep");
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        CHECK(key_to_json(&b, &pl, cases[i].v, cases[i].key,
            cases[i].len) == -1);
        CHECK(b.len == 4 && strcmp(b.data, "keep") == 0);
    }
    buf_reset(&b);
}

int
main(void)
{
    RUN(test_key_int_order);
    RUN(test_key_decimal_order);
    RUN(test_key_string_order);
    RUN(test_key_self_delimiting);
    RUN(test_key_text_and_json);
    RUN(test_key_text_bad);
    RUN(test_key_too_long);
    RUN(test_key_json_bad);
    return test_report();
}
