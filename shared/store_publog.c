/* store_publog.c -- the publish log: each publish's diff, the last 20 kept */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <lmdb.h>

#include "shared/buf.h"
#include "shared/err.h"
#include "shared/mem.h"
#include "shared/publog.h"
#include "shared/store.h"
#include "shared/store_int.h"

/*
 * Values (integers little-endian, as all of meta):
 *     publog/V     format(1) | version, previous, cutoff, previous_cutoff,
 *                  published_at, events, rejects, from, counts[3] (8 each)
 *     publogv/V/N  format(1) | nwhy(1) | sig(8) | rowsize(4) | counts[3]
 *                  (8 each) | why[nwhy] (8 each) | detlen[3] (4 each) |
 *                  the details of each kind, one after the other
 * A detail is why(1) | gkey length(2, big-endian) | gkey | bucket(8, the
 * batch keys' encoding) | before row (not for added) | after row (not for
 * removed). nwhy lets a later build add reasons: a reader takes the ones it
 * knows.
 */

#define FORMAT 1
#define INFO_LEN (1 + 11 * 8)
#define VIEW_HEAD(nwhy) (1 + 1 + 8 + 4 + PUBLOG_NKINDS * 8 + (nwhy) * 8 + \
    PUBLOG_NKINDS * 4)

static const char *const kind_names[PUBLOG_NKINDS] = {
    "added", "changed", "removed"
};

static const char *const why_names[PUBLOG_NWHY] = {
    "new data", "late data", "backfill", "removed from inputs",
    "cutoff moved back", "view added", "view redefined", "view dropped",
    "late events absorbed"
};

const char *
publog_kind_name(int kind)
{
    return kind >= 0 && kind < PUBLOG_NKINDS ? kind_names[kind] : "?";
}

const char *
publog_why_name(int why)
{
    return why >= 0 && why < PUBLOG_NWHY ? why_names[why] : "unknown";
}

/* ---- names ---- */

static void
info_name(char *buf, size_t size, int64_t version)
{
    snprintf(buf, size, "publog/%010lld", (long long)version);
}

/* "publogv/V/" (view NULL) or "publogv/V/VIEW"; -1 when it does not fit. */
static int
view_name(char *buf, size_t size, int64_t version, const char *view)
{
    int n = snprintf(buf, size, "publogv/%010lld/%s", (long long)version,
        view != NULL ? view : "");

    return n < 0 || (size_t)n >= size ? -1 : 0;
}

/* ---- encoding ---- */

static void
put64(struct buf *b, int64_t v)
{
    unsigned char p[8];

    store_le64_put(p, v);
    buf_append(b, p, 8);
}

static void
put32(struct buf *b, uint32_t v)
{
    unsigned char p[4];

    for (int i = 0; i < 4; i++)
        p[i] = (unsigned char)(v >> (8 * i));
    buf_append(b, p, 4);
}

static uint32_t
get32(const unsigned char *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
        (uint32_t)p[3] << 24;
}

static int
info_decode(const void *val, size_t len, struct publog_info *info)
{
    const unsigned char *p = val;
    int64_t f[11];

    if (len < INFO_LEN || p[0] != FORMAT)
        return -1;
    for (int i = 0; i < 11; i++)
        f[i] = store_le64_get(p + 1 + 8 * i);
    info->version = f[0];
    info->previous = f[1];
    info->cutoff = f[2];
    info->previous_cutoff = f[3];
    info->published_at = f[4];
    info->events = f[5];
    info->rejects = f[6];
    info->from = f[7];
    for (int k = 0; k < PUBLOG_NKINDS; k++)
        info->counts[k] = f[8 + k];
    return 0;
}

static void
view_encode(struct buf *b, const struct publog_view *pv)
{
    unsigned char h[2] = {FORMAT, PUBLOG_NWHY};

    buf_append(b, h, 2);
    put64(b, (int64_t)pv->sig);
    put32(b, (uint32_t)pv->rowsize);
    for (int k = 0; k < PUBLOG_NKINDS; k++)
        put64(b, pv->counts[k]);
    for (int w = 0; w < PUBLOG_NWHY; w++)
        put64(b, pv->why[w]);
    for (int k = 0; k < PUBLOG_NKINDS; k++)
        put32(b, (uint32_t)pv->detlen[k]);
    for (int k = 0; k < PUBLOG_NKINDS; k++)
        if (pv->detlen[k] > 0)
            buf_append(b, pv->details[k], pv->detlen[k]);
}

