/* api_publishes.c -- GET /v1/publishes[/VERSION]: what each publish changed */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "serving/api.h"
#include "serving/api_int.h"
#include "serving/query.h"
#include "serving/serving.h"
#include "shared/agg.h"
#include "shared/buf.h"
#include "shared/err.h"
#include "shared/mem.h"
#include "shared/outputs.h"
#include "shared/publog.h"
#include "shared/store.h"

/*
 * The log is the store's (publog.h): the last PUBLOG_KEEP publishes. In the
 * list, "changed" is the number of buckets the version added, changed or
 * removed over every view; a version's answer has them per view, the first
 * PUBLOG_DETAILS of each kind with their metrics.
 */

/* "version":V,"cutoff":T,"published_at":T,"events":N,"rejects":N|null,
 * "changed":N: the fields of a list entry, also at the top of a version. */
static void
put_info(struct buf *b, const struct publog_info *in)
{
    buf_printf(b, "\"version\":%lld,\"cutoff\":", (long long)in->version);
    api_put_time(b, 1, in->cutoff);
    buf_puts(b, ",\"published_at\":");
    api_put_time(b, 1, in->published_at);
    buf_printf(b, ",\"events\":%lld,\"rejects\":", (long long)in->events);
    if (in->rejects < 0)
        buf_puts(b, "null");
    else
        buf_printf(b, "%lld", (long long)in->rejects);
    buf_printf(b, ",\"changed\":%lld", (long long)(in->counts[PUBLOG_ADDED] +
        in->counts[PUBLOG_CHANGED] + in->counts[PUBLOG_REMOVED]));
}

struct list {
    struct buf *b;
    int         n;
};

static int
list_one(void *arg, const struct publog_info *in)
{
    struct list *l = arg;

    buf_puts(l->b, l->n++ > 0 ? ",{" : "{");
    put_info(l->b, in);
    buf_putc(l->b, '}');
    return 0;
}

/* One view of a version. */
struct detail {
    struct serving *sv;
    struct reply   *r;
    int64_t        *row;
    int             nrow;
    int             n;          /* views written */
};

/* The detailed buckets of one kind: [{"key","t","before","after","why"}]. */
static int
put_entries(struct detail *dt, const struct view *v,
    const struct publog_view *pv, int kind)
{
    struct buf *b = &dt->r->body;
    struct publog_entry e;
    size_t off = 0;
    int rc, n = 0;

    buf_putc(b, '[');
    while ((rc = publog_entry_next(pv, kind, &off, &e)) == 0) {
        buf_puts(b, n++ > 0 ? ",{\"key\":" : "{\"key\":");
        if (api_put_key(b, dt->sv, v, e.gkey, e.gklen, dt->r) != 0)
            return -1;
        buf_puts(b, ",\"t\":");
        api_put_time(b, 1, e.bucket);
        if (e.before != NULL) {
            agg_row_decode(v, e.before, dt->row);
            buf_puts(b, ",\"before\":");
            outputs_put_metrics(b, dt->sv->p, v, dt->row);
        }
        if (e.after != NULL) {
            agg_row_decode(v, e.after, dt->row);
            buf_puts(b, ",\"after\":");
            outputs_put_metrics(b, dt->sv->p, v, dt->row);
        }
        buf_puts(b, ",\"why\":");
        buf_put_json_string(b, publog_why_name(e.why),
            strlen(publog_why_name(e.why)));
        buf_putc(b, '}');
    }
    if (rc < 0) {
        api_internal(dt->r, "publish log: malformed detail");
        return -1;
    }
    buf_putc(b, ']');
    return 0;
}

