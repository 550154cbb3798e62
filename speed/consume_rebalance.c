/* consume_rebalance.c -- partitions assigned and revoked against the store */
#include <inttypes.h>
#include <string.h>

#include <librdkafka/rdkafka.h>

#include "shared/buf.h"
#include "shared/err.h"
#include "shared/log.h"
#include "shared/mem.h"
#include "shared/store.h"
#include "speed/archive.h"
#include "speed/consume_int.h"
#include "speed/speed.h"

/* ---- partitions ---- */

struct speed_part *
consume_part(struct speed *sp, int32_t id)
{
    if (id >= sp->nparts) {
        int n = id + 1;

        sp->parts = xrealloc(sp->parts, sizeof(*sp->parts) * (size_t)n);
        memset(sp->parts + sp->nparts, 0,
            sizeof(*sp->parts) * (size_t)(n - sp->nparts));
        for (int i = sp->nparts; i < n; i++) {
            sp->parts[i].stored = -1;
            sp->parts[i].next = -1;
            sp->parts[i].high = -1;
        }
        sp->nparts = n;
    }
    return &sp->parts[id];
}

/*
 * Where a partition without a stored offset starts (speed.start), as a
 * number: given the logical BEGINNING or END, librdkafka 2.0 first waits
 * 500 ms for a leader before it asks, on every assignment. The logical
 * offset is the fallback when the broker does not answer, or is known to
 * be down (the broker just handed out the assignment, so it rarely is).
 */
static int64_t
start_offset(struct speed *sp, int32_t part)
{
    int64_t lo, hi;

    /* the query ignores its timeout while the leader is unreachable */
    if (sp->brokers_down ||
        rd_kafka_query_watermark_offsets(sp->rk, sp->topic, part, &lo, &hi,
        5000) != RD_KAFKA_RESP_ERR_NO_ERROR)
        return sp->p->speed.start_latest ? RD_KAFKA_OFFSET_END :
            RD_KAFKA_OFFSET_BEGINNING;
    return sp->p->speed.start_latest ? hi : lo;
}

/*
 * Read each partition's next offset from the store into the list (and our
 * state): the store, not the group, says where to resume.
 */
static int
load_offsets(struct speed *sp, rd_kafka_topic_partition_list_t *l,
    struct buf *desc, char *err)
{
    struct store_txn *t = NULL;
    int64_t next;
    int rc;

    if (store_txn_begin(sp->st, 0, &t, err) != 0)
        return -1;
    for (int i = 0; i < l->cnt; i++) {
        rd_kafka_topic_partition_t *tp = &l->elems[i];
        struct speed_part *pp;

        if (strcmp(tp->topic, sp->topic) != 0)
            continue;
        if ((rc = store_offset_get(t, sp->topic, tp->partition, &next,
            err)) < 0)
            goto fail;
        if (sp->archive != NULL &&
            archive_assign(sp->archive, t, tp->partition, err) != 0)
            goto fail;
        pp = consume_part(sp, tp->partition);
        pp->stored = rc == 0 ? next : -1;
        pp->next = pp->stored;
        pp->touched = 0;
        pp->eof = 0;
        tp->offset = rc == 0 ? next : start_offset(sp, tp->partition);
        if (desc != NULL) {
            buf_printf(desc, " [%" PRId32 "]@", tp->partition);
            if (rc != 0)
                buf_puts(desc, sp->p->speed.start_latest ? "latest:" :
                    "earliest:");
            buf_printf(desc, "%" PRId64, tp->offset);
        }
    }
    store_txn_abort(t);
    return 0;
fail:
    store_txn_abort(t);
    return -1;
}

static void
on_assign(struct speed *sp, rd_kafka_topic_partition_list_t *l)
{
    rd_kafka_error_t *e;
    rd_kafka_resp_err_t rc;
    struct buf desc;
    char err[ERR_LEN];

    buf_init(&desc);
    log_debug("%s: %d partition(s): reading offsets", __func__, l->cnt);
    if (load_offsets(sp, l, &desc, err) != 0) {
        consume_fail(sp, "assign: reading offsets from the store", err);
        buf_reset(&desc);
        return;
    }
    if (sp->cooperative) {
        if ((e = rd_kafka_incremental_assign(sp->rk, l)) != NULL) {
            consume_fail(sp, "incremental assign", rd_kafka_error_string(e));
            rd_kafka_error_destroy(e);
            buf_reset(&desc);
            return;
        }
    } else if ((rc = rd_kafka_assign(sp->rk, l)) !=
        RD_KAFKA_RESP_ERR_NO_ERROR) {
        consume_fail(sp, "assign", rd_kafka_err2str(rc));
        buf_reset(&desc);
        return;
    }
    for (int i = 0; i < l->cnt; i++) {
        if (strcmp(l->elems[i].topic, sp->topic) == 0 &&
            !consume_part(sp, l->elems[i].partition)->assigned) {
            consume_part(sp, l->elems[i].partition)->assigned = 1;
            sp->nassigned++;
            sp->status_due = 1;
        }
    }
    log_info("assigned %s:%s", sp->topic, desc.data != NULL ? desc.data :
        " (none)");
    buf_reset(&desc);
}

