/* prog.c -- the prologue of every lambdakit program: one wording per error */
#include <stdarg.h>
#include <stdio.h>

#include "shared/err.h"
#include "shared/log.h"
#include "shared/opt.h"
#include "shared/pipeline.h"
#include "shared/prog.h"
#include "shared/store.h"

static FILE *
out_of(const struct prog *pg)
{
    return pg->out != NULL ? pg->out : stdout;
}

static FILE *
err_of(const struct prog *pg)
{
    return pg->errout != NULL ? pg->errout : stderr;
}

static void vsay(const struct prog *, int, const char *, va_list)
    __attribute__((format(printf, 3, 0)));

static void
vsay(const struct prog *pg, int hint, const char *fmt, va_list ap)
{
    FILE *fp = err_of(pg);

    fprintf(fp, "%s: ", pg->name);
    vfprintf(fp, fmt, ap);
    fputc('\n', fp);
    if (hint)
        fprintf(fp, "Try '%s --help' for more information.\n", pg->name);
    fflush(fp);
}

int
prog_usage(const struct prog *pg, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vsay(pg, 1, fmt, ap);
    va_end(ap);
    return 2;
}

int
prog_error(const struct prog *pg, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vsay(pg, 0, fmt, ap);
    va_end(ap);
    return 2;
}

const char *
prog_val(const struct prog *pg, const char *name)
{
    int i = opt_index(pg->opts, name);

    return i < 0 ? NULL : pg->res.val[i];
}

int
prog_on(const struct prog *pg, const char *name)
{
    return opt_on(&pg->res, opt_index(pg->opts, name));
}

int
prog_begin(struct prog *pg, int argc, char **argv)
{
    const char *config, *level;
    char err[ERR_LEN], who[64];
    int i;

    pg->p = NULL;
    pg->level = LOG_LEVEL_INFO;
    if (opt_parse(pg->opts, argc, argv, &pg->res, err) != 0)
        return prog_usage(pg, "%s", err);
    if (prog_on(pg, "help")) {
        opt_usage(out_of(pg), pg->name, pg->synopsis, pg->about, pg->opts);
        return 0;
    }
    if (prog_on(pg, "version")) {
        if (pg->lib != NULL)
            fprintf(out_of(pg), "%s %s (%s %s)\n", pg->name,
                LAMBDAKIT_VERSION, pg->lib, pg->lib_version);
        else
            fprintf(out_of(pg), "%s %s\n", pg->name, LAMBDAKIT_VERSION);
        return 0;
    }
    if (pg->res.argi < argc && (pg->flags & PROG_OPERANDS) == 0)
        return prog_usage(pg, "unexpected argument \"%s\"",
            argv[pg->res.argi]);
    if ((level = prog_val(pg, "log-level")) != NULL &&
        log_level_parse(level, &pg->level) != 0) {
        i = opt_index(pg->opts, "log-level");
        return prog_usage(pg, "%s %s: expected debug, info, warn or error",
            opt_source(pg->opts, &pg->res, i, who, sizeof(who)), level);
    }
    pg->check = prog_on(pg, "check-config");
    if ((config = prog_val(pg, "config")) == NULL) {
        if ((pg->flags & PROG_CONFIG_OPTIONAL) != 0)
            return PROG_RUN;
        return prog_usage(pg,
            "no pipeline file: give -c FILE or set LAMBDA_CONFIG");
    }
    if (pipeline_load(&pg->p, config, err) != 0)
        return prog_error(pg, "%s", err);
    if (opt_apply(pg->opts, &pg->res, pg->p, err) != 0 ||
        store_map_size_check(err) != 0) {
        prog_end(pg);
        return prog_usage(pg, "%s", err);
    }
    return PROG_RUN;
}

int
prog_ready(struct prog *pg)
{
    if (pg->check) {
        fprintf(out_of(pg), "configuration OK\n");
        fflush(out_of(pg));
        return 0;
    }
    log_init(pg->name, pg->level);
    return PROG_RUN;
}

void
prog_end(struct prog *pg)
{
    pipeline_free(pg->p);
    pg->p = NULL;
}
