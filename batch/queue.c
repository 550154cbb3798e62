/* queue.c -- bounded pool of chunks from reader to workers, retired in order */
#include <stdlib.h>

#include "batch/queue.h"
#include "batch/rejects.h"
#include "shared/mem.h"

void
queue_init(struct batch *b, int nchunks)
{
    b->nchunks = nchunks;
    b->chunks = xcalloc((size_t)nchunks, sizeof(*b->chunks));
    b->freel = xcalloc((size_t)nchunks, sizeof(*b->freel));
    b->fifo = xcalloc((size_t)nchunks, sizeof(*b->fifo));
    b->ring = xcalloc((size_t)nchunks, sizeof(*b->ring));
    for (int i = 0; i < nchunks; i++) {
        /* data is allocated on first use: small runs touch few chunks */
        buf_init(&b->chunks[i].rj);
        b->freel[b->nfree++] = &b->chunks[i];
    }
    (void)pthread_mutex_init(&b->mu, NULL);
    (void)pthread_cond_init(&b->free_cv, NULL);
    (void)pthread_cond_init(&b->fill_cv, NULL);
    (void)pthread_cond_init(&b->turn_cv, NULL);
}

void
queue_reset(struct batch *b)
{
    if (b->chunks == NULL)
        return;
    for (int i = 0; i < b->nchunks; i++) {
        free(b->chunks[i].data);
        free(b->chunks[i].recs);
        free(b->chunks[i].rjs);
        buf_reset(&b->chunks[i].rj);
    }
    free(b->chunks);
    free(b->freel);
    free(b->fifo);
    free(b->ring);
    b->chunks = NULL;
    (void)pthread_cond_destroy(&b->turn_cv);
    (void)pthread_cond_destroy(&b->fill_cv);
    (void)pthread_cond_destroy(&b->free_cv);
    (void)pthread_mutex_destroy(&b->mu);
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
    struct chunk *c = NULL;

    (void)pthread_mutex_lock(&b->mu);
    while (b->nfree == 0 && !atomic_load(&b->stop))
        (void)pthread_cond_wait(&b->free_cv, &b->mu);
    if (!atomic_load(&b->stop))
        c = b->freel[--b->nfree];
    (void)pthread_mutex_unlock(&b->mu);
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
    (void)pthread_mutex_lock(&b->mu);
    b->freel[b->nfree++] = c;
    (void)pthread_cond_signal(&b->free_cv);
    (void)pthread_mutex_unlock(&b->mu);
}

void
queue_push(struct batch *b, struct chunk *c)
{
    (void)pthread_mutex_lock(&b->mu);
    c->seq = b->next_seq++;
    b->ring[c->seq % (uint64_t)b->nchunks] = c;
    b->fifo[(b->qhead + b->qlen) % b->nchunks] = c;
    b->qlen++;
    (void)pthread_cond_signal(&b->fill_cv);
    (void)pthread_mutex_unlock(&b->mu);
}

void
queue_close(struct batch *b)
{
    (void)pthread_mutex_lock(&b->mu);
    b->closed = 1;
    (void)pthread_cond_broadcast(&b->fill_cv);
    (void)pthread_mutex_unlock(&b->mu);
}

struct chunk *
queue_pop(struct batch *b)
{
    struct chunk *c = NULL;

    (void)pthread_mutex_lock(&b->mu);
    while (b->qlen == 0 && !b->closed && !atomic_load(&b->stop))
        (void)pthread_cond_wait(&b->fill_cv, &b->mu);
    if (b->qlen > 0 && !atomic_load(&b->stop)) {
        c = b->fifo[b->qhead];
        b->qhead = (b->qhead + 1) % b->nchunks;
        b->qlen--;
    }
    (void)pthread_mutex_unlock(&b->mu);
    return c;
}

/* With b->mu held: write c's rejects at the current line base. */
static void
flush_rejects(struct batch *b, struct chunk *c)
{
    if (c->first)
        b->line_base = 0;
    if (c->nrjs > 0)
        rejects_chunk(b, c, c->abs_lines ? 0 : b->line_base);
    c->nrjs = 0;
    buf_clear(&c->rj);
}

void
queue_done(struct batch *b, struct chunk *c)
{
    struct chunk *r;
    int freed = 0;

    (void)pthread_mutex_lock(&b->mu);
    c->done = 1;
    while ((r = b->ring[b->retire_seq % (uint64_t)b->nchunks]) != NULL &&
        r->seq == b->retire_seq && r->done) {
        flush_rejects(b, r);
        b->line_base += r->nlines;
        if (r->piece >= 0)
            b->pieces[r->piece].lines += r->nlines;
        b->ring[b->retire_seq % (uint64_t)b->nchunks] = NULL;
        b->retire_seq++;
        b->freel[b->nfree++] = r;
        freed = 1;
    }
    if (freed) {
        (void)pthread_cond_broadcast(&b->free_cv);
        (void)pthread_cond_broadcast(&b->turn_cv);
    }
    (void)pthread_mutex_unlock(&b->mu);
}

int
queue_flush_turn(struct batch *b, struct chunk *c)
{
    int rc = -1;

    (void)pthread_mutex_lock(&b->mu);
    while (b->retire_seq != c->seq && !atomic_load(&b->stop))
        (void)pthread_cond_wait(&b->turn_cv, &b->mu);
    if (!atomic_load(&b->stop)) {
        flush_rejects(b, c);
        c->first = 0;   /* the line base is set now; keep it at retire */
        rc = 0;
    }
    (void)pthread_mutex_unlock(&b->mu);
    return rc;
}

void
queue_stop(struct batch *b)
{
    (void)pthread_mutex_lock(&b->mu);
    atomic_store(&b->stop, 1);
    (void)pthread_cond_broadcast(&b->free_cv);
    (void)pthread_cond_broadcast(&b->fill_cv);
    (void)pthread_cond_broadcast(&b->turn_cv);
    (void)pthread_mutex_unlock(&b->mu);
}
