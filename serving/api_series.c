/* api_series.c -- GET /v1/views/NAME/series: a window slid over the buckets */
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
#include "shared/mem.h"
#include "shared/pipeline.h"
#include "shared/ts.h"

/* The metric names of v as JSON object keys ("orders":), escaped once for
 * the many points of a series. */
struct mkeys {
    struct buf  text;
    size_t     *off;    /* nmetrics + 1 offsets into text */
};

static void
mkeys_init(struct mkeys *k, const struct view *v)
{
    buf_init(&k->text);
    k->off = xmalloc(((size_t)v->nmetrics + 1) * sizeof(size_t));
    for (int m = 0; m < v->nmetrics; m++) {
        k->off[m] = k->text.len;
        buf_putc(&k->text, m > 0 ? ',' : '{');
        buf_put_json_string(&k->text, v->metrics[m].name,
            strlen(v->metrics[m].name));
        buf_putc(&k->text, ':');
    }
    k->off[v->nmetrics] = k->text.len;
}

static void
mkeys_reset(struct mkeys *k)
{
    buf_reset(&k->text);
    free(k->off);
}

static void
put_metrics_k(struct buf *b, const struct mkeys *k, const struct pipeline *p,
    const struct view *v, const int64_t *row)
{
    for (int m = 0; m < v->nmetrics; m++) {
        buf_append(b, k->text.data + k->off[m], k->off[m + 1] - k->off[m]);
        agg_metric_json(p, v, m, row, b);
    }
    buf_putc(b, '}');
}
struct series {
    struct serving      *sv;
    const struct view   *v;
    struct buf          *out;
    struct window       *w;
    struct mkeys        *keys;
    int64_t              width, cutoff;
    int                  n, max;
};

static int
series_point(void *arg, int64_t t, const int64_t *row, char *err)
{
    struct series *se = arg;
    struct buf *b = se->out;
    const char *src;

    if (++se->n > se->max) {
        snprintf(err, ERR_LEN, "too many points");
        return -1;
    }
    if (t >= se->cutoff)
        src = "speed";
    else if (t + se->width <= se->cutoff)
        src = "batch";
    else
        src = "mixed";
    buf_puts(b, se->n > 1 ? ",{\"t\":" : "{\"t\":");
    api_put_time(b, 1, t);
    buf_puts(b, ",\"source\":\"");
    buf_puts(b, src);
    buf_puts(b, "\",\"metrics\":");
    put_metrics_k(b, se->keys, se->sv->p, se->v, row);
    api_put_approximate(b, se->sv->p, se->v, row);
    buf_putc(b, '}');
    return 0;
}

static int
series_row(void *arg, int64_t bucket, const int64_t *row, char *err)
{
    return window_add(((struct series *)arg)->w, bucket, row, err);
}

void
api_series(struct serving *sv, const struct view *v, struct params *q,
    struct snap *pre, struct reply *r)
{
    struct buf key, *b = &r->body;
    struct mkeys keys;
    struct series se = {sv, v, b, NULL, &keys, 0, 0, 0,
        sv->p->serving.max_points};
    struct window w;
    struct snap own, *s;
    struct plan pl;
    int64_t from, to, step, width;
    char err[ERR_LEN], d[32];
    unsigned flags = 0;
    int rc;

    buf_init(&key);
    if (api_params_dups(q, r) != 0 || api_param_range(q, r, &from, &to) != 0 ||
        api_param_duration(v, q, r, "step", v->granularity, &step) != 0 ||
        api_param_duration(v, q, r, "window", step, &width) != 0 ||
        api_param_key(sv, v, q, r, &key) != 0 ||
        api_params_rest(sv, v, q, r, "from, to, step, window") != 0 ||
        (s = api_snap_for(sv, v, pre, &own, r)) == NULL)
        goto out;
    if (step % TS_DAY_MS == 0 && width % TS_DAY_MS == 0)
        flags = PLAN_DAY;
    se.width = width;
    se.cutoff = s->cutoff;
    api_put_head(b, v);
    buf_puts(b, ",\"key\":");
    if (api_put_key(b, sv, v, key.data, key.len, r) != 0)
        goto end;
    buf_printf(b, ",\"step\":\"%s\"", ts_duration_format(step, d, sizeof(d)));
    buf_printf(b, ",\"window\":\"%s\"", ts_duration_format(width, d,
        sizeof(d)));
    api_put_range(b, from, to);
    buf_puts(b, ",\"points\":[");
    window_init(&w, v, step, width,
        from == INT64_MIN ? INT64_MIN : ts_bucket(from, step), series_point,
        &se);
    se.w = &w;
    mkeys_init(&keys, v);
    rc = plan_make(s, v, from, to, flags, &pl, err);
    if (rc == 0)
        rc = query_key_rows(s, v, &pl, key.data, key.len, series_row, &se,
            err);
    if (rc == 0)
        rc = window_finish(&w, err);
    window_reset(&w);
    mkeys_reset(&keys);
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
    api_put_end(b, s);
end:
    api_snap_done(s, &own);
out:
    buf_reset(&key);
}
