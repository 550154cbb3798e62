/* fanout_test.c -- unit tests for shared/fanout.c: where, explode, group keys of one event */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "shared/buf.h"
#include "shared/err.h"
#include "shared/event.h"
#include "shared/fanout.h"
#include "shared/key.h"
#include "shared/pipeline.h"
#include "tests/fixture.h"
#include "tests/test.h"

#define T0 "\"ts\":\"2026-11-20T13:00:00Z\""

/* The rows of one event as "view {key}|view {key}|...", or "reject". */
static void
rows_of(const struct pipeline *p, const char *fields, struct buf *out)
{
    char line[2048], err[ERR_LEN];
    struct fanout fo;
    struct event ev;
    int bad = -1, n;

    buf_clear(out);
    snprintf(line, sizeof(line), "{" T0 ",%s}", fields);
    event_init(&ev, p);
    fanout_init(&fo);
    if (event_parse(&ev, p, line, strlen(line), -1, err) != REJECT_NONE) {
        buf_printf(out, "reject: %s", err);
        goto done;
    }
    n = fanout_event(&fo, p, &ev, &bad);
    if (n < 0) {
        buf_printf(out, "too long in %s", p->views[bad].name);
        goto done;
    }
    for (int i = 0; i < n; i++) {
        const struct fanout_row *r = &fo.rows[i];

        buf_printf(out, "%s%s ", i > 0 ? "|" : "", p->views[r->view].name);
        if (key_to_json(out, p, &p->views[r->view], fo.keys.data + r->off,
            r->len) != 0)
            buf_puts(out, "(bad key)");
    }
    /* the event is as it was: its arrays are back */
    for (int f = 0; f < p->nfields; f++) {
        if (p->fields[f].type == FIELD_ARRAY && ev.vals[f].present &&
            ev.vals[f].elems == NULL && ev.vals[f].nelems > 0)
            buf_puts(out, " (array lost)");
    }
done:
    fanout_reset(&fo);
    event_reset(&ev);
}

static void
test_fanout_explode(void)
{
    static const struct {
        const char *fields;
        const char *rows;
    } cases[] = {
        /* one event, two cryptos: once under each */
        {"\"pair\":\"BTC/USD\",\"last\":1,\"tags\":[\"btc\",\"eth\"]",
            "by_pair {\"pair\":\"BTC/USD\"}"
            "|by_tag {\"tags\":\"btc\"}|by_tag {\"tags\":\"eth\"}"
            "|pair_tag {\"pair\":\"BTC/USD\",\"tags\":\"btc\"}"
            "|pair_tag {\"pair\":\"BTC/USD\",\"tags\":\"eth\"}"
            "|mentions {}|mentions {}"},
        /* duplicates count twice; where holds per element */
        {"\"pair\":\"p\",\"last\":1,\"tags\":[\"btc\",\"sol\",\"btc\"]",
            "by_pair {\"pair\":\"p\"}"
            "|by_tag {\"tags\":\"btc\"}|by_tag {\"tags\":\"sol\"}"
            "|by_tag {\"tags\":\"btc\"}"
            "|pair_tag {\"pair\":\"p\",\"tags\":\"btc\"}"
            "|pair_tag {\"pair\":\"p\",\"tags\":\"btc\"}"
            "|mentions {}|mentions {}|mentions {}"},
        /* empty or missing: nowhere, and no reject */
        {"\"pair\":\"p\",\"last\":1,\"tags\":[]", "by_pair {\"pair\":\"p\"}"},
        {"\"pair\":\"p\",\"last\":1", "by_pair {\"pair\":\"p\"}"},
        {"\"pair\":\"p\",\"last\":1,\"tags\":null", "by_pair {\"pair\":\"p\"}"},
        /* numbers: the element at the items' scale */
        {"\"pair\":\"p\",\"last\":1,\"levels\":[0.25,3]",
            "by_pair {\"pair\":\"p\"}"
            "|by_level {\"levels\":0.2}|by_level {\"levels\":3.0}"},
        /* a wrong element rejects the whole event */
        {"\"pair\":\"p\",\"last\":1,\"tags\":[\"btc\",1]",
            "reject: field \"tags[1]\": expected a string, got 1"},
    };
    struct pipeline *p = load_fixture("seed.json");
    struct buf out;

    buf_init(&out);
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        rows_of(p, cases[i].fields, &out);
        if (strcmp(out.data, cases[i].rows) != 0)
            printf("  case %zu: %s\n    got  %s\n    want %s\n", i,
                cases[i].fields, out.data, cases[i].rows);
        CHECK_STREQ(out.data, cases[i].rows);
    }
    buf_reset(&out);
    pipeline_free(p);
}

/* A group key too long in any element rejects the event: no rows. */
static void
test_fanout_too_long(void)
{
    struct pipeline *p = load_fixture("seed.json");
    char fields[1024];
    struct buf out;

    buf_init(&out);
    snprintf(fields, sizeof(fields), "\"pair\":\"p\",\"last\":1,"
        "\"tags\":[\"btc\",\"%0500d\"]", 7);
    rows_of(p, fields, &out);
    CHECK_STREQ(out.data, "too long in by_tag");
    buf_reset(&out);
    pipeline_free(p);
}

/* Derived fields group, filter and explode like declared ones. */
static void
test_fanout_derived(void)
{
    struct pipeline *p = load_fixture("derive.json");
    struct buf out;

    buf_init(&out);
    rows_of(p, "\"city\":\"Lyon\",\"pair\":\"a/b\",\"text\":\"x,y,x\","
        "\"amount\":1", &out);
    CHECK_STREQ(out.data, "by_symbol {\"symbol\":\"a\",\"country\":"
        "\"unknown\"}|by_part {\"parts\":\"x\"}|by_part {\"parts\":\"y\"}"
        "|by_part {\"parts\":\"x\"}");
    /* where on a derived field: lower(city) */
    rows_of(p, "\"city\":\"NOWHERE\",\"pair\":\"a/b\"", &out);
    CHECK_STREQ(out.data, "");
    buf_reset(&out);
    pipeline_free(p);
}

int
main(void)
{
    RUN(test_fanout_explode);
    RUN(test_fanout_too_long);
    RUN(test_fanout_derived);
    return test_report();
}
