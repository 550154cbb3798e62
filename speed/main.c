/* main.c -- lambda-speed: Kafka events into the speed view, exactly once */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "shared/err.h"
#include "shared/log.h"
#include "shared/mem.h"
#include "shared/opt.h"
#include "shared/pipeline.h"
#include "shared/sig.h"
#include "shared/store.h"
#include "speed/archive.h"
#include "speed/delta.h"
#include "speed/rejects.h"
#include "speed/speed.h"

#define PROG "lambda-speed"
#define SYNOPSIS "-c PIPELINE [--brokers LIST] [--topic T] [--group ID] " \
    "[--once]"

volatile sig_atomic_t speed_stop;

static const struct opt opts[] = {
    OPT_COMMON,
    {"brokers", 0, "LIST", "speed.brokers", "Kafka bootstrap servers"},
    {"topic", 0, "TOPIC", "speed.topic", "topic to consume"},
    {"group", 0, "ID", "speed.group", "consumer group id"},
    {"start", 0, "WHERE", "speed.start",
        "earliest or latest, for partitions not in the store"},
    {"on-data-loss", 0, "POLICY", "speed.on_data_loss",
        "fail or skip records lost to retention"},
    {"lateness", 0, "DURATION", "speed.lateness",
        "accept events this far behind the newest event time"},
    {"once", 0, NULL, NULL,
        "process what is in the topic now, then exit"},
    {NULL, 0, NULL, NULL, NULL}
};

static void
on_signal(int sig)
{
    /* a second SIGINT means now; the store is consistent at any instant */
    if (sig == SIGINT && speed_stop)
        _exit(1);
    speed_stop = 1;
}

static void
usage_error(const char *msg)
{
    fprintf(stderr, PROG ": %s\nTry '" PROG " --help'\n", msg);
    exit(2);
}

/* Options, environment and pipeline file, in that order of precedence. */
static struct pipeline *
configure(int argc, char **argv, int *once, int *check)
{
    struct opt_result res;
    struct pipeline *p = NULL;
    enum log_level level = LOG_LEVEL_INFO;
    char err[ERR_LEN];

    if (opt_parse(opts, argc, argv, &res, err) != 0)
        usage_error(err);
    if (opt_on(&res, OPT_HELP)) {
        opt_usage(stdout, PROG, SYNOPSIS, opts);
        exit(0);
    }
    if (opt_on(&res, OPT_VERSION)) {
        printf(PROG " %s (librdkafka %s)\n", LAMBDAKIT_VERSION,
            rd_kafka_version_str());
        exit(0);
    }
    if (res.argi < argc)
        usage_error("unexpected argument");
    if (res.val[OPT_LOG_LEVEL] != NULL &&
        log_level_parse(res.val[OPT_LOG_LEVEL], &level) != 0)
        usage_error("--log-level: expected debug, info, warn or error");
    if (res.val[OPT_CONFIG] == NULL)
        usage_error("no pipeline (-c FILE or LAMBDA_CONFIG)");
    if (pipeline_load(&p, res.val[OPT_CONFIG], err) != 0 ||
        opt_apply(opts, &res, p, err) != 0) {
        fprintf(stderr, PROG ": %s\n", err);
        exit(2);
    }
    if (p->speed.topic == NULL) {
        fprintf(stderr, PROG ": %s: speed.topic: not set (or use --topic)\n",
            p->path);
        exit(2);
    }
    log_init(PROG, level);
    *once = opt_on(&res, opt_index(opts, "once"));
    *check = opt_on(&res, OPT_CHECK_CONFIG);
    return p;
}

/* Store, rejects, archive and consumer, before the first event. */
static int
setup(struct speed *sp, char *err)
{
    struct pipeline *p = sp->p;
    rd_kafka_conf_t *conf;

    if (store_open(&sp->st, p->store, 0, err) != 0 ||
        speed_load_state(sp, err) != 0)
        return -1;
    conf = NULL;
    if (p->speed.rejects_topic != NULL &&
        (conf = speed_kafka_conf(sp, 0, err)) == NULL)
        return -1;
    if (rejects_open(&sp->rejects, p->speed.rejects_file,
        p->speed.rejects_topic, conf, err) != 0)
        return -1;
    if (p->speed.archive != NULL &&
        archive_open(&sp->archive, p->speed.archive, sp->topic, err) != 0)
        return -1;
    sp->delta = delta_new(p);
    event_init(&sp->ev, p);
    buf_init(&sp->key);
    sp->keyoff = xcalloc((size_t)p->nviews + 1, sizeof(size_t));
    return speed_consumer_open(sp, err);
}

static void
teardown(struct speed *sp)
{
    rejects_free(sp->rejects);
    archive_free(sp->archive);
    delta_free(sp->delta);
    if (sp->delta != NULL)
        event_reset(&sp->ev);
    buf_reset(&sp->key);
    free(sp->keyoff);
    free(sp->parts);
    free(sp->fresh_ts);
    store_free(sp->st);
    pipeline_free(sp->p);
}

int
main(int argc, char **argv)
{
    struct speed sp;
    rd_kafka_conf_t *conf;
    char err[ERR_LEN];
    int check, rc;

    memset(&sp, 0, sizeof(sp));
    sp.p = configure(argc, argv, &sp.once, &check);
    sp.topic = sp.p->speed.topic;
    sp.watermark = INT64_MIN;
    sp.pruned_cutoff = INT64_MIN;
    sp.batch_max_time = INT64_MIN;

    /* speed.kafka is configuration too: a bad property is exit 2 */
    if ((conf = speed_kafka_conf(&sp, 1, err)) == NULL) {
        fprintf(stderr, PROG ": %s\n", err);
        teardown(&sp);
        return 2;
    }
    rd_kafka_conf_destroy(conf);
    if (check) {
        printf("configuration OK\n");
        teardown(&sp);
        return 0;
    }
    if (setup(&sp, err) != 0) {
        log_warnx("%s", err);
        teardown(&sp);
        return 1;
    }
    sig_install(on_signal);
    log_info("startup: pipeline %s, topic %s, group %s, brokers %s, store %s, "
        "rejects to %s%s%s%s", sp.p->name, sp.topic, sp.p->speed.group,
        sp.p->speed.brokers, sp.p->store, rejects_where(sp.rejects),
        sp.p->speed.archive != NULL ? ", archive " : "",
        sp.p->speed.archive != NULL ? sp.p->speed.archive : "",
        sp.once ? ", once" : "");

    rc = speed_run(&sp);
    if (speed_consumer_close(&sp) != 0)
        rc = -1;
    speed_log_summary(&sp, rc == 0 ? "exiting" : "exiting on error");
    teardown(&sp);
    return rc == 0 ? 0 : 1;
}
