/* pull.c -- --pull DIR: import a repository's newest version as one publish */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "batch/publish.h"
#include "batch/pull.h"
#include "shared/now.h"
#include "shared/err.h"
#include "shared/log.h"
#include "shared/publog.h"
#include "shared/repo.h"
#include "shared/ts.h"

#define TRIES 3                 /* LATEST moved on while we looked */

/* The newest version's path into path, its meta into rv. */
static int
latest(struct batch *b, struct buf *path, struct repo_version *rv, char *err)
{
    char name[REPO_NAME_MAX];
    struct buf meta;
    int rc = -1;

    buf_init(&meta);
    for (int i = 0; i < TRIES; i++) {
        if ((rc = repo_latest(b->pull, name, sizeof(name), err)) < 0)
            break;
        if (rc == REPO_NONE) {
            snprintf(err, ERR_LEN, "repository %s: nothing published there "
                "yet (no %s)", b->pull, REPO_LATEST);
            rc = -1;
            break;
        }
        buf_clear(path);
        buf_printf(path, "%s/%s", b->pull, name);
        if ((rc = repo_peek(path->data, REPO_KIND_VERSION, &meta, err)) == 0)
            break;
        if (access(path->data, F_OK) == 0)
            break;              /* there, but bad: say so */
    }
    if (rc == 0 && repo_version_decode(&meta, rv) != 0) {
        snprintf(err, ERR_LEN, "%s: corrupt meta block", path->data);
        rc = -1;
    }
    buf_reset(&meta);
    return rc;
}

/* 1 when the store holds rv already, 0 when rv is newer, -1 refused. */
static int
compare(struct batch *b, const struct repo_version *rv, const char *path,
    struct store_batch_info *cur, char *err)
{
    struct store_txn *t = NULL;
    int rc;

    if (store_txn_begin(b->st, 0, &t, err) != 0)
        return -1;
    rc = store_batch_current(t, cur, err);
    store_txn_abort(t);
    if (rc < 0)
        return -1;
    if (rc == STORE_NOTFOUND) {
        cur->version = 0;
        return 0;
    }
    if (cur->version == rv->version && cur->cutoff == rv->cutoff &&
        cur->events == rv->events)
        return 1;
    if (cur->version >= rv->version) {
        snprintf(err, ERR_LEN, "store %s holds version %" PRId64 ", %s the "
            "repository's newest, %s: it was not pulled from there (start "
            "the replica from an empty store)", b->p->store, cur->version,
            cur->version == rv->version ? "another version than" :
            "newer than", path);
        return -1;
    }
    return 0;
}

/* Every row of r into a new version of the store, published. */
static int
import(struct batch *b, struct repo_reader *r, const struct repo_version *rv,
    struct store_batch_info *info, char *err)
{
    struct store_writer *w = NULL;
    const struct view *v;
    struct repo_row row;
    uint64_t n = 0;
    int rc;

    if (store_batch_reserve(b->st, rv->version, err) != 0 ||
        store_writer_begin(b->st, b->p, -1, &w, err) != 0)
        return -1;
    store_writer_on_publish(w, publish_switch_views, b);
    store_writer_log(w, rv->cutoff, -1);     /* the repository keeps no
                                                rejects */
    while ((v = repo_next_view(r)) != NULL) {
        while ((rc = repo_get_row(r, &row, err)) == 0) {
            if (store_writer_put(w, v, row.gkey, row.gklen, row.bucket,
                row.slots, err) != 0)
                goto fail;
            if ((++n & 65535) == 0 && batch_signal != 0) {
                snprintf(err, ERR_LEN, "interrupted by signal %d",
                    (int)batch_signal);
                goto fail;
            }
        }
        if (rc < 0)
            goto fail;
    }
    if (repo_done(r, err) != 0)
        goto fail;
    b->stats.rows = (int64_t)n;
    memset(info, 0, sizeof(*info));
    info->cutoff = rv->cutoff;
    info->events = rv->events;
    return store_writer_publish(w, info, err);
fail:
    store_writer_abort(w);
    return -1;
}

int
pull_run(struct batch *b, char *err)
{
    struct repo_reader *r = NULL;
    struct repo_version rv, again;
    struct store_batch_info cur, info;
    struct buf path, meta;
    char a[TS_BUFSZ], c[TS_BUFSZ];
    int rc = -1;

    buf_init(&path);
    buf_init(&meta);
    if (latest(b, &path, &rv, err) != 0 ||
        (rc = compare(b, &rv, path.data, &cur, err)) < 0)
        goto done;
    if (rc == 1) {
        log_info("store %s holds version %" PRId64 " of %s already: nothing "
            "to pull", b->p->store, cur.version, path.data);
        rc = 0;
        goto done;
    }
    rc = -1;
    if (repo_open(&r, path.data, REPO_KIND_VERSION, &meta, err) != 0)
        goto done;
    if (repo_version_decode(&meta, &again) != 0 ||
        again.version != rv.version) {
        snprintf(err, ERR_LEN, "%s: changed while read", path.data);
        goto done;
    }
    if (repo_get_views(r, b->p, err) != 0 ||
        import(b, r, &rv, &info, err) != 0)
        goto done;
    b->version = info.version;
    b->published = 1;
    b->cutoff = rv.cutoff;
    if (cur.version > 0 && rv.cutoff < cur.cutoff)
        log_warnx("the cutoff %s is before the replaced version's %s",
            ts_format(rv.cutoff, a, sizeof(a)),
            ts_format(cur.cutoff, c, sizeof(c)));
    log_info("pulled version %" PRId64 " from %s: events=%" PRId64
        " rows=%" PRId64 " cutoff=%s bytes=%" PRIu64 " seconds=%.2f",
        info.version, path.data, rv.events, b->stats.rows,
        ts_format(rv.cutoff, a, sizeof(a)), repo_size(r),
        now_mono_s() - b->started);
    rc = 0;
done:
    repo_close(r);
    buf_reset(&path);
    buf_reset(&meta);
    return rc;
}
