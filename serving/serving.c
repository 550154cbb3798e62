/* serving.c -- the store handle, opened once lambda-batch or lambda-speed creates it */
#include <stdio.h>
#include <string.h>

#include "serving/serving.h"
#include "shared/log.h"
#include "shared/now.h"

struct store *
serving_store(struct serving *sv)
{
    return atomic_load_explicit(&sv->store, memory_order_acquire);
}

int
serving_store_poll(struct serving *sv)
{
    struct store *st;
    char err[ERR_LEN];
    int64_t now = now_mono_ms();

    if (serving_store(sv) != NULL)
        return 1;
    if (sv->open_tried != 0 && now - sv->open_tried < 1000)
        return 0;
    sv->open_tried = now;
    err[0] = '\0';
    if (store_open(&st, sv->p->store, STORE_RDONLY, err) != 0) {
        (void)pthread_mutex_lock(&sv->errmu);
        if (strcmp(err, sv->open_err) != 0) {
            log_warnx("%s; not ready, retrying every second", err);
            memcpy(sv->open_err, err, sizeof(err));
        }
        (void)pthread_mutex_unlock(&sv->errmu);
        return 0;
    }
    atomic_store_explicit(&sv->store, st, memory_order_release);
    log_info("store %s: open", sv->p->store);
    return 1;
}

void
serving_store_error(struct serving *sv, char *err)
{
    (void)pthread_mutex_lock(&sv->errmu);
    memcpy(err, sv->open_err, ERR_LEN);
    (void)pthread_mutex_unlock(&sv->errmu);
    if (err[0] == '\0')
        snprintf(err, ERR_LEN, "store %s: not open yet", sv->p->store);
}

void
serving_store_close(struct serving *sv)
{
    store_free(atomic_exchange(&sv->store, NULL));
}
