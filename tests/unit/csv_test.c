/* csv_test.c -- unit tests for shared/csv.c: record ends, RFC 4180 fields, rows as typed JSON */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "shared/buf.h"
#include "shared/csv.h"
#include "shared/err.h"
#include "shared/pipeline.h"
#include "tests/fixture.h"
#include "tests/test.h"

/* Record ends, fed in blocks of every size: quotes and "" across blocks. */
static void
test_csv_scan(void)
{
    static const char text[] = "a,\"b\nc\",d\r\n\"x\"\"\ny\",z\n\"\"\"\"\nlast";
    static const long want[] = {11, 21, 26};   /* after each record */

    for (size_t bs = 1; bs <= sizeof(text); bs++) {
        struct csv_scan cs = {0};
        size_t at = 0;
        int k = 0, bad = 0;

        while (at < sizeof(text) - 1) {
            size_t n = bs < sizeof(text) - 1 - at ? bs : sizeof(text) - 1 - at;
            long e = csv_scan_end(&cs, text + at, n);

            if (e < 0) {
                at += n;
                continue;
            }
            at += (size_t)e;
            if (k >= 3 || (long)at != want[k])
                bad = 1;
            k++;
        }
        if (bad || k != 3)
            printf("  block size %zu: %d records\n", bs, k);
        CHECK(!bad && k == 3);
    }
}

static void
test_csv_split(void)
{
    static const struct {
        const char *rec;
        const char *want;       /* fields joined by |, or "error: ..." */
    } cases[] = {
        {"a,b,c", "a|b|c"},
        {"a,b,c\r\n", "a|b|c"},
        {"a,b,c\n", "a|b|c"},
        {"", ""},
        {",", "|"},
        {"a,,c,", "a||c|"},
        {"\"a,b\",c", "a,b|c"},
        {"\"say \"\"hi\"\"\",x", "say \"hi\"|x"},
        {"\"two\nlines\",x", "two\nlines|x"},
        {"\"\"", ""},
        {"\"\",\"\"", "|"},
        {" a , b ", " a | b "},
        {"\"a\"b", "error: text after a closing quote at byte 4"},
        {"a\"b", "error: a quote inside a field that is not quoted, at byte 2"},
        {"\"abc", "error: a quoted field is not closed"},
        {"\"a\"\"", "error: a quoted field is not closed"},
    };
    struct csv_fields cf;
    char err[ERR_LEN];
    struct buf b;

    csv_fields_init(&cf);
    buf_init(&b);
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        int n = csv_split(&cf, cases[i].rec, strlen(cases[i].rec), err);

        buf_clear(&b);
        buf_puts(&b, "");
        if (n < 0)
            buf_printf(&b, "error: %s", err);
        for (int k = 0; k < n; k++)
            buf_printf(&b, "%s%s", k > 0 ? "|" : "",
                cf.text.data + cf.off[k]);
        if (strcmp(b.data, cases[i].want) != 0)
            printf("  case %zu: got \"%s\"\n", i, b.data);
        CHECK_STREQ(b.data, cases[i].want);
    }
    buf_reset(&b);
    csv_fields_reset(&cf);
}

