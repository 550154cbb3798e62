/* viewdefs.c -- the definition each view is answered under */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "serving/api.h"
#include "serving/query.h"
#include "serving/serving.h"
#include "serving/viewdefs.h"
#include "shared/err.h"
#include "shared/log.h"
#include "shared/mem.h"
#include "shared/viewdef.h"

void
viewdefs_init(struct viewdefs *d)
{
    memset(d, 0, sizeof(*d));
    if (pthread_mutex_init(&d->mu, NULL) != 0)
        fatalx("pthread_mutex_init failed");
}

void
viewdefs_reset(struct viewdefs *d)
{
    for (int i = 0; i < d->n; i++)
        pipeline_free(d->p[i]);
    free(d->p);
    free(d->sig);
    pthread_mutex_destroy(&d->mu);
}

/* The stored definition of sig, loaded once. NULL with err. */
static const struct view *
cached(struct viewdefs *d, struct snap *s, uint64_t sig, const char *name,
    char *err)
{
    const struct view *v = NULL;
    struct pipeline *p;
    int rc;

    pthread_mutex_lock(&d->mu);
    for (int i = 0; i < d->n && v == NULL; i++)
        if (d->sig[i] == sig && strcmp(d->p[i]->views[0].name, name) == 0)
            v = &d->p[i]->views[0];
    pthread_mutex_unlock(&d->mu);
    if (v != NULL)
        return v;
    if ((rc = viewdef_get(s->txn, sig, name, &p, err)) != 0) {
        if (rc == STORE_NOTFOUND)
            snprintf(err, ERR_LEN, "the store does not hold the definition "
                "its rows were written with (written before definitions "
                "were kept): run lambda-batch with this pipeline to switch "
                "the view");
        return NULL;
    }
    pthread_mutex_lock(&d->mu);
    for (int i = 0; i < d->n && v == NULL; i++)
        if (d->sig[i] == sig && strcmp(d->p[i]->views[0].name, name) == 0)
            v = &d->p[i]->views[0];     /* another thread was first */
    if (v == NULL) {
        d->sig = xrealloc(d->sig, (size_t)(d->n + 1) * sizeof(*d->sig));
        d->p = xrealloc(d->p, (size_t)(d->n + 1) * sizeof(*d->p));
        d->sig[d->n] = sig;
        d->p[d->n] = p;
        v = &d->p[d->n++]->views[0];
        p = NULL;
    }
    pthread_mutex_unlock(&d->mu);
    pipeline_free(p);
    return v;
}

const struct view *
viewdefs_view(struct serving *sv, struct snap *s, const char *name,
    enum viewdefs_state *state, struct reply *r)
{
    const struct view *own = pipeline_view(sv->p, name), *v;
    enum viewdefs_state dummy;
    char err[ERR_LEN];
    uint64_t sig;
    int rc;

    if (state == NULL)
        state = &dummy;
    *state = VIEWDEFS_CURRENT;
    rc = s == NULL ? STORE_NOTFOUND : viewdef_served(s->txn, s->has_batch ?
        s->batch.version : 0, name, &sig, err);
    if (rc == STORE_NOTFOUND && own != NULL) {
        *state = VIEWDEFS_NONE;
        return own;             /* no rows: the file's */
    }
    if (rc == STORE_NOTFOUND) {
        reply_error(r, 404, NULL, "unknown view (GET /v1/views lists "
            "them)");
        return NULL;
    }
    if (rc == VIEWDEF_SPLIT) {
        *state = VIEWDEFS_SPLIT;
        reply_error(r, 503, NULL, "view %s: its batch and speed rows were "
            "written under different definitions: run lambda-batch to "
            "switch it", name);
        return NULL;
    }
    if (rc != 0) {
        reply_error(r, 503, NULL, "%s", err);
        return NULL;
    }
    if (own != NULL && pipeline_view_signature(sv->p, own) == sig)
        return own;
    *state = own != NULL ? VIEWDEFS_PREVIOUS : VIEWDEFS_STORE;
    if ((v = cached(&sv->defs, s, sig, name, err)) == NULL) {
        log_warnx("view %s: %s", name, err);
        reply_error(r, 503, NULL, "view %s: %s", name, err);
    }
    return v;
}

int
viewdefs_served(struct snap *s, const struct view *v)
{
    char err[ERR_LEN];
    uint64_t sig;
    int rc = viewdef_served(s->txn, s->has_batch ? s->batch.version : 0,
        v->name, &sig, err);

    if (rc == STORE_NOTFOUND)
        return 1;
    return rc == 0 && sig == pipeline_view_signature(v->pipeline, v);
}

const struct view *
viewdefs_open(struct serving *sv, const char *name, struct snap *s,
    int *opened, struct reply *r)
{
    struct store *st = serving_store(sv);
    const struct view *v;
    char err[ERR_LEN];

    *opened = 0;
    if (st == NULL || snap_begin(s, st, err) != 0)
        return viewdefs_view(sv, NULL, name, NULL, r);
    if (!snap_has_data(s)) {
        snap_end(s);
        return viewdefs_view(sv, NULL, name, NULL, r);
    }
    if ((v = viewdefs_view(sv, s, name, NULL, r)) == NULL)
        snap_end(s);
    else
        *opened = 1;
    return v;
}
