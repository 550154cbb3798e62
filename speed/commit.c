/* commit.c -- one LMDB transaction per micro-batch: deltas, offsets, watermark, status */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "shared/buf.h"
#include "shared/err.h"
#include "shared/log.h"
#include "shared/mem.h"
#include "shared/speedmeta.h"
#include "shared/ts.h"
#include "speed/archive.h"
#include "speed/delta.h"
#include "speed/rejects.h"
#include "speed/speed.h"

#define FRESH_WINDOW_MS 30000   /* status freshness covers 30 to 60 s */
#define GROUP_COMMIT_MS 1000    /* offsets to the group, for lag tools */

int64_t
speed_wall_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t
speed_mono_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int
speed_load_state(struct speed *sp, char *err)
{
    struct store_txn *t = NULL;
    int64_t wm;
    int rc;

    if (store_txn_begin(sp->st, 1, &t, err) != 0)
        return -1;
    if ((rc = store_meta_get_i64(t, SPEEDMETA_WATERMARK, &wm, err)) < 0 ||
        store_speed_sign(t, sp->p, err) != 0) {
        store_txn_abort(t);
        return -1;
    }
    sp->watermark = rc == 0 ? wm : INT64_MIN;
    return store_txn_commit(t, err);
}

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

static int
has_work(const struct speed *sp)
{
    if (sp->npending > 0 || (sp->archive != NULL &&
        archive_pending(sp->archive)))
        return 1;
    for (int i = 0; i < sp->nparts; i++)
        if (sp->parts[i].touched)
            return 1;
    return 0;
}

void
speed_discard(struct speed *sp)
{
    delta_clear(sp->delta);
    if (sp->archive != NULL)
        archive_discard(sp->archive);
    memset(&sp->pend, 0, sizeof(sp->pend));
    sp->npending = 0;
    sp->nfresh = 0;
    sp->opened_ms = 0;
    sp->batch_max_time = INT64_MIN;
    for (int i = 0; i < sp->nparts; i++)
        sp->parts[i].touched = 0;
}

/* Each touched partition's offset in the store must still be ours. */
static int
fence(struct speed *sp, struct store_txn *t, char *err)
{
    int64_t have;
    int rc;

    for (int i = 0; i < sp->nparts; i++) {
        if (!sp->parts[i].touched)
            continue;
        if ((rc = store_offset_get(t, sp->topic, i, &have, err)) < 0)
            return -1;
        if (rc == STORE_NOTFOUND)
            have = -1;
        if (have != sp->parts[i].stored) {
            log_warnx("%s [%d]: offset in the store moved from %" PRId64
                " to %" PRId64 " under us (another consumer owns it now); "
                "dropping the micro-batch", sp->topic, i,
                sp->parts[i].stored, have);
            return SPEED_FENCED;
        }
    }
    return 0;
}

static void
counters_add(struct speed_counters *dst, const struct speed_counters *src)
{
    dst->consumed += src->consumed;
    dst->accepted += src->accepted;
    dst->lost += src->lost;
    for (int i = 0; i < REJECT_NREASONS; i++)
        dst->rejects[i] += src->rejects[i];
}

/*
 * Add this commit to the status record (shared/speedmeta.h): counters summed
 * over every commit of every process (read, added to, written back in the
 * commit transaction, so they are exact), this process's partitions,
 * freshness and last commit.
 */
static int
put_status(struct speed *sp, struct store_txn *t, int64_t now,
    int64_t watermark, char *err)
{
    struct speedmeta_status st;
    const void *val;
    size_t len;
    uint64_t h[SPEED_FRESH_BUCKETS];
    struct buf text;
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
    buf_init(&text);
    rc = speedmeta_status_format(&st, &text, err);
    speedmeta_status_reset(&st);
    if (rc == 0)
        rc = store_meta_put(t, SPEEDMETA_STATUS, text.data, text.len, err);
    buf_reset(&text);
    return rc;
}

