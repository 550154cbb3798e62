/* opt_test.c -- unit tests for shared/opt.c: flags, environment, precedence, usage */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "shared/err.h"
#include "shared/opt.h"
#include "shared/pipeline.h"
#include "tests/test.h"

static const struct opt opts[] = {
    OPT_COMMON,
    {"brokers", 'b', "LIST", "speed.brokers", "Kafka bootstrap servers", 0},
    {"partitions", 0, "N", "speed.partitions", "partitions to create", 0},
    {"once", 0, NULL, NULL, "process what is in the topic now, then exit", 0},
    {NULL, 0, NULL, NULL, NULL, 0}
};

enum { I_BROKERS = OPT_NCOMMON, I_PARTITIONS, I_ONCE };

static void
clear_env(void)
{
    static const char *const vars[] = {"LAMBDA_CONFIG", "LAMBDA_STORE",
        "LAMBDA_LOG_LEVEL", "LAMBDA_CHECK_CONFIG", "LAMBDA_HELP",
        "LAMBDA_VERSION", "LAMBDA_BROKERS", "LAMBDA_PARTITIONS",
        "LAMBDA_ONCE"};

    for (size_t i = 0; i < sizeof(vars) / sizeof(vars[0]); i++)
        unsetenv(vars[i]);
}

static struct pipeline *
load_shop(void)
{
    const char *top = getenv("LAMBDA_TOP");
    char path[512], err[ERR_LEN];
    struct pipeline *p = NULL;

    snprintf(path, sizeof(path), "%s/tests/fixtures/shop.json",
        top != NULL ? top : ".");
    if (pipeline_load(&p, path, err) != 0)
        printf("cannot load fixture: %s\n", err);
    return p;
}

static void
test_opt_flags(void)
{
    char *argv[] = {"prog", "-c", "a.json", "in1", "--store=/st", "--once",
        "-bk1:9092", "--log-level", "debug", "--", "--not-an-option", NULL};
    int argc = 11;
    struct opt_result res;
    char err[ERR_LEN] = "";

    clear_env();
    CHECK(opt_parse(opts, argc, argv, &res, err) == 0);
    CHECK_STREQ(err, "");
    CHECK_STREQ(res.val[OPT_CONFIG], "a.json");
    CHECK(res.from_flag[OPT_CONFIG] == 1);
    CHECK_STREQ(res.val[OPT_STORE], "/st");
    CHECK_STREQ(res.val[OPT_LOG_LEVEL], "debug");
    CHECK_STREQ(res.val[I_BROKERS], "k1:9092");
    CHECK(opt_on(&res, I_ONCE));
    CHECK(!opt_on(&res, OPT_HELP) && !opt_on(&res, OPT_CHECK_CONFIG));
    CHECK(res.val[I_PARTITIONS] == NULL && res.from_flag[I_PARTITIONS] == 0);
    /* operands are moved after the options */
    CHECK(res.argi == 9);
    CHECK_STREQ(argv[res.argi], "in1");
    CHECK_STREQ(argv[res.argi + 1], "--not-an-option");
    CHECK(opt_index(opts, "once") == I_ONCE);
    CHECK(opt_index(opts, "config") == OPT_CONFIG);
    CHECK(opt_index(opts, "nope") == -1);

    /* parsing again starts afresh */
    {
        char *argv2[] = {"prog", "-h", "-V", NULL};
        CHECK(opt_parse(opts, 3, argv2, &res, err) == 0);
        CHECK(opt_on(&res, OPT_HELP) && opt_on(&res, OPT_VERSION));
        CHECK(res.val[OPT_CONFIG] == NULL && !opt_on(&res, I_ONCE));
        CHECK(res.argi == 3);
    }
}

