/* outputs_test.c -- unit tests for shared/outputs.c: load errors, evaluation, nulls, printing */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "shared/agg.h"
#include "shared/buf.h"
#include "shared/err.h"
#include "shared/outputs.h"
#include "shared/pipeline.h"
#include "tests/fixture.h"
#include "tests/test.h"

static char tmpdir[64];

/* A view v: n = count, s = sum, a = avg, lo = min, hi = max of amount
 * (decimal, scale 2), then OUTPUTS (a JSON object's members). */
#define PIPE(outputs) "{\"name\":\"shop\",\"store\":\"s\",\"event\":" \
    "{\"time\":\"ts\",\"fields\":{\"amount\":{\"type\":\"decimal\"," \
    "\"scale\":2}}},\"views\":{\"v\":{\"granularity\":\"1h\",\"metrics\":" \
    "{\"n\":\"count\",\"s\":\"sum(amount)\",\"a\":\"avg(amount)\"," \
    "\"lo\":\"min(amount)\",\"hi\":\"max(amount)\"},\"outputs\":" outputs \
    "}}}"

static int
load_text(const char *text, struct pipeline **p, char *err)
{
    return load_text_in(tmpdir, text, p, err);
}

/* The merged row of amounts 1.00, 2.50, 3.00, 0.50 (full) or of no
 * events (empty): every metric of v but n and s is then null. */
static void
make_row(const struct view *v, int full, int64_t *row)
{
    agg_row_init(v, row);
    if (!full)
        return;
    for (int m = 0; m < v->nmetrics; m++) {
        int64_t *st = row + v->metrics[m].slot;

        st[0] = 4;
        switch (v->metrics[m].kind) {
        case METRIC_SUM:
        case METRIC_AVG:
            st[1] = 700;        /* 7.00; high word 0 */
            break;
        case METRIC_MIN:
            st[1] = 50;
            break;
        case METRIC_MAX:
            st[1] = 300;
            break;
        default:
            break;
        }
    }
}

/* The outputs of v on row as outputs_put_metrics() prints them after the
 * metrics: ,"x":1.5,... */
static void
eval_text(const struct pipeline *p, int full, struct buf *out)
{
    const struct view *v = &p->views[0];
    int64_t row[32];

    make_row(v, full, row);
    buf_clear(out);
    outputs_put_json(out, p, v, row);
}