static int
view_decode(const void *val, size_t len, struct publog_view *pv)
{
    const unsigned char *p = val;
    size_t nwhy, off, total = 0;

    if (len < 2 || p[0] != FORMAT || len < VIEW_HEAD((size_t)p[1]))
        return -1;
    nwhy = p[1];
    memset(pv, 0, sizeof(*pv));
    pv->sig = (uint64_t)store_le64_get(p + 2);
    pv->rowsize = get32(p + 10);
    off = 14;
    for (int k = 0; k < PUBLOG_NKINDS; k++, off += 8)
        pv->counts[k] = store_le64_get(p + off);
    for (size_t w = 0; w < nwhy; w++, off += 8)
        if (w < PUBLOG_NWHY)
            pv->why[w] = store_le64_get(p + off);
    for (int k = 0; k < PUBLOG_NKINDS; k++, off += 4) {
        pv->detlen[k] = get32(p + off);
        total += pv->detlen[k];
    }
    if (total != len - off)
        return -1;
    for (int k = 0; k < PUBLOG_NKINDS; k++) {
        pv->details[k] = p + off;
        off += pv->detlen[k];
    }
    return 0;
}

int
publog_entry_next(const struct publog_view *pv, int kind, size_t *off,
    struct publog_entry *e)
{
    const unsigned char *p;
    size_t left, glen, need;

    if (kind < 0 || kind >= PUBLOG_NKINDS || *off > pv->detlen[kind])
        return -1;
    if (*off == pv->detlen[kind])
        return STORE_NOTFOUND;
    p = pv->details[kind] + *off;
    left = pv->detlen[kind] - *off;
    if (left < 3)
        return -1;
    glen = (size_t)p[1] << 8 | p[2];
    need = 3 + glen + 8 + (kind == PUBLOG_CHANGED ? 2 : 1) * pv->rowsize;
    if (left < need)
        return -1;
    e->why = p[0];
    e->gkey = p + 3;
    e->gklen = glen;
    e->bucket = store_bucket_get(p + 3 + glen);
    p += 3 + glen + 8;
    e->before = kind != PUBLOG_ADDED ? p : NULL;
    e->after = kind == PUBLOG_ADDED ? p : kind == PUBLOG_CHANGED ?
        p + pv->rowsize : NULL;
    *off += need;
    return 0;
}

/* ---- writing and pruning ---- */

struct names {
    struct buf b;           /* NUL-terminated names, one after the other */
};

static int
collect_name(void *arg, const char *name, const void *val, size_t len)
{
    struct names *ns = arg;

    (void)val;
    (void)len;
    buf_append(&ns->b, name, strlen(name) + 1);
    return 0;
}

/* Delete every meta entry whose name starts with prefix. */
static int
del_prefix(struct store_txn *t, const char *prefix, char *err)
{
    struct names ns;
    MDB_val k;
    size_t off = 0;
    int rc = 0;

    buf_init(&ns.b);
    if (store_meta_scan(t, prefix, collect_name, &ns, err) != 0)
        rc = -1;
    while (rc == 0 && off < ns.b.len) {
        k.mv_data = ns.b.data + off;
        k.mv_size = strlen(k.mv_data);
        off += k.mv_size + 1;
        if ((rc = mdb_del(t->txn, t->st->meta, &k, NULL)) != 0) {
            store_set_err(t->st, err, "delete from the publish log", rc);
            rc = -1;
        }
    }
    buf_reset(&ns.b);
    return rc;
}

struct versions {
    int64_t *v;
    int      n;
};

/* Versions by name ("publog/0000000012"), whatever their value holds. */
static int
collect_version(void *arg, const char *name, const void *val, size_t len)
{
    struct versions *vs = arg;
    const char *p = name + strlen("publog/");
    char *end;
    long long v;

    (void)val;
    (void)len;
    v = strtoll(p, &end, 10);
    if (end != p + 10 || *end != '\0')
        return 0;
    vs->v = xrealloc(vs->v, (size_t)(vs->n + 1) * sizeof(int64_t));
    vs->v[vs->n++] = v;
    return 0;
}

/* Delete the entries older than the last PUBLOG_KEEP. */
static int
prune(struct store_txn *t, char *err)
{
    struct versions vs = {NULL, 0};
    char name[64];
    int rc;

    rc = store_meta_scan(t, "publog/", collect_version, &vs, err);
    for (int i = 0; rc == 0 && i + PUBLOG_KEEP < vs.n; i++) {
        info_name(name, sizeof(name), vs.v[i]);
        rc = del_prefix(t, name, err);
        if (rc == 0 && view_name(name, sizeof(name), vs.v[i], NULL) == 0)
            rc = del_prefix(t, name, err);
    }
    free(vs.v);
    return rc;
}

