/* prog_test.c -- unit tests for shared/prog.c: one wording for every error */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "shared/pipeline.h"
#include "shared/prog.h"
#include "tests/test.h"

static const struct opt opts[] = {
    OPT_COMMON,
    {"partitions", 0, "N", "speed.partitions", "partitions to create", 0},
    {NULL, 0, NULL, NULL, NULL, 0}
};

static const struct opt tool[] = {
    OPT_TOOL_COMMON,
    {NULL, 0, NULL, NULL, NULL, 0}
};

/* One run of the prologue, what it said on each stream, and its status. */
struct said {
    char *out, *err;
    int   rc;
};

static void
said_free(struct said *s)
{
    free(s->out);
    free(s->err);
}

static char shop[512];

/* Run prog_begin() (then prog_ready() when it says go on) over args. */
static struct said
begin(struct prog *pg, int nargs, const char *const *args)
{
    struct said s = {NULL, NULL, 0};
    size_t olen = 0, elen = 0;
    char *argv[16] = {(char *)pg->name};
    int argc = 1;

    for (int i = 0; i < nargs && argc < 15; i++)
        argv[argc++] = strcmp(args[i], "SHOP") == 0 ? shop : (char *)args[i];
    argv[argc] = NULL;
    pg->out = open_memstream(&s.out, &olen);
    pg->errout = open_memstream(&s.err, &elen);
    s.rc = prog_begin(pg, argc, argv);
    if (s.rc == PROG_RUN)
        s.rc = prog_ready(pg);
    fclose(pg->out);
    fclose(pg->errout);
    pg->out = pg->errout = NULL;
    return s;
}

static void
test_prog_usage_errors(void)
{
    static const struct {
        const char *args[4];
        int         nargs;
        const char *err;        /* the line before "Try ..." */
    } cases[] = {
        {{"--bogus"}, 1, "unknown option --bogus"},
        {{"-c"}, 1, "option -c needs an argument"},
        {{"-c", "SHOP", "extra"}, 3, "unexpected argument \"extra\""},
        {{NULL}, 0, "no pipeline file: give -c FILE or set LAMBDA_CONFIG"},
        {{"-c", "SHOP", "--log-level", "loud"}, 4,
            "--log-level loud: expected debug, info, warn or error"},
        {{"-c", "SHOP", "--partitions", "0"}, 4,
            "--partitions: expected an integer from 1 to 10000, got \"0\""},
    };
    char want[512];

    unsetenv("LAMBDA_CONFIG");
    unsetenv("LAMBDA_LOG_LEVEL");
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct prog pg = {.name = "lambda-x", .synopsis = "-c FILE",
            .opts = opts};
        struct said s = begin(&pg, cases[i].nargs, cases[i].args);

        snprintf(want, sizeof(want), "lambda-x: %s\nTry 'lambda-x --help' "
            "for more information.\n", cases[i].err);
        CHECK(s.rc == 2);
        CHECK_STREQ(s.err, want);
        CHECK_STREQ(s.out, "");
        CHECK(pg.p == NULL);
        said_free(&s);
    }
    /* the variable is named when the value came from it */
    {
        struct prog pg = {.name = "lambda-x", .synopsis = "", .opts = opts};
        const char *args[] = {"-c", "SHOP"};
        struct said s;

        setenv("LAMBDA_LOG_LEVEL", "loud", 1);
        s = begin(&pg, 2, args);
        unsetenv("LAMBDA_LOG_LEVEL");
        CHECK(s.rc == 2);
        CHECK(s.err != NULL && strncmp(s.err, "lambda-x: LAMBDA_LOG_LEVEL "
            "loud: expected", 36) == 0);
        said_free(&s);
    }
    /* the store's map size is configuration too: 2 at start, not 1 when
     * the store fails to open */
    {
        struct prog pg = {.name = "lambda-x", .synopsis = "", .opts = opts};
        const char *args[] = {"-c", "SHOP", "--check-config"};
        struct said s;

        setenv("LAMBDA_MAP_SIZE", "64Q", 1);
        s = begin(&pg, 3, args);
        CHECK(s.rc == 2);
        CHECK(s.err != NULL && strncmp(s.err, "lambda-x: LAMBDA_MAP_SIZE "
            "\"64Q\": expected a size", 42) == 0);
        CHECK(pg.p == NULL);
        said_free(&s);
        setenv("LAMBDA_MAP_SIZE", "64M", 1);
        s = begin(&pg, 3, args);
        unsetenv("LAMBDA_MAP_SIZE");
        CHECK(s.rc == 0);
        said_free(&s);
        prog_end(&pg);
    }
}

