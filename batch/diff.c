/* diff.c -- --dry-run: what a publish would change, per view, printed */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "batch/diff.h"
#include "batch/late.h"
#include "batch/publish.h"
#include "shared/agg.h"
#include "shared/buf.h"
#include "shared/key.h"
#include "shared/mem.h"
#include "shared/outputs.h"
#include "shared/publog.h"
#include "shared/ts.h"
#include "shared/viewswitch.h"

/* {"METRIC":value,...,"OUTPUT":value,...} of an encoded row of v, as
 * serving prints them. */
static void
put_row(struct buf *out, const struct pipeline *p, const struct view *v,
    const void *enc, int64_t *row)
{
    agg_row_decode(v, enc, row);
    outputs_put_metrics(out, p, v, row);
}

/* "  changed {KEY} TIME: {BEFORE} -> {AFTER} (why)" for the first ones. */
static void
print_entries(const struct pipeline *p, const struct view *v,
    const struct publog_view *pv, int kind, struct buf *out)
{
    int64_t *row = xcalloc((size_t)v->nslots + 1, sizeof(int64_t));
    struct publog_entry e;
    char t[TS_BUFSZ];
    size_t off = 0;
    int64_t n = 0;

    while (n < DIFF_SHOW && publog_entry_next(pv, kind, &off, &e) == 0) {
        buf_printf(out, "  %s ", publog_kind_name(kind));
        if (key_to_json(out, p, v, e.gkey, e.gklen) != 0)
            buf_puts(out, "?");
        buf_printf(out, " %s: ", ts_format(e.bucket, t, sizeof(t)));
        if (e.before != NULL)
            put_row(out, p, v, e.before, row);
        if (e.before != NULL && e.after != NULL)
            buf_puts(out, " -> ");
        if (e.after != NULL)
            put_row(out, p, v, e.after, row);
        buf_printf(out, " (%s)\n", publog_why_name(e.why));
        n++;
    }
    if (pv->counts[kind] > n)
        buf_printf(out, "  ... and %" PRId64 " more %s\n",
            pv->counts[kind] - n, publog_kind_name(kind));
    free(row);
}

static void
print_diff(struct batch *b, const struct store_diff *d)
{
    struct publog_info in;
    struct buf out;
    char a[TS_BUFSZ], c[TS_BUFSZ];

    buf_init(&out);
    store_diff_info(d, &in);
    if (in.previous > 0)
        buf_printf(&out, "diff against version %" PRId64 " (cutoff %s), "
            "new cutoff %s:\n", in.previous,
            ts_format(in.previous_cutoff, a, sizeof(a)),
            ts_format(b->cutoff, c, sizeof(c)));
    else
        buf_printf(&out, "diff against no published version, new cutoff "
            "%s:\n", ts_format(b->cutoff, c, sizeof(c)));
    for (int i = 0; i < store_diff_nviews(d); i++) {
        const struct publog_view *pv = store_diff_view(d, i);
        const struct view *v = pipeline_view(b->p, pv->name);
        int any = 0;

        buf_printf(&out, "%s: added %" PRId64 ", changed %" PRId64
            ", removed %" PRId64 " buckets", pv->name,
            pv->counts[PUBLOG_ADDED], pv->counts[PUBLOG_CHANGED],
            pv->counts[PUBLOG_REMOVED]);
        for (int w = 0; w < PUBLOG_NWHY; w++)
            if (pv->why[w] > 0)
                buf_printf(&out, "%s%s %" PRId64, any++ > 0 ? ", " : " (",
                    publog_why_name(w), pv->why[w]);
        buf_puts(&out, any > 0 ? ")\n" : "\n");
        for (int k = 0; v != NULL && k < PUBLOG_NKINDS; k++)
            print_entries(b->p, v, pv, k, &out);
    }
    fwrite(out.data, 1, out.len, stdout);
    fflush(stdout);
    buf_reset(&out);
}

static int
diff_row(void *arg, const struct view *v, const void *key, size_t klen,
    int64_t bucket, const int64_t *row, char *err)
{
    return store_diff_row(arg, v, key, klen, bucket, row, err);
}

static int
plan_line(void *arg, const char *view, enum viewswitch_change c, char *err)
{
    (void)arg;
    (void)err;
    if (c == VIEWSWITCH_REMOVED)
        printf("view %s: not in the pipeline: this publish would drop its "
            "speed rows\n", view);
    else
        printf("view %s: %s: this publish would switch it to the "
            "pipeline's definition (its speed rows rebuilt from "
            "speed.archive, else a gap for lambda-speed --reset-to)\n", view,
            c == VIEWSWITCH_CHANGED ? "changed" : "new to the speed rows");
    return 0;
}

/* The views a publish would switch or remove, after the diff. */
static int
print_plan(struct batch *b, char *err)
{
    struct store_txn *t;
    struct store_batch_info info;
    int rc;

    if (b->st == NULL)
        return 0;       /* no store yet: nothing to switch */
    if (store_txn_begin(b->st, 0, &t, err) != 0)
        return -1;
    rc = store_batch_current(t, &info, err);
    if (rc >= 0)
        rc = viewswitch_plan(t, b->p, rc == 0 ? info.version : 0,
            plan_line, NULL, err);
    store_txn_abort(t);
    fflush(stdout);
    return rc < 0 ? -1 : 0;
}

int
diff_dry(struct batch *b, char *err)
{
    struct store_diff *d = NULL;
    struct late_listing *late = late_listing_new(b);
    int rc = -1;

    if (store_diff_begin(b->st, b->p, b->from, &d, err) != 0)
        goto done;
    store_diff_note(d, b->cutoff, b->stats.nrejects);
    store_diff_late(d, late);
    if (publish_walk(b, diff_row, d, err) != 0 ||
        store_diff_finish(d, err) != 0)
        goto done;
    print_diff(b, d);
    if (print_plan(b, err) != 0)
        goto done;
    rc = 0;
done:
    store_diff_free(d);
    late_listing_free(late);
    return rc;
}
