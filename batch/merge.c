/* merge.c -- --merge: fold every shard's partial as one run over all the inputs would count */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "batch/hist.h"
#include "batch/hold.h"
#include "batch/input.h"
#include "batch/merge.h"
#include "batch/partial.h"
#include "batch/rejects.h"
#include "batch/table.h"
#include "batch/work.h"
#include "shared/agg.h"
#include "shared/err.h"
#include "shared/log.h"
#include "shared/mem.h"

struct merge {
    struct batch   *b;
    struct partial *pts;        /* by position on the command line */
    int             n;
    struct partial **by_shard;  /* [nshards]: the partial of each shard */
};

/* Same split, same inputs, same --from and --until as the first. */
static int
check_same(const struct partial *a, const struct partial *x, char *err)
{
    if (x->nshards != a->nshards) {
        snprintf(err, ERR_LEN, "%s is shard %d/%d but %s is shard %d/%d: "
            "partials of different splits", x->path, x->shard, x->nshards,
            a->path, a->shard, a->nshards);
        return -1;
    }
    if (x->from != a->from || x->until != a->until) {
        snprintf(err, ERR_LEN, "%s (shard %d/%d) was run with other --from "
            "or --until than %s (shard %d/%d)", x->path, x->shard,
            x->nshards, a->path, a->shard, a->nshards);
        return -1;
    }
    for (int i = 0; i < a->ninputs || i < x->ninputs; i++) {
        if (i < a->ninputs && i < x->ninputs &&
            strcmp(a->inputs[i].path, x->inputs[i].path) == 0 &&
            a->inputs[i].size == x->inputs[i].size)
            continue;
        if (i >= a->ninputs || i >= x->ninputs)
            snprintf(err, ERR_LEN, "%s (shard %d/%d) read %d inputs, %s "
                "(shard %d/%d) %d: the shards saw other input sets",
                x->path, x->shard, x->nshards, x->ninputs, a->path,
                a->shard, a->nshards, a->ninputs);
        else
            snprintf(err, ERR_LEN, "%s (shard %d/%d) saw input %d as %s "
                "(%" PRIu64 " bytes), %s (shard %d/%d) as %s (%" PRIu64
                " bytes): the shards saw other input sets", x->path,
                x->shard, x->nshards, i + 1, x->inputs[i].path,
                x->inputs[i].size, a->path, a->shard, a->nshards,
                a->inputs[i].path, a->inputs[i].size);
        return -1;
    }
    return 0;
}

/* Every shard exactly once. */
static int
check_set(struct merge *m, char *err)
{
    const struct partial *a = &m->pts[0];
    struct buf missing;
    int nmissing = 0;

    for (int k = 1; k < m->n; k++)
        if (check_same(a, &m->pts[k], err) != 0)
            return -1;
    m->by_shard = xcalloc((size_t)a->nshards, sizeof(*m->by_shard));
    for (int k = 0; k < m->n; k++) {
        struct partial *x = &m->pts[k];

        if (m->by_shard[x->shard] != NULL) {
            snprintf(err, ERR_LEN, "shard %d/%d given twice: %s and %s",
                x->shard, x->nshards, m->by_shard[x->shard]->path, x->path);
            return -1;
        }
        m->by_shard[x->shard] = x;
    }
    buf_init(&missing);
    for (int i = 0; i < a->nshards; i++) {
        if (m->by_shard[i] != NULL)
            continue;
        if (nmissing++ < 8)
            buf_printf(&missing, "%s%d/%d", nmissing > 1 ? ", " : "", i,
                a->nshards);
    }
    if (nmissing > 0)
        snprintf(err, ERR_LEN, "shard%s %s%s missing: the merge needs the "
            "partial of every shard once", nmissing > 1 ? "s" : "",
            missing.data, nmissing > 8 ? ", ..." : "");
    buf_reset(&missing);
    return nmissing > 0 ? -1 : 0;
}

/* The counts and the cutoff one run would have had (work_finish()), from
 * the events per cutoff unit of every shard and the hold (b->limit). */
static void
merge_counts(struct merge *m)
{
    struct batch *b = m->b;
    struct batch_stats *s = &b->stats;
    struct hist h;
    int64_t *units, *counts, counted = 0, beyond = 0;
    int64_t last = INT64_MIN, lastn = 0;

    hist_init(&h);
    s->last_before_from = INT64_MIN;
    for (int k = 0; k < m->n; k++) {
        batch_stats_add(s, &m->pts[k].st);
        for (size_t i = 0; i < m->pts[k].nunits; i++)
            hist_add(&h, m->pts[k].units[i], m->pts[k].counts[i]);
    }
    hist_sorted(&h, &units, &counts);
    last = s->last_before_from;
    for (size_t i = 0; i < h.n; i++) {
        if (units[i] >= b->limit) {
            beyond += counts[i];        /* held: speed's */
            continue;
        }
        counted += counts[i];
        if (units[i] >= last) {
            last = units[i];
            lastn = counts[i];
        }
    }
    s->held += beyond;
    s->after_cutoff += beyond;
    s->last_unit = last;
    s->events = counted;        /* the shards' counts were before any hold */
    if (b->until >= 0) {
        b->cutoff = b->until;
    } else if (s->held > 0) {
        b->cutoff = b->limit;
    } else if (last == INT64_MIN) {
        b->cutoff = 0;
    } else {
        /* the latest bucket may still be filling: it is left to speed */
        b->cutoff = last;
        s->events -= lastn;
        s->after_cutoff += lastn;
    }
    free(units);
    free(counts);
    hist_reset(&h);
}

