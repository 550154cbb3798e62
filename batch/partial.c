/* partial.c -- a shard's states in one file: what --shard writes and --merge reads */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "batch/hist.h"
#include "batch/partial.h"
#include "batch/publish.h"
#include "batch/shard.h"
#include "batch/rejects.h"
#include "batch/table.h"
#include "batch/work.h"
#include "shared/err.h"
#include "shared/mem.h"

static void
encode_meta(struct batch *b, const char *rej, size_t rejlen, struct buf *m)
{
    const struct batch_stats *s = &b->stats;
    int64_t *units, *counts;
    struct hist *h = work_hist(b);

    repo_enc_str(m, b->p->name, strlen(b->p->name));
    repo_enc_u(m, (uint64_t)b->shard);
    repo_enc_u(m, (uint64_t)b->nshards);
    repo_enc_s(m, b->from);
    repo_enc_s(m, b->until);
    repo_enc_u(m, (uint64_t)b->ninputs);
    for (int i = 0; i < b->ninputs; i++) {
        repo_enc_str(m, b->inputs[i].path, strlen(b->inputs[i].path));
        repo_enc_u(m, b->inputs[i].size);
    }
    repo_enc_u(m, (uint64_t)b->npieces);
    for (int i = 0; i < b->npieces; i++) {
        repo_enc_u(m, (uint64_t)b->pieces[i].file);
        repo_enc_u(m, b->pieces[i].start);
        repo_enc_u(m, b->pieces[i].end);
        repo_enc_u(m, (uint64_t)b->pieces[i].lines);
    }
    repo_enc_s(m, s->accepted);
    repo_enc_s(m, s->events);
    repo_enc_s(m, s->after_cutoff);
    repo_enc_s(m, s->held);
    repo_enc_s(m, s->before_from);
    repo_enc_s(m, s->last_before_from);
    repo_enc_u(m, REJECT_NREASONS - 1);
    for (int r = 1; r < REJECT_NREASONS; r++) {
        const char *name = event_reject_name((enum reject)r);

        repo_enc_str(m, name, strlen(name));
        repo_enc_s(m, s->rejects[r]);
    }
    hist_sorted(h, &units, &counts);
    repo_enc_u(m, h->n);
    for (size_t i = 0; i < h->n; i++) {
        repo_enc_s(m, units[i]);
        repo_enc_s(m, counts[i]);
    }
    free(units);
    free(counts);
    repo_enc_str(m, rej != NULL ? rej : "", rejlen);
}

int
partial_write(struct batch *b, char *err)
{
    struct repo_writer *w = NULL;
    struct buf meta;
    const char *rej = NULL;
    size_t rejlen = 0;
    int *order = NULL, rc = -1;

    buf_init(&meta);
    if (rejects_take(b, &rej, &rejlen, err) != 0)
        goto done;
    encode_meta(b, rej, rejlen, &meta);
    if (repo_create(&w, b->partial, REPO_KIND_PARTIAL, &meta, err) != 0)
        goto done;
    repo_put_views(w, b->p);
    order = publish_order(b->p);
    b->stats.rows = 0;
    for (int k = 0; k < b->p->nviews; k++) {
        const struct view *v = &b->p->views[order[k]];
        struct table *t = work_table(b, order[k]);
        size_t n;
        uint32_t *rows = table_sorted(t, INT64_MIN, INT64_MAX, &n);

        for (size_t i = 0; i < n; i++) {
            const void *key;
            size_t klen;
            int64_t bucket;
            const int64_t *row;

            table_entry(t, rows[i], &key, &klen, &bucket, &row);
            repo_put_row(w, v, key, klen, bucket, row);
        }
        repo_end_view(w);
        b->stats.rows += (int64_t)n;
        free(rows);
        if (batch_signal != 0) {
            snprintf(err, ERR_LEN, "interrupted by signal %d",
                (int)batch_signal);
            goto done;
        }
    }
    rc = repo_finish(w, err);
    w = NULL;
done:
    repo_abort(w);
    free(order);
    buf_reset(&meta);
    return rc;
}

/* ---- reading ------------------------------------------------------------ */

static int
dec_int(struct repo_cur *c, int *v, uint64_t max)
{
    uint64_t u;

    if (repo_dec_u(c, &u) != 0 || u > max)
        return -1;
    *v = (int)u;
    return 0;
}

