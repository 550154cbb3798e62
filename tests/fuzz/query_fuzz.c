/* query_fuzz.c -- libFuzzer: a path and query string through every route's parameters */
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "serving/api.h"
#include "serving/serving.h"
#include "shared/agg.h"
#include "shared/event.h"
#include "shared/fanout.h"
#include "shared/mem.h"
#include "shared/speedmeta.h"
#include "shared/store.h"
#include "shared/ts.h"
#include "tests/fuzz/fuzz.h"

/*
 * The input is what follows the host in a URL, as a client sends it:
 * "/v1/views/by_customer/series?customer=Ali&step=1h". The query string is
 * split and decoded as libmicrohttpd does ('&', '=', '+' and %XX), each
 * parameter goes through api_params_add() as in http.c, and the route's
 * handler answers from a store built once from datasets/serving: batch
 * rows before the cutoff, speed rows after it and in an overlap, as the
 * serving tests have them. Every answer must be 200, 400 or 503 (a 500 is
 * an internal error, a bug), with a body that is JSON, and an error's code
 * must be its status.
 */

#define CUTOFF 1795176000000LL      /* 2026-11-20T12:00:00Z */
#define OVERLAP (2 * 3600 * 1000LL) /* speed rows kept before the cutoff */

static struct serving sv;
static char dir[] = "/tmp/query_fuzz.XXXXXX";

static void __attribute__((noreturn))
die(const char *what, const char *err)
{
    fprintf(stderr, "query_fuzz: %s: %s\n", what, err);
    abort();
}

/* Unlink the store's files and folder (however the process ends). */
static void
remove_store(void)
{
    static const char *const files[] = {"data.mdb", "lock.mdb",
        STORE_LOCK_FILE};
    char path[64];

    for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
        snprintf(path, sizeof(path), "%s/%s", dir, files[i]);
        (void)unlink(path);
    }
    (void)rmdir(dir);
}

/* Every event of path, as speed rows of every view it matches. */
static void
fill_speed(struct store *st, const struct pipeline *p, const char *path)
{
    struct store_txn *t;
    struct event ev;
    struct fanout fo;
    char err[ERR_LEN], line[4096];
    int64_t row[64];
    FILE *fp = fopen(path, "r");
    int bad;

    if (fp == NULL || store_txn_begin(st, 1, &t, err) != 0)
        die(path, fp == NULL ? "cannot open" : err);
    event_init(&ev, p);
    fanout_init(&fo);
    while (fgets(line, sizeof(line), fp) != NULL) {
        if (event_parse(&ev, p, line, strcspn(line, "\n"), -1, err) !=
            REJECT_NONE || fanout_event(&fo, p, &ev, &bad) < 0)
            continue;
        for (int i = 0; i < fo.nrows; i++) {
            const struct view *v = &p->views[fo.rows[i].view];

            agg_row_init(v, row);
            if (agg_row_add(v, row, &ev) != 0 ||
                store_speed_merge(t, v, fo.keys.data + fo.rows[i].off,
                fo.rows[i].len, ts_bucket(ev.time, v->granularity), row,
                err) != 0)
                die("speed row", err);
        }
    }
    fanout_reset(&fo);
    event_reset(&ev);
    fclose(fp);
    if (store_speed_sign(t, p, err) != 0 ||
        store_meta_put_i64(t, SPEEDMETA_WATERMARK, CUTOFF + 4 * 3600000LL,
        err) != 0 || store_txn_commit(t, err) != 0)
        die("speed rows", err);
}

/* Publish the speed rows before the cutoff as batch version 1, then keep
 * speed's only from OVERLAP before it. */
static void
publish(struct store *st, const struct pipeline *p)
{
    struct store_batch_info info = {0, CUTOFF, 0, 0};
    struct store_writer *w;
    struct store_txn *t;
    struct store_iter *it;
    struct store_row r;
    const struct view *order[8];
    char err[ERR_LEN];
    int n = p->nviews, rc;

    /* the writer takes the views in name order */
    for (int i = 0; i < n; i++) {
        int j = i;

        for (; j > 0 && strcmp(order[j - 1]->name, p->views[i].name) > 0; j--)
            order[j] = order[j - 1];
        order[j] = &p->views[i];
    }
    if (store_writer_begin(st, p, -1, &w, err) != 0 ||
        store_txn_begin(st, 0, &t, err) != 0)
        die("publish", err);
    for (int i = 0; i < n; i++) {
        if (store_iter_speed(t, order[i], NULL, 0, INT64_MIN, CUTOFF, &it,
            err) != 0)
            die("publish", err);
        while ((rc = store_iter_next(it, &r, err)) == 0)
            if (store_writer_put(w, order[i], r.gkey, r.gklen, r.bucket,
                r.slots, err) != 0)
                die("publish", err);
        store_iter_free(it);
        if (rc < 0)
            die("publish", err);
    }
    store_txn_abort(t);
    if (store_writer_publish(w, &info, err) != 0 ||
        store_txn_begin(st, 1, &t, err) != 0 ||
        store_speed_prune(t, CUTOFF - OVERLAP, err) != 0 ||
        store_txn_commit(t, err) != 0)
        die("publish", err);
}

