/* main.c -- lambda-batch: recompute the views, publish them atomically */
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "batch/batch.h"
#include "batch/config.h"
#include "batch/hold.h"
#include "batch/input.h"
#include "batch/progress.h"
#include "batch/publish.h"
#include "batch/queue.h"
#include "batch/reader.h"
#include "batch/rejects.h"
#include "batch/work.h"
#include "shared/err.h"
#include "shared/log.h"
#include "shared/now.h"
#include "shared/prog.h"
#include "shared/sig.h"
#include "shared/ts.h"

#define PROG "lambda-batch"
#define SYNOPSIS "-c FILE [--until TIME] [--from TIME] [--threads N] " \
    "[--dry-run] [options] [INPUT...]"

/* after OPT_COMMON, in the order of config.h's CONFIG_* */
static const struct opt opts[] = {
    OPT_COMMON,
    {"until", 0, "TIME", NULL, "cutoff: count events before TIME (default: "
        "the last bucket's start)", 0},
    {"from", 0, "TIME", NULL, "recompute from TIME on, keep older rows", 0},
    {"threads", 'j', "N", NULL, "worker threads (default: all cores)", 0},
    {"rejects", 0, "FILE", "batch.rejects", "JSON Lines file for rejected "
        "records", 0},
    {"dry-run", 'n', NULL, NULL, "compute and report, publish nothing", 0},
    {"no-progress", 0, NULL, NULL, "no progress line, even on a terminal", 0},
    {NULL, 0, NULL, NULL, NULL, 0}
};

volatile sig_atomic_t batch_signal;

/* Store and lock (unless a dry run), rejects file. */
static int
resources(struct batch *b, char *err)
{
    if (!b->dry_run && (store_open(&b->st, b->p->store, 0, err) != 0 ||
        publish_lock(b, err) != 0))
        return -1;
    return rejects_open(b, b->dry_run, err);
}

/* Read, aggregate, then publish (or count, for a dry run). */
static int
run(struct batch *b, char *err)
{
    char a[TS_BUFSZ], c[TS_BUFSZ];

    if (hold_limit(b, err) != 0)
        return -1;
    queue_init(b, b->threads + 4);
    if (work_start(b) == 0)
        (void)reader_run(b);
    queue_close(b);
    log_debug("%s: read everything at %.3f s", __func__,
        now_mono_s() - b->started);
    if (work_finish(b) != 0 || b->fail[0] != '\0') {
        snprintf(err, ERR_LEN, "%s", b->fail);
        return -1;
    }
    if (b->stats.held > 0 && b->hold_why != NULL)
        log_info("cutoff held at %s: %s (%" PRId64 " events left to speed)",
            ts_format(b->cutoff, a, sizeof(a)), b->hold_why,
            b->stats.held);
    if (b->from >= 0 && b->cutoff <= b->from) {
        snprintf(err, ERR_LEN, "nothing to recompute: the cutoff %s is not "
            "after --from %s (give --until)",
            ts_format(b->cutoff, a, sizeof(a)),
            ts_format(b->from, c, sizeof(c)));
        return -1;
    }
    if (rejects_commit(b, err) != 0)
        return -1;
    if (b->dry_run) {
        publish_count(b);
        return 0;
    }
    return publish_run(b, err);
}

int
main(int argc, char **argv)
{
    struct prog pg = {.name = PROG, .synopsis = SYNOPSIS, .opts = opts,
        .flags = PROG_OPERANDS};
    struct batch b;
    char err[ERR_LEN];
    int status;

    memset(&b, 0, sizeof(b));
    b.prog = PROG;
    b.lockfd = -1;
    (void)pthread_mutex_init(&b.fail_mu, NULL);
    b.started = now_mono_s();

    /* Options and pipeline: flags over environment over the file. */
    if ((status = prog_begin(&pg, argc, argv)) != PROG_RUN ||
        (status = config_check(&b, &pg)) != PROG_RUN ||
        (status = prog_ready(&pg)) != PROG_RUN ||
        (status = config_inputs(&b, &pg, argc, argv)) != PROG_RUN)
        goto out;
    log_debug("%s: %d inputs, %d threads, store %s", __func__, b.ninputs,
        b.threads, b.p->store);

    /* Resources, signals, run. */
    if ((status = resources(&b, err)) == 0) {
        sig_install(PROG, &batch_signal);
        status = run(&b, err);
    }
    progress_clear(&b);
    if (status != 0) {
        log_warnx("%s; nothing published", err);
        status = 1;
    } else {
        progress_summary(&b);
    }

    /* Shutdown, in reverse order. */
    rejects_discard(&b);
    work_free(&b);
    queue_reset(&b);
    publish_unlock(&b);
    store_free(b.st);
out:
    input_free(&b);
    prog_end(&pg);
    (void)pthread_mutex_destroy(&b.fail_mu);
    return status;
}
