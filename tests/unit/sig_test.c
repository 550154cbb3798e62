/* sig_test.c -- unit tests for shared/sig.c: a clean stop, then Ctrl-C exits */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "shared/sig.h"
#include "tests/test.h"

static volatile sig_atomic_t stop;

/* Run fn in a child with stderr on a pipe; returns its wait status and what
 * it wrote to stderr in buf. */
static int
child(void (*fn)(void), char *buf, size_t size)
{
    int fds[2], status = -1;
    ssize_t n;
    size_t got = 0;
    pid_t pid;

    if (pipe(fds) != 0)
        return -1;
    if ((pid = fork()) == 0) {
        (void)dup2(fds[1], STDERR_FILENO);
        close(fds[0]);
        fn();
        _exit(0);
    }
    close(fds[1]);
    while (got + 1 < size &&
        (n = read(fds[0], buf + got, size - 1 - got)) > 0)
        got += (size_t)n;
    buf[got] = '\0';
    close(fds[0]);
    (void)waitpid(pid, &status, 0);
    return status;
}

/* SIGTERM then SIGHUP: recorded, no exit; then SIGINT: exit 1 at once */
static void
term_then_int(void)
{
    sig_install("lambda-x", &stop);
    raise(SIGTERM);
    if (stop != SIGTERM)
        _exit(10);
    raise(SIGHUP);
    if (stop != SIGHUP)
        _exit(11);
    raise(SIGPIPE);             /* ignored */
    raise(SIGINT);
    _exit(12);
}

/* one SIGINT is a clean stop, not an exit */
static void
one_int(void)
{
    sig_install("lambda-x", &stop);
    raise(SIGINT);
    _exit(stop == SIGINT ? 0 : 13);
}

/* threaded style: blocked, taken by sigwait(), then Ctrl-C again */
static void
waited_then_int(void)
{
    sigset_t set;
    int sig = 0;

    sig_install("lambda-y", NULL);
    if (sig_block(&set) != 0)
        _exit(14);
    raise(SIGINT);              /* pending, not handled */
    if (sigwait(&set, &sig) != 0 || sig != SIGINT)
        _exit(15);
    sig_received(sig);
    raise(SIGINT);
    _exit(16);
}

static void
test_sig_second_int(void)
{
    char buf[256];
    int st;

    st = child(term_then_int, buf, sizeof(buf));
    CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 1);
    CHECK_STREQ(buf, "lambda-x: interrupted again, exiting now\n");

    st = child(one_int, buf, sizeof(buf));
    CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
    CHECK_STREQ(buf, "");

    st = child(waited_then_int, buf, sizeof(buf));
    CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 1);
    CHECK_STREQ(buf, "lambda-y: interrupted again, exiting now\n");
}

int
main(void)
{
    RUN(test_sig_second_int);
    return test_report();
}
