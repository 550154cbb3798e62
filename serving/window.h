/* window.h -- series points: tumbling and sliding windows over bucket rows */
#ifndef SERVING_WINDOW_H
#define SERVING_WINDOW_H

#include <stddef.h>
#include <stdint.h>

#include "shared/pipeline.h"

/*
 * Points sit at multiples of step (counted from the epoch, so a 1d step
 * gives UTC days); point t aggregates the rows whose bucket lies in
 * [t, t + width). width == step gives tumbling windows, width > step
 * sliding ones. Rows are fed in ascending bucket order; a point is emitted
 * once no later row can fall into it, and only if some row did: points
 * without data are left out.
 *
 * Rows are first merged into chunks of gcd(step, width), then the chunks
 * inside a window are combined with the two-stacks method (suffix
 * aggregates for the older part, one running aggregate for the newer), so
 * each chunk is merged a constant number of times however wide the window
 * is: the work is linear in rows plus points.
 */

struct window {
    const struct view   *v;
    int64_t              step, width, chunk;
    int64_t              first;     /* lowest point time allowed */
    int                  (*emit)(void *arg, int64_t t, const int64_t *row,
                             char *err);
    void                *arg;
    size_t               ns;        /* slots per row */

    int                  open;      /* cur holds rows */
    int64_t              cur_t;
    int64_t             *cur;       /* chunk being filled */

    /* Complete chunks in a ring, by ever-growing index: [head, mid) is the
     * front stack (each with its suffix merge up to mid), [mid, in) the
     * back (merged into back), [in, end) not yet inside a window. */
    int64_t             *times;     /* cap chunk times */
    int64_t             *slab;      /* cap * 2 rows: the chunk, its suffix */
    size_t               cap;       /* a power of two */
    size_t               head, mid, in, end;
    int64_t             *back;
    int64_t             *acc;       /* scratch */
    int                  started;
    int64_t              t;         /* next point */
};

/*
 * Prepare w for view v with step and width (both > 0, multiples of the
 * granularity); points before first (a multiple of step, or INT64_MIN for
 * no bound) are not emitted.
 * emit(arg, t, row, err) receives each point with data, in time order, and
 * returns 0, or -1 with err to stop. Free with window_reset().
 */
void window_init(struct window *w, const struct view *v, int64_t step,
    int64_t width, int64_t first,
    int (*emit)(void *arg, int64_t t, const int64_t *row, char *err),
    void *arg);
void window_reset(struct window *w);

/* Feed one row (ascending buckets). Returns 0, or -1 with err (from emit,
 * or a sum overflow). */
int window_add(struct window *w, int64_t bucket, const int64_t *row,
    char *err);

/* No more rows: emit the remaining points. Returns 0, or -1 with err. */
int window_finish(struct window *w, char *err);

#endif
