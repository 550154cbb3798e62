/* api_views.c -- GET /v1/views: the views, their definitions, their layers */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "serving/api.h"
#include "serving/api_int.h"
#include "serving/query.h"
#include "serving/serving.h"
#include "serving/viewdefs.h"
#include "shared/buf.h"
#include "shared/err.h"
#include "shared/mem.h"
#include "shared/outputs.h"
#include "shared/metric.h"
#include "shared/pipeline.h"
#include "shared/speedmeta.h"
#include "shared/store.h"
#include "shared/ts.h"
#include "shared/viewswitch.h"

/* How v, the definition a view is answered under, stands against fv, the
 * pipeline file's as it is now (NULL: the file has no such view), as
 * "definition" and "next" of /v1/views. */
static void
put_state(struct buf *b, const struct view *v, const struct view *fv,
    enum viewdefs_state state)
{
    const char *def = "current", *next = NULL;

    if (state == VIEWDEFS_SPLIT) {
        def = "split";
        next = "run lambda-batch to switch it";
    } else if (v == NULL) {
        def = "pending";        /* in the file only */
        next = "waits for lambda-batch";
    } else if (fv == NULL) {
        def = "stored";
        next = "not in the pipeline file: the next lambda-batch removes it";
    } else if (pipeline_view_signature(fv->pipeline, fv) !=
        pipeline_view_signature(v->pipeline, v)) {
        def = "previous";
        next = "waits for lambda-batch";
    }
    buf_printf(b, ",\"definition\":\"%s\"", def);
    if (next != NULL)
        buf_printf(b, ",\"next\":\"%s\"", next);
}

/* One view's entry: v's definition, its standing, its layers from the
 * snapshot (open) */
static void
put_view(struct buf *b, const struct view *v, const struct view *fv,
    enum viewdefs_state state, int open, struct snap *s, int has_upd,
    int64_t upd)
{
    const struct view *shown = v != NULL ? v : fv;
    const struct pipeline *p = shown->pipeline;
    char err[ERR_LEN], g[32], text[METRIC_TEXT_MAX];
    int64_t gap = 0;
    int has_gap = open && viewswitch_gap(s->txn, shown->name, &gap,
        err) == 1;

    buf_puts(b, "{\"name\":");
    buf_put_json_string(b, shown->name, strlen(shown->name));
    put_state(b, v, fv, state);
    v = shown;
    buf_puts(b, ",\"group_by\":[");
    for (int j = 0; j < v->ngroup; j++) {
        const char *f = p->fields[v->group_by[j]].name;

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
        metric_text(p, mt, text, sizeof(text));
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
    if (open && s->has_batch)
        buf_printf(b, "},\"batch\":{\"version\":%lld,\"cutoff\":",
            (long long)s->batch.version);
    else
        buf_puts(b, "},\"batch\":{\"version\":null,\"cutoff\":");
    api_put_time(b, open && s->has_batch, s->batch.cutoff);
    buf_puts(b, ",\"published_at\":");
    api_put_time(b, open && s->has_batch, s->batch.published_at);
    buf_puts(b, "},\"speed\":{\"watermark\":");
    api_put_time(b, open && s->has_watermark, s->watermark);
    buf_puts(b, ",\"updated_at\":");
    api_put_time(b, open && has_upd, upd);
    if (has_gap) {
        /* switched without an archive (viewswitch.h) */
        buf_puts(b, ",\"rebuilding_from\":");
        api_put_time(b, 1, gap);
        buf_puts(b, ",\"rebuild\":\"lambda-speed --reset-to ");
        ts_format(gap, text, sizeof(text));
        buf_puts(b, text);
        buf_putc(b, '"');
    }
    buf_puts(b, "}}");
}

/* Names of the views the snapshot holds rows of. */
struct stored {
    struct serving  *sv;
    char           **name;
    int              n;
};

static void
add_name(struct stored *st, const char *view)
{
    if (pipeline_view(st->sv->p, view) != NULL)
        return;
    for (int i = 0; i < st->n; i++)
        if (strcmp(st->name[i], view) == 0)
            return;
    st->name = xrealloc(st->name, (size_t)(st->n + 1) * sizeof(char *));
    st->name[st->n++] = xstrdup(view);
}

static int
stored_add(void *arg, const char *name, const void *val, size_t len)
{
    (void)val;
    (void)len;
    add_name(arg, strrchr(name, '/') + 1);
    return 0;
}

void
api_views(struct serving *sv, struct params *q, struct reply *r)
{
    struct buf *b = &r->body;
    struct store *st = serving_store(sv);
    struct stored more = {sv, NULL, 0};
    struct pipeline *disk = NULL;
    const struct pipeline *file;
    struct reply tmp;
    struct snap s;
    int open = 0, has_upd = 0, n = 0;
    int64_t upd = 0;
    char err[ERR_LEN], pre[64];

    if (api_params_dups(q, r) != 0 ||
        api_params_rest(sv, NULL, q, r, "none") != 0)
        return;
    /* The views come from the pipeline: listed even before the store
     * exists, with null versions, so a dashboard can draw its frame; then
     * those the store holds that the file does not. */
    if (st != NULL && snap_begin(&s, st, err) == 0) {
        open = 1;
        has_upd = store_meta_get_i64(s.txn, SPEEDMETA_UPDATED_AT, &upd,
            err) == 0;
        snprintf(pre, sizeof(pre), "sig/%lld/", (long long)s.batch.version);
        if ((s.has_batch && store_meta_scan(s.txn, pre, stored_add, &more,
            err) != 0) ||
            store_meta_scan(s.txn, "speedsig/", stored_add, &more, err) != 0)
            more.n = 0;
    } else {
        memset(&s, 0, sizeof(s));
    }
    /* the file as it is now: an edit shows as pending before lambda-batch
     * publishes it (answers never depend on it) */
    if (pipeline_load(&disk, sv->p->path, err) != 0)
        disk = NULL;
    file = disk != NULL ? disk : sv->p;
    for (int i = 0; i < file->nviews; i++)
        if (pipeline_view(sv->p, file->views[i].name) == NULL)
            add_name(&more, file->views[i].name);
    reply_init(&tmp);
    buf_puts(b, "{\"views\":[");
    for (int i = 0; i < sv->p->nviews + more.n; i++) {
        const char *name = i < sv->p->nviews ? sv->p->views[i].name :
            more.name[i - sv->p->nviews];
        enum viewdefs_state state = VIEWDEFS_CURRENT;
        const struct view *v = viewdefs_view(sv, open ? &s : NULL, name,
            &state, &tmp), *fv = pipeline_view(file, name);

        if (state == VIEWDEFS_NONE && fv == NULL)
            continue;           /* removed from the file and the store */
        if (v == NULL && (state == VIEWDEFS_SPLIT || fv == NULL))
            v = fv != NULL ? fv : pipeline_view(sv->p, name);
        if (v == NULL && fv == NULL)
            continue;           /* a stored definition that does not load:
                                   logged */
        if (n++ > 0)
            buf_putc(b, ',');
        put_view(b, v, fv, state, open, &s, has_upd, upd);
    }
    buf_puts(b, "]}\n");
    reply_reset(&tmp);
    pipeline_free(disk);
    for (int i = 0; i < more.n; i++)
        free(more.name[i]);
    free(more.name);
    if (open)
        snap_end(&s);
}
