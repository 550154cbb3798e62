/* ts_test.c -- unit tests for shared/ts.c: RFC 3339, epochs, durations, buckets */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "shared/ts.h"
#include "tests/test.h"

static void
test_ts_parse_good(void)
{
    static const struct {
        const char *in;
        int64_t     ms;
    } cases[] = {
        {"1970-01-01T00:00:00Z", 0},
        {"1970-01-01T00:00:00.001Z", 1},
        {"2026-11-20T13:00:00Z", 1795179600000LL},
        {"2026-11-20t13:00:00z", 1795179600000LL},
        {"2026-11-20 13:00:00Z", 1795179600000LL},
        {"2026-11-20T13:00:00.5Z", 1795179600500LL},
        {"2026-11-20T13:00:00.12Z", 1795179600120LL},
        {"2026-11-20T13:00:00.123Z", 1795179600123LL},
        {"2026-11-20T13:00:00.123999999Z", 1795179600123LL},
        {"2026-11-20T15:00:00+02:00", 1795179600000LL},
        {"2026-11-20T07:30:00-05:30", 1795179600000LL},
        {"2026-11-20T13:00:00-00:00", 1795179600000LL},
        {"2026-11-20T13:00:00+00:00", 1795179600000LL},
        {"1969-12-31T23:00:00-01:00", 0},
        {"2000-02-29T00:00:00Z", 951782400000LL},
        {"2024-02-29T12:00:00Z", 1709208000000LL},
        {"2026-12-31T23:59:59.999Z", 1798761599999LL},
        {"9999-12-31T23:59:59.999Z", TS_MAX},
        {"2026-01-01T00:00:00.000000000000000000001Z", 1767225600000LL},
    };

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        int64_t ms = -42;
        int rc = ts_parse(cases[i].in, strlen(cases[i].in), &ms);
        if (rc != 0 || ms != cases[i].ms)
            printf("  case %s: rc %d ms %lld\n", cases[i].in, rc,
                (long long)ms);
        CHECK(rc == 0 && ms == cases[i].ms);
    }
}

static void
test_ts_parse_bad(void)
{
    static const char *const cases[] = {
        "",
        "2026-11-20",
        "2026-11-20T13:00:00",          /* missing offset */
        "2026-11-20T13:00Z",
        "2026-11-20T13:00:00ZZ",        /* trailing junk */
        "2026-11-20T13:00:00Z ",
        "2026-11-20T13:00:00+02:00x",
        "2026-11-20T13:00:00+0200",
        "2026-11-20T13:00:00+02",
        "2026-11-20T13:00:00+24:00",
        "2026-11-20T13:00:00+02:60",
        "2026-02-30T00:00:00Z",
        "2026-02-29T00:00:00Z",         /* not a leap year */
        "1900-02-29T00:00:00Z",         /* century, not leap */
        "2026-04-31T00:00:00Z",
        "2026-00-10T00:00:00Z",
        "2026-13-10T00:00:00Z",
        "2026-11-00T00:00:00Z",
        "2026-11-20T25:00:00Z",
        "2026-11-20T24:00:00Z",
        "2026-11-20T13:60:00Z",
        "2026-11-20T13:00:60Z",         /* leap seconds are not accepted */
        "2026-11-20T13:00:00.Z",
        "2026-11-20T13:00:00,5Z",
        "2026-11-20X13:00:00Z",
        "2026/11/20T13:00:00Z",
        "26-11-20T13:00:00Z",
        "+2026-11-20T13:00:00Z",
        "2026-1a-20T13:00:00Z",
        "2026-11-20T1:00:00Z",
        "1969-12-31T23:59:59.999Z",     /* before TS_MIN */
        "1970-01-01T00:30:00+01:00",
        "9999-12-31T23:59:59Z-",
        "9999-12-31T23:30:00-01:00",    /* after TS_MAX */
    };

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        int64_t ms = -42;
        int rc = ts_parse(cases[i], strlen(cases[i]), &ms);
        if (rc != -1 || ms != -42)
            printf("  case \"%s\" accepted as %lld\n", cases[i],
                (long long)ms);
        CHECK(rc == -1 && ms == -42);
    }
}

/* ts_parse reads exactly len bytes: a longer string cut at len is accepted,
 * and a valid prefix of a longer buffer is not enough. */
static void
test_ts_parse_len(void)
{
    const char *s = "2026-11-20T13:00:00Zgarbage";
    int64_t ms;

    CHECK(ts_parse(s, 20, &ms) == 0 && ms == 1795179600000LL);
    CHECK(ts_parse(s, 21, &ms) == -1);
    CHECK(ts_parse(s, 19, &ms) == -1);
}

/* Every day from 1970 to 2100 against timegm(), the reference we avoid on
 * the hot path; then random times round-trip through format and parse. */
