/* viewdump.c -- print the rows of a batch or speed view, one per line */
/*
 * usage: viewdump PIPELINE STORE_DIR batch|speed [VIEW]
 *
 * Prints the base level of the current batch version, or the speed view, of
 * every view (in strcmp order of names) or of VIEW alone, in key order:
 *     VIEW<TAB>GKEYHEX<TAB>BUCKET<TAB>ROWHEX<TAB>{"key":{...},"metrics":{...}}
 * GKEYHEX is the encoded group key ("-" when empty), BUCKET RFC 3339 UTC,
 * ROWHEX the on-disk row (agg_row_encode). A store without a published batch
 * version prints nothing. Exit 0, or 1 with a message (missing store, unknown
 * view, read error), 2 on bad usage.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "shared/agg.h"
#include "shared/buf.h"
#include "shared/err.h"
#include "shared/key.h"
#include "shared/mem.h"
#include "shared/pipeline.h"
#include "shared/store.h"
#include "shared/ts.h"

static void
put_hex(struct buf *out, const void *p, size_t n)
{
    static const char hex[] = "0123456789abcdef";
    const unsigned char *s = p;

    if (n == 0) {
        buf_putc(out, '-');
        return;
    }
    for (size_t i = 0; i < n; i++) {
        buf_putc(out, hex[s[i] >> 4]);
        buf_putc(out, hex[s[i] & 0xf]);
    }
}

static int
dump_view(const struct pipeline *p, const struct view *v,
    struct store_txn *t, int batch, int64_t version, char *err)
{
    struct store_iter *it = NULL;
    struct store_row row;
    struct buf line;
    unsigned char *raw = xmalloc(agg_row_size(v));
    char tbuf[TS_BUFSZ];
    int rc;

    buf_init(&line);
    if (batch)
        rc = store_iter_batch(t, version, v, STORE_LEVEL_BASE, NULL, 0,
            INT64_MIN, INT64_MAX, &it, err);
    else
        rc = store_iter_speed(t, v, NULL, 0, INT64_MIN, INT64_MAX, &it, err);
    if (rc != 0)
        goto done;
    while ((rc = store_iter_next(it, &row, err)) == 0) {
        buf_clear(&line);
        buf_puts(&line, v->name);
        buf_putc(&line, '\t');
        put_hex(&line, row.gkey, row.gklen);
        buf_putc(&line, '\t');
        buf_puts(&line, ts_format(row.bucket, tbuf, sizeof(tbuf)));
        buf_putc(&line, '\t');
        agg_row_encode(v, row.slots, raw);
        put_hex(&line, raw, agg_row_size(v));
        buf_puts(&line, "\t{\"key\":");
        if (key_to_json(&line, p, v, row.gkey, row.gklen) != 0) {
            snprintf(err, ERR_LEN, "view %s: undecodable group key",
                v->name);
            rc = -1;
            goto done;
        }
        buf_puts(&line, ",\"metrics\":{");
        for (int m = 0; m < v->nmetrics; m++) {
            if (m > 0)
                buf_putc(&line, ',');
            buf_put_json_string(&line, v->metrics[m].name,
                strlen(v->metrics[m].name));
            buf_putc(&line, ':');
            agg_metric_json(p, v, m, row.slots, &line);
        }
        buf_puts(&line, "}}\n");
        if (fwrite(line.data, 1, line.len, stdout) != line.len) {
            snprintf(err, ERR_LEN, "write: short write");
            rc = -1;
            goto done;
        }
    }
    if (rc == STORE_NOTFOUND)
        rc = 0;
done:
    store_iter_free(it);
    buf_reset(&line);
    free(raw);
    return rc;
}

static int
by_name(const void *a, const void *b)
{
    const struct view *const *x = a, *const *y = b;

    return strcmp((*x)->name, (*y)->name);
}

int
main(int argc, char **argv)
{
    struct pipeline *p = NULL;
    struct store *st = NULL;
    struct store_txn *t = NULL;
    struct store_batch_info info;
    const struct view **views = NULL;
    char err[ERR_LEN];
    int batch, nv = 0, rc, status = 1;

    if (argc < 4 || argc > 5 || (strcmp(argv[3], "batch") != 0 &&
        strcmp(argv[3], "speed") != 0)) {
        fprintf(stderr, "usage: viewdump PIPELINE STORE_DIR batch|speed "
            "[VIEW]\n");
        return 2;
    }
    batch = strcmp(argv[3], "batch") == 0;
    if (pipeline_load(&p, argv[1], err) != 0) {
        fprintf(stderr, "viewdump: %s\n", err);
        return 2;
    }
    views = xcalloc((size_t)p->nviews + 1, sizeof(*views));
    for (int i = 0; i < p->nviews; i++) {
        if (argc == 5 && strcmp(p->views[i].name, argv[4]) != 0)
            continue;
        views[nv++] = &p->views[i];
    }
    if (argc == 5 && nv == 0) {
        fprintf(stderr, "viewdump: %s: no view named \"%s\"\n", argv[1],
            argv[4]);
        goto done;
    }
    qsort(views, (size_t)nv, sizeof(*views), by_name);
    if (store_open(&st, argv[2], STORE_RDONLY, err) != 0 ||
        store_txn_begin(st, 0, &t, err) != 0)
        goto fail;
    info.version = 0;
    if (batch && (rc = store_batch_current(t, &info, err)) != 0) {
        if (rc == STORE_NOTFOUND)
            status = 0;     /* nothing published: no rows */
        else
            goto fail;
        goto done;
    }
    for (int i = 0; i < nv; i++)
        if (dump_view(p, views[i], t, batch, info.version, err) != 0)
            goto fail;
    if (fflush(stdout) != 0) {
        snprintf(err, ERR_LEN, "stdout: write failed");
        goto fail;
    }
    status = 0;
    goto done;
fail:
    fprintf(stderr, "viewdump: %s\n", err);
done:
    store_txn_abort(t);
    store_free(st);
    free(views);
    pipeline_free(p);
    return status;
}
