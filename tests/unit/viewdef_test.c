/* viewdef_test.c -- stored view definitions, the switching publish */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "shared/buf.h"
#include "shared/err.h"
#include "shared/mem.h"
#include "shared/segment.h"
#include "shared/store.h"
#include "shared/viewdef.h"
#include "shared/viewswitch.h"
#include "tests/test.h"

#define HOUR 3600000LL
#define CUTOFF 1795132800000LL  /* 2026-11-20T00:00:00Z */

static char dir[] = "/tmp/viewdef_test.XXXXXX";

/* A pipeline of views (JSON members), with speed.archive when arch. */
static struct pipeline *
parse(const char *views, int arch)
{
    struct pipeline *p = NULL;
    struct buf b;
    char err[ERR_LEN], *text;
    size_t len;

    buf_init(&b);
    buf_printf(&b, "{\"name\": \"t\", \"store\": \"%s/store\", \"event\": "
        "{\"time\": \"ts\", \"fields\": {\"customer\": \"string\", "
        "\"amount\": {\"type\": \"decimal\", \"scale\": 2}}}, "
        "\"views\": {%s}, \"speed\": {\"topic\": \"tp\"%s%s%s}}", dir, views,
        arch ? ", \"archive\": \"" : "", arch ? dir : "",
        arch ? "/archive\"" : "");
    len = b.len;
    text = buf_steal(&b);
    if (pipeline_parse(&p, "test.json", text, len, err) != 0)
        printf("pipeline: %s\n", err);
    return p;
}

#define V_A "\"v\": {\"group_by\": [\"customer\"], \"granularity\": \"1h\", " \
    "\"metrics\": {\"n\": \"count\"}}"
#define V_B "\"v\": {\"group_by\": [\"customer\"], \"granularity\": \"1h\", " \
    "\"metrics\": {\"n\": \"count\", \"rev\": \"sum(amount)\"}}"
#define V_C "\"v\": {\"granularity\": \"1h\", \"metrics\": {\"n\": \"count\"}}"
#define V_D "\"v\": {\"group_by\": [\"customer\"], \"granularity\": \"1h\", " \
    "\"metrics\": {\"n\": \"count\", \"mx\": \"max(amount)\"}}"
#define W "\"w\": {\"granularity\": \"1h\", \"metrics\": {\"n\": \"count\"}}"
#define W2 "\"w2\": {\"granularity\": \"1h\", \"metrics\": {\"k\": \"count\"}}"

static void
test_roundtrip(void)
{
    struct pipeline *p = parse(V_B ", " W ", " W2, 0), *q = NULL;
    struct store *st = NULL;
    struct store_txn *t = NULL;
    char err[ERR_LEN], path[512];
    uint64_t sig;

    CHECK(p != NULL);
    if (p == NULL)
        return;
    snprintf(path, sizeof(path), "%s/store", dir);
    CHECK(store_open(&st, path, 0, err) == 0);
    CHECK(store_txn_begin(st, 1, &t, err) == 0);
    sig = pipeline_view_signature(p, &p->views[0]);
    CHECK(viewdef_get(t, sig, "v", &q, err) == STORE_NOTFOUND);
    for (int i = 0; i < p->nviews; i++)
        CHECK(viewdef_put(t, p, &p->views[i], err) == 0);
    CHECK(viewdef_get(t, sig, "v", &q, err) == 0);
    if (q != NULL) {
        CHECK(q->nviews == 1 && strcmp(q->views[0].name, "v") == 0);
        CHECK(pipeline_view_signature(q, &q->views[0]) == sig);
        CHECK(q->views[0].nmetrics == 2 && q->views[0].pipeline == q);
        CHECK(strcmp(q->views[0].metrics[1].name, "rev") == 0);
        pipeline_free(q);
        q = NULL;
    }
    /* w and w2 mean the same rows under other names: kept apart */
    CHECK(pipeline_view_signature(p, &p->views[1]) ==
        pipeline_view_signature(p, &p->views[2]));
    CHECK(viewdef_get(t, pipeline_view_signature(p, &p->views[2]), "w2", &q,
        err) == 0);
    if (q != NULL) {
        CHECK(strcmp(q->views[0].metrics[0].name, "k") == 0);
        pipeline_free(q);
    }
    store_txn_abort(t);
    store_free(st);
    pipeline_free(p);
}

