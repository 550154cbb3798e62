/* event_test.c -- unit tests for shared/event.c: parsing, reject reasons, where, rejects */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "shared/buf.h"
#include "shared/err.h"
#include "shared/event.h"
#include "shared/pipeline.h"
#include "tests/fixture.h"
#include "tests/test.h"

#define T0 "\"ts\":\"2026-11-20T13:00:00Z\""
#define T0_MS 1795179600000LL

static struct pipeline *pl, *nested;

static void
test_event_valid(void)
{
    static const char line[] = "{" T0 ",\"customer\":\"c1\",\"amount\":12.5,"
        "\"n\":-5,\"ok\":false,\"extra\":[1,{\"x\":null}],"
        "\"sentiment\":{\"score\":-0.25},\"country\":null}";
    struct event ev;
    char err[ERR_LEN] = "";

    event_init(&ev, pl);
    CHECK(ev.nvals == 6);
    CHECK(event_parse(&ev, pl, line, strlen(line), -1, err) == REJECT_NONE);
    CHECK_STREQ(err, "");
    CHECK(ev.time == T0_MS && ev.time_from_record == 0);
    CHECK(ev.root != NULL && cJSON_IsObject(ev.root));
    CHECK(ev.vals[0].present && ev.vals[0].len == 2);
    CHECK_STREQ(ev.vals[0].str, "c1");
    CHECK(!ev.vals[1].present && ev.vals[1].str == NULL);
    CHECK(ev.vals[2].present && ev.vals[2].num == 1250);
    CHECK(ev.vals[3].present && ev.vals[3].num == -5);
    CHECK(ev.vals[4].present && ev.vals[4].num == 0);
    CHECK(ev.vals[5].present && ev.vals[5].num == -250);

    /* not NUL-terminated: the length rules, trailing whitespace is fine */
    {
        char buf[128];
        const char *l2 = "{" T0 ",\"customer\":\"\xc3\xa9t\xc3\xa9\","
            "\"amount\":0,\"ok\":true} \r\n";
        size_t n = strlen(l2);
        memcpy(buf, l2, n);
        memset(buf + n, 'x', sizeof(buf) - n);
        CHECK(event_parse(&ev, pl, buf, n, -1, err) == REJECT_NONE);
        CHECK(ev.vals[0].len == 5);
        CHECK_STREQ(ev.vals[0].str, "\xc3\xa9t\xc3\xa9");
        CHECK(ev.vals[2].num == 0 && ev.vals[4].num == 1);
        CHECK(!ev.vals[3].present && !ev.vals[5].present);
    }
    /* an escaped backslash before "u0000" is not a NUL escape */
    {
        const char *l3 = "{" T0 ",\"customer\":\"a\\\\u0000\\n\","
            "\"amount\":1}";
        CHECK(event_parse(&ev, pl, l3, strlen(l3), -1, err) == REJECT_NONE);
        CHECK_STREQ(ev.vals[0].str, "a\\u0000\n");
    }
    event_reset(&ev);
    CHECK(ev.vals == NULL && ev.root == NULL);
}