static void
setup(void)
{
    struct store *st;
    char err[ERR_LEN];

    sv.p = fuzz_pipeline("datasets/serving/pipeline.json");
    if (sv.p->nviews > 8 || mkdtemp(dir) == NULL ||
        pipeline_set(sv.p, "store", dir, err) != 0 ||
        pipeline_set(sv.p, "serving.max_points", "2000", err) != 0)
        die("setup", err);
    if (store_open(&st, dir, 0, err) != 0)
        die("store", err);
    fill_speed(st, sv.p, "datasets/serving/events.jsonl");
    publish(st, sv.p);
    store_free(st);
    if (store_open(&st, dir, STORE_RDONLY, err) != 0)
        die("store", err);
    remove_store();             /* open files outlive their names */
    metrics_init(&sv.metrics);
    cache_init(&sv.cache);
    atomic_init(&sv.store, st);
}

static int
hex(int c)
{
    return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ?
        c - 'a' + 10 : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
}

/* Decode s in place as libmicrohttpd does ('+' is a space, %XX a byte, a
 * bad escape stays as it is); returns the decoded length. */
static size_t
unescape(char *s)
{
    char *in = s, *out = s;

    for (; *in != '\0'; in++) {
        if (*in == '%' && hex(in[1]) >= 0 && hex(in[2]) >= 0) {
            *out++ = (char)(hex(in[1]) * 16 + hex(in[2]));
            in += 2;
        } else {
            *out++ = *in == '+' ? ' ' : *in;
        }
    }
    *out = '\0';
    return (size_t)(out - s);
}

/* Split query into q as libmicrohttpd's argument parser does. */
static void
split(char *query, struct params *q)
{
    char *seg, *next, *eq;

    q->n = 0;
    for (seg = query; seg != NULL && *seg != '\0'; seg = next) {
        size_t klen, vlen = 0;

        if ((next = strchr(seg, '&')) != NULL)
            *next++ = '\0';
        if ((eq = strchr(seg, '=')) != NULL) {
            *eq++ = '\0';
            vlen = unescape(eq);
        }
        klen = unescape(seg);
        if (api_params_add(q, seg, klen, eq, vlen) != 0)
            return;
    }
}

/* Read a streamed body (an export) whole: NDJSON lines must each be JSON,
 * and a stream never cuts its answer short over a store that is sound. */
static void
drain(struct reply *r)
{
    static char block[16384];
    struct buf text;
    long n;

    buf_init(&text);
    while ((n = r->stream->read(r->stream, block, sizeof(block))) > 0)
        buf_append(&text, block, (size_t)n);
    if (n < 0)
        abort();
    for (size_t i = 0; text.len > 0 && text.data[0] == '{' && i < text.len;) {
        size_t end = i + strcspn(text.data + i, "\n");
        cJSON *j = cJSON_ParseWithLength(text.data + i, end - i);

        if (j == NULL)
            abort();
        cJSON_Delete(j);
        i = end + 1;
    }
    buf_reset(&text);
}

/* The answer must be one the API documents, its body JSON. */
static void
check(struct reply *r)
{
    cJSON *j, *code;

    if (r->status != 200 && r->status != 400 && r->status != 503) {
        fprintf(stderr, "query_fuzz: status %d: %.*s\n", r->status,
            (int)r->body.len, r->body.data);
        abort();
    }
    if (r->stream != NULL) {
        if (r->status != 200)
            abort();
        drain(r);
        return;
    }
    if ((j = cJSON_ParseWithLength(r->body.data, r->body.len)) == NULL)
        abort();
    code = cJSON_GetObjectItem(cJSON_GetObjectItem(j, "error"), "code");
    if (r->status != 200 && (!cJSON_IsNumber(code) ||
        code->valueint != r->status))
        abort();
    cJSON_Delete(j);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static char text[8192];
    const struct view *v = NULL;
    struct params q;
    struct reply r;
    char *query, *action = NULL;

    if (sv.p == NULL)
        setup();
    if (size >= sizeof(text))
        return 0;
    memcpy(text, data, size);
    text[size] = '\0';
    if ((query = strchr(text, '?')) != NULL)
        *query++ = '\0';
    if (strncmp(text, "/v1/views/", 10) == 0 &&
        (action = strrchr(text + 10, '/')) != NULL) {
        *action++ = '\0';
        if ((v = pipeline_view(sv.p, text + 10)) == NULL)
            return 0;
    } else if (strcmp(text, "/v1/views") != 0) {
        return 0;
    }
    split(query, &q);
    if (q.n > PARAMS_MAX)
        return 0;               /* http.c answers 400 before any route */
    reply_init(&r);
    if (v == NULL)
        api_views(&sv, &q, &r);
    else if (strcmp(action, "total") == 0)
        api_total(&sv, v, &q, NULL, &r);
    else if (strcmp(action, "series") == 0)
        api_series(&sv, v, &q, NULL, &r);
    else if (strcmp(action, "top") == 0)
        api_top(&sv, v, &q, NULL, &r);
    else if (strcmp(action, "export") == 0)
        api_export(&sv, v, &q, &r);
    else if (strcmp(action, "late") == 0)
        api_late(&sv, v, &q, NULL, &r);
    else
        r.status = 0;
    if (r.status != 0)
        check(&r);
    reply_reset(&r);
    return 0;
}
