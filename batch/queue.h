/* queue.h -- bounded pool of chunks from reader to workers, retired in order */
#ifndef BATCH_QUEUE_H
#define BATCH_QUEUE_H

#include <pthread.h>
#include <stdint.h>

struct batch;
struct chunk;

/*
 * A fixed pool of nchunks chunks of BATCH_CHUNK bytes: the reader takes a
 * free chunk, fills it, and queues it; a worker pops it, processes it and
 * retires it. Chunks retire in the order they were queued (whatever order
 * the workers finish in): retiring writes the chunk's rejects and returns it
 * to the pool, so the rejects file is in input order, line numbers can be
 * made absolute, and memory stays bounded.
 * The queue is b->queue; the functions that move chunks take the whole run
 * (struct batch), whose stop flag they obey and whose rejects and pieces a
 * retiring chunk updates. All take the queue's mu themselves unless they
 * say otherwise.
 */

/* The queue's state, embedded in struct batch; zeroed memory is an empty
 * queue that queue_reset() accepts. */
struct queue {
    pthread_mutex_t  mu;
    pthread_cond_t   free_cv;       /* a chunk was freed */
    pthread_cond_t   fill_cv;       /* a chunk was queued, or the end */
    pthread_cond_t   turn_cv;       /* a chunk retired */
    struct chunk    *chunks;        /* the pool, NULL before queue_init() */
    int              nchunks;
    struct chunk   **freel;         /* free chunks */
    int              nfree;
    struct chunk   **fifo;          /* queued chunks, ring of nchunks */
    int              qhead, qlen;
    struct chunk   **ring;          /* in flight by seq % nchunks */
    uint64_t         next_seq;      /* seq of the next chunk queued */
    uint64_t         retire_seq;    /* seq of the next chunk to retire */
    int64_t          line_base;     /* lines of the retiring file so far */
    int              closed;        /* reader finished */
};

/* Allocate the pool of nchunks chunks (their data on first use), the lock
 * and the conditions; q must be zeroed. Free with queue_reset(). */
void queue_init(struct queue *q, int nchunks);

/* Free what queue_init() allocated, chunks' data included; q is zeroed
 * memory again. A no-op on a queue never initialised. */
void queue_reset(struct queue *q);

/* Take a free, empty chunk; waits for one. NULL when the run is stopping. */
struct chunk *queue_take(struct batch *b);

/* Give back a chunk that was taken but not queued. */
void queue_give_back(struct batch *b, struct chunk *c);

/* Queue a filled chunk for the workers (takes it; sets c->seq). */
void queue_push(struct batch *b, struct chunk *c);

/* The reader is done: workers return NULL from queue_pop() once the queue
 * is empty. */
void queue_close(struct batch *b);

/* Next queued chunk for a worker; waits. NULL at the end or on stop. */
struct chunk *queue_pop(struct batch *b);

/* Mark c processed and retire every chunk that is now next in order. */
void queue_done(struct batch *b, struct chunk *c);

/*
 * Wait until c is the next chunk to retire (every earlier chunk retired),
 * then write its rejects so far and forget them; used when a chunk's rejects
 * grow large. Returns 0, or -1 when the run is stopping.
 */
int queue_flush_turn(struct batch *b, struct chunk *c);

/* Ask every thread to stop (error or signal) and wake them all. */
void queue_stop(struct batch *b);

#endif
