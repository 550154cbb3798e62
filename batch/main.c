/* main.c -- lambda-batch: recompute the views, publish them atomically */
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "batch/batch.h"
#include "batch/input.h"
#include "batch/progress.h"
#include "batch/publish.h"
#include "batch/queue.h"
#include "batch/reader.h"
#include "batch/rejects.h"
#include "batch/work.h"
#include "shared/err.h"
#include "shared/log.h"
#include "shared/opt.h"
#include "shared/ts.h"

#define PROG "lambda-batch"
#define SYNOPSIS "[-c FILE] [--until TIME] [--from TIME] [--threads N] " \
    "[--dry-run] [INPUT...]"

static const struct opt opts[] = {
    OPT_COMMON,
    {"until", 0, "TIME", NULL, "count events before TIME (RFC 3339 or epoch "
        "seconds, aligned to the views' granularities); default: the start "
        "of the latest bucket in the inputs"},
    {"from", 0, "TIME", NULL, "recompute only from TIME on, keep the older "
        "rows of the current version"},
    {"threads", 'j', "N", NULL, "worker threads (default: all cores)"},
    {"rejects", 0, "FILE", "batch.rejects", "JSON Lines file for rejected "
        "records"},
    {"dry-run", 'n', NULL, NULL, "compute and report, publish nothing"},
    {"no-progress", 0, NULL, NULL, "no progress line, even on a terminal"},
    {NULL, 0, NULL, NULL, NULL}
};
enum { OPT_UNTIL = OPT_NCOMMON, OPT_FROM, OPT_THREADS, OPT_REJECTS,
    OPT_DRY_RUN, OPT_NO_PROGRESS };

volatile sig_atomic_t batch_signal;

static void __attribute__((noreturn, format(printf, 2, 3)))
die(int usage, const char *fmt, ...)
{
    va_list ap;

    fprintf(stderr, PROG ": ");
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, "\n");
    if (usage)
        fprintf(stderr, "Try '" PROG " --help'\n");
    exit(2);
}

/* How the user gave option i: "--until" or "LAMBDA_UNTIL". */
static const char *
source(const struct opt_result *res, int i, char *buf, size_t size)
{
    size_t k = 0;

    if (res->from_flag[i]) {
        snprintf(buf, size, "--%s", opts[i].name);
        return buf;
    }
    k = (size_t)snprintf(buf, size, "LAMBDA_");
    for (const char *p = opts[i].name; *p != '\0' && k + 1 < size; p++)
        buf[k++] = *p == '-' ? '_' : (char)(*p - ('a' <= *p && *p <= 'z' ?
            'a' - 'A' : 0));
    buf[k] = '\0';
    return buf;
}

/* A TIME option: parsed and aligned to the cutoff unit; -1 when unset. */
static int64_t
time_flag(const struct batch *b, const struct opt_result *res, int i)
{
    char unit[32], name[64];
    int64_t ms;

    if (res->val[i] == NULL)
        return -1;
    if (ts_param_parse(res->val[i], &ms) != 0 || ms < 0)
        die(1, "%s %s: expected an RFC 3339 time or epoch seconds",
            source(res, i, name, sizeof(name)), res->val[i]);
    if (ts_bucket(ms, b->unit) != ms)
        die(1, "%s %s: not aligned to %s, the granularity every view's "
            "buckets line up on", source(res, i, name, sizeof(name)),
            res->val[i], ts_duration_format(b->unit, unit, sizeof(unit)));
    return ms;
}

/* Options, environment and pipeline: exits 0 (--help, --version,
 * --check-config) or 2 (usage or configuration error). */
