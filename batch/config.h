/* config.h -- lambda-batch's own options and inputs, after the prologue */
#ifndef BATCH_CONFIG_H
#define BATCH_CONFIG_H

#include "batch/batch.h"
#include "shared/prog.h"

/* Indexes of lambda-batch's own entries in its option table (main.c),
 * which follow OPT_COMMON in this order. */
enum { CONFIG_UNTIL = OPT_NCOMMON, CONFIG_FROM, CONFIG_THREADS,
    CONFIG_REJECTS, CONFIG_DRY_RUN, CONFIG_NO_PROGRESS, CONFIG_DEFAULT_TIME,
    CONFIG_REPOSITORY, CONFIG_SHARD, CONFIG_PARTIAL, CONFIG_MERGE, CONFIG_PULL,
    CONFIG_FORCE, CONFIG_ALLOW_SHRINK, CONFIG_VERIFY };

/*
 * After prog_begin(): borrow the pipeline (b->p = pg->p) and check
 * lambda-batch's own options into b: --until/--from (RFC 3339 or epoch
 * seconds, aligned to pipeline_cutoff_unit()), --threads, --dry-run,
 * --no-progress, --force, --allow-shrink (guard.h), the rejects file, the
 * time of events without one
 * (batch.default_time, which --default-time overrides), and the mode:
 * --shard I/N with --partial FILE, --merge, --pull DIR, --verify, each
 * alone (no two of them, no --until or --from with --merge, --pull or
 * --verify, no --dry-run, --force or --allow-shrink with --shard, --pull
 * or --verify). Returns PROG_RUN, or 2 after reporting a usage error
 * (prog_usage()).
 */
int config_check(struct batch *b, const struct prog *pg);

/*
 * After prog_ready(): expand the inputs (the operands of argv from
 * pg->res.argi on, else batch.inputs) into b (free with input_free()) and,
 * for --shard, plan its share (shard.h). With --merge the operands are the
 * partials (at least one); --pull and --verify take none. Returns PROG_RUN,
 * or 2 after reporting why (a missing input, no inputs).
 */
int config_inputs(struct batch *b, const struct prog *pg, int argc,
    char **argv);

#endif
