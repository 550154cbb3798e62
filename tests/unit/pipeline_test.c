/* pipeline_test.c -- unit tests for shared/pipeline.c: loading, errors, overrides */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "shared/dec.h"
#include "shared/err.h"
#include "shared/outputs.h"
#include "shared/pipeline.h"
#include "shared/ts.h"
#include "tests/fixture.h"
#include "tests/test.h"

static char tmpdir[64];

static const char *
write_tmp(const char *name, const char *text)
{
    return write_in(tmpdir, name, text);
}

static int
load_text(const char *text, struct pipeline **p, char *err)
{
    return load_text_in(tmpdir, text, p, err);
}

static void
test_pipeline_example(void)
{
    char path[512], err[ERR_LEN] = "";
    struct pipeline *p = NULL;
    const struct view *v;

    CHECK(pipeline_load(&p, test_top_path("tests/fixtures/shop.json", path,
        sizeof(path)), err) == 0);
    CHECK_STREQ(err, "");
    if (p == NULL)
        return;
    CHECK_STREQ(p->path, path);
    CHECK_STREQ(p->name, "shop");
    CHECK_STREQ(p->store, "var/shop");
    CHECK_STREQ(p->time_field, "ts");
    CHECK(p->ntime_path == 1);
    CHECK_STREQ(p->time_path[0], "ts");

    CHECK(p->nfields == 3);
    CHECK_STREQ(p->fields[0].name, "customer");
    CHECK(p->fields[0].type == FIELD_STRING && p->fields[0].required);
    CHECK_STREQ(p->fields[1].name, "country");
    CHECK(p->fields[1].type == FIELD_STRING && !p->fields[1].required);
    CHECK_STREQ(p->fields[2].name, "amount");
    CHECK(p->fields[2].type == FIELD_DECIMAL && p->fields[2].scale == 2);
    CHECK(p->fields[2].required && p->fields[2].has_min &&
        p->fields[2].min == 0 && !p->fields[2].has_max);
    CHECK(pipeline_field_index(p, "amount") == 2);
    CHECK(pipeline_field_index(p, "nope") == -1);

    CHECK(p->nviews == 2);
    v = pipeline_view(p, "by_customer");
    CHECK(v == &p->views[0]);
    if (v != NULL) {
        CHECK(v->ngroup == 1 && v->group_by[0] == 0);
        CHECK(v->granularity == 3600000);
        CHECK(v->nmetrics == 4);
        CHECK_STREQ(v->metrics[0].name, "orders");
        CHECK(v->metrics[0].kind == METRIC_COUNT && v->metrics[0].field == -1);
        CHECK(v->metrics[0].slot == 0);
        CHECK_STREQ(v->metrics[1].name, "revenue");
        CHECK(v->metrics[1].kind == METRIC_SUM && v->metrics[1].field == 2);
        CHECK(v->metrics[1].slot == 1);
        CHECK(v->metrics[2].kind == METRIC_AVG && v->metrics[2].slot == 4);
        CHECK(v->metrics[3].kind == METRIC_MAX && v->metrics[3].slot == 7);
        CHECK(v->nslots == 9);
        CHECK(v->nwhere == 0);
    }
    v = pipeline_view(p, "by_country");
    CHECK(v == &p->views[1]);
    if (v != NULL) {
        CHECK(v->ngroup == 1 && v->group_by[0] == 1);
        CHECK(v->granularity == TS_DAY_MS);
        CHECK(v->nmetrics == 2 && v->nslots == 4);
    }
    CHECK(pipeline_view(p, "by_nothing") == NULL);
    CHECK(pipeline_cutoff_unit(p) == TS_DAY_MS);

    CHECK(p->batch.ninputs == 1);
    CHECK_STREQ(p->batch.inputs[0], "datasets/shop/*.jsonl");
    CHECK_STREQ(p->batch.rejects, "var/shop/rejects/batch.jsonl");
    CHECK_STREQ(p->speed.brokers, "localhost:9092");
    CHECK_STREQ(p->speed.topic, "shop.events");
    CHECK_STREQ(p->speed.group, "lambdakit-shop");
    CHECK(p->speed.lateness == 600000);
    CHECK(p->speed.partitions == 4);
    CHECK(p->speed.max_batch == 10000);
    CHECK(p->speed.commit_ms == 100);
    CHECK(p->speed.start_latest == 0 && p->speed.skip_data_loss == 0);
    CHECK(p->speed.rejects_topic == NULL);
    CHECK_STREQ(p->speed.rejects_file, "var/shop/rejects/speed.jsonl");
    CHECK(p->speed.archive == NULL);
    CHECK(p->speed.nkafka == 0);
    CHECK_STREQ(p->serving.listen, "127.0.0.1:8080");
    CHECK(p->serving.token == NULL && p->serving.cors_origin == NULL);
    CHECK(p->serving.threads == 2);
    CHECK(p->serving.max_connections == 1024);
    CHECK(p->serving.timeout == 10);
    CHECK(p->serving.max_points == 10000);
    CHECK(p->serving.max_top == 1000);
    CHECK(p->batch.repository == NULL && p->batch.repository_keep == 3);
    CHECK(p->serving.ready_max_lag.records == -1 &&
        p->serving.ready_max_lag.ms == -1);
    pipeline_free(p);
}

/* batch.repository, batch.repository_keep, serving.ready_max_lag. */
static void
test_pipeline_scale_keys(void)
{
    static const struct {
        const char *text;
        int64_t     records, ms;
    } lag[] = {
        {"\"1000\"", 1000, -1}, {"250", 250, -1}, {"0", 0, -1},
        {"\"30s\"", -1, 30000}, {"\"2m\"", -1, 120000}, {"\"0s\"", -1, 0},
    };
    char text[512], err[ERR_LEN];
    struct pipeline *p = NULL;

    CHECK(load_text("{\"name\":\"m\",\"store\":\"s\",\"event\":{\"time\":"
        "\"t\"},\"batch\":{\"repository\":\"/repo\",\"repository_keep\":"
        "5}}", &p, err) == 0);
    if (p != NULL) {
        CHECK_STREQ(p->batch.repository, "/repo");
        CHECK(p->batch.repository_keep == 5);
        CHECK(pipeline_set(p, "batch.repository", "/other", err) == 0);
        CHECK_STREQ(p->batch.repository, "/other");
        CHECK(pipeline_set(p, "serving.ready_max_lag", "10s", err) == 0);
        CHECK(p->serving.ready_max_lag.ms == 10000);
        CHECK(pipeline_set(p, "serving.ready_max_lag", "", err) == 0);
        CHECK(p->serving.ready_max_lag.ms == -1 &&
            p->serving.ready_max_lag.records == -1);
        CHECK(pipeline_set(p, "serving.ready_max_lag", "soon", err) == -1);
        CHECK_STREQ(err, "serving.ready_max_lag: expected records such as "
            "1000 or a duration such as \"30s\", got \"soon\"");
        pipeline_free(p);
        p = NULL;
    }
    for (size_t i = 0; i < sizeof(lag) / sizeof(lag[0]); i++) {
        snprintf(text, sizeof(text), "{\"name\":\"m\",\"store\":\"s\","
            "\"event\":{\"time\":\"t\"},\"serving\":{\"ready_max_lag\":%s}}",
            lag[i].text);
        CHECK(load_text(text, &p, err) == 0);
        if (p == NULL)
            continue;
        CHECK(p->serving.ready_max_lag.records == lag[i].records);
        CHECK(p->serving.ready_max_lag.ms == lag[i].ms);
        pipeline_free(p);
        p = NULL;
    }
    CHECK(load_text("{\"name\":\"m\",\"store\":\"s\",\"event\":{\"time\":"
        "\"t\"},\"batch\":{\"repository_keep\":0}}", &p, err) == -1);
    CHECK_STREQ(err, "shop.json: batch.repository_keep: expected an integer "
        "from 1 to 1000000, got 0");
    CHECK(load_text("{\"name\":\"m\",\"store\":\"s\",\"event\":{\"time\":"
        "\"t\"},\"serving\":{\"ready_max_lag\":-5}}", &p, err) == -1);
    CHECK_STREQ(err, "shop.json: serving.ready_max_lag: expected records "
        "such as 1000 or a duration such as \"30s\", got -5");
}

