/* late.c -- what a run's inputs hold of speed's archive, for the late-data ledger */
#include <stdint.h>
#include <stdlib.h>

#include "batch/late.h"
#include "shared/log.h"
#include "shared/mem.h"
#include "shared/segment.h"

struct seg {
    int32_t part;
    int64_t first, last;
};

static int
cmp_seg(const void *a, const void *b)
{
    const struct seg *x = a, *y = b;

    if (x->part != y->part)
        return x->part < y->part ? -1 : 1;
    return x->first < y->first ? -1 : x->first > y->first;
}

struct late_listing *
late_listing_new(const struct batch *b)
{
    const struct pipeline *p = b->p;
    struct late_listing *l;
    struct seg *s;
    int n = 0;

    /* a --merge's inputs are the shards' partials: it listed nothing */
    if (p->speed.archive == NULL || p->speed.topic == NULL ||
        b->mode != BATCH_RUN)
        return NULL;
    s = xmalloc(sizeof(*s) * ((size_t)b->ninputs + 1));
    for (int i = 0; i < b->ninputs; i++)
        if (segment_path_parse(b->inputs[i].path, p->speed.archive,
            p->speed.topic, &s[n].part, &s[n].first, &s[n].last) == 0)
            n++;
    if (n == 0) {
        log_warnx("no input is a sealed segment of speed.archive %s: the "
            "late-data ledger keeps the archived late events it holds "
            "(GET /v1/views/VIEW/late)", p->speed.archive);
        free(s);
        return NULL;
    }
    qsort(s, (size_t)n, sizeof(*s), cmp_seg);
    l = xcalloc(1, sizeof(*l));
    l->n = s[n - 1].part + 1;
    l->last = xmalloc(sizeof(*l->last) * (size_t)l->n);
    for (int i = 0; i < l->n; i++)
        l->last[i] = -1;
    /* a partition's segments chain FIRST = previous LAST + 1; past a gap
     * (a segment not listed) the offsets are not all in the inputs */
    for (int i = 0; i < n; i++) {
        int64_t *last = &l->last[s[i].part];

        if (i == 0 || s[i - 1].part != s[i].part)
            *last = s[i].last;
        else if (*last == s[i].first - 1 && s[i - 1].last == *last)
            *last = s[i].last;
    }
    free(s);
    return l;
}

void
late_listing_free(struct late_listing *l)
{
    if (l == NULL)
        return;
    free(l->last);
    free(l);
}
