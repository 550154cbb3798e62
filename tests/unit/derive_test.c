/* derive_test.c -- unit tests for shared/derive.c: each function, missing values, load errors */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "shared/buf.h"
#include "shared/dec.h"
#include "shared/derive.h"
#include "shared/err.h"
#include "shared/event.h"
#include "shared/pipeline.h"
#include "tests/fixture.h"
#include "tests/test.h"

#define T0 "\"ts\":\"2026-11-20T13:00:00Z\""

static char tmpdir[64];

/* Field f of ev as text: "missing", a string, or the number at scale. */
static const char *
value(const struct pipeline *p, const struct event *ev, const char *name,
    char *buf, size_t size)
{
    int f = pipeline_field_index(p, name);
    const struct event_value *v;
    size_t n = 0;

    if (f < 0)
        return "no such field";
    v = &ev->vals[f];
    if (!v->present)
        return "missing";
    switch (p->fields[f].type) {
    case FIELD_STRING:
        snprintf(buf, size, "%s", v->str);
        if (strlen(v->str) != v->len)
            return "bad length";
        break;
    case FIELD_ARRAY:
        buf[0] = '\0';
        for (int i = 0; i < v->nelems && n < size; i++)
            n += (size_t)snprintf(buf + n, size - n, "%s[%s]", i ? "," : "",
                v->elems[i].str);
        break;
    default:
        dec_format(v->num, p->fields[f].scale, buf, size);
        break;
    }
    return buf;
}

