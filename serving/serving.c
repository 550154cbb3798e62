/* serving.c -- the store handle, opened once lambda-batch or lambda-speed creates it */
#include <sys/stat.h>

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

/* data.mdb's inode, size and mtime in sig (0s when it is missing). */
static void
file_sig(const char *dir, int64_t sig[3])
{
    char path[4096];
    struct stat sb;

    memset(sig, 0, 3 * sizeof(sig[0]));
    if (snprintf(path, sizeof(path), "%s/data.mdb", dir) >=
        (int)sizeof(path) || stat(path, &sb) != 0)
        return;
    sig[0] = (int64_t)sb.st_ino;
    sig[1] = (int64_t)sb.st_size;
    sig[2] = (int64_t)sb.st_mtim.tv_sec * 1000000000 + sb.st_mtim.tv_nsec;
}

/* Walk the store whole unless the walk found this very data.mdb damaged
 * already (its err still in sv->open_err), then open it. */
static int
walk_open(struct serving *sv, struct store **st, char *err)
{
    int64_t sig[3];
    int walked;

    file_sig(sv->p->store, sig);
    if (sig[0] != 0 && memcmp(sig, sv->damaged, sizeof(sig)) == 0) {
        serving_store_error(sv, err);
        return -1;
    }
    if (store_verify_check(sv->p->store, sv->p, &walked, err) != 0) {
        if (walked)
            memcpy(sv->damaged, sig, sizeof(sig));
        return -1;
    }
    return store_open(st, sv->p->store, STORE_RDONLY, err);
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
    if (walk_open(sv, &st, err) != 0) {
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
