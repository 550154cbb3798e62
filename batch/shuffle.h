/* shuffle.h -- mailboxes between workers: rows sent to the worker that owns their group */
#ifndef BATCH_SHUFFLE_H
#define BATCH_SHUFFLE_H

#include <stddef.h>
#include <stdint.h>

/*
 * With several workers, every worker would otherwise hold a row for nearly
 * every group of a big view (events of a group are spread over the whole
 * input): two tables of 300k rows are twice the memory and twice the cache
 * misses of one. Once a view's table is big (shuffle_grown()), each group
 * belongs to one worker by its hash (shuffle_owner()), and a worker sends
 * the rows of groups it does not own to their owner, in batches of
 * messages: the bytes are the caller's (work.c). Rows already in a table
 * stay there: the tables are merged at the end as before, so when a view
 * is split changes nothing but the time.
 *
 * A worker appends to its outboxes without a lock; a full batch goes into
 * the owner's inbox under one mutex (a few times per chunk), which the
 * owner takes whole between chunks and at the end (shuffle_finish()).
 */

struct shuffle_batch {
    struct shuffle_batch *next;
    size_t          len;            /* bytes of data used */
    size_t          cap;
    uint32_t        n;              /* messages */
    unsigned char   data[];
};

struct shuffle;

/* A mailbox set for nworkers workers and nviews views; shuffle_free(). */
struct shuffle *shuffle_new(int nworkers, int nviews);
void shuffle_free(struct shuffle *s);

/* Is view k split between the workers? Read for every event: a relaxed
 * load. */
int shuffle_split(const struct shuffle *s, int k);

/* View k's table of one worker holds n groups: splits the view for every
 * worker once n is large. Returns 1 when this call split it, else 0. */
int shuffle_grown(struct shuffle *s, int k, size_t n);

/* The worker that owns the groups of hash h (table_hash()). */
static inline int
shuffle_owner(uint64_t h, int nworkers)
{
    /* the hash's high half, as the table index uses its low bits */
    return (int)(((h >> 32) * (uint64_t)nworkers) >> 32);
}

/* Room for one message of n bytes (n <= 64 KiB) from worker from to
 * worker to, valid until the next call by from. */
void *shuffle_reserve(struct shuffle *s, int from, int to, size_t n);

/* Worker from: hand its partial batches to their owners. */
void shuffle_flush(struct shuffle *s, int from);

/* Worker w: the batches sent to it so far (oldest first; the caller frees
 * each with free()), or NULL when none. */
struct shuffle_batch *shuffle_take(struct shuffle *s, int w);

/*
 * Worker w has sent everything (shuffle_flush() first): waits for mail or
 * for every worker to be done; returns the batches to apply (as
 * shuffle_take()), or NULL when every worker is done and nothing is left
 * for w, or when stop becomes nonzero (shuffle_wake()). The first call
 * counts w as done.
 */
struct shuffle_batch *shuffle_finish(struct shuffle *s, int w,
    const _Atomic int *stop);

/* Wake the workers waiting in shuffle_finish() (after setting stop). */
void shuffle_wake(struct shuffle *s);

#endif
