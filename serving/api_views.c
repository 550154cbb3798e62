/* api_views.c -- GET /v1/views: the views, their definitions, their layers */
#include <stdint.h>
#include <string.h>

#include "serving/api.h"
#include "serving/api_int.h"
#include "serving/query.h"
#include "serving/serving.h"
#include "shared/buf.h"
#include "shared/err.h"
#include "shared/outputs.h"
#include "shared/metric.h"
#include "shared/pipeline.h"
#include "shared/speedmeta.h"
#include "shared/store.h"
#include "shared/ts.h"

void
api_views(struct serving *sv, struct params *q, struct reply *r)
{
    struct buf *b = &r->body;
    struct store *st = serving_store(sv);
    struct snap s;
    int open = 0, has_upd = 0;
    int64_t upd = 0;
    char err[ERR_LEN], g[32], text[METRIC_TEXT_MAX];

    if (api_params_dups(q, r) != 0 ||
        api_params_rest(sv, NULL, q, r, "none") != 0)
        return;
    /* The views come from the pipeline: listed even before the store
     * exists, with null versions, so a dashboard can draw its frame. */
    if (st != NULL && snap_begin(&s, st, err) == 0) {
        open = 1;
        has_upd = store_meta_get_i64(s.txn, SPEEDMETA_UPDATED_AT, &upd,
            err) == 0;
    }
    buf_puts(b, "{\"views\":[");
    for (int i = 0; i < sv->p->nviews; i++) {
        const struct view *v = &sv->p->views[i];

        buf_puts(b, i > 0 ? ",{\"name\":" : "{\"name\":");
        buf_put_json_string(b, v->name, strlen(v->name));
        buf_puts(b, ",\"group_by\":[");
        for (int j = 0; j < v->ngroup; j++) {
            const char *f = sv->p->fields[v->group_by[j]].name;

            if (j > 0)
                buf_putc(b, ',');
            buf_put_json_string(b, f, strlen(f));
        }
        buf_printf(b, "],\"granularity\":\"%s\",\"metrics\":{",
            ts_duration_format(v->granularity, g, sizeof(g)));
        for (int m = 0; m < v->nmetrics; m++) {
            const struct metric *mt = &v->metrics[m];

            if (m > 0)
                buf_putc(b, ',');
            buf_put_json_string(b, mt->name, strlen(mt->name));
            buf_putc(b, ':');
            metric_text(sv->p, mt, text, sizeof(text));
            buf_put_json_string(b, text, strlen(text));
        }
        buf_puts(b, "},\"outputs\":{");
        for (int o = 0; o < v->noutputs; o++) {
            const struct output *out = &v->outputs[o];

            if (o > 0)
                buf_putc(b, ',');
            buf_put_json_string(b, out->name, strlen(out->name));
            buf_putc(b, ':');
            buf_put_json_string(b, out->src, strlen(out->src));
        }
        if (open && s.has_batch)
            buf_printf(b, "},\"batch\":{\"version\":%lld,\"cutoff\":",
                (long long)s.batch.version);
        else
            buf_puts(b, "},\"batch\":{\"version\":null,\"cutoff\":");
        api_put_time(b, open && s.has_batch, s.batch.cutoff);
        buf_puts(b, ",\"published_at\":");
        api_put_time(b, open && s.has_batch, s.batch.published_at);
        buf_puts(b, "},\"speed\":{\"watermark\":");
        api_put_time(b, open && s.has_watermark, s.watermark);
        buf_puts(b, ",\"updated_at\":");
        api_put_time(b, open && has_upd, upd);
        buf_puts(b, "}}");
    }
    buf_puts(b, "]}\n");
    if (open)
        snap_end(&s);
}
