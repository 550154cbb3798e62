/* main.c -- lambda-serving: answer HTTP queries over the merged batch and speed views */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "serving/http.h"
#include "serving/serving.h"
#include "shared/log.h"
#include "shared/opt.h"
#include "shared/pipeline.h"

#define PROG "lambda-serving"
#define SYNOPSIS "-c FILE [--listen ADDR:PORT] [options]"

static const struct opt opts[] = {
    OPT_COMMON,
    {"listen", 0, "ADDR:PORT", "serving.listen",
        "address to listen on (127.0.0.1:8080; port 0 picks a free one)"},
    {"port-file", 0, "FILE", NULL,
        "write the bound port to FILE once listening"},
    {"threads", 0, "N", "serving.threads", "HTTP threads (2)"},
    {"max-connections", 0, "N", "serving.max_connections",
        "connections at once (1024)"},
    {"timeout", 0, "SECONDS", "serving.timeout",
        "time for a whole request, and idle time before a close (10)"},
    {"max-points", 0, "N", "serving.max_points",
        "most points a series answer may hold (10000)"},
    {"max-top", 0, "N", "serving.max_top", "largest n of top (1000)"},
    {"cors-origin", 0, "ORIGIN", "serving.cors_origin",
        "allow browsers from ORIGIN (\"*\" for any); CORS is off without"},
    {"token", 0, "TOKEN", "serving.token",
        "bearer token for /v1 (environment only: LAMBDA_TOKEN)"},
    {NULL, 0, NULL, NULL, NULL}
};
enum { OPT_LISTEN = OPT_NCOMMON, OPT_PORT_FILE, OPT_THREADS, OPT_MAXCONN,
    OPT_TIMEOUT, OPT_MAX_POINTS, OPT_MAX_TOP, OPT_CORS, OPT_TOKEN };

static void __attribute__((noreturn))
usage_error(const char *msg)
{
    fprintf(stderr, "%s: %s\nTry '%s --help' for more information.\n", PROG,
        msg, PROG);
    exit(2);
}

/* Write the port to path through a temporary file and rename(2), so a
 * reader never sees a partial number. */
static int
write_port_file(const char *path, int port)
{
    char tmp[4096];
    FILE *fp;

    if (snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= (int)sizeof(tmp) ||
        (fp = fopen(tmp, "w")) == NULL)
        return -1;
    fprintf(fp, "%d\n", port);
    if (fclose(fp) != 0 || rename(tmp, path) != 0)
        return -1;
    return 0;
}

/* Wait for a signal; meanwhile, once every 250 ms, retry opening the store
 * and cut connections past their request deadline. */
static int
wait_signal(struct serving *sv, const sigset_t *sigs)
{
    struct timespec tick = {0, 250 * 1000 * 1000};

    for (;;) {
        int sig = sigtimedwait(sigs, NULL, &tick);

        if (sig > 0)
            return sig;
        if (errno != EAGAIN && errno != EINTR)
            fatal("sigtimedwait");
        (void)serving_store_poll(sv);
        atomic_fetch_add(&sv->metrics.cut,
            (uint64_t)guard_sweep(&sv->guard));
    }
}

int
main(int argc, char **argv)
{
    static struct serving sv;
    struct opt_result o;
    enum log_level level = LOG_LEVEL_INFO;
    char err[ERR_LEN];
    sigset_t sigs;
    int sig;

    /* Options: flags over environment over the pipeline file. */
    if (opt_parse(opts, argc, argv, &o, err) != 0)
        usage_error(err);
    if (opt_on(&o, OPT_HELP)) {
        opt_usage(stdout, PROG, SYNOPSIS, opts);
        return 0;
    }
    if (opt_on(&o, OPT_VERSION)) {
        printf("%s %s\n", PROG, LAMBDAKIT_VERSION);
        return 0;
    }
    if (o.argi < argc)
        usage_error("no operands expected");
    if (o.val[OPT_LOG_LEVEL] != NULL &&
        log_level_parse(o.val[OPT_LOG_LEVEL], &level) != 0)
        usage_error("--log-level: expected debug, info, warn or error");
    if (o.from_flag[OPT_TOKEN])
        usage_error("--token: secrets are not taken from the command line; "
            "set LAMBDA_TOKEN or serving.token");
    if (o.val[OPT_CONFIG] == NULL)
        usage_error("no pipeline file: give -c FILE or set LAMBDA_CONFIG");

    /* Pipeline. */
    if (pipeline_load(&sv.p, o.val[OPT_CONFIG], err) != 0 ||
        opt_apply(opts, &o, sv.p, err) != 0) {
        fprintf(stderr, "%s: %s\n", PROG, err);
        return 2;
    }
    if (opt_on(&o, OPT_CHECK_CONFIG)) {
        printf("configuration OK\n");
        pipeline_free(sv.p);
        return 0;
    }
    log_init(PROG, level);

    /* Resources: the store may not exist yet; main retries every second. */
    metrics_init(&sv.metrics);
    guard_init(&sv.guard, (int64_t)sv.p->serving.timeout * 1000);
    cache_init(&sv.cache);
    atomic_init(&sv.store, NULL);
    if (pthread_mutex_init(&sv.errmu, NULL) != 0)
        fatalx("pthread_mutex_init failed");
    atomic_init(&sv.inflight, 0);
    atomic_init(&sv.running, 0);
    (void)serving_store_poll(&sv);

    /* Signals: blocked before the HTTP threads start, so they inherit the
     * mask and only main receives them, in sigtimedwait(). */
    sigemptyset(&sigs);
    sigaddset(&sigs, SIGTERM);
    sigaddset(&sigs, SIGINT);
    sigaddset(&sigs, SIGHUP);
    if (pthread_sigmask(SIG_BLOCK, &sigs, NULL) != 0)
        fatalx("pthread_sigmask failed");
    (void)signal(SIGPIPE, SIG_IGN);

    /* Run. */
    if (http_start(&sv, err) != 0)
        fatalx("%s", err);
    log_info("ready: listening on %s (pipeline %s, store %s, %d threads)",
        sv.url, sv.p->name, sv.p->store, sv.p->serving.threads);
    if (o.val[OPT_PORT_FILE] != NULL &&
        write_port_file(o.val[OPT_PORT_FILE], sv.port) != 0)
        fatal("port file %s", o.val[OPT_PORT_FILE]);
    sig = wait_signal(&sv, &sigs);

    /* Shutdown, in reverse order: a second SIGINT now exits at once. */
    log_info("%s: stopping; finishing the requests in flight",
        strsignal(sig));
    sigemptyset(&sigs);
    sigaddset(&sigs, SIGINT);
    (void)signal(SIGINT, SIG_DFL);
    (void)pthread_sigmask(SIG_UNBLOCK, &sigs, NULL);
    http_stop(&sv, sv.p->serving.timeout * 1000);
    cache_reset(&sv.cache);
    serving_store_close(&sv);
    guard_reset(&sv.guard);
    if (sv.p->serving.token != NULL)
        explicit_bzero(sv.p->serving.token, strlen(sv.p->serving.token));
    pipeline_free(sv.p);
    log_info("exiting");
    return 0;
}
