/* api_series.c -- GET /v1/views/NAME/series: a window slid over the buckets */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "serving/api.h"
#include "serving/api_int.h"
#include "serving/cache.h"
#include "serving/partcache.h"
#include "serving/query.h"
#include "serving/serving.h"
#include "serving/window.h"
#include "shared/agg.h"
#include "shared/buf.h"
#include "shared/err.h"
#include "shared/mem.h"
#include "shared/outputs.h"
#include "shared/pipeline.h"
#include "shared/ts.h"

void
api_mkeys_init(struct api_mkeys *k, const struct view *v)
{
    int n = v->nmetrics + v->noutputs;

    buf_init(&k->text);
    k->off = xmalloc(((size_t)n + 1) * sizeof(size_t));
    for (int i = 0; i < n; i++) {
        const char *name = i < v->nmetrics ? v->metrics[i].name :
            v->outputs[i - v->nmetrics].name;

        k->off[i] = k->text.len;
        buf_putc(&k->text, i > 0 ? ',' : '{');
        buf_put_json_string(&k->text, name, strlen(name));
        buf_putc(&k->text, ':');
    }
    k->off[n] = k->text.len;
}

void
api_mkeys_reset(struct api_mkeys *k)
{
    buf_reset(&k->text);
    free(k->off);
}

void
api_put_metrics_k(struct buf *b, const struct api_mkeys *k,
    const struct pipeline *p, const struct view *v, const int64_t *row)
{
    struct outputs_value vals[OUTPUTS_MAX];
    int m;

    for (m = 0; m < v->nmetrics; m++) {
        buf_append(b, k->text.data + k->off[m], k->off[m + 1] - k->off[m]);
        agg_metric_json(p, v, m, row, b);
    }
    if (v->noutputs > 0)
        outputs_eval(p, v, row, vals);
    for (int i = 0; i < v->noutputs; i++, m++) {
        buf_append(b, k->text.data + k->off[m], k->off[m + 1] - k->off[m]);
        outputs_put_value(b, &vals[i], 1);
    }
    buf_putc(b, '}');
}

int
api_series_spec(const struct view *v, struct params *q, struct reply *r,
    struct series_spec *sp)
{
    return api_param_range(q, r, &sp->from, &sp->to) != 0 ||
        api_param_duration(v, q, r, "step", v->granularity, &sp->step) != 0 ||
        api_param_duration(v, q, r, "window", sp->step, &sp->width) != 0 ?
        -1 : 0;
}

int
api_series_plan(struct snap *s, const struct view *v,
    const struct series_spec *sp, struct plan *pl, char *err)
{
    unsigned flags = 0;

    if (sp->step % TS_DAY_MS == 0 && sp->width % TS_DAY_MS == 0)
        flags = PLAN_DAY;
    return plan_make(s, v, sp->from, sp->to, flags, pl, err);
}

void
api_series_window(struct window *w, const struct view *v,
    const struct series_spec *sp,
    int (*emit)(void *arg, int64_t t, const int64_t *row, char *err),
    void *arg)
{
    window_init(w, v, sp->step, sp->width, sp->from == INT64_MIN ?
        INT64_MIN : ts_bucket(sp->from, sp->step), emit, arg);
}

const char *
api_point_source(const struct series_spec *sp, int64_t cutoff, int64_t t)
{
    if (t >= cutoff)
        return "speed";
    if (t + sp->width <= cutoff)
        return "batch";
    return "mixed";
}

void
api_put_point(struct buf *b, const struct series_spec *sp, int64_t cutoff,
    int64_t t, const struct api_mkeys *k, const struct pipeline *p,
    const struct view *v, const int64_t *row)
{
    buf_puts(b, "\"t\":");
    api_put_time(b, 1, t);
    buf_puts(b, ",\"source\":\"");
    buf_puts(b, api_point_source(sp, cutoff, t));
    buf_puts(b, "\",\"metrics\":");
    api_put_metrics_k(b, k, p, v, row);
    api_put_approximate(b, p, v, row);
}

struct series {
    struct serving      *sv;
    const struct view   *v;
    struct buf          *out;
    struct window       *w;
    struct api_mkeys    *keys;
    struct series_spec   sp;
    int64_t              cutoff;
    int                  n, max;
    int                  marked;    /* a point at or after the cutoff came */
    size_t               mark;      /* where its text begins */
    int                  mark_n;    /* and how many points came before */
};

static int
series_point(void *arg, int64_t t, const int64_t *row, char *err)
{
    struct series *se = arg;
    struct buf *b = se->out;

    if (!se->marked && t >= se->cutoff) {
        se->marked = 1;
        se->mark = b->len;
        se->mark_n = se->n;
    }
    if (++se->n > se->max) {
        snprintf(err, ERR_LEN, "too many points");
        return -1;
    }
    buf_puts(b, se->n > 1 ? ",{" : "{");
    api_put_point(b, &se->sp, se->cutoff, t, se->keys, se->v->pipeline, se->v,
        row);
    buf_putc(b, '}');
    return 0;
}

static int
series_row(void *arg, int64_t bucket, const int64_t *row, char *err)
{
    return window_add(((struct series *)arg)->w, bucket, row, err);
}

/*
 * The key of the answer's batch part (partcache.h) into pk: its points
 * before the cutoff. 0 when it has none to keep: no batch, a range from
 * the cutoff on, or a point that would hold rows of both sides (a sliding
 * window, a cutoff inside a step).
 */
