/* serving.h -- lambda-serving's state, one struct passed to every module */
#ifndef SERVING_SERVING_H
#define SERVING_SERVING_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>

#include "serving/cache.h"
#include "serving/guard.h"
#include "serving/metrics.h"
#include "serving/viewdefs.h"
#include "shared/err.h"
#include "shared/pipeline.h"
#include "shared/store.h"

struct MHD_Daemon;

/*
 * Threads: main owns the struct, opens the store and sweeps deadlines;
 * libmicrohttpd's pool threads answer requests and only read it, except
 * for the atomics (store, metrics, guard deadlines).
 */
struct serving {
    struct pipeline          *p;            /* owned; read-only once serving */
    _Atomic(struct store *)   store;        /* NULL until the store opens;
                                               then fixed until exit */
    int64_t                   open_tried;   /* main: monotonic ms of the
                                               last attempt */
    int64_t                   damaged[3];   /* main: data.mdb's inode,
                                               size and mtime (ns) when the
                                               walk found damage, or 0s */
    pthread_mutex_t           errmu;        /* guards open_err */
    char                      open_err[ERR_LEN]; /* last failure to open */
    struct metrics            metrics;
    struct guard              guard;
    struct cache              cache;        /* series and top answers */
    struct viewdefs           defs;         /* stored definitions */
    struct MHD_Daemon        *daemon;
    _Atomic int               inflight;     /* requests being answered */
    _Atomic int               running;      /* daemon started: library
                                               messages are client noise */
    char                      url[128];     /* "http://127.0.0.1:8080" */
    int                       port;         /* the port bound */
};

/* The store for a request, or NULL while it is not open (answer 503). */
struct store *serving_store(struct serving *sv);

/*
 * Main thread: open the store read-only if it is not open yet and the last
 * attempt was at least a second ago, after walking it whole
 * (store_verify_check(): damage is refused, not crashed on; a damaged
 * data.mdb is walked again only once it changed). Logs the first failure of
 * each kind and the success. Returns 1 when the store is open.
 */
int serving_store_poll(struct serving *sv);

/* Copy the reason the store is not open into err (ERR_LEN bytes). */
void serving_store_error(struct serving *sv, char *err);

/* Close the store (after the HTTP daemon stopped). */
void serving_store_close(struct serving *sv);

#endif
