/* speedmeta_test.c -- unit tests for shared/speedmeta.c: speed's status record, encoded, decoded, walked */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "shared/buf.h"
#include "shared/err.h"
#include "shared/speedmeta.h"
#include "tests/test.h"

/* A record as lambda-speed writes it: the schema's members in their order. */
static const char full[] =
    "{\"topic\":\"orders\",\"consumed\":12,\"accepted\":8,\"rejected\":4,"
    "\"rejects\":{\"invalid_json\":1,\"invalid_utf8\":0,\"not_object\":0,"
    "\"missing_field\":0,\"wrong_type\":2,\"out_of_range\":0,"
    "\"too_many_decimals\":0,\"bad_time\":0,\"too_large\":0,\"late\":1},"
    "\"late\":1,\"lost\":3,\"commits\":2,"
    "\"last_commit\":\"2026-11-20T13:00:00.123Z\","
    "\"watermark\":\"2026-11-20T12:59:00Z\","
    "\"freshness_ms\":{\"p50\":3,\"p99\":17},"
    "\"partitions\":{\"2\":{\"next\":5,\"high\":7,\"lag\":2,"
    "\"lag_seconds\":1.5},\"0\":{\"next\":-1,\"high\":-1,\"lag\":0,"
    "\"lag_seconds\":0}},\"lag\":{\"2\":2,\"0\":0},"
    "\"lag_seconds\":{\"2\":1.5,\"0\":0}}";

/* Nonzero when a and b hold the same record. */
static int
same(const struct speedmeta_status *a, const struct speedmeta_status *b)
{
    if ((a->topic == NULL) != (b->topic == NULL) ||
        (a->topic != NULL && strcmp(a->topic, b->topic) != 0) ||
        a->consumed != b->consumed || a->accepted != b->accepted ||
        a->rejected != b->rejected || a->late != b->late ||
        a->lost != b->lost || a->commits != b->commits ||
        memcmp(a->rejects + 1, b->rejects + 1,
        sizeof(a->rejects) - sizeof(a->rejects[0])) != 0 ||
        a->last_commit != b->last_commit || a->watermark != b->watermark ||
        a->fresh_p50 != b->fresh_p50 || a->fresh_p99 != b->fresh_p99 ||
        a->nparts != b->nparts)
        return 0;
    for (int i = 0; i < a->nparts; i++)
        if (a->parts[i].part != b->parts[i].part ||
            a->parts[i].next != b->parts[i].next ||
            a->parts[i].high != b->parts[i].high ||
            a->parts[i].lag != b->parts[i].lag ||
            a->parts[i].lag_seconds != b->parts[i].lag_seconds)
            return 0;
    return 1;
}

static void
test_speedmeta_keys(void)
{
    /* the names in stores written so far */
    CHECK_STREQ(SPEEDMETA_WATERMARK, "speed.watermark");
    CHECK_STREQ(SPEEDMETA_UPDATED_AT, "speed.updated_at");
    CHECK_STREQ(SPEEDMETA_STATUS, "speed.status");
}

static void
test_speedmeta_decode(void)
{
    /* partitions in record order */
    struct speedmeta_part parts[] = {{2, 5, 7, 2, 1.5}, {0, -1, -1, 0, 0}};
    struct speedmeta_status st, want = {
        .topic = "orders", .consumed = 12, .accepted = 8, .rejected = 4,
        .rejects = {[REJECT_JSON] = 1, [REJECT_TYPE] = 2, [REJECT_LATE] = 1},
        .late = 1, .lost = 3, .commits = 2,
        .last_commit = 1795179600123LL,     /* 2026-11-20T13:00:00.123Z */
        .watermark = 1795179540000LL, .fresh_p50 = 3, .fresh_p99 = 17,
        .parts = parts, .nparts = 2,
    };

    speedmeta_status_init(&st);
    CHECK(speedmeta_status_parse(&st, full, strlen(full)) == 0);
    CHECK(same(&st, &want));
    speedmeta_status_reset(&st);
    CHECK(st.topic == NULL && st.parts == NULL && st.nparts == 0);
}

/* Text -> record -> text gives the same bytes: a commit that adds nothing
 * rewrites what the last one wrote. */
static void
test_speedmeta_text_round_trip(void)
{
    struct speedmeta_status st;
    struct buf b;
    char err[ERR_LEN];

    speedmeta_status_init(&st);
    buf_init(&b);
    CHECK(speedmeta_status_parse(&st, full, sizeof(full) - 1) == 0);
    CHECK(speedmeta_status_format(&st, &b, err) == 0);
    CHECK(b.len == strlen(full));
    CHECK_STREQ(b.data, full);
    buf_reset(&b);
    speedmeta_status_reset(&st);
}

