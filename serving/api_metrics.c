/* api_metrics.c -- GET /metrics as Prometheus text: serving, store, speed */
#include <stdatomic.h>
#include <stdint.h>

#include "serving/api.h"
#include "serving/api_int.h"
#include "serving/metrics.h"
#include "serving/query.h"
#include "serving/serving.h"
#include "shared/buf.h"
#include "shared/err.h"
#include "shared/now.h"
#include "shared/speedmeta.h"
#include "shared/store.h"

#define TYPE_PROM "text/plain; version=0.0.4; charset=utf-8"

static void
gauge(struct buf *b, const char *name, const char *help, double v)
{
    buf_printf(b, "# HELP %s %s\n# TYPE %s gauge\n", name, help, name);
    if (v == (double)(long long)v)
        buf_printf(b, "%s %lld\n", name, (long long)v);
    else
        buf_printf(b, "%s %.3f\n", name, v);
}

static void
prom_name(struct buf *b, const char *s)
{
    for (; *s != '\0'; s++)
        buf_putc(b, (*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
            (*s >= '0' && *s <= '9') ? *s : '_');
}

static void
prom_value(struct buf *b, double d)
{
    if (d == (double)(long long)d)
        buf_printf(b, " %lld\n", (long long)d);
    else
        buf_printf(b, " %.17g\n", d);
}

/* One number of the speed status (shared/speedmeta.h) as
 * lambda_speed_NAME, or lambda_speed_NAME{LABEL="KEY"} for the members of
 * an object. */
static void
put_status_number(void *arg, const char *name, const char *label,
    const char *key, double value)
{
    struct buf *b = arg;

    buf_puts(b, "lambda_speed_");
    prom_name(b, name);
    if (label != NULL) {
        buf_printf(b, "{%s=\"", label);
        for (const char *c = key; *c != '\0'; c++) {
            if (*c == '"' || *c == '\\')
                buf_putc(b, '\\');
            if (*c == '\n')
                buf_puts(b, "\\n");
            else
                buf_putc(b, *c);
        }
        buf_puts(b, "\"}");
    }
    prom_value(b, value);
}

void
api_metrics(struct serving *sv, struct params *q, struct reply *r)
{
    struct buf *b = &r->body;
    struct store *st = serving_store(sv);
    struct snap s;
    const void *val;
    size_t len;
    char err[ERR_LEN];
    int64_t now = now_wall_ms();
    int open = 0;

    (void)q;
    r->type = TYPE_PROM;
    metrics_render_requests(&sv->metrics, b);
    cache_put_metrics(&sv->cache, b);
    if (st != NULL && snap_begin(&s, st, err) == 0)
        open = 1;
    gauge(b, "lambda_serving_ready", "1 when the store is open and holds "
        "data.", open && snap_has_data(&s));
    if (st != NULL)
        gauge(b, "lambda_store_used_bytes", "Bytes in use in the store's "
            "data file.", (double)store_used_bytes(st));
    if (open && s.has_batch) {
        gauge(b, "lambda_batch_version", "Published batch version.",
            (double)s.batch.version);
        gauge(b, "lambda_batch_cutoff_timestamp_seconds", "Batch cutoff: "
            "buckets before it are answered from batch.",
            (double)s.batch.cutoff / 1000);
        gauge(b, "lambda_batch_cutoff_age_seconds", "Now minus the batch "
            "cutoff.", (double)(now - s.batch.cutoff) / 1000);
        gauge(b, "lambda_batch_published_timestamp_seconds", "When the "
            "batch version was published.",
            (double)s.batch.published_at / 1000);
        gauge(b, "lambda_batch_events", "Events counted into the batch "
            "version.", (double)s.batch.events);
    }
    if (open && s.has_watermark) {
        gauge(b, "lambda_speed_watermark_timestamp_seconds", "Speed "
            "watermark.", (double)s.watermark / 1000);
        gauge(b, "lambda_speed_watermark_age_seconds", "Now minus the speed "
            "watermark.", (double)(now - s.watermark) / 1000);
    }
    if (open && store_meta_get(s.txn, SPEEDMETA_STATUS, &val, &len, err) == 0)
        (void)speedmeta_status_walk(val, len, put_status_number, b);
    if (open)
        snap_end(&s);
}
