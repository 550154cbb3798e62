/* consume.c -- the consumer (a group member; --once on its own): open, the poll loop, close */
#include <stdio.h>

#include "shared/buf.h"
#include "shared/err.h"
#include "shared/log.h"
#include "shared/now.h"
#include "speed/archive.h"
#include "speed/consume_int.h"
#include "speed/speed.h"

#define CLOSE_WAIT_MS 5000      /* longest wait to leave the group */
#define POLL_MS 100
#define POLL_BATCH 1024         /* messages taken from librdkafka per call */

int
speed_consumer_open(struct speed *sp, char *err)
{
    rd_kafka_conf_t *conf;
    rd_kafka_topic_partition_list_t *l;
    rd_kafka_resp_err_t rc;
    char errstr[512];

    if ((conf = speed_kafka_conf(sp, 1, err)) == NULL)
        return -1;
    rd_kafka_conf_set_rebalance_cb(conf, consume_rebalance_cb);
    if ((sp->rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, errstr,
        sizeof(errstr))) == NULL) {
        snprintf(err, ERR_LEN, "kafka consumer: %.200s", errstr);
        rd_kafka_conf_destroy(conf);
        return -1;
    }
    (void)rd_kafka_poll_set_consumer(sp->rk);
    sp->q = rd_kafka_queue_get_consumer(sp->rk);
    if (sp->once)
        return 0;   /* no group: consume_assign_all() in speed_run() */
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

/*
 * --once: take the partitions, and give up (exit 1, saying why) after
 * sp->once_wait_ms without progress: no broker answering, or partitions
 * that do not reach their end. Returns 0 to go on, -1 to stop.
 */
static int
once_step(struct speed *sp, int64_t now)
{
    struct buf parts;
    double secs = (double)sp->once_wait_ms / 1000;

    if (!sp->once_assigned) {
        int rc = consume_assign_all(sp);

        if (rc < 0)
            return -1;
        if (rc > 0) {
            sp->once_assigned = 1;
            sp->progress_ms = now_mono_ms();
            return 0;
        }
    }
    if (now - sp->progress_ms < sp->once_wait_ms)
        return 0;
    if (!sp->once_assigned && sp->kafka_why[0] != '\0') {
        log_errorx("--once: no broker answered in %.0f s (cannot reach %s); "
            "giving up", secs, sp->kafka_why);
    } else if (!sp->once_assigned) {
        log_errorx("--once: the partitions of %s were not known after %.0f "
            "s; giving up", sp->topic, secs);
    } else {
        buf_init(&parts);
        for (int i = 0; i < sp->nparts; i++)
            if (sp->parts[i].assigned && !sp->parts[i].eof)
                buf_printf(&parts, " [%d]", i);
        log_errorx("--once: no progress in %.0f s: %s%s not at its end%s%s%s; "
            "giving up", secs, sp->topic, parts.data != NULL ? parts.data : "",
            sp->brokers_down ? " (cannot reach " : "",
            sp->brokers_down ? sp->kafka_why : "",
            sp->brokers_down ? ")" : "");
        buf_reset(&parts);
    }
    sp->fatal = 1;
    return -1;
}

static int
commit_due(const struct speed *sp, int64_t now)
{
    if (sp->npending >= sp->p->speed.max_batch)
        return 1;
    return sp->opened_ms != 0 && now - sp->opened_ms >= sp->p->speed.commit_ms;
}

int
speed_run(struct speed *sp)
{
    rd_kafka_message_t *ms[POLL_BATCH];
    int64_t now, next_check = 0;
    ssize_t n;
    int timeout, room;

    now = now_mono_ms();
    sp->progress_ms = now;
    while (!speed_stop) {
        if (sp->once && once_step(sp, now) != 0)
            break;
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
        if (n > 0)
            now = now_mono_ms();
        for (ssize_t i = 0; i < n; i++) {
            if (ms[i]->err == RD_KAFKA_RESP_ERR_NO_ERROR ||
                ms[i]->err == RD_KAFKA_RESP_ERR__PARTITION_EOF)
                sp->progress_ms = now;
            if (ms[i]->err != RD_KAFKA_RESP_ERR_NO_ERROR) {
                consume_stream_error(sp, ms[i]);
            } else {
                consume_brokers_up(sp);
                consume_record(sp, ms[i]);
            }
            rd_kafka_message_destroy(ms[i]);
        }
        now = now_mono_ms();
        if (commit_due(sp, now))
            consume_commit(sp);
        if (now >= next_check) {
            /* once a second: seal old archive segments, probe brokers */
            next_check = now + 1000;
            if (sp->archive != NULL && archive_due(sp->archive,
                now_wall_ms()))
                consume_commit(sp);
            if (sp->brokers_down && now >= sp->probe_ms)
                consume_probe(sp, now);
        }
        /* caught up after an assignment with nothing to commit (an idle
         * topic): the status still says where speed stands */
        if (sp->status_due && sp->npending == 0 && caught_up(sp))
            consume_commit(sp);
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

        consume_commit(sp);
        if (sp->fatal && !fatal)
            rc = -1;
    }
    /* the last offsets reach the group too (closing waits for the commit),
     * unless no broker answers: that wait would only delay the exit */
    if (!sp->brokers_down)
        speed_group_commit(sp, 1);
    /* leave the group within a bound, even with the brokers away */
    q = rd_kafka_queue_new(sp->rk);
    if ((e = rd_kafka_consumer_close_queue(sp->rk, q)) != NULL) {
        log_warnx("closing the consumer: %s", rd_kafka_error_string(e));
        rd_kafka_error_destroy(e);
    } else {
        deadline = now_mono_ms() + CLOSE_WAIT_MS;
        while (!(closed = rd_kafka_consumer_closed(sp->rk)) &&
            now_mono_ms() < deadline) {
            if ((ev = rd_kafka_queue_poll(q, 100)) == NULL)
                continue;
            if (rd_kafka_event_type(ev) == RD_KAFKA_EVENT_REBALANCE)
                consume_rebalance_cb(sp->rk, rd_kafka_event_error(ev),
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
