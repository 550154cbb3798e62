/* queue.h -- bounded pool of chunks from reader to workers, retired in order */
#ifndef BATCH_QUEUE_H
#define BATCH_QUEUE_H

#include "batch/batch.h"

/*
 * A fixed pool of b->nchunks chunks of BATCH_CHUNK bytes: the reader takes a
 * free chunk, fills it, and queues it; a worker pops it, processes it and
 * retires it. Chunks retire in the order they were queued (whatever order
 * the workers finish in): retiring writes the chunk's rejects and returns it
 * to the pool, so the rejects file is in input order, line numbers can be
 * made absolute, and memory stays bounded.
 * All functions take b->mu themselves unless they say otherwise.
 */

/* Allocate the pool for nchunks chunks. */
void queue_init(struct batch *b, int nchunks);
void queue_reset(struct batch *b);

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
