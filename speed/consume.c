/* consume.c -- the group consumer: rebalances against the store, events into micro-batches */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "shared/buf.h"
#include "shared/err.h"
#include "shared/jsonnum.h"
#include "shared/key.h"
#include "shared/log.h"
#include "shared/mem.h"
#include "shared/ts.h"
#include "speed/archive.h"
#include "speed/delta.h"
#include "speed/rejects.h"
#include "speed/speed.h"

#define CLOSE_WAIT_MS 5000      /* longest wait to leave the group */
#define PROBE_MS 1000           /* reachability probe while brokers are down */
#define POLL_MS 100
#define POLL_BATCH 1024         /* messages taken from librdkafka per call */

/* Properties lambda-speed owns: exactly once depends on them. */
static const char *const owned[] = {
    "bootstrap.servers", "group.id", "enable.auto.commit",
    "enable.auto.offset.store", "auto.offset.reset", "enable.partition.eof",
    NULL
};

/* ---- librdkafka logs and errors, into ours ---- */

static void
kafka_log(const rd_kafka_t *rk, int level, const char *fac, const char *buf)
{
    enum log_level l = level <= 4 ? LOG_LEVEL_WARN : level <= 6 ?
        LOG_LEVEL_INFO : LOG_LEVEL_DEBUG;

    /*
     * Connection failures repeat for as long as a broker is away; error_cb
     * reports the state change once, so the details go to debug. So do the
     * rejects producer's notes on consumer-only properties of speed.kafka.
     */
    if (strcmp(fac, "FAIL") == 0 || strstr(buf, "will be ignored by this") !=
        NULL)
        l = LOG_LEVEL_DEBUG;
    /* offsets sent to the group are for lag tools only: the store has them */
    if (strcmp(fac, "COMMITFAIL") == 0)
        l = LOG_LEVEL_DEBUG;
    log_at(l, "kafka %s %s: %s", rd_kafka_name(rk), fac, buf);
}

static void
brokers_up(struct speed *sp)
{
    if (sp->brokers_down) {
        sp->brokers_down = 0;
        log_info("brokers reachable again");
    }
}

static void
error_cb(rd_kafka_t *rk, int err, const char *reason, void *opaque)
{
    struct speed *sp = opaque;
    char errstr[512];

    switch (err) {
    case RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN:
        if (!sp->brokers_down) {
            sp->brokers_down = 1;
            sp->probe_ms = speed_mono_ms() + PROBE_MS;
            log_warnx("all brokers are down (%s); retrying", reason);
        }
        break;
    case RD_KAFKA_RESP_ERR__TRANSPORT:
    case RD_KAFKA_RESP_ERR__RESOLVE:
        log_debug("%s: %s: %s", __func__, rd_kafka_err2name(err), reason);
        break;
    case RD_KAFKA_RESP_ERR__FATAL:
        (void)rd_kafka_fatal_error(rk, errstr, sizeof(errstr));
        log_warnx("kafka fatal error: %s", errstr);
        sp->fatal = 1;
        speed_stop = 1;
        break;
    default:
        log_warnx("kafka %s: %s: %s", rd_kafka_name(rk),
            rd_kafka_err2name(err), reason);
        break;
    }
}