static void
test_derive_values(void)
{
    static const struct {
        const char *fields;     /* after the time */
        const char *field;
        const char *want;
    } cases[] = {
        /* overwrite, then later entries see the new value */
        {"\"city\":\"z\\u00fcrich\",\"pair\":\"BTC/USD\"", "city",
            "Z\xc3\x9cRICH"},
        {"\"city\":\"Z\\u00fcrich\",\"pair\":\"BTC/USD\"", "low",
            "z\xc3\xbcrich"},
        {"\"city\":\"\\u0142\\u00f3d\\u017a\",\"pair\":\"a/b\"", "city",
            "\xc5\x81\xc3\x93" "D\xc5\xb9"},
        {"\"city\":\"stra\\u00dfe\",\"pair\":\"a/b\"", "city",
            "STRA\xc3\x9f" "E"},
        {"\"city\":\"\\u03b1\\u03b8\\u03ae\\u03bd\\u03b1\",\"pair\":\"a/b\"",
            "city", "\xce\x91\xce\x98\xce\x89\xce\x9d\xce\x91"},
        {"\"city\":\"\\u043c\\u043e\\u0441\\u043a\\u0432\\u0430\",\"pair\":"
            "\"a/b\"", "city",
            "\xd0\x9c\xd0\x9e\xd0\xa1\xd0\x9a\xd0\x92\xd0\x90"},
        {"\"city\":\"\\u4eac\\u90fd\",\"pair\":\"a/b\"", "city",
            "\xe4\xba\xac\xe9\x83\xbd"},
        /* split: an index, from the end, out of range; every piece */
        {"\"city\":\"c\",\"pair\":\"BTC/USD\"", "symbol", "BTC"},
        {"\"city\":\"c\",\"pair\":\"BTC/USD/X\"", "quote", "X"},
        {"\"city\":\"c\",\"pair\":\"a/b\",\"text\":\"solo\"", "parts",
            "[solo]"},
        {"\"city\":\"c\",\"pair\":\"a/b\",\"text\":\"x,,y,\"", "parts",
            "[x],[],[y],[]"},
        {"\"city\":\"c\",\"pair\":\"a/b\",\"text\":\"\"", "parts", "[]"},
        {"\"city\":\"c\",\"pair\":\"a/b\"", "parts", "missing"},
        /* trim, substr by characters */
        {"\"city\":\"c\",\"pair\":\"a/b\",\"text\":\" \\t hi there \\n\"", "t",
            "hi there"},
        {"\"city\":\"c\",\"pair\":\"a/b\",\"name\":\"\\u00e9tienne\"", "s3",
            "\xc3\xa9ti"},
        {"\"city\":\"c\",\"pair\":\"a/b\",\"name\":\"ab\"", "s3", "ab"},
        {"\"city\":\"c\",\"pair\":\"a/b\",\"name\":\"\"", "s3", ""},
        {"\"city\":\"c\",\"pair\":\"a/b\",\"name\":\"\\u00e9tienne\"", "last2",
            "ne"},
        {"\"city\":\"c\",\"pair\":\"a/b\",\"name\":\"x\"", "last2", "x"},
        /* concat: exact numbers, bools; a missing part, no value */
        {"\"city\":\"c\",\"pair\":\"a/b\",\"n\":-3,\"amount\":1.5,\"ok\":true,"
            "\"price\":2.25", "label", "C--3-1.50-true-2.250000"},
        {"\"city\":\"c\",\"pair\":\"a/b\",\"n\":1,\"ok\":true,\"price\":1",
            "label", "missing"},
        /* coalesce: the value, else the literal at the field's scale */
        {"\"city\":\"c\",\"pair\":\"a/b\",\"country\":\"FR\"", "country", "FR"},
        {"\"city\":\"c\",\"pair\":\"a/b\"", "country", "unknown"},
        {"\"city\":\"c\",\"pair\":\"a/b\",\"country\":null", "country",
            "unknown"},
        {"\"city\":\"c\",\"pair\":\"a/b\",\"amount\":2.5", "amt", "2.50"},
        {"\"city\":\"c\",\"pair\":\"a/b\"", "amt", "-1.50"},
        {"\"city\":\"c\",\"pair\":\"a/b\"", "px", "0.123456"},
        /* index into an array, and a copy of one */
        {"\"city\":\"c\",\"pair\":\"a/b\",\"tags\":[\"btc\",\"eth\"]",
            "first_tag", "BTC"},
        {"\"city\":\"c\",\"pair\":\"a/b\",\"tags\":[]", "first_tag",
            "missing"},
        {"\"city\":\"c\",\"pair\":\"a/b\",\"tags\":[\"btc\",\"eth\"]",
            "renamed", "[btc],[eth]"},
    };
    struct pipeline *p = load_fixture("derive.json");
    char line[512], err[ERR_LEN], buf[256];
    struct event ev;

    event_init(&ev, p);
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const char *got;

        snprintf(line, sizeof(line), "{" T0 ",%s}", cases[i].fields);
        if (event_parse(&ev, p, line, strlen(line), -1, err) !=
            REJECT_NONE) {
            printf("  case %zu: rejected: %s\n", i, err);
            CHECK(0);
            continue;
        }
        got = value(p, &ev, cases[i].field, buf, sizeof(buf));
        if (strcmp(got, cases[i].want) != 0)
            printf("  case %zu: %s of %s\n    got  %s\n    want %s\n", i,
                cases[i].field, cases[i].fields, got, cases[i].want);
        CHECK_STREQ(got, cases[i].want);
    }
    /* a required derived field without a value rejects the event */
    snprintf(line, sizeof(line), "{" T0 ",\"city\":\"c\",\"pair\":\"BTCUSD\"}");
    CHECK(event_parse(&ev, p, line, strlen(line), -1, err) == REJECT_MISSING);
    CHECK_STREQ(err, "field \"must\": required, and split(pair, '/', 1) "
        "gives no value");
    event_reset(&ev);
    pipeline_free(p);
}

/* A pipeline whose event.derive is the given object text. */
static int
load_derive(const char *derive, char *err)
{
    static const char head[] = "{\"name\":\"rides\",\"store\":\"s\",\"event\":"
        "{\"time\":\"ts\",\"fields\":{\"city\":\"string\",\"km\":{\"type\":"
        "\"float\",\"scale\":3},\"n\":\"int\",\"tags\":{\"type\":\"array\","
        "\"items\":\"string\"}},\"derive\":";
    char path[128];
    struct pipeline *p = NULL;
    FILE *fp;
    int rc;

    snprintf(path, sizeof(path), "%s/rides.json", tmpdir);
    if ((fp = fopen(path, "w")) == NULL)
        return -2;
    fprintf(fp, "%s%s}}", head, derive);
    fclose(fp);
    err[0] = '\0';
    rc = pipeline_load(&p, path, err);
    pipeline_free(p);
    if (rc != 0 && strncmp(err, tmpdir, strlen(tmpdir)) == 0)
        memmove(err, err + strlen(tmpdir) + 1, strlen(err) - strlen(tmpdir));
    return rc;
}

