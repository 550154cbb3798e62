/* api_total.c -- GET /v1/views/NAME/total: one group's metrics over a range */
#include <stdint.h>
#include <stdlib.h>

#include "serving/api.h"
#include "serving/api_int.h"
#include "serving/query.h"
#include "serving/serving.h"
#include "shared/agg.h"
#include "shared/buf.h"
#include "shared/err.h"
#include "shared/mem.h"
#include "shared/outputs.h"
#include "shared/pipeline.h"

void
api_total(struct serving *sv, const struct view *v, struct params *q,
    struct snap *pre, struct reply *r)
{
    struct buf key, *b = &r->body;
    struct snap own, *s;
    struct plan pl;
    int64_t from, to, *row = NULL;
    char err[ERR_LEN];

    buf_init(&key);
    if (api_params_dups(q, r) != 0 || api_param_range(q, r, &from, &to) != 0 ||
        api_param_key(sv, v, q, r, &key) != 0 ||
        api_params_rest(sv, v, q, r, "from, to") != 0 ||
        (s = api_snap_for(sv, v, pre, &own, r)) == NULL)
        goto out;
    row = xmalloc(agg_row_size(v));
    if (plan_make(s, v, from, to, PLAN_ALL | PLAN_DAY, &pl, err) != 0 ||
        query_total(s, v, &pl, key.data, key.len, row, err) != 0) {
        api_internal(r, err);
        goto end;
    }
    api_put_head(b, v);
    buf_puts(b, ",\"key\":");
    if (api_put_key(b, sv, v, key.data, key.len, r) != 0)
        goto end;
    api_put_range(b, from, to);
    buf_puts(b, ",\"metrics\":");
    outputs_put_metrics(b, v->pipeline, v, row);
    api_put_approximate(b, v->pipeline, v, row);
    if (api_put_pending(sv, s, v, &key, from, to, r) != 0)
        goto end;
    api_put_end(b, s);
end:
    api_snap_done(s, &own);
out:
    buf_reset(&key);
    free(row);
}