rd_kafka_conf_t *
speed_kafka_conf(struct speed *sp, int consumer, char *err)
{
    struct pipeline *p = sp->p;
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    char errstr[512];
    const char *k, *v;
    int i;

    static const char *const defaults[] = {
        "client.id", "lambda-speed",
        "partition.assignment.strategy", "cooperative-sticky",
        "enable.auto.commit", "false",
        "enable.auto.offset.store", "false",
        "auto.offset.reset", "error",
        "enable.partition.eof", "true",
        /* the mock and idle real brokers hold a fetch this long: it bounds
         * freshness with commit_ms */
        "fetch.wait.max.ms", "50",
        /* librdkafka 2.0 pauses a partition's fetches for 1 s once this many
         * messages wait; queued.max.messages.kbytes (64 MiB) still bounds
         * the memory */
        "queued.min.messages", "1000000",
        NULL
    };

    if (rd_kafka_conf_set(conf, "bootstrap.servers", p->speed.brokers,
        errstr, sizeof(errstr)) != RD_KAFKA_CONF_OK)
        goto fail_key;
    if (consumer) {
        if (rd_kafka_conf_set(conf, "group.id", p->speed.group, errstr,
            sizeof(errstr)) != RD_KAFKA_CONF_OK)
            goto fail_key;
        for (i = 0; defaults[i] != NULL; i += 2)
            if (rd_kafka_conf_set(conf, defaults[i], defaults[i + 1], errstr,
                sizeof(errstr)) != RD_KAFKA_CONF_OK)
                goto fail_key;
    } else if (rd_kafka_conf_set(conf, "client.id", "lambda-speed-rejects",
        errstr, sizeof(errstr)) != RD_KAFKA_CONF_OK) {
        goto fail_key;
    }
    for (i = 0; i < p->speed.nkafka; i++) {
        k = p->speed.kafka_keys[i];
        v = p->speed.kafka_vals[i];
        for (int j = 0; owned[j] != NULL; j++) {
            if (strcmp(k, owned[j]) == 0) {
                snprintf(err, ERR_LEN, "%s: speed.kafka.%s: set by "
                    "lambda-speed (offsets live in the store; use "
                    "speed.brokers and speed.group)", p->path, k);
                rd_kafka_conf_destroy(conf);
                return NULL;
            }
        }
        if (rd_kafka_conf_set(conf, k, v, errstr, sizeof(errstr)) !=
            RD_KAFKA_CONF_OK) {
            snprintf(err, ERR_LEN, "%s: speed.kafka.%s: %.160s", p->path, k,
                errstr);
            rd_kafka_conf_destroy(conf);
            return NULL;
        }
    }
    rd_kafka_conf_set_opaque(conf, sp);
    rd_kafka_conf_set_log_cb(conf, kafka_log);
    rd_kafka_conf_set_error_cb(conf, error_cb);
    return conf;
fail_key:
    snprintf(err, ERR_LEN, "kafka configuration: %.200s", errstr);
    rd_kafka_conf_destroy(conf);
    return NULL;
}

/* ---- partitions ---- */

static struct speed_part *
part_of(struct speed *sp, int32_t id)
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

static void
fail(struct speed *sp, const char *what, const char *err)
{
    log_warnx("%s: %s", what, err);
    sp->fatal = 1;
    speed_stop = 1;
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
        pp = part_of(sp, tp->partition);
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
do_commit(struct speed *sp);

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
        fail(sp, "assign: reading offsets from the store", err);
        buf_reset(&desc);
        return;
    }
    if (sp->cooperative) {
        if ((e = rd_kafka_incremental_assign(sp->rk, l)) != NULL) {
            fail(sp, "incremental assign", rd_kafka_error_string(e));
            rd_kafka_error_destroy(e);
            buf_reset(&desc);
            return;
        }
    } else if ((rc = rd_kafka_assign(sp->rk, l)) !=
        RD_KAFKA_RESP_ERR_NO_ERROR) {
        fail(sp, "assign", rd_kafka_err2str(rc));
        buf_reset(&desc);
        return;
    }
    for (int i = 0; i < l->cnt; i++) {
        if (strcmp(l->elems[i].topic, sp->topic) == 0 &&
            !part_of(sp, l->elems[i].partition)->assigned) {
            part_of(sp, l->elems[i].partition)->assigned = 1;
            sp->nassigned++;
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
        pp = part_of(sp, l->elems[i].partition);
        if (pp->assigned)
            sp->nassigned--;
        pp->assigned = 0;
        if (sp->archive != NULL)
            archive_seal(sp->archive, l->elems[i].partition);
        buf_printf(&desc, " [%" PRId32 "]", l->elems[i].partition);
    }
    /* deltas of revoked partitions must be in the store before a new owner
     * reads their offsets; their open archive segments are sealed */
    do_commit(sp);
    for (int i = 0; i < l->cnt; i++) {
        if (strcmp(l->elems[i].topic, sp->topic) != 0)
            continue;
        part_of(sp, l->elems[i].partition)->touched = 0;
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

static void
rebalance_cb(rd_kafka_t *rk, rd_kafka_resp_err_t err,
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
        fail(sp, "re-reading offsets from the store", err);
    } else if (l->cnt > 0 &&
        (e = rd_kafka_seek_partitions(sp->rk, l, 10000)) != NULL) {
        fail(sp, "seek", rd_kafka_error_string(e));
        rd_kafka_error_destroy(e);
    }
    rd_kafka_topic_partition_list_destroy(l);
}

static void
do_commit(struct speed *sp)
{
    char err[ERR_LEN];
    int rc = speed_commit(sp, err);

    if (rc == SPEED_FENCED)
        reseek(sp);
    else if (rc != 0)
        fail(sp, "commit", err);
}

int
speed_consumer_open(struct speed *sp, char *err)
{
    rd_kafka_conf_t *conf;
    rd_kafka_topic_partition_list_t *l;
    rd_kafka_resp_err_t rc;
    char errstr[512];

    if ((conf = speed_kafka_conf(sp, 1, err)) == NULL)
        return -1;
    rd_kafka_conf_set_rebalance_cb(conf, rebalance_cb);
    if ((sp->rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, errstr,
        sizeof(errstr))) == NULL) {
        snprintf(err, ERR_LEN, "kafka consumer: %.200s", errstr);
        rd_kafka_conf_destroy(conf);
        return -1;
    }
    (void)rd_kafka_poll_set_consumer(sp->rk);
    sp->q = rd_kafka_queue_get_consumer(sp->rk);
    l = rd_kafka_topic_partition_list_new(1);
    rd_kafka_topic_partition_list_add(l, sp->topic, RD_KAFKA_PARTITION_UA);
    rc = rd_kafka_subscribe(sp->rk, l);
    rd_kafka_topic_partition_list_destroy(l);
    if (rc != RD_KAFKA_RESP_ERR_NO_ERROR) {
        snprintf(err, ERR_LEN, "subscribe %s: %s", sp->topic,
            rd_kafka_err2str(rc));
        return -1;
    }
    return 0;
}

