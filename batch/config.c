/* config.c -- lambda-batch's own options and inputs, after the prologue */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "batch/config.h"
#include "batch/input.h"
#include "batch/progress.h"
#include "batch/shard.h"
#include "shared/err.h"
#include "shared/ts.h"

/* A TIME option into *ms: parsed and aligned to the cutoff unit; -1 when
 * unset. Returns PROG_RUN or 2. */
static int
time_flag(const struct batch *b, const struct prog *pg, int i, int64_t *ms)
{
    const char *v = pg->res.val[i];
    char unit[32], who[64];

    *ms = -1;
    if (v == NULL)
        return PROG_RUN;
    (void)opt_source(pg->opts, &pg->res, i, who, sizeof(who));
    if (ts_param_parse(v, ms) != 0 || *ms < 0)
        return prog_usage(pg, "%s %s: expected an RFC 3339 time or epoch "
            "seconds", who, v);
    if (ts_bucket(*ms, b->unit) != *ms)
        return prog_usage(pg, "%s %s: not aligned to %s, the granularity "
            "every view's buckets line up on", who, v,
            ts_duration_format(b->unit, unit, sizeof(unit)));
    return PROG_RUN;
}

/* --shard, --merge, --pull, --verify: which, and what goes with it. */
static int
config_mode(struct batch *b, const struct prog *pg)
{
    const char *shard = pg->res.val[CONFIG_SHARD];
    int merge = opt_on(&pg->res, CONFIG_MERGE);
    const char *pull = pg->res.val[CONFIG_PULL];
    int verify = opt_on(&pg->res, CONFIG_VERIFY);
    const char *forced = b->force ? "--force" : "--allow-shrink";

    if ((shard != NULL) + merge + (pull != NULL) + verify > 1)
        return prog_usage(pg, "--shard, --merge, --pull and --verify "
            "exclude each other");
    if (verify) {
        if (b->until >= 0 || b->from >= 0 || b->dry_run || b->force ||
            b->allow_shrink)
            return prog_usage(pg, "--verify takes no --until, --from, "
                "--dry-run, --force or --allow-shrink: it only reads the "
                "store");
        b->mode = BATCH_VERIFY;
        return PROG_RUN;
    }
    if (pg->res.val[CONFIG_PARTIAL] != NULL && shard == NULL)
        return prog_usage(pg, "--partial goes with --shard");
    if (shard != NULL) {
        if (shard_parse(shard, &b->shard, &b->nshards) != 0)
            return prog_usage(pg, "--shard %s: expected I/N with 0 <= I < "
                "N <= %d, such as 0/4", shard, SHARD_MAX);
        if ((b->partial = pg->res.val[CONFIG_PARTIAL]) == NULL)
            return prog_usage(pg, "--shard needs --partial FILE (where its "
                "states go)");
        if (b->dry_run)
            return prog_usage(pg, "--shard publishes nothing: no --dry-run");
        if (b->force || b->allow_shrink)
            return prog_usage(pg, "--shard publishes nothing: give %s to "
                "the --merge", forced);
        b->mode = BATCH_SHARD;
        b->rejects_path = NULL;     /* the rejects go into the partial */
    }
    if (merge || pull != NULL) {
        if (b->until >= 0 || b->from >= 0)
            return prog_usage(pg, "%s takes no --until or --from (%s)",
                merge ? "--merge" : "--pull", merge ? "give them to every "
                "--shard: the partials carry them" : "the version carries "
                "its cutoff");
        b->mode = merge ? BATCH_MERGE : BATCH_PULL;
    }
    if (pull != NULL) {
        if (b->dry_run)
            return prog_usage(pg, "--pull: no --dry-run");
        if (b->force || b->allow_shrink)
            return prog_usage(pg, "--pull: no %s (the version was checked "
                "where it was published)", forced);
        if (*pull == '\0')
            return prog_usage(pg, "--pull: expected a directory");
        b->pull = pull;
    }
    return PROG_RUN;
}

