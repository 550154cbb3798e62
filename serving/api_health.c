/* api_health.c -- GET /healthz (alive) and GET /readyz (a store with data; a replica's lag, ready.c) */
#include "serving/api.h"
#include "serving/api_int.h"
#include "serving/query.h"
#include "serving/ready.h"
#include "serving/serving.h"
#include "shared/buf.h"
#include "shared/err.h"

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
    char err[ERR_LEN];

    (void)q;
    if (api_snap_open(sv, &s, r) != 0)
        return;
    if (ready_check(sv, &s, err) != 0) {
        reply_error(r, 503, NULL, "%s", err);
        snap_end(&s);
        return;
    }
    buf_puts(&r->body, "{\"status\":\"ready\"");
    api_put_end(&r->body, &s);
    snap_end(&s);
}
