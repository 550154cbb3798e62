/* api.c -- the answers of DESIGN §4: views, total, series, top, health, metrics */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "serving/api.h"
#include "serving/query.h"
#include "serving/ready.h"
#include "serving/window.h"
#include "shared/agg.h"
#include "shared/key.h"
#include "shared/log.h"
#include "shared/mem.h"
#include "shared/speedmeta.h"
#include "shared/ts.h"

#define TYPE_JSON "application/json"
#define TYPE_PROM "text/plain; version=0.0.4; charset=utf-8"
#define TOP_DEFAULT 10

/* ---- replies --------------------------------------------------------- */

void
reply_init(struct reply *r)
{
    memset(r, 0, sizeof(*r));
    buf_init(&r->body);
    r->status = 200;
    r->type = TYPE_JSON;
}

void
reply_reset(struct reply *r)
{
    buf_reset(&r->body);
}

/* Append s as a JSON string; bytes that are not UTF-8 (a value cut by
 * "%.64s", or bytes a client sent) become U+FFFD, so the answer stays
 * valid JSON whatever the request held. */
static void
put_text(struct buf *b, const char *s)
{
    const unsigned char *p = (const unsigned char *)s;
    struct buf clean;
    size_t i = 0, n = strlen(s);

    buf_init(&clean);
    while (i < n) {
        unsigned c = p[i];
        size_t k = c < 0x80 ? 0 : c >= 0xc2 && c <= 0xdf ? 1 :
            c >= 0xe0 && c <= 0xef ? 2 : c >= 0xf0 && c <= 0xf4 ? 3 : 9;
        size_t j;

        for (j = 1; k != 9 && j <= k && i + j < n; j++)
            if ((p[i + j] & 0xc0) != 0x80)
                break;
        /* overlongs and surrogates are left to the JSON reader: the
         * lead-byte ranges above already exclude the worst of them */
        if (k == 9 || j <= k) {
            buf_puts(&clean, "\xef\xbf\xbd");
            i++;
            continue;
        }
        buf_append(&clean, p + i, k + 1);
        i += k + 1;
    }
    buf_put_json_string(b, clean.data != NULL ? clean.data : "", clean.len);
    buf_reset(&clean);
}

void
reply_error(struct reply *r, int status, const char *param,
    const char *fmt, ...)
{
    char msg[768];
    va_list ap;

    va_start(ap, fmt);
    (void)vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    buf_clear(&r->body);
    r->status = status;
    r->type = TYPE_JSON;
    r->page = NULL;
    buf_printf(&r->body, "{\"error\":{\"code\":%d,\"message\":", status);
    put_text(&r->body, msg);
    if (param != NULL) {
        buf_puts(&r->body, ",\"parameter\":");
        put_text(&r->body, param);
    }
    buf_puts(&r->body, "}}\n");
}

static void
internal(struct reply *r, const char *err)
{
    log_warnx("%s", err);
    reply_error(r, 500, NULL, "%s", err);
}

/* ---- parameters ------------------------------------------------------- */

static struct param *
param_get(struct params *q, const char *name)
{
    for (int i = 0; i < q->n; i++) {
        if (strcmp(q->v[i].name, name) == 0) {
            q->v[i].used = 1;
            return &q->v[i];
        }
    }
    return NULL;
}

/* Like param_get, but an empty value ("from=") counts as absent. */
static struct param *
param_opt(struct params *q, const char *name)
{
    struct param *p = param_get(q, name);

    return p != NULL && p->value != NULL && *p->value == '\0' ? NULL : p;
}

static int
params_dups(struct params *q, struct reply *r)
{
    for (int i = 0; i < q->n; i++) {
        for (int j = 0; j < i; j++) {
            if (strcmp(q->v[i].name, q->v[j].name) == 0) {
                reply_error(r, 400, q->v[i].name,
                    "parameter %s: given more than once", q->v[i].name);
                return -1;
            }
        }
    }
    return 0;
}

/* Every parameter must have been read: a typo ("form=") is an error, not
 * a silently ignored filter. */
static int
params_rest(struct serving *sv, const struct view *v, struct params *q,
    struct reply *r, const char *names)
{
    struct buf exp;