static void
test_opt_errors(void)
{
    static const struct {
        const char *args[4];
        const char *err;
    } cases[] = {
        {{"--foo"}, "unknown option --foo"},
        {{"--foo=1"}, "unknown option --foo"},
        {{"-x"}, "unknown option -x"},
        {{"--once", "-q"}, "unknown option -q"},
        {{"--brokers"}, "option --brokers needs an argument"},
        {{"-c"}, "option -c needs an argument"},
        {{"--once=yes"}, "option --once takes no argument"},
        {{"--help=1"}, "option --help takes no argument"},
        {{"--c"}, "option --c is ambiguous"},
    };
    struct opt_result res;
    char err[ERR_LEN];

    clear_env();
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char *argv[6] = {"prog"};
        int argc = 1;
        for (int j = 0; j < 4 && cases[i].args[j] != NULL; j++)
            argv[argc++] = (char *)cases[i].args[j];
        argv[argc] = NULL;
        err[0] = '\0';
        CHECK(opt_parse(opts, argc, argv, &res, err) == -1);
        CHECK_STREQ(err, cases[i].err);
    }
}

static void
test_opt_env(void)
{
    static const struct {
        const char *once;       /* LAMBDA_ONCE */
        int         on;
    } sw[] = {
        {"1", 1}, {"yes", 1}, {"true", 1}, {"0", 0}, {"false", 0}, {"", 0},
    };
    char *argv[] = {"prog", NULL};
    struct opt_result res;
    char err[ERR_LEN];

    clear_env();
    setenv("LAMBDA_CONFIG", "env.json", 1);
    setenv("LAMBDA_LOG_LEVEL", "", 1);      /* empty counts as unset */
    setenv("LAMBDA_HELP", "1", 1);          /* help and version have none */
    setenv("LAMBDA_VERSION", "2.0", 1);
    CHECK(opt_parse(opts, 1, argv, &res, err) == 0);
    CHECK_STREQ(res.val[OPT_CONFIG], "env.json");
    CHECK(res.from_flag[OPT_CONFIG] == 0);
    CHECK(res.val[OPT_LOG_LEVEL] == NULL);
    CHECK(!opt_on(&res, OPT_HELP) && !opt_on(&res, OPT_VERSION));
    CHECK(res.argi == 1);

    for (size_t i = 0; i < sizeof(sw) / sizeof(sw[0]); i++) {
        setenv("LAMBDA_ONCE", sw[i].once, 1);
        CHECK(opt_parse(opts, 1, argv, &res, err) == 0);
        CHECK(opt_on(&res, I_ONCE) == sw[i].on);
    }
    clear_env();
}

static void
test_opt_precedence(void)
{
    struct pipeline *p;
    struct opt_result res;
    char err[ERR_LEN];
    char *none[] = {"prog", NULL};
    char *flag[] = {"prog", "--store", "flagstore", "--partitions", "9", NULL};

    clear_env();
    /* file */
    if ((p = load_shop()) == NULL) {
        CHECK(0);
        return;
    }
    CHECK(opt_parse(opts, 1, none, &res, err) == 0);
    CHECK(opt_apply(opts, &res, p, err) == 0);
    CHECK_STREQ(p->store, "var/shop");
    CHECK(p->speed.partitions == 4);
    pipeline_free(p);

    /* env over file */
    setenv("LAMBDA_STORE", "envstore", 1);
    setenv("LAMBDA_PARTITIONS", "6", 1);
    p = load_shop();
    CHECK(opt_parse(opts, 1, none, &res, err) == 0);
    CHECK(opt_apply(opts, &res, p, err) == 0);
    CHECK_STREQ(p->store, "envstore");
    CHECK_STREQ(p->batch.rejects, "envstore/rejects/batch.jsonl");
    CHECK(p->speed.partitions == 6);
    pipeline_free(p);

    /* flag over env */
    p = load_shop();
    CHECK(opt_parse(opts, 5, flag, &res, err) == 0);
    CHECK(opt_apply(opts, &res, p, err) == 0);
    CHECK_STREQ(p->store, "flagstore");
    CHECK(p->speed.partitions == 9);
    pipeline_free(p);

    /* a bad value names the flag or the variable */
    {
        char *bad[] = {"prog", "--partitions", "many", NULL};
        p = load_shop();
        CHECK(opt_parse(opts, 3, bad, &res, err) == 0);
        CHECK(opt_apply(opts, &res, p, err) == -1);
        CHECK_STREQ(err, "--partitions: expected an integer from 1 to 10000, "
            "got \"many\"");
        setenv("LAMBDA_PARTITIONS", "0", 1);
        CHECK(opt_parse(opts, 1, none, &res, err) == 0);
        CHECK(opt_apply(opts, &res, p, err) == -1);
        CHECK_STREQ(err, "LAMBDA_PARTITIONS: expected an integer from 1 to "
            "10000, got \"0\"");
        pipeline_free(p);
    }
    clear_env();
}

