/* timeshift_test.c -- moving event times by whole days in raw JSON text */
#include <stdint.h>
#include <string.h>

#include "shared/buf.h"
#include "shared/timeshift.h"
#include "shared/ts.h"
#include "tests/test.h"

static const struct {
    const char *in, *key;
    int64_t     days;
    const char *want;
    size_t      found;
} cases[] = {
    /* RFC 3339: only the date moves, offsets and fractions stay */
    {"{\"ts\": \"2026-11-19T10:00:00Z\", \"a\": 12.50}", "ts", 3,
     "{\"ts\": \"2026-11-22T10:00:00Z\", \"a\": 12.50}", 1},
    {"{\"a\":1,\"ts\":\"2026-11-30T23:59:59.999+01:00\"}", "ts", 1,
     "{\"a\":1,\"ts\":\"2026-12-01T23:59:59.999+01:00\"}", 1},
    {"{\"ts\":\"2024-02-28T00:00:00Z\"}", "ts", 1,
     "{\"ts\":\"2024-02-29T00:00:00Z\"}", 1},
    {"{\"ts\":\"2026-01-01T00:00:00Z\"}", "ts", -1,
     "{\"ts\":\"2025-12-31T00:00:00Z\"}", 1},
    /* epoch milliseconds and seconds, fractions kept as written */
    {"{\"ts\": 1795161600397}", "ts", 2, "{\"ts\": 1795334400397}", 1},
    {"{\"ts\":1763546400.25,\"x\":0}", "ts", 1,
     "{\"ts\":1763632800.25,\"x\":0}", 1},
    {"{\"ts\":1.7951616e12}", "ts", 1, "{\"ts\":1795248000000}", 1},
    /* every object of a JSON array, pretty-printed too */
    {"[{\"ts\":\"2026-11-19T00:00:00Z\"},\n {\n  \"n\": 1,\n  \"ts\" : "
     "\"2026-11-18T00:00:00Z\"}]", "ts", 10,
     "[{\"ts\":\"2026-11-29T00:00:00Z\"},\n {\n  \"n\": 1,\n  \"ts\" : "
     "\"2026-11-28T00:00:00Z\"}]", 2},
    /* not times: kept byte for byte (the data set's rejects) */
    {"{\"ts\": \"yesterday\"}", "ts", 5, "{\"ts\": \"yesterday\"}", 0},
    {"{\"ts\": \"2026-02-30T00:00:00Z\"}", "ts", 5,
     "{\"ts\": \"2026-02-30T00:00:00Z\"}", 0},
    {"{\"ts\": -5}", "ts", 5, "{\"ts\": -5}", 0},
    {"{\"customer\": \"Ali\", \"amount\": 50", "ts", 5,
     "{\"customer\": \"Ali\", \"amount\": 50", 0},
    {"{\"note\": \"ts\", \"tss\": \"2026-11-19T00:00:00Z\"}", "ts", 5,
     "{\"note\": \"ts\", \"tss\": \"2026-11-19T00:00:00Z\"}", 0},
    /* a value that is the key's text is no key */
    {"{\"a\": \"ts\", \"b\": 1}", "ts", 5, "{\"a\": \"ts\", \"b\": 1}", 0},
    /* a move out of range leaves the time as it was */
    {"{\"ts\":\"9999-12-31T00:00:00Z\"}", "ts", 1,
     "{\"ts\":\"9999-12-31T00:00:00Z\"}", 1},
    /* a dotted event.time names its last part */
    {"{\"meta\":{\"at\":\"2026-11-19T00:00:00Z\"}}", "at", 1,
     "{\"meta\":{\"at\":\"2026-11-20T00:00:00Z\"}}", 1},
};

static void
test_text(void)
{
    struct buf out;

    buf_init(&out);
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        int64_t max = INT64_MIN;
        size_t n;

        buf_clear(&out);
        n = timeshift_text(cases[i].in, strlen(cases[i].in), cases[i].key,
            cases[i].days, &out, &max);
        buf_putc(&out, '\0');
        CHECK_STREQ(out.data, cases[i].want);
        if (n != cases[i].found)
            printf("case %zu: found %zu, want %zu\n", i, n, cases[i].found);
        CHECK(n == cases[i].found);
        CHECK((n == 0) == (max == INT64_MIN));
    }
    buf_reset(&out);
}

static void
test_max(void)
{
    const char *s = "{\"ts\":\"2026-11-19T10:00:00+02:00\"}\n"
        "{\"ts\":1795132800000}\n{\"ts\":\"2026-11-19T09:00:00Z\"}\n";
    int64_t max = INT64_MIN, want;

    /* the latest in UTC, whatever the notation; nothing is written */
    CHECK(timeshift_text(s, strlen(s), "ts", 0, NULL, &max) == 3);
    CHECK(ts_parse("2026-11-20T00:00:00Z", 20, &want) == 0);
    CHECK(max == want);
    /* it only ever raises what the caller had */
    max = want + 1;
    CHECK(timeshift_text(s, strlen(s), "ts", 0, NULL, &max) == 3);
    CHECK(max == want + 1);
}

static void
test_name(void)
{
    char a[] = "2026-11-19.jsonl", b[] = "rides-2026-11-30.jsonl.gz";
    char c[] = "transactions.json", d[] = "v2026-13-01-2026-01-01.json";

    CHECK(timeshift_name(a, 13) == 1);
    CHECK_STREQ(a, "2026-12-02.jsonl");
    CHECK(timeshift_name(b, 1) == 1);
    CHECK_STREQ(b, "rides-2026-12-01.jsonl.gz");
    CHECK(timeshift_name(c, 1) == 0);
    CHECK_STREQ(c, "transactions.json");
    /* the first valid date moves; month 13 is none */
    CHECK(timeshift_name(d, -1) == 1);
    CHECK_STREQ(d, "v2026-13-01-2025-12-31.json");
}

int
main(void)
{
    RUN(test_text);
    RUN(test_max);
    RUN(test_name);
    return test_report();
}
