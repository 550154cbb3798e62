/* reset.c -- lambda-speed --reset-to: move the stored offsets, drop the rows from a time */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <librdkafka/rdkafka.h>

#include "shared/buf.h"
#include "shared/err.h"
#include "shared/log.h"
#include "shared/mem.h"
#include "shared/now.h"
#include "shared/speedmeta.h"
#include "shared/store.h"
#include "shared/store_reset.h"
#include "shared/ts.h"
#include "speed/speed.h"

/*
 * lambda-speed -c FILE --reset-to earliest|latest|TIME [--dry-run]
 *
 * The boundary B: TIME floored to pipeline_cutoff_unit() (the least
 * common multiple of the views' granularities, which all divide a day, so
 * B starts a bucket of every view); -inf for earliest; for latest no row
 * goes. Each partition moves to its low watermark (earliest), its high
 * watermark (latest), or the first record whose timestamp is at or after B
 * (offsets_for_times, or a scan where the brokers do not answer it, as
 * librdkafka's mock cluster does not), but never past its stored offset.
 * In one write transaction: the
 * offsets, the speed rows from B on deleted, the late-data ledger's
 * entries from B or the batch cutoff, whichever is later, deleted (the
 * replay counts those events in the rows), the watermark lowered to
 * B - lateness (none for earliest), and per partition the replay floor
 * (store_reset.h): records below the old offset whose events are before B
 * are still counted in the rows kept, so lambda-speed skips them when it
 * reads them again (speed_replay_skip()). That makes reset and replay give
 * a clean run's rows provided a record's timestamp is never before its
 * event time (events are sent after they happen).
 *
 * A reset that comes while an earlier one's replay has not yet passed its
 * old offset goes back at least to that one's boundary: one floor per
 * partition can only say "before B is counted" for one B.
 */

#define KAFKA_WAIT_MS 10000     /* metadata, watermarks, offsets_for_times */
#define GROUP_WAIT_MS 5000      /* rd_kafka_list_groups() */
#define SCAN_STALL_MS 30000     /* a timestamp scan without progress */

struct reset_part {
    int64_t lo, hi;             /* watermarks */
    int64_t old;                /* stored offset; -1 none */
    int64_t below, before;      /* floor in the store; below -1: none */
    int64_t next;               /* the new offset */
    int     scanned;            /* next found by a scan */
};

struct reset {
    struct speed      *sp;
    rd_kafka_t        *rk;
    struct reset_part *parts;
    int                nparts;
    int64_t            from;    /* B (INT64_MIN earliest, INT64_MAX latest) */
    int64_t            wm;      /* watermark in the store; INT64_MIN none */
    int                scanned; /* offsets found by scanning */
};

/* ---- the argument ---- */

int
speed_reset_parse(struct speed *sp, const char *arg, char *err)
{
    size_t n = strlen(arg);
    int64_t ms, d;
    char *dur;

    sp->reset_to = arg;
    if (strcmp(arg, "earliest") == 0) {
        sp->reset_at = INT64_MIN;
        return 0;
    }
    if (strcmp(arg, "latest") == 0) {
        sp->reset_at = INT64_MAX;
        return 0;
    }
    if (ts_param_parse(arg, &ms) == 0 && ms >= TS_MIN && ms <= TS_MAX) {
        sp->reset_at = ms;
        return 0;
    }
    /* "-10m" or "10m ago": back from now */
    dur = NULL;
    if (arg[0] == '-')
        dur = xstrdup(arg + 1);
    else if (n > 4 && strcmp(arg + n - 4, " ago") == 0) {
        dur = xstrdup(arg);
        dur[n - 4] = '\0';
    }
    if (dur != NULL && ts_duration_parse(dur, &d) == 0 &&
        now_wall_ms() - d >= TS_MIN) {
        free(dur);
        sp->reset_at = now_wall_ms() - d;
        return 0;
    }
    free(dur);
    snprintf(err, ERR_LEN, "--reset-to %s: expected earliest, latest, an "
        "RFC 3339 time, epoch seconds, or a duration back from now (-10m, "
        "\"10m ago\")", arg);
    return -1;
}