static void
test_outputs_eval(void)
{
    static const struct {
        const char *outputs;
        const char *full, *empty;   /* outputs on the full and empty rows */
    } cases[] = {
        /* arithmetic, null propagation, division by zero */
        {"{\"x\":\"s / n\"}", ",\"x\":1.75", ",\"x\":null"},
        {"{\"x\":\"hi - lo\"}", ",\"x\":2.5", ",\"x\":null"},
        {"{\"x\":\"a * 2\"}", ",\"x\":3.5", ",\"x\":null"},
        {"{\"x\":\"-a\"}", ",\"x\":-1.75", ",\"x\":null"},
        {"{\"x\":\"s + n * 2 - 1\"}", ",\"x\":14", ",\"x\":-1"},
        {"{\"x\":\"(s + hi) / (n - 4)\"}", ",\"x\":null", ",\"x\":null"},
        {"{\"x\":\"n / 0\"}", ",\"x\":null", ",\"x\":null"},
        {"{\"x\":\"s / 0.0\"}", ",\"x\":null", ",\"x\":null"},
        {"{\"x\":\"1e3 + n\"}", ",\"x\":1004", ",\"x\":1000"},
        /* printing: 6 decimals, zeros cut, no -0 */
        {"{\"x\":\"1 / 3\"}", ",\"x\":0.333333", ",\"x\":0.333333"},
        {"{\"x\":\"2 / 3\"}", ",\"x\":0.666667", ",\"x\":0.666667"},
        {"{\"x\":\"-2 / 3\"}", ",\"x\":-0.666667", ",\"x\":-0.666667"},
        {"{\"x\":\"n + 0.0000004\"}", ",\"x\":4", ",\"x\":0"},
        {"{\"x\":\"0 - 0.0000001\"}", ",\"x\":0", ",\"x\":0"},
        {"{\"x\":\"s - 7\"}", ",\"x\":0", ",\"x\":-7"},
        {"{\"x\":\"s * 1e20\"}", ",\"x\":700000000000000000000",
            ",\"x\":0"},
        {"{\"x\":\"0.125\"}", ",\"x\":0.125", ",\"x\":0.125"},
        /* case: strings and numbers, null conditions are false */
        {"{\"x\":\"case(a > 1.5, 'high', 'low')\"}", ",\"x\":\"high\"",
            ",\"x\":\"low\""},
        {"{\"x\":\"case(a > 2, 'high', a < 1, 'low', 'mid')\"}",
            ",\"x\":\"mid\"", ",\"x\":\"mid\""},
        {"{\"x\":\"case(a >= 1.75, 'high', 'low')\"}", ",\"x\":\"high\"",
            ",\"x\":\"low\""},
        {"{\"x\":\"case(a <= 1.75, 1, 0)\"}", ",\"x\":1", ",\"x\":0"},
        {"{\"x\":\"case(lo == 0.5, 1, 0)\"}", ",\"x\":1", ",\"x\":0"},
        {"{\"x\":\"case(a != a, 1, 2)\"}", ",\"x\":2", ",\"x\":2"},
        {"{\"x\":\"case(n >= 4, s, n < 0, 1, 0)\"}", ",\"x\":7", ",\"x\":0"},
        {"{\"x\":\"case(n > 0, a, 0)\"}", ",\"x\":1.75", ",\"x\":0"},
        {"{\"x\":\"case(n > 9, 1, a)\"}", ",\"x\":1.75", ",\"x\":null"},
        {"{\"x\":\"case(s == s, 'q\\\"\\\\\\\\', 'b')\"}",
            ",\"x\":\"q\\\"\\\\\"", ",\"x\":\"q\\\"\\\\\""},
        /* outputs use earlier ones; strings compare bytewise */
        {"{\"l\":\"case(a > 1, 'x', 'y')\",\"y\":\"case(l == 'x', 1, 0)\","
            "\"z\":\"case(l < 'xa', y * 10, -1)\"}",
            ",\"l\":\"x\",\"y\":1,\"z\":10",
            ",\"l\":\"y\",\"y\":0,\"z\":-1"},
        {"{\"mid\":\"(lo + hi) / 2\",\"band\":\"hi - mid\"}",
            ",\"mid\":1.75,\"band\":1.25", ",\"mid\":null,\"band\":null"},
        {"{}", "", ""},
    };
    struct pipeline *p;
    struct buf out;
    char text[1024], err[ERR_LEN];

    buf_init(&out);
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        snprintf(text, sizeof(text), PIPE("%s"), cases[i].outputs);
        if (load_text(text, &p, err) != 0) {
            printf("case %zu: %s\n", i, err);
            CHECK(0);
            continue;
        }
        eval_text(p, 1, &out);
        CHECK_EQ_STR(out.data != NULL ? out.data : "", cases[i].full);
        eval_text(p, 0, &out);
        CHECK_EQ_STR(out.data != NULL ? out.data : "", cases[i].empty);
        pipeline_free(p);
    }
    buf_reset(&out);
}