static void
configure(struct batch *b, int argc, char **argv)
{
    struct opt_result res;
    enum log_level level = LOG_LEVEL_INFO;
    char err[ERR_LEN], *end;
    long n;

    if (opt_parse(opts, argc, argv, &res, err) != 0)
        die(1, "%s", err);
    if (res.val[OPT_HELP] != NULL) {
        opt_usage(stdout, PROG, SYNOPSIS, opts);
        exit(0);
    }
    if (res.val[OPT_VERSION] != NULL) {
        printf(PROG " " LAMBDAKIT_VERSION "\n");
        exit(0);
    }
    if (res.val[OPT_LOG_LEVEL] != NULL &&
        log_level_parse(res.val[OPT_LOG_LEVEL], &level) != 0)
        die(1, "--log-level %s: expected debug, info, warn or error",
            res.val[OPT_LOG_LEVEL]);
    if (res.val[OPT_CONFIG] == NULL)
        die(1, "no pipeline file: give -c FILE or set LAMBDA_CONFIG");
    if (pipeline_load(&b->p, res.val[OPT_CONFIG], err) != 0)
        die(0, "%s", err);
    if (opt_apply(opts, &res, b->p, err) != 0)
        die(1, "%s", err);
    b->unit = pipeline_cutoff_unit(b->p);
    b->until = time_flag(b, &res, OPT_UNTIL);
    b->from = time_flag(b, &res, OPT_FROM);
    if (b->from >= 0 && b->until >= 0 && b->from >= b->until)
        die(1, "--from must be before --until");
    b->threads = (int)sysconf(_SC_NPROCESSORS_ONLN);
    if (res.val[OPT_THREADS] != NULL) {
        errno = 0;
        n = strtol(res.val[OPT_THREADS], &end, 10);
        if (errno != 0 || end == res.val[OPT_THREADS] || *end != '\0' ||
            n < 1 || n > BATCH_MAX_THREADS)
            die(1, "--threads %s: expected a number from 1 to %d",
                res.val[OPT_THREADS], BATCH_MAX_THREADS);
        b->threads = (int)n;
    }
    if (b->threads < 1)
        b->threads = 1;
    b->dry_run = opt_on(&res, OPT_DRY_RUN);
    b->progress = !opt_on(&res, OPT_NO_PROGRESS) && isatty(STDERR_FILENO);
    /* a dry run writes rejects only where it is told to */
    if (!b->dry_run || res.val[OPT_REJECTS] != NULL)
        b->rejects_path = b->p->batch.rejects;
    if (opt_on(&res, OPT_CHECK_CONFIG)) {
        printf("configuration OK\n");
        exit(0);
    }
    log_init(PROG, level);
    /* operands override batch.inputs */
    if (res.argi < argc) {
        if (input_expand(b, argv + res.argi, argc - res.argi, NULL,
            err) != 0)
            die(0, "%s", err);
    } else if (b->p->batch.ninputs > 0) {
        if (input_expand(b, b->p->batch.inputs, b->p->batch.ninputs,
            b->p->speed.archive, err) != 0)
            die(0, "%s", err);
    } else {
        die(1, "no inputs: give INPUT operands or set batch.inputs in %s",
            b->p->path);
    }
}

static void
on_signal(int sig)
{
    static const char msg[] = PROG ": interrupted again, exiting now\n";

    if (batch_signal != 0 && sig == SIGINT) {
        (void)!write(STDERR_FILENO, msg, sizeof(msg) - 1);
        _exit(1);
    }
    batch_signal = sig;
}

static void
signals_install(void)
{
    struct sigaction sa;

    memset(&sa, 0, sizeof(sa));
    sigemptyset(&sa.sa_mask);
    sa.sa_handler = on_signal;
    (void)sigaction(SIGTERM, &sa, NULL);
    (void)sigaction(SIGINT, &sa, NULL);
    (void)sigaction(SIGHUP, &sa, NULL);
    sa.sa_handler = SIG_IGN;
    (void)sigaction(SIGPIPE, &sa, NULL);
}

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

    queue_init(b, b->threads + 4);
    if (work_start(b) == 0)
        (void)reader_run(b);
    queue_close(b);
    log_debug("%s: read everything at %.3f s", __func__,
        batch_now() - b->started);
    if (work_finish(b) != 0 || b->fail[0] != '\0') {
        progress_clear(b);
        snprintf(err, ERR_LEN, "%s", b->fail);
        return -1;
    }
    progress_clear(b);
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
    struct batch b;
    char err[ERR_LEN];
    int status = 0;

    memset(&b, 0, sizeof(b));
    b.prog = PROG;
    b.lockfd = -1;
    (void)pthread_mutex_init(&b.fail_mu, NULL);
    b.started = batch_now();
    configure(&b, argc, argv);
    signals_install();
    log_debug("%s: %d inputs, %d threads, store %s", __func__, b.ninputs,
        b.threads, b.p->store);

    if (resources(&b, err) != 0 || run(&b, err) != 0) {
        log_warnx("%s; nothing published", err);
        status = 1;
    } else {
        progress_summary(&b);
    }

    rejects_discard(&b);
    work_free(&b);
    queue_reset(&b);
    publish_unlock(&b);
    store_free(b.st);
    input_free(&b);
    pipeline_free(b.p);
    (void)pthread_mutex_destroy(&b.fail_mu);
    return status;
}
