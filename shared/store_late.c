/* store_late.c -- the late-data ledger: merge, scan and clear its entries */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <lmdb.h>

#include "shared/agg.h"
#include "shared/err.h"
#include "shared/late.h"
#include "shared/mem.h"
#include "shared/store.h"
#include "shared/store_int.h"

#define SFX 21          /* bucket(8) | partition(4) | offset(8) | archived(1) */
#define HEAD 16         /* events(8) | flags(8) */

/* view | 0x00 | gkey into k; its length, or 0 when no room for SFX. */
static size_t
late_prefix(const struct view *v, const void *gkey, size_t gklen,
    unsigned char *k)
{
    size_t vl = strlen(v->name);

    if (vl + 1 + gklen + SFX > STORE_KMAX)
        return 0;
    memcpy(k, v->name, vl);
    k[vl] = 0x00;
    store_copy(k + vl + 1, gkey, gklen);
    return vl + 1 + gklen;
}

static void
late_sfx(unsigned char *p, int64_t bucket, int32_t part, int64_t offset,
    int archived)
{
    store_bucket_put(p, bucket);
    store_be32_put(p + 8, (uint32_t)part);
    store_be_put(p + 12, (uint64_t)offset, 8);
    p[20] = archived ? 1 : 0;
}

int
store_late_merge(struct store_txn *t, const struct view *v, const void *gkey,
    size_t gklen, int64_t bucket, int32_t part, int64_t offset, int archived,
    int64_t events, const int64_t *row, char *err)
{
    unsigned char kb[STORE_KMAX];
    size_t size = HEAD + agg_row_size(v), n;
    int64_t *cur, old = 0;
    MDB_val k, d;
    int rc, ret = -1;

    if (store_need_write(t, err) != 0)
        return -1;
    if ((n = late_prefix(v, gkey, gklen, kb)) == 0) {
        snprintf(err, ERR_LEN, "store %s: view %s: late key too long",
            t->st->dir, v->name);
        return -1;
    }
    late_sfx(kb + n, bucket, part, offset, archived);
    k.mv_data = kb;
    k.mv_size = n + SFX;
    cur = xmalloc(((size_t)v->nslots + 1) * sizeof(int64_t));
    rc = mdb_get(t->txn, t->st->late, &k, &d);
    if (rc == 0 && d.mv_size == size) {
        old = store_le64_get(d.mv_data);
        agg_row_decode(v, (const unsigned char *)d.mv_data + HEAD, cur);
    } else if (rc == 0) {
        snprintf(err, ERR_LEN, "store %s: view %s: late entry of %zu bytes, "
            "expected %zu", t->st->dir, v->name, d.mv_size, size);
        goto done;
    } else if (rc == MDB_NOTFOUND) {
        agg_row_init(v, cur);
    } else {
        store_set_err(t->st, err, "get late entry", rc);
        goto done;
    }
    if (agg_row_merge(v, cur, row) != 0) {
        snprintf(err, ERR_LEN, "store %s: view %s: sum overflow in a late "
            "entry", t->st->dir, v->name);
        goto done;
    }
    d.mv_size = size;
    if ((rc = mdb_put(t->txn, t->st->late, &k, &d, MDB_RESERVE)) != 0) {
        store_set_err(t->st, err, "put late entry", rc);
        goto done;
    }
    store_le64_put(d.mv_data, old + events);
    store_le64_put((unsigned char *)d.mv_data + 8,
        archived ? LATE_ARCHIVED : 0);
    agg_row_encode(v, cur, (unsigned char *)d.mv_data + HEAD);
    ret = 0;
done:
    free(cur);
    return ret;
}

int
store_late_scan(struct store_txn *t, const struct view *v, const void *gkey,
    size_t gklen, int64_t from, int64_t to,
    int (*fn)(void *arg, const struct late_entry *e), void *arg, char *err)
{
    unsigned char kb[STORE_KMAX];
    size_t size = HEAD + agg_row_size(v), n;
    const unsigned char *p;
    struct late_entry e;
    MDB_cursor *cur = NULL;
    int64_t *row = NULL;
    MDB_val k, d;
    int rc;

    if (!t->st->has_late || from >= to)
        return 0;
    if ((n = late_prefix(v, gkey, gklen, kb)) == 0)
        return 0;       /* no such key was ever stored */
    store_bucket_put(kb + n, from);
    k.mv_data = kb;
    k.mv_size = n + 8;
    row = xmalloc(((size_t)v->nslots + 1) * sizeof(int64_t));
    if ((rc = mdb_cursor_open(t->txn, t->st->late, &cur)) != 0)
        goto done;
    for (rc = mdb_cursor_get(cur, &k, &d, MDB_SET_RANGE); rc == 0;
        rc = mdb_cursor_get(cur, &k, &d, MDB_NEXT)) {
        p = k.mv_data;
        if (k.mv_size < n || memcmp(p, kb, n) != 0)
            break;
        if (k.mv_size != n + SFX)
            continue;       /* a longer group key: another group */
        if ((e.bucket = store_bucket_get(p + n)) >= to)
            break;
        if (d.mv_size != size) {
            rc = MDB_CORRUPTED;
            break;
        }
        e.part = (int32_t)store_be32_get(p + n + 8);
        e.offset = (int64_t)store_be_get(p + n + 12, 8);
        e.archived = p[n + 20] != 0;
        e.events = store_le64_get(d.mv_data);
        agg_row_decode(v, (const unsigned char *)d.mv_data + HEAD, row);
        e.row = row;
        if (fn(arg, &e) != 0)
            break;
    }
done:
    free(row);
    return store_cursor_done(t, cur, rc, "read late entries", err);
}

