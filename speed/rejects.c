/* rejects.c -- rejected records to a JSON Lines file or a Kafka topic, durable before each commit */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "shared/buf.h"
#include "shared/err.h"
#include "shared/fs.h"
#include "shared/mem.h"
#include "shared/now.h"
#include "shared/ts.h"
#include "speed/rejects.h"

struct rejects {
    int               fd;           /* file sink, or -1 */
    rd_kafka_t       *rk;           /* topic sink, or NULL */
    rd_kafka_topic_t *rkt;
    struct buf        pending;      /* file: lines of the open batch */
    struct buf        rec;          /* scratch record */
    char             *where;        /* "file PATH" or "topic T" */
    int               failed;       /* delivery failures since last flush */
    char              failure[200];
};

static void
dr_cb(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque)
{
    struct rejects *r = opaque;

    (void)rk;
    if (m->err != RD_KAFKA_RESP_ERR_NO_ERROR && r->failed++ == 0)
        snprintf(r->failure, sizeof(r->failure), "%s",
            rd_kafka_err2str(m->err));
}

static char *
where_of(const char *kind, const char *name)
{
    struct buf b;

    buf_init(&b);
    buf_printf(&b, "%s %s", kind, name);
    return buf_steal(&b);
}

int
rejects_open(struct rejects **out, const char *file, const char *topic,
    rd_kafka_conf_t *conf, char *err)
{
    struct rejects *r = xcalloc(1, sizeof(*r));
    char errstr[512], e[ERR_LEN];

    r->fd = -1;
    buf_init(&r->pending);
    buf_init(&r->rec);
    if (topic != NULL) {
        rd_kafka_conf_set_opaque(conf, r);
        rd_kafka_conf_set_dr_msg_cb(conf, dr_cb);
        /* at least once: never give up on a reject while the broker is
         * away; the commit waits for it */
        if (rd_kafka_conf_set(conf, "enable.idempotence", "true", errstr,
            sizeof(errstr)) != RD_KAFKA_CONF_OK ||
            rd_kafka_conf_set(conf, "message.timeout.ms", "0", errstr,
            sizeof(errstr)) != RD_KAFKA_CONF_OK ||
            rd_kafka_conf_set(conf, "linger.ms", "5", errstr,
            sizeof(errstr)) != RD_KAFKA_CONF_OK ||
            (r->rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr,
            sizeof(errstr))) == NULL) {
            rd_kafka_conf_destroy(conf);
            snprintf(err, ERR_LEN, "rejects topic %s: %.160s", topic,
                errstr);
            rejects_free(r);
            return -1;
        }
        if ((r->rkt = rd_kafka_topic_new(r->rk, topic, NULL)) == NULL) {
            snprintf(err, ERR_LEN, "rejects topic %s: %s", topic,
                rd_kafka_err2str(rd_kafka_last_error()));
            rejects_free(r);
            return -1;
        }
        r->where = where_of("topic", topic);
    } else {
        if (conf != NULL)
            rd_kafka_conf_destroy(conf);
        if (fs_mkdir_parent(file, 0755, e) != 0) {
            snprintf(err, ERR_LEN, "rejects %s: %.200s", file, e);
            rejects_free(r);
            return -1;
        }
        if ((r->fd = open(file, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC,
            0644)) == -1) {
            snprintf(err, ERR_LEN, "rejects %s: %s", file, strerror(errno));
            rejects_free(r);
            return -1;
        }
        r->where = where_of("file", file);
    }
    *out = r;
    return 0;
}

void
rejects_free(struct rejects *r)
{
    if (r == NULL)
        return;
    if (r->rkt != NULL)
        rd_kafka_topic_destroy(r->rkt);
    if (r->rk != NULL) {
        (void)rd_kafka_flush(r->rk, 2000);
        rd_kafka_destroy(r->rk);
    }
    if (r->fd != -1)
        close(r->fd);
    buf_reset(&r->pending);
    buf_reset(&r->rec);
    free(r->where);
    free(r);
}

void
rejects_add(struct rejects *r, const char *topic, int32_t partition,
    int64_t offset, int64_t ts, enum reject reason, const char *msg,
    const char *raw, size_t rawlen)
{
    char tbuf[TS_BUFSZ];
    struct buf *b = r->rk != NULL ? &r->rec : &r->pending;

    if (r->rk != NULL)
        buf_clear(b);
    buf_puts(b, "{\"topic\":");
    buf_put_json_string(b, topic, strlen(topic));
    buf_printf(b, ",\"partition\":%" PRId32 ",\"offset\":%" PRId64,
        partition, offset);
    if (ts >= TS_MIN && ts <= TS_MAX)
        buf_printf(b, ",\"timestamp\":\"%s\"",
            ts_format(ts, tbuf, sizeof(tbuf)));
    buf_putc(b, ',');
    event_reject_fields(b, reason, msg, raw, rawlen);
    buf_putc(b, '}');
    if (r->rk == NULL) {
        buf_putc(b, '\n');
        return;
    }
    while (rd_kafka_produce(r->rkt, RD_KAFKA_PARTITION_UA,
        RD_KAFKA_MSG_F_COPY, b->data, b->len, NULL, 0, NULL) != 0) {
        if (rd_kafka_last_error() != RD_KAFKA_RESP_ERR__QUEUE_FULL) {
            if (r->failed++ == 0)
                snprintf(r->failure, sizeof(r->failure), "%s",
                    rd_kafka_err2str(rd_kafka_last_error()));
            return;
        }
        (void)rd_kafka_poll(r->rk, 10);
    }
    (void)rd_kafka_poll(r->rk, 0);
}

int
rejects_flush(struct rejects *r, const volatile sig_atomic_t *stop, char *err)
{
    int64_t give_up = -1;

    if (r->rk != NULL) {
        while (rd_kafka_outq_len(r->rk) > 0 && r->failed == 0) {
            (void)rd_kafka_flush(r->rk, 100);
            if (*stop && give_up < 0)
                give_up = now_mono_ms() + 5000;
            if (give_up >= 0 && now_mono_ms() > give_up) {
                snprintf(err, ERR_LEN, "%s: %d reject(s) not delivered "
                    "before shutdown", r->where, rd_kafka_outq_len(r->rk));
                return -1;
            }
        }
        if (r->failed > 0) {
            snprintf(err, ERR_LEN, "%s: %d reject(s) not delivered: %s",
                r->where, r->failed, r->failure);
            return -1;
        }
        return 0;
    }
    if (r->pending.len == 0)
        return 0;
    for (size_t off = 0; off < r->pending.len; ) {
        ssize_t w = write(r->fd, r->pending.data + off, r->pending.len - off);

        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0) {
            snprintf(err, ERR_LEN, "%s: write: %s", r->where,
                strerror(errno));
            return -1;
        }
        off += (size_t)w;
    }
    buf_clear(&r->pending);
    if (fdatasync(r->fd) != 0) {
        snprintf(err, ERR_LEN, "%s: fsync: %s", r->where, strerror(errno));
        return -1;
    }
    return 0;
}

const char *
rejects_where(const struct rejects *r)
{
    return r->where;
}