/* ---- records ---- */

static void
reject(struct speed *sp, const rd_kafka_message_t *m, int64_t ts,
    enum reject r, const char *msg)
{
    sp->pend.rejects[r]++;
    rejects_add(sp->rejects, sp->topic, m->partition, m->offset, ts, r, msg,
        m->payload != NULL ? m->payload : "", m->len);
}

/* Set a nested field (creating objects on the way) to an RFC 3339 time. */
static void
json_set_time(cJSON *root, char **path, int npath, int64_t ms)
{
    char tbuf[TS_BUFSZ];
    cJSON *o = root, *next;

    for (int i = 0; i < npath - 1; i++) {
        next = cJSON_GetObjectItemCaseSensitive(o, path[i]);
        if (!cJSON_IsObject(next)) {
            cJSON_DeleteItemFromObjectCaseSensitive(o, path[i]);
            next = cJSON_AddObjectToObject(o, path[i]);
        }
        o = next;
    }
    cJSON_DeleteItemFromObjectCaseSensitive(o, path[npath - 1]);
    cJSON_AddStringToObject(o, path[npath - 1], ts_format(ms, tbuf,
        sizeof(tbuf)));
}

/*
 * The archived line: the record as sent, unless its time came from the
 * Kafka timestamp (then the time field is added, so batch sees the same
 * time) or it spans lines (then it is re-printed on one line).
 */
static void
archive_record(struct speed *sp, const rd_kafka_message_t *m)
{
    const char *text = m->payload;
    struct buf printed;
    cJSON *doc;

    if (!sp->ev.time_from_record && memchr(text, '\n', m->len) == NULL &&
        memchr(text, '\r', m->len) == NULL) {
        archive_add(sp->archive, m->partition, m->offset, sp->ev.time, text,
            m->len);
        return;
    }
    if ((doc = cJSON_ParseWithLength(text, m->len)) == NULL)
        fatalx("archive: cannot re-parse an accepted record");
    if (sp->ev.time_from_record)
        json_set_time(doc, sp->p->time_path, sp->p->ntime_path, sp->ev.time);
    /* numbers as sent: a float rounds from its text (jsonnum.h) */
    buf_init(&printed);
    if (jsonnum_print(&printed, doc, text, m->len) != 0)
        fatalx("archive: cannot re-print an accepted record");
    archive_add(sp->archive, m->partition, m->offset, sp->ev.time,
        printed.data, printed.len);
    buf_reset(&printed);
    cJSON_Delete(doc);
}

