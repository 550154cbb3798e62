/* viewdefs.h -- the definition each view is answered under */
#ifndef SERVING_VIEWDEFS_H
#define SERVING_VIEWDEFS_H

#include <pthread.h>
#include <stdint.h>

#include "shared/pipeline.h"

/*
 * Serving answers a view under the definition its rows were written with,
 * read from the snapshot (viewdef_served(): the batch version's signature,
 * which a switch keeps equal to the speed rows'), never from its own
 * pipeline file: a changed view is answered under its previous definition
 * until lambda-batch switches it, then under the new one, without a restart
 * and without a 503. A view lambda-batch added while serving runs is
 * answered too (its definition is in the store). Definitions other than the
 * file's are loaded once from the store (viewdef_get()) and kept here until
 * exit, keyed by signature and name.
 */

struct snap;
struct serving;
struct reply;

struct viewdefs {
    pthread_mutex_t     mu;
    uint64_t           *sig;
    struct pipeline   **p;      /* one view each, owned */
    int                 n;
};

void viewdefs_init(struct viewdefs *d);
void viewdefs_reset(struct viewdefs *d);

/* How a view is served, for GET /v1/views. */
enum viewdefs_state {
    VIEWDEFS_CURRENT,       /* under serving's pipeline file's definition */
    VIEWDEFS_PREVIOUS,      /* under the store's, which the file changed */
    VIEWDEFS_STORE,         /* a view of the store not in the file */
    VIEWDEFS_SPLIT,         /* batch and speed rows disagree: 503 */
    VIEWDEFS_NONE           /* the store has no rows of it: the file's */
};

/*
 * The view named name as snapshot s answers it (s may be NULL: no store
 * yet, the file's view). Returns it (owned by sv's pipeline or by the
 * cache; valid until exit) and its state in *state (may be NULL), or NULL
 * with a 404 (no such view anywhere) or a 503 in r.
 */
const struct view *viewdefs_view(struct serving *sv, struct snap *s,
    const char *name, enum viewdefs_state *state, struct reply *r);

/*
 * For a handler that reads one snapshot: open it in s and resolve name in
 * it. Returns the view with *opened = 1 (end s with snap_end()), or, when
 * the store is not open or holds no data yet, the file's view (or NULL and
 * a 404) with *opened = 0: the handler answers its 503 after checking its
 * parameters. NULL with r filled otherwise.
 */
const struct view *viewdefs_open(struct serving *sv, const char *name,
    struct snap *s, int *opened, struct reply *r);

/* Nonzero when v is the definition snapshot s answers v->name under. */
int viewdefs_served(struct snap *s, const struct view *v);

#endif
