/* prog.h -- the prologue of every lambdakit program: one wording per error */
#ifndef SHARED_PROG_H
#define SHARED_PROG_H

#include <stdio.h>

#include "shared/log.h"
#include "shared/opt.h"
#include "shared/pipeline.h"

/*
 * All five programs (lambda-batch, lambda-speed, lambda-serving,
 * lambda-produce, lambda-devbroker) start the same way, so their main()s
 * read as the same table of contents:
 *
 *     options    prog_begin(): parse argv and the environment (opt.h),
 *                answer --help and --version, check the operands and the
 *                log level, load the pipeline (-c/--config or
 *                LAMBDA_CONFIG) and apply the overrides: flags over
 *                environment over the file; check LAMBDA_MAP_SIZE
 *     pipeline   the program's own checks, reported with prog_usage() or
 *                prog_error(); then prog_ready() answers --check-config or
 *                starts logging
 *     resources, signals (sig.h), run, shutdown, and prog_end()
 *
 * One wording for each error, always on stderr, before logging starts:
 *
 *   usage error (an unknown or malformed option, an operand too many, a bad
 *   flag or variable value, no pipeline), exit 2:
 *       lambda-speed: unknown option --bogus
 *       Try 'lambda-speed --help' for more information.
 *   no pipeline, the same usage error everywhere:
 *       lambda-speed: no pipeline file: give -c FILE or set LAMBDA_CONFIG
 *       Try 'lambda-speed --help' for more information.
 *   configuration error (the pipeline file, or a value the program refuses
 *   once it is loaded), exit 2:
 *       lambda-speed: shop.json: views.v.metrics.r: unknown field "amout"
 *
 * --help prints the usage on stdout and exits 0; --version prints
 * "lambda-speed 0.1.0" (plus "(librdkafka 2.0.2)" when it links librdkafka)
 * and exits 0;
 * --check-config prints "configuration OK" and exits 0 after the program's
 * own checks. The prologue writes only to pg->out and pg->errout and never
 * exits: each step returns PROG_RUN to go on, or the exit status that main()
 * returns after freeing what it holds.
 */

#define PROG_RUN (-1)           /* go on; any other return is an exit status */

/* struct prog flags */
#define PROG_OPERANDS       0x1 /* operands allowed (INPUT..., FILE...) */
#define PROG_CONFIG_OPTIONAL 0x2 /* runs without a pipeline (the tools) */

struct prog {
    /* set by the program */
    const char       *name;         /* "lambda-speed", also the log's name */
    const char       *synopsis;     /* after "usage: NAME "; "\n" between
                                       forms (opt_usage()) */
    const char       *about;        /* --help paragraph, or NULL */
    const struct opt *opts;         /* OPT_COMMON or OPT_TOOL_COMMON first */
    int               flags;        /* PROG_OPERANDS, PROG_CONFIG_OPTIONAL */
    const char       *lib;          /* a library --version names after
                                       "NAME 0.1.0", or NULL ... */
    const char       *lib_version;  /* ... and its version: "(librdkafka
                                       2.0.2)" */
    FILE             *out, *errout; /* stdout and stderr when NULL */
    /* set by prog_begin() */
    struct opt_result res;
    struct pipeline  *p;            /* owned; NULL if no -c and optional */
    enum log_level    level;
    int               check;        /* --check-config given */
};

/*
 * The options step (see above). Returns PROG_RUN with pg->res, pg->p and
 * pg->level set, or an exit status (0 after --help or --version, 2 after a
 * usage or configuration error, said on pg->errout). pg->p is NULL on any
 * return but PROG_RUN; prog_end() is harmless either way.
 */
int prog_begin(struct prog *pg, int argc, char **argv);

/*
 * Report a usage error: "NAME: message" and "Try 'NAME --help' for more
 * information." on pg->errout. Returns 2, the status to exit with.
 */
int prog_usage(const struct prog *pg, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Report a configuration error: "NAME: message" on pg->errout. Returns 2. */
int prog_error(const struct prog *pg, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/*
 * After the program's own checks: with --check-config, print "configuration
 * OK" on pg->out and return 0; else start logging (log_init() with the
 * program's name and level) and return PROG_RUN.
 */
int prog_ready(struct prog *pg);

/*
 * The value of the option with this long name (flag, else environment), or
 * NULL when unset or not in the table. Borrowed from argv or environ.
 */
const char *prog_val(const struct prog *pg, const char *name);

/* Nonzero when the switch with this long name is on (opt_on()). */
int prog_on(const struct prog *pg, const char *name);

/* Free the pipeline. pg itself stays the caller's. */
void prog_end(struct prog *pg);

#endif