    for (int i = 0; i < q->n; i++) {
        if (q->v[i].used)
            continue;
        buf_init(&exp);
        buf_puts(&exp, names);
        for (int g = 0; v != NULL && g < v->ngroup; g++)
            buf_printf(&exp, ", %s", sv->p->fields[v->group_by[g]].name);
        reply_error(r, 400, q->v[i].name,
            "unknown parameter %s (expected %s)", q->v[i].name,
            exp.data != NULL ? exp.data : "none");
        buf_reset(&exp);
        return -1;
    }
    return 0;
}

static int
param_time(struct params *q, struct reply *r, const char *name,
    int64_t dflt, int64_t *out)
{
    struct param *p = param_opt(q, name);

    *out = dflt;
    if (p == NULL)
        return 0;
    if (p->value == NULL || ts_param_parse(p->value, out) != 0) {
        reply_error(r, 400, name, "parameter %s: expected an RFC 3339 time "
            "(2026-11-20T13:00:00Z) or integer epoch seconds, got \"%.64s\"",
            name, p->value != NULL ? p->value : "");
        return -1;
    }
    return 0;
}

static int
param_range(struct params *q, struct reply *r, int64_t *from, int64_t *to)
{
    if (param_time(q, r, "from", INT64_MIN, from) != 0 ||
        param_time(q, r, "to", INT64_MAX, to) != 0)
        return -1;
    if (*from >= *to) {
        reply_error(r, 400, "to", "parameter to: must be after from "
            "(from is inclusive, to exclusive)");
        return -1;
    }
    return 0;
}

/* The group key from the view's group_by parameters. */
static int
param_key(struct serving *sv, const struct view *v, struct params *q,
    struct reply *r, struct buf *key)
{
    char err[ERR_LEN];

    for (int g = 0; g < v->ngroup; g++) {
        const struct field *f = &sv->p->fields[v->group_by[g]];
        struct param *p = param_get(q, f->name);

        if (p == NULL && f->required) {
            reply_error(r, 400, f->name, "missing parameter %s: view %s "
                "groups by it", f->name, v->name);
            return -1;
        }
        if (p == NULL) {
            reply_error(r, 400, f->name, "missing parameter %s: view %s "
                "groups by it (give \"%s\" without \"=\" for events "
                "without the field)", f->name, v->name, f->name);
            return -1;
        }
        if (key_encode_text(key, f, p->value, err) != 0) {
            reply_error(r, 400, f->name, "parameter %s", err);
            return -1;
        }
    }
    if (key->len > KEY_MAX) {
        reply_error(r, 400, NULL, "the group key is longer than %d bytes",
            KEY_MAX);
        return -1;
    }
    return 0;
}

static int
param_duration(const struct view *v, struct params *q, struct reply *r,
    const char *name, int64_t dflt, int64_t *out)
{
    struct param *p = param_opt(q, name);
    char g[32], g2[32];

    *out = dflt;
    if (p == NULL)
        return 0;
    ts_duration_format(v->granularity, g, sizeof(g));
    ts_duration_format(2 * v->granularity, g2, sizeof(g2));
    if (p->value == NULL || ts_duration_parse(p->value, out) != 0 ||
        *out % v->granularity != 0 || *out > TS_MAX) {
        reply_error(r, 400, name, "parameter %s: expected a duration that "
            "is a multiple of the view's granularity %s (%s, %s, ...), got "
            "\"%.64s\"", name, g, g, g2, p->value != NULL ? p->value : "");
        return -1;
    }
    return 0;
}

/* ---- snapshots and JSON pieces ---------------------------------------- */

static int
open_snap(struct serving *sv, struct snap *s, struct reply *r)
{
    struct store *st = serving_store(sv);
    char err[ERR_LEN];

    if (st == NULL) {
        serving_store_error(sv, err);
        reply_error(r, 503, NULL, "%s", err);
        return -1;
    }
    if (snap_begin(s, st, err) != 0) {
        log_warnx("%s", err);
        reply_error(r, 503, NULL, "%s", err);
        return -1;
    }
    if (!snap_has_data(s)) {
        snap_end(s);
        reply_error(r, 503, NULL, "store %s has no data yet (run "
            "lambda-batch or lambda-speed first)", sv->p->store);
        return -1;
    }
    return 0;
}