static void
test_outputs_errors(void)
{
    static const struct {
        const char *outputs;
        const char *err;
    } cases[] = {
        {"[]", "views.v.outputs: expected an object, got an array"},
        {"{\"x\":\"a\",\"x\":\"s\"}", "views.v.outputs: duplicate key \"x\""},
        {"{\"x\":1}", "views.v.outputs.x: expected an expression (a string) "
            "over the view's metrics"},
        {"{\"1x\":\"a\"}", "views.v.outputs.1x: invalid output name: "
            "expected a letter or \"_\", then letters, digits or \"_\", at "
            "most 64"},
        {"{\"n\":\"s\"}", "views.v.outputs.n: \"n\" is also a metric of the "
            "view: outputs need names of their own"},
        {"{\"x\":\"avg_prce - s\"}",
            "views.v.outputs.x: unknown metric \"avg_prce\""},
        {"{\"x\":\"a +\"}", "views.v.outputs.x: expected a value, a name or "
            "a call, got the end at column 4"},
        {"{\"x\":\"a + (s\"}", "views.v.outputs.x: expected \")\", got the "
            "end at column 7"},
        {"{\"x\":\"x + 1\"}", "views.v.outputs.x: output \"x\" uses itself"},
        {"{\"x\":\"y + 1\",\"y\":\"a\"}", "views.v.outputs.x: output \"y\" "
            "comes later: an output uses the metrics and the outputs before "
            "it"},
        {"{\"x\":\"iff(a > 1, 1, 2)\"}", "views.v.outputs.x: unknown "
            "function \"iff\" (outputs have case(COND, VALUE, ..., "
            "DEFAULT))"},
        {"{\"x\":\"case(a > 1, 1)\"}", "views.v.outputs.x: case takes pairs "
            "of a condition and a value, then a default: case(c1, v1, ..., "
            "default), got 2 arguments"},
        {"{\"x\":\"case(a)\"}", "views.v.outputs.x: case takes pairs of a "
            "condition and a value, then a default: case(c1, v1, ..., "
            "default), got 1 argument"},
        {"{\"x\":\"case(a, 1, 2)\"}", "views.v.outputs.x: argument 1 of "
            "case: expected a condition (a > b), got a number"},
        {"{\"x\":\"case(a > 1, 'x', 2)\"}", "views.v.outputs.x: argument 3 "
            "of case: expected a string like argument 2, got a number"},
        {"{\"x\":\"case(a > 1, 1, a > 2, 'y', 3)\"}", "views.v.outputs.x: "
            "argument 4 of case: expected a number like argument 2, got a "
            "string"},
        {"{\"x\":\"case(a > 1, a > 2, 1)\"}", "views.v.outputs.x: argument "
            "2 of case: a comparison is not a value"},
        {"{\"x\":\"a > 1\"}", "views.v.outputs.x: a comparison is not a "
            "value: use case(COND, VALUE, ..., DEFAULT)"},
        {"{\"x\":\"'x' + 1\"}", "views.v.outputs.x: + at column 5 takes "
            "numbers, got a string"},
        {"{\"l\":\"case(a > 1, 'x', 'y')\",\"x\":\"l * 2\"}",
            "views.v.outputs.x: * at column 3 takes numbers, got a string"},
        {"{\"x\":\"(a > 1) + 1\"}", "views.v.outputs.x: + at column 9 takes "
            "numbers, got a comparison"},
        {"{\"x\":\"case(a < 'x', 1, 2)\"}", "views.v.outputs.x: < at column "
            "8 compares a number with a string"},
        {"{\"x\":\"case((a > 1) == (a > 2), 1, 2)\"}", "views.v.outputs.x: "
            "== at column 14: a comparison cannot be compared"},
        {"{\"x\":\"-'x'\"}", "views.v.outputs.x: - at column 1 takes a "
            "number, got a string"},
        {"{\"x\":\"split(a, 1)[0]\"}", "views.v.outputs.x: [] at column 12 "
            "is not allowed in outputs"},
        {"{\"x\":\"1e99999\"}", "views.v.outputs.x: number 1e99999 out of "
            "range"},
    };
    struct pipeline *p;
    char text[1024], err[ERR_LEN], want[ERR_LEN];

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        snprintf(text, sizeof(text), PIPE("%s"), cases[i].outputs);
        snprintf(want, sizeof(want), "shop.json: %s", cases[i].err);
        if (load_text(text, &p, err) == 0) {
            printf("case %zu loaded\n", i);
            CHECK(0);
            pipeline_free(p);
            continue;
        }
        CHECK_EQ_STR(err, want);
    }
}