/* What opt_usage() prints, in a string to free(), or NULL. */
static char *
usage_text(const char *prog, const char *synopsis, const char *about,
    const struct opt *tab)
{
    char *text = NULL;
    size_t len = 0;
    FILE *fp = open_memstream(&text, &len);

    if (fp == NULL)
        return NULL;
    opt_usage(fp, prog, synopsis, about, tab);
    fclose(fp);
    return text;
}

static void
test_opt_usage(void)
{
    static const char want[] =
        "usage: lambda-speed [OPTION]...\n"
        "\n"
        "options:\n"
        "  -c, --config FILE      pipeline file (env LAMBDA_CONFIG)\n"
        "      --store DIR        store directory, overrides the pipeline's\n"
        "                         (env LAMBDA_STORE)\n"
        "      --log-level LEVEL  debug, info (default), warn or error\n"
        "                         (env LAMBDA_LOG_LEVEL)\n"
        "      --check-config     validate the configuration and exit\n"
        "                         (env LAMBDA_CHECK_CONFIG)\n"
        "  -h, --help             show this help and exit\n"
        "  -V, --version          show the version and exit\n"
        "  -b, --brokers LIST     Kafka bootstrap servers (env LAMBDA_BROKERS)\n"
        "      --partitions N     partitions to create (env LAMBDA_PARTITIONS)\n"
        "      --once             process what is in the topic now, then exit\n"
        "                         (env LAMBDA_ONCE)\n"
        "\n"
        "Flags override environment variables, which override the pipeline "
        "file.\n";
    char *text = usage_text("lambda-speed", "[OPTION]...", NULL, opts);

    CHECK_STREQ(text, want);
    if (text != NULL && strcmp(text, want) != 0)
        printf("%s", text);
    free(text);
}

/* a tool's table: no --store, its own options without variables */
static const struct opt tool[] = {
    OPT_TOOL_COMMON,
    {"topic", 't', "NAME", NULL, "create a topic; repeatable", OPT_MULTI},
    {"brokers", 'b', "N", NULL, "number of brokers", OPT_NOENV},
    {"rate", 0, "N", NULL, "events per second", 0},
    {"control", 0, "FIFO", NULL, "read commands:\ndown | up", OPT_NOENV},
    {NULL, 0, NULL, NULL, NULL, 0}
};
enum { T_TOPIC = OPT_TOOL_NCOMMON, T_BROKERS, T_RATE, T_CONTROL };

