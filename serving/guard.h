/* guard.h -- request deadlines: cut connections that are slow to send a request */
#ifndef SERVING_GUARD_H
#define SERVING_GUARD_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>

/*
 * libmicrohttpd's connection timeout is an idle timeout: a client that
 * sends its headers one byte at a time, each within the timeout (slowloris),
 * keeps its connection forever. The guard gives every connection an
 * absolute deadline instead: a whole request must arrive within the timeout
 * of the connection opening or of the previous answer. guard_sweep(), run
 * about once a second by main, shuts down the sockets past their deadline;
 * libmicrohttpd then sees end of file and closes them itself.
 *
 * Caveats:
 * - libmicrohttpd calls its "connection closed" notification before it
 *   closes the socket; guard_close() unlinks the entry under the mutex that
 *   guard_sweep() holds while it calls shutdown(2), so a descriptor number
 *   reused by a new connection is never shut down by mistake.
 */

struct guard_conn {
    int                 fd;
    _Atomic int64_t     deadline;   /* monotonic ms; INT64_MAX while busy */
    int                 cut;        /* shut down already */
    struct guard_conn  *prev, *next;
};

struct guard {
    pthread_mutex_t     mu;
    struct guard_conn  *head;
    int64_t             timeout;    /* ms */
};

/* Embedded lifecycle. timeout is in milliseconds (> 0). */
void guard_init(struct guard *g, int64_t timeout);
void guard_reset(struct guard *g);

/* A connection opened on fd: returns its entry (free with guard_close()). */
struct guard_conn *guard_open(struct guard *g, int fd);

/* A request arrived whole: no deadline while it is answered. */
void guard_busy(struct guard_conn *c);

/* An answer was sent: the next request must arrive within the timeout. */
void guard_idle(struct guard *g, struct guard_conn *c);

/* The connection is closing: unlink and free c. NULL is a no-op. */
void guard_close(struct guard *g, struct guard_conn *c);

/* Shut down every connection past its deadline. Returns how many. */
int guard_sweep(struct guard *g);

#endif