static void
snap_done(struct snap *s, struct snap *own)
{
    if (s == own)
        snap_end(own);
}

/* The snapshot to answer from: pre if the caller opened one, else a new
 * one in own (end it with snap_done()). NULL after an error reply. */
static struct snap *
snap_for(struct serving *sv, const struct view *v, struct snap *pre,
    struct snap *own, struct reply *r)
{
    struct snap *s = pre;
    char err[ERR_LEN];

    if (pre == NULL) {
        if (open_snap(sv, own, r) != 0)
            return NULL;
        s = own;
    } else if (!snap_has_data(pre)) {
        reply_error(r, 503, NULL, "store %s has no data yet (run "
            "lambda-batch or lambda-speed first)", sv->p->store);
        return NULL;
    }
    /* rows written under another definition of the view cannot be merged */
    if ((s->has_batch &&
        store_view_check(s->txn, sv->p, v, s->batch.version, err) != 0) ||
        store_view_check(s->txn, sv->p, v, 0, err) != 0) {
        reply_error(r, 503, NULL, "%s", err);
        snap_done(s, own);
        return NULL;
    }
    return s;
}


static void
put_time(struct buf *b, int present, int64_t ms)
{
    char t[TS_BUFSZ];

    if (!present) {
        buf_puts(b, "null");
        return;
    }
    buf_putc(b, '"');
    buf_puts(b, ts_format(ms, t, sizeof(t)));
    buf_putc(b, '"');
}

static void
put_range(struct buf *b, int64_t from, int64_t to)
{
    buf_puts(b, ",\"from\":");
    put_time(b, from != INT64_MIN, from);
    buf_puts(b, ",\"to\":");
    put_time(b, to != INT64_MAX, to);
}

static void
put_metrics(struct buf *b, const struct pipeline *p, const struct view *v,
    const int64_t *row)
{
    buf_putc(b, '{');
    for (int m = 0; m < v->nmetrics; m++) {
        if (m > 0)
            buf_putc(b, ',');
        buf_put_json_string(b, v->metrics[m].name,
            strlen(v->metrics[m].name));
        buf_putc(b, ':');
        agg_metric_json(p, v, m, row, b);
    }
    buf_putc(b, '}');
}

/* The metric names of v as JSON object keys ("orders":), escaped once for
 * the many points of a series. */
struct mkeys {
    struct buf  text;
    size_t     *off;    /* nmetrics + 1 offsets into text */
};

static void
mkeys_init(struct mkeys *k, const struct view *v)
{
    buf_init(&k->text);
    k->off = xmalloc(((size_t)v->nmetrics + 1) * sizeof(size_t));
    for (int m = 0; m < v->nmetrics; m++) {
        k->off[m] = k->text.len;
        buf_putc(&k->text, m > 0 ? ',' : '{');
        buf_put_json_string(&k->text, v->metrics[m].name,
            strlen(v->metrics[m].name));
        buf_putc(&k->text, ':');
    }
    k->off[v->nmetrics] = k->text.len;
}

static void
mkeys_reset(struct mkeys *k)
{
    buf_reset(&k->text);
    free(k->off);
}

static void
put_metrics_k(struct buf *b, const struct mkeys *k, const struct pipeline *p,
    const struct view *v, const int64_t *row)
{
    for (int m = 0; m < v->nmetrics; m++) {
        buf_append(b, k->text.data + k->off[m], k->off[m + 1] - k->off[m]);
        agg_metric_json(p, v, m, row, b);
    }
    buf_putc(b, '}');
}

/* ,"batch":{"version","cutoff"},"speed":{"watermark"}: where it came from */
static void
put_layers(struct buf *b, const struct snap *s)
{
    if (s->has_batch)
        buf_printf(b, ",\"batch\":{\"version\":%lld,\"cutoff\":",
            (long long)s->batch.version);
    else
        buf_puts(b, ",\"batch\":{\"version\":null,\"cutoff\":");
    put_time(b, s->has_batch, s->batch.cutoff);
    buf_puts(b, "},\"speed\":{\"watermark\":");
    put_time(b, s->has_watermark, s->watermark);
    buf_putc(b, '}');
}

