/* pipeline.c -- load and validate the pipeline file, apply overrides */
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <cjson/cJSON.h>

#include "shared/buf.h"
#include "shared/dec.h"
#include "shared/derive.h"
#include "shared/outputs.h"
#include "shared/err.h"
#include "shared/mem.h"
#include "shared/metric.h"
#include "shared/pipeline.h"
#include "shared/setting.h"
#include "shared/ts.h"

#define FILE_MAX        (1024 * 1024)   /* a pipeline file is small */
#define FIELDS_MAX      64
#define GROUP_MAX       8
#define VIEWS_MAX       64
#define METRICS_MAX     64
#define NAME_MAX_LEN    64      /* pipeline, view and metric names */
#define FIELD_NAME_MAX  128
#define FIELD_DEPTH_MAX 8       /* components of a dotted name */
#define INPUTS_MAX      1024
#define KAFKA_MAX       256
#define IN_MAX          1024    /* values of one "in" condition */
#define WHERE_MAX       64

/* Where a loader is in the document, for "FILE: PATH: reason". */
struct loader {
    const char      *file;
    struct pipeline *p;
    char            *err;
    char             path[512];
    size_t           plen;
};

static const char *const cond_ops[] = {"eq", "ne", "lt", "lte", "gt", "gte",
    "in"};
static const char *const type_names[] = {"string", "int", "decimal", "bool",
    "float", "array"};

#define FLOAT_SCALE 6   /* a float's scale when it gives none */

/* ---- paths and errors ---------------------------------------------------- */

static size_t
path_push(struct loader *ld, const char *key)
{
    size_t old = ld->plen;
    int n = snprintf(ld->path + ld->plen, sizeof(ld->path) - ld->plen,
        "%s%s", ld->plen > 0 ? "." : "", key);

    if (n > 0)
        ld->plen += (size_t)n;
    if (ld->plen >= sizeof(ld->path))
        ld->plen = sizeof(ld->path) - 1;
    return old;
}

static size_t
path_push_index(struct loader *ld, int i)
{
    size_t old = ld->plen;
    int n = snprintf(ld->path + ld->plen, sizeof(ld->path) - ld->plen,
        "[%d]", i);

    if (n > 0)
        ld->plen += (size_t)n;
    if (ld->plen >= sizeof(ld->path))
        ld->plen = sizeof(ld->path) - 1;
    return old;
}

static void
path_pop(struct loader *ld, size_t old)
{
    ld->plen = old;
    ld->path[old] = '\0';
}