static void
test_event_rejects(void)
{
    static const struct {
        const char  *line;
        size_t       len;       /* 0: strlen */
        enum reject  r;
        const char  *msg;
    } cases[] = {
        /* NUL byte, before and after bad UTF-8: NUL wins */
        {"{\"customer\":\"a\0b\"}", 18, REJECT_JSON, "NUL byte at offset 14"},
        {"{\"customer\":\"\xff\",\"x\":\"\0\"}", 25, REJECT_JSON,
            "NUL byte at offset 21"},
        {"\0", 1, REJECT_JSON, "NUL byte at offset 0"},
        /* invalid UTF-8: stray, overlong, surrogate, too big, cut */
        {"{\"customer\":\"\xff\"}", 0, REJECT_UTF8, "invalid UTF-8 at offset 13"},
        {"{\"customer\":\"\xc0\xaf\"}", 0, REJECT_UTF8,
            "invalid UTF-8 at offset 13"},
        {"{\"customer\":\"\xed\xa0\x80\"}", 0, REJECT_UTF8,
            "invalid UTF-8 at offset 13"},
        {"{\"customer\":\"\xf4\x90\x80\x80\"}", 0, REJECT_UTF8,
            "invalid UTF-8 at offset 13"},
        {"{\"customer\":\"abcdefgh\xe2\x82\"}", 0, REJECT_UTF8,
            "invalid UTF-8 at offset 21"},
        {"{\"c\":1}\xe2\x82", 0, REJECT_UTF8, "invalid UTF-8 at offset 7"},
        {"{" T0 ",\"customer\":\"a\\u0000b\",\"amount\":1}", 0, REJECT_UTF8,
            "a string holds \\u0000 (NUL)"},
        /* not JSON */
        {"", 0, REJECT_JSON, "invalid JSON at offset 0"},
        {"   ", 0, REJECT_JSON, "invalid JSON at offset 2"},
        {"{\"customer\":", 0, REJECT_JSON, "invalid JSON at offset 11"},
        {"{\"a\":1} x", 0, REJECT_JSON,
            "unexpected text after the JSON value at offset 8"},
        {"{\"a\":1}{}", 0, REJECT_JSON,
            "unexpected text after the JSON value at offset 7"},
        {"NaN", 0, REJECT_JSON, "invalid JSON at offset 0"},
        {"{" T0 ",\"customer\":\"c\",\"amount\":NaN}", 0, REJECT_JSON,
            "invalid JSON at offset 53"},
        {"{" T0 ",\"customer\":\"c\",\"amount\":Infinity}", 0, REJECT_JSON,
            "invalid JSON at offset 53"},
        {"{" T0 ",\"customer\":\"c\",\"amount\":-Infinity}", 0, REJECT_JSON,
            "invalid JSON at offset 53"},
        {"{\"customer\":\"\\ud800\"}", 0, REJECT_JSON,
            "invalid JSON at offset 13"},
        /* not an object */
        {"[1,2]", 0, REJECT_NOT_OBJECT, "expected a JSON object, got an array"},
        {"\"s\"", 0, REJECT_NOT_OBJECT, "expected a JSON object, got \"s\""},
        {"42", 0, REJECT_NOT_OBJECT, "expected a JSON object, got 42"},
        {"null", 0, REJECT_NOT_OBJECT, "expected a JSON object, got null"},
        /* missing */
        {"{" T0 ",\"amount\":1}", 0, REJECT_MISSING,
            "field \"customer\": required"},
        {"{" T0 ",\"customer\":null,\"amount\":1}", 0, REJECT_MISSING,
            "field \"customer\": required"},
        {"{" T0 ",\"customer\":\"c\"}", 0, REJECT_MISSING,
            "field \"amount\": required"},
        {"{" T0 ",\"Customer\":\"c\",\"amount\":1}", 0, REJECT_MISSING,
            "field \"customer\": required"},
        /* wrong type */
        {"{" T0 ",\"customer\":\"c\",\"amount\":\"12.5\"}", 0, REJECT_TYPE,
            "field \"amount\": expected a number, got \"12.5\""},
        {"{" T0 ",\"customer\":42,\"amount\":1}", 0, REJECT_TYPE,
            "field \"customer\": expected a string, got 42"},
        {"{" T0 ",\"customer\":[\"c\"],\"amount\":1}", 0, REJECT_TYPE,
            "field \"customer\": expected a string, got an array"},
        {"{" T0 ",\"customer\":{},\"amount\":1}", 0, REJECT_TYPE,
            "field \"customer\": expected a string, got an object"},
        {"{" T0 ",\"customer\":\"c\",\"amount\":1,\"n\":2.5}", 0, REJECT_TYPE,
            "field \"n\": expected an integer, got 2.5"},
        {"{" T0 ",\"customer\":\"c\",\"amount\":1,\"n\":true}", 0, REJECT_TYPE,
            "field \"n\": expected an integer, got true"},
        {"{" T0 ",\"customer\":\"c\",\"amount\":1,\"n\":\"3\"}", 0,
            REJECT_TYPE, "field \"n\": expected an integer, got \"3\""},
        {"{" T0 ",\"customer\":\"c\",\"amount\":1,\"ok\":1}", 0, REJECT_TYPE,
            "field \"ok\": expected true or false, got 1"},
        {"{" T0 ",\"customer\":\"c\",\"amount\":1,\"ok\":\"true\"}", 0,
            REJECT_TYPE, "field \"ok\": expected true or false, got \"true\""},
        {"{" T0 ",\"customer\":\"c\",\"amount\":false}", 0, REJECT_TYPE,
            "field \"amount\": expected a number, got false"},
        {"{" T0 ",\"customer\":\"c\",\"amount\":1,\"sentiment\":5}", 0,
            REJECT_TYPE,
            "field \"sentiment.score\": expected \"sentiment\" to be an object"},
        {"{" T0 ",\"customer\":\"0123456789012345678901234567890123456789"
            "0123456789\",\"amount\":\"x\"}", 0, REJECT_TYPE,
            "field \"amount\": expected a number, got \"x\""},
        {"{" T0 ",\"customer\":\"c\",\"amount\":\"0123456789012345678901234"
            "5678901234567890123456789\"}", 0, REJECT_TYPE,
            "field \"amount\": expected a number, got "
            "\"0123456789012345678901234567890123456789...\""},
        /* out of range */
        {"{" T0 ",\"customer\":\"c\",\"amount\":-1}", 0, REJECT_RANGE,
            "field \"amount\": expected a number >= 0, got -1"},
        {"{" T0 ",\"customer\":\"c\",\"amount\":-0.01}", 0, REJECT_RANGE,
            "field \"amount\": expected a number >= 0, got -0.01"},
        {"{" T0 ",\"customer\":\"c\",\"amount\":1,\"n\":101}", 0, REJECT_RANGE,
            "field \"n\": expected a number <= 100, got 101"},
        {"{" T0 ",\"customer\":\"c\",\"amount\":1,\"n\":-6}", 0, REJECT_RANGE,
            "field \"n\": expected a number >= -5, got -6"},
        {"{" T0 ",\"customer\":\"c\",\"amount\":1,\"n\":1e16}", 0,
            REJECT_RANGE,
            "field \"n\": expected an integer of at most 15 digits, got 1e+16"},
        {"{" T0 ",\"customer\":\"c\",\"amount\":1,\"n\":1e999}", 0,
            REJECT_RANGE, "field \"n\": expected an integer of at most 15 "
            "digits, got Infinity"},
        {"{" T0 ",\"customer\":\"c\",\"amount\":1e300}", 0, REJECT_RANGE,
            "field \"amount\": expected a number of at most 15 digits, "
            "got 1e+300"},
        {"{" T0 ",\"customer\":\"c\",\"amount\":-1e999}", 0, REJECT_RANGE,
            "field \"amount\": expected a number of at most 15 digits, "
            "got -Infinity"},
        {"{" T0 ",\"customer\":\"c\",\"amount\":1,"
            "\"sentiment\":{\"score\":1.001}}", 0, REJECT_RANGE,
            "field \"sentiment.score\": expected a number <= 1, got 1.001"},
        /* too many decimals */
        {"{" T0 ",\"customer\":\"c\",\"amount\":12.345}", 0, REJECT_SCALE,
            "field \"amount\": expected a number with at most 2 decimals, "
            "got 12.345"},
        {"{" T0 ",\"customer\":\"c\",\"amount\":0.001}", 0, REJECT_SCALE,
            "field \"amount\": expected a number with at most 2 decimals, "
            "got 0.001"},
        /* bad time */
        {"{\"customer\":\"c\",\"amount\":1}", 0, REJECT_TIME,
            "field \"ts\": required"},
        {"{\"ts\":null,\"customer\":\"c\",\"amount\":1}", 0, REJECT_TIME,
            "field \"ts\": required"},
        {"{\"ts\":\"yesterday\",\"customer\":\"c\",\"amount\":1}", 0,
            REJECT_TIME, "field \"ts\": expected an RFC 3339 time from 1970 "
            "to 9999 such as \"2026-11-20T13:00:00Z\", got \"yesterday\""},
        {"{\"ts\":\"2026-02-30T00:00:00Z\",\"customer\":\"c\",\"amount\":1}",
            0, REJECT_TIME, "field \"ts\": expected an RFC 3339 time from "
            "1970 to 9999 such as \"2026-11-20T13:00:00Z\", got "
            "\"2026-02-30T00:00:00Z\""},
        {"{\"ts\":-5,\"customer\":\"c\",\"amount\":1}", 0, REJECT_TIME,
            "field \"ts\": expected epoch seconds or milliseconds from 1970 "
            "to 9999, got -5"},
        {"{\"ts\":1e20,\"customer\":\"c\",\"amount\":1}", 0, REJECT_TIME,
            "field \"ts\": expected epoch seconds or milliseconds from 1970 "
            "to 9999, got 1e+20"},
        {"{\"ts\":true,\"customer\":\"c\",\"amount\":1}", 0, REJECT_TIME,
            "field \"ts\": expected an RFC 3339 string or an epoch number, "
            "got true"},
        /* fields are checked before the time */
        {"{\"ts\":\"never\",\"amount\":1}", 0, REJECT_MISSING,
            "field \"customer\": required"},
    };
    struct event ev;
    char err[ERR_LEN];

    event_init(&ev, pl);
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        size_t len = cases[i].len != 0 ? cases[i].len : strlen(cases[i].line);
        enum reject r;

        err[0] = '\0';
        r = event_parse(&ev, pl, cases[i].line, len, -1, err);
        if (r != cases[i].r || strcmp(err, cases[i].msg) != 0)
            printf("  case %zu: %s \"%s\", want %s \"%s\"\n", i,
                event_reject_name(r), err, event_reject_name(cases[i].r),
                cases[i].msg);
        CHECK(r == cases[i].r);
        CHECK_STREQ(err, cases[i].msg);
    }
    event_reset(&ev);
}

