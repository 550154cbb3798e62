/* config.h -- lambda-batch's options, environment and pipeline, checked */
#ifndef BATCH_CONFIG_H
#define BATCH_CONFIG_H

#include "batch/batch.h"
#include "shared/opt.h"

/* Indexes of lambda-batch's own entries in its option table (main.c),
 * which follow OPT_COMMON in this order. */
enum { CONFIG_UNTIL = OPT_NCOMMON, CONFIG_FROM, CONFIG_THREADS,
    CONFIG_REJECTS, CONFIG_DRY_RUN, CONFIG_NO_PROGRESS };

/*
 * Parse argv against opts (flags over environment over the pipeline file),
 * load and override the pipeline, check --until/--from (RFC 3339 or epoch
 * seconds, aligned to pipeline_cutoff_unit()), --threads, and expand the
 * inputs (operands, else batch.inputs) into b. Sets up logging.
 * Exits 0 after --help, --version or --check-config ("configuration OK");
 * exits 2 with a one-line message on a usage error (plus "Try
 * 'lambda-batch --help'"), a bad pipeline or a missing input.
 */
void config_load(struct batch *b, const struct opt *opts,
    const char *synopsis, int argc, char **argv);

#endif