int
config_check(struct batch *b, const struct prog *pg)
{
    const char *v = pg->res.val[CONFIG_THREADS];
    char who[64], *end;
    long n;
    int rc;

    b->p = pg->p;
    b->unit = pipeline_cutoff_unit(b->p);
    if ((rc = time_flag(b, pg, CONFIG_UNTIL, &b->until)) != PROG_RUN ||
        (rc = time_flag(b, pg, CONFIG_FROM, &b->from)) != PROG_RUN)
        return rc;
    if (b->from >= 0 && b->until >= 0 && b->from >= b->until)
        return prog_usage(pg, "--from must be before --until");
    b->threads = (int)sysconf(_SC_NPROCESSORS_ONLN);
    if (v != NULL) {
        errno = 0;
        n = strtol(v, &end, 10);
        if (errno != 0 || end == v || *end != '\0' || n < 1 ||
            n > BATCH_MAX_THREADS)
            return prog_usage(pg, "%s %s: expected a number from 1 to %d",
                opt_source(pg->opts, &pg->res, CONFIG_THREADS, who,
                sizeof(who)), v, BATCH_MAX_THREADS);
        b->threads = (int)n;
    }
    if (b->threads < 1)
        b->threads = 1;
    /* batch.default_time was checked by the pipeline (and --default-time
     * through it): "mtime" or a time */
    b->default_time = -1;
    if (b->p->batch.default_time != NULL &&
        strcmp(b->p->batch.default_time, "mtime") == 0)
        b->default_mtime = 1;
    else if (b->p->batch.default_time != NULL &&
        ts_param_parse(b->p->batch.default_time, &b->default_time) != 0)
        return prog_usage(pg, "batch.default_time %s: expected \"mtime\" or "
            "a time", b->p->batch.default_time);
    b->dry_run = opt_on(&pg->res, CONFIG_DRY_RUN);
    b->force = opt_on(&pg->res, CONFIG_FORCE);
    b->allow_shrink = opt_on(&pg->res, CONFIG_ALLOW_SHRINK);
    progress_init(&b->progress, !opt_on(&pg->res, CONFIG_NO_PROGRESS) &&
        isatty(STDERR_FILENO));
    /* a dry run writes rejects only where it is told to */
    if (!b->dry_run || pg->res.val[CONFIG_REJECTS] != NULL)
        b->rejects_path = b->p->batch.rejects;
    return config_mode(b, pg);
}

int
config_inputs(struct batch *b, const struct prog *pg, int argc, char **argv)
{
    int argi = pg->res.argi;
    char err[ERR_LEN];

    if (b->mode == BATCH_PULL || b->mode == BATCH_VERIFY) {
        if (argi < argc)
            return prog_usage(pg, "%s takes no operands", b->mode ==
                BATCH_PULL ? "--pull" : "--verify");
        return PROG_RUN;
    }
    if (b->mode == BATCH_MERGE) {
        if (argi == argc)
            return prog_usage(pg, "--merge: give the partial FILE of every "
                "shard");
        b->partials = argv + argi;
        b->npartials = argc - argi;
        return PROG_RUN;
    }
    /* operands override batch.inputs */
    if (argi < argc) {
        if (input_expand(b, argv + argi, argc - argi, NULL, err) != 0)
            return prog_error(pg, "%s", err);
    } else if (b->p->batch.ninputs > 0) {
        if (input_expand(b, b->p->batch.inputs, b->p->batch.ninputs,
            b->p->speed.archive, err) != 0)
            return prog_error(pg, "%s", err);
    } else {
        return prog_usage(pg, "no inputs: give INPUT operands or set "
            "batch.inputs in %s", b->p->path);
    }
    if (b->mode == BATCH_SHARD && shard_plan(b, err) != 0)
        return prog_error(pg, "%s", err);
    return PROG_RUN;
}