static void
test_event_too_large(void)
{
    size_t n = EVENT_MAX_LINE + 1;
    char *line = malloc(n), err[ERR_LEN];
    struct event ev;

    /* a valid object padded with spaces just over the limit */
    memset(line, ' ', n);
    memcpy(line, "{\"customer\":\"c\",\"amount\":1," T0 "}",
        strlen("{\"customer\":\"c\",\"amount\":1," T0 "}"));
    event_init(&ev, pl);
    CHECK(event_parse(&ev, pl, line, n, -1, err) == REJECT_TOO_LARGE);
    CHECK_STREQ(err, "line of 1048577 bytes, longer than the limit of 1048576");
    CHECK(event_parse(&ev, pl, line, n - 1, -1, err) == REJECT_NONE);
    CHECK(ev.vals[2].num == 100);
    event_reset(&ev);
    free(line);
}

/* A line whose tree outgrows the first arena block, then small lines. */
static void
test_event_arena_growth(void)
{
    struct buf b;
    struct event ev;
    char err[ERR_LEN];

    buf_init(&b);
    buf_puts(&b, "{" T0 ",\"customer\":\"big\",\"amount\":3,\"pad\":[");
    for (int i = 0; i < 50000; i++)
        buf_printf(&b, "%s{\"k%d\":\"v\"}", i > 0 ? "," : "", i);
    buf_puts(&b, "]}");
    CHECK(b.len < EVENT_MAX_LINE);
    event_init(&ev, pl);
    for (int round = 0; round < 3; round++) {
        const char *small = "{" T0 ",\"customer\":\"s\",\"amount\":0.5}";
        CHECK(event_parse(&ev, pl, b.data, b.len, -1, err) == REJECT_NONE);
        CHECK_STREQ(ev.vals[0].str, "big");
        CHECK(cJSON_GetArraySize(cJSON_GetObjectItem(ev.root, "pad")) ==
            50000);
        CHECK(event_parse(&ev, pl, small, strlen(small), -1, err) ==
            REJECT_NONE);
        CHECK_STREQ(ev.vals[0].str, "s");
        CHECK(ev.vals[2].num == 50);
    }
    event_reset(&ev);
    buf_reset(&b);

    /* cJSON outside event_parse still uses the heap, and frees it */
    {
        cJSON *j = cJSON_Parse("{\"a\":[1,2,3]}");
        char *s;
        CHECK(j != NULL);
        s = cJSON_PrintUnformatted(j);
        CHECK_STREQ(s, "{\"a\":[1,2,3]}");
        cJSON_free(s);
        cJSON_Delete(j);
    }
}

