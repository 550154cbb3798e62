/* kafka_raw.c -- benchmark baseline: a plain librdkafka group consumer that only reads */
/*
 * usage: kafka_raw -b BROKERS -t TOPIC -g GROUP [-X PROP=VALUE]...
 *
 * Subscribes like lambda-speed, with its librdkafka settings (cooperative-
 * sticky, no auto commit, partition EOF events, fetch.wait.max.ms 50,
 * queued.min.messages 1000000), reads every message until each assigned
 * partition is at its end, touching every payload byte, and prints one line:
 *     raw: N messages, B bytes in S s (R msg/s) from assignment to caught up
 * The same window lambda-speed --once logs (assigned ... caught up), so the
 * two rates compare the cost of parsing, aggregating and committing exactly
 * once against reading alone.
 */
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <librdkafka/rdkafka.h>

#define MAX_PARTS 1024

struct raw {
    int      assigned[MAX_PARTS];
    int      eof[MAX_PARTS];
    int      nassigned;
    double   t_assigned;
    uint64_t n, bytes, sum;
};

static double
now_s(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void
rebalance_cb(rd_kafka_t *rk, rd_kafka_resp_err_t err,
    rd_kafka_topic_partition_list_t *l, void *opaque)
{
    struct raw *r = opaque;
    rd_kafka_error_t *e;

    for (int i = 0; i < l->cnt; i++) {
        int32_t p = l->elems[i].partition;

        if (p < 0 || p >= MAX_PARTS)
            continue;
        if (err == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS && !r->assigned[p]) {
            r->assigned[p] = 1;
            r->nassigned++;
        } else if (err != RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS &&
            r->assigned[p]) {
            r->assigned[p] = 0;
            r->nassigned--;
        }
    }
    if (err == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS && r->t_assigned == 0) {
        r->t_assigned = now_s();
        fprintf(stderr, "kafka_raw: assigned\n");
    }
    if (err == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS)
        e = rd_kafka_incremental_assign(rk, l);
    else
        e = rd_kafka_incremental_unassign(rk, l);
    if (e != NULL) {
        fprintf(stderr, "kafka_raw: %s\n", rd_kafka_error_string(e));
        rd_kafka_error_destroy(e);
    }
}

static int
caught_up(const struct raw *r)
{
    if (r->nassigned == 0)
        return 0;
    for (int i = 0; i < MAX_PARTS; i++)
        if (r->assigned[i] && !r->eof[i])
            return 0;
    return 1;
}

static int
set(rd_kafka_conf_t *conf, const char *k, const char *v)
{
    char errstr[512];

    if (rd_kafka_conf_set(conf, k, v, errstr, sizeof(errstr)) !=
        RD_KAFKA_CONF_OK) {
        fprintf(stderr, "kafka_raw: %s=%s: %s\n", k, v, errstr);
        return -1;
    }
    return 0;
}

int
main(int argc, char **argv)
{
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    rd_kafka_topic_partition_list_t *l;
    rd_kafka_message_t *m;
    rd_kafka_t *rk;
    struct raw r;
    const char *brokers = NULL, *topic = NULL, *group = NULL;
    char errstr[512], *eq;
    double secs;
    int ch;

    memset(&r, 0, sizeof(r));
    if (set(conf, "partition.assignment.strategy", "cooperative-sticky") ||
        set(conf, "enable.auto.commit", "false") ||
        set(conf, "auto.offset.reset", "earliest") ||
        set(conf, "enable.partition.eof", "true") ||
        set(conf, "fetch.wait.max.ms", "50") ||
        set(conf, "queued.min.messages", "1000000"))
        return 2;
    while ((ch = getopt(argc, argv, "b:t:g:X:")) != -1) {
        switch (ch) {
        case 'b': brokers = optarg; break;
        case 't': topic = optarg; break;
        case 'g': group = optarg; break;
        case 'X':
            if ((eq = strchr(optarg, '=')) == NULL) {
                fprintf(stderr, "kafka_raw: -X PROP=VALUE\n");
                return 2;
            }
            *eq = '\0';
            if (set(conf, optarg, eq + 1) != 0)
                return 2;
            break;
        default:
            fprintf(stderr, "usage: kafka_raw -b BROKERS -t TOPIC -g GROUP "
                "[-X PROP=VALUE]...\n");
            return 2;
        }
    }
    if (brokers == NULL || topic == NULL || group == NULL) {
        fprintf(stderr, "usage: kafka_raw -b BROKERS -t TOPIC -g GROUP "
            "[-X PROP=VALUE]...\n");
        return 2;
    }
    if (set(conf, "bootstrap.servers", brokers) ||
        set(conf, "group.id", group))
        return 2;
    rd_kafka_conf_set_opaque(conf, &r);
    rd_kafka_conf_set_rebalance_cb(conf, rebalance_cb);
    if ((rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, errstr,
        sizeof(errstr))) == NULL) {
        fprintf(stderr, "kafka_raw: %s\n", errstr);
        return 1;
    }
    (void)rd_kafka_poll_set_consumer(rk);
    l = rd_kafka_topic_partition_list_new(1);
    rd_kafka_topic_partition_list_add(l, topic, RD_KAFKA_PARTITION_UA);
    if (rd_kafka_subscribe(rk, l) != RD_KAFKA_RESP_ERR_NO_ERROR) {
        fprintf(stderr, "kafka_raw: subscribe failed\n");
        return 1;
    }
    rd_kafka_topic_partition_list_destroy(l);

    while (!caught_up(&r)) {
        if ((m = rd_kafka_consumer_poll(rk, 100)) == NULL)
            continue;
        if (m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) {
            if (m->partition >= 0 && m->partition < MAX_PARTS)
                r.eof[m->partition] = 1;
        } else if (m->err != RD_KAFKA_RESP_ERR_NO_ERROR) {
            fprintf(stderr, "kafka_raw: %s\n", rd_kafka_message_errstr(m));
        } else {
            const unsigned char *p = m->payload;

            for (size_t i = 0; i < m->len; i++)
                r.sum += p[i];
            r.n++;
            r.bytes += m->len;
            if (m->partition >= 0 && m->partition < MAX_PARTS)
                r.eof[m->partition] = 0;
        }
        rd_kafka_message_destroy(m);
    }
    secs = now_s() - r.t_assigned;
    printf("raw: %" PRIu64 " messages, %" PRIu64 " bytes in %.3f s "
        "(%.0f msg/s) from assignment to caught up (checksum %" PRIu64 ")\n",
        r.n, r.bytes, secs, secs > 0 ? (double)r.n / secs : 0.0,
        r.sum & 0xffff);
    rd_kafka_consumer_close(rk);
    rd_kafka_destroy(rk);
    return 0;
}
