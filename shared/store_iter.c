/* store_iter.c -- cursor scans over a key prefix, and row iterators on them */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <lmdb.h>

#include "shared/agg.h"
#include "shared/err.h"
#include "shared/mem.h"
#include "shared/store.h"
#include "shared/store_int.h"

struct store_iter {
    struct store      *st;
    const struct view *v;
    struct store_scan  s;
    int64_t           *slots;
    unsigned char      gkey[STORE_KMAX];
    size_t             gklen;
};

/* ---- scans ---- */

static int
scan_seek(struct store_scan *s, unsigned char *k, size_t n, MDB_val *key,
    MDB_val *val)
{
    key->mv_data = k;
    key->mv_size = n;
    return mdb_cursor_get(s->cur, key, val, MDB_SET_RANGE);
}

/* memcmp(a, b, n) == 0 for the short prefixes of keys, 8 bytes at a time
 * and inline: a scan compares one per row. */
static inline int
same_prefix(const unsigned char *a, const unsigned char *b, size_t n)
{
    uint64_t x, y;

    for (; n >= 8; a += 8, b += 8, n -= 8) {
        memcpy(&x, a, 8);
        memcpy(&y, b, 8);
        if (x != y)
            return 0;
    }
    while (n-- > 0)
        if (*a++ != *b++)
            return 0;
    return 1;
}

/*
 * Next row of the scan: 0 with key and val, MDB_NOTFOUND at the end, or an
 * LMDB error. Every-group scans skip a group's rows outside [from, to) by
 * seeking, not by walking them: past bucket to, the next key is found by
 * seeking to the group's largest possible key.
 */
int
store_scan_next(struct store_scan *s, MDB_val *key, MDB_val *val)
{
    unsigned char tmp[STORE_KMAX + 9];
    const unsigned char *k;
    size_t n;
    int64_t b;
    int rc;

    switch (s->state) {
    case STORE_SCAN_END:
        return MDB_NOTFOUND;
    case STORE_SCAN_START:
        memcpy(tmp, s->pre, s->plen);
        n = s->plen;
        if (s->exact) {
            store_bucket_put(tmp + n, s->from);
            n += 8;
        }
        rc = scan_seek(s, tmp, n, key, val);
        break;
    case STORE_SCAN_RESEEK:
        memcpy(tmp, s->last, s->llen);
        tmp[s->llen] = 0x00;    /* the smallest key after last */
        rc = scan_seek(s, tmp, s->llen + 1, key, val);
        break;
    default:
        rc = mdb_cursor_get(s->cur, key, val, MDB_NEXT);
        break;
    }
    for (; rc == 0;) {
        k = key->mv_data;
        if (key->mv_size < s->plen || !same_prefix(k, s->pre, s->plen)) {
            rc = MDB_NOTFOUND;
            break;
        }
        if (s->exact) {
            size_t rest = key->mv_size - s->plen;

            if (rest == 8) {            /* prefix | bucket: the group's row */
                b = store_bucket_get(k + s->plen);
                if (b >= s->to) {
                    rc = MDB_NOTFOUND;
                    break;
                }
                if (b >= s->from)
                    break;
            } else {
                unsigned char hi[8];
                int c;

                store_bucket_put(hi, s->to);
                c = memcmp(k + s->plen, hi, rest < 8 ? rest : 8);
                if (c > 0 || (c == 0 && rest > 8)) {
                    rc = MDB_NOTFOUND;  /* at or past prefix|to */
                    break;
                }
            }
            /* a row before from, or a longer group key starting with ours */
            rc = mdb_cursor_get(s->cur, key, val, MDB_NEXT);
            continue;
        }
        if (key->mv_size < s->plen + 8)
            return MDB_CORRUPTED;
        n = key->mv_size - 8;
        b = store_bucket_get(k + n);
        if (b < s->from) {
            memcpy(tmp, k, n);
            store_bucket_put(tmp + n, s->from);
            rc = scan_seek(s, tmp, n + 8, key, val);
            continue;
        }
        if (b >= s->to) {
            memcpy(tmp, k, n);
            memset(tmp + n, 0xff, 8);
            rc = scan_seek(s, tmp, n + 8, key, val);
            if (rc == 0 && key->mv_size == n + 8 &&
                memcmp(key->mv_data, tmp, n + 8) == 0)
                rc = mdb_cursor_get(s->cur, key, val, MDB_NEXT);
            continue;
        }
        break;
    }
    if (rc == 0) {
        memcpy(s->last, key->mv_data, key->mv_size);
        s->llen = key->mv_size;
        s->state = STORE_SCAN_NEXT;
    } else if (rc == MDB_NOTFOUND) {
        s->state = STORE_SCAN_END;
    }
    return rc;
}