static void
test_event_time(void)
{
    static const struct {
        const char *ts;         /* JSON value of "ts" */
        int64_t     ms;
    } cases[] = {
        {"\"2026-11-20T13:00:00Z\"", T0_MS},
        {"\"2026-11-20T15:00:00+02:00\"", T0_MS},
        {"\"2026-11-20T07:30:00.250-05:30\"", T0_MS + 250},
        {"1795179600", T0_MS},
        {"1795179600.5", T0_MS + 500},
        {"1795179600123", T0_MS + 123},
        {"0", 0},
    };
    struct event ev;
    char line[256], err[ERR_LEN];

    event_init(&ev, pl);
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        snprintf(line, sizeof(line), "{\"customer\":\"c\",\"amount\":1,"
            "\"ts\":%s}", cases[i].ts);
        CHECK(event_parse(&ev, pl, line, strlen(line), 7, err) ==
            REJECT_NONE);
        if (ev.time != cases[i].ms)
            printf("  case %s: %lld\n", cases[i].ts, (long long)ev.time);
        CHECK(ev.time == cases[i].ms && ev.time_from_record == 0);
    }

    /* the fallback serves only when the time is absent or null */
    snprintf(line, sizeof(line), "{\"customer\":\"c\",\"amount\":1}");
    CHECK(event_parse(&ev, pl, line, strlen(line), 42000, err) ==
        REJECT_NONE);
    CHECK(ev.time == 42000 && ev.time_from_record == 1);
    snprintf(line, sizeof(line), "{\"customer\":\"c\",\"amount\":1,"
        "\"ts\":null}");
    CHECK(event_parse(&ev, pl, line, strlen(line), 0, err) == REJECT_NONE);
    CHECK(ev.time == 0 && ev.time_from_record == 1);
    snprintf(line, sizeof(line), "{\"customer\":\"c\",\"amount\":1,"
        "\"ts\":\"bad\"}");
    CHECK(event_parse(&ev, pl, line, strlen(line), 42000, err) ==
        REJECT_TIME);
    event_reset(&ev);
}

