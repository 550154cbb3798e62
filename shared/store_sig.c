/* store_sig.c -- view signatures: rows are read only under their definition */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "shared/err.h"
#include "shared/pipeline.h"
#include "shared/store.h"
#include "shared/store_int.h"
#include "shared/viewdef.h"

static void
changed(struct store_txn *t, const struct view *v, int64_t version, char *err)
{
    if (version > 0)
        snprintf(err, ERR_LEN, "store %s: view %s changed since batch "
            "version %lld was published (run lambda-batch to rebuild it)",
            t->st->dir, v->name, (long long)version);
    else
        snprintf(err, ERR_LEN, "store %s: view %s changed since lambda-speed "
            "wrote its rows (run lambda-batch to switch it)",
            t->st->dir, v->name);
}

static int
sig_name(char *name, size_t size, int64_t version, const char *view)
{
    if (version > 0)
        return store_span_name(name, size, "sig", version, view);
    return snprintf(name, size, "speedsig/%s", view) >= (int)size ? -1 : 0;
}

int
store_view_sig(struct store_txn *t, int64_t version, const char *view,
    int64_t *sig, char *err)
{
    char name[STORE_KMAX + 1];

    if (sig_name(name, sizeof(name), version, view) != 0)
        return STORE_NOTFOUND;
    return store_meta_get_i64(t, name, sig, err);
}

int
store_view_check(struct store_txn *t, const struct pipeline *p,
    const struct view *v, int64_t version, char *err)
{
    int64_t sig;
    int rc;

    if ((rc = store_view_sig(t, version, v->name, &sig, err)) != 0)
        return rc == STORE_NOTFOUND ? 0 : -1;
    if (sig != (int64_t)pipeline_view_signature(p, v)) {
        changed(t, v, version, err);
        return -1;
    }
    return 0;
}

int
store_speed_follows(struct store_txn *t, const struct pipeline *p,
    const struct view *v, char *err)
{
    struct store_batch_info info;
    int64_t sig;
    int rc;

    /* the speed rows' definition, else the published version's */
    rc = store_view_sig(t, 0, v->name, &sig, err);
    if (rc == STORE_NOTFOUND) {
        if ((rc = store_batch_current(t, &info, err)) < 0)
            return -1;
        rc = rc == 0 ? store_view_sig(t, info.version, v->name, &sig, err) :
            STORE_NOTFOUND;
    }
    if (rc < 0)
        return -1;
    if (rc == STORE_NOTFOUND)
        return STORE_SPEED_NEW;
    return sig == (int64_t)pipeline_view_signature(p, v) ? STORE_SPEED_SAME :
        STORE_SPEED_OTHER;
}

int
store_speed_sign(struct store_txn *t, const struct pipeline *p, char *err)
{
    for (int i = 0; i < p->nviews; i++) {
        const struct view *v = &p->views[i];
        char name[STORE_KMAX + 1];
        int rc;

        if ((rc = store_speed_follows(t, p, v, err)) < 0)
            return -1;
        if (rc == STORE_SPEED_OTHER)
            continue;       /* the store's definition stays: lambda-batch
                               switches it */
        if (sig_name(name, sizeof(name), 0, v->name) != 0)
            continue;
        if (store_meta_put_i64(t, name,
            (int64_t)pipeline_view_signature(p, v), err) != 0 ||
            viewdef_put(t, p, v, err) != 0)
            return -1;
    }
    return 0;
}

/* Delete every key of dbi starting with pre (plen bytes). */
static int
drop_prefix(struct store_txn *t, MDB_dbi dbi, const unsigned char *pre,
    size_t plen, const char *what, char *err)
{
    MDB_cursor *cur = NULL;
    MDB_val k, d;
    int rc;

    k.mv_data = (void *)pre;
    k.mv_size = plen;
    if ((rc = mdb_cursor_open(t->txn, dbi, &cur)) == 0)
        rc = mdb_cursor_get(cur, &k, &d, MDB_SET_RANGE);
    while (rc == 0 && k.mv_size >= plen && memcmp(k.mv_data, pre, plen) == 0) {
        if ((rc = mdb_cursor_del(cur, 0)) != 0)
            break;
        rc = mdb_cursor_get(cur, &k, &d, MDB_NEXT);
    }
    return store_cursor_done(t, cur, rc, what, err);
}

int
store_speed_drop_view(struct store_txn *t, const char *view, char *err)
{
    unsigned char pre[STORE_KMAX];
    char name[STORE_KMAX + 1];
    size_t plen = strlen(view) + 1;

    if (store_need_write(t, err) != 0)
        return -1;
    if (plen > sizeof(pre) || sig_name(name, sizeof(name), 0, view) != 0) {
        snprintf(err, ERR_LEN, "store %s: view name %.64s... too long",
            t->st->dir, view);
        return -1;
    }
    memcpy(pre, view, plen);        /* view | 0x00, in both databases */
    if (drop_prefix(t, t->st->speed, pre, plen, "drop speed rows", err) != 0)
        return -1;
    /* the ledger's rows were written under the same definition */
    if (t->st->has_late && drop_prefix(t, t->st->late, pre, plen,
        "drop late-data ledger entries", err) != 0)
        return -1;
    return store_meta_del(t, name, err);
}

int
store_meta_del(struct store_txn *t, const char *name, char *err)
{
    MDB_val k;
    int rc;

    if (store_need_write(t, err) != 0)
        return -1;
    k.mv_data = (void *)name;
    k.mv_size = strlen(name);
    rc = mdb_del(t->txn, t->st->meta, &k, NULL);
    if (rc != 0 && rc != MDB_NOTFOUND) {
        store_set_err(t->st, err, "delete meta", rc);
        return -1;
    }
    return 0;
}