static void
test_ts_against_timegm(void)
{
    char buf[TS_BUFSZ];
    int bad = 0;

    for (int64_t day = 0; day < 47847 && bad < 5; day++) {
        time_t t = (time_t)(day * 86400 + 3723);
        struct tm tm;
        int64_t ms;

        (void)gmtime_r(&t, &tm);
        snprintf(buf, sizeof(buf), "%04d-%02d-%02dT%02d:%02d:%02dZ",
            (tm.tm_year + 1900) % 10000, (tm.tm_mon + 1) % 100,
            tm.tm_mday % 100, tm.tm_hour % 100, tm.tm_min % 100,
            tm.tm_sec % 100);
        if (ts_parse(buf, strlen(buf), &ms) != 0 || ms != (int64_t)t * 1000) {
            printf("  %s: day %lld\n", buf, (long long)day);
            bad++;
        }
        char out[TS_BUFSZ];
        if (strcmp(ts_format((int64_t)t * 1000, out, sizeof(out)), buf) != 0) {
            printf("  format %lld: %s vs %s\n", (long long)t, out, buf);
            bad++;
        }
    }
    CHECK(bad == 0);

    srand(7);
    for (int i = 0; i < 100000 && bad < 5; i++) {
        int64_t t = (((int64_t)rand() << 31) ^ rand()) % (TS_MAX + 1);
        int64_t back;

        ts_format(t, buf, sizeof(buf));
        if (ts_parse(buf, strlen(buf), &back) != 0 || back != t) {
            printf("  round trip %lld: %s\n", (long long)t, buf);
            bad++;
        }
    }
    CHECK(bad == 0);
}

static void
test_ts_format(void)
{
    static const struct {
        int64_t     ms;
        const char *out;
    } cases[] = {
        {0, "1970-01-01T00:00:00Z"},
        {1, "1970-01-01T00:00:00.001Z"},
        {1795179600000LL, "2026-11-20T13:00:00Z"},
        {1795179600123LL, "2026-11-20T13:00:00.123Z"},
        {1795179600500LL, "2026-11-20T13:00:00.500Z"},
        {TS_MAX, "9999-12-31T23:59:59.999Z"},
        {-1, "1969-12-31T23:59:59.999Z"},
        {-86400000LL, "1969-12-31T00:00:00Z"},
        {951782400000LL, "2000-02-29T00:00:00Z"},
    };
    char buf[TS_BUFSZ];

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
        CHECK_STREQ(ts_format(cases[i].ms, buf, sizeof(buf)), cases[i].out);
}

static void
test_ts_from_number(void)
{
    static const struct {
        double  d;
        int     rc;
        int64_t ms;
    } cases[] = {
        {0, 0, 0},
        {1, 0, 1000},
        {1.5, 0, 1500},
        {1763643600, 0, 1763643600000LL},
        {1763643600.123, 0, 1763643600123LL},
        {1763643600.001, 0, 1763643600001LL},
        {1763643600.999, 0, 1763643600999LL},
        {1763643600.1239, 0, 1763643600123LL},  /* truncated to ms */
        {99999999999.0, 0, 99999999999000LL},   /* just below 1e11: seconds */
        {1e11, 0, 100000000000LL},                 /* from 1e11 on: ms */
        {1763643600123.0, 0, 1763643600123LL},
        {1763643600123.7, 0, 1763643600123LL},
        {(double)TS_MAX, 0, TS_MAX},
        {(double)TS_MAX + 1, -1, 0},
        {-1, -1, 0},
        {-0.5, -1, 0},
        {-1e12, -1, 0},
        {1e300, -1, 0},
        {NAN, -1, 0},
        {INFINITY, -1, 0},
        {-INFINITY, -1, 0},
    };

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        int64_t ms = 0;
        int rc = ts_from_number(cases[i].d, &ms);
        if (rc != cases[i].rc || ms != cases[i].ms)
            printf("  case %.17g: rc %d ms %lld\n", cases[i].d, rc,
                (long long)ms);
        CHECK(rc == cases[i].rc && ms == cases[i].ms);
    }

    /* every millisecond fraction of a typical epoch second survives */
    int bad = 0;
    for (int f = 0; f < 1000; f++) {
        char txt[32];
        int64_t ms;

        snprintf(txt, sizeof(txt), "1763643600.%03d", f);
        if (ts_from_number(strtod(txt, NULL), &ms) != 0 ||
            ms != 1763643600000LL + f)
            bad++;
    }
    CHECK(bad == 0);
}

static void
test_ts_param_parse(void)
{
    static const struct {
        const char *in;
        int         rc;
        int64_t     ms;
    } cases[] = {
        {"1763643600", 0, 1763643600000LL},
        {"0", 0, 0},
        {"2026-11-20T13:00:00Z", 0, 1795179600000LL},
        {"2026-11-20T15:00:00+02:00", 0, 1795179600000LL},
        {"253402300799", 0, 253402300799000LL},
        {"253402300800", -1, 0},
        {"99999999999999999999999", -1, 0},
        {"", -1, 0},
        {"-1", -1, 0},
        {"+1", -1, 0},
        {"1.5", -1, 0},
        {"12x", -1, 0},
        {" 12", -1, 0},
        {"2026-11-20", -1, 0},
        {"2026-11-20T13:00:00", -1, 0},
    };

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        int64_t ms = 0;
        int rc = ts_param_parse(cases[i].in, &ms);
        if (rc != cases[i].rc || ms != cases[i].ms)
            printf("  case \"%s\": rc %d ms %lld\n", cases[i].in, rc,
                (long long)ms);
        CHECK(rc == cases[i].rc && ms == cases[i].ms);
    }
}