/* The rejects in input order, with the lines of the earlier pieces of the
 * same input added. */
static int
merge_rejects(struct merge *m, char *err)
{
    struct batch *b = m->b;
    int ns = m->pts[0].nshards;
    size_t *pos = xcalloc((size_t)ns, sizeof(*pos));
    int64_t *base = xcalloc((size_t)ns, sizeof(*base));
    int rc = -1;

    for (int f = 0; f < b->ninputs; f++) {
        int64_t lines = 0;

        for (int i = 0; i < ns; i++) {
            const struct partial *x = m->by_shard[i];

            base[i] = lines;
            for (int j = 0; j < x->npieces; j++)
                if (x->pieces[j].file == f)
                    lines += x->pieces[j].lines;
        }
        for (int i = 0; i < ns; i++) {
            const struct partial *x = m->by_shard[i];

            while (pos[i] < x->rejlen) {
                const char *p = x->rejects + pos[i], *end;
                const char *nl = memchr(p, '\n', x->rejlen - pos[i]);
                long long file, line;

                if (nl == NULL)
                    goto corrupt;
                errno = 0;
                file = strtoll(p, (char **)&end, 10);
                if (errno != 0 || *end != ' ' || file < f || file >= b->ninputs)
                    goto corrupt;
                if (file > f)
                    break;
                line = strtoll(end + 1, (char **)&end, 10);
                if (errno != 0 || *end != ' ' || line < 1)
                    goto corrupt;
                rejects_write(b, b->inputs[f].path, base[i] + line, end + 1,
                    (size_t)(nl - end - 1));
                pos[i] = (size_t)(nl + 1 - x->rejects);
            }
        }
    }
    rc = 0;
    goto done;
corrupt:
    snprintf(err, ERR_LEN, "corrupt rejects in a partial");
done:
    free(pos);
    free(base);
    return rc;
}

/* Fold every row of every partial into the tables. */
static int
merge_rows(struct merge *m, char *err)
{
    struct batch *b = m->b;
    struct repo_row row;
    const struct view *v;
    int rc;

    work_empty(b);
    for (int k = 0; k < m->n; k++) {
        struct repo_reader *r = m->pts[k].r;

        while ((v = repo_next_view(r)) != NULL) {
            struct table *t = work_table(b, (int)(v - b->p->views));
            uint64_t n = 0;

            while ((rc = repo_get_row(r, &row, err)) == 0) {
                int64_t *dst = table_row(t, row.gkey, row.gklen, row.bucket,
                    table_hash(row.gkey, row.gklen, row.bucket));

                if (agg_row_merge(v, dst, row.slots) != 0) {
                    snprintf(err, ERR_LEN, "view %s: sum overflow", v->name);
                    return -1;
                }
                if ((++n & 65535) == 0 && batch_signal != 0) {
                    snprintf(err, ERR_LEN, "interrupted by signal %d",
                        (int)batch_signal);
                    return -1;
                }
            }
            if (rc < 0)
                return -1;
        }
        if (repo_done(r, err) != 0)
            return -1;
    }
    return 0;
}

int
merge_run(struct batch *b, char *err)
{
    struct merge m;
    struct partial *a;
    int rc = -1;

    memset(&m, 0, sizeof(m));
    m.b = b;
    m.n = b->npartials;
    m.pts = xcalloc((size_t)m.n, sizeof(*m.pts));
    for (int k = 0; k < m.n; k++)
        if (partial_open(&m.pts[k], b->partials[k], b->p, err) != 0)
            goto done;
    if (check_set(&m, err) != 0)
        goto done;
    a = &m.pts[0];
    /* one run over the recorded inputs, with the shards' --from, --until */
    input_free(b);
    b->inputs = a->inputs;
    b->ninputs = a->ninputs;
    a->inputs = NULL;
    b->total_bytes = 0;
    for (int i = 0; i < b->ninputs; i++)
        b->total_bytes += b->inputs[i].size;
    b->from = a->from;
    b->until = a->until;
    log_debug("%s: %d partials of %d inputs, %" PRIu64 " bytes", __func__,
        m.n, b->ninputs, b->total_bytes);
    if (hold_limit(b, err) != 0)
        goto done;
    merge_counts(&m);
    if (merge_rejects(&m, err) != 0 || merge_rows(&m, err) != 0)
        goto done;
    rc = 0;
done:
    for (int k = 0; k < m.n; k++)
        partial_reset(&m.pts[k]);
    free(m.pts);
    free(m.by_shard);
    return rc;
}