/* ---- Kafka: partitions, watermarks, offsets for a time ---- */

static int
kafka_open(struct reset *r, char *err)
{
    rd_kafka_conf_t *conf;
    char errstr[512];

    if ((conf = speed_kafka_conf(r->sp, 1, err)) == NULL)
        return -1;
    if ((r->rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, errstr,
        sizeof(errstr))) == NULL) {
        snprintf(err, ERR_LEN, "kafka consumer: %.200s", errstr);
        rd_kafka_conf_destroy(conf);
        return -1;
    }
    (void)rd_kafka_poll_set_consumer(r->rk);
    return 0;
}

static int
kafka_partitions(struct reset *r, char *err)
{
    const struct rd_kafka_metadata *md = NULL;
    const char *topic = r->sp->topic;
    rd_kafka_topic_t *rkt;
    rd_kafka_resp_err_t rc;
    int ret = -1;

    rkt = rd_kafka_topic_new(r->rk, topic, NULL);
    rc = rd_kafka_metadata(r->rk, 0, rkt, &md, KAFKA_WAIT_MS);
    if (rc != RD_KAFKA_RESP_ERR_NO_ERROR) {
        snprintf(err, ERR_LEN, "topic %s: metadata from %s: %s%s%.120s", topic,
            r->sp->p->speed.brokers, rd_kafka_err2str(rc),
            r->sp->kafka_why[0] != '\0' ? ": " : "", r->sp->kafka_why);
        goto done;
    }
    if (md->topic_cnt != 1 || md->topics[0].err != 0 ||
        md->topics[0].partition_cnt < 1) {
        snprintf(err, ERR_LEN, "topic %s: %s", topic, md->topic_cnt == 1 &&
            md->topics[0].err != 0 ? rd_kafka_err2str(md->topics[0].err) :
            "no partitions");
        goto done;
    }
    r->nparts = md->topics[0].partition_cnt;
    r->parts = xcalloc((size_t)r->nparts, sizeof(*r->parts));
    for (int i = 0; i < r->nparts; i++) {
        struct reset_part *rp = &r->parts[i];

        if ((rc = rd_kafka_query_watermark_offsets(r->rk, topic, i, &rp->lo,
            &rp->hi, KAFKA_WAIT_MS)) != RD_KAFKA_RESP_ERR_NO_ERROR) {
            snprintf(err, ERR_LEN, "topic %s [%d]: watermarks: %s", topic, i,
                rd_kafka_err2str(rc));
            goto done;
        }
    }
    ret = 0;
done:
    if (md != NULL)
        rd_kafka_metadata_destroy(md);
    rd_kafka_topic_destroy(rkt);
    return ret;
}

/*
 * The first offset at or after the timestamp `at` of every partition in
 * the list, in place (-1: none, the end). Returns 0 or -1 with err.
 */
static int
kafka_times(struct reset *r, rd_kafka_topic_partition_list_t *l, char *err)
{
    rd_kafka_resp_err_t rc;

    rc = rd_kafka_offsets_for_times(r->rk, l, KAFKA_WAIT_MS);
    for (int i = 0; rc == 0 && i < l->cnt; i++)
        rc = l->elems[i].err;
    if (rc != RD_KAFKA_RESP_ERR_NO_ERROR) {
        snprintf(err, ERR_LEN, "topic %s: offsets for a time: %s",
            r->sp->topic, rd_kafka_err2str(rc));
        return -1;
    }
    return 0;
}

/*
 * Do the brokers answer offsets for a time? Every record's timestamp is at
 * or after 0, so a partition that holds records must answer 0 with an
 * offset; librdkafka's mock cluster answers "the end" to every time.
 */
static int
kafka_times_work(struct reset *r, int part, char *err)
{
    rd_kafka_topic_partition_list_t *l;
    int rc;

    l = rd_kafka_topic_partition_list_new(1);
    rd_kafka_topic_partition_list_add(l, r->sp->topic, part)->offset = 0;
    rc = kafka_times(r, l, err);
    if (rc == 0)
        rc = l->elems[0].offset >= 0;
    rd_kafka_topic_partition_list_destroy(l);
    return rc;
}