static int
fail(struct loader *ld, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Write "FILE: PATH: reason" (or "FILE: reason" at the top level). */
static int
fail(struct loader *ld, const char *fmt, ...)
{
    char msg[ERR_LEN];
    va_list ap;
    int n;

    va_start(ap, fmt);
    (void)vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    if (ld->plen > 0)
        n = snprintf(ld->err, ERR_LEN, "%s: %s: %s", ld->file, ld->path, msg);
    else
        n = snprintf(ld->err, ERR_LEN, "%s: %s", ld->file, msg);
    if (n >= ERR_LEN) {
        /* a long file name or path: keep the line, mark the cut */
        size_t end = ERR_LEN - 4;
        while (end > 0 && ((unsigned char)ld->err[end] & 0xC0) == 0x80)
            end--;
        memcpy(ld->err + end, "...", 4);
    }
    return -1;
}

/* Append s quoted, cut at max bytes on a UTF-8 boundary. */
static void
quote_cut(char *buf, size_t size, const char *s, size_t max)
{
    size_t n = strlen(s);
    const char *dots = "";

    if (n > max) {
        n = max;
        while (n > 0 && ((unsigned char)s[n] & 0xC0) == 0x80)
            n--;
        dots = "...";
    }
    snprintf(buf, size, "\"%.*s%s\"", (int)n, s, dots);
}

/* What a JSON value is, for "got ..." in messages. */
static const char *
describe(const cJSON *j, char *buf, size_t size)
{
    if (j == NULL)
        snprintf(buf, size, "nothing");
    else if (cJSON_IsString(j))
        quote_cut(buf, size, j->valuestring, 40);
    else if (cJSON_IsNumber(j))
        dec_format_double(j->valuedouble, buf, size);
    else if (cJSON_IsTrue(j))
        snprintf(buf, size, "true");
    else if (cJSON_IsFalse(j))
        snprintf(buf, size, "false");
    else if (cJSON_IsNull(j))
        snprintf(buf, size, "null");
    else if (cJSON_IsArray(j))
        snprintf(buf, size, "an array");
    else
        snprintf(buf, size, "an object");
    return buf;
}

/* ---- small validators ---------------------------------------------------- */

static int
valid_utf8(const unsigned char *s, size_t n, size_t *bad)
{
    size_t i = 0;

    while (i < n) {
        unsigned char c = s[i];
        size_t k;
        unsigned int cp;

        if (c < 0x80) {
            i++;
            continue;
        }
        if (c >= 0xC2 && c <= 0xDF) {
            k = 1;
            cp = c & 0x1F;
        } else if (c >= 0xE0 && c <= 0xEF) {
            k = 2;
            cp = c & 0x0F;
        } else if (c >= 0xF0 && c <= 0xF4) {
            k = 3;
            cp = c & 0x07;
        } else {
            goto bad;
        }
        if (i + k >= n)
            goto bad;
        for (size_t j = 1; j <= k; j++) {
            if ((s[i + j] & 0xC0) != 0x80)
                goto bad;
            cp = (cp << 6) | (s[i + j] & 0x3F);
        }
        if ((k == 2 && (cp < 0x800 || (cp >= 0xD800 && cp <= 0xDFFF))) ||
            (k == 3 && (cp < 0x10000 || cp > 0x10FFFF)))
            goto bad;
        i += k + 1;
    }
    return 1;
bad:
    *bad = i;
    return 0;
}

/* [A-Za-z0-9_-]{1,64}, plus '.' when dots is set. */
static int
valid_name(const char *s, int dots)
{
    size_t n = strlen(s);

    if (n == 0 || n > NAME_MAX_LEN)
        return 0;
    for (const char *c = s; *c != '\0'; c++) {
        if (!((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') ||
            (*c >= '0' && *c <= '9') || *c == '_' || *c == '-' ||
            (dots && *c == '.')))
            return 0;
    }
    return 1;
}

/* [A-Za-z_][A-Za-z0-9_]{0,63} */
static int
valid_ident(const char *s)
{
    size_t n = strlen(s);

    if (n == 0 || n > NAME_MAX_LEN || (*s >= '0' && *s <= '9'))
        return 0;
    for (const char *c = s; *c != '\0'; c++) {
        if (!((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') ||
            (*c >= '0' && *c <= '9') || *c == '_'))
            return 0;
    }
    return 1;
}

/*
 * Split a dotted field name into its components. Returns the count, or -1
 * with why in *why when a component is empty, the name too long or too deep,
 * or it holds control characters.
 */
static int
split_path(const char *name, char ***out, const char **why)
{
    size_t n = strlen(name);
    int depth = 1;
    char **path;
    const char *s;

    if (n == 0 || n > FIELD_NAME_MAX) {
        *why = "expected 1 to 128 bytes";
        return -1;
    }
    for (s = name; *s != '\0'; s++) {
        if ((unsigned char)*s < 0x20 || *s == 0x7f) {
            *why = "control characters are not allowed";
            return -1;
        }
        if (*s == '.')
            depth++;
    }
    if (depth > FIELD_DEPTH_MAX) {
        *why = "more than 8 levels of nesting";
        return -1;
    }
    path = xcalloc((size_t)depth, sizeof(*path));
    s = name;
    for (int i = 0; i < depth; i++) {
        const char *dot = strchr(s, '.');
        size_t len = dot != NULL ? (size_t)(dot - s) : strlen(s);

        if (len == 0) {
            for (int j = 0; j < i; j++)
                free(path[j]);
            free(path);
            *why = "empty component in a dotted name";
            return -1;
        }
        path[i] = xstrndup(s, len);
        s += len + 1;
    }
    *out = path;
    return depth;
}

static void
free_path(char **path, int n)
{
    for (int i = 0; i < n; i++)
        free(path[i]);
    free(path);
}

/*
 * Check that obj is an object, holds only keys from allowed (NULL: any key)
 * and no key twice. The path is obj's.
 */
static int
check_object(struct loader *ld, const cJSON *obj,
    const char *const *allowed)
{
    char got[64];

    if (!cJSON_IsObject(obj))
        return fail(ld, "expected an object, got %s",
            describe(obj, got, sizeof(got)));
    for (const cJSON *c = obj->child; c != NULL; c = c->next) {
        if (allowed != NULL) {
            int ok = 0;
            for (int i = 0; allowed[i] != NULL; i++) {
                if (strcmp(c->string, allowed[i]) == 0) {
                    ok = 1;
                    break;
                }
            }
            if (!ok) {
                char q[80];
                quote_cut(q, sizeof(q), c->string, 64);
                return fail(ld, "unknown key %s", q);
            }
        }
        for (const cJSON *d = obj->child; d != c; d = d->next) {
            if (strcmp(c->string, d->string) == 0) {
                char q[80];
                quote_cut(q, sizeof(q), c->string, 64);
                return fail(ld, "duplicate key %s", q);
            }
        }
    }
    return 0;
}

static const cJSON *
member(const cJSON *obj, const char *key)
{
    if (obj == NULL)
        return NULL;
    for (const cJSON *c = obj->child; c != NULL; c = c->next) {
        if (strcmp(c->string, key) == 0)
            return c;
    }
    return NULL;
}

/* *out = a new copy of the string at obj.key; NULL when absent and not
 * required. */
static int
get_string(struct loader *ld, const cJSON *obj, const char *key,
    int required, int nonempty, char **out)
{
    const cJSON *j = member(obj, key);
    size_t old = path_push(ld, key);
    char got[64];

    if (j == NULL) {
        if (required)
            return fail(ld, "required");
        path_pop(ld, old);
        return 0;
    }
    if (!cJSON_IsString(j))
        return fail(ld, "expected a string, got %s",
            describe(j, got, sizeof(got)));
    if (nonempty && j->valuestring[0] == '\0')
        return fail(ld, "expected a non-empty string");
    free(*out);
    *out = xstrdup(j->valuestring);
    path_pop(ld, old);
    return 0;
}

/*
 * A JSON number as a scaled int64 at scale (ints: scale 0, integral only).
 * Returns 0, or -1 with a reason ("expected ...") in why.
 */
static int
number_scaled(const cJSON *j, enum field_type type, int scale, int64_t *out,
    char *why, size_t size)
{
    char got[64];

    if (!cJSON_IsNumber(j)) {
        snprintf(why, size, "expected a number, got %s",
            describe(j, got, sizeof(got)));
        return -1;
    }
    double d = j->valuedouble;
    if (type == FIELD_INT) {
        if (!isfinite(d) || d != trunc(d) || fabs(d) > (double)DEC_MAX_ABS) {
            snprintf(why, size, "expected an integer of at most 15 digits, "
                "got %s", describe(j, got, sizeof(got)));
            return -1;
        }
        *out = (int64_t)d;
        return 0;
    }
    switch (dec_from_double(d, scale, out)) {
    case DEC_OK:
        return 0;
    case DEC_SCALE:
        snprintf(why, size, "expected a number with at most %d decimals, "
            "got %s", scale, describe(j, got, sizeof(got)));
        return -1;
    default:
        snprintf(why, size, "expected a number of at most 15 digits, got %s",
            describe(j, got, sizeof(got)));
        return -1;
    }
}

/* ---- settings ------------------------------------------------------------ */

/* Load setting s from its JSON value j (path: the setting's). */
static int
setting_load(struct loader *ld, const struct setting *s, const cJSON *j)
{
    char expect[128], got[64], num[32];
    const char *text;

    if (s->type == SET_INT || ((s->type == SET_DEFTIME ||
        s->type == SET_LAG) && cJSON_IsNumber(j))) {
        if (!cJSON_IsNumber(j) || j->valuedouble != trunc(j->valuedouble) ||
            fabs(j->valuedouble) > 1e15)
            goto bad;
        snprintf(num, sizeof(num), "%lld", (long long)j->valuedouble);
        text = num;
    } else {
        if (!cJSON_IsString(j))
            goto bad;
        text = j->valuestring;
    }
    if (setting_store(ld->p, s, text) == 0)
        return 0;
bad:
    setting_expect(s, expect, sizeof(expect));
    return fail(ld, "expected %s, got %s", expect,
        describe(j, got, sizeof(got)));
}

/* ---- event ----------------------------------------------------------------- */

static int
load_bound(struct loader *ld, const cJSON *obj, const char *key,
    struct field *f, int *has, int64_t *out)
{
    const cJSON *j = member(obj, key);
    char why[160];
    size_t old;

    if (j == NULL)
        return 0;
    old = path_push(ld, key);
    if (f->items != FIELD_INT && f->items != FIELD_DECIMAL &&
        f->items != FIELD_FLOAT)
        return fail(ld, "only for int, decimal and float fields");
    if (number_scaled(j, f->items, f->scale, out, why, sizeof(why)) != 0)
        return fail(ld, "%s", why);
    *has = 1;
    path_pop(ld, old);
    return 0;
}

/* A type name up to last (FIELD_ARRAY for a field, FIELD_FLOAT for items). */
static int
type_of(struct loader *ld, const cJSON *t, enum field_type last,
    enum field_type *out)
{
    char got[64];

    for (int k = FIELD_STRING; k <= (int)last && cJSON_IsString(t); k++) {
        if (strcmp(t->valuestring, type_names[k]) == 0) {
            *out = (enum field_type)k;
            return 0;
        }
    }
    return fail(ld, "expected \"string\", \"int\", \"decimal\", \"float\"%s, "
        "got %s", last == FIELD_ARRAY ? ", \"bool\" or \"array\"" :
        " or \"bool\"", describe(t, got, sizeof(got)));
}

static int
load_field(struct loader *ld, const cJSON *j, struct field *f)
{
    static const char *const keys[] = {"type", "items", "required", "scale",
        "round", "min", "max", NULL};
    const cJSON *t = j, *r;
    const char *why;
    char got[64];
    size_t old;
    enum field_type vt;

    f->name = xstrdup(j->string);
    f->required = 1;
    if ((f->npath = split_path(f->name, &f->path, &why)) < 0) {
        f->npath = 0;
        return fail(ld, "invalid field name: %s", why);
    }
    if (cJSON_IsObject(j)) {
        if (check_object(ld, j, keys) != 0)
            return -1;
        t = member(j, "type");
        if (t == NULL) {
            path_push(ld, "type");
            return fail(ld, "required");
        }
    }
    old = cJSON_IsObject(j) ? path_push(ld, "type") : ld->plen;
    if (type_of(ld, t, FIELD_ARRAY, &f->type) != 0)
        return -1;
    path_pop(ld, old);
    f->items = f->type;
    if (f->type == FIELD_ARRAY) {
        /* an array is optional: a missing one is an empty one */
        f->required = 0;
        old = path_push(ld, "items");
        if (member(j, "items") == NULL)
            return fail(ld, "required for array fields");
        if (type_of(ld, member(j, "items"), FIELD_FLOAT, &f->items) != 0)
            return -1;
        path_pop(ld, old);
    } else if (member(j, "items") != NULL) {
        path_push(ld, "items");
        return fail(ld, "only for array fields");
    }
    vt = f->items;
    if (vt == FIELD_FLOAT) {
        f->scale = FLOAT_SCALE;
        f->round = 1;
    }
    if (!cJSON_IsObject(j)) {
        if (vt == FIELD_DECIMAL) {
            path_push(ld, "scale");
            return fail(ld, "required for decimal fields");
        }
        return 0;
    }

    if ((r = member(j, "required")) != NULL) {
        old = path_push(ld, "required");
        if (!cJSON_IsBool(r))
            return fail(ld, "expected true or false, got %s",
                describe(r, got, sizeof(got)));
        f->required = cJSON_IsTrue(r);
        path_pop(ld, old);
    }
    if ((r = member(j, "round")) != NULL) {
        old = path_push(ld, "round");
        if (vt != FIELD_DECIMAL)
            return fail(ld, "only for decimal fields (a float always "
                "rounds)");
        if (!cJSON_IsBool(r))
            return fail(ld, "expected true or false, got %s",
                describe(r, got, sizeof(got)));
        f->round = cJSON_IsTrue(r);
        path_pop(ld, old);
    }
    r = member(j, "scale");
    old = path_push(ld, "scale");
    if (vt == FIELD_DECIMAL && r == NULL)
        return fail(ld, "required for decimal fields");
    if (vt != FIELD_DECIMAL && vt != FIELD_FLOAT && r != NULL)
        return fail(ld, "only for decimal and float fields");
    if (r != NULL) {
        if (!cJSON_IsNumber(r) || r->valuedouble != trunc(r->valuedouble) ||
            r->valuedouble < 0 || r->valuedouble > DEC_MAX_SCALE)
            return fail(ld, "expected an integer from 0 to %d, got %s",
                DEC_MAX_SCALE, describe(r, got, sizeof(got)));
        f->scale = (int)r->valuedouble;
    }
    path_pop(ld, old);
    if (load_bound(ld, j, "min", f, &f->has_min, &f->min) != 0 ||
        load_bound(ld, j, "max", f, &f->has_max, &f->max) != 0)
        return -1;
    if (f->has_min && f->has_max && f->min > f->max)
        return fail(ld, "min is greater than max");
    return 0;
}

/* event.derive: each entry compiled by derive.c, in file order. */
static int
load_derive(struct loader *ld, const cJSON *d)
{
    char at[16], why[ERR_LEN];
    size_t old;

    if (d == NULL)
        return 0;
    old = path_push(ld, "derive");
    if (check_object(ld, d, NULL) != 0)
        return -1;
    for (const cJSON *c = d->child; c != NULL; c = c->next) {
        size_t o = path_push(ld, c->string);
        if (derive_load(ld->p, c->string, c, at, why) != 0) {
            if (at[0] != '\0')
                path_push(ld, at);
            return fail(ld, "%s", why);
        }
        path_pop(ld, o);
    }
    path_pop(ld, old);
    return 0;
}

static int
load_event(struct loader *ld, const cJSON *ev)
{
    static const char *const keys[] = {"time", "fields", "derive", NULL};
    struct pipeline *p = ld->p;
    const cJSON *fields;
    const char *why;
    size_t old;
    int n;

    old = path_push(ld, "event");
    if (ev == NULL)
        return fail(ld, "required");
    if (check_object(ld, ev, keys) != 0 ||
        get_string(ld, ev, "time", 1, 1, &p->time_field) != 0)
        return -1;
    if ((n = split_path(p->time_field, &p->time_path, &why)) < 0) {
        path_push(ld, "time");
        return fail(ld, "invalid field name: %s", why);
    }
    p->ntime_path = n;

    fields = member(ev, "fields");
    if (fields != NULL) {
        size_t fold = path_push(ld, "fields");
        if (check_object(ld, fields, NULL) != 0)
            return -1;
        n = cJSON_GetArraySize(fields);
        if (n > FIELDS_MAX)
            return fail(ld, "more than %d fields", FIELDS_MAX);
        p->fields = xcalloc((size_t)(n > 0 ? n : 1), sizeof(*p->fields));
        for (const cJSON *f = fields->child; f != NULL; f = f->next) {
            size_t o = path_push(ld, f->string);
            p->nfields++;
            if (load_field(ld, f, &p->fields[p->nfields - 1]) != 0)
                return -1;
            path_pop(ld, o);
        }
        path_pop(ld, fold);
    }
    if (load_derive(ld, member(ev, "derive")) != 0)
        return -1;
    path_pop(ld, old);
    return 0;
}

/* ---- views ----------------------------------------------------------------- */

static int
field_ref(struct loader *ld, const char *name)
{
    int i = pipeline_field_index(ld->p, name);
    char q[160];

    if (i < 0) {
        quote_cut(q, sizeof(q), name, 128);
        return fail(ld, "unknown field %s", q);
    }
    return i;
}

/*
 * A field that a view groups by or filters on: an array only in the view
 * that explodes it, where it stands for one element.
 */
static int
view_field_ref(struct loader *ld, const char *name, const struct view *v,
    const char *use)
{
    int i = field_ref(ld, name);

    if (i >= 0 && ld->p->fields[i].type == FIELD_ARRAY &&
        !(v->explodes && i == v->explode))
        return fail(ld, "field \"%s\" is an array: %s it in a view that "
            "explodes it (\"explode\": \"%s\")", name, use, name);
    return i;
}

/* views.NAME.explode: the array field the view counts element by element. */
static int
load_explode(struct loader *ld, const cJSON *j, struct view *v)
{
    char got[64];
    size_t old;

    if (j == NULL)
        return 0;
    old = path_push(ld, "explode");
    if (!cJSON_IsString(j))
        return fail(ld, "expected the name of an array field, got %s",
            describe(j, got, sizeof(got)));
    if ((v->explode = field_ref(ld, j->valuestring)) < 0)
        return -1;
    if (ld->p->fields[v->explode].type != FIELD_ARRAY)
        return fail(ld, "field \"%s\" is not an array", j->valuestring);
    v->explodes = 1;
    path_pop(ld, old);
    return 0;
}

static int
load_group_by(struct loader *ld, const cJSON *j, struct view *v)
{
    char got[64];
    int n, i = 0;

    if (j == NULL)
        return 0;
    size_t old = path_push(ld, "group_by");
    if (cJSON_IsString(j)) {
        v->group_by = xcalloc(1, sizeof(*v->group_by));
        if ((v->group_by[0] = view_field_ref(ld, j->valuestring, v,
            "group by")) < 0)
            return -1;
        v->ngroup = 1;
        path_pop(ld, old);
        return 0;
    }
    if (!cJSON_IsArray(j))
        return fail(ld, "expected an array of field names, got %s",
            describe(j, got, sizeof(got)));
    n = cJSON_GetArraySize(j);
    if (n > GROUP_MAX)
        return fail(ld, "more than %d fields", GROUP_MAX);
    v->group_by = xcalloc((size_t)(n > 0 ? n : 1), sizeof(*v->group_by));
    for (const cJSON *c = j->child; c != NULL; c = c->next, i++) {
        size_t o = path_push_index(ld, i);
        int f;
        if (!cJSON_IsString(c))
            return fail(ld, "expected a field name, got %s",
                describe(c, got, sizeof(got)));
        if ((f = view_field_ref(ld, c->valuestring, v, "group by")) < 0)
            return -1;
        for (int k = 0; k < v->ngroup; k++) {
            if (v->group_by[k] == f)
                return fail(ld, "field \"%s\" is already grouped by",
                    c->valuestring);
        }
        v->group_by[v->ngroup++] = f;
        path_pop(ld, o);
    }
    path_pop(ld, old);
    return 0;
}

static int
load_granularity(struct loader *ld, const cJSON *j, struct view *v)
{
    char got[64];
    int64_t ms;
    size_t old = path_push(ld, "granularity");

    if (j == NULL)
        return fail(ld, "required");
    if (!cJSON_IsString(j) || ts_duration_parse(j->valuestring, &ms) != 0 ||
        ms < 1000 || ms > TS_DAY_MS || TS_DAY_MS % ms != 0)
        return fail(ld, "expected a duration from 1s to 1d that divides a "
            "day, got %s", describe(j, got, sizeof(got)));
    v->granularity = ms;
    path_pop(ld, old);
    return 0;
}

static int
load_metric(struct loader *ld, const cJSON *j, struct metric *m)
{
    char got[64], why[ERR_LEN];

    m->name = xstrdup(j->string);
    m->field = -1;
    if (!valid_ident(m->name))
        return fail(ld, "invalid metric name: expected a letter or \"_\", "
            "then letters, digits or \"_\", at most %d", NAME_MAX_LEN);
    if (metric_parse(ld->p, cJSON_IsString(j) ? j->valuestring : NULL,
        describe(j, got, sizeof(got)), m, why) != 0)
        return fail(ld, "%s", why);
    return 0;
}

static int
load_cond_value(struct loader *ld, const cJSON *j, const struct field *f,
    struct cond_value *cv)
{
    char why[160], got[64];

    switch (f->items) {
    case FIELD_STRING:
        if (!cJSON_IsString(j))
            return fail(ld, "expected a string, got %s",
                describe(j, got, sizeof(got)));
        cv->str = xstrdup(j->valuestring);
        return 0;
    case FIELD_BOOL:
        if (!cJSON_IsBool(j))
            return fail(ld, "expected true or false, got %s",
                describe(j, got, sizeof(got)));
        cv->num = cJSON_IsTrue(j);
        return 0;
    case FIELD_INT:
    case FIELD_DECIMAL:
    case FIELD_FLOAT:
        if (number_scaled(j, f->items, f->scale, &cv->num, why,
            sizeof(why)) != 0)
            return fail(ld, "%s", why);
        return 0;
    case FIELD_ARRAY:
        break;
    }
    return -1;
}

static int
load_cond(struct loader *ld, const cJSON *j, int field, enum cond_op op,
    struct cond *c)
{
    const struct field *f = &ld->p->fields[field];
    char got[64];
    int n, i = 0;

    c->field = field;
    c->op = op;
    if (op != COND_IN) {
        c->vals = xcalloc(1, sizeof(*c->vals));
        c->nvals = 1;
        return load_cond_value(ld, j, f, &c->vals[0]);
    }
    n = cJSON_GetArraySize(j);
    if (!cJSON_IsArray(j) || n == 0 || n > IN_MAX)
        return fail(ld, "expected an array of 1 to %d values, got %s", IN_MAX,
            describe(j, got, sizeof(got)));
    c->vals = xcalloc((size_t)n, sizeof(*c->vals));
    for (const cJSON *e = j->child; e != NULL; e = e->next, i++) {
        size_t old = path_push_index(ld, i);
        c->nvals++;
        if (load_cond_value(ld, e, f, &c->vals[i]) != 0)
            return -1;
        path_pop(ld, old);
    }
    return 0;
}

static int
load_where(struct loader *ld, const cJSON *j, struct view *v)
{
    static const char *const ops[] = {"eq", "ne", "lt", "lte", "gt", "gte",
        "in", NULL};
    int n = 0;

    if (j == NULL)
        return 0;
    size_t old = path_push(ld, "where");
    if (check_object(ld, j, NULL) != 0)
        return -1;
    for (const cJSON *c = j->child; c != NULL; c = c->next)
        n += cJSON_IsObject(c) ? cJSON_GetArraySize(c) : 1;
    if (n > WHERE_MAX)
        return fail(ld, "more than %d conditions", WHERE_MAX);
    v->where = xcalloc((size_t)(n > 0 ? n : 1), sizeof(*v->where));
    for (const cJSON *c = j->child; c != NULL; c = c->next) {
        int f;
        if ((f = view_field_ref(ld, c->string, v, "filter on")) < 0)
            return -1;
        size_t o = path_push(ld, c->string);
        if (!cJSON_IsObject(c)) {
            v->nwhere++;
            if (load_cond(ld, c, f, COND_EQ, &v->where[v->nwhere - 1]) != 0)
                return -1;
            path_pop(ld, o);
            continue;
        }
        if (check_object(ld, c, ops) != 0)
            return -1;
        if (c->child == NULL)
            return fail(ld, "expected at least one of \"eq\", \"ne\", "
                "\"lt\", \"lte\", \"gt\", \"gte\", \"in\"");
        for (const cJSON *e = c->child; e != NULL; e = e->next) {
            int op;
            for (op = COND_EQ; op < COND_IN; op++) {
                if (strcmp(e->string, cond_ops[op]) == 0)
                    break;
            }
            size_t oo = path_push(ld, e->string);
            v->nwhere++;
            if (load_cond(ld, e, f, (enum cond_op)op,
                &v->where[v->nwhere - 1]) != 0)
                return -1;
            path_pop(ld, oo);
        }
        path_pop(ld, o);
    }
    path_pop(ld, old);
    return 0;
}

/* views.NAME.outputs: compiled by outputs.c over the view's metrics. */
static int
load_outputs(struct loader *ld, const cJSON *j, struct view *v)
{
    char at[OUTPUTS_AT], why[ERR_LEN];
    size_t old;

    if (j == NULL)
        return 0;
    old = path_push(ld, "outputs");
    if (check_object(ld, j, NULL) != 0)
        return -1;
    if (outputs_load(v, j, at, why) != 0) {
        if (at[0] != '\0')
            path_push(ld, at);
        return fail(ld, "%s", why);
    }
    path_pop(ld, old);
    return 0;
}

static int
load_view(struct loader *ld, const cJSON *j, struct view *v)
{
    static const char *const keys[] = {"group_by", "granularity", "metrics",
        "where", "explode", "outputs", NULL};
    const cJSON *ms;
    int n, i = 0;

    v->name = xstrdup(j->string);
    if (!valid_name(v->name, 0))
        return fail(ld, "invalid view name: expected 1 to %d letters, "
            "digits, \"_\" or \"-\"", NAME_MAX_LEN);
    if (check_object(ld, j, keys) != 0 ||
        load_explode(ld, member(j, "explode"), v) != 0 ||
        load_group_by(ld, member(j, "group_by"), v) != 0 ||
        load_granularity(ld, member(j, "granularity"), v) != 0)
        return -1;

    ms = member(j, "metrics");
    size_t old = path_push(ld, "metrics");
    if (ms == NULL)
        return fail(ld, "required");
    if (check_object(ld, ms, NULL) != 0)
        return -1;
    n = cJSON_GetArraySize(ms);
    if (n == 0)
        return fail(ld, "expected at least one metric");
    if (n > METRICS_MAX)
        return fail(ld, "more than %d metrics", METRICS_MAX);
    v->metrics = xcalloc((size_t)n, sizeof(*v->metrics));
    for (const cJSON *m = ms->child; m != NULL; m = m->next, i++) {
        size_t o = path_push(ld, m->string);
        v->nmetrics++;
        if (load_metric(ld, m, &v->metrics[i]) != 0)
            return -1;
        v->metrics[i].slot = v->nslots;
        v->nslots += metric_slots(v->metrics[i].kind);
        path_pop(ld, o);
    }
    path_pop(ld, old);
    if (load_where(ld, member(j, "where"), v) != 0)
        return -1;
    return load_outputs(ld, member(j, "outputs"), v);
}

static int
load_views(struct loader *ld, const cJSON *vs)
{
    struct pipeline *p = ld->p;
    int n;

    if (vs == NULL)
        return 0;
    size_t old = path_push(ld, "views");
    if (check_object(ld, vs, NULL) != 0)
        return -1;
    n = cJSON_GetArraySize(vs);
    if (n > VIEWS_MAX)
        return fail(ld, "more than %d views", VIEWS_MAX);
    p->views = xcalloc((size_t)(n > 0 ? n : 1), sizeof(*p->views));
    for (const cJSON *v = vs->child; v != NULL; v = v->next) {
        size_t o = path_push(ld, v->string);
        p->nviews++;
        if (load_view(ld, v, &p->views[p->nviews - 1]) != 0)
            return -1;
        path_pop(ld, o);
    }
    path_pop(ld, old);
    return 0;
}

/* ---- batch, speed, serving ----------------------------------------------- */

static int
load_batch(struct loader *ld, const cJSON *b)
{
    static const char *const keys[] = {"inputs", "rejects", "default_time",
        "repository", "repository_keep", NULL};
    struct pipeline *p = ld->p;
    const cJSON *in;
    char got[64];
    int n, i = 0;

    if (b == NULL)
        return 0;
    size_t old = path_push(ld, "batch");
    if (check_object(ld, b, keys) != 0 ||
        get_string(ld, b, "rejects", 0, 1, &p->batch.rejects) != 0)
        return -1;
    for (int k = 2; keys[k] != NULL; k++) {
        const cJSON *j = member(b, keys[k]);
        char full[64];

        if (j == NULL)
            continue;
        snprintf(full, sizeof(full), "batch.%s", keys[k]);
        size_t o = path_push(ld, keys[k]);
        if (setting_load(ld, setting_find(full), j) != 0)
            return -1;
        path_pop(ld, o);
    }
    in = member(b, "inputs");
    if (in != NULL) {
        size_t o = path_push(ld, "inputs");
        if (cJSON_IsString(in)) {
            if (in->valuestring[0] == '\0')
                return fail(ld, "expected a non-empty string");
            p->batch.inputs = xcalloc(1, sizeof(char *));
            p->batch.inputs[0] = xstrdup(in->valuestring);
            p->batch.ninputs = 1;
        } else {
            n = cJSON_GetArraySize(in);
            if (!cJSON_IsArray(in))
                return fail(ld, "expected an array of paths, got %s",
                    describe(in, got, sizeof(got)));
            if (n > INPUTS_MAX)
                return fail(ld, "more than %d inputs", INPUTS_MAX);
            p->batch.inputs = xcalloc((size_t)(n > 0 ? n : 1),
                sizeof(char *));
            for (const cJSON *c = in->child; c != NULL; c = c->next, i++) {
                size_t oi = path_push_index(ld, i);
                if (!cJSON_IsString(c) || c->valuestring[0] == '\0')
                    return fail(ld, "expected a non-empty path, got %s",
                        describe(c, got, sizeof(got)));
                p->batch.inputs[p->batch.ninputs++] = xstrdup(c->valuestring);
                path_pop(ld, oi);
            }
        }
        path_pop(ld, o);
    }
    path_pop(ld, old);
    return 0;
}

static int
load_kafka(struct loader *ld, const cJSON *k)
{
    struct pipeline *p = ld->p;
    char got[64], num[32];
    int n;

    size_t old = path_push(ld, "kafka");
    if (check_object(ld, k, NULL) != 0)
        return -1;
    n = cJSON_GetArraySize(k);
    if (n > KAFKA_MAX)
        return fail(ld, "more than %d properties", KAFKA_MAX);
    p->speed.kafka_keys = xcalloc((size_t)(n > 0 ? n : 1), sizeof(char *));
    p->speed.kafka_vals = xcalloc((size_t)(n > 0 ? n : 1), sizeof(char *));
    for (const cJSON *c = k->child; c != NULL; c = c->next) {
        const char *text;
        size_t o = path_push(ld, c->string);
        if (c->string[0] == '\0')
            return fail(ld, "empty property name");
        if (cJSON_IsString(c)) {
            text = c->valuestring;
        } else if (cJSON_IsBool(c)) {
            text = cJSON_IsTrue(c) ? "true" : "false";
        } else if (cJSON_IsNumber(c)) {
            if (c->valuedouble == trunc(c->valuedouble) &&
                fabs(c->valuedouble) < 1e15)
                snprintf(num, sizeof(num), "%lld",
                    (long long)c->valuedouble);
            else
                dec_format_double(c->valuedouble, num, sizeof(num));
            text = num;
        } else {
            return fail(ld, "expected a string, number or bool, got %s",
                describe(c, got, sizeof(got)));
        }
        p->speed.kafka_keys[p->speed.nkafka] = xstrdup(c->string);
        p->speed.kafka_vals[p->speed.nkafka] = xstrdup(text);
        p->speed.nkafka++;
        path_pop(ld, o);
    }
    path_pop(ld, old);
    return 0;
}

/* The speed and serving sections: every key is a setting, except kafka. */
static int
load_section(struct loader *ld, const char *section, const cJSON *obj)
{
    const char *keys[32];
    char full[64];
    int n;

    if (obj == NULL)
        return 0;
    n = setting_keys(section, keys, 30);
    if (strcmp(section, "speed") == 0)
        keys[n++] = "kafka";
    keys[n] = NULL;

    size_t old = path_push(ld, section);
    if (check_object(ld, obj, keys) != 0)
        return -1;
    for (const cJSON *c = obj->child; c != NULL; c = c->next) {
        if (strcmp(section, "speed") == 0 && strcmp(c->string, "kafka") == 0) {
            if (load_kafka(ld, c) != 0)
                return -1;
            continue;
        }
        snprintf(full, sizeof(full), "%s.%s", section, c->string);
        size_t o = path_push(ld, c->string);
        const struct setting *s = setting_find(full);
        if (setting_load(ld, s, c) != 0)
            return -1;
        path_pop(ld, o);
    }
    path_pop(ld, old);
    if (strcmp(section, "speed") == 0 && member(obj, "rejects_topic") != NULL &&
        member(obj, "rejects_file") != NULL && ld->p->speed.rejects_topic !=
        NULL && ld->p->speed.rejects_file != NULL) {
        path_push(ld, "speed.rejects_file");
        return fail(ld, "not allowed with speed.rejects_topic");
    }
    return 0;
}

/* ---- load ------------------------------------------------------------------ */

static char *
read_file(const char *path, size_t *len, char *err)
{
    FILE *fp;
    struct stat st;
    char *text = NULL;
    size_t n;

    if ((fp = fopen(path, "rb")) == NULL) {
        snprintf(err, ERR_LEN, "%s: %s", path, strerror(errno));
        return NULL;
    }
    if (fstat(fileno(fp), &st) != 0) {
        snprintf(err, ERR_LEN, "%s: %s", path, strerror(errno));
        goto done;
    }
    if (S_ISDIR(st.st_mode)) {
        snprintf(err, ERR_LEN, "%s: is a directory", path);
        goto done;
    }
    text = xmalloc(FILE_MAX + 2);
    n = fread(text, 1, FILE_MAX + 1, fp);
    if (ferror(fp)) {
        snprintf(err, ERR_LEN, "%s: %s", path, strerror(errno));
        free(text);
        text = NULL;
    } else if (n > FILE_MAX) {
        snprintf(err, ERR_LEN, "%s: larger than 1 MiB", path);
        free(text);
        text = NULL;
    } else {
        text[n] = '\0';
        *len = n;
    }
done:
    fclose(fp);
    return text;
}

static void
line_col(const char *text, size_t off, int *line, int *col)
{
    *line = 1;
    *col = 1;
    for (size_t i = 0; i < off; i++) {
        if (text[i] == '\n') {
            (*line)++;
            *col = 1;
        } else if (((unsigned char)text[i] & 0xC0) != 0x80) {
            (*col)++;
        }
    }
}

static void
set_defaults(struct pipeline *p)
{
    p->speed.brokers = xstrdup("localhost:9092");
    p->speed.partitions = 4;
    p->speed.lateness = 0;
    p->speed.max_batch = 10000;
    p->speed.commit_ms = 100;
    p->serving.listen = xstrdup("127.0.0.1:8080");
    p->serving.threads = 2;
    p->serving.max_connections = 1024;
    p->serving.max_connections_per_ip = 64;
    p->serving.timeout = 10;
    p->serving.max_points = 10000;
    p->serving.max_top = 1000;
    p->serving.ready_max_lag.records = -1;
    p->serving.ready_max_lag.ms = -1;
    p->batch.repository_keep = 3;
}

static char *
derived(const char *a, const char *b)
{
    struct buf out;

    buf_init(&out);
    buf_puts(&out, a);
    buf_puts(&out, b);
    return buf_steal(&out);
}

int
pipeline_load(struct pipeline **out, const char *path, char *err)
{
    size_t len = 0;
    char *text;

    if ((text = read_file(path, &len, err)) == NULL)
        return -1;
    text = xrealloc(text, len + 1);     /* kept in p->text: its size */
    return pipeline_parse(out, path, text, len, err);
}

int
pipeline_parse(struct pipeline **out, const char *path, char *text,
    size_t len, char *err)
{
    static const char *const keys[] = {"name", "store", "event", "views",
        "batch", "speed", "serving", NULL};
    struct pipeline *p = xcalloc(1, sizeof(*p));
    struct loader ld;
    cJSON *root = NULL;
    const char *end = NULL;
    size_t bad;
    int line, col;

    memset(&ld, 0, sizeof(ld));
    ld.file = path;
    ld.p = p;
    ld.err = err;
    p->path = xstrdup(path);
    set_defaults(p);
    p->text = text;

    if (memchr(text, '\0', len) != NULL) {
        line_col(text, (size_t)((char *)memchr(text, '\0', len) - text),
            &line, &col);
        fail(&ld, "line %d, column %d: NUL byte", line, col);
        goto fail;
    }
    if (!valid_utf8((const unsigned char *)text, len, &bad)) {
        line_col(text, bad, &line, &col);
        fail(&ld, "line %d, column %d: invalid UTF-8", line, col);
        goto fail;
    }
    root = cJSON_ParseWithLengthOpts(text, len, &end, 0);
    if (root == NULL || end == NULL) {
        size_t off = end != NULL && end >= text ? (size_t)(end - text) : 0;
        if (off > len)
            off = len;
        line_col(text, off, &line, &col);
        fail(&ld, "line %d, column %d: invalid JSON", line, col);
        goto fail;
    }
    for (; (size_t)(end - text) < len; end++) {
        if (*end != ' ' && *end != '\t' && *end != '\n' && *end != '\r') {
            line_col(text, (size_t)(end - text), &line, &col);
            fail(&ld, "line %d, column %d: unexpected text after the JSON "
                "object", line, col);
            goto fail;
        }
    }
    if (check_object(&ld, root, keys) != 0)
        goto fail;
    if (get_string(&ld, root, "name", 1, 1, &p->name) != 0)
        goto fail;
    if (!valid_name(p->name, 1)) {
        path_push(&ld, "name");
        fail(&ld, "expected 1 to %d letters, digits, \"_\", \"-\" or \".\"",
            NAME_MAX_LEN);
        goto fail;
    }
    if (get_string(&ld, root, "store", 1, 1, &p->store) != 0 ||
        load_event(&ld, member(root, "event")) != 0 ||
        load_views(&ld, member(root, "views")) != 0 ||
        load_batch(&ld, member(root, "batch")) != 0 ||
        load_section(&ld, "speed", member(root, "speed")) != 0 ||
        load_section(&ld, "serving", member(root, "serving")) != 0)
        goto fail;

    if (p->batch.rejects == NULL)
        p->batch.rejects = derived(p->store, "/rejects/batch.jsonl");
    if (p->speed.group == NULL)
        p->speed.group = derived("lambdakit-", p->name);
    if (p->speed.rejects_topic == NULL && p->speed.rejects_file == NULL)
        p->speed.rejects_file = derived(p->store, "/rejects/speed.jsonl");
    if (p->batch.inputs == NULL)
        p->batch.inputs = xcalloc(1, sizeof(char *));
    if (p->speed.kafka_keys == NULL) {
        p->speed.kafka_keys = xcalloc(1, sizeof(char *));
        p->speed.kafka_vals = xcalloc(1, sizeof(char *));
    }
    for (int i = 0; i < p->nviews; i++) {
        p->views[i].pipeline = p;
        p->views[i].sig = pipeline_view_signature(p, &p->views[i]);
    }
    cJSON_Delete(root);
    *out = p;
    return 0;
fail:
    cJSON_Delete(root);
    pipeline_free(p);
    return -1;
}

static void
free_view(struct view *v)
{
    free(v->name);
    free(v->group_by);
    for (int i = 0; i < v->nmetrics; i++)
        free(v->metrics[i].name);
    free(v->metrics);
    for (int i = 0; i < v->nwhere; i++) {
        for (int j = 0; j < v->where[i].nvals; j++)
            free(v->where[i].vals[j].str);
        free(v->where[i].vals);
    }
    free(v->where);
    outputs_free(v->outputs, v->noutputs);
}

void
pipeline_free(struct pipeline *p)
{
    if (p == NULL)
        return;
    free(p->path);
    free(p->text);
    free(p->name);
    free(p->store);
    free(p->time_field);
    free_path(p->time_path, p->ntime_path);
    for (int i = 0; i < p->nfields; i++) {
        free(p->fields[i].name);
        free_path(p->fields[i].path, p->fields[i].npath);
    }
    free(p->fields);
    derive_free(p->derives, p->nderives);
    for (int i = 0; i < p->nviews; i++)
        free_view(&p->views[i]);
    free(p->views);
    for (int i = 0; i < p->batch.ninputs; i++)
        free(p->batch.inputs[i]);
    free(p->batch.inputs);
    free(p->batch.rejects);
    free(p->batch.default_time);
    free(p->batch.repository);
    free(p->speed.brokers);
    free(p->speed.topic);
    free(p->speed.group);
    free(p->speed.rejects_topic);
    free(p->speed.rejects_file);
    free(p->speed.archive);
    for (int i = 0; i < p->speed.nkafka; i++) {
        free(p->speed.kafka_keys[i]);
        free(p->speed.kafka_vals[i]);
    }
    free(p->speed.kafka_keys);
    free(p->speed.kafka_vals);
    free(p->serving.listen);
    free(p->serving.token);
    free(p->serving.cors_origin);
    free(p);
}

/* ---- overrides and queries ------------------------------------------------- */

/* Re-derive a default that followed the old store when the store moves. */
static void
follow_store(char **val, const char *old, const char *now, const char *tail)
{
    char *was;

    if (*val == NULL)
        return;
    was = derived(old, tail);
    if (strcmp(*val, was) == 0) {
        free(*val);
        *val = derived(now, tail);
    }
    free(was);
}

int
pipeline_set(struct pipeline *p, const char *key, const char *value,
    char *err)
{
    const struct setting *s = setting_find(key);
    char expect[128], got[80];
    char *old_store = NULL;

    if (s == NULL) {
        snprintf(err, ERR_LEN, "%s: not a setting that can be overridden",
            key);
        return -1;
    }
    if (strcmp(s->key, "store") == 0)
        old_store = xstrdup(p->store);
    if (setting_store(p, s, value) != 0) {
        free(old_store);
        setting_expect(s, expect, sizeof(expect));
        quote_cut(got, sizeof(got), value, 64);
        snprintf(err, ERR_LEN, "%s: expected %s, got %s", key, expect, got);
        return -1;
    }
    setting_after(p, s);
    if (old_store != NULL) {
        follow_store(&p->batch.rejects, old_store, p->store,
            "/rejects/batch.jsonl");
        follow_store(&p->speed.rejects_file, old_store, p->store,
            "/rejects/speed.jsonl");
        free(old_store);
    }
    return 0;
}

int
pipeline_field_index(const struct pipeline *p, const char *name)
{
    for (int i = 0; i < p->nfields; i++) {
        if (strcmp(p->fields[i].name, name) == 0)
            return i;
    }
    return -1;
}

const struct view *
pipeline_view(const struct pipeline *p, const char *name)
{
    for (int i = 0; i < p->nviews; i++) {
        if (strcmp(p->views[i].name, name) == 0)
            return &p->views[i];
    }
    return NULL;
}

int64_t
pipeline_cutoff_unit(const struct pipeline *p)
{
    int64_t unit = 0;

    for (int i = 0; i < p->nviews; i++) {
        int64_t g = p->views[i].granularity;
        unit = unit == 0 ? g : unit / ts_gcd(unit, g) * g;
    }
    return unit == 0 ? 1000 : unit;
}

static void
sig_field(struct buf *b, const struct pipeline *p, int i)
{
    const struct field *f = &p->fields[i];

    buf_printf(b, "%zu:%s/%s/%d;", strlen(f->name), f->name,
        type_names[f->type], f->scale);
    if (f->type == FIELD_ARRAY)
        buf_printf(b, "items:%s;", type_names[f->items]);
    if (f->derived)             /* only then: older views keep their hash */
        buf_printf(b, "derive:%zu:%s;", strlen(p->derives[f->derive].src),
            p->derives[f->derive].src);
}

uint64_t
pipeline_view_signature(const struct pipeline *p, const struct view *v)
{
    struct buf b;
    uint64_t h = 14695981039346656037ULL;       /* FNV-1a 64 */

    if (v->sig != 0)            /* a loaded view's, computed once */
        return v->sig;
    buf_init(&b);
    buf_puts(&b, "lambdakit-view-1\n");
    buf_puts(&b, "group:");
    for (int i = 0; i < v->ngroup; i++)
        sig_field(&b, p, v->group_by[i]);
    buf_printf(&b, "\ngranularity:%lld\nmetrics:",
        (long long)v->granularity);
    for (int i = 0; i < v->nmetrics; i++) {
        buf_printf(&b, "%s(", metric_kind_name(v->metrics[i].kind));
        if (v->metrics[i].field >= 0)
            sig_field(&b, p, v->metrics[i].field);
        /* q only for quantile: the other kinds keep their old hash */
        if (v->metrics[i].kind == METRIC_QUANTILE)
            buf_printf(&b, "q:%.17g;", v->metrics[i].q);
        buf_puts(&b, ")");
    }
    buf_puts(&b, "\nwhere:");
    for (int i = 0; i < v->nwhere; i++) {
        const struct cond *c = &v->where[i];
        sig_field(&b, p, c->field);
        buf_printf(&b, "%s[", cond_ops[c->op]);
        for (int j = 0; j < c->nvals; j++) {
            if (c->vals[j].str != NULL)
                buf_printf(&b, "%zu:%s,", strlen(c->vals[j].str),
                    c->vals[j].str);
            else
                buf_printf(&b, "%lld,", (long long)c->vals[j].num);
        }
        buf_puts(&b, "]");
    }
    if (v->explodes) {          /* only then: older views keep their hash */
        buf_puts(&b, "\nexplode:");
        sig_field(&b, p, v->explode);
    }
    for (size_t i = 0; i < b.len; i++) {
        h ^= (unsigned char)b.data[i];
        h *= 1099511628211ULL;
    }
    buf_reset(&b);
    return h;
}