/* The smallest valid file, and every optional section spelled out. */
static void
test_pipeline_minimal_and_full(void)
{
    char err[ERR_LEN];
    struct pipeline *p = NULL;

    CHECK(load_text("{\"name\":\"m\",\"store\":\"s\",\"event\":{\"time\":\"t\"}}",
        &p, err) == 0);
    CHECK_STREQ(err, "");
    if (p != NULL) {
        CHECK(p->nfields == 0 && p->nviews == 0);
        CHECK(p->batch.ninputs == 0 && p->batch.inputs != NULL);
        CHECK_STREQ(p->speed.group, "lambdakit-m");
        CHECK(p->speed.topic == NULL);
        CHECK(pipeline_cutoff_unit(p) == 1000);
        pipeline_free(p);
        p = NULL;
    }

    CHECK(load_text(
        "{\"name\":\"full.1\",\"store\":\"/var/lib/x\",\n"
        " \"event\":{\"time\":\"meta.at\",\"fields\":{\n"
        "   \"sentiment.score\":{\"type\":\"decimal\",\"scale\":3,"
        "\"min\":-1,\"max\":1},\n"
        "   \"n\":{\"type\":\"int\",\"max\":100,\"required\":true},\n"
        "   \"ok\":\"bool\",\"tag\":{\"type\":\"string\",\"required\":false}}},\n"
        " \"views\":{\"a\":{\"granularity\":\"15m\",\"metrics\":{\"c\":\"count\"}},\n"
        "   \"b-2\":{\"group_by\":\"tag\",\"granularity\":\"6h\",\n"
        "     \"metrics\":{\"lo\":\"min(sentiment.score)\",\"s\":\"sum(n)\"},\n"
        "     \"where\":{\"ok\":true,\"n\":{\"gte\":1,\"lt\":50},\n"
        "       \"tag\":{\"in\":[\"x\",\"y\"]},\"sentiment.score\":{\"ne\":0.5}}}},\n"
        " \"batch\":{\"inputs\":\"in/\",\"rejects\":\"rej.jsonl\"},\n"
        " \"speed\":{\"partitions\":8,\"lateness\":\"0s\",\"max_batch\":5,"
        "\"commit_ms\":50,\"start\":\"latest\",\"on_data_loss\":\"skip\","
        "\"rejects_topic\":\"bad\",\"archive\":\"arch\",\"group\":\"g\","
        "\"kafka\":{\"security.protocol\":\"SASL_SSL\",\"fetch.max.bytes\":1048576,"
        "\"enable.idempotence\":true,\"x\":0.5}},\n"
        " \"serving\":{\"listen\":\"[::1]:0\",\"token\":\"t0k\",\"cors_origin\":\"*\","
        "\"threads\":4,\"max_connections\":10,\"timeout\":3,\"max_points\":7,"
        "\"max_top\":9}}\n", &p, err) == 0);
    CHECK_STREQ(err, "");
    if (p == NULL)
        return;
    CHECK(p->ntime_path == 2);
    CHECK_STREQ(p->time_path[0], "meta");
    CHECK_STREQ(p->time_path[1], "at");
    CHECK(p->nfields == 4);
    CHECK(p->fields[0].npath == 2);
    CHECK_STREQ(p->fields[0].path[0], "sentiment");
    CHECK_STREQ(p->fields[0].path[1], "score");
    CHECK(p->fields[0].min == -1000 && p->fields[0].max == 1000);
    CHECK(p->fields[1].type == FIELD_INT && p->fields[1].max == 100);
    CHECK(p->fields[2].type == FIELD_BOOL && p->fields[2].required);
    CHECK(p->nviews == 2);
    CHECK(p->views[0].ngroup == 0 && p->views[0].nslots == 1);
    CHECK(p->views[1].ngroup == 1 && p->views[1].group_by[0] == 3);
    CHECK(p->views[1].metrics[0].kind == METRIC_MIN);
    CHECK(p->views[1].metrics[1].slot == 2 && p->views[1].nslots == 5);
    CHECK(p->views[1].nwhere == 5);
    if (p->views[1].nwhere == 5) {
        const struct cond *w = p->views[1].where;
        CHECK(w[0].field == 2 && w[0].op == COND_EQ && w[0].vals[0].num == 1);
        CHECK(w[1].field == 1 && w[1].op == COND_GE && w[1].vals[0].num == 1);
        CHECK(w[2].op == COND_LT && w[2].vals[0].num == 50);
        CHECK(w[3].op == COND_IN && w[3].nvals == 2);
        CHECK_STREQ(w[3].vals[1].str, "y");
        CHECK(w[4].field == 0 && w[4].op == COND_NE &&
            w[4].vals[0].num == 500);
    }
    CHECK(pipeline_cutoff_unit(p) == 6 * 3600000);
    CHECK(p->batch.ninputs == 1);
    CHECK_STREQ(p->batch.inputs[0], "in/");
    CHECK_STREQ(p->batch.rejects, "rej.jsonl");
    CHECK(p->speed.partitions == 8 && p->speed.lateness == 0);
    CHECK(p->speed.max_batch == 5 && p->speed.commit_ms == 50);
    CHECK(p->speed.start_latest == 1 && p->speed.skip_data_loss == 1);
    CHECK_STREQ(p->speed.rejects_topic, "bad");
    CHECK(p->speed.rejects_file == NULL);
    CHECK_STREQ(p->speed.archive, "arch");
    CHECK_STREQ(p->speed.group, "g");
    CHECK(p->speed.nkafka == 4);
    if (p->speed.nkafka == 4) {
        CHECK_STREQ(p->speed.kafka_keys[0], "security.protocol");
        CHECK_STREQ(p->speed.kafka_vals[0], "SASL_SSL");
        CHECK_STREQ(p->speed.kafka_vals[1], "1048576");
        CHECK_STREQ(p->speed.kafka_vals[2], "true");
        CHECK_STREQ(p->speed.kafka_vals[3], "0.5");
    }
    CHECK_STREQ(p->serving.listen, "[::1]:0");
    CHECK_STREQ(p->serving.token, "t0k");
    CHECK_STREQ(p->serving.cors_origin, "*");
    CHECK(p->serving.threads == 4 && p->serving.max_connections == 10);
    CHECK(p->serving.timeout == 3 && p->serving.max_points == 7);
    CHECK(p->serving.max_top == 9);
    pipeline_free(p);
}