/* Add an accepted event to every view it matches. */
static enum reject
apply(struct speed *sp, char *msg)
{
    int v;

    switch (delta_add_event(sp->delta, &sp->ev, &v)) {
    case 0:
        return REJECT_NONE;
    case DELTA_KEY_TOO_LONG:
        snprintf(msg, ERR_LEN, "group key of view %s is longer than %d "
            "bytes", sp->p->views[v].name, KEY_MAX);
        return REJECT_RANGE;
    default:
        fatalx("view %s: sum overflow in a micro-batch", sp->p->views[v].name);
    }
}

static void
record(struct speed *sp, const rd_kafka_message_t *m)
{
    struct speed_part *pp = part_of(sp, m->partition);
    rd_kafka_timestamp_type_t tstype;
    char msg[ERR_LEN], t1[TS_BUFSZ], t2[TS_BUFSZ];
    int64_t ts;
    enum reject r;

    /* stale: revoked, or fetched before a seek back */
    if (!pp->assigned || (pp->next >= 0 && m->offset < pp->next))
        return;
    ts = rd_kafka_message_timestamp(m, &tstype);
    if (tstype == RD_KAFKA_TIMESTAMP_NOT_AVAILABLE || ts < 0)
        ts = -1;
    if (sp->npending == 0)
        sp->opened_ms = speed_mono_ms();
    sp->npending++;
    sp->pend.consumed++;
    pp->next = m->offset + 1;
    pp->touched = 1;
    pp->eof = 0;
    pp->last_ts = ts;

    msg[0] = '\0';
    r = event_parse(&sp->ev, sp->p, m->payload != NULL ? m->payload : "",
        m->len, ts, msg);
    if (r == REJECT_NONE && sp->ev.time < sp->watermark) {
        r = REJECT_LATE;
        snprintf(msg, sizeof(msg), "event time %s is before the watermark "
            "%s", ts_format(sp->ev.time, t1, sizeof(t1)),
            ts_format(sp->watermark, t2, sizeof(t2)));
    }
    if (r == REJECT_NONE)
        r = apply(sp, msg);
    if (r != REJECT_NONE) {
        reject(sp, m, ts, r, msg);
        /* a late event is valid, only too late for the speed view: it
         * joins the master dataset, so the next batch run counts it */
        if (r == REJECT_LATE && sp->archive != NULL)
            archive_record(sp, m);
        return;
    }
    sp->pend.accepted++;
    if (sp->ev.time > sp->batch_max_time)
        sp->batch_max_time = sp->ev.time;
    if (ts >= 0) {
        if (sp->nfresh == sp->fresh_cap) {
            sp->fresh_cap = sp->fresh_cap ? sp->fresh_cap * 2 : 1024;
            sp->fresh_ts = xrealloc(sp->fresh_ts, sizeof(int64_t) *
                (size_t)sp->fresh_cap);
        }
        sp->fresh_ts[sp->nfresh++] = ts;
    }
    if (sp->archive != NULL)
        archive_record(sp, m);
}

/* ---- errors on the message stream ---- */

/*
 * Fetch part again from offset. After an offset reset error librdkafka stops
 * fetching the partition and refuses a seek ("Erroneous state"), so the
 * partition is assigned anew.
 */
static void
restart(struct speed *sp, int32_t part, int64_t offset)
{
    rd_kafka_topic_partition_list_t *l;
    rd_kafka_error_t *e = NULL;
    rd_kafka_resp_err_t rc = RD_KAFKA_RESP_ERR_NO_ERROR;

    l = rd_kafka_topic_partition_list_new(sp->nassigned > 0 ?
        sp->nassigned : 1);
    if (sp->cooperative) {
        rd_kafka_topic_partition_list_add(l, sp->topic, part)->offset =
            offset;
        if ((e = rd_kafka_incremental_unassign(sp->rk, l)) == NULL)
            e = rd_kafka_incremental_assign(sp->rk, l);
    } else {
        /* eager: the whole assignment again, each where it stands */
        for (int i = 0; i < sp->nparts; i++) {
            const struct speed_part *pp = &sp->parts[i];

            if (!pp->assigned)
                continue;
            rd_kafka_topic_partition_list_add(l, sp->topic, i)->offset =
                i == part ? offset : pp->next >= 0 ? pp->next :
                sp->p->speed.start_latest ? RD_KAFKA_OFFSET_END :
                RD_KAFKA_OFFSET_BEGINNING;
        }
        rc = rd_kafka_assign(sp->rk, l);
    }
    if (e != NULL) {
        fail(sp, "reassign", rd_kafka_error_string(e));
        rd_kafka_error_destroy(e);
    } else if (rc != RD_KAFKA_RESP_ERR_NO_ERROR) {
        fail(sp, "reassign", rd_kafka_err2str(rc));
    }
    rd_kafka_topic_partition_list_destroy(l);
}