/*
 * Read the partitions whose next is unknown (-1) from their low watermark
 * until the first record with a timestamp at or after r->from: the answer
 * offsets_for_times would give. Returns 0 or -1 with err.
 */
static int
scan_times(struct reset *r, char *err)
{
    rd_kafka_topic_partition_list_t *l;
    rd_kafka_message_t *m;
    rd_kafka_resp_err_t rc;
    int64_t last = now_mono_ms(), ts;
    int left = 0, ret = -1;

    l = rd_kafka_topic_partition_list_new(r->nparts);
    for (int i = 0; i < r->nparts; i++) {
        if (r->parts[i].next >= 0)
            continue;
        rd_kafka_topic_partition_list_add(l, r->sp->topic, i)->offset =
            r->parts[i].lo;
        left++;
    }
    if ((rc = rd_kafka_assign(r->rk, l)) != RD_KAFKA_RESP_ERR_NO_ERROR) {
        snprintf(err, ERR_LEN, "topic %s: assign: %s", r->sp->topic,
            rd_kafka_err2str(rc));
        goto done;
    }
    while (left > 0) {
        if (now_mono_ms() - last > SCAN_STALL_MS) {
            snprintf(err, ERR_LEN, "topic %s: reading record timestamps: no "
                "progress in %d s%s%.120s", r->sp->topic, SCAN_STALL_MS / 1000,
                r->sp->kafka_why[0] != '\0' ? ": " : "", r->sp->kafka_why);
            goto done;
        }
        if ((m = rd_kafka_consumer_poll(r->rk, 100)) == NULL)
            continue;
        if (m->partition >= 0 && m->partition < r->nparts &&
            r->parts[m->partition].next < 0 &&
            (m->err == RD_KAFKA_RESP_ERR_NO_ERROR ||
            m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF)) {
            struct reset_part *rp = &r->parts[m->partition];

            last = now_mono_ms();
            ts = rd_kafka_message_timestamp(m, NULL);
            if (m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF ||
                ts >= r->from) {
                rp->next = m->offset;
                rp->scanned = 1;
                r->scanned++;
                left--;
            }
        } else if (m->err != RD_KAFKA_RESP_ERR_NO_ERROR &&
            m->err != RD_KAFKA_RESP_ERR__PARTITION_EOF) {
            log_warnx("topic %s [%d]: %s", r->sp->topic, (int)m->partition,
                rd_kafka_message_errstr(m));
        }
        rd_kafka_message_destroy(m);
    }
    ret = 0;
done:
    (void)rd_kafka_assign(r->rk, NULL);
    rd_kafka_topic_partition_list_destroy(l);
    return ret;
}

/*
 * A partition whose stored offset is before that record stays there: its
 * records not read yet are read (the rows before B still need them).
 */
static void
not_forward(struct reset *r)
{
    for (int i = 0; i < r->nparts; i++)
        if (r->parts[i].old >= 0 && r->parts[i].next > r->parts[i].old)
            r->parts[i].next = r->parts[i].old;
}

/* Each partition's new offset. Returns 0 or -1 with err. */
static int
resolve(struct reset *r, char *err)
{
    rd_kafka_topic_partition_list_t *l;
    int probe = -1, rc;

    for (int i = 0; i < r->nparts; i++)
        r->parts[i].next = r->from == INT64_MIN ? r->parts[i].lo :
            r->from == INT64_MAX ? r->parts[i].hi : -1;
    if (r->from == INT64_MIN || r->from == INT64_MAX)
        return 0;
    l = rd_kafka_topic_partition_list_new(r->nparts);
    for (int i = 0; i < r->nparts; i++)
        rd_kafka_topic_partition_list_add(l, r->sp->topic, i)->offset =
            r->from;
    if (kafka_times(r, l, err) != 0) {
        rd_kafka_topic_partition_list_destroy(l);
        return -1;
    }
    for (int i = 0; i < l->cnt; i++) {
        struct reset_part *rp = &r->parts[l->elems[i].partition];

        if (l->elems[i].offset >= 0)
            rp->next = l->elems[i].offset;
        else if (rp->hi > rp->lo && probe < 0)
            probe = l->elems[i].partition;
        else if (rp->hi <= rp->lo)
            rp->next = rp->hi;
    }
    rd_kafka_topic_partition_list_destroy(l);
    if (probe >= 0) {
        if ((rc = kafka_times_work(r, probe, err)) < 0)
            return -1;
        if (rc == 0) {
            log_info("the brokers do not answer offsets for a time (as "
                "librdkafka's mock cluster); reading record timestamps");
            if (scan_times(r, err) != 0)
                return -1;
        }
    }
    /* "none at or after": the end */
    for (int i = 0; i < r->nparts; i++)
        if (r->parts[i].next < 0)
            r->parts[i].next = r->parts[i].hi;
    not_forward(r);
    return 0;
}

