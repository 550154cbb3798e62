/* config.c -- lambda-batch's options, environment and pipeline, checked */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "batch/config.h"
#include "batch/input.h"
#include "shared/err.h"
#include "shared/log.h"
#include "shared/ts.h"

#define PROG "lambda-batch"

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
source(const struct opt *opts, const struct opt_result *res, int i,
    char *buf, size_t size)
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
time_flag(const struct batch *b, const struct opt *opts,
    const struct opt_result *res, int i)
{
    char unit[32], name[64];
    int64_t ms;

    if (res->val[i] == NULL)
        return -1;
    if (ts_param_parse(res->val[i], &ms) != 0 || ms < 0)
        die(1, "%s %s: expected an RFC 3339 time or epoch seconds",
            source(opts, res, i, name, sizeof(name)), res->val[i]);
    if (ts_bucket(ms, b->unit) != ms)
        die(1, "%s %s: not aligned to %s, the granularity every view's "
            "buckets line up on", source(opts, res, i, name, sizeof(name)),
            res->val[i], ts_duration_format(b->unit, unit, sizeof(unit)));
    return ms;
}

void
config_load(struct batch *b, const struct opt *opts, const char *synopsis,
    int argc, char **argv)
{
    struct opt_result res;
    enum log_level level = LOG_LEVEL_INFO;
    char err[ERR_LEN], *end;
    long n;

    if (opt_parse(opts, argc, argv, &res, err) != 0)
        die(1, "%s", err);
    if (res.val[OPT_HELP] != NULL) {
        opt_usage(stdout, PROG, synopsis, opts);
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
    b->until = time_flag(b, opts, &res, CONFIG_UNTIL);
    b->from = time_flag(b, opts, &res, CONFIG_FROM);
    if (b->from >= 0 && b->until >= 0 && b->from >= b->until)
        die(1, "--from must be before --until");
    b->threads = (int)sysconf(_SC_NPROCESSORS_ONLN);
    if (res.val[CONFIG_THREADS] != NULL) {
        errno = 0;
        n = strtol(res.val[CONFIG_THREADS], &end, 10);
        if (errno != 0 || end == res.val[CONFIG_THREADS] || *end != '\0' ||
            n < 1 || n > BATCH_MAX_THREADS)
            die(1, "--threads %s: expected a number from 1 to %d",
                res.val[CONFIG_THREADS], BATCH_MAX_THREADS);
        b->threads = (int)n;
    }
    if (b->threads < 1)
        b->threads = 1;
    b->dry_run = opt_on(&res, CONFIG_DRY_RUN);
    b->progress = !opt_on(&res, CONFIG_NO_PROGRESS) && isatty(STDERR_FILENO);
    /* a dry run writes rejects only where it is told to */
    if (!b->dry_run || res.val[CONFIG_REJECTS] != NULL)
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

