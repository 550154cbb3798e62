/* ready.c -- /readyz of a replica: a batch version held and lambda-speed's lag within serving.ready_max_lag */
#include <inttypes.h>
#include <stdio.h>

#include "serving/ready.h"
#include "shared/err.h"
#include "shared/speedmeta.h"

int
ready_check(struct serving *sv, struct snap *s, char *why)
{
    const struct pipeline_lag *max = &sv->p->serving.ready_max_lag;
    struct speedmeta_status st;
    const void *val;
    size_t len;
    int64_t records = 0;
    double secs = 0;
    int rc;

    if (max->records < 0 && max->ms < 0)
        return 0;
    if (!s->has_batch) {
        snprintf(why, ERR_LEN, "store %s holds no batch version yet "
            "(lambda-batch --pull imports one)", sv->p->store);
        return -1;
    }
    if ((rc = store_meta_get(s->txn, SPEEDMETA_STATUS, &val, &len,
        why)) < 0)
        return -1;
    speedmeta_status_init(&st);
    if (rc == STORE_NOTFOUND ||
        speedmeta_status_parse(&st, val, len) != 0 || st.commits == 0) {
        speedmeta_status_reset(&st);
        snprintf(why, ERR_LEN, "lambda-speed has not committed to store %s "
            "yet: its lag is unknown", sv->p->store);
        return -1;
    }
    for (int i = 0; i < st.nparts; i++) {
        records += st.parts[i].lag;
        if (st.parts[i].lag_seconds > secs)
            secs = st.parts[i].lag_seconds;
    }
    speedmeta_status_reset(&st);
    if (max->records >= 0 && records > max->records) {
        snprintf(why, ERR_LEN, "lambda-speed is %" PRId64 " records behind "
            "(serving.ready_max_lag %" PRId64 ")", records, max->records);
        return -1;
    }
    if (max->ms >= 0 && secs * 1000 > (double)max->ms) {
        snprintf(why, ERR_LEN, "lambda-speed is %.1f s behind "
            "(serving.ready_max_lag %.1f s)", secs, (double)max->ms / 1000);
        return -1;
    }
    return 0;
}