static int
part_key(const struct snap *s, const struct view *v,
    const struct series_spec *sp, const struct buf *gkey, struct buf *pk)
{
    int64_t head[5];

    if (!s->has_batch || sp->width != sp->step || sp->from >= s->cutoff ||
        ts_bucket(s->cutoff, sp->step) != s->cutoff)
        return 0;
    head[0] = s->batch.version;
    head[1] = s->cutoff;
    head[2] = sp->from;
    head[3] = sp->to;
    head[4] = sp->step;
    buf_append(pk, head, sizeof(head));
    /* the definition the text was written under: kept until exit */
    buf_append(pk, &v, sizeof(v));
    buf_append(pk, v->name, strlen(v->name) + 1);
    if (gkey->len > 0)
        buf_append(pk, gkey->data, gkey->len);
    return 1;
}

/*
 * The points of se's series for group key gkey, appended to se->out. The
 * points before the cutoff come from the batch part kept for the
 * snapshot's batch version when there is one (only speed rows are read
 * then), else every point is computed and the batch part kept.
 */
static int
series_points(struct snap *s, const struct view *v, struct series *se,
    const struct buf *gkey, char *err)
{
    struct cache *c = &se->sv->cache;
    struct series_spec sp = se->sp;
    size_t start = se->out->len;
    struct window w;
    struct plan pl;
    struct buf pk;
    uint64_t h = 0;
    int part = 0, hit = 0, rc;

    buf_init(&pk);
    if (cache_enabled(c) && part_key(s, v, &se->sp, gkey, &pk)) {
        part = 1;
        h = cache_hash(pk.data, pk.len);
        if ((hit = partcache_get(&c->part, h, pk.data, pk.len, se->out,
            &se->n)))
            sp.from = s->cutoff;    /* what is left: speed rows */
    }
    api_series_window(&w, v, &sp, series_point, se);
    se->w = &w;
    rc = api_series_plan(s, v, &sp, &pl, err);
    if (rc == 0)
        rc = query_key_rows(s, v, &pl, gkey->data, gkey->len, series_row, se,
            err);
    if (rc == 0)
        rc = window_finish(&w, err);
    window_reset(&w);
    if (rc == 0 && part && !hit && partcache_admit(&c->part, h))
        partcache_put(&c->part, h, pk.data, pk.len, se->out->data + start,
            (se->marked ? se->mark : se->out->len) - start,
            se->marked ? se->mark_n : se->n);
    buf_reset(&pk);
    return rc;
}

/* Room for the points at once when from and to bound them: growing a
 * 100 KB answer by doubling copied it twice over and faulted in new pages
 * on every request. About 24 bytes a metric and 48 more a point. */
static void
series_reserve(struct buf *b, const struct view *v, const struct series *se)
{
    uint64_t n;

    if (se->sp.from == INT64_MIN || se->sp.to == INT64_MAX ||
        se->sp.step <= 0 || se->sp.to <= se->sp.from)
        return;
    n = ((uint64_t)se->sp.to - (uint64_t)se->sp.from) / (uint64_t)se->sp.step;
    if (n > (uint64_t)se->max)
        n = (uint64_t)se->max;
    n *= 48 + 24 * (uint64_t)(v->nmetrics + v->noutputs);
    buf_reserve(b, n < (4u << 20) ? (size_t)n : (4u << 20));
}

void
api_series(struct serving *sv, const struct view *v, struct params *q,
    struct snap *pre, struct reply *r)
{
    struct buf key, *b = &r->body;
    struct api_mkeys keys;
    struct series se = {sv, v, b, NULL, &keys, {0, 0, 0, 0}, 0, 0,
        sv->p->serving.max_points, 0, 0, 0};
    struct snap own, *s;
    char err[ERR_LEN], d[32];
    int rc;

    buf_init(&key);
    if (api_params_dups(q, r) != 0 || api_series_spec(v, q, r, &se.sp) != 0 ||
        api_param_key(sv, v, q, r, &key) != 0 ||
        api_params_rest(sv, v, q, r, "from, to, step, window") != 0 ||
        (s = api_snap_for(sv, v, pre, &own, r)) == NULL)
        goto out;
    se.cutoff = s->cutoff;
    api_put_head(b, v);
    buf_puts(b, ",\"key\":");
    if (api_put_key(b, sv, v, key.data, key.len, r) != 0)
        goto end;
    buf_printf(b, ",\"step\":\"%s\"", ts_duration_format(se.sp.step, d,
        sizeof(d)));
    buf_printf(b, ",\"window\":\"%s\"", ts_duration_format(se.sp.width, d,
        sizeof(d)));
    api_put_range(b, se.sp.from, se.sp.to);
    buf_puts(b, ",\"points\":[");
    series_reserve(b, v, &se);
    api_mkeys_init(&keys, v);
    rc = series_points(s, v, &se, &key, err);
    api_mkeys_reset(&keys);
    if (rc != 0) {
        if (se.n > se.max)
            reply_error(r, 400, "step", "the series has more than %d points "
                "(serving.max_points): narrow from/to or use a larger step",
                se.max);
        else
            api_internal(r, err);
        goto end;
    }
    buf_putc(b, ']');
    if (api_put_pending(sv, s, v, &key, se.sp.from, se.sp.to, r) != 0)
        goto end;
    api_put_end(b, s);
end:
    api_snap_done(s, &own);
out:
    buf_reset(&key);
}