static int
put_key(struct buf *b, struct serving *sv, const struct view *v,
    const void *key, size_t len, struct reply *r)
{
    if (key_to_json(b, sv->p, v, key, len) == 0)
        return 0;
    internal(r, "stored group key does not decode");
    return -1;
}

static void
put_head(struct buf *b, const struct view *v)
{
    buf_puts(b, "{\"view\":");
    buf_put_json_string(b, v->name, strlen(v->name));
}

/* ---- total ------------------------------------------------------------ */

void
api_total(struct serving *sv, const struct view *v, struct params *q,
    struct snap *pre, struct reply *r)
{
    struct buf key, *b = &r->body;
    struct snap own, *s;
    struct plan pl;
    int64_t from, to, *row = NULL;
    char err[ERR_LEN];

    buf_init(&key);
    if (params_dups(q, r) != 0 || param_range(q, r, &from, &to) != 0 ||
        param_key(sv, v, q, r, &key) != 0 ||
        params_rest(sv, v, q, r, "from, to") != 0 ||
        (s = snap_for(sv, v, pre, &own, r)) == NULL)
        goto out;
    row = xmalloc(agg_row_size(v));
    if (plan_make(s, v, from, to, PLAN_ALL | PLAN_DAY, &pl, err) != 0 ||
        query_total(s, v, &pl, key.data, key.len, row, err) != 0) {
        internal(r, err);
        goto end;
    }
    put_head(b, v);
    buf_puts(b, ",\"key\":");
    if (put_key(b, sv, v, key.data, key.len, r) != 0)
        goto end;
    put_range(b, from, to);
    buf_puts(b, ",\"metrics\":");
    put_metrics(b, sv->p, v, row);
    put_layers(b, s);
    buf_puts(b, "}\n");
end:
    snap_done(s, &own);
out:
    buf_reset(&key);
    free(row);
}

/* ---- series ----------------------------------------------------------- */

struct series {
    struct serving      *sv;
    const struct view   *v;
    struct buf          *out;
    struct window       *w;
    struct mkeys        *keys;
    int64_t              width, cutoff;
    int                  n, max;
};

static int
series_point(void *arg, int64_t t, const int64_t *row, char *err)
{
    struct series *se = arg;
    struct buf *b = se->out;
    const char *src;

    if (++se->n > se->max) {
        snprintf(err, ERR_LEN, "too many points");
        return -1;
    }
    if (t >= se->cutoff)
        src = "speed";
    else if (t + se->width <= se->cutoff)
        src = "batch";
    else
        src = "mixed";
    buf_puts(b, se->n > 1 ? ",{\"t\":" : "{\"t\":");
    put_time(b, 1, t);
    buf_puts(b, ",\"source\":\"");
    buf_puts(b, src);
    buf_puts(b, "\",\"metrics\":");
    put_metrics_k(b, se->keys, se->sv->p, se->v, row);
    buf_putc(b, '}');
    return 0;
}

static int
series_row(void *arg, int64_t bucket, const int64_t *row, char *err)
{
    return window_add(((struct series *)arg)->w, bucket, row, err);
}

void
api_series(struct serving *sv, const struct view *v, struct params *q,
    struct snap *pre, struct reply *r)
{
    struct buf key, *b = &r->body;
    struct mkeys keys;
    struct series se = {sv, v, b, NULL, &keys, 0, 0, 0,
        sv->p->serving.max_points};
    struct window w;
    struct snap own, *s;
    struct plan pl;
    int64_t from, to, step, width;
    char err[ERR_LEN], d[32];
    unsigned flags = 0;
    int rc;