/*
 * The stored offset is no longer in the topic: retention deleted records
 * we never consumed. speed.on_data_loss says whether to stop or go on from
 * the earliest record left, counting what was lost.
 */
static void
data_loss(struct speed *sp, const rd_kafka_message_t *m)
{
    struct speed_part *pp = part_of(sp, m->partition);
    int64_t want = pp->next >= 0 ? pp->next : m->offset, lo = -1, hi = -1;
    rd_kafka_resp_err_t rc;

    rc = rd_kafka_query_watermark_offsets(sp->rk, sp->topic, m->partition,
        &lo, &hi, 5000);
    if (!sp->p->speed.skip_data_loss) {
        log_warnx("data loss: %s [%" PRId32 "]: offset %" PRId64 " is no "
            "longer in the topic (%s%" PRId64 "): records deleted by "
            "retention before they were consumed; stopping "
            "(speed.on_data_loss=fail; set it to skip to go on without "
            "them)", sp->topic, m->partition, want,
            rc == RD_KAFKA_RESP_ERR_NO_ERROR ? "it now starts at " :
            "start unknown, ", lo);
        sp->fatal = 1;
        speed_stop = 1;
        return;
    }
    if (rc != RD_KAFKA_RESP_ERR_NO_ERROR) {
        fail(sp, "data loss: querying the start of the partition",
            rd_kafka_err2str(rc));
        return;
    }
    if (want < lo) {
        log_warnx("data loss: %s [%" PRId32 "]: offsets %" PRId64 "..%"
            PRId64 " were deleted by retention before they were consumed; "
            "skipping them (speed.on_data_loss=skip)", sp->topic,
            m->partition, want, lo - 1);
        sp->pend.lost += lo - want;
    } else {
        log_warnx("%s [%" PRId32 "]: offset %" PRId64 " is past the end %"
            PRId64 " (topic recreated?); going on from %" PRId64,
            sp->topic, m->partition, want, hi, lo);
    }
    pp->next = lo;
    pp->touched = 1;
    if (sp->opened_ms == 0)
        sp->opened_ms = speed_mono_ms();
    restart(sp, m->partition, lo);
}

static void
stream_error(struct speed *sp, const rd_kafka_message_t *m)
{
    switch (m->err) {
    case RD_KAFKA_RESP_ERR__PARTITION_EOF:
        brokers_up(sp);
        if (m->partition >= 0) {
            part_of(sp, m->partition)->eof = 1;
            part_of(sp, m->partition)->high = m->offset;
        }
        break;
    case RD_KAFKA_RESP_ERR__AUTO_OFFSET_RESET:
        data_loss(sp, m);
        break;
    case RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART:
    case RD_KAFKA_RESP_ERR__UNKNOWN_TOPIC:
    case RD_KAFKA_RESP_ERR__UNKNOWN_PARTITION:
    case RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED:
        if (!sp->topic_err_logged++)
            log_warnx("topic %s: %s", sp->topic, rd_kafka_message_errstr(m));
        if (sp->once) {
            sp->fatal = 1;
            speed_stop = 1;
        }
        break;
    default:
        log_warnx("consume %s: %s", sp->topic, rd_kafka_message_errstr(m));
        break;
    }
}

/* ---- the loop ---- */

static int
caught_up(const struct speed *sp)
{
    if (sp->nassigned == 0)
        return 0;
    for (int i = 0; i < sp->nparts; i++)
        if (sp->parts[i].assigned && !sp->parts[i].eof)
            return 0;
    return 1;
}

static int
commit_due(const struct speed *sp, int64_t now)
{
    if (sp->npending >= sp->p->speed.max_batch)
        return 1;
    return sp->opened_ms != 0 && now - sp->opened_ms >= sp->p->speed.commit_ms;
}

/*
 * While every broker is away, ask for metadata once a second: the first
 * answer means they are back. Not rd_kafka_query_watermark_offsets(): in
 * librdkafka 2.0 it ignores its timeout while the leader is unreachable.
 */
