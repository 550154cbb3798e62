/* sig.c -- the stop signals of a lambdakit program, one behaviour in all */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "shared/sig.h"

static volatile sig_atomic_t *sig_flag;
static volatile sig_atomic_t sig_got;   /* a stop was asked */
static char sig_again[128];             /* "PROG: interrupted again, ..." */
static size_t sig_againlen;

static void
on_signal(int sig)
{
    if (sig == SIGINT && sig_got != 0) {
        (void)!write(STDERR_FILENO, sig_again, sig_againlen);
        _exit(1);
    }
    sig_got = sig;
    if (sig_flag != NULL)
        *sig_flag = sig;
}

void
sig_install(const char *prog, volatile sig_atomic_t *flag)
{
    struct sigaction sa;
    int n;

    n = snprintf(sig_again, sizeof(sig_again),
        "%s: interrupted again, exiting now\n", prog);
    sig_againlen = n < 0 ? 0 : (size_t)n < sizeof(sig_again) ? (size_t)n :
        sizeof(sig_again) - 1;
    sig_flag = flag;
    memset(&sa, 0, sizeof(sa));
    sigemptyset(&sa.sa_mask);
    sa.sa_handler = on_signal;
    (void)sigaction(SIGTERM, &sa, NULL);
    (void)sigaction(SIGINT, &sa, NULL);
    (void)sigaction(SIGHUP, &sa, NULL);
    sa.sa_handler = SIG_IGN;
    (void)sigaction(SIGPIPE, &sa, NULL);
}

static void
stop_set(sigset_t *set)
{
    sigemptyset(set);
    sigaddset(set, SIGTERM);
    sigaddset(set, SIGINT);
    sigaddset(set, SIGHUP);
}

int
sig_block(sigset_t *set)
{
    int rc;

    stop_set(set);
    if ((rc = pthread_sigmask(SIG_BLOCK, set, NULL)) != 0) {
        errno = rc;
        return -1;
    }
    return 0;
}

void
sig_received(int sig)
{
    sigset_t set;

    sig_got = sig;
    if (sig_flag != NULL)
        *sig_flag = sig;
    stop_set(&set);
    (void)pthread_sigmask(SIG_UNBLOCK, &set, NULL);
}