static void
test_derive_errors(void)
{
    static const struct {
        const char *derive;
        const char *err;        /* NULL: loads */
    } cases[] = {
        {"{\"city\":\"upper(city)\",\"c2\":\"concat(city, km, n)\"}", NULL},
        {"{\"city\":\"uper(city)\"}",
            "rides.json: event.derive.city: unknown function \"uper\""},
        {"{\"x\":\"upper(cty)\"}",
            "rides.json: event.derive.x: unknown field \"cty\""},
        {"{\"x\":\"upper(city, 1)\"}",
            "rides.json: event.derive.x: upper takes 1 argument, got 2"},
        {"{\"x\":\"substr(city)\"}",
            "rides.json: event.derive.x: substr takes 2 or 3 arguments, got 1"},
        {"{\"x\":\"concat()\"}",
            "rides.json: event.derive.x: concat takes at least 1 argument, "
            "got 0"},
        {"{\"x\":\"upper(km)\"}",
            "rides.json: event.derive.x: argument 1 of upper: expected a "
            "string, got a float"},
        {"{\"x\":\"upper(tags)\"}",
            "rides.json: event.derive.x: argument 1 of upper: expected a "
            "string, got an array of string"},
        {"{\"x\":\"substr(city, 0, 2)\"}",
            "rides.json: event.derive.x: argument 2 of substr: characters "
            "count from 1 (or from -1, the last)"},
        {"{\"x\":\"substr(city, 1, -2)\"}",
            "rides.json: event.derive.x: argument 3 of substr: expected a "
            "length, 0 or more"},
        {"{\"x\":\"substr(city, n)\"}",
            "rides.json: event.derive.x: argument 2 of substr: expected a "
            "start, an integer from -1000000 to 1000000"},
        {"{\"x\":\"split(city, sep, 0)\"}",
            "rides.json: event.derive.x: argument 2 of split: expected a "
            "separator, a non-empty 'text'"},
        {"{\"x\":\"split(city, '', 0)\"}",
            "rides.json: event.derive.x: argument 2 of split: expected a "
            "separator, a non-empty 'text'"},
        {"{\"x\":\"split(city, '/', 1.5)\"}",
            "rides.json: event.derive.x: argument 3 of split: expected an "
            "index, an integer from -1000000 to 1000000"},
        {"{\"x\":\"city[0]\"}",
            "rides.json: event.derive.x: [] takes an array, got a string"},
        {"{\"x\":\"concat(city, tags)\"}",
            "rides.json: event.derive.x: argument 2 of concat: expected a "
            "value, got an array of string"},
        {"{\"x\":\"coalesce(km, 'none')\"}",
            "rides.json: event.derive.x: argument 2 of coalesce: 'none' is "
            "not a float at its scale"},
        {"{\"x\":\"coalesce(n, 1.5)\"}",
            "rides.json: event.derive.x: argument 2 of coalesce: 1.5 is not "
            "an int"},
        {"{\"x\":\"coalesce(city, n)\"}",
            "rides.json: event.derive.x: argument 2 of coalesce: expected a "
            "string like the first, got an int"},
        {"{\"x\":\"coalesce('a', 'b')\"}",
            "rides.json: event.derive.x: coalesce needs a field or a call "
            "among its arguments"},
        {"{\"x\":\"42\"}",
            "rides.json: event.derive.x: a number alone has no type here: "
            "give it to coalesce, substr, split or an index"},
        {"{\"x\":\"km * 2\"}",
            "rides.json: event.derive.x: operators (* at column 4) are not "
            "allowed in event.derive"},
        {"{\"x\":\"upper(city\"}",
            "rides.json: event.derive.x: expected \",\" or \")\" after an "
            "argument of upper, got the end at column 11"},
        {"{\"city\":\"lower(n)\"}",
            "rides.json: event.derive.city: argument 1 of lower: expected a "
            "string, got an int"},
        {"{\"n\":\"city\"}",
            "rides.json: event.derive.n: gives a string, but the field is "
            "declared as an int"},
        {"{\"km\":\"coalesce(km, 1)\",\"city\":{\"expr\":\"upper(city)\","
            "\"required\":true}}",
            "rides.json: event.derive.city.required: comes from "
            "event.fields.city for a field that is declared"},
        {"{\"x\":{\"expr\":1}}",
            "rides.json: event.derive.x.expr: expected an expression"},
        {"{\"x\":{\"required\":true}}",
            "rides.json: event.derive.x.expr: required"},
        {"{\"x\":{\"expr\":\"city\",\"typ\":1}}",
            "rides.json: event.derive.x: unknown key \"typ\""},
        {"{\"x\":{\"expr\":\"city\",\"required\":\"yes\"}}",
            "rides.json: event.derive.x.required: expected true or false"},
        {"{\"x\":{\"expr\":\"uper(city)\"}}",
            "rides.json: event.derive.x.expr: unknown function \"uper\""},
        {"{\"x\":5}",
            "rides.json: event.derive.x: expected an expression or an object "
            "{\"expr\", \"required\"}"},
        {"{\"ts\":\"city\"}",
            "rides.json: event.derive.ts: the event time field cannot be "
            "derived"},
        {"{\"a\":\"upper(b)\",\"b\":\"city\"}",
            "rides.json: event.derive.a: unknown field \"b\""},
        {"[]", "rides.json: event.derive: expected an object, got an array"},
    };
    char err[ERR_LEN];

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        int rc = load_derive(cases[i].derive, err);

        if ((rc == 0) != (cases[i].err == NULL) || (cases[i].err != NULL &&
            strcmp(err, cases[i].err) != 0))
            printf("  case %zu: %s\n    got  %s\n    want %s\n", i,
                cases[i].derive, err, cases[i].err != NULL ? cases[i].err :
                "(loads)");
        CHECK((rc == 0) == (cases[i].err == NULL));
        if (cases[i].err != NULL)
            CHECK_STREQ(err, cases[i].err);
    }
}

