/* consume_error.c -- errors in the message stream: partition end, data loss */
#include <inttypes.h>

#include <librdkafka/rdkafka.h>

#include "shared/log.h"
#include "shared/now.h"
#include "speed/consume_int.h"
#include "speed/speed.h"

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
        consume_fail(sp, "reassign", rd_kafka_error_string(e));
        rd_kafka_error_destroy(e);
    } else if (rc != RD_KAFKA_RESP_ERR_NO_ERROR) {
        consume_fail(sp, "reassign", rd_kafka_err2str(rc));
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
    struct speed_part *pp = consume_part(sp, m->partition);
    int64_t want = pp->next >= 0 ? pp->next : m->offset, lo = -1, hi = -1;
    rd_kafka_resp_err_t rc;

    rc = rd_kafka_query_watermark_offsets(sp->rk, sp->topic, m->partition,
        &lo, &hi, 5000);
    if (!sp->p->speed.skip_data_loss) {
        log_errorx("data loss: %s [%" PRId32 "]: offset %" PRId64 " is no "
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
        consume_fail(sp, "data loss: querying the start of the partition",
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
        sp->opened_ms = now_mono_ms();
    restart(sp, m->partition, lo);
}

void
consume_stream_error(struct speed *sp, const rd_kafka_message_t *m)
{
    switch (m->err) {
    case RD_KAFKA_RESP_ERR__PARTITION_EOF:
        consume_brokers_up(sp);
        if (m->partition >= 0) {
            consume_part(sp, m->partition)->eof = 1;
            consume_part(sp, m->partition)->high = m->offset;
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
            log_at(sp->once ? LOG_LEVEL_ERROR : LOG_LEVEL_WARN, "topic %s: %s",
                sp->topic, rd_kafka_message_errstr(m));
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
