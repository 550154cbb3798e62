/* consume_kafka.c -- librdkafka set up: configuration, logs, errors, brokers */
#include <stdio.h>
#include <string.h>

#include <librdkafka/rdkafka.h>

#include "shared/err.h"
#include "shared/log.h"
#include "shared/now.h"
#include "speed/consume_int.h"
#include "speed/speed.h"

#define PROBE_MS 1000           /* reachability probe while brokers are down */

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
     * names the broker and the reason once per change (unreachable()), so
     * the details go to debug. So do the rejects producer's notes on
     * consumer-only properties of speed.kafka.
     */
    if (strcmp(fac, "FAIL") == 0 || strstr(buf, "will be ignored by this") !=
        NULL)
        l = LOG_LEVEL_DEBUG;
    /* offsets sent to the group are for lag tools only: the store has them */
    if (strcmp(fac, "COMMITFAIL") == 0)
        l = LOG_LEVEL_DEBUG;
    log_at(l, "kafka %s %s: %s", rd_kafka_name(rk), fac, buf);
}

void
consume_fail(struct speed *sp, const char *what, const char *err)
{
    log_errorx("%s: %s", what, err);
    sp->fatal = 1;
    speed_stop = 1;
}

/*
 * A connection to a broker failed: refused, timed out, a name that does not
 * resolve, TLS or SASL. librdkafka retries with a backoff and says so at
 * every retry, with a tail that changes each time ("(after 0ms in state
 * CONNECT, 3 identical error(s) suppressed)"); the broker and the reason
 * without that tail are logged once per change, so the log names what is
 * unreachable and why without repeating it. A connection closed in state
 * UP (idle, a broker restarting) is only debug: it reconnects by itself.
 */
static void
unreachable(struct speed *sp, const char *reason)
{
    struct speed_unreachable *u = NULL;
    const char *tail = strstr(reason, " (after "), *sep;
    size_t n = tail != NULL ? (size_t)(tail - reason) : strlen(reason);
    size_t blen;

    if (strstr(reason, "in state UP") != NULL) {
        log_debug("%s: %s", __func__, reason);
        return;
    }
    if (n >= sizeof(sp->kafka_why))
        n = sizeof(sp->kafka_why) - 1;
    memcpy(sp->kafka_why, reason, n);
    sp->kafka_why[n] = '\0';
    sep = strstr(sp->kafka_why, ": ");
    blen = sep != NULL ? (size_t)(sep - sp->kafka_why) : 0;
    if (blen >= sizeof(u->broker))
        blen = sizeof(u->broker) - 1;
    for (int i = 0; i < sp->nunreachable && u == NULL; i++)
        if (strncmp(sp->unreachable[i].broker, sp->kafka_why, blen) == 0 &&
            sp->unreachable[i].broker[blen] == '\0')
            u = &sp->unreachable[i];
    if (u != NULL && strcmp(u->why, sp->kafka_why) == 0)
        return;
    if (u == NULL) {
        u = &sp->unreachable[sp->nunreachable < SPEED_UNREACHABLE_MAX ?
            sp->nunreachable++ : SPEED_UNREACHABLE_MAX - 1];
        memcpy(u->broker, sp->kafka_why, blen);
        u->broker[blen] = '\0';
    }
    snprintf(u->why, sizeof(u->why), "%s", sp->kafka_why);
    log_warnx("cannot reach %s", sp->kafka_why);
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
            sp->probe_ms = now_mono_ms() + PROBE_MS;
            log_warnx("all brokers are down (%s); retrying", reason);
        }
        break;
    case RD_KAFKA_RESP_ERR__TRANSPORT:
    case RD_KAFKA_RESP_ERR__RESOLVE:
    case RD_KAFKA_RESP_ERR__SSL:
    case RD_KAFKA_RESP_ERR__AUTHENTICATION:
        unreachable(sp, reason);
        break;
    case RD_KAFKA_RESP_ERR__FATAL:
        (void)rd_kafka_fatal_error(rk, errstr, sizeof(errstr));
        log_errorx("kafka fatal error: %s", errstr);
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

/* ---- brokers away and back ---- */

void
consume_brokers_up(struct speed *sp)
{
    if (sp->brokers_down) {
        sp->brokers_down = 0;
        sp->nunreachable = 0;   /* the next outage is logged again */
        log_info("brokers reachable again");
    }
}

/*
 * While every broker is away, ask for metadata once a second: the first
 * answer means they are back. Not rd_kafka_query_watermark_offsets(): in
 * librdkafka 2.0 it ignores its timeout while the leader is unreachable.
 */
void
consume_probe(struct speed *sp, int64_t now)
{
    const struct rd_kafka_metadata *md = NULL;

    sp->probe_ms = now + PROBE_MS;
    if (rd_kafka_metadata(sp->rk, 0, NULL, &md, 200) ==
        RD_KAFKA_RESP_ERR_NO_ERROR)
        consume_brokers_up(sp);
    if (md != NULL)
        rd_kafka_metadata_destroy(md);
}