/*
 * Refuse while the group has members: a lambda-speed on another machine
 * (this store's are kept out by its run lock). Brokers that cannot
 * describe groups (the development broker) cannot say: then the lock is
 * all there is. rd_kafka_list_groups(), not DescribeConsumerGroups: on such
 * brokers librdkafka 2.0.2's admin request deadlocks or asserts. Returns 0,
 * or -1 with err naming the members.
 */
static int
group_idle(struct reset *r, char *err)
{
    const char *group = r->sp->p->speed.group;
    const struct rd_kafka_group_list *gl = NULL;
    const struct rd_kafka_group_info *g;
    rd_kafka_resp_err_t rc;
    struct buf who;
    int ret = 0;

    rc = rd_kafka_list_groups(r->rk, group, &gl, GROUP_WAIT_MS);
    if (rc != RD_KAFKA_RESP_ERR_NO_ERROR || gl->group_cnt != 1 ||
        gl->groups[0].err != RD_KAFKA_RESP_ERR_NO_ERROR) {
        log_info("cannot ask the brokers whether group %s has members (%s); "
            "relying on the store's lock", group, rd_kafka_err2str(rc != 0 ?
            rc : gl->group_cnt != 1 ? RD_KAFKA_RESP_ERR__UNKNOWN_GROUP :
            gl->groups[0].err));
        goto done;
    }
    g = &gl->groups[0];
    buf_init(&who);
    for (int i = 0; i < g->member_cnt; i++)
        buf_printf(&who, "%s%s (client %s on %s)", i > 0 ? ", " : "",
            g->members[i].member_id, g->members[i].client_id,
            g->members[i].client_host);
    if (g->member_cnt > 0) {
        snprintf(err, ERR_LEN, "group %s has %d active member(s): %s; stop "
            "them first", group, g->member_cnt, who.data);
        ret = -1;
    }
    buf_reset(&who);
done:
    if (gl != NULL)
        rd_kafka_group_list_destroy(gl);
    return ret;
}

/* ---- the store ---- */

/* Stored offsets, floors and the watermark (read txn). */
static int
store_read(struct reset *r, char *err)
{
    struct store_txn *t = NULL;
    int rc;

    if (store_txn_begin(r->sp->st, 0, &t, err) != 0)
        return -1;
    for (int i = 0; i < r->nparts; i++) {
        struct reset_part *rp = &r->parts[i];

        if ((rc = store_offset_get(t, r->sp->topic, i, &rp->old, err)) < 0)
            goto fail;
        if (rc == STORE_NOTFOUND)
            rp->old = -1;
        if ((rc = store_replay_get(t, r->sp->topic, i, &rp->below,
            &rp->before, err)) < 0)
            goto fail;
        if (rc == STORE_NOTFOUND || rp->old < 0 || rp->old >= rp->below)
            rp->below = -1;     /* none, or passed: it means nothing */
    }
    if ((rc = store_meta_get_i64(t, SPEEDMETA_WATERMARK, &r->wm, err)) < 0)
        goto fail;
    if (rc == STORE_NOTFOUND)
        r->wm = INT64_MIN;
    store_txn_abort(t);
    return 0;
fail:
    store_txn_abort(t);
    return -1;
}