static void
test_event_nested(void)
{
    static const struct {
        const char  *line;
        enum reject  r;
        int64_t      id;
        const char  *country;   /* NULL: absent */
        const char  *msg;
    } cases[] = {
        {"{\"meta\":{\"at\":86400},\"user\":{\"id\":7,\"geo\":{\"country\":"
            "\"DE\"}}}", REJECT_NONE, 7, "DE", ""},
        {"{\"meta\":{\"at\":0},\"user\":{\"id\":8}}", REJECT_NONE, 8, NULL,
            ""},
        {"{\"meta\":{\"at\":0},\"user\":{\"id\":8,\"geo\":null}}",
            REJECT_NONE, 8, NULL, ""},
        {"{\"meta\":{\"at\":0},\"user\":{\"id\":8,\"geo\":\"DE\"}}",
            REJECT_TYPE, 0, NULL,
            "field \"user.geo.country\": expected \"geo\" to be an object"},
        {"{\"meta\":{\"at\":0},\"user.id\":8}", REJECT_MISSING, 0, NULL,
            "field \"user.id\": required"},
        {"{\"meta\":{\"at\":0},\"user\":null}", REJECT_MISSING, 0, NULL,
            "field \"user.id\": required"},
        {"{\"meta\":{\"at\":0},\"user\":[]}", REJECT_TYPE, 0, NULL,
            "field \"user.id\": expected \"user\" to be an object"},
        {"{\"at\":0,\"user\":{\"id\":1}}", REJECT_TIME, 0, NULL,
            "field \"meta.at\": required"},
        {"{\"meta\":5,\"user\":{\"id\":1}}", REJECT_TIME, 0, NULL,
            "field \"meta.at\": expected \"meta\" to be an object"},
    };
    struct event ev;
    char err[ERR_LEN];

    event_init(&ev, nested);
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        enum reject r;
        err[0] = '\0';
        r = event_parse(&ev, nested, cases[i].line, strlen(cases[i].line),
            -1, err);
        if (r != cases[i].r || strcmp(err, cases[i].msg) != 0)
            printf("  case %zu: %s \"%s\"\n", i, event_reject_name(r), err);
        CHECK(r == cases[i].r);
        CHECK_STREQ(err, cases[i].msg);
        if (r != REJECT_NONE || cases[i].r != REJECT_NONE)
            continue;
        CHECK(ev.vals[0].present && ev.vals[0].num == cases[i].id);
        if (cases[i].country != NULL)
            CHECK(ev.vals[1].present &&
                strcmp(ev.vals[1].str, cases[i].country) == 0);
        else
            CHECK(!ev.vals[1].present);
    }
    CHECK(event_parse(&ev, nested, cases[0].line, strlen(cases[0].line), -1,
        err) == REJECT_NONE);
    CHECK(ev.time == 86400000);
    event_reset(&ev);
}

static void
test_event_match(void)
{
    static const struct {
        const char *fields;     /* appended after T0 */
        int         all, big_eu, not_c1;
    } cases[] = {
        {"\"customer\":\"c1\",\"amount\":10,\"country\":\"DE\",\"ok\":true",
            1, 1, 0},
        {"\"customer\":\"c2\",\"amount\":100.49,\"country\":\"FR\","
            "\"ok\":true,\"n\":3", 1, 1, 1},
        {"\"customer\":\"c2\",\"amount\":100.5,\"country\":\"FR\",\"ok\":true",
            1, 0, 0},
        {"\"customer\":\"c2\",\"amount\":9.99,\"country\":\"FR\",\"ok\":true",
            1, 0, 0},
        {"\"customer\":\"c2\",\"amount\":50,\"country\":\"IT\",\"ok\":true,"
            "\"n\":0", 1, 0, 1},
        {"\"customer\":\"c2\",\"amount\":50,\"ok\":true,\"n\":4", 1, 0, 0},
        {"\"customer\":\"c2\",\"amount\":50,\"country\":\"DE\",\"ok\":false,"
            "\"n\":-1", 1, 0, 0},
        {"\"customer\":\"c2\",\"amount\":50,\"country\":\"DE\",\"n\":1",
            1, 0, 1},
        {"\"customer\":\"c10\",\"amount\":50,\"country\":\"de\",\"ok\":true,"
            "\"n\":2", 1, 0, 1},
    };
    const struct view *all = pipeline_view(pl, "all");
    const struct view *big_eu = pipeline_view(pl, "big_eu");
    const struct view *not_c1 = pipeline_view(pl, "not_c1");
    struct event ev;
    char line[256], err[ERR_LEN];

    if (all == NULL || big_eu == NULL || not_c1 == NULL) {
        CHECK(0);
        return;
    }
    event_init(&ev, pl);
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        snprintf(line, sizeof(line), "{" T0 ",%s}", cases[i].fields);
        CHECK(event_parse(&ev, pl, line, strlen(line), -1, err) ==
            REJECT_NONE);
        if (event_match(&ev, big_eu) != cases[i].big_eu ||
            event_match(&ev, not_c1) != cases[i].not_c1)
            printf("  case %zu: big_eu %d not_c1 %d\n", i,
                event_match(&ev, big_eu), event_match(&ev, not_c1));
        CHECK(event_match(&ev, all) == cases[i].all);
        CHECK(event_match(&ev, big_eu) == cases[i].big_eu);
        CHECK(event_match(&ev, not_c1) == cases[i].not_c1);
    }
    event_reset(&ev);
}