static void
record_freshness(struct speed *sp, int64_t now)
{
    int64_t mono = speed_mono_ms();

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

/* Offsets to the group too, asynchronously, so lag tools see progress; the
 * store stays the truth. */
static void
group_commit(struct speed *sp)
{
    rd_kafka_topic_partition_list_t *l;
    int64_t mono = speed_mono_ms();

    if (mono - sp->last_group_commit < GROUP_COMMIT_MS)
        return;
    sp->last_group_commit = mono;
    l = rd_kafka_topic_partition_list_new(sp->nassigned > 0 ?
        sp->nassigned : 1);
    for (int i = 0; i < sp->nparts; i++)
        if (sp->parts[i].assigned && sp->parts[i].stored >= 0)
            rd_kafka_topic_partition_list_add(l, sp->topic, i)->offset =
                sp->parts[i].stored;
    if (l->cnt > 0)
        (void)rd_kafka_commit(sp->rk, l, 1);
    rd_kafka_topic_partition_list_destroy(l);
}

int
speed_commit(struct speed *sp, char *err)
{
    const struct delta_entry *e;
    struct store_batch_info info;
    struct store_txn *t = NULL;
    int64_t now, cutoff = INT64_MIN, wm, newwm, t0;
    int64_t consumed0 = sp->total.consumed, opened = sp->opened_ms;
    size_t n;
    int rc;

    if (!has_work(sp) && !(sp->archive != NULL &&
        archive_due(sp->archive, speed_wall_ms())))
        return 0;
    /* rejects first, outside the writer lock: waiting for a broker must
     * not block lambda-batch's publish */
    if (rejects_flush(sp->rejects, &speed_stop, err) != 0)
        return -1;
    t0 = speed_mono_ms();
    if (store_txn_begin(sp->st, 1, &t, err) != 0)
        return -1;
    if ((rc = fence(sp, t, err)) != 0)
        goto abort;
    rc = -1;
    now = speed_wall_ms();
    if (sp->archive != NULL && archive_write(sp->archive, t, now, err) != 0)
        goto abort;
    if ((rc = store_batch_current(t, &info, err)) < 0)
        goto abort;
    if (rc == 0)
        cutoff = info.cutoff;
    rc = -1;

    n = delta_count(sp->delta);
    e = delta_sorted(sp->delta);
    for (size_t i = 0; i < n; i++) {
        /* rows before the batch cutoff are answered by batch and pruned */
        if (e[i].bucket < cutoff)
            continue;
        if (store_speed_merge(t, &sp->p->views[e[i].view], e[i].gkey,
            e[i].gklen, e[i].bucket, e[i].row, err) != 0)
            goto abort;
    }
    for (int i = 0; i < sp->nparts; i++)
        if (sp->parts[i].touched && store_offset_put(t, sp->topic, i,
            sp->parts[i].next, err) != 0)
            goto abort;

    if ((rc = store_meta_get_i64(t, SPEEDMETA_WATERMARK, &wm, err)) < 0)
        goto abort;
    newwm = rc == 0 ? wm : INT64_MIN;
    rc = -1;
    if (sp->pend.accepted > 0 &&
        sp->batch_max_time - sp->p->speed.lateness > newwm)
        newwm = sp->batch_max_time - sp->p->speed.lateness;
    if ((newwm != INT64_MIN && store_meta_put_i64(t, SPEEDMETA_WATERMARK,
        newwm, err) != 0) ||
        store_meta_put_i64(t, SPEEDMETA_UPDATED_AT, now, err) != 0)
        goto abort;
    if (put_status(sp, t, now, newwm, err) != 0)
        goto abort;
    if (cutoff > sp->pruned_cutoff) {
        if (store_speed_prune(t, cutoff, err) != 0)
            goto abort;
    }
    if (store_txn_commit(t, err) != 0)
        return -1;
    t = NULL;
    /* freshness: from the record's produce time to visible in the store */
    record_freshness(sp, speed_wall_ms());

    if (cutoff > sp->pruned_cutoff) {
        log_info("pruned speed buckets before the batch cutoff %s",
            ts_format(cutoff, (char[TS_BUFSZ]){0}, TS_BUFSZ));
        sp->pruned_cutoff = cutoff;
    }
    if (sp->archive != NULL)
        archive_committed(sp->archive);
    for (int i = 0; i < sp->nparts; i++) {
        if (sp->parts[i].touched)
            sp->parts[i].stored = sp->parts[i].next;
        sp->parts[i].touched = 0;
    }
    sp->watermark = newwm;
    counters_add(&sp->total, &sp->pend);
    memset(&sp->pend, 0, sizeof(sp->pend));
    delta_clear(sp->delta);
    sp->npending = 0;
    sp->opened_ms = 0;
    sp->batch_max_time = INT64_MIN;
    sp->commits++;
    sp->last_commit_ms = now;
    if (log_enabled(LOG_LEVEL_DEBUG))
        log_debug("%s: %zu rows, %" PRId64 " records in %" PRId64 " ms "
            "(micro-batch open %" PRId64 " ms)", __func__, n,
            sp->total.consumed - consumed0, speed_mono_ms() - t0,
            opened > 0 ? t0 - opened : 0);
    group_commit(sp);
    return 0;
abort:
    store_txn_abort(t);
    return rc;
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
