/* api_export.c -- GET /v1/views/NAME/export: every group's series, streamed */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "serving/api.h"
#include "serving/api_int.h"
#include "serving/query.h"
#include "serving/serving.h"
#include "serving/window.h"
#include "shared/agg.h"
#include "shared/buf.h"
#include "shared/err.h"
#include "shared/key.h"
#include "shared/log.h"
#include "shared/mem.h"
#include "shared/outputs.h"
#include "shared/pipeline.h"
#include "shared/ts.h"

/*
 * An export is the series of every group (api_series.c: the same from, to,
 * step, window, plan and points, so a group's lines are its series answer
 * point for point), group after group in key order through one query
 * cursor, in the snapshot opened when the request came: one batch version
 * and one speed state for the whole body, however long the client takes.
 * Lines are made when libmicrohttpd asks for bytes, a block at a time, so
 * memory holds a block, a window and the cursor whatever the view's size.
 * The group_by parameters, all optional, keep the groups that have those
 * values.
 *
 *     ndjson  {"key":{...},"t":"...","source":"...","metrics":{...}} LF
 *     csv     RFC 4180: a header of the group_by fields, t, source, the
 *             metrics and the outputs, then a line per point, CRLF ends; a
 *             field holding a comma, a quote, CR or LF is quoted with its
 *             quotes doubled; null is an empty field
 */

enum { EXPORT_NDJSON, EXPORT_CSV };

static const char *const formats[] = {"ndjson", "csv", NULL};
static const char *const types[] = {"application/x-ndjson",
    "text/csv; charset=utf-8; header=present"};

struct export {
    struct reply_stream  base;      /* first: what http.c calls */
    struct serving      *sv;
    const struct view   *v;
    int                  csv;
    struct series_spec   sp;
    struct snap          snap;      /* the one read of the whole body */
    int                  has_snap;
    struct query_cursor *cur;
    struct window        w;
    int                  in_group;  /* w holds the current group's points */
    int                  done;
    struct buf          *comp;      /* filter: v->ngroup key components,
                                       empty for a field not given */
    int                  given;     /* fields given */
    struct api_mkeys     keys;
    struct buf           head;      /* the current group's key as printed */
    struct buf           field;     /* scratch: one CSV field */
    struct buf           out;       /* made and not sent yet */
};

/* Append s[0..n) as one CSV field (RFC 4180). */
static void
put_csv(struct buf *b, const char *s, size_t n)
{
    if (n == 0 || strcspn(s, ",\"\r\n") == n) {
        buf_append(b, s, n);
        return;
    }
    buf_putc(b, '"');
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '"')
            buf_putc(b, '"');
        buf_putc(b, s[i]);
    }
    buf_putc(b, '"');
}

/* Append the scratch field ex->field as a CSV field, then empty it. */
static void
put_field(struct export *ex)
{
    put_csv(&ex->out, ex->field.data != NULL ? ex->field.data : "",
        ex->field.len);
    buf_clear(&ex->field);
}

static void
put_header(struct export *ex)
{
    const struct pipeline *p = ex->v->pipeline;
    const struct view *v = ex->v;

    for (int g = 0; g < v->ngroup; g++) {
        buf_puts(&ex->field, p->fields[v->group_by[g]].name);
        put_field(ex);
        buf_putc(&ex->out, ',');
    }
    buf_puts(&ex->out, "t,source");
    for (int m = 0; m < v->nmetrics + v->noutputs; m++) {
        buf_putc(&ex->out, ',');
        buf_puts(&ex->field, m < v->nmetrics ? v->metrics[m].name :
            v->outputs[m - v->nmetrics].name);
        put_field(ex);
    }
    buf_puts(&ex->out, "\r\n");
}

/*
 * The key of the group starting: into ex->head as the lines print it (a
 * JSON object, or the CSV fields each followed by a comma). Returns 0, 1
 * when the filter leaves the group out, or -1 if the key does not decode.
 */
static int
group_head(struct export *ex, const unsigned char *k, size_t len)
{
    const struct pipeline *p = ex->v->pipeline;
    const struct view *v = ex->v;
    const unsigned char *at = k, *end = len > 0 ? k + len : k;

    buf_clear(&ex->head);
    for (int g = 0; g < v->ngroup; g++) {
        const unsigned char *start = at;
        const struct buf *c = &ex->comp[g];

        buf_clear(&ex->field);
        if (key_value_put(&ex->field, &p->fields[v->group_by[g]], &at, end,
            0) != 0)
            return -1;
        if (c->len > 0 && ((size_t)(at - start) != c->len ||
            memcmp(start, c->data, c->len) != 0))
            return 1;
        if (ex->csv) {
            put_csv(&ex->head, ex->field.data != NULL ? ex->field.data : "",
                ex->field.len);
            buf_putc(&ex->head, ',');
        }
    }
    buf_clear(&ex->field);
    if (!ex->csv)
        return key_to_json(&ex->head, p, v, k, len);
    return at == end ? 0 : -1;
}