/* Prefix of a valid file; cases append the event and views. */
#define HEAD "{\"name\":\"shop\",\"store\":\"s\","
#define EV "\"event\":{\"time\":\"ts\",\"fields\":{\"customer\":\"string\"," \
    "\"amount\":{\"type\":\"decimal\",\"scale\":2},\"n\":\"int\"," \
    "\"ok\":\"bool\"}}"
#define VIEW(body) HEAD EV ",\"views\":{\"v\":" body "}}"
#define GOOD_VIEW "{\"granularity\":\"1h\",\"metrics\":{\"c\":\"count\"}"
/* The message for a metric of no known kind, up to what it got. */
#define KINDS "expected \"count\", \"sum(FIELD)\", \"min(FIELD)\", " \
    "\"max(FIELD)\", \"avg(FIELD)\", \"stddev(FIELD)\", " \
    "\"stddev_pop(FIELD)\", \"distinct(FIELD)\" or \"quantile(FIELD, Q)\", got "

static void
test_pipeline_errors(void)
{
    static const struct {
        const char *json;
        const char *err;
    } cases[] = {
        {"", "shop.json: line 1, column 1: invalid JSON"},
        {"{\n  \"name\": \"x\",\n  \"store\" \"s\"\n}",
            "shop.json: line 3, column 11: invalid JSON"},
        {"{} x", "shop.json: line 1, column 4: unexpected text after the "
            "JSON object"},
        {"{\"name\":\"\xff\"}", "shop.json: line 1, column 10: invalid UTF-8"},
        {"[]", "shop.json: expected an object, got an array"},
        {"{}", "shop.json: name: required"},
        {"{\"name\":\"shop\",\"nmae\":1}", "shop.json: unknown key \"nmae\""},
        {"{\"name\":\"shop\",\"name\":\"x\"}",
            "shop.json: duplicate key \"name\""},
        {"{\"name\":7}", "shop.json: name: expected a string, got 7"},
        {"{\"name\":\"a b\"}", "shop.json: name: expected 1 to 64 letters, "
            "digits, \"_\", \"-\" or \".\""},
        {"{\"name\":\"shop\"}", "shop.json: store: required"},
        {"{\"name\":\"shop\",\"store\":\"\"}",
            "shop.json: store: expected a non-empty string"},
        {HEAD "\"x\":1}", "shop.json: unknown key \"x\""},
        {HEAD "\"views\":{}}", "shop.json: event: required"},
        {HEAD "\"event\":{\"fields\":{}}}", "shop.json: event.time: required"},
        {HEAD "\"event\":{\"time\":\"a..b\"}}", "shop.json: event.time: "
            "invalid field name: empty component in a dotted name"},
        {HEAD "\"event\":{\"time\":\"t\",\"field\":{}}}",
            "shop.json: event: unknown key \"field\""},
        {HEAD "\"event\":{\"time\":\"t\",\"fields\":[]}}",
            "shop.json: event.fields: expected an object, got an array"},
        {HEAD "\"event\":{\"time\":\"t\",\"fields\":{\"a\":\"text\"}}}",
            "shop.json: event.fields.a: expected \"string\", \"int\", "
            "\"decimal\", \"float\", \"bool\" or \"array\", got \"text\""},
        {HEAD "\"event\":{\"time\":\"t\",\"fields\":{\"a\":{\"type\":1}}}}",
            "shop.json: event.fields.a.type: expected \"string\", \"int\", "
            "\"decimal\", \"float\", \"bool\" or \"array\", got 1"},
        {HEAD "\"event\":{\"time\":\"t\",\"fields\":{\"a\":{}}}}",
            "shop.json: event.fields.a.type: required"},
        {HEAD "\"event\":{\"time\":\"t\",\"fields\":{\"amount\":\"decimal\"}}}",
            "shop.json: event.fields.amount.scale: required for decimal "
            "fields"},
        {HEAD "\"event\":{\"time\":\"t\",\"fields\":{\"amount\":"
            "{\"type\":\"decimal\"}}}}",
            "shop.json: event.fields.amount.scale: required for decimal "
            "fields"},
        {HEAD "\"event\":{\"time\":\"t\",\"fields\":{\"a\":"
            "{\"type\":\"int\",\"scale\":2}}}}",
            "shop.json: event.fields.a.scale: only for decimal and float "
            "fields"},
        {HEAD "\"event\":{\"time\":\"t\",\"fields\":{\"a\":"
            "{\"type\":\"decimal\",\"scale\":10}}}}",
            "shop.json: event.fields.a.scale: expected an integer from 0 to "
            "9, got 10"},
        {HEAD "\"event\":{\"time\":\"t\",\"fields\":{\"a\":"
            "{\"type\":\"decimal\",\"scale\":2,\"min\":0.001}}}}",
            "shop.json: event.fields.a.min: expected a number with at most 2 "
            "decimals, got 0.001"},
        {HEAD "\"event\":{\"time\":\"t\",\"fields\":{\"a\":"
            "{\"type\":\"int\",\"max\":1.5}}}}",
            "shop.json: event.fields.a.max: expected an integer of at most "
            "15 digits, got 1.5"},
        {HEAD "\"event\":{\"time\":\"t\",\"fields\":{\"a\":"
            "{\"type\":\"string\",\"min\":1}}}}",
            "shop.json: event.fields.a.min: only for int, decimal and float "
            "fields"},
        {HEAD "\"event\":{\"time\":\"t\",\"fields\":{\"a\":"
            "{\"type\":\"int\",\"min\":5,\"max\":1}}}}",
            "shop.json: event.fields.a: min is greater than max"},
        {HEAD "\"event\":{\"time\":\"t\",\"fields\":{\"a\":"
            "{\"type\":\"int\",\"required\":\"no\"}}}}",
            "shop.json: event.fields.a.required: expected true or false, "
            "got \"no\""},
        {HEAD "\"event\":{\"time\":\"t\",\"fields\":{\"a\":"
            "{\"type\":\"int\",\"default\":1}}}}",
            "shop.json: event.fields.a: unknown key \"default\""},
        {HEAD "\"event\":{\"time\":\"t\",\"fields\":{\"a.\":\"int\"}}}",
            "shop.json: event.fields.a.: invalid field name: empty component "
            "in a dotted name"},
        {VIEW("[]"), "shop.json: views.v: expected an object, got an array"},
        {HEAD EV ",\"views\":{\"a b\":" GOOD_VIEW "}}}",
            "shop.json: views.a b: invalid view name: expected 1 to 64 "
            "letters, digits, \"_\" or \"-\""},
        {VIEW("{\"metrics\":{\"c\":\"count\"}}"),
            "shop.json: views.v.granularity: required"},
        {VIEW("{\"granularity\":\"7m\",\"metrics\":{\"c\":\"count\"}}"),
            "shop.json: views.v.granularity: expected a duration from 1s to "
            "1d that divides a day, got \"7m\""},
        {VIEW("{\"granularity\":\"2d\",\"metrics\":{\"c\":\"count\"}}"),
            "shop.json: views.v.granularity: expected a duration from 1s to "
            "1d that divides a day, got \"2d\""},
        {VIEW("{\"granularity\":\"500ms\",\"metrics\":{\"c\":\"count\"}}"),
            "shop.json: views.v.granularity: expected a duration from 1s to "
            "1d that divides a day, got \"500ms\""},
        {VIEW("{\"granularity\":3600,\"metrics\":{\"c\":\"count\"}}"),
            "shop.json: views.v.granularity: expected a duration from 1s to "
            "1d that divides a day, got 3600"},
        {VIEW("{\"granularity\":\"1h\"}"),
            "shop.json: views.v.metrics: required"},
        {VIEW("{\"granularity\":\"1h\",\"metrics\":{}}"),
            "shop.json: views.v.metrics: expected at least one metric"},
        {VIEW("{\"granularity\":\"1h\",\"metric\":{}}"),
            "shop.json: views.v: unknown key \"metric\""},
        {VIEW("{\"granularity\":\"1h\",\"metrics\":{\"revenue\":"
            "\"sum(amout)\"}}"),
            "shop.json: views.v.metrics.revenue: unknown field \"amout\""},
        {VIEW("{\"granularity\":\"1h\",\"metrics\":{\"r\":\"sum(customer)\"}}"),
            "shop.json: views.v.metrics.r: sum takes an int, decimal or float "
            "field, \"customer\" is a string"},
        {VIEW("{\"granularity\":\"1h\",\"metrics\":{\"r\":\"median(n)\"}}"),
            "shop.json: views.v.metrics.r: " KINDS "\"median(n)\""},
        {VIEW("{\"granularity\":\"1h\",\"metrics\":{\"r\":\"sum()\"}}"),
            "shop.json: views.v.metrics.r: " KINDS "\"sum()\""},
        {VIEW("{\"granularity\":\"1h\",\"metrics\":{\"1r\":\"count\"}}"),
            "shop.json: views.v.metrics.1r: invalid metric name: expected a "
            "letter or \"_\", then letters, digits or \"_\", at most 64"},
        {VIEW("{\"granularity\":\"1h\",\"metrics\":{\"c\":\"count\","
            "\"c\":\"count\"}}"),
            "shop.json: views.v.metrics: duplicate key \"c\""},
        {VIEW("{\"group_by\":[\"country\"],\"granularity\":\"1h\","
            "\"metrics\":{\"c\":\"count\"}}"),
            "shop.json: views.v.group_by[0]: unknown field \"country\""},
        {VIEW("{\"group_by\":[\"n\",\"n\"],\"granularity\":\"1h\","
            "\"metrics\":{\"c\":\"count\"}}"),
            "shop.json: views.v.group_by[1]: field \"n\" is already grouped "
            "by"},
        {VIEW("{\"group_by\":[1],\"granularity\":\"1h\","
            "\"metrics\":{\"c\":\"count\"}}"),
            "shop.json: views.v.group_by[0]: expected a field name, got 1"},
        {VIEW(GOOD_VIEW ",\"where\":{\"country\":\"x\"}}"),
            "shop.json: views.v.where: unknown field \"country\""},
        {VIEW(GOOD_VIEW ",\"where\":{\"customer\":5}}"),
            "shop.json: views.v.where.customer: expected a string, got 5"},
        {VIEW(GOOD_VIEW ",\"where\":{\"amount\":{\"gte\":1.234}}}"),
            "shop.json: views.v.where.amount.gte: expected a number with at "
            "most 2 decimals, got 1.234"},
        {VIEW(GOOD_VIEW ",\"where\":{\"n\":{\"like\":1}}}"),
            "shop.json: views.v.where.n: unknown key \"like\""},
        {VIEW(GOOD_VIEW ",\"where\":{\"n\":{}}}"),
            "shop.json: views.v.where.n: expected at least one of \"eq\", "
            "\"ne\", \"lt\", \"lte\", \"gt\", \"gte\", \"in\""},
        {VIEW(GOOD_VIEW ",\"where\":{\"n\":{\"in\":[]}}}"),
            "shop.json: views.v.where.n.in: expected an array of 1 to 1024 "
            "values, got an array"},
        {VIEW(GOOD_VIEW ",\"where\":{\"n\":{\"in\":[1,\"2\"]}}}"),
            "shop.json: views.v.where.n.in[1]: expected a number, got \"2\""},
        {VIEW(GOOD_VIEW ",\"where\":{\"ok\":null}}"),
            "shop.json: views.v.where.ok: expected true or false, got null"},
        {HEAD EV ",\"batch\":{\"inputs\":[\"a\",\"\"]}}",
            "shop.json: batch.inputs[1]: expected a non-empty path, got \"\""},
        {HEAD EV ",\"batch\":{\"input\":[]}}",
            "shop.json: batch: unknown key \"input\""},
        {HEAD EV ",\"speed\":{\"partitions\":0}}",
            "shop.json: speed.partitions: expected an integer from 1 to "
            "10000, got 0"},
        {HEAD EV ",\"speed\":{\"partitions\":\"4\"}}",
            "shop.json: speed.partitions: expected an integer from 1 to "
            "10000, got \"4\""},
        {HEAD EV ",\"speed\":{\"lateness\":\"10\"}}",
            "shop.json: speed.lateness: expected a duration from 0s to 366d "
            "such as \"10m\", got \"10\""},
        {HEAD EV ",\"speed\":{\"start\":\"now\"}}",
            "shop.json: speed.start: expected \"earliest\" or \"latest\", "
            "got \"now\""},
        {HEAD EV ",\"speed\":{\"on_data_loss\":\"ignore\"}}",
            "shop.json: speed.on_data_loss: expected \"fail\" or \"skip\", "
            "got \"ignore\""},
        {HEAD EV ",\"speed\":{\"kafka\":{\"a\":[1]}}}",
            "shop.json: speed.kafka.a: expected a string, number or bool, "
            "got an array"},
        {HEAD EV ",\"speed\":{\"rejects_topic\":\"t\",\"rejects_file\":\"f\"}}",
            "shop.json: speed.rejects_file: not allowed with "
            "speed.rejects_topic"},
        {HEAD EV ",\"speed\":{\"brokers\":\"\"}}",
            "shop.json: speed.brokers: expected a non-empty string, got \"\""},
        {HEAD EV ",\"serving\":{\"listen\":\"8080\"}}",
            "shop.json: serving.listen: expected ADDR:PORT such as "
            "\"127.0.0.1:8080\", got \"8080\""},
        {HEAD EV ",\"serving\":{\"listen\":\"h:70000\"}}",
            "shop.json: serving.listen: expected ADDR:PORT such as "
            "\"127.0.0.1:8080\", got \"h:70000\""},
        {HEAD EV ",\"serving\":{\"threads\":2.5}}",
            "shop.json: serving.threads: expected an integer from 1 to 1024, "
            "got 2.5"},
        {HEAD EV ",\"serving\":{\"port\":1}}",
            "shop.json: serving: unknown key \"port\""},
    };
    char err[ERR_LEN];

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct pipeline *p = NULL;
        int rc = load_text(cases[i].json, &p, err);
        if (rc != -1 || strcmp(err, cases[i].err) != 0)
            printf("  case %zu: rc %d\n    got  %s\n    want %s\n", i, rc,
                err, cases[i].err);
        CHECK(rc == -1 && p == NULL);
        CHECK_STREQ(err, cases[i].err);
        pipeline_free(p);
    }
}