/* Print what a reset to r->from deletes: per view the speed rows at or
 * after it, those of views no longer in the pipeline, the ledger's entries. */
static int
print_rows(struct reset *r, FILE *out, char *err)
{
    struct pipeline *p = r->sp->p;
    struct store_txn *t = NULL;
    struct store_iter *it;
    struct store_row row;
    char a[TS_BUFSZ], b[TS_BUFSZ];
    int64_t n, first, last, listed = 0;
    int rc;

    if (store_txn_begin(r->sp->st, 0, &t, err) != 0)
        return -1;
    for (int v = 0; v < p->nviews; v++) {
        n = 0;
        first = INT64_MAX;
        last = INT64_MIN;
        if (r->from != INT64_MAX) {
            if (store_iter_speed(t, &p->views[v], NULL, 0, r->from,
                INT64_MAX, &it, err) != 0)
                goto fail;
            while ((rc = store_iter_next(it, &row, err)) == 0) {
                n++;
                first = row.bucket < first ? row.bucket : first;
                last = row.bucket > last ? row.bucket : last;
            }
            store_iter_free(it);
            if (rc < 0)
                goto fail;
        }
        listed += n;
        if (n == 0)
            fprintf(out, "view %s: no rows\n", p->views[v].name);
        else
            fprintf(out, "view %s: %" PRId64 " rows, buckets %s to %s\n",
                p->views[v].name, n, ts_format(first, a, sizeof(a)),
                ts_format(last, b, sizeof(b)));
    }
    /* rows of a view taken out of the pipeline stay until a publish drops
     * them, and the reset deletes them with the others */
    if (store_reset_rows(t, r->from, 1, &n, err) != 0)
        goto fail;
    if (n > listed)
        fprintf(out, "views no longer in the pipeline: %" PRId64 " rows\n",
            n - listed);
    if (store_reset_late(t, r->from, 1, &n, err) != 0)
        goto fail;
    if (n > 0)
        fprintf(out, "late-data ledger: %" PRId64 " entries (one per view and "
            "bucket) would go: the replay counts their events\n", n);
    store_txn_abort(t);
    return 0;
fail:
    store_txn_abort(t);
    return -1;
}

/* The status record says where the partitions and the watermark are now,
 * so /metrics and /readyz do not show the old ones until the next commit. */
static int
status_put(struct reset *r, struct store_txn *t, int64_t wm, char *err)
{
    struct speedmeta_status st;
    struct speedmeta_part *sm;
    const void *val;
    size_t len;
    int rc;

    if ((rc = store_meta_get(t, SPEEDMETA_STATUS, &val, &len, err)) < 0)
        return -1;
    if (rc == STORE_NOTFOUND)
        return 0;
    speedmeta_status_init(&st);
    (void)speedmeta_status_parse(&st, val, len);
    st.watermark = wm;
    for (int i = 0; i < r->nparts; i++) {
        sm = speedmeta_status_part(&st, i);
        sm->next = r->parts[i].next;
        sm->high = r->parts[i].hi;
        sm->lag = r->parts[i].hi > sm->next ? r->parts[i].hi - sm->next : 0;
        sm->lag_seconds = 0;
    }
    return speed_status_store(t, &st, err);
}

