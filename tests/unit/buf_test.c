/* buf_test.c -- unit tests for shared/buf.c: growth, NUL termination, JSON strings */
#include <stdlib.h>
#include <string.h>

#include "shared/buf.h"
#include "tests/test.h"

static void
test_buf_append(void)
{
    struct buf b;

    buf_init(&b);
    CHECK(b.data == NULL && b.len == 0);
    buf_clear(&b);                      /* no-op on an empty buffer */
    CHECK(b.data == NULL);
    buf_puts(&b, "ab");
    buf_putc(&b, 'c');
    buf_append(&b, "d\0e", 3);
    CHECK(b.len == 6 && memcmp(b.data, "abcd\0e", 6) == 0);
    CHECK(b.data[b.len] == '\0');
    buf_append(&b, NULL, 0);
    CHECK(b.len == 6);
    buf_printf(&b, "%d-%s", 42, "x");
    CHECK(b.len == 10 && memcmp(b.data + 6, "42-x", 5) == 0);

    /* growth keeps contents and the terminator */
    buf_clear(&b);
    CHECK(b.len == 0 && b.data[0] == '\0');
    for (int i = 0; i < 10000; i++)
        buf_putc(&b, 'a' + i % 26);
    CHECK(b.len == 10000 && b.cap > 10000 && b.data[10000] == '\0');
    int bad = 0;
    for (int i = 0; i < 10000; i++)
        bad += b.data[i] != 'a' + i % 26;
    CHECK(bad == 0);
    buf_reset(&b);
    CHECK(b.data == NULL && b.len == 0 && b.cap == 0);
}

/* buf_printf output longer than the first reservation */
static void
test_buf_printf_long(void)
{
    struct buf b;
    char big[1000];

    memset(big, 'z', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    buf_init(&b);
    buf_puts(&b, "<");
    buf_printf(&b, "%s|%s", big, big);
    CHECK(b.len == 1 + 999 * 2 + 1);
    CHECK(b.data[0] == '<' && b.data[1000] == '|' && b.data[1999] == 'z');
    CHECK(b.data[b.len] == '\0' && strlen(b.data) == b.len);
    buf_reset(&b);
}

static void
test_buf_json_string(void)
{
    static const struct {
        const char *in;
        size_t      n;
        const char *out;
    } cases[] = {
        {"", 0, "\"\""},
        {"abc", 3, "\"abc\""},
        {"a\"b\\c", 5, "\"a\\\"b\\\\c\""},
        {"\n\r\t\b\f", 5, "\"\\n\\r\\t\\b\\f\""},
        {"\x01\x1f", 2, "\"\\u0001\\u001f\""},
        {"a\0b", 3, "\"a\\u0000b\""},
        {"/\x7f", 2, "\"/\x7f\""},
        {"\xc3\xa9\xe2\x82\xac", 5, "\"\xc3\xa9\xe2\x82\xac\""},
    };
    struct buf b;

    buf_init(&b);
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        buf_clear(&b);
        buf_put_json_string(&b, cases[i].in, cases[i].n);
        CHECK_STREQ(b.data, cases[i].out);
    }
    buf_reset(&b);
}

static void
test_buf_steal(void)
{
    struct buf b;
    char *s;

    buf_init(&b);
    CHECK(buf_steal(&b) == NULL);
    buf_puts(&b, "hello");
    s = buf_steal(&b);
    CHECK_STREQ(s, "hello");
    CHECK(b.data == NULL && b.len == 0 && b.cap == 0);
    free(s);
    buf_puts(&b, "again");              /* still usable */
    CHECK_STREQ(b.data, "again");
    buf_reset(&b);
}

static void
test_buf_put_int(void)
{
    struct buf b;

    buf_init(&b);
    buf_put_i64(&b, 0);
    buf_putc(&b, ' ');
    buf_put_i64(&b, -7);
    buf_putc(&b, ' ');
    buf_put_i64(&b, INT64_MIN);
    buf_putc(&b, ' ');
    buf_put_i64(&b, INT64_MAX);
    buf_putc(&b, ' ');
    buf_put_u64(&b, UINT64_MAX);
    CHECK_STREQ(b.data, "0 -7 -9223372036854775808 9223372036854775807 "
        "18446744073709551615");
    buf_reset(&b);
}

int
main(void)
{
    RUN(test_buf_append);
    RUN(test_buf_printf_long);
    RUN(test_buf_json_string);
    RUN(test_buf_steal);
    RUN(test_buf_put_int);
    return test_report();
}