/* Fields of one event.fields entry named "f", with a view "v" that takes
 * the view body. */
#define FIELD_F(def) HEAD "\"event\":{\"time\":\"ts\",\"fields\":{" \
    "\"s\":\"string\",\"f\":" def "}}}"

/* A file, and its error (NULL: it loads). */
struct load_case {
    const char *json;
    const char *err;
};

static void
check_loads(const struct load_case *cases, size_t n)
{
    char err[ERR_LEN];
    struct pipeline *p = NULL;

    for (size_t i = 0; i < n; i++) {
        int rc = load_text(cases[i].json, &p, err);

        if ((rc == 0) != (cases[i].err == NULL) || (cases[i].err != NULL &&
            strcmp(err, cases[i].err) != 0))
            printf("  case %zu: rc %d\n    got  %s\n    want %s\n", i, rc,
                err, cases[i].err != NULL ? cases[i].err : "(loads)");
        CHECK((rc == 0) == (cases[i].err == NULL));
        if (cases[i].err != NULL)
            CHECK_STREQ(err, cases[i].err);
        pipeline_free(p);
        p = NULL;
    }
}

/* Float fields and rounded decimals: defaults, bounds, errors. */
static void
test_pipeline_float(void)
{
    static const struct load_case cases[] = {
        {FIELD_F("\"float\""), NULL},
        {FIELD_F("{\"type\":\"float\",\"scale\":0}"), NULL},
        {FIELD_F("{\"type\":\"float\",\"scale\":9,\"min\":-1.5}"), NULL},
        {FIELD_F("{\"type\":\"decimal\",\"scale\":2,\"round\":true}"),
            NULL},
        {FIELD_F("{\"type\":\"float\",\"scale\":10}"),
            "shop.json: event.fields.f.scale: expected an integer from 0 to "
            "9, got 10"},
        {FIELD_F("{\"type\":\"float\",\"round\":true}"),
            "shop.json: event.fields.f.round: only for decimal fields (a "
            "float always rounds)"},
        {FIELD_F("{\"type\":\"int\",\"round\":true}"),
            "shop.json: event.fields.f.round: only for decimal fields (a "
            "float always rounds)"},
        {FIELD_F("{\"type\":\"decimal\",\"scale\":2,\"round\":1}"),
            "shop.json: event.fields.f.round: expected true or false, got 1"},
        {FIELD_F("{\"type\":\"float\",\"scale\":1,\"max\":0.25}"),
            "shop.json: event.fields.f.max: expected a number with at most 1 "
            "decimals, got 0.25"},
    };
    char err[ERR_LEN];
    struct pipeline *p = NULL;

    check_loads(cases, sizeof(cases) / sizeof(cases[0]));
    CHECK(load_text(FIELD_F("\"float\""), &p, err) == 0);
    if (p != NULL)
        CHECK(p->fields[1].type == FIELD_FLOAT && p->fields[1].scale == 6 &&
            p->fields[1].round && p->fields[1].required);
    pipeline_free(p);
    CHECK(load_text(FIELD_F("{\"type\":\"decimal\",\"scale\":3}"), &p,
        err) == 0);
    if (p != NULL)
        CHECK(p->fields[1].scale == 3 && !p->fields[1].round);
    pipeline_free(p);
}

