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
 *         {"brokers", 0, "LIST", "speed.brokers", "Kafka bootstrap servers",
 *             0},
 *         {"once", 0, NULL, NULL, "process what is in the topic now", 0},
 *         {NULL, 0, NULL, NULL, NULL, 0}
 *     };
 *
 * Precedence: a flag overrides its environment variable, which overrides the
 * pipeline file. The variable's name derives from the long name:
 * --log-level -> LAMBDA_LOG_LEVEL, --config -> LAMBDA_CONFIG. An empty
 * variable counts as unset. Switches (arg == NULL) read "1" when given; their
 * variable counts when set to anything but "0" or "false". --help, --version
 * and the entries marked OPT_NOENV or OPT_MULTI have no variable.
 */

#define OPT_MAX 48
#define OPT_MULTI_MAX 64        /* values of repeatable options, all told */

/* struct opt flags */
#define OPT_NOENV 0x1   /* no environment variable (a tool's own option) */
#define OPT_MULTI 0x2   /* repeatable: every value is kept (opt_result.multi) */

struct opt {
    const char *name;       /* long name without dashes; NULL ends the table */
    int         shortname;  /* 'c', or 0 for none */
    const char *arg;        /* metavar ("FILE"), or NULL for a switch */
    const char *key;        /* pipeline key it overrides (pipeline_set()), or NULL */
    const char *help;       /* one line; "\n" forces a break in --help */
    int         flags;      /* OPT_NOENV, OPT_MULTI, or 0 */
};

/* Options every program has, first in its table, at these indexes. */
enum { OPT_CONFIG, OPT_STORE, OPT_LOG_LEVEL, OPT_CHECK_CONFIG, OPT_HELP,
    OPT_VERSION, OPT_NCOMMON };
#define OPT_COMMON_CONFIG \
    {"config", 'c', "FILE", NULL, "pipeline file (env LAMBDA_CONFIG)", 0}
#define OPT_COMMON_STORE \
    {"store", 0, "DIR", "store", "store directory, overrides the pipeline's", 0}
#define OPT_COMMON_LOG_LEVEL \
    {"log-level", 0, "LEVEL", NULL, "debug, info (default), warn or error", 0}
#define OPT_COMMON_CHECK_CONFIG \
    {"check-config", 0, NULL, NULL, "validate the configuration and exit", 0}
#define OPT_COMMON_HELP \
    {"help", 'h', NULL, NULL, "show this help and exit", OPT_NOENV}
#define OPT_COMMON_VERSION \
    {"version", 'V', NULL, NULL, "show the version and exit", OPT_NOENV}
#define OPT_COMMON \
    OPT_COMMON_CONFIG, OPT_COMMON_STORE, OPT_COMMON_LOG_LEVEL, \
    OPT_COMMON_CHECK_CONFIG, OPT_COMMON_HELP, OPT_COMMON_VERSION

/* The tools (lambda-produce, lambda-devbroker) keep no store: the same
 * entries without --store, first in their tables. */
enum { OPT_TOOL_NCOMMON = OPT_NCOMMON - 1 };
#define OPT_TOOL_COMMON \
    OPT_COMMON_CONFIG, OPT_COMMON_LOG_LEVEL, OPT_COMMON_CHECK_CONFIG, \
    OPT_COMMON_HELP, OPT_COMMON_VERSION

struct opt_result {
    const char *val[OPT_MAX];   /* per table entry: value, or NULL if unset;
                                   borrowed from argv or the environment; for
                                   an OPT_MULTI entry, the last one given */
    int         from_flag[OPT_MAX]; /* 1 if the value came from a flag */
    const char *multi[OPT_MULTI_MAX];   /* OPT_MULTI values, in argv order */
    int         multi_of[OPT_MULTI_MAX];/* ... and the entry of each */
    int         nmulti;
    int         argi;           /* index of the first operand in argv */
};

/*
 * Parse argv against tab, then fill unset entries from the environment.
 * Returns 0, or -1 with a one-line err ("unknown option --foo",
 * "option --brokers needs an argument", "option --topic given more than 64
 * times").
 */
int opt_parse(const struct opt *tab, int argc, char **argv,
    struct opt_result *res, char *err);

/* Index of the entry with this long name, or -1. */
int opt_index(const struct opt *tab, const char *name);

/* Nonzero when switch i was given (flag, or env set to other than "0"/"false"). */
int opt_on(const struct opt_result *res, int i);

/*
 * How the user gave entry i, for a message about its value: "--until" for a
 * flag, "LAMBDA_UNTIL" for the variable. Writes into buf and returns it.
 */
const char *opt_source(const struct opt *tab, const struct opt_result *res,
    int i, char *buf, size_t size);

/*
 * Apply every entry that has a pipeline key and a value to p with
 * pipeline_set(). Returns 0, or -1 with err naming the flag or variable.
 */
int opt_apply(const struct opt *tab, const struct opt_result *res,
    struct pipeline *p, char *err);

/*
 * Print --help to fp: "usage: PROG SYNOPSIS" (a "\n" in synopsis starts
 * another form, "       PROG ..."), the about paragraph if not NULL, and
 * the option list with help texts and environment names. Lines are wrapped
 * to 79 columns: a synopsis between its bracketed groups, a help text
 * between words.
 */
void opt_usage(FILE *fp, const char *prog, const char *synopsis,
    const char *about, const struct opt *tab);

/* The version string of lambdakit ("0.1.0"). */
#define LAMBDAKIT_VERSION "0.1.0"

#endif
