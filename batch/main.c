/* main.c -- lambda-batch: recompute the views, publish them atomically */
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "batch/batch.h"
#include "batch/config.h"
#include "batch/diff.h"
#include "batch/guard.h"
#include "batch/hold.h"
#include "batch/input.h"
#include "batch/merge.h"
#include "batch/partial.h"
#include "batch/progress.h"
#include "batch/publish.h"
#include "batch/pull.h"
#include "batch/queue.h"
#include "batch/reader.h"
#include "batch/rejects.h"
#include "batch/repository.h"
#include "batch/shard.h"
#include "batch/verify.h"
#include "batch/work.h"
#include "shared/err.h"
#include "shared/log.h"
#include "shared/now.h"
#include "shared/prog.h"
#include "shared/sig.h"
#include "shared/ts.h"

#define PROG "lambda-batch"
#define SYNOPSIS "-c FILE [--until TIME] [--from TIME] [--threads N] " \
    "[--dry-run] [--force] [--allow-shrink] [options] [INPUT...]\n" \
    "-c FILE --shard I/N --partial FILE [--until TIME] [--from TIME] " \
    "[options] [INPUT...]\n" \
    "-c FILE --merge [--dry-run] [--force] [--allow-shrink] [options] " \
    "PARTIAL...\n" \
    "-c FILE --pull DIR [options]\n" \
    "-c FILE --verify [options]"

/* after OPT_COMMON, in the order of config.h's CONFIG_* */
static const struct opt opts[] = {
    OPT_COMMON,
    {"until", 0, "TIME", NULL, "cutoff: count events before TIME (default: "
        "the last bucket's start)", 0},
    {"from", 0, "TIME", NULL, "recompute from TIME on, keep older rows", 0},
    {"threads", 'j', "N", NULL, "worker threads (default: all cores)", 0},
    {"rejects", 0, "FILE", "batch.rejects", "JSON Lines file for rejected "
        "records", 0},
    {"dry-run", 'n', NULL, NULL, "print what a publish would change, "
        "publish nothing", 0},
    {"no-progress", 0, NULL, NULL, "no progress line, even on a terminal", 0},
    {"default-time", 0, "WHEN", "batch.default_time", "time of events without "
        "one: mtime (their file's), a TIME or none (the default: "
        "bad_time)", 0},
    {"repository", 0, "DIR", "batch.repository", "also write every "
        "published version to DIR, as one file", 0},
    {"shard", 0, "I/N", NULL, "read shard I of N (0 <= I < N) of the inputs "
        "into --partial FILE; publish nothing", OPT_NOENV},
    {"partial", 0, "FILE", NULL, "where --shard writes its states",
        OPT_NOENV},
    {"merge", 0, NULL, NULL, "publish the fold of the PARTIAL files of "
        "every shard", OPT_NOENV},
    {"pull", 0, "DIR", NULL, "import the newest version of the repository "
        "DIR as a publish", OPT_NOENV},
    {"force", 0, NULL, NULL, "publish even with --until past the inputs, "
        "the clock or lambda-speed's watermark", OPT_NOENV},
    {"allow-shrink", 0, NULL, NULL, "publish even a version with less than "
        "half the published one's rows or events", OPT_NOENV},
    {"verify", 0, NULL, NULL, "walk the whole store and report damage; exit "
        "1 when there is some", OPT_NOENV},
    {NULL, 0, NULL, NULL, NULL, 0}
};

volatile sig_atomic_t batch_signal;

/* Store and lock (a dry run reads the store if there is one; a shard has
 * none), walked first (store_verify_check(): damage refused before any
 * read or write), with the rows a failed run left deleted first, then the
 * rejects file (not for a pull). */
static int
resources(struct batch *b, char *err)
{
    int64_t left;
    int walked = 0;

    if (b->mode != BATCH_SHARD &&
        store_verify_check(b->p->store, b->p, &walked, err) != 0)
        return -1;
    log_debug("%s: store %s at %.3f s", __func__, walked ? "walked" :
        "not walked", now_mono_s() - b->started);
    if (b->dry_run && guard_open(b, err) != 0)
        return -1;
    if (!b->dry_run && b->mode != BATCH_SHARD) {
        if (store_open(&b->st, b->p->store, 0, err) != 0 ||
            store_batch_lock(b->st, err) != 0 ||
            store_batch_reclaim(b->st, &left, err) != 0)
            return -1;
        if (left > 0)
            log_info("deleted %" PRId64 " rows a failed or killed run left "
                "in store %s", left, b->p->store);
    }
    if (b->mode == BATCH_PULL)
        return 0;
    return rejects_open(b, b->dry_run, err);
}