/* A file with field "f" declared as def and one view "v" with body. */
#define ARRAY_VIEW(def, body) HEAD "\"event\":{\"time\":\"ts\",\"fields\":{" \
    "\"s\":\"string\",\"f\":" def "}},\"views\":{\"v\":{" \
    "\"granularity\":\"1h\"," body "}}}"
#define TAGS "{\"type\":\"array\",\"items\":\"string\"}"

/* Array fields and explode. */
static void
test_pipeline_array(void)
{
    static const struct load_case cases[] = {
        {FIELD_F(TAGS), NULL},
        {FIELD_F("{\"type\":\"array\",\"items\":\"float\",\"scale\":2,"
            "\"min\":0,\"required\":true}"), NULL},
        {FIELD_F("{\"type\":\"array\"}"),
            "shop.json: event.fields.f.items: required for array fields"},
        {FIELD_F("\"array\""),
            "shop.json: event.fields.f.items: required for array fields"},
        {FIELD_F("{\"type\":\"array\",\"items\":\"array\"}"),
            "shop.json: event.fields.f.items: expected \"string\", \"int\", "
            "\"decimal\", \"float\" or \"bool\", got \"array\""},
        {FIELD_F("{\"type\":\"string\",\"items\":\"string\"}"),
            "shop.json: event.fields.f.items: only for array fields"},
        {FIELD_F("{\"type\":\"array\",\"items\":\"decimal\"}"),
            "shop.json: event.fields.f.scale: required for decimal fields"},
        {FIELD_F("{\"type\":\"array\",\"items\":\"string\",\"min\":1}"),
            "shop.json: event.fields.f.min: only for int, decimal and float "
            "fields"},
        {ARRAY_VIEW(TAGS, "\"explode\":\"f\",\"group_by\":[\"s\",\"f\"],"
            "\"where\":{\"f\":{\"in\":[\"a\",\"b\"]}},"
            "\"metrics\":{\"c\":\"count\"}"), NULL},
        {ARRAY_VIEW(TAGS, "\"explode\":\"f\",\"metrics\":{\"c\":\"count\"}"),
            NULL},
        {ARRAY_VIEW(TAGS, "\"explode\":\"s\",\"metrics\":{\"c\":\"count\"}"),
            "shop.json: views.v.explode: field \"s\" is not an array"},
        {ARRAY_VIEW(TAGS, "\"explode\":\"x\",\"metrics\":{\"c\":\"count\"}"),
            "shop.json: views.v.explode: unknown field \"x\""},
        {ARRAY_VIEW(TAGS, "\"explode\":[\"f\"],\"metrics\":{\"c\":\"count\"}"),
            "shop.json: views.v.explode: expected the name of an array field, "
            "got an array"},
        {ARRAY_VIEW(TAGS, "\"group_by\":[\"f\"],\"metrics\":{\"c\":\"count\"}"),
            "shop.json: views.v.group_by[0]: field \"f\" is an array: group by "
            "it in a view that explodes it (\"explode\": \"f\")"},
        {ARRAY_VIEW(TAGS, "\"where\":{\"f\":\"a\"},\"metrics\":{\"c\":\"count\"}"),
            "shop.json: views.v.where: field \"f\" is an array: filter on it "
            "in a view that explodes it (\"explode\": \"f\")"},
        {ARRAY_VIEW(TAGS, "\"explode\":\"f\",\"where\":{\"f\":1},"
            "\"metrics\":{\"c\":\"count\"}"),
            "shop.json: views.v.where.f: expected a string, got 1"},
        {ARRAY_VIEW(TAGS, "\"explode\":\"f\",\"metrics\":{\"c\":\"max(f)\"}"),
            "shop.json: views.v.metrics.c: max takes an int, decimal or float "
            "field, \"f\" is an array"},
    };
    char err[ERR_LEN];
    struct pipeline *p = NULL;

    check_loads(cases, sizeof(cases) / sizeof(cases[0]));
    CHECK(load_text(ARRAY_VIEW(TAGS, "\"explode\":\"f\",\"group_by\":[\"f\"],"
        "\"metrics\":{\"c\":\"count\"}"), &p, err) == 0);
    if (p != NULL) {
        CHECK(p->fields[1].type == FIELD_ARRAY &&
            p->fields[1].items == FIELD_STRING && !p->fields[1].required);
        CHECK(p->fields[0].items == FIELD_STRING);
        CHECK(p->views[0].explodes && p->views[0].explode == 1);
    }
    pipeline_free(p);
}

/* views.NAME.outputs: compiled by outputs.c; the stored rows keep their
 * signature. */