static void
test_ts_duration(void)
{
    static const struct {
        const char *in;
        int         rc;
        int64_t     ms;
        const char *out;        /* ts_duration_format of ms */
    } cases[] = {
        {"250ms", 0, 250, "250ms"},
        {"1s", 0, 1000, "1s"},
        {"90s", 0, 90000, "90s"},
        {"10m", 0, 600000, "10m"},
        {"60m", 0, 3600000, "1h"},
        {"1h", 0, 3600000, "1h"},
        {"1d", 0, 86400000, "1d"},
        {"24h", 0, 86400000, "1d"},
        {"1500ms", 0, 1500, "1500ms"},
        {"0s", -1, 0, NULL},
        {"0ms", -1, 0, NULL},
        {"-1m", -1, 0, NULL},
        {"+1m", -1, 0, NULL},
        {"1x", -1, 0, NULL},
        {"1 s", -1, 0, NULL},
        {"1S", -1, 0, NULL},
        {"1sec", -1, 0, NULL},
        {"", -1, 0, NULL},
        {"10", -1, 0, NULL},
        {"s", -1, 0, NULL},
        {"1.5s", -1, 0, NULL},
        {"99999999999999999999ms", -1, 0, NULL},
        {"9223372036854775807d", -1, 0, NULL},
        {"9223372036854775807ms", 0, INT64_MAX, "9223372036854775807ms"},
    };
    char buf[32];

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        int64_t ms = 0;
        int rc = ts_duration_parse(cases[i].in, &ms);
        if (rc != cases[i].rc || ms != cases[i].ms)
            printf("  case \"%s\": rc %d ms %lld\n", cases[i].in, rc,
                (long long)ms);
        CHECK(rc == cases[i].rc && ms == cases[i].ms);
        if (cases[i].out != NULL)
            CHECK_STREQ(ts_duration_format(ms, buf, sizeof(buf)),
                cases[i].out);
    }
    CHECK_STREQ(ts_duration_format(0, buf, sizeof(buf)), "0s");
}

static void
test_ts_bucket(void)
{
    static const struct {
        int64_t t, gran, want;
    } cases[] = {
        {0, 3600000, 0},
        {3599999, 3600000, 0},
        {3600000, 3600000, 3600000},
        {1795179600123LL, 1000, 1795179600000LL},
        {1795179600123LL, TS_DAY_MS, 1795132800000LL},
        {-1, 1000, -1000},
        {-1000, 1000, -1000},
        {-1001, 1000, -2000},
        {-3600000, 3600000, -3600000},
        {7, 1, 7},
        {-7, 1, -7},
    };

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
        CHECK(ts_bucket(cases[i].t, cases[i].gran) == cases[i].want);
    /* at the edges of int64 (a damaged store's values): no overflow (UBSan
     * in `make check`), the lowest bucket that fits */
    CHECK(ts_bucket(INT64_MIN, 1000) == INT64_MIN / 1000 * 1000);
    CHECK(ts_bucket(INT64_MIN + 1, TS_DAY_MS) ==
        INT64_MIN / TS_DAY_MS * TS_DAY_MS);
    CHECK(ts_bucket(INT64_MAX, TS_DAY_MS) == INT64_MAX / TS_DAY_MS * TS_DAY_MS);
}

static void
test_ts_format_edges(void)
{
    char buf[TS_BUFSZ];

    CHECK_STREQ(ts_format(INT64_MAX, buf, sizeof(buf)),
        "9999-12-31T23:59:59.999Z");
    CHECK(ts_format(INT64_MIN, buf, sizeof(buf))[0] == '-');
    CHECK(strlen(ts_format(INT64_MIN + 1, buf, sizeof(buf))) < TS_BUFSZ);
}

static void
test_gcd(void)
{
    static const struct { int64_t a, b, g; } cases[] = {
        {3600000, 60000, 60000}, {180000, 30000, 30000},
        {86400000, 3600000, 3600000}, {90000, 60000, 30000}, {7, 5, 1},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        CHECK(ts_gcd(cases[i].a, cases[i].b) == cases[i].g);
        CHECK(ts_gcd(cases[i].b, cases[i].a) == cases[i].g);
    }
}

int
main(void)
{
    RUN(test_ts_parse_good);
    RUN(test_ts_parse_bad);
    RUN(test_ts_parse_len);
    RUN(test_ts_against_timegm);
    RUN(test_ts_format);
    RUN(test_ts_from_number);
    RUN(test_ts_param_parse);
    RUN(test_ts_duration);
    RUN(test_ts_bucket);
    RUN(test_ts_format_edges);
    RUN(test_gcd);
    return test_report();
}
