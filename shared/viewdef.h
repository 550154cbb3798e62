/* viewdef.h -- the definitions the store's rows were written with */
#ifndef SHARED_VIEWDEF_H
#define SHARED_VIEWDEF_H

#include <stdint.h>

#include "shared/buf.h"
#include "shared/pipeline.h"
#include "shared/store.h"

/*
 * Rows are only meaningful under the definition that wrote them
 * (pipeline_view_signature()). The store keeps each such definition, so a
 * reader whose pipeline file says otherwise can still read them:
 *     meta "def/SIGHEX/VIEW"   (SIGHEX: the signature, 16 lowercase hex
 *                               digits; VIEW: the view's name)
 * holds a self-contained pipeline JSON text: the "name" and "store" of the
 * pipeline that wrote it, its whole "event" section and that one view under
 * "views". Loading it (pipeline_parse()) gives back the view's struct with
 * the same signature. The name is part of the key because the signature
 * covers what the rows mean, not names: two views alike but for their
 * names, or a metric renamed, share a signature. It is written whenever a
 * signature is recorded (a batch publish, lambda-speed's start), replacing
 * the text of the same key when it differs (a renamed metric or a changed
 * "outputs": the latest writer's names); definitions no row uses any more
 * are left (a few hundred bytes each).
 */

#define VIEWDEF_PREFIX "def/"

/* The meta name of view's definition of signature sig into b (cleared). */
void viewdef_name(struct buf *b, uint64_t sig, const char *view);

/*
 * The definition text of v (a view of p), or NULL when p was not loaded
 * from a text (p->text NULL: a pipeline built in code). Free with free().
 */
char *viewdef_text(const struct pipeline *p, const struct view *v);

/* Record v's definition in write transaction t, unless it is there already
 * as it is or p has no text. Returns 0, or -1 with err. */
int viewdef_put(struct store_txn *t, const struct pipeline *p,
    const struct view *v, char *err);

/*
 * Load view's definition of signature sig from the store: 0 and *out (a
 * pipeline of one view, free with pipeline_free()), STORE_NOTFOUND when the
 * store does not hold it, or -1 with err (it does not load, or its view's
 * signature is not sig: damage).
 */
int viewdef_get(struct store_txn *t, uint64_t sig, const char *view,
    struct pipeline **out, char *err);

/*
 * The signature a snapshot answers view `name` under: the batch version's
 * (version > 0) when it recorded one, else the speed rows'. 0 and *sig,
 * STORE_NOTFOUND when neither is recorded, VIEWDEF_SPLIT when both are and
 * differ (the speed rows do not belong to the batch's definition: only a
 * store written before definitions were switched whole can say so), or -1.
 */
#define VIEWDEF_SPLIT 2
int viewdef_served(struct store_txn *t, int64_t version, const char *name,
    uint64_t *sig, char *err);

#endif
