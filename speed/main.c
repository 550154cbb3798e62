/* main.c -- lambda-speed: Kafka events into the speed view, exactly once */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "shared/err.h"
#include "shared/log.h"
#include "shared/mem.h"
#include "shared/pipeline.h"
#include "shared/prog.h"
#include "shared/sig.h"
#include "shared/store.h"
#include "speed/archive.h"
#include "speed/delta.h"
#include "speed/late.h"
#include "speed/redefine.h"
#include "speed/rejects.h"
#include "speed/speed.h"

#define PROG "lambda-speed"
#define SYNOPSIS "-c FILE [--brokers LIST] [--topic TOPIC] [--group ID] " \
    "[--once [--wait SECONDS]] [options]\n" \
    "-c FILE --reset-to earliest|latest|TIME [--dry-run] [options]"

volatile sig_atomic_t speed_stop;

static const struct opt opts[] = {
    OPT_COMMON,
    {"brokers", 0, "LIST", "speed.brokers", "Kafka bootstrap servers", 0},
    {"topic", 0, "TOPIC", "speed.topic", "topic to consume", 0},
    {"group", 0, "ID", "speed.group", "consumer group id", 0},
    {"start", 0, "WHERE", "speed.start",
        "earliest or latest, for partitions not in the store", 0},
    {"on-data-loss", 0, "POLICY", "speed.on_data_loss",
        "fail or skip records lost to retention", 0},
    {"lateness", 0, "DURATION", "speed.lateness",
        "accept events this far behind the newest event time", 0},
    {"once", 0, NULL, NULL,
        "process what is in the topic now, then exit", 0},
    {"wait", 0, "SECONDS", NULL, "with --once: give up (exit 1) after "
        "SECONDS without progress, such as no broker answering (default "
        "30)", 0},
    {"reset-to", 0, "WHERE", NULL, "earliest, latest or TIME (RFC 3339, "
        "epoch seconds, -10m): move the stored offsets there and drop the "
        "speed rows from there on, then exit", OPT_NOENV},
    {"dry-run", 0, NULL, NULL, "with --reset-to: print the offsets before "
        "and after and the rows that would go; change nothing", OPT_NOENV},
    {NULL, 0, NULL, NULL, NULL, 0}
};

#define ONCE_WAIT_DEFAULT 30

/* What the pipeline must say for speed; speed.kafka is configuration too, so
 * a bad property is exit 2. Returns PROG_RUN or 2. */
static int
configure(struct speed *sp, const struct prog *pg)
{
    rd_kafka_conf_t *conf;
    const char *wait;
    char err[ERR_LEN], *end;
    long n;

    sp->p = pg->p;
    sp->once = prog_on(pg, "once");
    sp->once_wait_ms = ONCE_WAIT_DEFAULT * 1000;
    if ((wait = prog_val(pg, "wait")) != NULL) {
        errno = 0;
        n = strtol(wait, &end, 10);
        if (errno != 0 || end == wait || *end != '\0' || n < 1 ||
            n > 86400)
            return prog_usage(pg, "--wait %s: expected seconds from 1 to "
                "86400", wait);
        if (!sp->once)
            return prog_usage(pg, "--wait goes with --once (a running "
                "lambda-speed waits for its brokers as long as it runs)");
        sp->once_wait_ms = (int64_t)n * 1000;
    }
    if (prog_val(pg, "reset-to") != NULL) {
        if (sp->once)
            return prog_usage(pg, "--reset-to runs once by itself: drop "
                "--once");
        if (speed_reset_parse(sp, prog_val(pg, "reset-to"), err) != 0)
            return prog_usage(pg, "%s", err);
    } else if (prog_on(pg, "dry-run")) {
        return prog_usage(pg, "--dry-run goes with --reset-to");
    }
    if ((sp->topic = sp->p->speed.topic) == NULL)
        return prog_error(pg, "%s: speed.topic: not set (or use --topic)",
            sp->p->path);
    if ((conf = speed_kafka_conf(sp, 1, err)) == NULL)
        return prog_error(pg, "%s", err);
    rd_kafka_conf_destroy(conf);
    return PROG_RUN;
}

/* Store, rejects, archive and consumer, before the first event. */
static int
setup(struct speed *sp, char *err)
{
    struct pipeline *p = sp->p;
    rd_kafka_conf_t *conf;

    if (store_open(&sp->st, p->store, 0, err) != 0 ||
        speed_reset_setup(sp, err) != 0 ||
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
    return speed_consumer_open(sp, err);
}

static void
teardown(struct speed *sp)
{
    rejects_free(sp->rejects);
    archive_free(sp->archive);
    delta_free(sp->delta);
    speed_late_free(sp);
    if (sp->delta != NULL)
        event_reset(&sp->ev);
    free(sp->parts);
    free(sp->fresh_ts);
    free(sp->follows);
    free(sp->replay);
    if (sp->runlock >= 0)
        (void)close(sp->runlock);
    store_free(sp->st);
}

int
main(int argc, char **argv)
{
    struct prog pg = {.name = PROG, .synopsis = SYNOPSIS, .opts = opts,
        .lib = "librdkafka", .lib_version = rd_kafka_version_str()};
    struct speed sp;
    char err[ERR_LEN];
    int rc;

    memset(&sp, 0, sizeof(sp));
    sp.watermark = INT64_MIN;
    sp.pruned_cutoff = INT64_MIN;
    sp.batch_cutoff = INT64_MIN;
    sp.batch_max_time = INT64_MIN;
    sp.runlock = -1;

    /* Options and pipeline: flags over environment over the file. */
    if ((rc = prog_begin(&pg, argc, argv)) != PROG_RUN ||
        (rc = configure(&sp, &pg)) != PROG_RUN ||
        (rc = prog_ready(&pg)) != PROG_RUN) {
        prog_end(&pg);
        return rc;
    }

    /* --reset-to: a run of its own. */
    if (sp.reset_to != NULL) {
        rc = speed_reset(&sp, prog_on(&pg, "dry-run"));
        teardown(&sp);
        prog_end(&pg);
        return rc;
    }

    /* Resources: store, rejects, archive, consumer. */
    if (setup(&sp, err) != 0) {
        log_errorx("%s", err);
        teardown(&sp);
        prog_end(&pg);
        return 1;
    }

    /* Signals. */
    sig_install(PROG, &speed_stop);
    log_info("startup: pipeline %s, topic %s, group %s, brokers %s, store %s, "
        "rejects to %s%s%s%s", sp.p->name, sp.topic, sp.p->speed.group,
        sp.p->speed.brokers, sp.p->store, rejects_where(sp.rejects),
        sp.p->speed.archive != NULL ? ", archive " : "",
        sp.p->speed.archive != NULL ? sp.p->speed.archive : "",
        sp.once ? ", once" : "");

    /* Run. */
    rc = speed_run(&sp);

    /* Shutdown: leave the group, then free in reverse order. */
    if (speed_consumer_close(&sp) != 0)
        rc = -1;
    speed_log_summary(&sp, rc == 0 ? "exiting" : "exiting on error");
    teardown(&sp);
    if (sp.redefined)
        rc = redefine_exec(&sp, argv);
    prog_end(&pg);
    return rc == 0 ? 0 : rc > 0 ? rc : 1;
}
