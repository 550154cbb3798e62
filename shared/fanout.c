/* fanout.c -- the rows one event adds to the views: where, explode, group keys */
#include <stdlib.h>
#include <string.h>

#include "shared/fanout.h"
#include "shared/key.h"
#include "shared/mem.h"

void
fanout_init(struct fanout *fo)
{
    memset(fo, 0, sizeof(*fo));
    buf_init(&fo->keys);
    buf_reserve(&fo->keys, 2 * KEY_MAX);
}

void
fanout_reset(struct fanout *fo)
{
    buf_reset(&fo->keys);
    free(fo->rows);
    memset(fo, 0, sizeof(*fo));
}

/* One row of view vi, keyed by ev as it stands. Returns 0, or -1. Inlined:
 * it runs for every event and view. */
static inline __attribute__((always_inline)) int
add_row(struct fanout *fo, const struct pipeline *p, int vi,
    const struct event *ev)
{
    const struct view *v = &p->views[vi];
    size_t off = fo->keys.len;

    if (!event_match(ev, v))
        return 0;
    if (key_encode_event(&fo->keys, p, v, ev) != 0)
        return -1;
    if (fo->nrows == fo->cap) {
        fo->cap = fo->cap > 0 ? fo->cap * 2 : 16;
        fo->rows = xrealloc(fo->rows, sizeof(*fo->rows) * (size_t)fo->cap);
    }
    fo->rows[fo->nrows].view = vi;
    fo->rows[fo->nrows].off = off;
    fo->rows[fo->nrows].len = fo->keys.len - off;
    fo->nrows++;
    return 0;
}

int
fanout_event(struct fanout *fo, const struct pipeline *p, struct event *ev,
    int *bad_view)
{
    buf_clear(&fo->keys);
    fo->nrows = 0;
    for (int vi = 0; vi < p->nviews; vi++) {
        const struct view *v = &p->views[vi];
        struct event_value *slot, arr;
        int rc = 0;

        if (!v->explodes) {
            rc = add_row(fo, p, vi, ev);
        } else if ((slot = &ev->vals[v->explode])->present) {
            arr = *slot;
            for (int i = 0; i < arr.nelems && rc == 0; i++) {
                *slot = arr.elems[i];
                slot->present = 1;
                rc = add_row(fo, p, vi, ev);
            }
            *slot = arr;
        }
        if (rc != 0) {
            *bad_view = vi;
            return -1;
        }
    }
    return fo->nrows;
}
