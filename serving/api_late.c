/* api_late.c -- GET /v1/views/NAME/late, and the "pending" summary of total and series */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "serving/api.h"
#include "serving/api_int.h"
#include "serving/query.h"
#include "serving/serving.h"
#include "shared/agg.h"
#include "shared/buf.h"
#include "shared/err.h"
#include "shared/late.h"
#include "shared/mem.h"
#include "shared/outputs.h"
#include "shared/pipeline.h"

/*
 * The ledger's entries of one group come in key order: bucket, then slot,
 * then not archived before archived. A bucket's entries are summed per
 * flag, slots merged away.
 */
struct sum {
    int64_t  events;
    int64_t *row;
};

struct late_walk {
    struct serving    *sv;
    const struct view *v;
    struct buf        *b;
    int64_t            bucket;      /* being summed; INT64_MIN: none yet */
    struct sum         by[2];       /* [archived] */
    int                n;           /* buckets written */
    /* pending: the archived entries summed over every bucket */
    struct sum         all;
    int64_t            buckets;     /* with archived events */
    int64_t            unarchived;  /* events never in the master dataset */
    int                overflow;
};

static void
walk_init(struct late_walk *w, struct serving *sv, const struct view *v,
    struct buf *b)
{
    memset(w, 0, sizeof(*w));
    w->sv = sv;
    w->v = v;
    w->b = b;
    w->bucket = INT64_MIN;
    for (int i = 0; i < 2; i++) {
        w->by[i].row = xmalloc(agg_row_size(v) + sizeof(int64_t));
        agg_row_init(v, w->by[i].row);
    }
    w->all.row = xmalloc(agg_row_size(v) + sizeof(int64_t));
    agg_row_init(v, w->all.row);
}

static void
walk_reset(struct late_walk *w)
{
    free(w->by[0].row);
    free(w->by[1].row);
    free(w->all.row);
}

static void
sum_add(struct late_walk *w, struct sum *s, int64_t events,
    const int64_t *row)
{
    s->events += events;
    if (agg_row_merge(w->v, s->row, row) != 0)
        w->overflow = 1;
}

/* Write the bucket summed so far (archived first), and start afresh. */
static void
bucket_flush(struct late_walk *w)
{
    const struct pipeline *p = w->v->pipeline;

    for (int a = 1; a >= 0; a--) {
        struct sum *s = &w->by[a];

        if (s->events == 0)
            continue;
        if (w->b != NULL) {
            buf_puts(w->b, w->n++ > 0 ? ",{\"t\":" : "{\"t\":");
            api_put_time(w->b, 1, w->bucket);
            buf_printf(w->b, ",\"events\":%lld,\"metrics\":",
                (long long)s->events);
            outputs_put_metrics(w->b, p, w->v, s->row);
            api_put_approximate(w->b, p, w->v, s->row);
            buf_printf(w->b, ",\"archived\":%s}", a ? "true" : "false");
        }
        if (a) {
            w->buckets++;
            sum_add(w, &w->all, s->events, s->row);
        } else {
            w->unarchived += s->events;
        }
        s->events = 0;
        agg_row_init(w->v, s->row);
    }
}

static int
late_one(void *arg, const struct late_entry *e)
{
    struct late_walk *w = arg;

    if (e->bucket != w->bucket) {
        bucket_flush(w);
        w->bucket = e->bucket;
    }
    sum_add(w, &w->by[e->archived], e->events, e->row);
    return 0;
}

/* Walk group key's entries in [from, to), writing buckets to w->b unless
 * it is NULL. Returns 0, or -1 with err. */
static int
walk_run(struct late_walk *w, struct snap *s, const struct buf *key,
    int64_t from, int64_t to, char *err)
{
    if (store_late_scan(s->txn, w->v, key->data, key->len, from, to,
        late_one, w, err) != 0)
        return -1;
    bucket_flush(w);
    if (w->overflow) {
        snprintf(err, ERR_LEN, "view %s: sum overflow in the late-data "
            "ledger", w->v->name);
        return -1;
    }
    return 0;
}

int
api_put_pending(struct serving *sv, struct snap *s, const struct view *v,
    const struct buf *key, int64_t from, int64_t to, struct reply *r)
{
    struct late_walk w;
    struct buf *b = &r->body;
    char err[ERR_LEN];
    int rc = 0;

    walk_init(&w, sv, v, NULL);
    if (walk_run(&w, s, key, from, to, err) != 0) {
        api_internal(r, err);
        rc = -1;
    } else if (w.all.events > 0) {
        buf_printf(b, ",\"pending\":{\"events\":%lld,\"buckets\":%lld,"
            "\"metrics\":", (long long)w.all.events, (long long)w.buckets);
        outputs_put_metrics(b, v->pipeline, v, w.all.row);
        api_put_approximate(b, v->pipeline, v, w.all.row);
        buf_printf(b, ",\"unarchived\":%lld}", (long long)w.unarchived);
    }
    walk_reset(&w);
    return rc;
}

void
api_late(struct serving *sv, const struct view *v, struct params *q,
    struct snap *pre, struct reply *r)
{
    struct buf key, *b = &r->body;
    struct late_walk w;
    struct snap own, *s;
    int64_t from, to;
    char err[ERR_LEN];

    buf_init(&key);
    if (api_params_dups(q, r) != 0 || api_param_range(q, r, &from, &to) != 0 ||
        api_param_key(sv, v, q, r, &key) != 0 ||
        api_params_rest(sv, v, q, r, "from, to") != 0 ||
        (s = api_snap_for(sv, v, pre, &own, r)) == NULL)
        goto out;
    api_put_head(b, v);
    buf_puts(b, ",\"key\":");
    if (api_put_key(b, sv, v, key.data, key.len, r) != 0)
        goto end;
    api_put_range(b, from, to);
    buf_puts(b, ",\"buckets\":[");
    walk_init(&w, sv, v, b);
    if (walk_run(&w, s, &key, from, to, err) != 0)
        api_internal(r, err);
    else
        buf_printf(b, "],\"events\":%lld,\"unarchived\":%lld",
            (long long)w.all.events, (long long)w.unarchived);
    walk_reset(&w);
    if (r->status == 200)
        api_put_end(b, s);
end:
    api_snap_done(s, &own);
out:
    buf_reset(&key);
}
