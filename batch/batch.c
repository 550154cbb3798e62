/* batch.c -- lambda-batch: the run's failure record */
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