static void
test_event_reject_fields(void)
{
    static const struct {
        enum reject  r;
        const char  *msg;
        const char  *raw;
        size_t       rawlen;
        const char  *want;
    } cases[] = {
        {REJECT_MISSING, "field \"customer\": required", "{\"a\":1}", 7,
            "\"reason\":\"missing_field\",\"message\":\"field \\\"customer\\\": "
            "required\",\"raw\":\"{\\\"a\\\":1}\""},
        {REJECT_UTF8, "invalid UTF-8 at offset 1", "a\xff\xc3\xa9\xe2\x82z", 7,
            "\"reason\":\"invalid_utf8\",\"message\":\"invalid UTF-8 at offset "
            "1\",\"raw\":\"a\xef\xbf\xbd\xc3\xa9\xef\xbf\xbd\xef\xbf\xbdz\""},
        {REJECT_JSON, "NUL byte at offset 1", "a\0\tb", 4,
            "\"reason\":\"invalid_json\",\"message\":\"NUL byte at offset 1\","
            "\"raw\":\"a\\u0000\\tb\""},
        {REJECT_LATE, "", "", 0,
            "\"reason\":\"late\",\"message\":\"\",\"raw\":\"\""},
    };
    struct buf b;

    buf_init(&b);
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        buf_clear(&b);
        event_reject_fields(&b, cases[i].r, cases[i].msg, cases[i].raw,
            cases[i].rawlen);
        CHECK_STREQ(b.data, cases[i].want);
    }

    /* a long raw line is cut at EVENT_RAW_MAX bytes, never inside a
     * character, and the record stays valid JSON */
    {
        char raw[EVENT_RAW_MAX + 100];
        cJSON *j;
        memset(raw, 'x', sizeof(raw));
        memcpy(raw + EVENT_RAW_MAX - 1, "\xc3\xa9", 2);   /* straddles */
        buf_clear(&b);
        buf_putc(&b, '{');
        event_reject_fields(&b, REJECT_TOO_LARGE, "big", raw, sizeof(raw));
        buf_putc(&b, '}');
        j = cJSON_Parse(b.data);
        CHECK(j != NULL);
        if (j != NULL) {
            const char *s = cJSON_GetObjectItem(j, "raw")->valuestring;
            CHECK(strlen(s) == EVENT_RAW_MAX - 1);
            CHECK(s[EVENT_RAW_MAX - 2] == 'x');
            cJSON_Delete(j);
        }
    }
    buf_reset(&b);

    CHECK_STREQ(event_reject_name(REJECT_NONE), "none");
    CHECK_STREQ(event_reject_name(REJECT_JSON), "invalid_json");
    CHECK_STREQ(event_reject_name(REJECT_UTF8), "invalid_utf8");
    CHECK_STREQ(event_reject_name(REJECT_NOT_OBJECT), "not_object");
    CHECK_STREQ(event_reject_name(REJECT_MISSING), "missing_field");
    CHECK_STREQ(event_reject_name(REJECT_TYPE), "wrong_type");
    CHECK_STREQ(event_reject_name(REJECT_RANGE), "out_of_range");
    CHECK_STREQ(event_reject_name(REJECT_SCALE), "too_many_decimals");
    CHECK_STREQ(event_reject_name(REJECT_TIME), "bad_time");
    CHECK_STREQ(event_reject_name(REJECT_TOO_LARGE), "too_large");
    CHECK_STREQ(event_reject_name(REJECT_LATE), "late");
    CHECK_STREQ(event_reject_name(REJECT_NREASONS), "unknown");
}

/* Threads parse at once, each in its own arena. */
static void *
parse_many(void *arg)
{
    long id = (long)(intptr_t)arg, bad = 0;
    struct event ev;
    char line[160], want[32], err[ERR_LEN];

    event_init(&ev, pl);
    for (int i = 0; i < 20000; i++) {
        snprintf(want, sizeof(want), "t%ld-%d", id, i);
        snprintf(line, sizeof(line), "{" T0 ",\"customer\":\"%s\","
            "\"amount\":%d.25,\"n\":%d}", want, i, i % 100);
        if (event_parse(&ev, pl, line, strlen(line), -1, err) !=
            REJECT_NONE || strcmp(ev.vals[0].str, want) != 0 ||
            ev.vals[2].num != (int64_t)i * 100 + 25 ||
            ev.vals[3].num != i % 100)
            bad++;
    }
    event_reset(&ev);
    return (void *)(intptr_t)bad;
}

