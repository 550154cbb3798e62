/* store_sig.c -- view signatures: rows are read only under their definition */
#include <stdint.h>
#include <stdio.h>

#include "shared/err.h"
#include "shared/pipeline.h"
#include "shared/store.h"
#include "shared/store_int.h"

static void
changed(struct store_txn *t, const struct view *v, int64_t version, char *err)
{
    if (version > 0)
        snprintf(err, ERR_LEN, "store %s: view %s changed since batch "
            "version %lld was published (run lambda-batch to rebuild it)",
            t->st->dir, v->name, (long long)version);
    else
        snprintf(err, ERR_LEN, "store %s: view %s changed since lambda-speed "
            "wrote its rows (start from a new store and replay the topic)",
            t->st->dir, v->name);
}

int
store_view_check(struct store_txn *t, const struct pipeline *p,
    const struct view *v, int64_t version, char *err)
{
    char name[STORE_KMAX + 1];
    int64_t sig;
    int rc;

    if (version > 0)
        rc = store_span_name(name, sizeof(name), "sig", version, v->name);
    else
        rc = snprintf(name, sizeof(name), "speedsig/%s", v->name) >=
            (int)sizeof(name) ? -1 : 0;
    if (rc != 0)
        return 0;
    if ((rc = store_meta_get_i64(t, name, &sig, err)) != 0)
        return rc == STORE_NOTFOUND ? 0 : -1;
    if (sig != (int64_t)pipeline_view_signature(p, v)) {
        changed(t, v, version, err);
        return -1;
    }
    return 0;
}

int
store_speed_sign(struct store_txn *t, const struct pipeline *p, char *err)
{
    for (int i = 0; i < p->nviews; i++) {
        const struct view *v = &p->views[i];
        char name[STORE_KMAX + 1];
        struct store_iter *it = NULL;
        struct store_row row;
        int rc;

        if (snprintf(name, sizeof(name), "speedsig/%s", v->name) >=
            (int)sizeof(name))
            continue;
        if (store_view_check(t, p, v, 0, err) != 0) {
            /* rows written under the old definition: refuse; none: re-sign */
            if (store_iter_speed(t, v, NULL, 0, INT64_MIN, INT64_MAX, &it,
                err) != 0)
                return -1;
            rc = store_iter_next(it, &row, err);  /* -1: old row size */
            store_iter_free(it);
            if (rc != STORE_NOTFOUND) {
                changed(t, v, 0, err);
                return -1;
            }
        }
        if (store_meta_put_i64(t, name,
            (int64_t)pipeline_view_signature(p, v), err) != 0)
            return -1;
    }
    return 0;
}