static int
view_one(void *arg, const struct publog_view *pv)
{
    struct detail *dt = arg;
    struct buf *b = &dt->r->body;
    const struct view *v = pipeline_view(dt->sv->p, pv->name);
    int any = 0;

    /* rows are shown only under the definition they were written with */
    if (v != NULL && (pipeline_view_signature(dt->sv->p, v) != pv->sig ||
        agg_row_size(v) != pv->rowsize))
        v = NULL;
    buf_puts(b, dt->n++ > 0 ? ",{\"view\":" : "{\"view\":");
    buf_put_json_string(b, pv->name, strlen(pv->name));
    buf_puts(b, ",\"counts\":{");
    for (int k = 0; k < PUBLOG_NKINDS; k++)
        buf_printf(b, "%s\"%s\":%lld", k > 0 ? "," : "", publog_kind_name(k),
            (long long)pv->counts[k]);
    buf_puts(b, "},\"why\":{");
    for (int w = 0; w < PUBLOG_NWHY; w++) {
        if (pv->why[w] == 0)
            continue;
        buf_puts(b, any++ > 0 ? "," : "");
        buf_put_json_string(b, publog_why_name(w), strlen(publog_why_name(w)));
        buf_printf(b, ":%lld", (long long)pv->why[w]);
    }
    buf_putc(b, '}');
    if (v != NULL && v->nslots > dt->nrow) {
        dt->nrow = v->nslots;
        dt->row = xrealloc(dt->row, (size_t)dt->nrow * sizeof(int64_t));
    }
    for (int k = 0; k < PUBLOG_NKINDS; k++) {
        buf_printf(b, ",\"%s\":", publog_kind_name(k));
        if (v == NULL)
            buf_puts(b, "null");
        else if (put_entries(dt, v, pv, k) != 0)
            return -1;
    }
    if (v == NULL)
        buf_puts(b, ",\"note\":\"the view is not in the pipeline, or its "
            "definition changed since: buckets not shown\"");
    buf_putc(b, '}');
    return 0;
}

/* "/VERSION": a positive number, else 0. */
static int64_t
parse_version(const char *s)
{
    char *end;
    long long v;

    if (*s != '/' || s[1] < '0' || s[1] > '9')
        return 0;
    errno = 0;
    v = strtoll(s + 1, &end, 10);
    if (errno != 0 || *end != '\0' || v < 1)
        return 0;
    return v;
}

static void
one_version(struct serving *sv, struct snap *s, const char *rest,
    struct reply *r)
{
    struct detail dt = {sv, r, NULL, 0, 0};
    struct publog_info in;
    struct buf *b = &r->body;
    int64_t version = parse_version(rest);
    char err[ERR_LEN];
    int rc;

    if (version == 0) {
        reply_error(r, 400, NULL, "publish %.64s: expected a version number",
            rest + 1);
        return;
    }
    if ((rc = store_publog_get(s->txn, version, &in, err)) < 0) {
        api_internal(r, err);
        return;
    }
    if (rc == STORE_NOTFOUND) {
        reply_error(r, 404, NULL, "no publish %lld in the log (it keeps the "
            "last %d: GET /v1/publishes lists them)", (long long)version,
            PUBLOG_KEEP);
        return;
    }
    buf_putc(b, '{');
    put_info(b, &in);
    buf_puts(b, ",\"previous\":");
    if (in.previous > 0)
        buf_printf(b, "%lld", (long long)in.previous);
    else
        buf_puts(b, "null");
    buf_puts(b, ",\"previous_cutoff\":");
    api_put_time(b, in.previous > 0, in.previous_cutoff);
    buf_puts(b, ",\"from\":");
    api_put_time(b, in.from >= 0, in.from);
    buf_puts(b, ",\"views\":[");
    rc = store_publog_views(s->txn, version, view_one, &dt, err);
    free(dt.row);
    if (r->status != 200)
        return;         /* a view answered the error */
    if (rc != 0) {
        api_internal(r, err);
        return;
    }
    buf_puts(b, "]}\n");
}

void
api_publishes(struct serving *sv, const char *rest, struct params *q,
    struct reply *r)
{
    struct list l = {&r->body, 0};
    struct snap s;
    char err[ERR_LEN];

    if (api_params_dups(q, r) != 0 ||
        api_params_rest(sv, NULL, q, r, "none") != 0 ||
        api_snap_open(sv, &s, r) != 0)
        return;
    if (*rest != '\0') {
        one_version(sv, &s, rest, r);
    } else {
        buf_puts(&r->body, "{\"publishes\":[");
        if (store_publog_list(s.txn, list_one, &l, err) != 0)
            api_internal(r, err);
        else
            buf_puts(&r->body, "]}\n");
    }
    snap_end(&s);
}