static void
test_opt_multi_noenv(void)
{
    char *argv[] = {"prog", "-t", "a", "--topic=b:3", "-tc", NULL};
    char *many[OPT_MULTI_MAX + 3] = {"prog"};
    struct opt_result res;
    char err[ERR_LEN], who[64];

    clear_env();
    setenv("LAMBDA_TOPIC", "env", 1);       /* repeatable: no variable */
    setenv("LAMBDA_BROKERS", "k:9092", 1);  /* OPT_NOENV: not read */
    setenv("LAMBDA_RATE", "5", 1);
    CHECK(opt_index(tool, "config") == OPT_CONFIG);
    CHECK(opt_index(tool, "log-level") == OPT_LOG_LEVEL - 1);
    CHECK(opt_parse(tool, 5, argv, &res, err) == 0);
    CHECK(res.nmulti == 3);
    CHECK_STREQ(res.multi[0], "a");
    CHECK_STREQ(res.multi[1], "b:3");
    CHECK_STREQ(res.multi[2], "c");
    CHECK(res.multi_of[0] == T_TOPIC && res.multi_of[2] == T_TOPIC);
    CHECK_STREQ(res.val[T_TOPIC], "c");
    CHECK(res.val[T_BROKERS] == NULL);
    CHECK_STREQ(res.val[T_RATE], "5");
    CHECK_STREQ(opt_source(tool, &res, T_RATE, who, sizeof(who)),
        "LAMBDA_RATE");
    CHECK_STREQ(opt_source(tool, &res, T_TOPIC, who, sizeof(who)), "--topic");

    for (int i = 1; i <= OPT_MULTI_MAX + 1; i++)
        many[i] = "-tx";
    CHECK(opt_parse(tool, OPT_MULTI_MAX + 2, many, &res, err) == -1);
    CHECK_STREQ(err, "option --topic given more than 64 times");
    clear_env();
    unsetenv("LAMBDA_TOPIC");
    unsetenv("LAMBDA_RATE");
}

/* --help: every line within 79 columns; a synopsis wraps between its
 * bracketed words, a help text between words, "\n" breaks */
static void
test_opt_usage_wrap(void)
{
    static const char head[] =
        "usage: lambda-devbroker [-c FILE] [-t NAME[:PARTS]]... [-b N] "
        "[--control FIFO]\n"
        "                        [--rate N] [options]\n"
        "       lambda-devbroker --version\n"
        "\n"
        "A development broker, not for production: it runs until SIGTERM "
        "or SIGINT and\n"
        "prints its address.\n"
        "\n"
        "options:\n"
        "  -c, --config FILE      pipeline file (env LAMBDA_CONFIG)\n";
    static const char *const lines[] = {
        "\n  -t, --topic NAME       create a topic; repeatable\n",
        "\n  -b, --brokers N        number of brokers\n",
        "\n      --rate N           events per second (env LAMBDA_RATE)\n",
        "\n      --control FIFO     read commands:\n"
        "                         down | up\n",
    };
    char *text = usage_text("lambda-devbroker", "[-c FILE] "
        "[-t NAME[:PARTS]]... [-b N] [--control FIFO] [--rate N] "
        "[options]\n--version",
        "A development broker, not for production: it runs until SIGTERM or "
        "SIGINT and prints its address.", tool);
    size_t n;

    if (text == NULL) {
        CHECK(0);
        return;
    }
    CHECK(strncmp(text, head, sizeof(head) - 1) == 0);
    for (size_t i = 0; i < sizeof(lines) / sizeof(lines[0]); i++)
        CHECK(strstr(text, lines[i]) != NULL);
    CHECK(strstr(text, "--store") == NULL);
    CHECK(strstr(text, "LAMBDA_TOPIC") == NULL);
    CHECK(strstr(text, "LAMBDA_BROKERS") == NULL);
    for (const char *p = text; *p != '\0'; p += n + (p[n] == '\n')) {
        n = strcspn(p, "\n");
        CHECK(n <= 79);
    }
    if (strncmp(text, head, sizeof(head) - 1) != 0)
        printf("%s", text);
    free(text);
}

int
main(void)
{
    RUN(test_opt_flags);
    RUN(test_opt_errors);
    RUN(test_opt_env);
    RUN(test_opt_precedence);
    RUN(test_opt_usage);
    RUN(test_opt_multi_noenv);
    RUN(test_opt_usage_wrap);
    return test_report();
}