#define OUT_VIEW(outputs) VIEW("{\"granularity\":\"1h\",\"metrics\":" \
    "{\"c\":\"count\",\"avg_price\":\"avg(amount)\"},\"outputs\":" \
    outputs "}")

static void
test_pipeline_outputs(void)
{
    static const struct load_case cases[] = {
        {OUT_VIEW("{}"), NULL},
        {OUT_VIEW("{\"low\":\"avg_price - 1\",\"label\":\"case(low > 0, "
            "'up', 'down')\"}"), NULL},
        {OUT_VIEW("{\"low\":\"avg_prce - 1\"}"),
            "shop.json: views.v.outputs.low: unknown metric \"avg_prce\""},
        {OUT_VIEW("\"c + 1\""),
            "shop.json: views.v.outputs: expected an object, got \"c + 1\""},
        {OUT_VIEW("{\"c\":\"c + 1\"}"),
            "shop.json: views.v.outputs.c: \"c\" is also a metric of the "
            "view: outputs need names of their own"},
        {OUT_VIEW("{\"x\":\"c >\"}"),
            "shop.json: views.v.outputs.x: expected a value, a name or a "
            "call, got the end at column 4"},
        {VIEW("{\"granularity\":\"1h\",\"metrics\":{\"c\":\"count\"},"
            "\"outputs\":{\"x\":\"c\"},\"where\":{\"n\":\"a\"}}"),
            "shop.json: views.v.where.n: expected a number, got \"a\""},
    };
    char err[ERR_LEN];
    struct pipeline *p = NULL, *q = NULL;

    check_loads(cases, sizeof(cases) / sizeof(cases[0]));
    CHECK(load_text(OUT_VIEW("{\"low\":\"avg_price - 1\",\"label\":"
        "\"case(low > 0, 'up', 'down')\"}"), &p, err) == 0);
    CHECK(load_text(OUT_VIEW("{}"), &q, err) == 0);
    if (p != NULL && q != NULL) {
        const struct view *v = &p->views[0];

        CHECK_EQ_INT(v->noutputs, 2);
        CHECK_EQ_STR(v->outputs[0].name, "low");
        CHECK_EQ_STR(v->outputs[0].src, "avg_price - 1");
        CHECK_EQ_STR(v->outputs[1].name, "label");
        CHECK_EQ_INT(q->views[0].noutputs, 0);
        CHECK(pipeline_view_signature(p, v) ==
            pipeline_view_signature(q, &q->views[0]));
    }
    pipeline_free(p);
    pipeline_free(q);
}

/* batch.default_time: in the file, and as an override. */
static void
test_pipeline_default_time(void)
{
    char err[ERR_LEN];
    struct pipeline *p = NULL;

    CHECK(load_text(HEAD EV ",\"batch\":{\"default_time\":\"mtime\"}}", &p,
        err) == 0);
    if (p == NULL)
        return;
    CHECK_STREQ(p->batch.default_time, "mtime");
    CHECK(pipeline_set(p, "batch.default_time", "2026-01-01T00:00:00Z",
        err) == 0);
    CHECK_STREQ(p->batch.default_time, "2026-01-01T00:00:00Z");
    CHECK(pipeline_set(p, "batch.default_time", "1767225600", err) == 0);
    CHECK(pipeline_set(p, "batch.default_time", "none", err) == 0);
    CHECK(p->batch.default_time == NULL);
    CHECK(pipeline_set(p, "batch.default_time", "now", err) == -1);
    CHECK_STREQ(err, "batch.default_time: expected \"mtime\", \"none\", or an "
        "RFC 3339 time or epoch seconds, got \"now\"");
    pipeline_free(p);
    p = NULL;
    CHECK(load_text(HEAD EV "}", &p, err) == 0);
    if (p != NULL)
        CHECK(p->batch.default_time == NULL);
    pipeline_free(p);
    p = NULL;
    CHECK(load_text(HEAD EV ",\"batch\":{\"default_time\":1767225600}}", &p,
        err) == 0);
    if (p != NULL)
        CHECK_STREQ(p->batch.default_time, "1767225600");
    pipeline_free(p);
    p = NULL;
    CHECK(load_text(HEAD EV ",\"batch\":{\"default_time\":true}}", &p, err) ==
        -1);
    CHECK_STREQ(err, "shop.json: batch.default_time: expected \"mtime\", "
        "\"none\", or an RFC 3339 time or epoch seconds, got true");
}

static void
test_pipeline_file_errors(void)
{
    char err[ERR_LEN], want[ERR_LEN + 64], *big;
    struct pipeline *p = NULL;
    const char *path;

    CHECK(pipeline_load(&p, "/nonexistent/shop.json", err) == -1);
    CHECK_STREQ(err, "/nonexistent/shop.json: No such file or directory");
    CHECK(pipeline_load(&p, tmpdir, err) == -1);
    snprintf(want, sizeof(want), "%s: is a directory", tmpdir);
    CHECK_STREQ(err, want);

    big = malloc(2 * 1024 * 1024);
    memset(big, ' ', 2 * 1024 * 1024 - 1);
    big[2 * 1024 * 1024 - 1] = '\0';
    path = write_tmp("big.json", big);
    free(big);
    CHECK(pipeline_load(&p, path, err) == -1);
    snprintf(want, sizeof(want), "%s: larger than 1 MiB", path);
    CHECK_STREQ(err, want);
    CHECK(p == NULL);
}