/* outputs_put_value() and outputs_find(), the pieces CSV export uses. */
static void
test_outputs_values(void)
{
    static const struct {
        enum outputs_type type;
        long double num;
        const char *str;
        const char *json, *raw;
    } cases[] = {
        {OUTPUTS_NULL, 0, NULL, "null", ""},
        {OUTPUTS_NUM, 2.5L, NULL, "2.5", "2.5"},
        {OUTPUTS_NUM, -0.0L, NULL, "0", "0"},
        {OUTPUTS_NUM, 1e6L, NULL, "1000000", "1000000"},
        {OUTPUTS_NUM, 0.0000005L, NULL, "0.000001", "0.000001"},
        {OUTPUTS_NUM, 0.0000004L, NULL, "0", "0"},
        {OUTPUTS_NUM, 12.0000001L, NULL, "12", "12"},
        {OUTPUTS_STR, 0, "a,\"b\"", "\"a,\\\"b\\\"\"", "a,\"b\""},
    };
    struct outputs_value x;
    struct pipeline *p;
    struct buf b;
    char err[ERR_LEN];

    buf_init(&b);
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        x.type = cases[i].type;
        x.num = cases[i].num;
        x.str = cases[i].str;
        buf_clear(&b);
        outputs_put_value(&b, &x, 1);
        CHECK_EQ_STR(b.data, cases[i].json);
        buf_clear(&b);
        buf_puts(&b, "");
        outputs_put_value(&b, &x, 0);
        CHECK_EQ_STR(b.data, cases[i].raw);
    }
    buf_reset(&b);
    if (load_text(PIPE("{\"p\":\"a\",\"q\":\"s\"}"), &p, err) != 0) {
        printf("%s\n", err);
        CHECK(0);
        return;
    }
    CHECK_EQ_INT(p->views[0].noutputs, 2);
    CHECK_EQ_INT(outputs_find(&p->views[0], "q"), 1);
    CHECK_EQ_INT(outputs_find(&p->views[0], "a"), -1);
    pipeline_free(p);
}

/* agg_metric_value(): the printed value, or -1 for null. */
static void
test_outputs_metric_value(void)
{
    struct pipeline *p;
    const struct view *v;
    long double x = 0;
    int64_t row[32];
    char err[ERR_LEN];

    if (load_text(PIPE("{}"), &p, err) != 0) {
        printf("%s\n", err);
        CHECK(0);
        return;
    }
    v = &p->views[0];
    make_row(v, 1, row);
    CHECK(agg_metric_value(p, v, 0, row, &x) == 0 && x == 4);
    CHECK(agg_metric_value(p, v, 1, row, &x) == 0 && x == 7);
    CHECK(agg_metric_value(p, v, 2, row, &x) == 0 && x == 1.75L);
    CHECK(agg_metric_value(p, v, 3, row, &x) == 0 && x == 0.5L);
    CHECK(agg_metric_value(p, v, 4, row, &x) == 0 && x == 3);
    make_row(v, 0, row);
    CHECK(agg_metric_value(p, v, 0, row, &x) == 0 && x == 0);
    CHECK(agg_metric_value(p, v, 1, row, &x) == 0 && x == 0);
    CHECK(agg_metric_value(p, v, 2, row, &x) == -1);
    CHECK(agg_metric_value(p, v, 3, row, &x) == -1);
    pipeline_free(p);
}

int
main(void)
{
    snprintf(tmpdir, sizeof(tmpdir), "/tmp/outputs_test.XXXXXX");
    test_tmpdir(tmpdir);
    RUN(test_outputs_eval);
    RUN(test_outputs_errors);
    RUN(test_outputs_values);
    RUN(test_outputs_metric_value);
    test_tmpdir_remove(tmpdir);
    return test_report();
}