/* What the derived fields are: types, scales, required, computed. */
static void
test_derive_fields(void)
{
    struct pipeline *p = load_fixture("derive.json");
    const struct field *f;
    int i;

    CHECK(p->nderives == 15);
    i = pipeline_field_index(p, "city");
    CHECK(i == 0 && !p->fields[i].computed && p->fields[i].derived &&
        p->fields[i].derive == 0);
    f = &p->fields[pipeline_field_index(p, "amt")];
    CHECK(f->computed && f->type == FIELD_DECIMAL && f->scale == 2 &&
        !f->required);
    f = &p->fields[pipeline_field_index(p, "parts")];
    CHECK(f->type == FIELD_ARRAY && f->items == FIELD_STRING);
    f = &p->fields[pipeline_field_index(p, "px")];
    CHECK(f->type == FIELD_FLOAT && f->scale == 6 && f->round);
    f = &p->fields[pipeline_field_index(p, "must")];
    CHECK(f->required && f->computed && f->npath == 0);
    CHECK(!p->fields[pipeline_field_index(p, "text")].derived);
    pipeline_free(p);
}

int
main(void)
{
    snprintf(tmpdir, sizeof(tmpdir), "/tmp/derive_test.XXXXXX");
    if (mkdtemp(tmpdir) == NULL) {
        perror("mkdtemp");
        return 1;
    }
    RUN(test_derive_values);
    RUN(test_derive_errors);
    RUN(test_derive_fields);
    {
        char path[128];
        snprintf(path, sizeof(path), "%s/rides.json", tmpdir);
        (void)unlink(path);
        (void)rmdir(tmpdir);
    }
    return test_report();
}
