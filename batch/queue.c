/* queue.c -- bounded pool of chunks from reader to workers, retired in order */
#include <stdlib.h>
#include <string.h>

#include "batch/batch.h"
#include "batch/queue.h"
#include "batch/rejects.h"
#include "shared/mem.h"

void
queue_init(struct queue *q, int nchunks)
{
    q->nchunks = nchunks;
    q->chunks = xcalloc((size_t)nchunks, sizeof(*q->chunks));
    q->freel = xcalloc((size_t)nchunks, sizeof(*q->freel));
    q->fifo = xcalloc((size_t)nchunks, sizeof(*q->fifo));
    q->ring = xcalloc((size_t)nchunks, sizeof(*q->ring));
    for (int i = 0; i < nchunks; i++) {
        /* data is allocated on first use: small runs touch few chunks */
        buf_init(&q->chunks[i].rj);
        q->freel[q->nfree++] = &q->chunks[i];
    }
    (void)pthread_mutex_init(&q->mu, NULL);
    (void)pthread_cond_init(&q->free_cv, NULL);
    (void)pthread_cond_init(&q->fill_cv, NULL);
    (void)pthread_cond_init(&q->turn_cv, NULL);
}

void
queue_reset(struct queue *q)
{
    if (q->chunks == NULL)
        return;
    for (int i = 0; i < q->nchunks; i++) {
        free(q->chunks[i].data);
        free(q->chunks[i].recs);
        free(q->chunks[i].rjs);
        buf_reset(&q->chunks[i].rj);
    }
    free(q->chunks);
    free(q->freel);
    free(q->fifo);
    free(q->ring);
    (void)pthread_cond_destroy(&q->turn_cv);
    (void)pthread_cond_destroy(&q->fill_cv);
    (void)pthread_cond_destroy(&q->free_cv);
    (void)pthread_mutex_destroy(&q->mu);
    memset(q, 0, sizeof(*q));
}

static void
chunk_clear(struct chunk *c)
{
    c->len = 0;
    c->file = -1;
    c->piece = -1;
    c->first = 0;
    c->abs_lines = 0;
    c->nlines = 0;
    c->nrecs = 0;
    c->has_recs = 0;
    c->nrjs = 0;
    c->done = 0;
    buf_clear(&c->rj);
}

struct chunk *
queue_take(struct batch *b)
{
    struct queue *q = &b->queue;
    struct chunk *c = NULL;

    (void)pthread_mutex_lock(&q->mu);
    while (q->nfree == 0 && !atomic_load(&b->stop))
        (void)pthread_cond_wait(&q->free_cv, &q->mu);
    if (!atomic_load(&b->stop))
        c = q->freel[--q->nfree];
    (void)pthread_mutex_unlock(&q->mu);
    if (c == NULL)
        return NULL;
    if (c->data == NULL)
        c->data = xmalloc(BATCH_CHUNK);
    chunk_clear(c);
    return c;
}

void
queue_give_back(struct batch *b, struct chunk *c)
{
    struct queue *q = &b->queue;

    (void)pthread_mutex_lock(&q->mu);
    q->freel[q->nfree++] = c;
    (void)pthread_cond_signal(&q->free_cv);
    (void)pthread_mutex_unlock(&q->mu);
}

void
queue_push(struct batch *b, struct chunk *c)
{
    struct queue *q = &b->queue;

    (void)pthread_mutex_lock(&q->mu);
    c->seq = q->next_seq++;
    q->ring[c->seq % (uint64_t)q->nchunks] = c;
    q->fifo[(q->qhead + q->qlen) % q->nchunks] = c;
    q->qlen++;
    (void)pthread_cond_signal(&q->fill_cv);
    (void)pthread_mutex_unlock(&q->mu);
}

void
queue_close(struct batch *b)
{
    struct queue *q = &b->queue;

    (void)pthread_mutex_lock(&q->mu);
    q->closed = 1;
    (void)pthread_cond_broadcast(&q->fill_cv);
    (void)pthread_mutex_unlock(&q->mu);
}

struct chunk *
queue_pop(struct batch *b)
{
    struct queue *q = &b->queue;
    struct chunk *c = NULL;

    (void)pthread_mutex_lock(&q->mu);
    while (q->qlen == 0 && !q->closed && !atomic_load(&b->stop))
        (void)pthread_cond_wait(&q->fill_cv, &q->mu);
    if (q->qlen > 0 && !atomic_load(&b->stop)) {
        c = q->fifo[q->qhead];
        q->qhead = (q->qhead + 1) % q->nchunks;
        q->qlen--;
    }
    (void)pthread_mutex_unlock(&q->mu);
    return c;
}

/* With q->mu held: write c's rejects at the current line base. */
static void
flush_rejects(struct batch *b, struct chunk *c)
{
    struct queue *q = &b->queue;

    if (c->first)
        q->line_base = 0;
    if (c->nrjs > 0)
        rejects_chunk(b, c, c->abs_lines ? 0 : q->line_base);
    c->nrjs = 0;
    buf_clear(&c->rj);
}

void
queue_done(struct batch *b, struct chunk *c)
{
    struct queue *q = &b->queue;
    struct chunk *r;
    int freed = 0;

    (void)pthread_mutex_lock(&q->mu);
    c->done = 1;
    while ((r = q->ring[q->retire_seq % (uint64_t)q->nchunks]) != NULL &&
        r->seq == q->retire_seq && r->done) {
        flush_rejects(b, r);
        q->line_base += r->nlines;
        if (r->piece >= 0)
            b->pieces[r->piece].lines += r->nlines;
        q->ring[q->retire_seq % (uint64_t)q->nchunks] = NULL;
        q->retire_seq++;
        q->freel[q->nfree++] = r;
        freed = 1;
    }
    if (freed) {
        (void)pthread_cond_broadcast(&q->free_cv);
        (void)pthread_cond_broadcast(&q->turn_cv);
    }
    (void)pthread_mutex_unlock(&q->mu);
}

int
queue_flush_turn(struct batch *b, struct chunk *c)
{
    struct queue *q = &b->queue;
    int rc = -1;

    (void)pthread_mutex_lock(&q->mu);
    while (q->retire_seq != c->seq && !atomic_load(&b->stop))
        (void)pthread_cond_wait(&q->turn_cv, &q->mu);
    if (!atomic_load(&b->stop)) {
        flush_rejects(b, c);
        c->first = 0;   /* the line base is set now; keep it at retire */
        rc = 0;
    }
    (void)pthread_mutex_unlock(&q->mu);
    return rc;
}

void
queue_stop(struct batch *b)
{
    struct queue *q = &b->queue;

    (void)pthread_mutex_lock(&q->mu);
    atomic_store(&b->stop, 1);
    (void)pthread_cond_broadcast(&q->free_cv);
    (void)pthread_cond_broadcast(&q->fill_cv);
    (void)pthread_cond_broadcast(&q->turn_cv);
    (void)pthread_mutex_unlock(&q->mu);
}
