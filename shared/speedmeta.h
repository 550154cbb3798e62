/* speedmeta.h -- what lambda-speed keeps in the store's meta for the others: keys, status record */
#ifndef SHARED_SPEEDMETA_H
#define SHARED_SPEEDMETA_H

#include <stddef.h>
#include <stdint.h>

#include "shared/buf.h"
#include "shared/event.h"

/*
 * The contract between lambda-speed, which writes these meta values in each
 * commit transaction (speed/commit.c), and the programs that read them:
 * lambda-batch (batch/hold.c: the watermark) and lambda-serving
 * (serving/query.c, serving/api.c: all three). Nothing else may spell them.
 *
 *     speed.watermark   int64 (store_meta_put_i64), ms: events before it are
 *                       late for speed; absent until an event was accepted
 *     speed.updated_at  int64, ms: wall clock of speed's last commit
 *     speed.status      JSON text, the status record below
 *
 * Speed's other names: "speed.archive/TOPIC/P" (shared/segment.h), and the
 * names the store owns ("offset/", "speedsig/": shared/store.h).
 *
 * The status record is one JSON object:
 *     {"topic":"orders","consumed":N,"accepted":N,"rejected":N,
 *      "rejects":{"invalid_json":N,...every reason but "none"},"late":N,
 *      "lost":N,"commits":N,"last_commit":"RFC 3339"|null,
 *      "watermark":"RFC 3339"|null,"freshness_ms":{"p50":MS,"p99":MS},
 *      "partitions":{"P":{"next":N,"high":N,"lag":N,"lag_seconds":S},...},
 *      "lag":{"P":N,...},"lag_seconds":{"P":S,...}}
 * The counters are sums over every commit of every speed process on the
 * store: each commit decodes the record, adds its own counts and writes it
 * back in the same transaction, so they are exact. Partitions stay as their
 * last owner wrote them. "lag" and "lag_seconds" repeat the partitions' lags
 * as flat objects of numbers, which /metrics shows per partition.
 *
 * Readers that show the record (serving's /metrics) walk it
 * (speedmeta_status_walk()): every number is shown under its member's name,
 * so a member added here reaches /metrics without a change in serving, and
 * a serving older than its speed still shows what it does not know.
 */

#define SPEEDMETA_WATERMARK  "speed.watermark"
#define SPEEDMETA_UPDATED_AT "speed.updated_at"
#define SPEEDMETA_STATUS     "speed.status"

/* One partition in the status record. */
struct speedmeta_part {
    int32_t part;
    int64_t next;           /* next offset to consume; -1 before the first */
    int64_t high;           /* high watermark last seen; -1 unknown */
    int64_t lag;            /* records behind high; 0 when unknown */
    double  lag_seconds;    /* now minus the last record's time when behind */
};

/* The status record, decoded. Embedded: speedmeta_status_init() and
 * speedmeta_status_reset(). */
struct speedmeta_status {
    char    *topic;         /* owned; NULL when absent */
    int64_t  consumed;      /* records read: accepted + rejected */
    int64_t  accepted;
    int64_t  rejected;      /* every reason, late included */
    int64_t  rejects[REJECT_NREASONS];  /* by reason; [REJECT_NONE] unused */
    int64_t  late;
    int64_t  lost;          /* offsets skipped after data loss */
    int64_t  commits;
    int64_t  last_commit;   /* ms; INT64_MIN: null */
    int64_t  watermark;     /* ms; INT64_MIN: null */
    int64_t  fresh_p50;     /* freshness percentiles, ms; -1: no sample */
    int64_t  fresh_p99;
    struct speedmeta_part *parts;   /* owned, in record order */
    int      nparts;
};

/* An empty record: zero counts, null times, no sample, no partition. */
void speedmeta_status_init(struct speedmeta_status *st);

/* Free what st owns and leave it empty (as after init). */
void speedmeta_status_reset(struct speedmeta_status *st);

/*
 * Decode the record text of len bytes (not NUL-terminated, as the store
 * hands it) into st, which is reset first. Members missing or of another
 * type read as in an empty record; members not in the schema are ignored.
 * Returns 0, or -1 when text is not a JSON object (st is then empty).
 */
int speedmeta_status_parse(struct speedmeta_status *st, const void *text,
    size_t len);

/*
 * Encode st as the record's JSON text (one line) and append it to out.
 * Returns 0, or -1 with err when cJSON runs out of memory.
 */
int speedmeta_status_format(const struct speedmeta_status *st,
    struct buf *out, char *err);

/* Set the topic (copied). */
void speedmeta_status_set_topic(struct speedmeta_status *st,
    const char *topic);

/* The entry of partition part, appended zeroed (next and high -1) when st
 * has none. Valid until the next call that adds a partition. */
struct speedmeta_part *speedmeta_status_part(struct speedmeta_status *st,
    int32_t part);

/*
 * Walk the record text (len bytes) for display: call fn for every number
 * and boolean (1 or 0) at its top level, with label and key NULL, and for
 * every number and boolean inside an object at its top level, with the
 * object's name as name, key the member's name and label what the keys are
 * ("reason" for rejects, "partition" for the lag objects, "key" for any
 * other). Strings, nulls, arrays and deeper objects are skipped. Returns 0,
 * or -1 when text is not a JSON object (fn is not called).
 */
int speedmeta_status_walk(const void *text, size_t len,
    void (*fn)(void *arg, const char *name, const char *label,
    const char *key, double value), void *arg);

#endif
