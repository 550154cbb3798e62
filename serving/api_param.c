/* api_param.c -- query parameters: read, checked, every one accounted for */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "serving/api.h"
#include "serving/api_int.h"
#include "serving/serving.h"
#include "shared/buf.h"
#include "shared/err.h"
#include "shared/key.h"
#include "shared/outputs.h"
#include "shared/pipeline.h"
#include "shared/ts.h"

#define TOP_DEFAULT 10

/* ---- parameters ------------------------------------------------------- */

int
api_params_add(struct params *q, const char *key, size_t klen,
    const char *value, size_t vlen)
{
    if (q->n > PARAMS_MAX)
        return -1;
    if (klen == 0 && value == NULL)
        return 0;
    if (q->n == PARAMS_MAX || strlen(key) != klen ||
        (value != NULL && strlen(value) != vlen)) {
        q->n = PARAMS_MAX + 1;
        return -1;
    }
    q->v[q->n].name = key;
    q->v[q->n].value = value;
    q->v[q->n].used = 0;
    q->n++;
    return 0;
}

static struct param *
param_get(struct params *q, const char *name)
{
    for (int i = 0; i < q->n; i++) {
        if (strcmp(q->v[i].name, name) == 0) {
            q->v[i].used = 1;
            return &q->v[i];
        }
    }
    return NULL;
}

/* Like param_get, but an empty value ("from=") counts as absent. */
static struct param *
param_opt(struct params *q, const char *name)
{
    struct param *p = param_get(q, name);

    return p != NULL && p->value != NULL && *p->value == '\0' ? NULL : p;
}

int
api_params_dups(struct params *q, struct reply *r)
{
    for (int i = 0; i < q->n; i++) {
        for (int j = 0; j < i; j++) {
            if (strcmp(q->v[i].name, q->v[j].name) == 0) {
                reply_error(r, 400, q->v[i].name,
                    "parameter %s: given more than once", q->v[i].name);
                return -1;
            }
        }
    }
    return 0;
}

/* Every parameter must have been read: a typo ("form=") is an error, not
 * a silently ignored filter. */
int
api_params_rest(struct serving *sv, const struct view *v, struct params *q,
    struct reply *r, const char *names)
{
    struct buf exp;

    (void)sv;
    for (int i = 0; i < q->n; i++) {
        if (q->v[i].used)
            continue;
        if (q->v[i].name[0] == '\0') {
            reply_error(r, 400, "", "a parameter without a name: \"=%.64s\"",
                q->v[i].value);
            return -1;
        }
        buf_init(&exp);
        buf_puts(&exp, names);
        for (int g = 0; v != NULL && g < v->ngroup; g++)
            buf_printf(&exp, ", %s", v->pipeline->fields[v->group_by[g]].name);
        reply_error(r, 400, q->v[i].name,
            "unknown parameter %s (expected %s)", q->v[i].name,
            exp.data != NULL ? exp.data : "none");
        buf_reset(&exp);
        return -1;
    }
    return 0;
}

static int
param_time(struct params *q, struct reply *r, const char *name,
    int64_t dflt, int64_t *out)
{
    struct param *p = param_opt(q, name);

    *out = dflt;
    if (p == NULL)
        return 0;
    if (p->value == NULL || ts_param_parse(p->value, out) != 0) {
        reply_error(r, 400, name, "parameter %s: expected an RFC 3339 time "
            "(2026-11-20T13:00:00Z) or integer epoch seconds, got \"%.64s\"",
            name, p->value != NULL ? p->value : "");
        return -1;
    }
    return 0;
}

int
api_param_range(struct params *q, struct reply *r, int64_t *from, int64_t *to)
{
    if (param_time(q, r, "from", INT64_MIN, from) != 0 ||
        param_time(q, r, "to", INT64_MAX, to) != 0)
        return -1;
    if (*from >= *to) {
        reply_error(r, 400, "to", "parameter to: must be after from "
            "(from is inclusive, to exclusive)");
        return -1;
    }
    return 0;
}

/* Field f's key component from its parameter p (NULL: absent), appended
 * to key; -1 with a 400 in r. */
static int
param_key_field(const struct view *v, const struct field *f,
    const struct param *p, struct reply *r, struct buf *key)
{
    char err[ERR_LEN];

    if (p == NULL && f->required) {
        reply_error(r, 400, f->name, "missing parameter %s: view %s "
            "groups by it", f->name, v->name);
        return -1;
    }
    if (p == NULL) {
        reply_error(r, 400, f->name, "missing parameter %s: view %s "
            "groups by it (give \"%s\" without \"=\" for events "
            "without the field)", f->name, v->name, f->name);
        return -1;
    }
    if (key_encode_text(key, f, p->value, err) != 0) {
        reply_error(r, 400, f->name, "parameter %s", err);
        return -1;
    }
    return 0;
}