static void
test_event_threads(void)
{
    pthread_t t[3];
    void *bad;

    for (long i = 0; i < 3; i++)
        CHECK(pthread_create(&t[i], NULL, parse_many, (void *)(intptr_t)i) ==
            0);
    for (int i = 0; i < 3; i++) {
        CHECK(pthread_join(t[i], &bad) == 0);
        CHECK(bad == NULL);
    }
}

/* If someone replaces the hooks, trees come from the heap and are freed. */
static void
test_event_foreign_hooks(void)
{
    const char *line = "{" T0 ",\"customer\":\"h\",\"amount\":2}";
    struct event ev;
    char err[ERR_LEN];

    cJSON_InitHooks(NULL);
    event_init(&ev, pl);
    for (int i = 0; i < 3; i++) {
        CHECK(event_parse(&ev, pl, line, strlen(line), -1, err) ==
            REJECT_NONE);
        CHECK_STREQ(ev.vals[0].str, "h");
    }
    CHECK(event_parse(&ev, pl, "{\"a\":1} x", 9, -1, err) == REJECT_JSON);
    event_reset(&ev);
}

/*
 * Parse {T0,PREFIX FIELDS} for p into ev; check the reason and, unless msg
 * is NULL, the message. Returns the reason.
 */
static enum reject
parse_case(struct event *ev, const struct pipeline *p, const char *prefix,
    const char *fields, enum reject want, const char *msg)
{
    char line[256], err[ERR_LEN] = "";
    enum reject r;

    snprintf(line, sizeof(line), "{" T0 ",%s%s}", prefix, fields);
    r = event_parse(ev, p, line, strlen(line), -1, err);
    if (r != want || (msg != NULL && strcmp(err, msg) != 0))
        printf("  %s: %s \"%s\"\n", fields, event_reject_name(r), err);
    CHECK(r == want);
    if (msg != NULL)
        CHECK_STREQ(err, msg);
    return r;
}

/* Floats and rounded decimals: the number as written, half to even. */
static void
test_event_float(void)
{
    static const struct {
        const char  *line;      /* after the time */
        enum reject  r;
        int          field;     /* seed.json: 1 last, 2 score, 3 amount */
        int64_t      num;
        const char  *msg;
    } cases[] = {
        {"\"last\":43123.12345678", REJECT_NONE, 1, 43123123457LL, NULL},
        {"\"last\":0.734523", REJECT_NONE, 1, 734523, NULL},
        {"\"last\":21.337", REJECT_NONE, 1, 21337000, NULL},
        {"\"last\":1.5e-7", REJECT_NONE, 1, 0, NULL},
        {"\"last\":1.5E-6", REJECT_NONE, 1, 2, NULL},
        {"\"last\":-0.0", REJECT_NONE, 1, 0, NULL},
        {"\"last\":9e12", REJECT_NONE, 1, 9000000000000000000LL, NULL},
        {"\"last\":-9223372036854.775807", REJECT_NONE, 1, -INT64_MAX,
            NULL},
        /* beyond a double: the text decides */
        {"\"last\":0.1234565000000000001", REJECT_NONE, 1, 123457, NULL},
        {"\"last\":0.1234565", REJECT_NONE, 1, 123456, NULL},
        /* numbers before it, in arrays, objects and strings */
        {"\"x\":[1.25,{\"y\":-2e3}],\"s\":\"7 -8 9e9\",\"last\":7.0000015",
            REJECT_NONE, 1, 7000002, NULL},
        /* a duplicate key: the first counts, as for every field */
        {"\"last\":2.0000005,\"last\":3", REJECT_NONE, 1, 2000000, NULL},
        {"\"last\":1,\"score\":0.125", REJECT_NONE, 2, 12, NULL},
        {"\"last\":1,\"score\":0.135", REJECT_NONE, 2, 14, NULL},
        {"\"last\":1,\"amount\":12.345", REJECT_NONE, 3, 1234, NULL},
        {"\"last\":1,\"amount\":12.355", REJECT_NONE, 3, 1236, NULL},
        {"\"last\":1e20", REJECT_RANGE, 1, 0, "field \"last\": expected a "
            "number from -9223372036854.775807 to 9223372036854.775807, "
            "got 1e20"},
        {"\"last\":9223372036854.7758075", REJECT_RANGE, 1, 0, NULL},
        {"\"last\":1,\"score\":1e17", REJECT_RANGE, 2, 0, "field \"score\": "
            "expected a number from -92233720368547758.07 to "
            "92233720368547758.07, got 1e17"},
        {"\"last\":\"1.5\"", REJECT_TYPE, 1, 0, "field \"last\": expected a "
            "number, got \"1.5\""},
        {"\"last\":null", REJECT_MISSING, 1, 0, "field \"last\": required"},
        /* bounds apply to the rounded value */
        {"\"last\":1,\"temp\":60.5000004", REJECT_NONE, 4, 60500000, NULL},
        {"\"last\":1,\"temp\":60.5000005", REJECT_NONE, 4, 60500000, NULL},
        {"\"last\":1,\"temp\":60.5000015", REJECT_RANGE, 4, 0,
            "field \"temp\": expected a number <= 60.5, got 60.5000015"},
    };
    struct pipeline *p = load_fixture("seed.json");
    struct event ev;

    event_init(&ev, p);
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const struct event_value *v = &ev.vals[cases[i].field];

        if (parse_case(&ev, p, "\"pair\":\"BTC/USD\",", cases[i].line,
            cases[i].r, cases[i].msg) != REJECT_NONE)
            continue;
        if (v->num != cases[i].num)
            printf("  %s: got %lld\n", cases[i].line, (long long)v->num);
        CHECK(v->present && v->num == cases[i].num);
    }
    event_reset(&ev);
    pipeline_free(p);
}