/* Read and aggregate the inputs (or a shard's share of them). */
static int
compute(struct batch *b, char *err)
{
    if (b->mode == BATCH_SHARD)
        b->limit = b->until >= 0 ? b->until : INT64_MAX;   /* no store */
    else if (hold_limit(b, err) != 0)
        return -1;
    queue_init(&b->queue, b->threads + 4);
    if (work_start(b) == 0)
        (void)reader_run(b);
    queue_close(b);
    log_debug("%s: read everything at %.3f s", __func__,
        now_mono_s() - b->started);
    if (work_finish(b) != 0 || b->fail[0] != '\0') {
        snprintf(err, ERR_LEN, "%s", b->fail);
        return -1;
    }
    return 0;
}

/* Read, aggregate (or fold the partials), then publish (or print the
 * diff, for a dry run, or write the partial, for a shard); or pull. Returns
 * 0, -1 with err, or GUARD_REFUSED with err. */
static int
run(struct batch *b, char *err)
{
    char a[TS_BUFSZ], c[TS_BUFSZ];
    int rc;

    if (b->mode == BATCH_PULL)
        return pull_run(b, err);
    if ((b->mode == BATCH_MERGE ? merge_run(b, err) : compute(b, err)) != 0)
        return -1;
    if (b->mode == BATCH_SHARD)
        return partial_write(b, err);
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
    if (publish_check(b, err) != 0)
        return -1;
    if (b->dry_run && diff_dry(b, err) != 0)     /* sets b->stats.rows */
        return -1;
    if ((rc = guard_check(b, err)) != 0)
        return rc;
    if (rejects_commit(b, err) != 0)
        return -1;
    if (b->dry_run)
        return 0;
    if (publish_run(b, err) != 0)
        return -1;
    b->published = 1;
    return repository_publish(b, err);
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
    (void)pthread_mutex_init(&b.fail_mu, NULL);
    b.started = now_mono_s();
    b.stats.last_before_from = INT64_MIN;

    /* Options and pipeline: flags over environment over the file. */
    if ((status = prog_begin(&pg, argc, argv)) != PROG_RUN ||
        (status = config_check(&b, &pg)) != PROG_RUN ||
        (status = prog_ready(&pg)) != PROG_RUN ||
        (status = config_inputs(&b, &pg, argc, argv)) != PROG_RUN)
        goto out;
    log_debug("%s: %d inputs, %d threads, store %s", __func__, b.ninputs,
        b.threads, b.p->store);

    /* Resources, signals, run; --verify only reads the store. */
    if (b.mode == BATCH_VERIFY) {
        if ((status = verify_run(&b, err)) < 0)
            log_errorx("%s", err);
        status = status != 0;
        goto out;
    }
    if ((status = resources(&b, err)) == 0) {
        sig_install(PROG, &batch_signal);
        status = run(&b, err);
    }
    progress_clear(&b.progress);
    if (status == GUARD_REFUSED && b.dry_run)
        progress_summary(&b);   /* what it computed, then why it refuses */
    if (status != 0) {
        if (b.published)
            log_warnx("version %" PRId64 " is published in the store, but "
                "not in the repository: %s", b.version, err);
        else
            log_errorx("%s; nothing %s", err, b.mode == BATCH_SHARD ?
                "written" : "published");
        status = status == GUARD_REFUSED ? 2 : 1;
    } else if (b.mode != BATCH_PULL) {
        progress_summary(&b);
    }

    /* Shutdown, in reverse order. */
    rejects_discard(&b);
    work_free(&b);
    queue_reset(&b.queue);
    store_batch_unlock(b.st);
    store_free(b.st);
out:
    shard_free(&b);
    input_free(&b);
    prog_end(&pg);
    (void)pthread_mutex_destroy(&b.fail_mu);
    return status;
}