static void
write_file(const char *path, const char *text)
{
    FILE *fp = fopen(path, "w");

    CHECK(fp != NULL);
    if (fp == NULL)
        return;
    fputs(text, fp);
    fclose(fp);
}

/* Sum of slot 0 (a count) over the speed rows of v. */
static int64_t
speed_count(struct store_txn *t, const struct view *v)
{
    struct store_iter *it = NULL;
    struct store_row row;
    char err[ERR_LEN];
    int64_t n = 0;

    if (store_iter_speed(t, v, NULL, 0, INT64_MIN, INT64_MAX, &it, err) != 0)
        return -1;
    while (store_iter_next(it, &row, err) == 0)
        n += row.slots[0];
    store_iter_free(it);
    return n;
}

static void
test_switch(void)
{
    struct pipeline *a = parse(V_A ", " W, 1), *b = parse(V_B ", " W, 1);
    struct pipeline *c = parse(V_B, 1), *d = parse(V_C, 0);
    struct viewswitch_stats vs;
    struct store *st = NULL;
    struct store_txn *t = NULL;
    struct segment seg;
    char err[ERR_LEN], path[512], rec[SEGMENT_RECORD_MAX];
    const char *open =
        "{\"customer\":\"a\",\"amount\":1,\"ts\":\"2026-11-20T00:00:03Z\"}\n"
        "{\"customer\":\"b\",\"amount\":2,\"ts\":\"2026-11-20T00:00:04Z\"}\n";
    int64_t row[8] = {5}, sig, from;
    struct buf key;

    CHECK(a != NULL && b != NULL && c != NULL && d != NULL);
    if (a == NULL || b == NULL || c == NULL || d == NULL)
        return;
    snprintf(path, sizeof(path), "%s/archive/tp/p0", dir);
    {
        char cmd[600];
        snprintf(cmd, sizeof(cmd), "mkdir -p '%s'", path);
        CHECK(system(cmd) == 0);
    }
    /* sealed: one event before the cutoff, one after; open: two committed
     * lines, then one no commit knows */
    snprintf(path, sizeof(path), "%s/archive/tp/p0/"
        "00000000000000000000-00000000000000000001.jsonl", dir);
    write_file(path,
        "{\"customer\":\"a\",\"amount\":1,\"ts\":\"2026-11-19T23:59:59Z\"}\n"
        "{\"customer\":\"a\",\"amount\":1,\"ts\":\"2026-11-20T00:00:02Z\"}\n");
    snprintf(path, sizeof(path), "%s/archive/tp/p0/"
        ".00000000000000000002.jsonl.open", dir);
    {
        char all[512];
        snprintf(all, sizeof(all), "%s{\"customer\":\"z\",\"amount\":9,"
            "\"ts\":\"2026-11-20T00:00:05Z\"}\n", open);
        write_file(path, all);
    }
    snprintf(path, sizeof(path), "%s/store", dir);
    CHECK(store_open(&st, path, 0, err) == 0);
    if (st == NULL)
        return;
    CHECK(store_txn_begin(st, 1, &t, err) == 0);
    /* speed wrote v and w under a */
    CHECK(store_speed_sign(t, a, err) == 0);
    buf_init(&key);
    CHECK(store_speed_merge(t, &a->views[1], "", 0, CUTOFF, row, err) == 0);
    CHECK(store_speed_merge(t, &a->views[0], "\x01" "a", 2, CUTOFF, row,
        err) == 0);
    CHECK(store_offset_put(t, "tp", 0, 4, err) == 0);
    seg.first = 2;
    seg.len = (int64_t)strlen(open);
    seg.last = 3;
    seg.opened = 0;
    seg.tmin = CUTOFF + 3000;
    segment_format(&seg, rec);
    segment_key(&key, "tp", 0);
    CHECK(store_meta_put(t, key.data, rec, strlen(rec), err) == 0);
    buf_reset(&key);

    /* speed with b skips v until the switch */
    CHECK(store_speed_follows(t, b, &b->views[0], err) == STORE_SPEED_OTHER);
    CHECK(store_speed_follows(t, b, &b->views[1], err) == STORE_SPEED_SAME);
    CHECK(viewswitch_publish(t, b, 0, CUTOFF, &vs, err) == 0);
    CHECK_EQ(vs.switched, 1);
    CHECK_EQ(vs.gap, 0);
    CHECK_EQ(vs.rows, (int64_t)3);     /* a twice (one bucket), b once */
    CHECK_EQ(speed_count(t, &b->views[0]), (int64_t)3);
    CHECK_EQ(speed_count(t, &b->views[1]), (int64_t)5);  /* untouched */
    CHECK(store_speed_follows(t, b, &b->views[0], err) == STORE_SPEED_SAME);
    CHECK(viewswitch_gap(t, "v", &from, err) == 0);

    /* a segment whose newest event is before the cutoff is not read: here
     * the sealed one, said to end before it (its real last is after) */
    {
        struct pipeline *e = parse(V_D ", " W, 1);
        struct buf k;

        buf_init(&k);
        segment_tmax_key(&k, "tp", 0, 0);
        CHECK(store_meta_put_i64(t, k.data, CUTOFF - 1, err) == 0);
        CHECK(e != NULL && viewswitch_publish(t, e, 0, CUTOFF, &vs,
            err) == 0);
        CHECK_EQ(vs.rows, (int64_t)2);  /* the open segment's two */
        CHECK(store_meta_get_i64(t, k.data, &sig, err) == STORE_NOTFOUND);
        /* pruned at CUTOFF: a switch from before it reads every segment */
        CHECK(store_meta_put_i64(t, k.data, CUTOFF - 2 * HOUR, err) == 0);
        CHECK(viewswitch_publish(t, b, 0, CUTOFF - HOUR, &vs, err) == 0);
        CHECK_EQ(vs.rows, (int64_t)4);  /* 23:59:59 counts too */
        CHECK(viewswitch_publish(t, b, 0, CUTOFF, &vs, err) == 0);
        CHECK_EQ(vs.switched, 0);
        buf_reset(&k);
        pipeline_free(e);
    }

    /* w removed: its rows and signature go */
    CHECK(viewswitch_publish(t, c, 0, CUTOFF, &vs, err) == 0);
    CHECK_EQ(vs.removed, 1);
    CHECK_EQ(vs.switched, 0);
    CHECK_EQ(speed_count(t, &b->views[1]), (int64_t)0);
    CHECK(store_view_sig(t, 0, "w", &sig, err) == STORE_NOTFOUND);

    /* no archive: rows dropped, the gap recorded until a reset fills it */
    CHECK(viewswitch_publish(t, d, 0, CUTOFF, &vs, err) == 0);
    CHECK_EQ(vs.switched, 1);
    CHECK_EQ(vs.gap, 1);
    CHECK_EQ(speed_count(t, &d->views[0]), (int64_t)0);
    CHECK(viewswitch_gap(t, "v", &from, err) == 1 && from == CUTOFF);
    CHECK(viewswitch_gap_clear(t, CUTOFF + HOUR, err) == 0);
    CHECK(viewswitch_gap(t, "v", &from, err) == 1);
    CHECK(viewswitch_gap_clear(t, CUTOFF, err) == 0);
    CHECK(viewswitch_gap(t, "v", &from, err) == 0);
    store_txn_abort(t);
    store_free(st);
    pipeline_free(a);
    pipeline_free(b);
    pipeline_free(c);
    pipeline_free(d);
}

int
main(void)
{
    test_tmpdir(dir);
    RUN(test_roundtrip);
    RUN(test_switch);
    if (test_failed == 0)
        test_tmpdir_remove(dir);
    return test_report();
}
