/* guard.c -- request deadlines: cut connections that are slow to send a request */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <time.h>

#include "serving/guard.h"
#include "shared/mem.h"
#include "shared/now.h"

void
guard_init(struct guard *g, int64_t idle)
{
    if (pthread_mutex_init(&g->mu, NULL) != 0)
        abort();
    g->head = NULL;
    g->idle = idle;
    g->header = idle < GUARD_HEADER ? idle : GUARD_HEADER;
    g->bodylen = 0;
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

void
guard_answer(struct guard *g, const char *body, size_t len)
{
    g->bodylen = 0;
    if (len < sizeof(g->body)) {
        memcpy(g->body, body, len);
        g->bodylen = len;
    }
}

/* Write the 408 to c, as far as its socket buffer takes it at once. */
static void
answer_late(struct guard *g, struct guard_conn *c)
{
    char text[640], date[64];
    time_t now = time(NULL);
    struct tm tm;
    int n;

    if (gmtime_r(&now, &tm) == NULL ||
        strftime(date, sizeof(date), "%a, %d %b %Y %H:%M:%S GMT", &tm) == 0)
        return;
    n = snprintf(text, sizeof(text), "HTTP/1.1 408 Request Timeout\r\n"
        "Date: %s\r\nConnection: close\r\nContent-Type: application/json"
        "\r\nContent-Length: %zu\r\n\r\n%.*s", date, g->bodylen,
        (int)g->bodylen, g->body);
    if (n > 0 && (size_t)n < sizeof(text))
        (void)send(c->fd, text, (size_t)n, MSG_DONTWAIT | MSG_NOSIGNAL);
}

struct guard_conn *
guard_open(struct guard *g, int fd)
{
    struct guard_conn *c = xcalloc(1, sizeof(*c));

    c->fd = fd;
    atomic_init(&c->deadline, now_mono_ms() + g->header);
    atomic_init(&c->due, 1);
    (void)pthread_mutex_lock(&g->mu);
    c->next = g->head;
    if (g->head != NULL)
        g->head->prev = c;
    g->head = c;
    (void)pthread_mutex_unlock(&g->mu);
    return c;
}

/* A request is due (or not) by d: move c's deadline there unless c is
 * cut, or NULL; only earlier when sooner is set. */
static void
set_deadline(struct guard_conn *c, int due, int64_t d, int sooner)
{
    int64_t cur;

    if (c == NULL)
        return;
    atomic_store(&c->due, due);
    cur = atomic_load(&c->deadline);
    while (cur != GUARD_CUT && (!sooner || d < cur) &&
        !atomic_compare_exchange_weak(&c->deadline, &cur, d))
        continue;
}

void
guard_begin(struct guard *g, struct guard_conn *c)
{
    set_deadline(c, 1, now_mono_ms() + g->header, 1);
}

int
guard_busy(struct guard_conn *c)
{
    int64_t cur;

    if (c == NULL)
        return 0;
    cur = atomic_load(&c->deadline);
    while (cur != GUARD_CUT &&
        !atomic_compare_exchange_weak(&c->deadline, &cur, INT64_MAX))
        continue;
    return cur == GUARD_CUT ? -1 : 0;
}

void
guard_idle(struct guard *g, struct guard_conn *c)
{
    set_deadline(c, 0, now_mono_ms() + g->idle, 0);
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
        int64_t d = atomic_load(&c->deadline);
        int unread = 0;

        /* Bytes libmicrohttpd has not read yet: the delay is ours (its
         * threads are busy), not the client's; look again next time. The
         * exchange fails when the handler took the request meanwhile. */
        if (d == GUARD_CUT || d > now ||
            (ioctl(c->fd, FIONREAD, &unread) == 0 && unread > 0) ||
            !atomic_compare_exchange_strong(&c->deadline, &d, GUARD_CUT))
            continue;
        if (atomic_load(&c->due) && g->bodylen > 0)
            answer_late(g, c);
        /* shutdown, not close: the descriptor stays libmicrohttpd's */
        (void)shutdown(c->fd, SHUT_RDWR);
        n++;
    }
    (void)pthread_mutex_unlock(&g->mu);
    return n;
}