    buf_init(&key);
    if (params_dups(q, r) != 0 || param_range(q, r, &from, &to) != 0 ||
        param_duration(v, q, r, "step", v->granularity, &step) != 0 ||
        param_duration(v, q, r, "window", step, &width) != 0 ||
        param_key(sv, v, q, r, &key) != 0 ||
        params_rest(sv, v, q, r, "from, to, step, window") != 0 ||
        (s = snap_for(sv, v, pre, &own, r)) == NULL)
        goto out;
    if (step % TS_DAY_MS == 0 && width % TS_DAY_MS == 0)
        flags = PLAN_DAY;
    se.width = width;
    se.cutoff = s->cutoff;
    put_head(b, v);
    buf_puts(b, ",\"key\":");
    if (put_key(b, sv, v, key.data, key.len, r) != 0)
        goto end;
    buf_printf(b, ",\"step\":\"%s\"", ts_duration_format(step, d, sizeof(d)));
    buf_printf(b, ",\"window\":\"%s\"", ts_duration_format(width, d,
        sizeof(d)));
    put_range(b, from, to);
    buf_puts(b, ",\"points\":[");
    window_init(&w, v, step, width,
        from == INT64_MIN ? INT64_MIN : ts_bucket(from, step), series_point,
        &se);
    se.w = &w;
    mkeys_init(&keys, v);
    rc = plan_make(s, v, from, to, flags, &pl, err);
    if (rc == 0)
        rc = query_key_rows(s, v, &pl, key.data, key.len, series_row, &se,
            err);
    if (rc == 0)
        rc = window_finish(&w, err);
    window_reset(&w);
    mkeys_reset(&keys);
    if (rc != 0) {
        if (se.n > se.max)
            reply_error(r, 400, "step", "the series has more than %d points "
                "(serving.max_points): narrow from/to or use a larger step",
                se.max);
        else
            internal(r, err);
        goto end;
    }
    buf_putc(b, ']');
    put_layers(b, s);
    buf_puts(b, "}\n");
end:
    snap_done(s, &own);
out:
    buf_reset(&key);
}

/* ---- top -------------------------------------------------------------- */

struct top_ent {
    unsigned char  key[KEY_MAX];
    size_t         len;
    int64_t       *row;
};

struct top {
    const struct view  *v;
    int                 m, n, cnt;
    size_t              rowsz;
    struct top_ent     *pool;
    struct top_ent    **h;      /* min-heap: the worst ranked at h[0] */
};

/* Nonzero when (row, key) ranks before e: larger metric, then smaller key. */
static int
top_before(struct top *t, const int64_t *row, const void *key, size_t len,
    const struct top_ent *e)
{
    int c = agg_metric_cmp(t->v, t->m, row, e->row);

    if (c != 0)
        return c > 0;
    c = memcmp(key, e->key, len < e->len ? len : e->len);
    if (c != 0)
        return c < 0;
    return len < e->len;
}

#define BEFORE(t, a, b) top_before((t), (a)->row, (a)->key, (a)->len, (b))

static void
top_down(struct top *t, int i, int size)
{
    for (;;) {
        int l = 2 * i + 1, r = l + 1, w = i;

        if (l < size && BEFORE(t, t->h[w], t->h[l]))
            w = l;
        if (r < size && BEFORE(t, t->h[w], t->h[r]))
            w = r;
        if (w == i)
            return;
        struct top_ent *x = t->h[i];
        t->h[i] = t->h[w];
        t->h[w] = x;
        i = w;
    }
}

static int
top_add(void *arg, const void *gkey, size_t gklen, const int64_t *row,
    char *err)
{
    struct top *t = arg;
    struct top_ent *e;
    int i;

    (void)err;
    if (t->cnt < t->n) {
        e = &t->pool[t->cnt];
        i = t->cnt++;
    } else if (top_before(t, row, gkey, gklen, t->h[0])) {
        e = t->h[0];
        i = -1;
    } else {
        return 0;
    }
    memcpy(e->key, gkey, gklen);
    e->len = gklen;
    memcpy(e->row, row, t->rowsz);
    if (i < 0) {
        top_down(t, 0, t->cnt);
        return 0;
    }
    t->h[i] = e;
    while (i > 0 && BEFORE(t, t->h[(i - 1) / 2], t->h[i])) {
        struct top_ent *x = t->h[i];
        t->h[i] = t->h[(i - 1) / 2];
        t->h[(i - 1) / 2] = x;
        i = (i - 1) / 2;
    }
    return 0;
}

