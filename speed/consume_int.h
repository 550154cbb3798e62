/* consume_int.h -- private to speed/consume*.c: partitions, commits, records */
#ifndef SPEED_CONSUME_INT_H
#define SPEED_CONSUME_INT_H

#include <stdint.h>

#include <librdkafka/rdkafka.h>

#include "speed/speed.h"

/*
 * Private to speed/consume*.c; main.c and commit.c use speed.h only.
 *
 *     consume.c            the consumer: open, the poll loop, close
 *     consume_kafka.c      librdkafka configuration, logs, errors, brokers
 *     consume_rebalance.c  partitions assigned and revoked against the store
 *     consume_record.c     a record into the micro-batch and the archive
 *     consume_error.c      errors on the message stream, data loss
 *
 * Everything here runs in the thread that calls speed_run() (librdkafka
 * calls the rebalance, log and error callbacks from its poll calls).
 */

/* ---- errors and brokers (consume_kafka.c) ---- */

/* Log "what: err" as a warning and stop the loop (the run fails, exit 1). */
void consume_fail(struct speed *sp, const char *what, const char *err);

/* A broker answered: log once that the brokers are reachable again. */
void consume_brokers_up(struct speed *sp);

/*
 * While every broker is away (sp->brokers_down), ask for metadata; the
 * first answer means they are back. Sets the next probe time from now.
 */
void consume_probe(struct speed *sp, int64_t now);

/* ---- partitions and rebalances (consume_rebalance.c) ---- */

/*
 * The state of partition id, the table grown to hold it (new entries with
 * no offsets). The pointer is valid until the next call.
 */
struct speed_part *consume_part(struct speed *sp, int32_t id);

/*
 * librdkafka's rebalance callback (opaque is sp): an assignment starts each
 * partition at its offset in the store; a revoke commits what is pending
 * first. Also called by speed_consumer_close() for the rebalance events of
 * leaving the group.
 */
void consume_rebalance_cb(rd_kafka_t *rk, rd_kafka_resp_err_t err,
    rd_kafka_topic_partition_list_t *l, void *opaque);

/*
 * --once: take every partition of the topic with rd_kafka_assign(), without
 * joining the group. A one-shot run needs no group: the store says where
 * each partition resumes and its fence keeps the counts exact beside any
 * other consumer, while a group join costs 3 s, and on the development
 * broker the session timeout (45 s by default) after the group's last
 * member left. Offsets still go to the group for lag tools (brokers accept
 * them from a consumer outside an empty group). Returns 1 when assigned, 0
 * when no broker answered within a short wait (try again), -1 on a fatal
 * error (consume_fail(): the topic is unknown or the store unreadable).
 */
int consume_assign_all(struct speed *sp);

/*
 * speed_commit(), then: when fenced, drop the micro-batch and seek every
 * assigned partition back to its offset in the store; on failure, stop
 * (consume_fail()).
 */
void consume_commit(struct speed *sp);

/* ---- records (consume_record.c) ---- */

/*
 * One record (m->err is 0) into the open micro-batch: parsed, checked
 * against the watermark, added to every view it matches, or rejected with
 * a reason; accepted and late records go to the archive. m stays the
 * caller's.
 */
void consume_record(struct speed *sp, const rd_kafka_message_t *m);

/* ---- errors (consume_error.c) ---- */

/*
 * A message carrying an error (m->err != 0): the end of a partition, an
 * offset no longer in the topic (speed.on_data_loss), a missing topic.
 * m stays the caller's.
 */
void consume_stream_error(struct speed *sp, const rd_kafka_message_t *m);

#endif
