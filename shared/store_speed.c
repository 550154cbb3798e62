/* store_speed.c -- speed rows (merge, prune) and Kafka offsets beside them */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <lmdb.h>

#include "shared/agg.h"
#include "shared/err.h"
#include "shared/mem.h"
#include "shared/store.h"
#include "shared/store_int.h"

/* ---- speed ---- */

static int
speed_key(struct store_txn *t, const struct view *v, const void *gkey,
    size_t gklen, int64_t bucket, unsigned char *k, size_t *n, char *err)
{
    size_t vl = strlen(v->name);

    if (vl + 1 + gklen + 8 > STORE_KMAX) {
        snprintf(err, ERR_LEN, "store %s: view %s: key of %zu bytes too "
            "long", t->st->dir, v->name, vl + 1 + gklen + 8);
        return -1;
    }
    memcpy(k, v->name, vl);
    k[vl] = 0x00;
    if (gklen > 0)
        memcpy(k + vl + 1, gkey, gklen);
    store_bucket_put(k + vl + 1 + gklen, bucket);
    *n = vl + 1 + gklen + 8;
    return 0;
}

int
store_speed_merge(struct store_txn *t, const struct view *v, const void *gkey,
    size_t gklen, int64_t bucket, const int64_t *delta, char *err)
{
    unsigned char kb[STORE_KMAX];
    int64_t stackrow[64], *row = stackrow;
    size_t size = agg_row_size(v);
    MDB_val k, d;
    int rc, ret = -1;

    if (store_need_write(t, err) != 0 ||
        speed_key(t, v, gkey, gklen, bucket, kb, &k.mv_size, err) != 0)
        return -1;
    k.mv_data = kb;
    if (v->nslots > 64)
        row = xmalloc((size_t)v->nslots * sizeof(int64_t));
    rc = mdb_get(t->txn, t->st->speed, &k, &d);
    if (rc == 0) {
        if (d.mv_size != size) {
            snprintf(err, ERR_LEN, "store %s: view %s: speed row of %zu "
                "bytes, expected %zu", t->st->dir, v->name, d.mv_size, size);
            goto done;
        }
        agg_row_decode(v, d.mv_data, row);
    } else if (rc == MDB_NOTFOUND) {
        agg_row_init(v, row);
    } else {
        store_set_err(t->st, err, "get speed row", rc);
        goto done;
    }
    if (agg_row_merge(v, row, delta) != 0) {
        snprintf(err, ERR_LEN, "store %s: view %s: sum overflow in a speed "
            "row", t->st->dir, v->name);
        goto done;
    }
    d.mv_size = size;
    if ((rc = mdb_put(t->txn, t->st->speed, &k, &d, MDB_RESERVE)) != 0) {
        store_set_err(t->st, err, "put speed row", rc);
        goto done;
    }
    agg_row_encode(v, row, d.mv_data);
    ret = 0;
done:
    if (row != stackrow)
        free(row);
    return ret;
}

int
store_speed_prune(struct store_txn *t, int64_t cutoff, char *err)
{
    unsigned char tmp[STORE_KMAX];
    MDB_cursor *cur = NULL;
    MDB_val k, d;
    size_t n;
    int rc;

    if (store_need_write(t, err) != 0)
        return -1;
    if ((rc = mdb_cursor_open(t->txn, t->st->speed, &cur)) != 0)
        goto done;
    rc = mdb_cursor_get(cur, &k, &d, MDB_FIRST);
    while (rc == 0) {
        if (k.mv_size < 8) {
            rc = MDB_CORRUPTED;
            break;
        }
        n = k.mv_size - 8;
        if (store_bucket_get((const unsigned char *)k.mv_data + n) < cutoff) {
            if ((rc = mdb_cursor_del(cur, 0)) != 0)
                break;
            rc = mdb_cursor_get(cur, &k, &d, MDB_NEXT);
            continue;
        }
        /* the rest of this group is at or after cutoff: skip past it */
        memcpy(tmp, k.mv_data, n);
        memset(tmp + n, 0xff, 8);
        k.mv_data = tmp;
        k.mv_size = n + 8;
        rc = mdb_cursor_get(cur, &k, &d, MDB_SET_RANGE);
        if (rc == 0 && k.mv_size == n + 8 && memcmp(k.mv_data, tmp, n + 8) == 0)
            rc = mdb_cursor_get(cur, &k, &d, MDB_NEXT);
    }
done:
    return store_cursor_done(t, cur, rc, "prune speed rows", err);
}

/* ---- offsets ---- */

int
store_part_name(struct store_txn *t, char *buf, size_t size,
    const char *prefix, const char *topic, int32_t partition, char *err)
{
    int n = snprintf(buf, size, "%s%s/%d", prefix, topic, (int)partition);

    if (n < 0 || (size_t)n >= size) {
        snprintf(err, ERR_LEN, "store %s: topic name too long", t->st->dir);
        return -1;
    }
    return 0;
}

int
store_offset_get(struct store_txn *t, const char *topic, int32_t partition,
    int64_t *next, char *err)
{
    char name[STORE_KMAX + 1];

    if (store_part_name(t, name, sizeof(name), "offset/", topic,
        partition, err) != 0)
        return -1;
    return store_meta_get_i64(t, name, next, err);
}

int
store_offset_put(struct store_txn *t, const char *topic, int32_t partition,
    int64_t next, char *err)
{
    char name[STORE_KMAX + 1];

    if (store_part_name(t, name, sizeof(name), "offset/", topic,
        partition, err) != 0)
        return -1;
    return store_meta_put_i64(t, name, next, err);
}
