/* guard.c -- request deadlines: cut connections that are slow to send a request */
#include <stdlib.h>
#include <sys/socket.h>

#include "serving/guard.h"
#include "shared/mem.h"
#include "shared/now.h"

void
guard_init(struct guard *g, int64_t timeout)
{
    if (pthread_mutex_init(&g->mu, NULL) != 0)
        abort();
    g->head = NULL;
    g->timeout = timeout;
}

void
guard_reset(struct guard *g)
{
    struct guard_conn *c, *next;

    for (c = g->head; c != NULL; c = next) {
        next = c->next;
        free(c);
    }
    g->head = NULL;
    (void)pthread_mutex_destroy(&g->mu);
}

struct guard_conn *
guard_open(struct guard *g, int fd)
{
    struct guard_conn *c = xcalloc(1, sizeof(*c));

    c->fd = fd;
    atomic_init(&c->deadline, now_mono_ms() + g->timeout);
    (void)pthread_mutex_lock(&g->mu);
    c->next = g->head;
    if (g->head != NULL)
        g->head->prev = c;
    g->head = c;
    (void)pthread_mutex_unlock(&g->mu);
    return c;
}

void
guard_busy(struct guard_conn *c)
{
    if (c != NULL)
        atomic_store_explicit(&c->deadline, INT64_MAX, memory_order_relaxed);
}

void
guard_idle(struct guard *g, struct guard_conn *c)
{
    if (c != NULL)
        atomic_store_explicit(&c->deadline, now_mono_ms() + g->timeout,
            memory_order_relaxed);
}

void
guard_close(struct guard *g, struct guard_conn *c)
{
    if (c == NULL)
        return;
    (void)pthread_mutex_lock(&g->mu);
    if (c->prev != NULL)
        c->prev->next = c->next;
    else
        g->head = c->next;
    if (c->next != NULL)
        c->next->prev = c->prev;
    (void)pthread_mutex_unlock(&g->mu);
    free(c);
}

int
guard_sweep(struct guard *g)
{
    int64_t now = now_mono_ms();
    int n = 0;

    (void)pthread_mutex_lock(&g->mu);
    for (struct guard_conn *c = g->head; c != NULL; c = c->next) {
        if (c->cut || atomic_load_explicit(&c->deadline,
            memory_order_relaxed) > now)
            continue;
        /* shutdown, not close: the descriptor stays libmicrohttpd's */
        (void)shutdown(c->fd, SHUT_RDWR);
        c->cut = 1;
        n++;
    }
    (void)pthread_mutex_unlock(&g->mu);
    return n;
}