/* The one write transaction. Returns 0 or -1 with err. */
static int
store_write(struct reset *r, int64_t *rows, int64_t *late, char *err)
{
    struct store_reset_part *ps;
    struct store_reset sr;
    struct store_txn *t = NULL;
    int64_t have, wm;
    int rc, ret = -1;

    ps = xcalloc((size_t)r->nparts, sizeof(*ps));
    for (int i = 0; i < r->nparts; i++) {
        struct reset_part *rp = &r->parts[i];
        /* consumed before: the old offset, or an earlier floor's */
        int64_t below = rp->below > rp->old ? rp->below : rp->old;

        ps[i].part = i;
        ps[i].next = rp->next;
        ps[i].below = rp->next < below ? below : -1;
        ps[i].before = r->from;
    }
    wm = r->wm;
    if (r->from == INT64_MIN)
        wm = INT64_MIN;
    else if (r->from != INT64_MAX && wm != INT64_MIN &&
        wm > r->from - r->sp->p->speed.lateness)
        wm = r->from - r->sp->p->speed.lateness;
    sr = (struct store_reset){.topic = r->sp->topic, .from = r->from,
        .watermark = wm, .parts = ps, .nparts = r->nparts};
    if (store_txn_begin(r->sp->st, 1, &t, err) != 0)
        goto done;
    /* the run lock keeps lambda-speed out; this is the belt to it */
    for (int i = 0; i < r->nparts; i++) {
        if ((rc = store_offset_get(t, r->sp->topic, i, &have, err)) < 0)
            goto done;
        if ((rc == STORE_NOTFOUND ? -1 : have) != r->parts[i].old) {
            snprintf(err, ERR_LEN, "%s [%d]: the stored offset moved from "
                "%" PRId64 " to %" PRId64 " during the reset (a lambda-speed "
                "of another store directory?); nothing changed", r->sp->topic,
                i, r->parts[i].old, rc == STORE_NOTFOUND ? -1 : have);
            goto done;
        }
    }
    log_debug("%s: writing", __func__);
    if (store_reset_apply(t, &sr, rows, late, err) != 0 ||
        status_put(r, t, wm, err) != 0)
        goto done;
    rc = store_txn_commit(t, err);
    t = NULL;
    ret = rc;
done:
    store_txn_abort(t);
    free(ps);
    return ret;
}

/* ---- the run ---- */

static void
print_plan(struct reset *r, FILE *out)
{
    char a[TS_BUFSZ], u[32];

    if (r->from == INT64_MIN)
        fprintf(out, "reset to earliest: every speed row goes\n");
    else if (r->from == INT64_MAX)
        fprintf(out, "reset to latest: no speed row goes\n");
    else
        fprintf(out, "reset to %s: boundary %s (the views' buckets of %s)\n",
            r->sp->reset_to, ts_format(r->from, a, sizeof(a)),
            ts_duration_format(pipeline_cutoff_unit(r->sp->p), u,
            sizeof(u)));
    for (int i = 0; i < r->nparts; i++) {
        if (r->parts[i].old < 0)
            fprintf(out, "partition %d: offset none -> %" PRId64 "\n", i,
                r->parts[i].next);
        else
            fprintf(out, "partition %d: offset %" PRId64 " -> %" PRId64 "\n",
                i, r->parts[i].old, r->parts[i].next);
    }
}

int
speed_reset(struct speed *sp, int dry_run)
{
    struct reset r;
    int64_t rows = 0, late = 0, floor_from = INT64_MAX, unit;
    char err[ERR_LEN], a[TS_BUFSZ];
    int lock = -1, rc = 1;

    memset(&r, 0, sizeof(r));
    r.sp = sp;
    unit = pipeline_cutoff_unit(sp->p);
    r.from = sp->reset_at == INT64_MIN || sp->reset_at == INT64_MAX ?
        sp->reset_at : ts_bucket(sp->reset_at, unit);
    /* a dry run creates nothing, and may look while speed runs */
    if (store_open(&sp->st, sp->p->store, dry_run ? STORE_RDONLY : 0,
        err) != 0)
        goto fail;
    lock = store_speed_lock(store_dir(sp->st), 1, 0, err);
    if (lock < 0 && !dry_run)
        goto fail;
    if (lock == -2)
        printf("note: %s: the reset itself is refused until it stops\n",
            err);
    else if (lock < 0)
        printf("note: %s: the reset itself would fail\n", err);
    if (kafka_open(&r, err) != 0 || kafka_partitions(&r, err) != 0)
        goto fail;
    if (store_read(&r, err) != 0)
        goto fail;
    /* an earlier reset's replay not yet done: go back to its boundary */
    for (int i = 0; i < r.nparts; i++)
        if (r.parts[i].below >= 0 && r.parts[i].before < floor_from)
            floor_from = r.parts[i].before;
    if (floor_from < r.from) {
        log_info("partitions are still replaying an earlier reset to %s: "
            "going back to it", ts_format(floor_from, a, sizeof(a)));
        r.from = floor_from;
    }
    if (resolve(&r, err) != 0)
        goto fail;
    if (group_idle(&r, err) != 0) {
        if (!dry_run)
            goto fail;
        printf("note: %s\n", err);
    }
    print_plan(&r, stdout);
    if (print_rows(&r, stdout, err) != 0)
        goto fail;
    if (dry_run) {
        printf("dry run: nothing changed\n");
        rc = 0;
        goto done;
    }
    fflush(stdout);
    if (store_write(&r, &rows, &late, err) != 0)
        goto fail;
    if (late > 0)
        printf("late-data ledger: %" PRId64 " entries deleted (one per view "
            "and bucket): the replay counts their events in the speed "
            "rows\n", late);
    printf("reset done: %" PRId64 " speed rows deleted; the next "
        "lambda-speed replays from the new offsets\n", rows);
    log_info("reset %s to %s: %" PRId64 " speed rows and %" PRId64 " ledger "
        "entries deleted%s", sp->topic, sp->reset_to, rows, late,
        r.scanned > 0 ? " (offsets found by reading record timestamps)" :
        "");
    rc = 0;
    goto done;
fail:
    log_errorx("%s", err);
done:
    if (r.rk != NULL)
        rd_kafka_destroy_flags(r.rk, RD_KAFKA_DESTROY_F_NO_CONSUMER_CLOSE);
    free(r.parts);
    if (lock >= 0)
        (void)close(lock);
    return rc;
}

