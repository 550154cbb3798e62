/* api_top.c -- GET /v1/views/NAME/top: the n best groups, kept in a heap */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "serving/api.h"
#include "serving/api_int.h"
#include "serving/query.h"
#include "serving/serving.h"
#include "serving/topcol.h"
#include "shared/agg.h"
#include "shared/buf.h"
#include "shared/err.h"
#include "shared/key.h"
#include "shared/mem.h"
#include "shared/outputs.h"
#include "shared/pipeline.h"

struct top_ent {
    unsigned char  key[KEY_MAX];
    size_t         len;
    int64_t       *row;
};

struct top {
    const struct view  *v;
    int                 m, n, cnt;
    size_t              rowsz;
    struct top_ent     *pool;
    struct top_ent    **h;      /* min-heap: the worst ranked at h[0] */
};

/* Nonzero when (row, key) ranks before e: larger metric, then smaller key. */
static int
top_before(struct top *t, const int64_t *row, const void *key, size_t len,
    const struct top_ent *e)
{
    int c = agg_metric_cmp(t->v, t->m, row, e->row);

    if (c != 0)
        return c > 0;
    c = memcmp(key, e->key, len < e->len ? len : e->len);
    if (c != 0)
        return c < 0;
    return len < e->len;
}

#define BEFORE(t, a, b) top_before((t), (a)->row, (a)->key, (a)->len, (b))

static void
top_down(struct top *t, int i, int size)
{
    for (;;) {
        int l = 2 * i + 1, r = l + 1, w = i;

        if (l < size && BEFORE(t, t->h[w], t->h[l]))
            w = l;
        if (r < size && BEFORE(t, t->h[w], t->h[r]))
            w = r;
        if (w == i)
            return;
        struct top_ent *x = t->h[i];
        t->h[i] = t->h[w];
        t->h[w] = x;
        i = w;
    }
}

static int
top_add(void *arg, const void *gkey, size_t gklen, const int64_t *row,
    char *err)
{
    struct top *t = arg;
    struct top_ent *e;
    int i;

    (void)err;
    if (t->cnt < t->n) {
        e = &t->pool[t->cnt];
        i = t->cnt++;
    } else if (top_before(t, row, gkey, gklen, t->h[0])) {
        e = t->h[0];
        i = -1;
    } else {
        return 0;
    }
    memcpy(e->key, gkey, gklen);
    e->len = gklen;
    memcpy(e->row, row, t->rowsz);
    if (i < 0) {
        top_down(t, 0, t->cnt);
        return 0;
    }
    t->h[i] = e;
    while (i > 0 && BEFORE(t, t->h[(i - 1) / 2], t->h[i])) {
        struct top_ent *x = t->h[i];
        t->h[i] = t->h[(i - 1) / 2];
        t->h[(i - 1) / 2] = x;
        i = (i - 1) / 2;
    }
    return 0;
}

void
api_top(struct serving *sv, const struct view *v, struct params *q,
    struct snap *pre, struct reply *r)
{
    struct buf *b = &r->body;
    struct top t = {v, 0, 0, 0, agg_row_size(v), NULL, NULL};
    struct topcol_mini mini;
    struct snap own, *s;
    struct plan pl;
    int64_t from, to;
    char err[ERR_LEN];
    int64_t *rows = NULL;
    int m, rc = 0;

    if (api_params_dups(q, r) != 0 || api_param_metric(v, q, r, &t.m) != 0 ||
        api_param_n(sv, q, r, &t.n) != 0 ||
        api_param_range(q, r, &from, &to) != 0 ||
        api_params_rest(sv, NULL, q, r, "metric, n, from, to") != 0 ||
        (s = api_snap_for(sv, v, pre, &own, r)) == NULL)
        return;
    m = t.m;
    t.pool = xcalloc((size_t)t.n, sizeof(*t.pool));
    t.h = xcalloc((size_t)t.n, sizeof(*t.h));
    rows = xmalloc((size_t)t.n * t.rowsz);
    for (int i = 0; i < t.n; i++)
        t.pool[i].row = rows + (size_t)i * (size_t)v->nslots;
    if (plan_make(s, v, from, to, PLAN_ALL | PLAN_DAY, &pl, err) != 0) {
        api_internal(r, err);
        goto end;
    }
    /* rank the metric alone from the version's column, then read the n
     * rows; else merge every group's rows */
    if (topcol_mini(v, m, &mini) && cache_enabled(&sv->cache)) {
        t.v = &mini.v;
        t.m = 0;
        t.rowsz = agg_row_size(&mini.v);
        rc = topcol_rank(&sv->cache.top, s, v, &mini, from, to, t.n, top_add,
            &t, err);
        if (rc == 0) {
            t.v = v;
            t.m = m;
            t.rowsz = agg_row_size(v);
            t.cnt = 0;
        }
    }
    if (rc < 0 || (rc == 0 && query_groups(s, v, &pl, top_add, &t,
        err) != 0)) {
        api_internal(r, err);
        goto end;
    }
    /* heapsort: the worst goes last each round, leaving best first */
    for (int i = t.cnt - 1; i > 0; i--) {
        struct top_ent *x = t.h[0];
        t.h[0] = t.h[i];
        t.h[i] = x;
        top_down(&t, 0, i);
    }
    for (int i = 0; rc == 1 && i < t.cnt; i++)  /* the rows a cold top has */
        if (query_total(s, v, &pl, t.h[i]->key, t.h[i]->len, t.h[i]->row,
            err) != 0) {
            api_internal(r, err);
            goto end;
        }
    api_put_head(b, v);
    buf_puts(b, ",\"metric\":");
    buf_put_json_string(b, v->metrics[m].name, strlen(v->metrics[m].name));
    buf_printf(b, ",\"n\":%d", t.n);
    api_put_range(b, from, to);
    buf_puts(b, ",\"rows\":[");
    for (int i = 0; i < t.cnt; i++) {
        buf_puts(b, i > 0 ? ",{\"key\":" : "{\"key\":");
        if (api_put_key(b, sv, v, t.h[i]->key, t.h[i]->len, r) != 0)
            goto end;
        buf_puts(b, ",\"metrics\":");
        outputs_put_metrics(b, v->pipeline, v, t.h[i]->row);
        api_put_approximate(b, v->pipeline, v, t.h[i]->row);
        buf_putc(b, '}');
    }
    buf_putc(b, ']');
    api_put_end(b, s);
end:
    api_snap_done(s, &own);
    free(t.pool);
    free(t.h);
    free(rows);
}
