/* opt.h -- one option table per program drives getopt_long, env, overrides and --help */
#ifndef SHARED_OPT_H
#define SHARED_OPT_H

#include <stdio.h>

#include "shared/pipeline.h"

/*
 * Each program declares its options once (redis's static_configs[]):
 *
 *     static const struct opt opts[] = {
 *         OPT_COMMON,
 *         {"brokers", 0, "LIST", "speed.brokers", "Kafka bootstrap servers"},
 *         {"once", 0, NULL, NULL, "process what is in the topic now, then exit"},
 *         {NULL, 0, NULL, NULL, NULL}
 *     };
 *
 * Precedence: a flag overrides its environment variable, which overrides the
 * pipeline file. The variable's name derives from the long name:
 * --log-level -> LAMBDA_LOG_LEVEL, --config -> LAMBDA_CONFIG. An empty
 * variable counts as unset. Switches (arg == NULL) read "1" when given; their
 * variable counts when set to anything but "0" or "false".
 */

#define OPT_MAX 48

struct opt {
    const char *name;       /* long name without dashes; NULL ends the table */
    int         shortname;  /* 'c', or 0 for none */
    const char *arg;        /* metavar ("FILE"), or NULL for a switch */
    const char *key;        /* pipeline key it overrides (pipeline_set()), or NULL */
    const char *help;
};

/* Options every program has, first in its table, at these indexes. */
enum { OPT_CONFIG, OPT_STORE, OPT_LOG_LEVEL, OPT_CHECK_CONFIG, OPT_HELP,
    OPT_VERSION, OPT_NCOMMON };
#define OPT_COMMON \
    {"config", 'c', "FILE", NULL, "pipeline file (env LAMBDA_CONFIG)"}, \
    {"store", 0, "DIR", "store", "store directory, overrides the pipeline's"}, \
    {"log-level", 0, "LEVEL", NULL, "debug, info (default), warn or error"}, \
    {"check-config", 0, NULL, NULL, "validate the configuration and exit"}, \
    {"help", 'h', NULL, NULL, "show this help and exit"}, \
    {"version", 'V', NULL, NULL, "show the version and exit"}

struct opt_result {
    const char *val[OPT_MAX];   /* per table entry: value, or NULL if unset;
                                   borrowed from argv or the environment */
    int         from_flag[OPT_MAX]; /* 1 if the value came from a flag */
    int         argi;           /* index of the first operand in argv */
};

/*
 * Parse argv against tab, then fill unset entries from the environment.
 * Returns 0, or -1 with a one-line err ("unknown option --foo",
 * "option --brokers needs an argument").
 */
int opt_parse(const struct opt *tab, int argc, char **argv,
    struct opt_result *res, char *err);

/* Index of the entry with this long name, or -1. */
int opt_index(const struct opt *tab, const char *name);

/* Nonzero when switch i was given (flag, or env set to other than "0"/"false"). */
int opt_on(const struct opt_result *res, int i);

/*
 * Apply every entry that has a pipeline key and a value to p with
 * pipeline_set(). Returns 0, or -1 with err naming the flag or variable.
 */
int opt_apply(const struct opt *tab, const struct opt_result *res,
    struct pipeline *p, char *err);

/* Print "usage: PROG SYNOPSIS" and the option list with help texts and
 * environment names to fp. */
void opt_usage(FILE *fp, const char *prog, const char *synopsis,
    const struct opt *tab);

/* The version string of lambdakit ("0.1.0"). */
#define LAMBDAKIT_VERSION "0.1.0"

#endif