/* An archived entry a publish with cutoff, whose inputs hold l, clears. */
static int
absorbed(int64_t bucket, int32_t part, int64_t offset, int64_t cutoff,
    const struct late_listing *l)
{
    return l != NULL && bucket < cutoff && part >= 0 && part < l->n &&
        offset <= l->last[part];
}

struct absorb {
    int64_t                    cutoff;
    const struct late_listing *l;
    int64_t                    events;
};

static int
absorb_one(void *arg, const struct late_entry *e)
{
    struct absorb *a = arg;

    if (e->archived && absorbed(e->bucket, e->part, e->offset, a->cutoff,
        a->l))
        a->events += e->events;
    return 0;
}

int
store_late_absorbed(struct store_txn *t, const struct view *v,
    const void *gkey, size_t gklen, int64_t bucket, int64_t cutoff,
    const struct late_listing *l, int64_t *events, char *err)
{
    struct absorb a = {cutoff, l, 0};

    *events = 0;
    if (l == NULL || l->n == 0 || bucket >= cutoff)
        return 0;
    if (store_late_scan(t, v, gkey, gklen, bucket, bucket + 1, absorb_one,
        &a, err) != 0)
        return -1;
    *events = a.events;
    return 0;
}

/*
 * Every entry for which drop(arg, bucket, part, offset, archived) says so:
 * deleted when del (a write transaction), else only counted; its events
 * are added to *archived or *unarchived and 1 to *entries (each may be
 * NULL).
 */
static int
late_sweep(struct store_txn *t,
    int (*drop)(const void *arg, int64_t bucket, int32_t part, int64_t offset,
    int archived), const void *arg, int del, int64_t *archived,
    int64_t *unarchived, int64_t *entries, char *err)
{
    const unsigned char *p;
    MDB_cursor *cur = NULL;
    int64_t ev;
    MDB_val k, d;
    int rc, arch;

    if (del && store_need_write(t, err) != 0)
        return -1;
    if (!del && !t->st->has_late)
        return 0;   /* read-only, an older store: no ledger */
    if ((rc = mdb_cursor_open(t->txn, t->st->late, &cur)) != 0)
        goto done;
    rc = mdb_cursor_get(cur, &k, &d, MDB_FIRST);
    while (rc == 0) {
        if (k.mv_size < 1 + SFX || d.mv_size < HEAD) {
            rc = MDB_CORRUPTED;
            break;
        }
        p = (const unsigned char *)k.mv_data + k.mv_size - SFX;
        arch = p[20] != 0;
        ev = store_le64_get(d.mv_data);
        if (!drop(arg, store_bucket_get(p), (int32_t)store_be32_get(p + 8),
            (int64_t)store_be_get(p + 12, 8), arch)) {
            rc = mdb_cursor_get(cur, &k, &d, MDB_NEXT);
            continue;
        }
        if (del && (rc = mdb_cursor_del(cur, 0)) != 0)
            break;
        if (arch && archived != NULL)
            *archived += ev;
        if (!arch && unarchived != NULL)
            *unarchived += ev;
        if (entries != NULL)
            (*entries)++;
        /* after a delete, LMDB's MDB_NEXT gives the entry that followed
         * (as it does without one) */
        rc = mdb_cursor_get(cur, &k, &d, MDB_NEXT);
    }
done:
    return store_cursor_done(t, cur, rc, "delete late entries", err);
}

struct clear {
    int64_t                    cutoff;
    const struct late_listing *l;
};

static int
clear_drop(const void *arg, int64_t bucket, int32_t part, int64_t offset,
    int archived)
{
    const struct clear *c = arg;

    return archived ? absorbed(bucket, part, offset, c->cutoff, c->l) :
        c->cutoff != INT64_MIN && bucket < c->cutoff - LATE_KEEP_MS;
}

int
store_late_clear(struct store_txn *t, int64_t cutoff,
    const struct late_listing *l, int64_t *archived, int64_t *unarchived,
    char *err)
{
    struct clear c = {cutoff, l};

    return late_sweep(t, clear_drop, &c, 1, archived, unarchived, NULL,
        err);
}

static int
replayed_drop(const void *arg, int64_t bucket, int32_t part, int64_t offset,
    int archived)
{
    (void)part;
    (void)offset;
    (void)archived;
    return bucket >= *(const int64_t *)arg;
}

int
store_late_replayed(struct store_txn *t, int64_t from, int dry_run,
    int64_t *entries, char *err)
{
    return late_sweep(t, replayed_drop, &from, !dry_run, NULL, NULL, entries,
        err);
}
