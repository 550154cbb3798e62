/* publish.c -- write and publish the new version */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "batch/late.h"
#include "batch/progress.h"
#include "batch/publish.h"
#include "batch/table.h"
#include "batch/work.h"
#include "shared/err.h"
#include "shared/log.h"
#include "shared/mem.h"
#include "shared/now.h"
#include "shared/publog.h"
#include "shared/ts.h"
#include "shared/viewswitch.h"

static int
by_name(const void *x, const void *y, void *arg)
{
    const struct pipeline *p = arg;

    return strcmp(p->views[*(const int *)x].name,
        p->views[*(const int *)y].name);
}

int *
publish_order(const struct pipeline *p)
{
    int *order = xcalloc((size_t)p->nviews + 1, sizeof(*order));

    for (int i = 0; i < p->nviews; i++)
        order[i] = i;
    qsort_r(order, (size_t)p->nviews, sizeof(*order), by_name,
        (void *)(uintptr_t)p);
    return order;
}

int
publish_check(struct batch *b, char *err)
{
    struct store_txn *t = NULL;
    struct store_batch_info cur;
    char a[TS_BUFSZ], c[TS_BUFSZ];
    int rc;

    if (b->st == NULL) {
        rc = STORE_NOTFOUND;    /* a dry run before the store exists */
    } else {
        if (store_txn_begin(b->st, 0, &t, err) != 0)
            return -1;
        rc = store_batch_current(t, &cur, err);
        store_txn_abort(t);
        if (rc < 0)
            return -1;
    }
    if (rc == STORE_NOTFOUND) {
        if (b->from < 0)
            return 0;
        snprintf(err, ERR_LEN, "--from %s: no version is published yet to "
            "keep the rows before it (run without --from first)",
            ts_format(b->from, a, sizeof(a)));
        return -1;
    }
    if (b->from > cur.cutoff) {
        snprintf(err, ERR_LEN, "--from %s is after the published cutoff %s: "
            "the buckets in between would be answered by neither layer "
            "(give --from %s or earlier)", ts_format(b->from, a, sizeof(a)),
            ts_format(cur.cutoff, c, sizeof(c)), c);
        return -1;
    }
    if (b->cutoff < cur.cutoff)
        log_warnx("the cutoff %s is before the published version's %s "
            "(inputs missing?): speed has pruned the buckets in between, "
            "which read empty until a run covers them again",
            ts_format(b->cutoff, a, sizeof(a)),
            ts_format(cur.cutoff, c, sizeof(c)));
    return 0;
}

int
publish_walk(struct batch *b,
    int (*fn)(void *arg, const struct view *v, const void *key, size_t klen,
    int64_t bucket, const int64_t *row, char *err), void *arg, char *err)
{
    int64_t lo = b->from >= 0 ? b->from : INT64_MIN;
    int *order = publish_order(b->p);
    int rc = -1;

    b->stats.rows = 0;
    for (int k = 0; k < b->p->nviews; k++) {
        const struct view *v = &b->p->views[order[k]];
        struct table *t = work_table(b, order[k]);
        size_t n;
        uint32_t *rows = table_sorted(t, lo, b->cutoff, &n);

        log_debug("%s: view %s: writing %zu rows at %.3f s", __func__,
            v->name, n, now_mono_s() - b->started);
        for (size_t i = 0; i < n; i++) {
            const void *key;
            size_t klen;
            int64_t bucket;
            const int64_t *row;

            if ((i & 4095) == 0)
                progress_write(&b->progress, v->name, i, n);
            if ((i & 4095) == 0 && batch_signal != 0) {
                snprintf(err, ERR_LEN, "interrupted by signal %d",
                    (int)batch_signal);
                free(rows);
                goto done;
            }
            if (i + 8 < n)
                table_prefetch_row(t, rows[i + 8]);
            table_entry(t, rows[i], &key, &klen, &bucket, &row);
            if (fn(arg, v, key, klen, bucket, row, err) != 0) {
                free(rows);
                goto done;
            }
        }
        b->stats.rows += (int64_t)n;
        free(rows);
    }
    if (batch_signal != 0) {
        snprintf(err, ERR_LEN, "interrupted by signal %d", (int)batch_signal);
        goto done;
    }
    rc = 0;
done:
    free(order);
    return rc;
}

static int
put_row(void *arg, const struct view *v, const void *key, size_t klen,
    int64_t bucket, const int64_t *row, char *err)
{
    return store_writer_put(arg, v, key, klen, bucket, row, err);
}

int
publish_switch_views(void *arg, struct store_txn *t,
    const struct store_batch_info *info, int64_t prev, char *err)
{
    struct batch *b = arg;
    struct viewswitch_stats st;

    return viewswitch_publish(t, b->p, prev, info->cutoff, &st, err);
}

int
publish_run(struct batch *b, char *err)
{
    struct store_writer *w = NULL;
    struct store_batch_info info;
    struct late_listing *late = NULL;
    int rc = -1;

    if (store_writer_begin(b->st, b->p, b->from, &w, err) != 0)
        goto done;
    store_writer_on_publish(w, publish_switch_views, b);
    store_writer_log(w, b->cutoff, b->stats.nrejects);
    late = late_listing_new(b);     /* the late-data ledger (late.h) */
    store_writer_late(w, late);
    if (publish_walk(b, put_row, w, err) != 0)
        goto done;
    memset(&info, 0, sizeof(info));
    info.cutoff = b->cutoff;
    info.events = b->stats.events;
    log_debug("%s: publishing at %.3f s", __func__, now_mono_s() - b->started);
    rc = store_writer_publish(w, &info, err);
    w = NULL;   /* freed by store_writer_publish() whatever happened */
    if (rc == 0)
        b->version = info.version;
done:
    store_writer_abort(w);
    late_listing_free(late);
    return rc;
}