/* The group key from the view's group_by parameters. */
int
api_param_key(struct serving *sv, const struct view *v, struct params *q,
    struct reply *r, struct buf *key)
{
    (void)sv;
    for (int g = 0; g < v->ngroup; g++) {
        const struct field *f = &v->pipeline->fields[v->group_by[g]];

        if (param_key_field(v, f, param_get(q, f->name), r, key) != 0)
            return -1;
    }
    if (key->len > KEY_MAX) {
        reply_error(r, 400, NULL, "the group key is longer than %d bytes",
            KEY_MAX);
        return -1;
    }
    return 0;
}

int
api_param_key_filter(struct serving *sv, const struct view *v,
    struct params *q, struct reply *r, struct buf *comp, int *given)
{
    (void)sv;
    *given = 0;
    for (int g = 0; g < v->ngroup; g++) {
        const struct field *f = &v->pipeline->fields[v->group_by[g]];
        struct param *p = param_get(q, f->name);

        if (p != NULL && param_key_field(v, f, p, r, &comp[g]) != 0)
            return -1;
        *given += p != NULL;
    }
    return 0;
}

int
api_param_choice(struct params *q, struct reply *r, const char *name,
    const char *const *choices, int *out)
{
    struct param *p = param_opt(q, name);
    struct buf names;

    *out = 0;
    if (p == NULL)
        return 0;
    for (int i = 0; p->value != NULL && choices[i] != NULL; i++) {
        if (strcmp(p->value, choices[i]) == 0) {
            *out = i;
            return 0;
        }
    }
    buf_init(&names);
    for (int i = 0; choices[i] != NULL; i++)
        buf_printf(&names, "%s%s", i == 0 ? "" : choices[i + 1] == NULL ?
            " or " : ", ", choices[i]);
    reply_error(r, 400, name, "parameter %s: expected %s, got \"%.64s\"",
        name, names.data, p->value != NULL ? p->value : "");
    buf_reset(&names);
    return -1;
}

int
api_param_duration(const struct view *v, struct params *q, struct reply *r,
    const char *name, int64_t dflt, int64_t *out)
{
    struct param *p = param_opt(q, name);
    char g[32], g2[32];

    *out = dflt;
    if (p == NULL)
        return 0;
    ts_duration_format(v->granularity, g, sizeof(g));
    ts_duration_format(2 * v->granularity, g2, sizeof(g2));
    if (p->value == NULL || ts_duration_parse(p->value, out) != 0 ||
        *out % v->granularity != 0 || *out > TS_MAX) {
        reply_error(r, 400, name, "parameter %s: expected a duration that "
            "is a multiple of the view's granularity %s (%s, %s, ...), got "
            "\"%.64s\"", name, g, g, g2, p->value != NULL ? p->value : "");
        return -1;
    }
    return 0;
}
/* ---- top's parameters ------------------------------------------------- */

int
api_param_metric(const struct view *v, struct params *q, struct reply *r,
    int *m)
{
    struct param *p = param_opt(q, "metric");
    struct buf names;

    for (int i = 0; p != NULL && p->value != NULL && i < v->nmetrics; i++) {
        if (strcmp(v->metrics[i].name, p->value) == 0) {
            *m = i;
            return 0;
        }
    }
    buf_init(&names);
    for (int i = 0; i < v->nmetrics; i++)
        buf_printf(&names, "%s%s", i > 0 ? ", " : "", v->metrics[i].name);
    if (p == NULL)
        reply_error(r, 400, "metric", "missing parameter metric: one of %s",
            names.data);
    else if (p->value != NULL && outputs_find(v, p->value) >= 0)
        reply_error(r, 400, "metric", "parameter metric: \"%.64s\" is a "
            "computed output; top ranks by a stored metric: one of %s",
            p->value, names.data);
    else
        reply_error(r, 400, "metric", "parameter metric: expected one of %s, "
            "got \"%.64s\"", names.data, p->value != NULL ? p->value : "");
    buf_reset(&names);
    return -1;
}

int
api_param_n(struct serving *sv, struct params *q, struct reply *r, int *n)
{
    struct param *p = param_opt(q, "n");
    int max = sv->p->serving.max_top;
    long long v;

    *n = TOP_DEFAULT < max ? TOP_DEFAULT : max;
    if (p == NULL)
        return 0;
    /* digits only: strtoll alone takes " 5" and "+5" (but not "5 ") */
    errno = 0;
    if (p->value == NULL || *p->value == '\0' ||
        p->value[strspn(p->value, "0123456789")] != '\0' ||
        (v = strtoll(p->value, NULL, 10)) < 1 || v > max || errno != 0) {
        reply_error(r, 400, "n", "parameter n: expected an integer from 1 to "
            "%d (serving.max_top), got \"%.64s\"", max,
            p->value != NULL ? p->value : "");
        return -1;
    }
    *n = (int)v;
    return 0;
}