static int
dec_reasons(struct repo_cur *c, struct batch_stats *st)
{
    uint64_t n;
    const char *name;
    size_t len;
    int64_t count;

    if (repo_dec_u(c, &n) != 0 || n > 1000)
        return -1;
    for (uint64_t i = 0; i < n; i++) {
        int r;

        if (repo_dec_str(c, &name, &len) != 0 ||
            repo_dec_s(c, &count) != 0)
            return -1;
        for (r = 1; r < REJECT_NREASONS; r++) {
            const char *known = event_reject_name((enum reject)r);

            if (strlen(known) == len && memcmp(known, name, len) == 0)
                break;
        }
        if (r == REJECT_NREASONS)
            return -1;      /* a reason this build does not know */
        st->rejects[r] += count;
        st->nrejects += count;
    }
    return 0;
}

static int
decode_meta(struct partial *pt, struct repo_cur *c)
{
    const char *s;
    size_t n;
    uint64_t u;
    struct batch_stats *st = &pt->st;

    if (repo_dec_str(c, &s, &n) != 0 || n >= sizeof(pt->pipeline))
        return -1;
    memcpy(pt->pipeline, s, n);
    pt->pipeline[n] = '\0';
    if (dec_int(c, &pt->shard, SHARD_MAX) != 0 ||
        dec_int(c, &pt->nshards, SHARD_MAX) != 0 ||
        repo_dec_s(c, &pt->from) != 0 || repo_dec_s(c, &pt->until) != 0 ||
        dec_int(c, &pt->ninputs, (uint64_t)(c->end - c->p)) != 0)
        return -1;
    pt->inputs = xcalloc((size_t)pt->ninputs + 1, sizeof(*pt->inputs));
    for (int i = 0; i < pt->ninputs; i++) {
        if (repo_dec_str(c, &s, &n) != 0 ||
            repo_dec_u(c, &pt->inputs[i].size) != 0)
            return -1;
        pt->inputs[i].path = xstrndup(s, n);
    }
    if (dec_int(c, &pt->npieces, (uint64_t)pt->ninputs) != 0)
        return -1;
    pt->pieces = xcalloc((size_t)pt->npieces + 1, sizeof(*pt->pieces));
    for (int i = 0; i < pt->npieces; i++) {
        if (dec_int(c, &pt->pieces[i].file, (uint64_t)pt->ninputs - 1) != 0 ||
            repo_dec_u(c, &pt->pieces[i].start) != 0 ||
            repo_dec_u(c, &pt->pieces[i].end) != 0 ||
            repo_dec_u(c, &u) != 0)
            return -1;
        pt->pieces[i].lines = (int64_t)u;
    }
    if (repo_dec_s(c, &st->accepted) != 0 ||
        repo_dec_s(c, &st->events) != 0 ||
        repo_dec_s(c, &st->after_cutoff) != 0 ||
        repo_dec_s(c, &st->held) != 0 ||
        repo_dec_s(c, &st->before_from) != 0 ||
        repo_dec_s(c, &st->last_before_from) != 0 ||
        dec_reasons(c, st) != 0 || repo_dec_u(c, &u) != 0 ||
        u > (uint64_t)(c->end - c->p) / 2)
        return -1;
    pt->nunits = (size_t)u;
    pt->units = xcalloc(pt->nunits + 1, sizeof(*pt->units));
    pt->counts = xcalloc(pt->nunits + 1, sizeof(*pt->counts));
    for (size_t i = 0; i < pt->nunits; i++)
        if (repo_dec_s(c, &pt->units[i]) != 0 ||
            repo_dec_s(c, &pt->counts[i]) != 0 ||
            (i > 0 && pt->units[i] <= pt->units[i - 1]))
            return -1;
    return repo_dec_str(c, &pt->rejects, &pt->rejlen);
}

int
partial_open(struct partial *pt, const char *path, const struct pipeline *p,
    char *err)
{
    struct repo_cur c;

    memset(pt, 0, sizeof(*pt));
    pt->path = xstrdup(path);
    buf_init(&pt->meta);
    if (repo_open(&pt->r, path, REPO_KIND_PARTIAL, &pt->meta, err) != 0)
        return -1;
    repo_cur_init(&c, &pt->meta);
    if (decode_meta(pt, &c) != 0) {
        snprintf(err, ERR_LEN, "%s: corrupt meta block (written by another "
            "lambdakit version?)", path);
        return -1;
    }
    return repo_get_views(pt->r, p, err);
}

void
partial_reset(struct partial *pt)
{
    repo_close(pt->r);
    for (int i = 0; pt->inputs != NULL && i < pt->ninputs; i++)
        free(pt->inputs[i].path);
    free(pt->inputs);
    free(pt->pieces);
    free(pt->units);
    free(pt->counts);
    buf_reset(&pt->meta);
    free(pt->path);
    memset(pt, 0, sizeof(*pt));
}