static int
param_metric(const struct view *v, struct params *q, struct reply *r,
    int *m)
{
    struct param *p = param_opt(q, "metric");
    struct buf names;

    for (int i = 0; p != NULL && p->value != NULL && i < v->nmetrics; i++) {
        if (strcmp(v->metrics[i].name, p->value) == 0) {
            *m = i;
            return 0;
        }
    }
    buf_init(&names);
    for (int i = 0; i < v->nmetrics; i++)
        buf_printf(&names, "%s%s", i > 0 ? ", " : "", v->metrics[i].name);
    if (p == NULL)
        reply_error(r, 400, "metric", "missing parameter metric: one of %s",
            names.data);
    else
        reply_error(r, 400, "metric", "parameter metric: expected one of %s, "
            "got \"%.64s\"", names.data, p->value != NULL ? p->value : "");
    buf_reset(&names);
    return -1;
}

static int
param_n(struct serving *sv, struct params *q, struct reply *r, int *n)
{
    struct param *p = param_opt(q, "n");
    int max = sv->p->serving.max_top;
    long long v;
    char *end;

    *n = TOP_DEFAULT < max ? TOP_DEFAULT : max;
    if (p == NULL)
        return 0;
    errno = 0;
    v = p->value != NULL ? strtoll(p->value, &end, 10) : 0;
    if (p->value == NULL || end == p->value || *end != '\0' || errno != 0 ||
        v < 1 || v > max) {
        reply_error(r, 400, "n", "parameter n: expected an integer from 1 to "
            "%d (serving.max_top), got \"%.64s\"", max,
            p->value != NULL ? p->value : "");
        return -1;
    }
    *n = (int)v;
    return 0;
}

void
api_top(struct serving *sv, const struct view *v, struct params *q,
    struct snap *pre, struct reply *r)
{
    struct buf *b = &r->body;
    struct top t = {v, 0, 0, 0, agg_row_size(v), NULL, NULL};
    struct snap own, *s;
    struct plan pl;
    int64_t from, to;
    char err[ERR_LEN];
    int64_t *rows = NULL;

    if (params_dups(q, r) != 0 || param_metric(v, q, r, &t.m) != 0 ||
        param_n(sv, q, r, &t.n) != 0 ||
        param_range(q, r, &from, &to) != 0 ||
        params_rest(sv, NULL, q, r, "metric, n, from, to") != 0 ||
        (s = snap_for(sv, v, pre, &own, r)) == NULL)
        return;
    t.pool = xcalloc((size_t)t.n, sizeof(*t.pool));
    t.h = xcalloc((size_t)t.n, sizeof(*t.h));
    rows = xmalloc((size_t)t.n * t.rowsz);
    for (int i = 0; i < t.n; i++)
        t.pool[i].row = rows + (size_t)i * (size_t)v->nslots;
    if (plan_make(s, v, from, to, PLAN_ALL | PLAN_DAY, &pl, err) != 0 ||
        query_groups(s, v, &pl, top_add, &t, err) != 0) {
        internal(r, err);
        goto end;
    }
    /* heapsort: the worst goes last each round, leaving best first */
    for (int i = t.cnt - 1; i > 0; i--) {
        struct top_ent *x = t.h[0];
        t.h[0] = t.h[i];
        t.h[i] = x;
        top_down(&t, 0, i);
    }
    put_head(b, v);
    buf_puts(b, ",\"metric\":");
    buf_put_json_string(b, v->metrics[t.m].name, strlen(v->metrics[t.m].name));
    buf_printf(b, ",\"n\":%d", t.n);
    put_range(b, from, to);
    buf_puts(b, ",\"rows\":[");
    for (int i = 0; i < t.cnt; i++) {
        buf_puts(b, i > 0 ? ",{\"key\":" : "{\"key\":");
        if (put_key(b, sv, v, t.h[i]->key, t.h[i]->len, r) != 0)
            goto end;
        buf_puts(b, ",\"metrics\":");
        put_metrics(b, sv->p, v, t.h[i]->row);
        buf_putc(b, '}');
    }
    buf_putc(b, ']');
    put_layers(b, s);
    buf_puts(b, "}\n");
end:
    snap_done(s, &own);
    free(t.pool);
    free(t.h);
    free(rows);
}

