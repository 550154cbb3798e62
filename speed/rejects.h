/* rejects.h -- where lambda-speed writes rejected records: a JSON Lines file or a Kafka topic */
#ifndef SPEED_REJECTS_H
#define SPEED_REJECTS_H

#include <signal.h>
#include <stddef.h>
#include <stdint.h>

#include <librdkafka/rdkafka.h>

#include "shared/event.h"

/*
 * One JSON object per rejected record:
 *     {"topic":"shop.events","partition":0,"offset":17,"timestamp":"...Z",
 *      "reason":"missing_field","message":"...","raw":"..."}
 * (event_reject_fields() writes reason, message and raw, cut at
 * EVENT_RAW_MAX bytes). Rejects are made durable before the commit of their
 * micro-batch: appended and fdatasync'ed to the file, or acknowledged by the
 * broker for the topic. They are therefore at least once: a crash between
 * that and the commit writes them again on replay (same topic, partition and
 * offset, so duplicates are easy to drop). The counts in the store's status
 * are exact.
 */

struct rejects;

/*
 * Open the sink: file (a path; parent directories are created) or, when
 * topic is set, a Kafka topic through a producer made from conf (taken on
 * success and failure). Returns 0 and *out, or -1 with err.
 */
int rejects_open(struct rejects **out, const char *file, const char *topic,
    rd_kafka_conf_t *conf, char *err);
void rejects_free(struct rejects *r);

/* Add one reject of the open micro-batch. ts is the record timestamp (ms),
 * or -1. */
void rejects_add(struct rejects *r, const char *topic, int32_t partition,
    int64_t offset, int64_t ts, enum reject reason, const char *msg,
    const char *raw, size_t rawlen);

/*
 * Make the micro-batch's rejects durable. Waits for the broker as long as it
 * takes, but at most 5 s once *stop is set. Returns 0, or -1 with err (a
 * write or delivery failure, or the wait gave up).
 */
int rejects_flush(struct rejects *r, const volatile sig_atomic_t *stop,
    char *err);

/* Where rejects go, for the startup log ("file PATH", "topic T"). */
const char *rejects_where(const struct rejects *r);

#endif
