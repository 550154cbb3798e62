/* batch.c -- lambda-batch: the run's failure record and counts */
#include <stdarg.h>
#include <stdio.h>

#include "batch/batch.h"

void
batch_fail(struct batch *b, const char *fmt, ...)
{
    va_list ap;

    (void)pthread_mutex_lock(&b->fail_mu);
    if (b->fail[0] == '\0') {
        va_start(ap, fmt);
        (void)vsnprintf(b->fail, sizeof(b->fail), fmt, ap);
        va_end(ap);
    }
    (void)pthread_mutex_unlock(&b->fail_mu);
    atomic_store(&b->stop, 1);
}

void
batch_stats_add(struct batch_stats *dst, const struct batch_stats *src)
{
    dst->events += src->events;
    dst->nrejects += src->nrejects;
    for (int r = 0; r < REJECT_NREASONS; r++)
        dst->rejects[r] += src->rejects[r];
    dst->after_cutoff += src->after_cutoff;
    dst->held += src->held;
    dst->before_from += src->before_from;
    dst->accepted += src->accepted;
    if (src->last_before_from > dst->last_before_from)
        dst->last_before_from = src->last_before_from;
}
