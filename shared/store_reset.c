/* store_reset.c -- lambda-speed --reset-to in one transaction: offsets, floors, rows, watermark */
#include <stdio.h>
#include <string.h>

#include <lmdb.h>

#include "shared/err.h"
#include "shared/late.h"
#include "shared/speedmeta.h"
#include "shared/store.h"
#include "shared/store_int.h"
#include "shared/store_reset.h"
#include "shared/viewswitch.h"

int
store_replay_get(struct store_txn *t, const char *topic, int32_t part,
    int64_t *below, int64_t *before, char *err)
{
    char name[STORE_KMAX + 1];
    const void *val;
    size_t len;
    int rc;

    if (store_part_name(t, name, sizeof(name), STORE_REPLAY_PREFIX,
        topic, part, err) != 0)
        return -1;
    if ((rc = store_meta_get(t, name, &val, &len, err)) != 0)
        return rc;
    if (len != 16)
        return store_damaged(t->st, err, "meta %.100s is %zu bytes, not a "
            "replay floor", name, len);
    *below = store_le64_get(val);
    *before = store_le64_get((const unsigned char *)val + 8);
    return 0;
}

static int
replay_put(struct store_txn *t, const char *topic,
    const struct store_reset_part *rp, char *err)
{
    char name[STORE_KMAX + 1];
    unsigned char v[16];

    if (store_part_name(t, name, sizeof(name), STORE_REPLAY_PREFIX,
        topic, rp->part, err) != 0)
        return -1;
    if (rp->below < 0)
        return store_meta_del(t, name, err);
    store_le64_put(v, rp->below);
    store_le64_put(v + 8, rp->before);
    return store_meta_put(t, name, v, sizeof(v), err);
}

/*
 * Keys are view | 0x00 | group key | bucket, so within a group the rows to
 * go are one run at its end: seek to (group, from), delete or count the
 * run, go on at the next group.
 */
int
store_reset_rows(struct store_txn *t, int64_t from, int dry_run,
    int64_t *rows, char *err)
{
    unsigned char kb[STORE_KMAX];
    MDB_cursor *cur = NULL;
    MDB_val k, d;
    size_t n;
    int rc;

    *rows = 0;
    if (from == INT64_MAX)
        return 0;
    if ((rc = mdb_cursor_open(t->txn, t->st->speed, &cur)) != 0)
        goto done;
    rc = mdb_cursor_get(cur, &k, &d, MDB_FIRST);
    while (rc == 0) {
        if (k.mv_size < 8 || k.mv_size > sizeof(kb)) {
            rc = MDB_CORRUPTED;
            break;
        }
        n = k.mv_size - 8;
        memcpy(kb, k.mv_data, n);
        if (store_bucket_get((const unsigned char *)k.mv_data + n) < from) {
            /* the group's first row at or after from, if any */
            store_bucket_put(kb + n, from);
            k.mv_data = kb;
            k.mv_size = n + 8;
            if ((rc = mdb_cursor_get(cur, &k, &d, MDB_SET_RANGE)) != 0)
                break;
        }
        /* at a row of this group at or after from, or another group */
        while (rc == 0 && k.mv_size == n + 8 &&
            memcmp(k.mv_data, kb, n) == 0) {
            if (!dry_run && (rc = mdb_cursor_del(cur, 0)) != 0)
                break;
            (*rows)++;
            rc = mdb_cursor_get(cur, &k, &d, MDB_NEXT);
        }
    }
done:
    return store_cursor_done(t, cur, rc, dry_run ? "count speed rows" :
        "delete speed rows", err);
}

int
store_reset_late(struct store_txn *t, int64_t from, int dry_run,
    int64_t *late, char *err)
{
    struct store_batch_info info;
    int rc;

    *late = 0;
    if (from == INT64_MAX)
        return 0;
    if ((rc = store_batch_current(t, &info, err)) < 0)
        return -1;
    if (rc == 0 && info.cutoff > from)
        from = info.cutoff;
    return store_late_replayed(t, from, dry_run, late, err);
}

int
store_reset_apply(struct store_txn *t, const struct store_reset *r,
    int64_t *rows, int64_t *late, char *err)
{
    *rows = 0;
    *late = 0;
    if (store_need_write(t, err) != 0)
        return -1;
    for (int i = 0; i < r->nparts; i++)
        if (store_offset_put(t, r->topic, r->parts[i].part,
            r->parts[i].next, err) != 0 ||
            replay_put(t, r->topic, &r->parts[i], err) != 0)
            return -1;
    if (r->from != INT64_MAX && (store_reset_rows(t, r->from, 0, rows,
        err) != 0 ||
        store_reset_late(t, r->from, 0, late, err) != 0 ||
        /* a view switched without an archive waits for this replay */
        viewswitch_gap_clear(t, r->from, err) != 0))
        return -1;
    if (r->watermark == INT64_MIN)
        return store_meta_del(t, SPEEDMETA_WATERMARK, err);
    return store_meta_put_i64(t, SPEEDMETA_WATERMARK, r->watermark, err);
}
