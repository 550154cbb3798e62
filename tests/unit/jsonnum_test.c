/* jsonnum_test.c -- unit tests for shared/jsonnum.c: numbers as written, printing with them */
#include <stdio.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "shared/buf.h"
#include "shared/jsonnum.h"
#include "tests/test.h"

/* The text of the number at key of root's object (one level), or "". */
static const char *
text_of(struct jsonnum *jn, cJSON *root, const cJSON *item, char *buf,
    size_t size)
{
    const char *s;
    size_t n;

    if (jsonnum_text(jn, root, item, &s, &n) != 0)
        return "(none)";
    snprintf(buf, size, "%.*s", (int)n, s);
    return buf;
}

static void
test_jsonnum_text(void)
{
    static const char doc[] = "{\"s\":\"1 -2 \\\"3e4\\\" 5\",\"a\":[1.50,"
        "{\"b\":-0.0},true,null,false],\"k-1\":0.1234565000000000001,"
        "\"e\":1E+2,\"t\" : -.5 ,\"u\":5.}";
    struct jsonnum jn;
    cJSON *root = cJSON_Parse(doc);
    char buf[64];

    CHECK(root != NULL);
    if (root == NULL)
        return;
    jsonnum_init(&jn);
    jsonnum_start(&jn, doc, strlen(doc));
    cJSON *a = cJSON_GetObjectItem(root, "a");
    CHECK_STREQ(text_of(&jn, root, cJSON_GetArrayItem(a, 0), buf,
        sizeof(buf)), "1.50");
    CHECK_STREQ(text_of(&jn, root, cJSON_GetObjectItem(
        cJSON_GetArrayItem(a, 1), "b"), buf, sizeof(buf)), "-0.0");
    CHECK_STREQ(text_of(&jn, root, cJSON_GetObjectItem(root, "k-1"), buf,
        sizeof(buf)), "0.1234565000000000001");
    CHECK_STREQ(text_of(&jn, root, cJSON_GetObjectItem(root, "e"), buf,
        sizeof(buf)), "1E+2");
    CHECK_STREQ(text_of(&jn, root, cJSON_GetObjectItem(root, "t"), buf,
        sizeof(buf)), "-.5");
    CHECK_STREQ(text_of(&jn, root, cJSON_GetObjectItem(root, "u"), buf,
        sizeof(buf)), "5.");
    /* not numbers, or not in the tree */
    CHECK_STREQ(text_of(&jn, root, cJSON_GetObjectItem(root, "s"), buf,
        sizeof(buf)), "(none)");
    CHECK_STREQ(text_of(&jn, root, cJSON_GetArrayItem(a, 2), buf,
        sizeof(buf)), "(none)");
    cJSON *other = cJSON_CreateNumber(1);
    CHECK_STREQ(text_of(&jn, root, other, buf, sizeof(buf)), "(none)");
    cJSON_Delete(other);

    /* a new document: spans are found again */
    static const char doc2[] = "[7,\"8\",9.99]";
    cJSON *r2 = cJSON_Parse(doc2);
    jsonnum_start(&jn, doc2, strlen(doc2));
    CHECK_STREQ(text_of(&jn, r2, cJSON_GetArrayItem(r2, 2), buf,
        sizeof(buf)), "9.99");
    cJSON_Delete(r2);
    jsonnum_reset(&jn);
    cJSON_Delete(root);
}

static void
test_jsonnum_print(void)
{
    static const char doc[] = "{ \"ts\" : null,\n \"last\": 43123.123456785,"
        "\"n\":[1e-7, -0.0, {\"x\":\"a\\u00e9\\n\\\"\"}], \"ok\":true}";
    struct buf out;
    cJSON *root = cJSON_Parse(doc);

    CHECK(root != NULL);
    if (root == NULL)
        return;
    buf_init(&out);
    /* strings may come and go (speed's archive sets the time) */
    cJSON_DeleteItemFromObject(root, "ts");
    cJSON_AddStringToObject(root, "ts", "2026-11-20T13:00:00.000Z");
    CHECK(jsonnum_print(&out, root, doc, strlen(doc)) == 0);
    CHECK_STREQ(out.data, "{\"last\":43123.123456785,\"n\":[1e-7,-0.0,"
        "{\"x\":\"a\xc3\xa9\\n\\\"\"}],\"ok\":true,"
        "\"ts\":\"2026-11-20T13:00:00.000Z\"}");
    /* numbers may not: nothing is appended */
    buf_clear(&out);
    buf_puts(&out, "keep");
    cJSON_AddNumberToObject(root, "more", 1);
    CHECK(jsonnum_print(&out, root, doc, strlen(doc)) == -1);
    CHECK_STREQ(out.data, "keep");
    buf_reset(&out);
    cJSON_Delete(root);
}

int
main(void)
{
    RUN(test_jsonnum_text);
    RUN(test_jsonnum_print);
    return test_report();
}