int
store_publog_put(struct store_txn *t, const struct publog_info *info,
    const struct store_diff *d, char *err)
{
    char name[STORE_KMAX + 1];
    struct buf b;
    int rc = -1;

    if (store_need_write(t, err) != 0)
        return -1;
    buf_init(&b);
    buf_putc(&b, FORMAT);
    put64(&b, info->version);
    put64(&b, info->previous);
    put64(&b, info->cutoff);
    put64(&b, info->previous_cutoff);
    put64(&b, info->published_at);
    put64(&b, info->events);
    put64(&b, info->rejects);
    put64(&b, info->from);
    for (int k = 0; k < PUBLOG_NKINDS; k++)
        put64(&b, info->counts[k]);
    info_name(name, sizeof(name), info->version);
    if (store_meta_put(t, name, b.data, b.len, err) != 0 ||
        view_name(name, sizeof(name), info->version, NULL) != 0 ||
        del_prefix(t, name, err) != 0)
        goto done;
    for (int i = 0; i < store_diff_nviews(d); i++) {
        const struct publog_view *pv = store_diff_view(d, i);

        if (view_name(name, sizeof(name), info->version, pv->name) != 0)
            continue;   /* no key holds it: its rows could not exist */
        buf_clear(&b);
        view_encode(&b, pv);
        if (store_meta_put(t, name, b.data, b.len, err) != 0)
            goto done;
    }
    rc = prune(t, err);
done:
    buf_reset(&b);
    return rc;
}

/* ---- reading ---- */

struct infos {
    struct publog_info *v;
    int                 n;
};

static int
collect_info(void *arg, const char *name, const void *val, size_t len)
{
    struct infos *is = arg;

    (void)name;
    is->v = xrealloc(is->v, (size_t)(is->n + 1) * sizeof(*is->v));
    if (info_decode(val, len, &is->v[is->n]) == 0)
        is->n++;
    return 0;
}

int
store_publog_list(struct store_txn *t,
    int (*fn)(void *arg, const struct publog_info *info), void *arg,
    char *err)
{
    struct infos is = {NULL, 0};
    int rc;

    /* at most PUBLOG_KEEP entries: read them all, then newest first */
    rc = store_meta_scan(t, "publog/", collect_info, &is, err);
    for (int i = is.n - 1; rc == 0 && i >= 0; i--)
        if (fn(arg, &is.v[i]) != 0)
            break;
    free(is.v);
    return rc;
}

int
store_publog_get(struct store_txn *t, int64_t version,
    struct publog_info *info, char *err)
{
    char name[64];
    const void *val;
    size_t len;
    int rc;

    if (version < 1)
        return STORE_NOTFOUND;
    info_name(name, sizeof(name), version);
    if ((rc = store_meta_get(t, name, &val, &len, err)) != 0)
        return rc;
    if (info_decode(val, len, info) != 0) {
        snprintf(err, ERR_LEN, "store %s: meta %s: malformed", t->st->dir,
            name);
        return -1;
    }
    return 0;
}

struct views {
    size_t  plen;
    int   (*fn)(void *arg, const struct publog_view *pv);
    void   *arg;
    int     bad;
    char    name[STORE_KMAX + 1];
};

static int
one_view(void *arg, const char *name, const void *val, size_t len)
{
    struct views *vs = arg;
    struct publog_view pv;

    if (view_decode(val, len, &pv) != 0) {
        snprintf(vs->name, sizeof(vs->name), "%s", name);
        vs->bad = 1;
        return 1;
    }
    pv.name = name + vs->plen;
    return vs->fn(vs->arg, &pv);
}

int
store_publog_views(struct store_txn *t, int64_t version,
    int (*fn)(void *arg, const struct publog_view *pv), void *arg,
    char *err)
{
    struct views vs;
    char prefix[64];

    memset(&vs, 0, sizeof(vs));
    if (view_name(prefix, sizeof(prefix), version, NULL) != 0)
        return 0;
    vs.plen = strlen(prefix);
    vs.fn = fn;
    vs.arg = arg;
    if (store_meta_scan(t, prefix, one_view, &vs, err) != 0)
        return -1;
    if (vs.bad) {
        snprintf(err, ERR_LEN, "store %s: meta %.200s: malformed",
            t->st->dir, vs.name);
        return -1;
    }
    return 0;
}
