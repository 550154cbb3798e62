/* sig.h -- the stop signals of a lambdakit program, installed one way */
#ifndef SHARED_SIG_H
#define SHARED_SIG_H

/*
 * Route SIGTERM, SIGINT and SIGHUP (graceful stop, STYLE.md §8) to handler,
 * which must only set a volatile sig_atomic_t flag, and ignore SIGPIPE.
 * Threaded programs block the signals and sigwait() instead (serving).
 */
void sig_install(void (*handler)(int));

#endif