static void
probe(struct speed *sp, int64_t now)
{
    const struct rd_kafka_metadata *md = NULL;

    sp->probe_ms = now + PROBE_MS;
    if (rd_kafka_metadata(sp->rk, 0, NULL, &md, 200) ==
        RD_KAFKA_RESP_ERR_NO_ERROR)
        brokers_up(sp);
    if (md != NULL)
        rd_kafka_metadata_destroy(md);
}

int
speed_run(struct speed *sp)
{
    rd_kafka_message_t *ms[POLL_BATCH];
    int64_t now, next_check = 0;
    ssize_t n;
    int timeout, room;

    now = speed_mono_ms();
    while (!speed_stop) {
        timeout = POLL_MS;
        if (sp->opened_ms != 0) {
            int64_t left = sp->opened_ms + sp->p->speed.commit_ms - now;

            timeout = left < 0 ? 0 : left < POLL_MS ? (int)left : POLL_MS;
        }
        /* never more than fits in the micro-batch */
        room = sp->p->speed.max_batch - sp->npending;
        room = room < 1 ? 1 : room > POLL_BATCH ? POLL_BATCH : room;
        /* what is there now, else wait for one: a batch call with a timeout
         * would hold the first message until the batch is full */
        n = rd_kafka_consume_batch_queue(sp->q, 0, ms, (size_t)room);
        if (n == 0 && (ms[0] = rd_kafka_consumer_poll(sp->rk, timeout)) !=
            NULL)
            n = 1;
        for (ssize_t i = 0; i < n; i++) {
            if (ms[i]->err != RD_KAFKA_RESP_ERR_NO_ERROR) {
                stream_error(sp, ms[i]);
            } else {
                brokers_up(sp);
                record(sp, ms[i]);
            }
            rd_kafka_message_destroy(ms[i]);
        }
        now = speed_mono_ms();
        if (commit_due(sp, now))
            do_commit(sp);
        if (now >= next_check) {
            /* once a second: seal old archive segments, probe brokers */
            next_check = now + 1000;
            if (sp->archive != NULL && archive_due(sp->archive,
                speed_wall_ms()))
                do_commit(sp);
            if (sp->brokers_down && now >= sp->probe_ms)
                probe(sp, now);
        }
        if (sp->once && caught_up(sp)) {
            log_info("caught up with %s", sp->topic);
            break;
        }
    }
    return sp->fatal ? -1 : 0;
}

int
speed_consumer_close(struct speed *sp)
{
    rd_kafka_queue_t *q;
    rd_kafka_error_t *e;
    rd_kafka_event_t *ev;
    int64_t deadline;
    int closed = 0, rc = 0;

    if (sp->rk == NULL)
        return 0;
    if (sp->archive != NULL)
        archive_seal(sp->archive, -1);
    if (!sp->fatal || sp->npending > 0) {
        int fatal = sp->fatal;

        do_commit(sp);
        if (sp->fatal && !fatal)
            rc = -1;
    }
    /* leave the group within a bound, even with the brokers away */
    q = rd_kafka_queue_new(sp->rk);
    if ((e = rd_kafka_consumer_close_queue(sp->rk, q)) != NULL) {
        log_warnx("closing the consumer: %s", rd_kafka_error_string(e));
        rd_kafka_error_destroy(e);
    } else {
        deadline = speed_mono_ms() + CLOSE_WAIT_MS;
        while (!(closed = rd_kafka_consumer_closed(sp->rk)) &&
            speed_mono_ms() < deadline) {
            if ((ev = rd_kafka_queue_poll(q, 100)) == NULL)
                continue;
            if (rd_kafka_event_type(ev) == RD_KAFKA_EVENT_REBALANCE)
                rebalance_cb(sp->rk, rd_kafka_event_error(ev),
                    rd_kafka_event_topic_partition_list(ev), sp);
            rd_kafka_event_destroy(ev);
        }
        if (!closed)
            log_warnx("left the group without the brokers' answer "
                "(timed out after %d ms)", CLOSE_WAIT_MS);
    }
    rd_kafka_queue_destroy(q);
    if (sp->q != NULL)
        rd_kafka_queue_destroy(sp->q);
    sp->q = NULL;
    rd_kafka_destroy_flags(sp->rk, closed ? 0 :
        RD_KAFKA_DESTROY_F_NO_CONSUMER_CLOSE);
    sp->rk = NULL;
    return rc;
}