/* ---- views ------------------------------------------------------------ */

static const char *const kind_names[] = {"count", "sum", "min", "max", "avg"};

void
api_views(struct serving *sv, struct params *q, struct reply *r)
{
    struct buf *b = &r->body;
    struct store *st = serving_store(sv);
    struct snap s;
    int open = 0, has_upd = 0;
    int64_t upd = 0;
    char err[ERR_LEN], g[32];

    if (params_dups(q, r) != 0 || params_rest(sv, NULL, q, r, "none") != 0)
        return;
    /* The views come from the pipeline: listed even before the store
     * exists, with null versions, so a dashboard can draw its frame. */
    if (st != NULL && snap_begin(&s, st, err) == 0) {
        open = 1;
        has_upd = store_meta_get_i64(s.txn, SPEEDMETA_UPDATED_AT, &upd,
            err) == 0;
    }
    buf_puts(b, "{\"views\":[");
    for (int i = 0; i < sv->p->nviews; i++) {
        const struct view *v = &sv->p->views[i];

        buf_puts(b, i > 0 ? ",{\"name\":" : "{\"name\":");
        buf_put_json_string(b, v->name, strlen(v->name));
        buf_puts(b, ",\"group_by\":[");
        for (int j = 0; j < v->ngroup; j++) {
            const char *f = sv->p->fields[v->group_by[j]].name;

            if (j > 0)
                buf_putc(b, ',');
            buf_put_json_string(b, f, strlen(f));
        }
        buf_printf(b, "],\"granularity\":\"%s\",\"metrics\":{",
            ts_duration_format(v->granularity, g, sizeof(g)));
        for (int m = 0; m < v->nmetrics; m++) {
            const struct metric *mt = &v->metrics[m];

            if (m > 0)
                buf_putc(b, ',');
            buf_put_json_string(b, mt->name, strlen(mt->name));
            if (mt->field < 0)
                buf_printf(b, ":\"%s\"", kind_names[mt->kind]);
            else
                buf_printf(b, ":\"%s(%s)\"", kind_names[mt->kind],
                    sv->p->fields[mt->field].name);
        }
        if (open && s.has_batch)
            buf_printf(b, "},\"batch\":{\"version\":%lld,\"cutoff\":",
                (long long)s.batch.version);
        else
            buf_puts(b, "},\"batch\":{\"version\":null,\"cutoff\":");
        put_time(b, open && s.has_batch, s.batch.cutoff);
        buf_puts(b, ",\"published_at\":");
        put_time(b, open && s.has_batch, s.batch.published_at);
        buf_puts(b, "},\"speed\":{\"watermark\":");
        put_time(b, open && s.has_watermark, s.watermark);
        buf_puts(b, ",\"updated_at\":");
        put_time(b, open && has_upd, upd);
        buf_puts(b, "}}");
    }
    buf_puts(b, "]}\n");
    if (open)
        snap_end(&s);
}

/* ---- health ------------------------------------------------------------ */

void
api_healthz(struct serving *sv, struct params *q, struct reply *r)
{
    (void)sv;
    (void)q;
    buf_puts(&r->body, "{\"status\":\"ok\"}\n");
}

void
api_readyz(struct serving *sv, struct params *q, struct reply *r)
{
    struct snap s;
    char err[ERR_LEN];

    (void)q;
    if (open_snap(sv, &s, r) != 0)
        return;
    if (ready_check(sv, &s, err) != 0) {
        reply_error(r, 503, NULL, "%s", err);
        snap_end(&s);
        return;
    }
    buf_puts(&r->body, "{\"status\":\"ready\"");
    put_layers(&r->body, &s);
    buf_puts(&r->body, "}\n");
    snap_end(&s);
}

/* ---- metrics ----------------------------------------------------------- */