static void
test_speedmeta_record_round_trip(void)
{
    struct speedmeta_status st, got;
    struct speedmeta_part *pp;
    struct buf b;
    char err[ERR_LEN];

    speedmeta_status_init(&st);
    speedmeta_status_init(&got);
    buf_init(&b);

    /* empty: null times, no sample, every reason counted at 0 */
    CHECK(speedmeta_status_format(&st, &b, err) == 0);
    CHECK(strstr(b.data, "\"watermark\":null") != NULL);
    CHECK(strstr(b.data, "\"freshness_ms\":{\"p50\":-1,\"p99\":-1}") != NULL);
    CHECK(strstr(b.data, "\"too_large\":0") != NULL);
    CHECK(strstr(b.data, "\"none\"") == NULL);
    CHECK(strstr(b.data, "\"topic\"") == NULL);
    CHECK(speedmeta_status_parse(&got, b.data, b.len) == 0);
    CHECK(got.topic == NULL && got.watermark == INT64_MIN &&
        got.last_commit == INT64_MIN && got.fresh_p50 == -1 &&
        got.nparts == 0 && got.consumed == 0);

    speedmeta_status_set_topic(&st, "shop");
    speedmeta_status_set_topic(&st, "shop.events");     /* replaces */
    st.consumed = (int64_t)1 << 52;
    st.accepted = 3000000000;
    st.rejected = 7;
    for (int i = 1; i < REJECT_NREASONS; i++)
        st.rejects[i] = i;
    st.late = 10;
    st.lost = 1;
    st.commits = 99;
    st.last_commit = 1763643600001LL;
    st.watermark = 0;
    st.fresh_p50 = 0;
    st.fresh_p99 = 10000;
    pp = speedmeta_status_part(&st, 7);
    CHECK(pp->part == 7 && pp->next == -1 && pp->high == -1 && pp->lag == 0);
    pp->next = 41;
    pp->high = 44;
    pp->lag = 3;
    pp->lag_seconds = 0.25;
    speedmeta_status_part(&st, 1)->next = 6;
    CHECK(speedmeta_status_part(&st, 7)->next == 41);   /* found, not added */
    CHECK(st.nparts == 2);

    buf_clear(&b);
    CHECK(speedmeta_status_format(&st, &b, err) == 0);
    CHECK(speedmeta_status_parse(&got, b.data, b.len) == 0);
    CHECK(same(&got, &st));
    CHECK_STREQ(got.topic, "shop.events");
    CHECK(got.nparts == 2 && got.parts[0].part == 7);
    CHECK(strstr(b.data, "\"lag\":{\"7\":3,\"1\":0}") != NULL);
    buf_reset(&b);
    speedmeta_status_reset(&st);
    speedmeta_status_reset(&got);
}

static void
test_speedmeta_bad(void)
{
    static const char *const bad[] = {
        "", "null", "[]", "[{\"consumed\":1}]", "42", "\"x\"", "{",
        "{\"consumed\":1", "not json", "{\"consumed\":1}x",
    };
    struct speedmeta_status st;

    speedmeta_status_init(&st);
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        int rc;

        speedmeta_status_set_topic(&st, "left over");
        st.consumed = 5;
        rc = speedmeta_status_parse(&st, bad[i], strlen(bad[i]));
        if (rc != -1)
            printf("  record '%s' taken\n", bad[i]);
        /* refused, and st is an empty record */
        CHECK(rc == -1 && st.topic == NULL && st.consumed == 0);
    }

    /* members of another type read as in an empty record; unknown ones are
     * ignored */
    static const char odd[] =
        "{\"topic\":7,\"consumed\":\"12\",\"accepted\":true,\"rejected\":4,"
        "\"rejects\":[1,2],\"late\":null,\"watermark\":\"yesterday\","
        "\"last_commit\":1795179600000,\"freshness_ms\":3,"
        "\"partitions\":{\"x\":{\"next\":1},\"-1\":{\"next\":1},"
        "\"3\":5,\"4\":{\"next\":\"9\",\"high\":9}},\"events\":47}";

    CHECK(speedmeta_status_parse(&st, odd, strlen(odd)) == 0);
    CHECK(st.topic == NULL && st.consumed == 0 && st.accepted == 0 &&
        st.rejected == 4 && st.late == 0 && st.rejects[REJECT_JSON] == 0);
    CHECK(st.watermark == INT64_MIN && st.last_commit == INT64_MIN &&
        st.fresh_p50 == -1);
    CHECK(st.nparts == 1 && st.parts[0].part == 4 && st.parts[0].next == -1 &&
        st.parts[0].high == 9);
    speedmeta_status_reset(&st);
}

static void
add_line(void *arg, const char *name, const char *label, const char *key,
    double value)
{
    struct buf *b = arg;

    if (label == NULL)
        buf_printf(b, "%s %g\n", name, value);
    else
        buf_printf(b, "%s{%s=%s} %g\n", name, label, key, value);
}

static void
test_speedmeta_walk(void)
{
    static const char text[] =
        "{\"events\":47,\"topic\":\"t\",\"ok\":true,\"no\":false,\"x\":null,"
        "\"rejects\":{\"late\":2,\"invalid_json\":1,\"why\":\"s\"},\"lag\":3,"
        "\"lag_seconds\":{\"0\":1.5},\"freshness_ms\":{\"p50\":4},"
        "\"partitions\":{\"0\":{\"next\":1}},\"list\":[1,2]}";
    struct buf b;

    buf_init(&b);
    CHECK(speedmeta_status_walk(text, strlen(text), add_line, &b) == 0);
    CHECK_STREQ(b.data,
        "events 47\n"
        "ok 1\n"
        "no 0\n"
        "rejects{reason=late} 2\n"
        "rejects{reason=invalid_json} 1\n"
        "lag 3\n"
        "lag_seconds{partition=0} 1.5\n"
        "freshness_ms{key=p50} 4\n");
    buf_clear(&b);
    CHECK(speedmeta_status_walk("[1]", 3, add_line, &b) == -1);
    CHECK(speedmeta_status_walk("{\"a\":1", 6, add_line, &b) == -1);
    CHECK(b.len == 0);
    buf_reset(&b);
}

int
main(void)
{
    RUN(test_speedmeta_keys);
    RUN(test_speedmeta_decode);
    RUN(test_speedmeta_text_round_trip);
    RUN(test_speedmeta_record_round_trip);
    RUN(test_speedmeta_bad);
    RUN(test_speedmeta_walk);
    return test_report();
}