static void
test_pipeline_set(void)
{
    static const struct {
        const char *key, *val, *err;
    } bad[] = {
        {"speed.partitions", "x", "speed.partitions: expected an integer "
            "from 1 to 10000, got \"x\""},
        {"speed.partitions", "4x", "speed.partitions: expected an integer "
            "from 1 to 10000, got \"4x\""},
        {"speed.partitions", "", "speed.partitions: expected an integer "
            "from 1 to 10000, got \"\""},
        {"speed.partitions", "99999999999999999999", "speed.partitions: "
            "expected an integer from 1 to 10000, got "
            "\"99999999999999999999\""},
        {"speed.lateness", "-1m", "speed.lateness: expected a duration from "
            "0s to 366d such as \"10m\", got \"-1m\""},
        {"speed.start", "EARLIEST", "speed.start: expected \"earliest\" or "
            "\"latest\", got \"EARLIEST\""},
        {"serving.listen", ":80", "serving.listen: expected ADDR:PORT such "
            "as \"127.0.0.1:8080\", got \":80\""},
        {"store", "", "store: expected a non-empty string, got \"\""},
        {"name", "x", "name: not a setting that can be overridden"},
        {"speed.kafka", "x", "speed.kafka: not a setting that can be "
            "overridden"},
    };
    char path[512], err[ERR_LEN];
    struct pipeline *p = NULL;

    if (pipeline_load(&p, test_top_path("tests/fixtures/shop.json", path,
        sizeof(path)), err) != 0) {
        CHECK(0);
        return;
    }
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        err[0] = '\0';
        CHECK(pipeline_set(p, bad[i].key, bad[i].val, err) == -1);
        CHECK_STREQ(err, bad[i].err);
    }
    CHECK(p->speed.partitions == 4 && p->speed.start_latest == 0);

    CHECK(pipeline_set(p, "speed.partitions", "12", err) == 0);
    CHECK(p->speed.partitions == 12);
    CHECK(pipeline_set(p, "speed.lateness", "1h", err) == 0);
    CHECK(p->speed.lateness == 3600000);
    CHECK(pipeline_set(p, "speed.lateness", "0", err) == 0);
    CHECK(p->speed.lateness == 0);
    CHECK(pipeline_set(p, "speed.start", "latest", err) == 0);
    CHECK(p->speed.start_latest == 1);
    CHECK(pipeline_set(p, "speed.on_data_loss", "skip", err) == 0);
    CHECK(p->speed.skip_data_loss == 1);
    CHECK(pipeline_set(p, "speed.brokers", "k1:9092,k2:9092", err) == 0);
    CHECK_STREQ(p->speed.brokers, "k1:9092,k2:9092");
    CHECK(pipeline_set(p, "serving.listen", "0.0.0.0:9000", err) == 0);
    CHECK_STREQ(p->serving.listen, "0.0.0.0:9000");
    CHECK(pipeline_set(p, "serving.token", "secret", err) == 0);
    CHECK_STREQ(p->serving.token, "secret");
    CHECK(pipeline_set(p, "serving.token", "", err) == 0);
    CHECK(p->serving.token == NULL);

    /* defaults derived from the store follow it; explicit values stay */
    CHECK(pipeline_set(p, "store", "/data/st", err) == 0);
    CHECK_STREQ(p->store, "/data/st");
    CHECK_STREQ(p->batch.rejects, "/data/st/rejects/batch.jsonl");
    CHECK_STREQ(p->speed.rejects_file, "/data/st/rejects/speed.jsonl");
    CHECK(pipeline_set(p, "batch.rejects", "r.jsonl", err) == 0);
    CHECK(pipeline_set(p, "store", "/other", err) == 0);
    CHECK_STREQ(p->batch.rejects, "r.jsonl");
    CHECK_STREQ(p->speed.rejects_file, "/other/rejects/speed.jsonl");

    /* a rejects topic replaces the rejects file and back */
    CHECK(pipeline_set(p, "speed.rejects_topic", "shop.rejects", err) == 0);
    CHECK_STREQ(p->speed.rejects_topic, "shop.rejects");
    CHECK(p->speed.rejects_file == NULL);
    CHECK(pipeline_set(p, "speed.rejects_file", "rf", err) == 0);
    CHECK(p->speed.rejects_topic == NULL);
    CHECK_STREQ(p->speed.rejects_file, "rf");
    pipeline_free(p);
}

static void
test_pipeline_signature(void)
{
    const char *base = VIEW("{\"group_by\":[\"customer\"],\"granularity\":"
        "\"1h\",\"metrics\":{\"c\":\"count\",\"s\":\"sum(amount)\"}}");
    const char *renamed = VIEW("{\"group_by\":[\"customer\"],\"granularity\":"
        "\"1h\",\"metrics\":{\"orders\":\"count\",\"rev\":\"sum(amount)\"}}");
    const char *others[] = {
        VIEW("{\"group_by\":[\"customer\"],\"granularity\":\"1d\","
            "\"metrics\":{\"c\":\"count\",\"s\":\"sum(amount)\"}}"),
        VIEW("{\"group_by\":[\"n\"],\"granularity\":\"1h\","
            "\"metrics\":{\"c\":\"count\",\"s\":\"sum(amount)\"}}"),
        VIEW("{\"group_by\":[\"customer\"],\"granularity\":\"1h\","
            "\"metrics\":{\"c\":\"count\",\"s\":\"max(amount)\"}}"),
        VIEW("{\"group_by\":[\"customer\"],\"granularity\":\"1h\","
            "\"metrics\":{\"c\":\"count\",\"s\":\"sum(n)\"}}"),
        VIEW("{\"group_by\":[\"customer\"],\"granularity\":\"1h\","
            "\"metrics\":{\"c\":\"count\",\"s\":\"sum(amount)\"},"
            "\"where\":{\"ok\":true}}"),
        VIEW("{\"group_by\":[\"customer\"],\"granularity\":\"1h\","
            "\"metrics\":{\"c\":\"count\",\"s\":\"sum(amount)\"},"
            "\"where\":{\"ok\":false}}"),
    };
    struct pipeline *p = NULL, *q = NULL;
    char err[ERR_LEN];
    uint64_t sig;

    CHECK(load_text(base, &p, err) == 0);
    CHECK(load_text(base, &q, err) == 0);
    if (p == NULL || q == NULL)
        goto done;
    sig = pipeline_view_signature(p, &p->views[0]);
    CHECK(sig == pipeline_view_signature(q, &q->views[0]));
    pipeline_free(q);
    q = NULL;
    CHECK(load_text(renamed, &q, err) == 0);
    if (q != NULL)
        CHECK(sig == pipeline_view_signature(q, &q->views[0]));
    for (size_t i = 0; i < sizeof(others) / sizeof(others[0]); i++) {
        pipeline_free(q);
        q = NULL;
        CHECK(load_text(others[i], &q, err) == 0);
        if (q != NULL)
            CHECK(sig != pipeline_view_signature(q, &q->views[0]));
    }
done:
    pipeline_free(p);
    pipeline_free(q);
}

/* A view "v" with one metric "m" written as spec. */
#define METRIC_M(spec) VIEW("{\"granularity\":\"1h\",\"metrics\":{\"m\":" \
    spec "}}")

