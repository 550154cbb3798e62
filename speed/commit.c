/* commit.c -- one LMDB transaction per micro-batch: deltas, offsets, watermark, status */
#include <inttypes.h>
#include <string.h>

#include "shared/err.h"
#include "shared/log.h"
#include "shared/now.h"
#include "shared/speedmeta.h"
#include "shared/ts.h"
#include "speed/archive.h"
#include "speed/commit_int.h"
#include "speed/delta.h"
#include "speed/late.h"
#include "speed/redefine.h"
#include "speed/rejects.h"
#include "speed/speed.h"

#define GROUP_COMMIT_MS 1000    /* offsets to the group, for lag tools */

int
speed_load_state(struct speed *sp, char *err)
{
    struct store_batch_info info;
    struct store_txn *t = NULL;
    int64_t wm;
    int rc, rc2;

    if (store_txn_begin(sp->st, 1, &t, err) != 0)
        return -1;
    if ((rc = store_meta_get_i64(t, SPEEDMETA_WATERMARK, &wm, err)) < 0 ||
        (rc2 = store_batch_current(t, &info, err)) < 0 ||
        store_speed_sign(t, sp->p, err) != 0 ||
        redefine_start(sp, t, err) != 0) {
        store_txn_abort(t);
        return -1;
    }
    sp->watermark = rc == 0 ? wm : INT64_MIN;
    sp->batch_cutoff = rc2 == 0 ? info.cutoff : INT64_MIN;
    return store_txn_commit(t, err);
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
    speed_late_clear(sp);
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
 * The micro-batch holds rows before the published batch cutoff: a batch
 * published a later cutoff since its events were read (they were checked
 * against sp->batch_cutoff, consume_record.c). Writing them would lose them
 * (batch answers there, and does not hold them), so the commit is dropped
 * and the records re-read: then they are late, rejected and archived.
 */
static int
behind_cutoff(struct speed *sp, int64_t cutoff)
{
    const struct delta_entry *e;
    size_t n;
    char a[TS_BUFSZ];

    if (cutoff <= sp->batch_cutoff)
        return 0;
    n = delta_count(sp->delta);
    e = delta_sorted(sp->delta);
    sp->batch_cutoff = cutoff;
    for (size_t i = 0; i < n; i++) {
        if (e[i].bucket < cutoff) {
            log_warnx("lambda-batch published the cutoff %s while the "
                "micro-batch held events before it; re-reading them, as "
                "late events", ts_format(cutoff, a, sizeof(a)));
            return SPEED_FENCED;
        }
    }
    return 0;
}

void
speed_group_commit(struct speed *sp, int force)
{
    rd_kafka_topic_partition_list_t *l;
    int64_t mono = now_mono_ms();

    if (!force && mono - sp->last_group_commit < GROUP_COMMIT_MS)
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

    if (!has_work(sp) && !sp->status_due && !(sp->archive != NULL &&
        archive_due(sp->archive, now_wall_ms())))
        return 0;
    /* rejects first, outside the writer lock: waiting for a broker must
     * not block lambda-batch's publish */
    if (rejects_flush(sp->rejects, &speed_stop, err) != 0)
        return -1;
    t0 = now_mono_ms();
    if (store_txn_begin(sp->st, 1, &t, err) != 0)
        return -1;
    if ((rc = fence(sp, t, err)) != 0)
        goto abort;
    if ((rc = store_batch_current(t, &info, err)) < 0)
        goto abort;
    if (rc == 0)
        cutoff = info.cutoff;
    if ((rc = behind_cutoff(sp, cutoff)) != 0 ||
        (rc = redefine_check(sp, t, err)) != 0)
        goto abort;
    rc = -1;
    now = now_wall_ms();
    if (sp->archive != NULL && archive_write(sp->archive, t, now, err) != 0)
        goto abort;

    n = delta_count(sp->delta);
    e = delta_sorted(sp->delta);
    for (size_t i = 0; i < n; i++) {
        /* none is before the batch cutoff (behind_cutoff()) */
        if (redefine_skip(sp, e[i].view))
            continue;
        if (store_speed_merge(t, &sp->p->views[e[i].view], e[i].gkey,
            e[i].gklen, e[i].bucket, e[i].row, err) != 0)
            goto abort;
    }
    if (speed_late_write(sp, t, err) != 0)
        goto abort;
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
    if (commit_status_put(sp, t, now, newwm, err) != 0)
        goto abort;
    if (cutoff > sp->pruned_cutoff) {
        if (store_speed_prune(t, cutoff, err) != 0)
            goto abort;
    }
    if (store_txn_commit(t, err) != 0)
        return -1;
    t = NULL;
    /* freshness: from the record's produce time to visible in the store */
    commit_status_fresh(sp, now_wall_ms());

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
    speed_late_clear(sp);
    sp->npending = 0;
    sp->opened_ms = 0;
    sp->batch_max_time = INT64_MIN;
    sp->commits++;
    sp->last_commit_ms = now;
    sp->status_due = 0;
    if (log_enabled(LOG_LEVEL_DEBUG))
        log_debug("%s: %zu rows, %" PRId64 " records in %" PRId64 " ms "
            "(micro-batch open %" PRId64 " ms)", __func__, n,
            sp->total.consumed - consumed0, now_mono_ms() - t0,
            opened > 0 ? t0 - opened : 0);
    speed_group_commit(sp, 0);
    return 0;
abort:
    store_txn_abort(t);
    return rc;
}