static void
test_prog_config_error(void)
{
    struct prog pg = {.name = "lambda-x", .synopsis = "", .opts = opts};
    const char *args[] = {"-c", "/nonexistent/shop.json"};
    struct said s = begin(&pg, 2, args);

    /* no hint: the file is wrong, not the command line */
    CHECK(s.rc == 2);
    CHECK(s.err != NULL && strncmp(s.err, "lambda-x: /nonexistent/shop.json",
        32) == 0);
    CHECK(s.err != NULL && strstr(s.err, "Try ") == NULL);
    CHECK(pg.p == NULL);
    said_free(&s);
}

static void
test_prog_help_version(void)
{
    struct prog pg = {.name = "lambda-x", .synopsis = "-c FILE [--once]",
        .opts = opts};
    const char *help[] = {"--help"};
    const char *version[] = {"-V"};
    struct said s;

    s = begin(&pg, 1, help);
    CHECK(s.rc == 0);
    CHECK(s.out != NULL && strncmp(s.out, "usage: lambda-x -c FILE [--once]\n",
        33) == 0);
    CHECK_STREQ(s.err, "");
    said_free(&s);

    s = begin(&pg, 1, version);
    CHECK(s.rc == 0);
    CHECK_STREQ(s.out, "lambda-x " LAMBDAKIT_VERSION "\n");
    said_free(&s);

    pg.lib = "librdkafka";
    pg.lib_version = "9.9.9";
    s = begin(&pg, 1, version);
    CHECK_STREQ(s.out, "lambda-x " LAMBDAKIT_VERSION " (librdkafka 9.9.9)\n");
    said_free(&s);
}

static void
test_prog_run(void)
{
    struct prog pg = {.name = "lambda-x", .synopsis = "", .opts = opts,
        .flags = PROG_OPERANDS};
    const char *args[] = {"-c", "SHOP", "--store", "flagstore", "in1"};
    const char *check[] = {"SHOP", "--check-config"};
    struct prog t = {.name = "lambda-tool", .synopsis = "", .opts = tool,
        .flags = PROG_CONFIG_OPTIONAL};
    struct said s;

    s = begin(&pg, 5, args);
    CHECK(s.rc == PROG_RUN);
    CHECK(pg.p != NULL && strcmp(pg.p->store, "flagstore") == 0);
    CHECK(pg.res.argi == 5);
    CHECK_STREQ(prog_val(&pg, "store"), "flagstore");
    CHECK(prog_val(&pg, "nope") == NULL);
    CHECK(!prog_on(&pg, "check-config"));
    CHECK_STREQ(s.out, "");
    CHECK_STREQ(s.err, "");
    said_free(&s);
    prog_end(&pg);
    CHECK(pg.p == NULL);
    prog_end(&pg);

    setenv("LAMBDA_CONFIG", shop, 1);
    s = begin(&pg, 1, check + 1);
    unsetenv("LAMBDA_CONFIG");
    CHECK(s.rc == 0);
    CHECK_STREQ(s.out, "configuration OK\n");
    CHECK(pg.p != NULL);
    said_free(&s);
    prog_end(&pg);

    /* a tool runs without a pipeline */
    s = begin(&t, 0, NULL);
    CHECK(s.rc == PROG_RUN && t.p == NULL);
    said_free(&s);
    prog_end(&t);
}

int
main(void)
{
    const char *top = getenv("LAMBDA_TOP");

    snprintf(shop, sizeof(shop), "%s/tests/fixtures/shop.json",
        top != NULL ? top : ".");
    RUN(test_prog_usage_errors);
    RUN(test_prog_config_error);
    RUN(test_prog_help_version);
    RUN(test_prog_run);
    return test_report();
}
