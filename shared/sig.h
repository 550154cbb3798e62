/* sig.h -- the stop signals of a lambdakit program, one behaviour in all */
#ifndef SHARED_SIG_H
#define SHARED_SIG_H

#include <signal.h>

/*
 * Every program stops the same way (STYLE.md §8):
 *   - SIGTERM, SIGINT and SIGHUP ask a clean stop: the first one's number is
 *     stored in the program's flag, and the program finishes its current
 *     step, saves what it must and exits (the daemons 0, lambda-batch 1).
 *   - Once a stop is asked, SIGINT (Ctrl-C again) exits at once: the handler
 *     writes "PROG: interrupted again, exiting now" to stderr and calls
 *     _exit(1), skipping every cleanup. The store stays consistent (each
 *     change is one LMDB transaction); nothing unfinished is published.
 *   - SIGPIPE is ignored: a closed socket is an error return, not a death.
 * Handlers only store to a volatile sig_atomic_t and write(2); no logging.
 */

/*
 * Install the handlers. flag (may be NULL) receives the number of the first
 * stop signal; the program may also set it itself. prog names the program in
 * the "interrupted again" line; it is copied.
 */
void sig_install(const char *prog, volatile sig_atomic_t *flag);

/*
 * For a threaded program, which waits in sigwait()/sigtimedwait() instead:
 * block SIGTERM, SIGINT and SIGHUP in the calling thread before it starts
 * other threads (they inherit the mask), and fill set with them. Call after
 * sig_install(). Returns 0, or -1 with errno set.
 */
int sig_block(sigset_t *set);

/*
 * The first stop signal sig was taken by sigwait(): record it as the handler
 * would have and unblock the stop signals in the calling thread, so that a
 * second SIGINT exits at once there too.
 */
void sig_received(int sig);

#endif
