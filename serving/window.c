/* window.c -- series points: tumbling and sliding windows over bucket rows */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "serving/window.h"
#include "shared/agg.h"
#include "shared/err.h"
#include "shared/mem.h"
#include "shared/ts.h"

#define ROW(w, i) ((w)->slab + ((i) & ((w)->cap - 1)) * 2 * (w)->ns)
#define SFX(w, i) (ROW(w, i) + (w)->ns)
#define TIME(w, i) ((w)->times[(i) & ((w)->cap - 1)])

void
window_init(struct window *w, const struct view *v, int64_t step,
    int64_t width, int64_t first,
    int (*emit)(void *arg, int64_t t, const int64_t *row, char *err),
    void *arg)
{
    memset(w, 0, sizeof(*w));
    w->v = v;
    w->step = step;
    w->width = width;
    w->chunk = ts_gcd(step, width);
    w->first = first;
    w->emit = emit;
    w->arg = arg;
    w->ns = (size_t)v->nslots;
    w->cur = xmalloc(agg_row_size(v));
    w->back = xmalloc(agg_row_size(v));
    w->acc = xmalloc(agg_row_size(v));
    agg_row_init(v, w->back);
    w->cap = 16;
    w->times = xmalloc(w->cap * sizeof(int64_t));
    w->slab = xmalloc(w->cap * 2 * agg_row_size(v));
}

void
window_reset(struct window *w)
{
    free(w->cur);
    free(w->back);
    free(w->acc);
    free(w->times);
    free(w->slab);
    memset(w, 0, sizeof(*w));
}

static int
merge(struct window *w, int64_t *dst, const int64_t *src, char *err)
{
    if (agg_row_merge(w->v, dst, src) == 0)
        return 0;
    snprintf(err, ERR_LEN, "view %s: sum overflow", w->v->name);
    return -1;
}

static void
grow(struct window *w)
{
    size_t cap = w->cap * 2, rowsz = 2 * w->ns;
    int64_t *times = xmalloc(cap * sizeof(int64_t));
    int64_t *slab = xmalloc(cap * rowsz * sizeof(int64_t));

    for (size_t i = w->head; i < w->end; i++) {
        times[i & (cap - 1)] = TIME(w, i);
        memcpy(slab + (i & (cap - 1)) * rowsz, ROW(w, i),
            rowsz * sizeof(int64_t));
    }
    free(w->times);
    free(w->slab);
    w->times = times;
    w->slab = slab;
    w->cap = cap;
}

/* Drop the oldest chunk of the window; when the front stack is empty, turn
 * the back into the front by computing suffix merges. */
static int
pop(struct window *w, char *err)
{
    if (w->head == w->mid) {
        agg_row_init(w->v, w->acc);
        for (size_t i = w->in; i-- > w->head;) {
            if (merge(w, w->acc, ROW(w, i), err) != 0)
                return -1;
            memcpy(SFX(w, i), w->acc, w->ns * sizeof(int64_t));
        }
        w->mid = w->in;
        agg_row_init(w->v, w->back);
    }
    w->head++;
    return 0;
}

/* Point t: take in the chunks before t + width, drop those before t, emit
 * the merge if any chunk is left. */
static int
point(struct window *w, int64_t t, char *err)
{
    while (w->in < w->end && TIME(w, w->in) < t + w->width) {
        if (merge(w, w->back, ROW(w, w->in), err) != 0)
            return -1;
        w->in++;
    }
    while (w->head < w->in && TIME(w, w->head) < t)
        if (pop(w, err) != 0)
            return -1;
    if (w->head == w->in)
        return 0;
    if (w->head < w->mid) {
        memcpy(w->acc, SFX(w, w->head), w->ns * sizeof(int64_t));
    } else {
        agg_row_init(w->v, w->acc);
    }
    if (merge(w, w->acc, w->back, err) != 0)
        return -1;
    return w->emit(w->arg, t, w->acc, err);
}

/* Emit every point whose window ends at or before limit. */
static int
drain(struct window *w, int64_t limit, char *err)
{
    while (w->head < w->end) {
        int64_t c = TIME(w, w->head);
        /* the first point whose window holds chunk c */
        int64_t nt = ts_bucket(c - w->width, w->step) + w->step;

        if (!w->started) {
            w->t = nt > w->first ? nt : w->first;
            w->started = 1;
        } else if (nt > w->t) {
            w->t = nt;  /* skip points without data */
        }
        if (limit != INT64_MAX && w->t + w->width > limit)
            break;
        if (point(w, w->t, err) != 0)
            return -1;
        w->t += w->step;
        while (w->head < w->in && TIME(w, w->head) < w->t)
            if (pop(w, err) != 0)
                return -1;
    }
    return 0;
}

/* The chunk being filled is complete: queue it. */
static int
push(struct window *w, char *err)
{
    if (w->width == w->step) {  /* tumbling: a chunk is a whole point */
        w->open = 0;
        if (w->cur_t < w->first)
            return 0;
        return w->emit(w->arg, w->cur_t, w->cur, err);
    }
    if (drain(w, w->cur_t, err) != 0)
        return -1;
    if (w->end - w->head == w->cap)
        grow(w);
    TIME(w, w->end) = w->cur_t;
    memcpy(ROW(w, w->end), w->cur, w->ns * sizeof(int64_t));
    w->end++;
    w->open = 0;
    return 0;
}

int
window_add(struct window *w, int64_t bucket, const int64_t *row, char *err)
{
    int64_t ct = ts_bucket(bucket, w->chunk);

    if (w->open && ct != w->cur_t && push(w, err) != 0)
        return -1;
    if (!w->open) {
        agg_row_init(w->v, w->cur);
        w->cur_t = ct;
        w->open = 1;
    }
    return merge(w, w->cur, row, err);
}

int
window_finish(struct window *w, char *err)
{
    if (w->open && push(w, err) != 0)
        return -1;
    return drain(w, INT64_MAX, err);
}