/* Prefix of a view's batch rows: version | view | 0x00 | level. */
int
store_batch_prefix(unsigned char *p, size_t *n, uint32_t version,
    const char *view, int level)
{
    size_t vl = strlen(view);

    if (4 + vl + 2 + 8 > STORE_KMAX)
        return -1;
    store_be32_put(p, version);
    memcpy(p + 4, view, vl);
    p[4 + vl] = 0x00;
    p[5 + vl] = (unsigned char)level;
    *n = vl + 6;
    return 0;
}

static int
iter_new(struct store_txn *t, MDB_dbi dbi, const struct view *v,
    const unsigned char *pre, size_t plen, const void *gkey, size_t gklen,
    int64_t from, int64_t to, struct store_iter **out, char *err)
{
    struct store_iter *it;
    int rc;

    if (plen + gklen + 8 > STORE_KMAX) {
        snprintf(err, ERR_LEN, "store %s: view %s: key too long",
            t->st->dir, v->name);
        return -1;
    }
    it = xcalloc(1, sizeof(*it));
    it->st = t->st;
    it->v = v;
    it->slots = xcalloc(v->nslots > 0 ? (size_t)v->nslots : 1,
        sizeof(int64_t));
    memcpy(it->s.pre, pre, plen);
    it->s.plen = plen;
    if (gkey != NULL) {
        store_copy(it->s.pre + plen, gkey, gklen);
        it->s.plen += gklen;
        it->s.exact = 1;
        store_copy(it->gkey, gkey, gklen);
        it->gklen = gklen;
    }
    it->s.from = from;
    it->s.to = to;
    it->s.state = from >= to ? STORE_SCAN_END : STORE_SCAN_START;
    if ((rc = mdb_cursor_open(t->txn, dbi, &it->s.cur)) != 0) {
        store_set_err(t->st, err, "mdb_cursor_open", rc);
        store_iter_free(it);
        return -1;
    }
    *out = it;
    return 0;
}

int
store_iter_batch(struct store_txn *t, int64_t version, const struct view *v,
    int level, const void *gkey, size_t gklen, int64_t from, int64_t to,
    struct store_iter **out, char *err)
{
    unsigned char pre[STORE_KMAX];
    size_t plen;

    if (version <= 0 || version > UINT32_MAX || level < STORE_LEVEL_BASE ||
        level > STORE_LEVEL_ALL ||
        store_batch_prefix(pre, &plen, (uint32_t)version, v->name,
        level) != 0) {
        snprintf(err, ERR_LEN, "store %s: view %s: bad batch version %lld, "
            "level %d or name", t->st->dir, v->name, (long long)version,
            level);
        return -1;
    }
    return iter_new(t, t->st->batch, v, pre, plen, gkey, gklen, from, to,
        out, err);
}

int
store_iter_speed(struct store_txn *t, const struct view *v, const void *gkey,
    size_t gklen, int64_t from, int64_t to, struct store_iter **out,
    char *err)
{
    unsigned char pre[STORE_KMAX];
    size_t vl = strlen(v->name);

    if (vl + 1 + 8 > STORE_KMAX) {
        snprintf(err, ERR_LEN, "store %s: view name too long", t->st->dir);
        return -1;
    }
    memcpy(pre, v->name, vl);
    pre[vl] = 0x00;
    return iter_new(t, t->st->speed, v, pre, vl + 1, gkey, gklen, from, to,
        out, err);
}

int
store_iter_next(struct store_iter *it, struct store_row *row, char *err)
{
    MDB_val k, d;
    size_t size = agg_row_size(it->v);
    int rc;

    rc = store_scan_next(&it->s, &k, &d);
    if (rc == MDB_NOTFOUND)
        return STORE_NOTFOUND;
    if (rc != 0) {
        store_set_err(it->st, err, "cursor", rc);
        return -1;
    }
    if (d.mv_size != size) {
        snprintf(err, ERR_LEN, "store %s: view %s: row of %zu bytes, "
            "expected %zu", it->st->dir, it->v->name, d.mv_size, size);
        return -1;
    }
    agg_row_decode(it->v, d.mv_data, it->slots);
    if (!it->s.exact) {
        /* the group key sits between the prefix and the bucket */
        it->gklen = k.mv_size - 8 - it->s.plen;
        store_copy(it->gkey, (const unsigned char *)k.mv_data + it->s.plen,
            it->gklen);
    }
    row->gkey = it->gkey;
    row->gklen = it->gklen;
    row->bucket = store_bucket_get((const unsigned char *)k.mv_data +
        k.mv_size - 8);
    row->slots = it->slots;
    return 0;
}

void
store_iter_free(struct store_iter *it)
{
    if (it == NULL)
        return;
    if (it->s.cur != NULL)
        mdb_cursor_close(it->s.cur);
    free(it->slots);
    free(it);
}