static void
on_revoke(struct speed *sp, rd_kafka_topic_partition_list_t *l)
{
    rd_kafka_error_t *e;
    struct buf desc;

    buf_init(&desc);
    if (rd_kafka_assignment_lost(sp->rk))
        log_warnx("partitions lost (session timed out?); committing what "
            "is pending, the store fence guards against a new owner");
    for (int i = 0; i < l->cnt; i++) {
        struct speed_part *pp;

        if (strcmp(l->elems[i].topic, sp->topic) != 0)
            continue;
        pp = consume_part(sp, l->elems[i].partition);
        if (pp->assigned)
            sp->nassigned--;
        pp->assigned = 0;
        if (sp->archive != NULL)
            archive_seal(sp->archive, l->elems[i].partition);
        buf_printf(&desc, " [%" PRId32 "]", l->elems[i].partition);
    }
    /* deltas of revoked partitions must be in the store before a new owner
     * reads their offsets; their open archive segments are sealed */
    consume_commit(sp);
    for (int i = 0; i < l->cnt; i++) {
        if (strcmp(l->elems[i].topic, sp->topic) != 0)
            continue;
        consume_part(sp, l->elems[i].partition)->touched = 0;
        if (sp->archive != NULL)
            archive_release(sp->archive, l->elems[i].partition);
    }
    if (sp->cooperative) {
        if ((e = rd_kafka_incremental_unassign(sp->rk, l)) != NULL) {
            log_warnx("incremental unassign: %s", rd_kafka_error_string(e));
            rd_kafka_error_destroy(e);
        }
    } else {
        (void)rd_kafka_assign(sp->rk, NULL);
    }
    log_info("revoked %s:%s", sp->topic, desc.data != NULL ? desc.data : "");
    buf_reset(&desc);
}

void
consume_rebalance_cb(rd_kafka_t *rk, rd_kafka_resp_err_t err,
    rd_kafka_topic_partition_list_t *l, void *opaque)
{
    struct speed *sp = opaque;

    /* known only once the group is joined */
    sp->cooperative = strcmp(rd_kafka_rebalance_protocol(rk),
        "COOPERATIVE") == 0;
    if (err == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS) {
        on_assign(sp, l);
    } else if (err == RD_KAFKA_RESP_ERR__REVOKE_PARTITIONS) {
        on_revoke(sp, l);
    } else {
        log_warnx("rebalance: %s", rd_kafka_err2str(err));
        on_revoke(sp, l);
    }
}

#define METADATA_MS 500         /* one try at the topic's partitions */

int
consume_assign_all(struct speed *sp)
{
    const struct rd_kafka_metadata *md = NULL;
    const struct rd_kafka_metadata_topic *mt;
    rd_kafka_topic_partition_list_t *l;
    rd_kafka_topic_t *rkt;
    rd_kafka_resp_err_t rc;

    if ((rkt = rd_kafka_topic_new(sp->rk, sp->topic, NULL)) == NULL) {
        consume_fail(sp, sp->topic, rd_kafka_err2str(rd_kafka_last_error()));
        return -1;
    }
    rc = rd_kafka_metadata(sp->rk, 0, rkt, &md, METADATA_MS);
    rd_kafka_topic_destroy(rkt);
    if (rc != RD_KAFKA_RESP_ERR_NO_ERROR) {
        log_debug("%s: metadata: %s", __func__, rd_kafka_err2str(rc));
        return 0;       /* no broker answered yet: the caller retries */
    }
    consume_brokers_up(sp);
    mt = md->topic_cnt == 1 ? &md->topics[0] : NULL;
    if (mt == NULL || (mt->err != RD_KAFKA_RESP_ERR_NO_ERROR &&
        mt->err != RD_KAFKA_RESP_ERR_LEADER_NOT_AVAILABLE)) {
        consume_fail(sp, sp->topic, rd_kafka_err2str(mt != NULL ? mt->err :
            RD_KAFKA_RESP_ERR__UNKNOWN_TOPIC));
        rd_kafka_metadata_destroy(md);
        return -1;
    }
    if (mt->partition_cnt == 0) {       /* being created */
        rd_kafka_metadata_destroy(md);
        return 0;
    }
    l = rd_kafka_topic_partition_list_new(mt->partition_cnt);
    for (int i = 0; i < mt->partition_cnt; i++)
        rd_kafka_topic_partition_list_add(l, sp->topic,
            mt->partitions[i].id);
    rd_kafka_metadata_destroy(md);
    on_assign(sp, l);
    rd_kafka_topic_partition_list_destroy(l);
    return sp->fatal ? -1 : 1;
}

/* After a fence: forget the micro-batch and go back to the store offsets. */
static void
reseek(struct speed *sp)
{
    rd_kafka_topic_partition_list_t *l;
    rd_kafka_error_t *e;
    char err[ERR_LEN];

    speed_discard(sp);
    l = rd_kafka_topic_partition_list_new(sp->nassigned > 0 ?
        sp->nassigned : 1);
    for (int i = 0; i < sp->nparts; i++)
        if (sp->parts[i].assigned)
            rd_kafka_topic_partition_list_add(l, sp->topic, i);
    if (load_offsets(sp, l, NULL, err) != 0) {
        consume_fail(sp, "re-reading offsets from the store", err);
    } else if (l->cnt > 0 &&
        (e = rd_kafka_seek_partitions(sp->rk, l, 10000)) != NULL) {
        consume_fail(sp, "seek", rd_kafka_error_string(e));
        rd_kafka_error_destroy(e);
    }
    rd_kafka_topic_partition_list_destroy(l);
}

void
consume_commit(struct speed *sp)
{
    char err[ERR_LEN];
    int rc = speed_commit(sp, err);

    if (rc == SPEED_FENCED)
        reseek(sp);
    else if (rc != 0)
        consume_fail(sp, "commit", err);
}