/* window's emit: one line for the point at t of the current group. */
static int
put_line(void *arg, int64_t t, const int64_t *row, char *err)
{
    struct export *ex = arg;
    const struct pipeline *p = ex->v->pipeline;
    const struct view *v = ex->v;
    struct outputs_value vals[OUTPUTS_MAX];
    struct buf *b = &ex->out;
    char ts[TS_BUFSZ];

    (void)err;
    if (!ex->csv) {
        buf_puts(b, "{\"key\":");
        buf_append(b, ex->head.data, ex->head.len);
        buf_putc(b, ',');
        api_put_point(b, &ex->sp, ex->snap.cutoff, t, &ex->keys, p, v, row);
        buf_puts(b, "}\n");
        return 0;
    }
    if (ex->head.len > 0)
        buf_append(b, ex->head.data, ex->head.len);
    buf_puts(b, ts_format(t, ts, sizeof(ts)));
    buf_putc(b, ',');
    buf_puts(b, api_point_source(&ex->sp, ex->snap.cutoff, t));
    for (int m = 0; m < v->nmetrics; m++) {
        buf_putc(b, ',');
        agg_metric_json(p, v, m, row, &ex->field);
        if (strcmp(ex->field.data, "null") == 0)
            buf_clear(&ex->field);
        put_field(ex);
    }
    if (v->noutputs > 0)
        outputs_eval(p, v, row, vals);
    for (int i = 0; i < v->noutputs; i++) {
        buf_putc(b, ',');
        outputs_put_value(&ex->field, &vals[i], 0);
        put_field(ex);
    }
    buf_puts(b, "\r\n");
    return 0;
}

/* Make the next lines, if any: start a group, feed it a row, or end it. */
static int
export_step(struct export *ex, char *err)
{
    const int64_t *row;
    const void *gkey;
    size_t gklen;
    int64_t bucket;
    int rc;

    if (!ex->in_group) {
        rc = query_cursor_group(ex->cur, &gkey, &gklen, err);
        if (rc == QUERY_END)
            ex->done = 1;
        if (rc != 0)
            return rc < 0 ? -1 : 0;
        if ((rc = group_head(ex, gkey, gklen)) < 0) {
            snprintf(err, ERR_LEN, "stored group key does not decode");
            return -1;
        }
        if (rc == 0) {
            api_series_window(&ex->w, ex->v, &ex->sp, put_line, ex);
            ex->in_group = 1;
        }
        return 0;
    }
    if ((rc = query_cursor_row(ex->cur, &bucket, &row, err)) == 0)
        return window_add(&ex->w, bucket, row, err);
    if (rc < 0)
        return -1;
    ex->in_group = 0;
    rc = window_finish(&ex->w, err);
    window_reset(&ex->w);
    return rc;
}

static long
export_read(struct reply_stream *st, char *buf, size_t max)
{
    struct export *ex = (struct export *)st;
    char err[ERR_LEN];
    size_t n;

    while (ex->out.len < max && !ex->done) {
        if (export_step(ex, err) != 0) {
            log_warnx("export of view %s cut short: %s", ex->v->name, err);
            return -1;
        }
    }
    n = ex->out.len < max ? ex->out.len : max;
    if (n == 0)
        return 0;
    memcpy(buf, ex->out.data, n);
    memmove(ex->out.data, ex->out.data + n, ex->out.len - n);
    ex->out.len -= n;
    ex->out.data[ex->out.len] = '\0';
    return (long)n;
}

static void
export_free(struct reply_stream *st)
{
    struct export *ex = (struct export *)st;

    if (ex->in_group)
        window_reset(&ex->w);
    query_cursor_free(ex->cur);
    if (ex->has_snap)
        snap_end(&ex->snap);
    for (int g = 0; g < ex->v->ngroup; g++)
        buf_reset(&ex->comp[g]);
    free(ex->comp);
    api_mkeys_reset(&ex->keys);
    buf_reset(&ex->head);
    buf_reset(&ex->field);
    buf_reset(&ex->out);
    free(ex);
}

void
api_export(struct serving *sv, const struct view *v, struct params *q,
    struct reply *r)
{
    struct export *ex = xcalloc(1, sizeof(*ex));
    struct buf gkey;
    struct plan pl;
    char err[ERR_LEN];
    int fmt;

    ex->base.read = export_read;
    ex->base.free = export_free;
    ex->sv = sv;
    ex->v = v;
    ex->comp = xcalloc((size_t)(v->ngroup > 0 ? v->ngroup : 1),
        sizeof(*ex->comp));
    for (int g = 0; g < v->ngroup; g++)
        buf_init(&ex->comp[g]);
    api_mkeys_init(&ex->keys, v);
    buf_init(&ex->head);
    buf_init(&ex->field);
    buf_init(&ex->out);
    buf_init(&gkey);
    if (api_params_dups(q, r) != 0 ||
        api_param_choice(q, r, "format", formats, &fmt) != 0 ||
        api_series_spec(v, q, r, &ex->sp) != 0 ||
        api_param_key_filter(sv, v, q, r, ex->comp, &ex->given) != 0 ||
        api_params_rest(sv, v, q, r, "format, from, to, step, window") != 0 ||
        api_snap_for(sv, v, NULL, &ex->snap, r) == NULL)
        goto fail;
    ex->has_snap = 1;
    ex->csv = fmt == EXPORT_CSV;
    /* every field given: the one group, read directly */
    for (int g = 0; ex->given == v->ngroup && g < v->ngroup; g++)
        buf_append(&gkey, ex->comp[g].data, ex->comp[g].len);
    if (gkey.len > KEY_MAX) {
        reply_error(r, 400, NULL, "the group key is longer than %d bytes",
            KEY_MAX);
        goto fail;
    }
    if (api_series_plan(&ex->snap, v, &ex->sp, &pl, err) != 0 ||
        query_cursor_open(&ex->snap, v, &pl, ex->given == v->ngroup &&
        v->ngroup > 0 ? gkey.data : NULL, gkey.len, &ex->cur, err) != 0) {
        api_internal(r, err);
        goto fail;
    }
    if (ex->csv)
        put_header(ex);
    buf_reset(&gkey);
    r->type = types[fmt];
    r->stream = &ex->base;
    return;
fail:
    buf_reset(&gkey);
    export_free(&ex->base);
}
