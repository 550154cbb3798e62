/* commit_status.c -- what speed reports: status record, freshness, summary */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include <librdkafka/rdkafka.h>

#include "shared/buf.h"
#include "shared/event.h"
#include "shared/log.h"
#include "shared/now.h"
#include "shared/speedmeta.h"
#include "shared/store.h"
#include "speed/commit_int.h"
#include "speed/speed.h"

#define FRESH_WINDOW_MS 30000   /* status freshness covers 30 to 60 s */

int64_t
speed_fresh_percentile(const uint64_t *h, double q)
{
    uint64_t n = 0, want, seen = 0;

    for (int i = 0; i < SPEED_FRESH_BUCKETS; i++)
        n += h[i];
    if (n == 0)
        return -1;
    want = (uint64_t)((double)n * q);
    if (want >= n)
        want = n - 1;
    for (int i = 0; i < SPEED_FRESH_BUCKETS; i++) {
        seen += h[i];
        if (seen > want)
            return i;
    }
    return SPEED_FRESH_BUCKETS - 1;
}

/* The status record: counters exact over every process (commit_int.h). */
int
speed_status_store(struct store_txn *t, struct speedmeta_status *st,
    char *err)
{
    struct buf text;
    int rc;

    buf_init(&text);
    rc = speedmeta_status_format(st, &text, err);
    speedmeta_status_reset(st);
    if (rc == 0)
        rc = store_meta_put(t, SPEEDMETA_STATUS, text.data, text.len, err);
    buf_reset(&text);
    return rc;
}

int
commit_status_put(struct speed *sp, struct store_txn *t, int64_t now,
    int64_t watermark, char *err)
{
    struct speedmeta_status st;
    const void *val;
    size_t len;
    uint64_t h[SPEED_FRESH_BUCKETS];
    int rc;

    if ((rc = store_meta_get(t, SPEEDMETA_STATUS, &val, &len, err)) < 0)
        return -1;
    speedmeta_status_init(&st);
    if (rc == 0)
        (void)speedmeta_status_parse(&st, val, len);  /* else start over */
    speedmeta_status_set_topic(&st, sp->topic);
    st.consumed += sp->pend.consumed;
    st.accepted += sp->pend.accepted;
    for (int i = 1; i < REJECT_NREASONS; i++) {
        st.rejected += sp->pend.rejects[i];
        st.rejects[i] += sp->pend.rejects[i];
    }
    st.late += sp->pend.rejects[REJECT_LATE];
    st.lost += sp->pend.lost;
    st.commits++;
    st.last_commit = now;
    st.watermark = watermark;
    for (int i = 0; i < SPEED_FRESH_BUCKETS; i++)
        h[i] = (uint64_t)sp->fresh[0][i] + sp->fresh[1][i];
    st.fresh_p50 = speed_fresh_percentile(h, 0.5);
    st.fresh_p99 = speed_fresh_percentile(h, 0.99);

    for (int i = 0; i < sp->nparts; i++) {
        struct speed_part *pp = &sp->parts[i];
        struct speedmeta_part *sm;
        int64_t lo = -1, hi = -1, next, lag = 0;

        if (!pp->assigned)
            continue;
        next = pp->touched ? pp->next : pp->stored;
        if (rd_kafka_get_watermark_offsets(sp->rk, sp->topic, i, &lo, &hi) ==
            RD_KAFKA_RESP_ERR_NO_ERROR && hi >= 0)
            pp->high = hi;
        if (pp->high >= 0 && next >= 0 && pp->high > next)
            lag = pp->high - next;
        sm = speedmeta_status_part(&st, i);
        sm->next = next;
        sm->high = pp->high;
        sm->lag = lag;
        sm->lag_seconds = lag > 0 && pp->last_ts > 0 ?
            (double)(now - pp->last_ts) / 1000.0 : 0.0;
    }
    return speed_status_store(t, &st, err);
}

void
commit_status_fresh(struct speed *sp, int64_t now)
{
    int64_t mono = now_mono_ms();

    if (mono - sp->fresh_rotated >= FRESH_WINDOW_MS) {
        sp->fresh_cur ^= 1;
        memset(sp->fresh[sp->fresh_cur], 0, sizeof(sp->fresh[0]));
        sp->fresh_rotated = mono;
    }
    for (int i = 0; i < sp->nfresh; i++) {
        int64_t lat = now - sp->fresh_ts[i];

        if (lat < 0)
            lat = 0;
        if (lat >= SPEED_FRESH_BUCKETS)
            lat = SPEED_FRESH_BUCKETS - 1;
        sp->fresh[sp->fresh_cur][lat]++;
        sp->fresh_all[lat]++;
    }
    sp->nfresh = 0;
}

void
speed_log_summary(const struct speed *sp, const char *why)
{
    const struct speed_counters *c = &sp->total;
    char rej[512];
    size_t n = 0;
    int64_t nrej = 0;

    rej[0] = '\0';
    for (int i = 1; i < REJECT_NREASONS; i++) {
        nrej += c->rejects[i];
        if (c->rejects[i] > 0 && n < sizeof(rej))
            n += (size_t)snprintf(rej + n, sizeof(rej) - n, "%s%s %" PRId64,
                n > 0 ? ", " : " (", event_reject_name((enum reject)i),
                c->rejects[i]);
    }
    if (n > 0 && n < sizeof(rej) - 1)
        strcat(rej, ")");
    log_info("%s: consumed %" PRId64 ", accepted %" PRId64 ", rejected %"
        PRId64 "%s, lost %" PRId64 ", %" PRId64 " commits, freshness p50 %"
        PRId64 " ms p99 %" PRId64 " ms", why, c->consumed, c->accepted,
        nrej, rej, c->lost, sp->commits,
        speed_fresh_percentile(sp->fresh_all, 0.5),
        speed_fresh_percentile(sp->fresh_all, 0.99));
}