static int64_t
wall_ms(void)
{
    struct timespec ts;

    (void)clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void
gauge(struct buf *b, const char *name, const char *help, double v)
{
    buf_printf(b, "# HELP %s %s\n# TYPE %s gauge\n", name, help, name);
    if (v == (double)(long long)v)
        buf_printf(b, "%s %lld\n", name, (long long)v);
    else
        buf_printf(b, "%s %.3f\n", name, v);
}

static void
prom_name(struct buf *b, const char *s)
{
    for (; *s != '\0'; s++)
        buf_putc(b, (*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
            (*s >= '0' && *s <= '9') ? *s : '_');
}

static void
prom_value(struct buf *b, double d)
{
    if (d == (double)(long long)d)
        buf_printf(b, " %lld\n", (long long)d);
    else
        buf_printf(b, " %.17g\n", d);
}

/* One number of the speed status (shared/speedmeta.h) as
 * lambda_speed_NAME, or lambda_speed_NAME{LABEL="KEY"} for the members of
 * an object. */
static void
put_status_number(void *arg, const char *name, const char *label,
    const char *key, double value)
{
    struct buf *b = arg;

    buf_puts(b, "lambda_speed_");
    prom_name(b, name);
    if (label != NULL) {
        buf_printf(b, "{%s=\"", label);
        for (const char *c = key; *c != '\0'; c++) {
            if (*c == '"' || *c == '\\')
                buf_putc(b, '\\');
            if (*c == '\n')
                buf_puts(b, "\\n");
            else
                buf_putc(b, *c);
        }
        buf_puts(b, "\"}");
    }
    prom_value(b, value);
}

void
api_metrics(struct serving *sv, struct params *q, struct reply *r)
{
    struct buf *b = &r->body;
    struct store *st = serving_store(sv);
    struct snap s;
    const void *val;
    size_t len;
    char err[ERR_LEN];
    int64_t now = wall_ms();
    int open = 0;

    (void)q;
    r->type = TYPE_PROM;
    metrics_render_requests(&sv->metrics, b);
    buf_printf(b, "# HELP lambda_serving_cache_requests_total Series and top "
        "requests answered from the cache (hit) or computed (miss).\n"
        "# TYPE lambda_serving_cache_requests_total counter\n"
        "lambda_serving_cache_requests_total{result=\"hit\"} %llu\n"
        "lambda_serving_cache_requests_total{result=\"miss\"} %llu\n",
        (unsigned long long)atomic_load(&sv->cache.hits),
        (unsigned long long)atomic_load(&sv->cache.misses));
    gauge(b, "lambda_serving_cache_bytes", "Bytes of answers held in the "
        "cache.", (double)atomic_load(&sv->cache.bytes));
    if (st != NULL && snap_begin(&s, st, err) == 0)
        open = 1;
    gauge(b, "lambda_serving_ready", "1 when the store is open and holds "
        "data.", open && snap_has_data(&s));
    if (st != NULL)
        gauge(b, "lambda_store_used_bytes", "Bytes in use in the store's "
            "data file.", (double)store_used_bytes(st));
    if (open && s.has_batch) {
        gauge(b, "lambda_batch_version", "Published batch version.",
            (double)s.batch.version);
        gauge(b, "lambda_batch_cutoff_timestamp_seconds", "Batch cutoff: "
            "buckets before it are answered from batch.",
            (double)s.batch.cutoff / 1000);
        gauge(b, "lambda_batch_cutoff_age_seconds", "Now minus the batch "
            "cutoff.", (double)(now - s.batch.cutoff) / 1000);
        gauge(b, "lambda_batch_published_timestamp_seconds", "When the "
            "batch version was published.",
            (double)s.batch.published_at / 1000);
        gauge(b, "lambda_batch_events", "Events counted into the batch "
            "version.", (double)s.batch.events);
    }
    if (open && s.has_watermark) {
        gauge(b, "lambda_speed_watermark_timestamp_seconds", "Speed "
            "watermark.", (double)s.watermark / 1000);
        gauge(b, "lambda_speed_watermark_age_seconds", "Now minus the speed "
            "watermark.", (double)(now - s.watermark) / 1000);
    }
    if (open && store_meta_get(s.txn, SPEEDMETA_STATUS, &val, &len, err) == 0)
        (void)speedmeta_status_walk(val, len, put_status_number, b);
    if (open)
        snap_end(&s);
}