/* Arrays: every element typed, a reject names the element. */
static void
test_event_array(void)
{
    static const struct {
        const char  *line;      /* after the time, pair and last */
        enum reject  r;
        int          n;         /* tags: elements, -1 absent */
        const char  *msg;
    } cases[] = {
        {"\"tags\":[\"btc\",\"eth\",\"btc\"]", REJECT_NONE, 3, NULL},
        {"\"tags\":[]", REJECT_NONE, 0, NULL},
        {"\"x\":1", REJECT_NONE, -1, NULL},
        {"\"tags\":null", REJECT_NONE, -1, NULL},
        {"\"tags\":[\"btc\",5]", REJECT_TYPE, 0, "field \"tags[1]\": "
            "expected a string, got 5"},
        {"\"tags\":[\"btc\",null]", REJECT_TYPE, 0, "field \"tags[1]\": "
            "expected a string, got null"},
        {"\"tags\":\"btc\"", REJECT_TYPE, 0, "field \"tags\": expected an "
            "array, got \"btc\""},
        {"\"levels\":[0.25,0.35,2e1]", REJECT_NONE, -1, NULL},
        {"\"levels\":[1,-0.5]", REJECT_RANGE, -1, "field \"levels[1]\": "
            "expected a number >= 0, got -0.5"},
        {"\"levels\":[1,\"2\"]", REJECT_TYPE, -1, "field \"levels[1]\": "
            "expected a number, got \"2\""},
    };
    struct pipeline *p = load_fixture("seed.json");
    char line[256], err[ERR_LEN];
    struct event ev;

    event_init(&ev, p);
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        if (parse_case(&ev, p, "\"pair\":\"p\",\"last\":1,", cases[i].line,
            cases[i].r, cases[i].msg) != REJECT_NONE)
            continue;
        CHECK(ev.vals[5].present == (cases[i].n >= 0));
        CHECK(ev.vals[5].nelems == (cases[i].n > 0 ? cases[i].n : 0));
    }
    /* the values: strings, and floats rounded at the scale */
    snprintf(line, sizeof(line), "{" T0 ",\"pair\":\"p\",\"last\":1,"
        "\"tags\":[\"btc\",\"\u00e9th\"],\"levels\":[0.25,0.35,2e1]}");
    CHECK(event_parse(&ev, p, line, strlen(line), -1, err) == REJECT_NONE);
    CHECK(ev.vals[5].nelems == 2 && ev.vals[5].elems[1].present);
    CHECK_STREQ(ev.vals[5].elems[0].str, "btc");
    CHECK_STREQ(ev.vals[5].elems[1].str, "\xc3\xa9th");
    CHECK(ev.vals[5].elems[1].len == 4);
    CHECK(ev.vals[6].nelems == 3 && ev.vals[6].elems[0].num == 2 &&
        ev.vals[6].elems[1].num == 4 && ev.vals[6].elems[2].num == 200);
    event_reset(&ev);
    pipeline_free(p);
}

int
main(void)
{
    pl = load_fixture("events.json");
    nested = load_fixture("nested.json");
    RUN(test_event_valid);
    RUN(test_event_rejects);
    RUN(test_event_too_large);
    RUN(test_event_arena_growth);
    RUN(test_event_time);
    RUN(test_event_nested);
    RUN(test_event_match);
    RUN(test_event_float);
    RUN(test_event_array);
    RUN(test_event_reject_fields);
    RUN(test_event_threads);
    RUN(test_event_foreign_hooks);      /* last: it changes cJSON's hooks */
    pipeline_free(pl);
    pipeline_free(nested);
    return test_report();
}