/* ---- lambda-speed's side: the lock, the floors ---- */

static int
floor_load(void *arg, const char *name, const void *val, size_t len)
{
    struct speed *sp = arg;
    const char *tail = name + strlen(STORE_REPLAY_PREFIX) +
        strlen(sp->topic) + 1;
    char *end;
    long part = strtol(tail, &end, 10);
    const unsigned char *b = val;
    int64_t v[2] = {0, 0};

    if (*end != '\0' || part < 0 || part > 1 << 20 || len != 16)
        return 0;
    for (int i = 7; i >= 0; i--) {      /* little-endian (store_reset.h) */
        v[0] = (int64_t)((uint64_t)v[0] << 8 | b[i]);
        v[1] = (int64_t)((uint64_t)v[1] << 8 | b[8 + i]);
    }
    if (part >= sp->nreplay) {
        sp->replay = xrealloc(sp->replay, sizeof(*sp->replay) *
            (size_t)(part + 1));
        for (int i = sp->nreplay; i <= part; i++)
            sp->replay[i].below = -1;
        sp->nreplay = (int)part + 1;
    }
    sp->replay[part].below = v[0];
    sp->replay[part].before = v[1];
    return 0;
}

int
speed_reset_setup(struct speed *sp, char *err)
{
    struct store_txn *t = NULL;
    char prefix[512];
    int fd;

    fd = store_speed_lock(store_dir(sp->st), 0, 0, err);
    if (fd == -2) {
        log_info("%s; waiting for it", err);
        fd = store_speed_lock(store_dir(sp->st), 0, 1, err);
    }
    if (fd < 0)
        return -1;
    sp->runlock = fd;
    snprintf(prefix, sizeof(prefix), STORE_REPLAY_PREFIX "%s/", sp->topic);
    if (store_txn_begin(sp->st, 0, &t, err) != 0)
        return -1;
    if (store_meta_scan(t, prefix, floor_load, sp, err) != 0) {
        store_txn_abort(t);
        return -1;
    }
    store_txn_abort(t);
    return 0;
}

int
speed_replay_below(const struct speed *sp, int32_t part, int64_t offset)
{
    return part >= 0 && part < sp->nreplay &&
        offset < sp->replay[part].below;
}

int
speed_replay_skip(const struct speed *sp, int32_t part, int64_t offset,
    enum reject r)
{
    if (!speed_replay_below(sp, part, offset))
        return 0;
    /* refused the first time, and written to the rejects then */
    if (r != REJECT_NONE)
        return 1;
    return sp->ev.time < sp->replay[part].before ||
        sp->ev.time < sp->batch_cutoff;
}