/* stddev, stddev_pop, distinct, quantile: what loads, and each error. */
static void
test_pipeline_new_metrics(void)
{
    static const struct load_case cases[] = {
        {METRIC_M("\"stddev(amount)\""), NULL},
        {METRIC_M("\"stddev_pop(n)\""), NULL},
        {METRIC_M("\"distinct(customer)\""), NULL},
        {METRIC_M("\"distinct(ok)\""), NULL},
        {METRIC_M("\"distinct(amount)\""), NULL},
        {METRIC_M("\"quantile(amount, 0.99)\""), NULL},
        {METRIC_M("\"quantile( amount ,1)\""), NULL},
        {METRIC_M("\"quantile(n, 0)\""), NULL},
        {METRIC_M("\"quantile(n, 5e-1)\""), NULL},
        {METRIC_M("\"stddev(customer)\""),
            "shop.json: views.v.metrics.m: stddev takes an int, decimal or "
            "float field, \"customer\" is a string"},
        {METRIC_M("\"stddev_pop(ok)\""),
            "shop.json: views.v.metrics.m: stddev_pop takes an int, decimal "
            "or float field, \"ok\" is a bool"},
        {METRIC_M("\"stddev(amout)\""),
            "shop.json: views.v.metrics.m: unknown field \"amout\""},
        {METRIC_M("\"stddev()\""),
            "shop.json: views.v.metrics.m: " KINDS "\"stddev()\""},
        {METRIC_M("\"variance(n)\""),
            "shop.json: views.v.metrics.m: " KINDS "\"variance(n)\""},
        {METRIC_M("\"distinct\""),
            "shop.json: views.v.metrics.m: " KINDS "\"distinct\""},
        {METRIC_M("\"distinct(x)\""),
            "shop.json: views.v.metrics.m: unknown field \"x\""},
        {ARRAY_VIEW(TAGS, "\"metrics\":{\"m\":\"distinct(f)\"}"),
            "shop.json: views.v.metrics.m: distinct takes a string, int, "
            "decimal, float or bool field, \"f\" is an array"},
        {METRIC_M("\"quantile(amount, 1.5)\""),
            "shop.json: views.v.metrics.m: quantile takes a number from 0 to "
            "1, got 1.5"},
        {METRIC_M("\"quantile(amount, -0.1)\""),
            "shop.json: views.v.metrics.m: quantile takes a number from 0 to "
            "1, got -0.1"},
        {METRIC_M("\"quantile(amount, high)\""),
            "shop.json: views.v.metrics.m: quantile takes a number from 0 to "
            "1, got high"},
        {METRIC_M("\"quantile(amount, 0x1p-1)\""),
            "shop.json: views.v.metrics.m: quantile takes a number from 0 to "
            "1, got 0x1p-1"},
        {METRIC_M("\"quantile(amount, 1e999)\""),
            "shop.json: views.v.metrics.m: quantile takes a number from 0 to "
            "1, got 1e999"},
        {METRIC_M("\"quantile(amount)\""),
            "shop.json: views.v.metrics.m: quantile takes a field and a "
            "number from 0 to 1, as in \"quantile(latency, 0.99)\", got "
            "\"quantile(amount)\""},
        {METRIC_M("\"quantile(, 0.5)\""),
            "shop.json: views.v.metrics.m: quantile takes a field and a "
            "number from 0 to 1, as in \"quantile(latency, 0.99)\", got "
            "\"quantile(, 0.5)\""},
        {METRIC_M("\"quantile(customer, 0.5)\""),
            "shop.json: views.v.metrics.m: quantile takes an int, decimal or "
            "float field, \"customer\" is a string"},
        {METRIC_M("\"quantile(amout, 0.5)\""),
            "shop.json: views.v.metrics.m: unknown field \"amout\""},
        {METRIC_M("0.99"),
            "shop.json: views.v.metrics.m: " KINDS "0.99"},
    };
    struct pipeline *p = NULL;
    char err[ERR_LEN];

    check_loads(cases, sizeof(cases) / sizeof(cases[0]));
    CHECK(load_text(VIEW("{\"granularity\":\"1h\",\"metrics\":{"
        "\"c\":\"count\",\"sd\":\"stddev(amount)\",\"d\":\"distinct(customer)\","
        "\"p\":\"quantile(n, 0.25)\",\"s\":\"sum(n)\"}}"), &p, err) == 0);
    if (p == NULL)
        return;
    const struct view *v = &p->views[0];
    CHECK(v->metrics[1].kind == METRIC_STDDEV && v->metrics[1].slot == 1);
    CHECK(v->metrics[2].kind == METRIC_DISTINCT && v->metrics[2].slot == 7);
    CHECK(v->metrics[2].type == FIELD_STRING);
    CHECK(v->metrics[3].kind == METRIC_QUANTILE && v->metrics[3].q == 0.25);
    CHECK(v->metrics[3].slot == 7 + 129 && v->metrics[3].type == FIELD_INT);
    CHECK(v->metrics[4].slot == 7 + 129 + 515 && v->nslots == 7 + 129 + 518);
    pipeline_free(p);
}

/* FNV-1a 64 of s, as pipeline_view_signature() hashes its text. */
static uint64_t
fnv1a(const char *s)
{
    uint64_t h = 14695981039346656037ULL;

    for (; *s != '\0'; s++) {
        h ^= (unsigned char)*s;
        h *= 1099511628211ULL;
    }
    return h;
}

/*
 * Signatures are stored: a view of the first five kinds keeps the one it
 * had (the text below is what every earlier version hashed), and q is part
 * of a quantile's, so changing it asks for a rebuild.
 */
static void
test_pipeline_signature_metrics(void)
{
    struct pipeline *p = NULL;
    char err[ERR_LEN];

    CHECK(load_text(VIEW("{\"group_by\":[\"customer\"],\"granularity\":"
        "\"1h\",\"metrics\":{\"c\":\"count\",\"s\":\"sum(amount)\","
        "\"lo\":\"min(n)\",\"hi\":\"max(n)\",\"a\":\"avg(amount)\"}}"), &p,
        err) == 0);
    if (p != NULL)
        CHECK(pipeline_view_signature(p, &p->views[0]) == fnv1a(
            "lambdakit-view-1\ngroup:8:customer/string/0;\n"
            "granularity:3600000\nmetrics:count()sum(6:amount/decimal/2;)"
            "min(1:n/int/0;)max(1:n/int/0;)avg(6:amount/decimal/2;)\n"
            "where:"));
    pipeline_free(p);
    /* one metric each: all different but the two spellings of 0.5 */
    static const char *const specs[] = {
        METRIC_M("\"quantile(amount, 0.5)\""),
        METRIC_M("\"quantile(amount, 0.50)\""),
        METRIC_M("\"quantile(amount, 0.9)\""),
        METRIC_M("\"quantile(n, 0.5)\""),
        METRIC_M("\"stddev(amount)\""),
        METRIC_M("\"stddev_pop(amount)\""),
        METRIC_M("\"distinct(amount)\""),
        METRIC_M("\"sum(amount)\""),
    };
    uint64_t sig[8];
    for (int i = 0; i < 8; i++) {
        p = NULL;
        CHECK(load_text(specs[i], &p, err) == 0);
        sig[i] = p != NULL ? pipeline_view_signature(p, &p->views[0]) : 0;
        pipeline_free(p);
    }
    for (int i = 0; i < 8; i++)
        for (int j = i + 1; j < 8; j++)
            CHECK((sig[i] == sig[j]) == (i == 0 && j == 1));
}

static void
test_pipeline_cutoff_unit(void)
{
    struct pipeline *p = NULL;
    char err[ERR_LEN];

    CHECK(load_text(HEAD EV ",\"views\":{"
        "\"a\":{\"granularity\":\"8h\",\"metrics\":{\"c\":\"count\"}},"
        "\"b\":{\"granularity\":\"3h\",\"metrics\":{\"c\":\"count\"}},"
        "\"c\":{\"granularity\":\"45s\",\"metrics\":{\"c\":\"count\"}}}}",
        &p, err) == 0);
    if (p != NULL)
        CHECK(pipeline_cutoff_unit(p) == TS_DAY_MS);
    pipeline_free(p);
    p = NULL;
    CHECK(load_text(HEAD EV ",\"views\":{"
        "\"a\":{\"granularity\":\"4m\",\"metrics\":{\"c\":\"count\"}},"
        "\"b\":{\"granularity\":\"6m\",\"metrics\":{\"c\":\"count\"}}}}",
        &p, err) == 0);
    if (p != NULL)
        CHECK(pipeline_cutoff_unit(p) == 12 * 60000);
    pipeline_free(p);
}

int
main(void)
{
    snprintf(tmpdir, sizeof(tmpdir), "/tmp/pipeline_test.XXXXXX");
    test_tmpdir(tmpdir);
    RUN(test_pipeline_example);
    RUN(test_pipeline_minimal_and_full);
    RUN(test_pipeline_scale_keys);
    RUN(test_pipeline_errors);
    RUN(test_pipeline_float);
    RUN(test_pipeline_array);
    RUN(test_pipeline_outputs);
    RUN(test_pipeline_default_time);
    RUN(test_pipeline_file_errors);
    RUN(test_pipeline_set);
    RUN(test_pipeline_signature);
    RUN(test_pipeline_new_metrics);
    RUN(test_pipeline_signature_metrics);
    RUN(test_pipeline_cutoff_unit);
    if (test_tmpdir_remove(tmpdir) != 0)
        printf("warning: could not remove %s\n", tmpdir);
    return test_report();
}