/* Rows of seed.json's fields as JSON: typed cells, nesting, empties. */
static void
test_csv_rows(void)
{
    static const struct {
        const char *header, *row;
        const char *want;       /* the JSON, or "error: ..." */
    } cases[] = {
        {"ts,pair,last,score,tags", "2026-11-19T01:00:00Z,BTC/USD,1.50,,",
            "{\"ts\":\"2026-11-19T01:00:00Z\",\"pair\":\"BTC/USD\","
            "\"last\":1.50}"},
        /* numbers as written, with spaces around them */
        {"ts,last,score", "1795179600, 4.3e3 ,-0.0",
            "{\"ts\":1795179600,\"last\":4.3e3,\"score\":-0.0}"},
        /* not a number: a string, for the event to reject */
        {"last,score", "abc,1.2.3", "{\"last\":\"abc\",\"score\":\"1.2.3\"}"},
        /* arrays as JSON arrays, else a string */
        {"tags", "\"[\"\"btc\"\",\"\"eth\"\"]\"", "{\"tags\":[\"btc\",\"eth\"]}"},
        {"tags", "btc", "{\"tags\":\"btc\"}"},
        {"tags", "\"[1,\"", "{\"tags\":\"[1,\"}"},
        /* strings keep their spaces and escape what JSON needs */
        {"pair,other", "\" a\\\"\"b\tc \",x", "{\"pair\":\" a\\\\\\\"b\\tc \","
            "\"other\":\"x\"}"},
        /* dotted names nest */
        {"sentiment.score,sentiment.label,id", "0.5,pos,7",
            "{\"sentiment\":{\"score\":\"0.5\",\"label\":\"pos\"},"
            "\"id\":\"7\"}"},
        {"last,pair", "1", "error: 1 field, the header has 2"},
        {"last,pair", "1,2,3", "error: 3 fields, the header has 2"},
        {"last,pair", "1,\"x", "error: a quoted field is not closed"},
    };
    struct pipeline *p = load_fixture("seed.json");
    struct csv_fields cf;
    char err[ERR_LEN];
    struct buf b;

    csv_fields_init(&cf);
    buf_init(&b);
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct csv_header *h = csv_header_new(p, cases[i].header,
            strlen(cases[i].header), err);

        CHECK(h != NULL);
        if (h == NULL)
            continue;
        buf_clear(&b);
        buf_puts(&b, "");
        if (csv_row_json(h, &cf, cases[i].row, strlen(cases[i].row), &b,
            err) != 0)
            buf_printf(&b, "error: %s", err);
        if (strcmp(b.data, cases[i].want) != 0)
            printf("  case %zu: got %s\n", i, b.data);
        CHECK_STREQ(b.data, cases[i].want);
        csv_header_free(h);
    }
    buf_reset(&b);
    csv_fields_reset(&cf);
    pipeline_free(p);
}

static void
test_csv_header_errors(void)
{
    static const struct {
        const char *header, *err;
    } cases[] = {
        {"a,,b", "header: column 2 has no name"},
        {"a,b,a", "header: column 3 (\"a\") is also another column or part "
            "of one"},
        {"a.b,a", "header: column 2 (\"a\") is also another column or part "
            "of one"},
        {"a,a.b", "header: column 2 (\"a.b\") is also another column or part "
            "of one"},
        {"a..b", "header: column 1 (\"a..b\"): empty part in a dotted name"},
        {"a,\"b", "header: a quoted field is not closed"},
    };
    struct pipeline *p = load_fixture("seed.json");
    char err[ERR_LEN];

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct csv_header *h = csv_header_new(p, cases[i].header,
            strlen(cases[i].header), err);

        CHECK(h == NULL);
        csv_header_free(h);
        CHECK_STREQ(err, cases[i].err);
    }
    pipeline_free(p);
}

static void
test_csv_looks_like(void)
{
    static const struct {
        const char *line;
        int         csv;
    } cases[] = {
        {"customer,amount,ts", 1},
        {"Ali,50", 1},
        {"  id,name", 1},
        {"{\"customer\":\"Ali\"}", 0},
        {"[{\"a\":1}]", 0},
        {"\"just a string\"", 0},
        {"12,13", 0},
        {"true,false", 0},
        {"null", 0},
        {"hello", 0},
        {"", 0},
    };

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
        CHECK(csv_looks_like(cases[i].line, strlen(cases[i].line)) ==
            cases[i].csv);
    CHECK(csv_path("a/customers.csv") && csv_path("x.CSV") &&
        csv_path("x.csv.gz") && !csv_path("x.jsonl") && !csv_path("csv") &&
        !csv_path("x.csvx"));
}

int
main(void)
{
    RUN(test_csv_scan);
    RUN(test_csv_split);
    RUN(test_csv_rows);
    RUN(test_csv_header_errors);
    RUN(test_csv_looks_like);
    return test_report();
}
