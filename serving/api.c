/* api.c -- what every answer is made of: replies, JSON pieces, the snapshot */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "serving/api.h"
#include "serving/api_int.h"
#include "serving/query.h"
#include "serving/viewdefs.h"
#include "shared/agg.h"
#include "shared/key.h"
#include "shared/log.h"
#include "shared/ts.h"

#define TYPE_JSON "application/json"

/* ---- replies --------------------------------------------------------- */

void
reply_init(struct reply *r)
{
    memset(r, 0, sizeof(*r));
    buf_init(&r->body);
    r->status = 200;
    r->type = TYPE_JSON;
}

void
reply_reset(struct reply *r)
{
    buf_reset(&r->body);
    if (r->stream != NULL)
        r->stream->free(r->stream);
    r->stream = NULL;
}

/* Append s as a JSON string; bytes that are not UTF-8 (a value cut by
 * "%.64s", or bytes a client sent) become U+FFFD, so the answer stays
 * valid JSON whatever the request held. */
static void
put_text(struct buf *b, const char *s)
{
    const unsigned char *p = (const unsigned char *)s;
    struct buf clean;
    size_t i = 0, n = strlen(s);

    buf_init(&clean);
    while (i < n) {
        unsigned c = p[i];
        size_t k = c < 0x80 ? 0 : c >= 0xc2 && c <= 0xdf ? 1 :
            c >= 0xe0 && c <= 0xef ? 2 : c >= 0xf0 && c <= 0xf4 ? 3 : 9;
        size_t j;

        for (j = 1; k != 9 && j <= k && i + j < n; j++)
            if ((p[i + j] & 0xc0) != 0x80)
                break;
        /* overlongs and surrogates are left to the JSON reader: the
         * lead-byte ranges above already exclude the worst of them */
        if (k == 9 || j <= k) {
            buf_puts(&clean, "\xef\xbf\xbd");
            i++;
            continue;
        }
        buf_append(&clean, p + i, k + 1);
        i += k + 1;
    }
    buf_put_json_string(b, clean.data != NULL ? clean.data : "", clean.len);
    buf_reset(&clean);
}

void
reply_error(struct reply *r, int status, const char *param,
    const char *fmt, ...)
{
    char msg[768];
    va_list ap;

    va_start(ap, fmt);
    (void)vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    buf_clear(&r->body);
    r->status = status;
    r->type = TYPE_JSON;
    r->page = NULL;
    buf_printf(&r->body, "{\"error\":{\"code\":%d,\"message\":", status);
    put_text(&r->body, msg);
    if (param != NULL) {
        buf_puts(&r->body, ",\"parameter\":");
        put_text(&r->body, param);
    }
    buf_puts(&r->body, "}}\n");
}

void
api_internal(struct reply *r, const char *err)
{
    log_warnx("%s", err);
    reply_error(r, 500, NULL, "%s", err);
}

/* ---- snapshots --------------------------------------------------------- */

int
api_snap_open(struct serving *sv, struct snap *s, struct reply *r)
{
    struct store *st = serving_store(sv);
    char err[ERR_LEN];

    if (st == NULL) {
        serving_store_error(sv, err);
        reply_error(r, 503, NULL, "%s", err);
        return -1;
    }
    if (snap_begin(s, st, err) != 0) {
        log_warnx("%s", err);
        reply_error(r, 503, NULL, "%s", err);
        return -1;
    }
    if (!snap_has_data(s)) {
        snap_end(s);
        reply_error(r, 503, NULL, "store %s has no data yet (run "
            "lambda-batch or lambda-speed first)", sv->p->store);
        return -1;
    }
    return 0;
}

void
api_snap_done(struct snap *s, struct snap *own)
{
    if (s == own)
        snap_end(own);
}

/* The snapshot to answer from: pre if the caller opened one, else a new
 * one in own (end it with api_snap_done()). NULL after an error reply. */
struct snap *
api_snap_for(struct serving *sv, const struct view *v, struct snap *pre,
    struct snap *own, struct reply *r)
{
    struct snap *s = pre;

    if (pre == NULL) {
        if (api_snap_open(sv, own, r) != 0)
            return NULL;
        s = own;
    } else if (!snap_has_data(pre)) {
        reply_error(r, 503, NULL, "store %s has no data yet (run "
            "lambda-batch or lambda-speed first)", sv->p->store);
        return NULL;
    }
    /* v was resolved in pre itself (viewdefs_open()), or in another
     * snapshot (viewdefs.h): a switch between the two is the only way its
     * rows can be another definition's */
    if (pre == NULL && !viewdefs_served(s, v)) {
        reply_error(r, 503, NULL, "view %s was switched to another "
            "definition during the request: retry", v->name);
        api_snap_done(s, own);
        return NULL;
    }
    return s;
}

/* ---- JSON pieces ------------------------------------------------------ */

void
api_put_time(struct buf *b, int present, int64_t ms)
{
    if (!present) {
        buf_puts(b, "null");
        return;
    }
    buf_putc(b, '"');
    buf_advance(b, ts_format_end(ms, buf_space(b, TS_BUFSZ), TS_BUFSZ));
    buf_putc(b, '"');
}

void
api_put_range(struct buf *b, int64_t from, int64_t to)
{
    buf_puts(b, ",\"from\":");
    api_put_time(b, from != INT64_MIN, from);
    buf_puts(b, ",\"to\":");
    api_put_time(b, to != INT64_MAX, to);
}

void
api_put_approximate(struct buf *b, const struct pipeline *p,
    const struct view *v, const int64_t *row)
{
    int n = 0;
    double e;

    (void)p;
    for (int m = 0; m < v->nmetrics; m++) {
        if (!agg_metric_approximate(v, m, row, &e))
            continue;
        buf_puts(b, n++ == 0 ? ",\"approximate\":{" : ",");
        buf_put_json_string(b, v->metrics[m].name,
            strlen(v->metrics[m].name));
        buf_printf(b, ":{\"relative_error\":%g}", e);
    }
    if (n > 0)
        buf_putc(b, '}');
}

/* ,"batch":{"version","cutoff"},"speed":{"watermark"}: where it came from,
 * then the end of the answer */
void
api_put_end(struct buf *b, const struct snap *s)
{
    if (s->has_batch)
        buf_printf(b, ",\"batch\":{\"version\":%lld,\"cutoff\":",
            (long long)s->batch.version);
    else
        buf_puts(b, ",\"batch\":{\"version\":null,\"cutoff\":");
    api_put_time(b, s->has_batch, s->batch.cutoff);
    buf_puts(b, "},\"speed\":{\"watermark\":");
    api_put_time(b, s->has_watermark, s->watermark);
    buf_puts(b, "}}\n");
}

int
api_put_key(struct buf *b, struct serving *sv, const struct view *v,
    const void *key, size_t len, struct reply *r)
{
    (void)sv;
    if (key_to_json(b, v->pipeline, v, key, len) == 0)
        return 0;
    api_internal(r, "stored group key does not decode");
    return -1;
}

void
api_put_head(struct buf *b, const struct view *v)
{
    buf_puts(b, "{\"view\":");
    buf_put_json_string(b, v->name, strlen(v->name));
}

