/* consume_record.c -- a record into the micro-batch, rejects and archive */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>
#include <librdkafka/rdkafka.h>

#include "shared/buf.h"
#include "shared/err.h"
#include "shared/event.h"
#include "shared/jsonnum.h"
#include "shared/key.h"
#include "shared/log.h"
#include "shared/mem.h"
#include "shared/now.h"
#include "shared/ts.h"
#include "speed/archive.h"
#include "speed/consume_int.h"
#include "speed/delta.h"
#include "speed/late.h"
#include "speed/rejects.h"
#include "speed/speed.h"

/* ---- records ---- */

static void
reject(struct speed *sp, const rd_kafka_message_t *m, int64_t ts,
    enum reject r, const char *msg)
{
    sp->pend.rejects[r]++;
    if (speed_replay_below(sp, m->partition, m->offset))
        return;     /* rejected before a reset: written then */
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
    cJSON *doc;
    struct buf printed;

    if (speed_replay_below(sp, m->partition, m->offset))
        return;     /* archived before a reset */
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
        key_reject_msg(msg, &sp->p->views[v]);
        return REJECT_RANGE;
    default:
        fatalx("view %s: sum overflow in a micro-batch", sp->p->views[v].name);
    }
}

void
consume_record(struct speed *sp, const rd_kafka_message_t *m)
{
    struct speed_part *pp = consume_part(sp, m->partition);
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
        sp->opened_ms = now_mono_ms();
    sp->npending++;
    sp->pend.consumed++;
    pp->next = m->offset + 1;
    pp->touched = 1;
    pp->eof = 0;
    pp->last_ts = ts;

    msg[0] = '\0';
    r = event_parse(&sp->ev, sp->p, m->payload != NULL ? m->payload : "",
        m->len, ts, msg);
    if (speed_replay_skip(sp, m->partition, m->offset, r)) {
        sp->pend.consumed--;    /* counted before a reset */
        return;
    }
    /* replayed after a reset: not judged late again, as the watermark of
     * a replay runs ahead on the partitions it reads first */
    if (r == REJECT_NONE && sp->ev.time < sp->watermark &&
        !speed_replay_below(sp, m->partition, m->offset)) {
        r = REJECT_LATE;
        snprintf(msg, sizeof(msg), "event time %s is before the watermark "
            "%s", ts_format(sp->ev.time, t1, sizeof(t1)),
            ts_format(sp->watermark, t2, sizeof(t2)));
    } else if (r == REJECT_NONE && sp->ev.time < sp->batch_cutoff) {
        /* batch answers for its bucket: a speed row would never be read */
        r = REJECT_LATE;
        snprintf(msg, sizeof(msg), "event time %s is before the batch "
            "cutoff %s", ts_format(sp->ev.time, t1, sizeof(t1)),
            ts_format(sp->batch_cutoff, t2, sizeof(t2)));
    }
    if (r == REJECT_NONE)
        r = apply(sp, msg);
    else if (r == REJECT_LATE)
        speed_late_add(sp, m->partition, m->offset);    /* the ledger */
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
