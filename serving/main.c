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
#include "shared/pipeline.h"
#include "shared/prog.h"
#include "shared/sig.h"

#define PROG "lambda-serving"
#define SYNOPSIS "-c FILE [--listen ADDR:PORT] [options]"

static const struct opt opts[] = {
    OPT_COMMON,
    {"listen", 0, "ADDR:PORT", "serving.listen",
        "address to listen on (127.0.0.1:8080; port 0 picks a free one)", 0},
    {"port-file", 0, "FILE", NULL,
        "write the bound port to FILE once listening", 0},
    {"threads", 0, "N", "serving.threads", "HTTP threads (2)", 0},
    {"max-connections", 0, "N", "serving.max_connections",
        "connections at once (1024)", 0},
    {"max-connections-per-ip", 0, "N", "serving.max_connections_per_ip",
        "connections at once from one address (64; 0: no limit)", 0},
    {"timeout", 0, "SECONDS", "serving.timeout",
        "idle time before a close (10); a request must arrive whole within "
        "5 s, or this if shorter", 0},
    {"max-points", 0, "N", "serving.max_points",
        "most points a series answer may hold (10000)", 0},
    {"max-top", 0, "N", "serving.max_top", "largest n of top (1000)", 0},
    {"cors-origin", 0, "ORIGIN", "serving.cors_origin",
        "let browsers on ORIGIN call the API (\"*\" for any); off by default",
        0},
    {"token", 0, "TOKEN", "serving.token",
        "bearer token for /v1 (environment only: LAMBDA_TOKEN)", 0},
    {"ready-max-lag", 0, "LAG", "serving.ready_max_lag",
        "/readyz: ready only with a batch version and speed at most LAG "
        "behind: records (1000) or a duration (30s); off by default", 0},
    {NULL, 0, NULL, NULL, NULL, 0}
};
enum { OPT_LISTEN = OPT_NCOMMON, OPT_PORT_FILE, OPT_THREADS, OPT_MAXCONN,
    OPT_MAXCONN_IP, OPT_TIMEOUT, OPT_MAX_POINTS, OPT_MAX_TOP, OPT_CORS,
    OPT_TOKEN, OPT_READY_MAX_LAG };

/* The token is a secret: from the file or the environment, never a flag
 * (STYLE.md §5). Returns PROG_RUN or 2. */
static int
configure(struct serving *sv, const struct prog *pg)
{
    if (pg->res.from_flag[OPT_TOKEN])
        return prog_usage(pg, "--token: secrets are not taken from the "
            "command line; set LAMBDA_TOKEN or serving.token");
    sv->p = pg->p;
    return PROG_RUN;
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
    struct prog pg = {.name = PROG, .synopsis = SYNOPSIS, .opts = opts};
    const char *port_file;
    char err[ERR_LEN];
    sigset_t sigs;
    int rc, sig;

    /* Options and pipeline: flags over environment over the file. */
    if ((rc = prog_begin(&pg, argc, argv)) != PROG_RUN ||
        (rc = configure(&sv, &pg)) != PROG_RUN ||
        (rc = prog_ready(&pg)) != PROG_RUN) {
        prog_end(&pg);
        return rc;
    }
    port_file = pg.res.val[OPT_PORT_FILE];

    /* Resources: the store may not exist yet; main retries every second. */
    metrics_init(&sv.metrics);
    guard_init(&sv.guard, (int64_t)sv.p->serving.timeout * 1000);
    cache_init(&sv.cache);
    viewdefs_init(&sv.defs);
    atomic_init(&sv.store, NULL);
    if (pthread_mutex_init(&sv.errmu, NULL) != 0)
        fatalx("pthread_mutex_init failed");
    atomic_init(&sv.inflight, 0);
    atomic_init(&sv.running, 0);
    (void)serving_store_poll(&sv);

    /* Signals: blocked before the HTTP threads start, so they inherit the
     * mask and only main receives them, in sigtimedwait(). */
    sig_install(PROG, NULL);
    if (sig_block(&sigs) != 0)
        fatal("pthread_sigmask");

    /* Run. */
    if (http_start(&sv, err) != 0)
        fatalx("%s", err);
    log_info("ready: listening on %s (pipeline %s, store %s, %d threads)",
        sv.url, sv.p->name, sv.p->store, sv.p->serving.threads);
    if (port_file != NULL && write_port_file(port_file, sv.port) != 0)
        fatal("port file %s", port_file);
    sig = wait_signal(&sv, &sigs);

    /* Shutdown, in reverse order: a second SIGINT now exits at once. */
    log_info("%s: stopping; finishing the requests in flight",
        strsignal(sig));
    sig_received(sig);
    http_stop(&sv, sv.p->serving.timeout * 1000);
    cache_reset(&sv.cache);
    viewdefs_reset(&sv.defs);
    serving_store_close(&sv);
    guard_reset(&sv.guard);
    if (sv.p->serving.token != NULL)
        explicit_bzero(sv.p->serving.token, strlen(sv.p->serving.token));
    prog_end(&pg);
    log_info("exiting");
    return 0;
}
