/* guard.h -- request deadlines: cut connections that are slow to send a request */
#ifndef SERVING_GUARD_H
#define SERVING_GUARD_H

#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

/*
 * libmicrohttpd's connection timeout is an idle timeout: a client that
 * sends its headers one byte at a time, each within the timeout (slowloris),
 * keeps its connection forever. The guard gives every connection absolute
 * deadlines instead:
 *
 *   - a new connection must send its first request whole within the header
 *     timeout (GUARD_HEADER, or the idle timeout when that is shorter);
 *   - once a request line arrived (guard_begin()), the rest of its request
 *     must arrive within the header timeout of it;
 *   - after an answer, the next request line must arrive within the idle
 *     timeout.
 *
 * guard_sweep(), run four times a second by main, cuts the connections
 * past their deadline, unless bytes wait in the socket that libmicrohttpd
 * has not read yet (the delay is then the server's, under load, and not
 * the client's): it writes the 408 answer given to guard_answer()
 * when a request was due (the first one, or one whose line arrived), and
 * nothing to an idle kept-alive connection, where a client may be sending
 * its next request at that very moment; then it shuts the socket down, and
 * libmicrohttpd sees end of file and closes it itself.
 *
 * Caveats:
 * - libmicrohttpd calls its "connection closed" notification before it
 *   closes the socket; guard_close() unlinks the entry under the mutex that
 *   guard_sweep() holds while it writes and calls shutdown(2), so a
 *   descriptor number reused by a new connection is never touched.
 * - The 408 is written from main while libmicrohttpd owns the socket. That
 *   is safe because no answer of ours can be under way then: the request
 *   handler calls guard_busy() before it answers, and guard_busy() fails
 *   once the connection is cut. libmicrohttpd's own error answers (a
 *   malformed request it rejects before any handler runs) are not seen by
 *   the guard: one sent in the same instant as a cut could interleave with
 *   the 408 on a connection that is closing anyway.
 */

#define GUARD_HEADER 5000           /* ms: the header timeout */
#define GUARD_CUT INT64_MIN         /* deadline of a connection cut */

struct guard_conn {
    int                 fd;
    _Atomic int64_t     deadline;   /* monotonic ms; INT64_MAX while busy,
                                       GUARD_CUT once cut */
    _Atomic int         due;        /* a request is due: a cut answers 408 */
    struct guard_conn  *prev, *next;
};

struct guard {
    pthread_mutex_t     mu;
    struct guard_conn  *head;
    int64_t             header;     /* ms, see above */
    int64_t             idle;       /* ms */
    char                body[384];  /* of the 408 written on a cut */
    size_t              bodylen;    /* 0: cut without writing */
};

/* Embedded lifecycle. idle is in milliseconds (> 0). */
void guard_init(struct guard *g, int64_t idle);
void guard_reset(struct guard *g);

/* The JSON body of the 408 answer written to a connection cut while a
 * request was due; copied, at most 383 bytes, else nothing is written.
 * Call before connections open. */
void guard_answer(struct guard *g, const char *body, size_t len);

/* A connection opened on fd: returns its entry (free with guard_close()). */
struct guard_conn *guard_open(struct guard *g, int fd);

/* A request line arrived: the rest is due within the header timeout. NULL
 * is a no-op. */
void guard_begin(struct guard *g, struct guard_conn *c);

/* A request arrived whole: no deadline while it is answered. Returns 0, or
 * -1 when the connection was cut already (close it without answering).
 * NULL returns 0. */
int guard_busy(struct guard_conn *c);

/* An answer was sent: the next request line is due within the idle
 * timeout. NULL is a no-op. */
void guard_idle(struct guard *g, struct guard_conn *c);

/* The connection is closing: unlink and free c. NULL is a no-op. */
void guard_close(struct guard *g, struct guard_conn *c);

/* Cut every connection past its deadline. Returns how many. */
int guard_sweep(struct guard *g);

#endif
