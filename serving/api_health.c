/* api_health.c -- GET /healthz (alive) and GET /readyz (a store with data) */
#include "serving/api.h"
#include "serving/api_int.h"
#include "serving/query.h"
#include "serving/serving.h"
#include "shared/buf.h"

void
api_healthz(struct serving *sv, struct params *q, struct reply *r)
{
    (void)sv;
    (void)q;
    buf_puts(&r->body, "{\"status\":\"ok\"}\n");
}

void
api_readyz(struct serving *sv, struct params *q, struct reply *r)
{
    struct snap s;

    (void)q;
    if (api_snap_open(sv, &s, r) != 0)
        return;
    buf_puts(&r->body, "{\"status\":\"ready\"");
    api_put_end(&r->body, &s);
    snap_end(&s);
}
