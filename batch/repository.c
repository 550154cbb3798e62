/* repository.c -- every publish also written to batch.repository as one file */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "batch/publish.h"
#include "batch/repository.h"
#include "shared/now.h"
#include "shared/err.h"
#include "shared/log.h"
#include "shared/mem.h"
#include "shared/repo.h"

/* The base rows of every view of version info->version, in order. */
static int
put_rows(struct batch *b, struct store_txn *t, struct repo_writer *w,
    int64_t version, char *err)
{
    int *order = publish_order(b->p);
    struct store_iter *it = NULL;
    struct store_row row;
    int rc = -1;

    repo_put_views(w, b->p);
    for (int k = 0; k < b->p->nviews; k++) {
        const struct view *v = &b->p->views[order[k]];

        if (store_iter_batch(t, version, v, STORE_LEVEL_BASE, NULL, 0,
            INT64_MIN, INT64_MAX, &it, err) != 0)
            goto done;
        while ((rc = store_iter_next(it, &row, err)) == 0)
            repo_put_row(w, v, row.gkey, row.gklen, row.bucket, row.slots);
        store_iter_free(it);
        it = NULL;
        if (rc < 0)
            goto done;
        repo_end_view(w);
    }
    rc = 0;
done:
    store_iter_free(it);
    free(order);
    return rc;
}

int
repository_publish(struct batch *b, char *err)
{
    const char *dir = b->p->batch.repository;
    struct store_batch_info info;
    struct repo_version rv;
    struct repo_writer *w = NULL;
    struct store_txn *t = NULL;
    char name[REPO_NAME_MAX], why[ERR_LEN];
    struct buf meta, path;
    double t0 = now_mono_s();
    struct stat sb;
    int rc = -1;

    if (dir == NULL)
        return 0;
    snprintf(why, sizeof(why), "no version in the store");
    buf_init(&meta);
    buf_init(&path);
    if (repo_mkdir(dir, why) != 0 ||
        store_txn_begin(b->st, 0, &t, why) != 0 ||
        store_batch_current(t, &info, why) != 0)
        goto done;
    memset(&rv, 0, sizeof(rv));
    rv.version = info.version;
    rv.cutoff = info.cutoff;
    rv.published_at = info.published_at;
    rv.events = info.events;
    snprintf(rv.pipeline, sizeof(rv.pipeline), "%s", b->p->name);
    repo_version_encode(&meta, &rv);
    repo_version_name(info.version, name, sizeof(name));
    buf_printf(&path, "%s/%s", dir, name);
    if (repo_create(&w, path.data, REPO_KIND_VERSION, &meta, why) != 0 ||
        put_rows(b, t, w, info.version, why) != 0)
        goto done;
    store_txn_abort(t);
    t = NULL;
    rc = repo_finish(w, why);
    w = NULL;
    if (rc != 0 || (rc = repo_set_latest(dir, name, b->p->batch.repository_keep,
        why)) != 0)
        goto done;
    log_info("version %" PRId64 " written to %s (%lld bytes, %.2f s)",
        info.version, path.data, stat(path.data, &sb) == 0 ?
        (long long)sb.st_size : -1LL, now_mono_s() - t0);
done:
    if (rc != 0)
        memcpy(err, why, ERR_LEN);
    repo_abort(w);
    store_txn_abort(t);
    buf_reset(&meta);
    buf_reset(&path);
    return rc;
}
