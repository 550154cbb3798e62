/* shuffle.c -- mailboxes between workers: rows sent to the worker that owns their group */
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "batch/shuffle.h"
#include "shared/mem.h"

#define BATCH_BYTES (256u << 10)    /* a batch is handed over past this */
#define SPLIT_GROUPS 65536          /* a view with more rows in one table
                                       (8 MiB of 128-byte entries) is split */

struct shuffle {
    int                     nworkers, nviews;
    atomic_int             *split;      /* per view */
    struct shuffle_batch  **out;        /* [from * nworkers + to] */
    pthread_mutex_t         mu;
    pthread_cond_t          cv;
    struct shuffle_batch  **in_head;    /* per worker, under mu */
    struct shuffle_batch  **in_tail;
    atomic_int             *in_n;       /* batches waiting, per worker */
    int                     done;       /* workers in shuffle_finish() */
    unsigned char          *counted;    /* per worker: counted in done */
};

struct shuffle *
shuffle_new(int nworkers, int nviews)
{
    struct shuffle *s = xcalloc(1, sizeof(*s));

    s->nworkers = nworkers;
    s->nviews = nviews;
    s->split = xcalloc((size_t)(nviews > 0 ? nviews : 1), sizeof(*s->split));
    s->out = xcalloc((size_t)nworkers * (size_t)nworkers, sizeof(*s->out));
    s->in_head = xcalloc((size_t)nworkers, sizeof(*s->in_head));
    s->in_tail = xcalloc((size_t)nworkers, sizeof(*s->in_tail));
    s->in_n = xcalloc((size_t)nworkers, sizeof(*s->in_n));
    s->counted = xcalloc((size_t)nworkers, 1);
    (void)pthread_mutex_init(&s->mu, NULL);
    (void)pthread_cond_init(&s->cv, NULL);
    return s;
}

static void
free_list(struct shuffle_batch *bt)
{
    while (bt != NULL) {
        struct shuffle_batch *next = bt->next;
        free(bt);
        bt = next;
    }
}

void
shuffle_free(struct shuffle *s)
{
    if (s == NULL)
        return;
    for (int i = 0; i < s->nworkers * s->nworkers; i++)
        free_list(s->out[i]);
    for (int i = 0; i < s->nworkers; i++)
        free_list(s->in_head[i]);
    (void)pthread_cond_destroy(&s->cv);
    (void)pthread_mutex_destroy(&s->mu);
    free(s->split);
    free(s->out);
    free(s->in_head);
    free(s->in_tail);
    free(s->in_n);
    free(s->counted);
    free(s);
}

int
shuffle_split(const struct shuffle *s, int k)
{
    return atomic_load_explicit(&s->split[k], memory_order_relaxed);
}

int
shuffle_grown(struct shuffle *s, int k, size_t n)
{
    int was = 0;

    if (s->nworkers < 2 || n <= SPLIT_GROUPS || shuffle_split(s, k))
        return 0;
    return atomic_compare_exchange_strong(&s->split[k], &was, 1);
}

/* Put batch bt into worker to's inbox. */
static void
deliver(struct shuffle *s, int to, struct shuffle_batch *bt)
{
    bt->next = NULL;
    (void)pthread_mutex_lock(&s->mu);
    if (s->in_tail[to] != NULL)
        s->in_tail[to]->next = bt;
    else
        s->in_head[to] = bt;
    s->in_tail[to] = bt;
    atomic_fetch_add_explicit(&s->in_n[to], 1, memory_order_relaxed);
    (void)pthread_cond_broadcast(&s->cv);
    (void)pthread_mutex_unlock(&s->mu);
}

void *
shuffle_reserve(struct shuffle *s, int from, int to, size_t n)
{
    struct shuffle_batch **pb = &s->out[from * s->nworkers + to], *bt = *pb;
    void *p;

    if (bt != NULL && bt->len + n > bt->cap) {
        deliver(s, to, bt);
        bt = *pb = NULL;
    }
    if (bt == NULL) {
        size_t cap = BATCH_BYTES + (64u << 10);

        bt = *pb = xmalloc(sizeof(*bt) + cap);
        bt->next = NULL;
        bt->len = 0;
        bt->cap = cap;
        bt->n = 0;
    }
    p = bt->data + bt->len;
    bt->len += n;
    bt->n++;
    return p;
}

void
shuffle_flush(struct shuffle *s, int from)
{
    for (int to = 0; to < s->nworkers; to++) {
        struct shuffle_batch **pb = &s->out[from * s->nworkers + to];

        if (*pb != NULL) {
            deliver(s, to, *pb);
            *pb = NULL;
        }
    }
}

/* With s->mu held: worker w's inbox, emptied. */
static struct shuffle_batch *
take_locked(struct shuffle *s, int w)
{
    struct shuffle_batch *bt = s->in_head[w];

    s->in_head[w] = s->in_tail[w] = NULL;
    atomic_store_explicit(&s->in_n[w], 0, memory_order_relaxed);
    return bt;
}

struct shuffle_batch *
shuffle_take(struct shuffle *s, int w)
{
    struct shuffle_batch *bt;

    /* the common case, nothing sent, costs no lock */
    if (atomic_load_explicit(&s->in_n[w], memory_order_relaxed) == 0)
        return NULL;
    (void)pthread_mutex_lock(&s->mu);
    bt = take_locked(s, w);
    (void)pthread_mutex_unlock(&s->mu);
    return bt;
}

struct shuffle_batch *
shuffle_finish(struct shuffle *s, int w, const _Atomic int *stop)
{
    struct shuffle_batch *bt = NULL;

    (void)pthread_mutex_lock(&s->mu);
    if (!s->counted[w]) {
        s->counted[w] = 1;
        s->done++;
        (void)pthread_cond_broadcast(&s->cv);
    }
    while (s->in_head[w] == NULL && s->done < s->nworkers &&
        !atomic_load(stop))
        (void)pthread_cond_wait(&s->cv, &s->mu);
    if (!atomic_load(stop))
        bt = take_locked(s, w);
    (void)pthread_mutex_unlock(&s->mu);
    return bt;
}

void
shuffle_wake(struct shuffle *s)
{
    (void)pthread_mutex_lock(&s->mu);
    (void)pthread_cond_broadcast(&s->cv);
    (void)pthread_mutex_unlock(&s->mu);
}
