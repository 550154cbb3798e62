/* viewdef.c -- the definitions the store's rows were written with */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "shared/err.h"
#include "shared/mem.h"
#include "shared/viewdef.h"

void
viewdef_name(struct buf *b, uint64_t sig, const char *view)
{
    buf_clear(b);
    buf_printf(b, VIEWDEF_PREFIX "%016" PRIx64 "/%s", sig, view);
}

/* The member key of obj, case-sensitive, or NULL. */
static cJSON *
child(cJSON *obj, const char *key)
{
    return obj != NULL ? cJSON_GetObjectItemCaseSensitive(obj, key) : NULL;
}

char *
viewdef_text(const struct pipeline *p, const struct view *v)
{
    cJSON *root, *def, *views, *ev, *vj;
    char *text = NULL;

    if (p->text == NULL || (root = cJSON_Parse(p->text)) == NULL)
        return NULL;
    ev = cJSON_DetachItemFromObjectCaseSensitive(root, "event");
    vj = cJSON_DetachItemFromObjectCaseSensitive(child(root, "views"),
        v->name);
    if (ev != NULL && vj != NULL) {
        def = cJSON_CreateObject();
        cJSON_AddStringToObject(def, "name", p->name);
        cJSON_AddStringToObject(def, "store", p->store);
        cJSON_AddItemToObject(def, "event", ev);
        views = cJSON_AddObjectToObject(def, "views");
        cJSON_AddItemToObject(views, v->name, vj);
        ev = vj = NULL;
        text = cJSON_PrintUnformatted(def);
        cJSON_Delete(def);
    }
    cJSON_Delete(ev);
    cJSON_Delete(vj);
    cJSON_Delete(root);
    return text;
}

int
viewdef_put(struct store_txn *t, const struct pipeline *p,
    const struct view *v, char *err)
{
    struct buf name;
    const void *val;
    char *text;
    size_t len;
    int rc = 0;

    if ((text = viewdef_text(p, v)) == NULL)
        return 0;
    buf_init(&name);
    viewdef_name(&name, pipeline_view_signature(p, v), v->name);
    rc = store_meta_get(t, name.data, &val, &len, err);
    if (rc == STORE_NOTFOUND || (rc == 0 && (len != strlen(text) ||
        memcmp(val, text, len) != 0)))
        rc = store_meta_put(t, name.data, text, strlen(text), err);
    buf_reset(&name);
    free(text);
    return rc;
}

int
viewdef_get(struct store_txn *t, uint64_t sig, const char *view,
    struct pipeline **out, char *err)
{
    struct buf name;
    char label[ERR_LEN], *text;
    struct pipeline *p;
    const void *val;
    size_t len;
    int rc;

    buf_init(&name);
    viewdef_name(&name, sig, view);
    snprintf(label, sizeof(label), "store meta %s", name.data);
    rc = store_meta_get(t, name.data, &val, &len, err);
    buf_reset(&name);
    if (rc != 0)
        return rc;
    text = xmalloc(len + 1);
    memcpy(text, val, len);
    text[len] = '\0';
    if (pipeline_parse(&p, label, text, len, err) != 0)
        return -1;
    if (p->nviews != 1 || strcmp(p->views[0].name, view) != 0 ||
        pipeline_view_signature(p, &p->views[0]) != sig) {
        snprintf(err, ERR_LEN, "%.200s: not the definition its name says",
            label);
        pipeline_free(p);
        return -1;
    }
    *out = p;
    return 0;
}

int
viewdef_served(struct store_txn *t, int64_t version, const char *name,
    uint64_t *sig, char *err)
{
    int64_t b = 0, s = 0;
    int rb = STORE_NOTFOUND, rs;

    if (version > 0 && (rb = store_view_sig(t, version, name, &b, err)) < 0)
        return -1;
    if ((rs = store_view_sig(t, 0, name, &s, err)) < 0)
        return -1;
    if (rb == STORE_NOTFOUND && rs == STORE_NOTFOUND)
        return STORE_NOTFOUND;
    if (rb == 0 && rs == 0 && b != s)
        return VIEWDEF_SPLIT;
    *sig = (uint64_t)(rb == 0 ? b : s);
    return 0;
}
