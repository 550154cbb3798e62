/* outputs.c -- a view's computed outputs: expressions over merged metrics */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "shared/agg.h"
#include "shared/err.h"
#include "shared/mem.h"
#include "shared/outputs.h"

/*
 * A checked expression's ref: a number literal's index into its output's
 * nums; a name's metric index, or nmetrics + the index of an earlier
 * output.
 */

#define NAME_LEN 64     /* longest output name, as a metric's */

/* ---- checking, at load --------------------------------------------------- */

struct checker {
    const struct view  *v;
    struct output      *o;
    int                 self;   /* the index of o in v->outputs */
    char               *why;
};

static const char *
type_text(enum outputs_type t)
{
    return t == OUTPUTS_NUM ? "a number" : t == OUTPUTS_STR ? "a string" :
        "a comparison";
}

static int check(struct checker *ck, struct expr *e, enum outputs_type *t);

static int
check_number(struct checker *ck, struct expr *e)
{
    long double x;
    char *end;

    errno = 0;
    x = strtold(e->text, &end);
    if (errno != 0 || *end != '\0' || !isfinite(x))
        return expr_refuse(ck->why, "number %.64s out of range", e->text);
    ck->o->nums = xrealloc(ck->o->nums,
        sizeof(*ck->o->nums) * (size_t)(ck->o->nnums + 1));
    ck->o->nums[ck->o->nnums] = x;
    e->ref = ck->o->nnums++;
    return 0;
}

static int
check_name(struct checker *ck, struct expr *e, enum outputs_type *t)
{
    const struct view *v = ck->v;

    for (int m = 0; m < v->nmetrics; m++) {
        if (strcmp(v->metrics[m].name, e->text) == 0) {
            e->ref = m;
            *t = OUTPUTS_NUM;
            return 0;
        }
    }
    for (int i = 0; i < v->noutputs; i++) {
        if (strcmp(v->outputs[i].name, e->text) != 0)
            continue;
        if (i == ck->self)
            return expr_refuse(ck->why, "output \"%s\" uses itself",
                e->text);
        if (i > ck->self)
            return expr_refuse(ck->why, "output \"%s\" comes later: an "
                "output uses the metrics and the outputs before it",
                e->text);
        e->ref = v->nmetrics + i;
        *t = v->outputs[i].type;
        return 0;
    }
    return expr_refuse(ck->why, "unknown metric \"%.64s\"", e->text);
}

/* case(c1, v1, c2, v2, ..., default) */
static int
check_case(struct checker *ck, struct expr *e, enum outputs_type *t)
{
    enum outputs_type a;

    if (strcmp(e->text, "case") != 0)
        return expr_refuse(ck->why, "unknown function \"%.64s\" (outputs have "
            "case(COND, VALUE, ..., DEFAULT))", e->text);
    if (e->nargs < 3 || e->nargs % 2 == 0)
        return expr_refuse(ck->why, "case takes pairs of a condition and a "
            "value, then a default: case(c1, v1, ..., default), got %d "
            "argument%s",
            e->nargs, e->nargs == 1 ? "" : "s");
    *t = OUTPUTS_NULL;
    for (int i = 0; i < e->nargs; i++) {
        int value = i % 2 == 1 || i == e->nargs - 1;

        if (check(ck, e->args[i], &a) != 0)
            return -1;
        if (!value && a != OUTPUTS_BOOL)
            return expr_refuse(ck->why, "argument %d of case: expected a "
                "condition (a > b), got %s", i + 1, type_text(a));
        if (!value)
            continue;
        if (a == OUTPUTS_BOOL)
            return expr_refuse(ck->why, "argument %d of case: a comparison "
                "is not a value", i + 1);
        if (*t != OUTPUTS_NULL && a != *t)
            return expr_refuse(ck->why, "argument %d of case: expected %s "
                "like argument 2, got %s", i + 1, type_text(*t),
                type_text(a));
        *t = a;
    }
    return 0;
}

static int
check_binary(struct checker *ck, struct expr *e, enum outputs_type *t)
{
    enum outputs_type l, r;
    const char *op = expr_op_name(e->op);

    if (check(ck, e->args[0], &l) != 0 || check(ck, e->args[1], &r) != 0)
        return -1;
    if (e->op <= EXPR_DIV) {
        if (l != OUTPUTS_NUM || r != OUTPUTS_NUM)
            return expr_refuse(ck->why, "%s at column %d takes numbers, got "
                "%s", op, e->col, type_text(l != OUTPUTS_NUM ? l : r));
        *t = OUTPUTS_NUM;
        return 0;
    }
    if (l == OUTPUTS_BOOL || r == OUTPUTS_BOOL)
        return expr_refuse(ck->why, "%s at column %d: a comparison cannot be "
            "compared", op, e->col);
    if (l != r)
        return expr_refuse(ck->why, "%s at column %d compares %s with %s",
            op, e->col, type_text(l), type_text(r));
    *t = OUTPUTS_BOOL;
    return 0;
}

static int
check(struct checker *ck, struct expr *e, enum outputs_type *t)
{
    switch (e->kind) {
    case EXPR_NUM:
        *t = OUTPUTS_NUM;
        return check_number(ck, e);
    case EXPR_STR:
        *t = OUTPUTS_STR;
        return 0;
    case EXPR_NAME:
        return check_name(ck, e, t);
    case EXPR_CALL:
        return check_case(ck, e, t);
    case EXPR_INDEX:
        return expr_refuse(ck->why, "[] at column %d is not allowed in "
            "outputs", e->col);
    case EXPR_NEG:
        if (check(ck, e->args[0], t) != 0)
            return -1;
        if (*t != OUTPUTS_NUM)
            return expr_refuse(ck->why, "- at column %d takes a number, got "
                "%s", e->col, type_text(*t));
        return 0;
    case EXPR_BINARY:
        return check_binary(ck, e, t);
    }
    return expr_refuse(ck->why, "unknown expression");
}

/* [A-Za-z_][A-Za-z0-9_]{0,63}, as a metric's name. */
static int
valid_name(const char *s)
{
    size_t n = strlen(s);

    if (n == 0 || n > NAME_LEN || (*s >= '0' && *s <= '9'))
        return 0;
    for (; *s != '\0'; s++) {
        if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
            (*s >= '0' && *s <= '9') || *s == '_'))
            return 0;
    }
    return 1;
}

/* Check the name of output i and its place among the names before it. */
static int
check_output_name(struct checker *ck, const char *name)
{
    if (!valid_name(name))
        return expr_refuse(ck->why, "invalid output name: expected a letter "
            "or \"_\", then letters, digits or \"_\", at most %d",
            NAME_LEN);
    for (int m = 0; m < ck->v->nmetrics; m++)
        if (strcmp(ck->v->metrics[m].name, name) == 0)
            return expr_refuse(ck->why, "\"%s\" is also a metric of the "
                "view: outputs need names of their own", name);
    return 0;
}

int
outputs_load(struct view *v, const cJSON *j, char *at, char *why)
{
    struct checker ck = {v, NULL, 0, why};
    enum outputs_type t;
    int n = cJSON_GetArraySize(j);

    at[0] = '\0';
    if (n > OUTPUTS_MAX) {
        snprintf(why, ERR_LEN, "more than %d outputs", OUTPUTS_MAX);
        return -1;
    }
    v->outputs = xcalloc((size_t)(n > 0 ? n : 1), sizeof(*v->outputs));
    v->noutputs = n;
    /* names first, so a reference to a later output says so */
    for (const cJSON *c = j->child; c != NULL; c = c->next, ck.self++)
        v->outputs[ck.self].name = xstrdup(c->string);
    ck.self = 0;
    for (const cJSON *c = j->child; c != NULL; c = c->next, ck.self++) {
        ck.o = &v->outputs[ck.self];
        snprintf(at, OUTPUTS_AT, "%.64s", c->string);
        if (check_output_name(&ck, c->string) != 0)
            return -1;
        if (!cJSON_IsString(c)) {
            snprintf(why, ERR_LEN, "expected an expression (a string) over "
                "the view's metrics");
            return -1;
        }
        ck.o->src = xstrdup(c->valuestring);
        if (expr_parse(&ck.o->expr, c->valuestring, why) != 0)
            return -1;
        if (check(&ck, ck.o->expr, &t) != 0)
            return -1;
        if (t == OUTPUTS_BOOL) {
            snprintf(why, ERR_LEN, "a comparison is not a value: use "
                "case(COND, VALUE, ..., DEFAULT)");
            return -1;
        }
        ck.o->type = t;
    }
    at[0] = '\0';
    return 0;
}

void
outputs_free(struct output *o, int n)
{
    if (o == NULL)
        return;
    for (int i = 0; i < n; i++) {
        free(o[i].name);
        free(o[i].src);
        expr_free(o[i].expr);
        free(o[i].nums);
    }
    free(o);
}

/* ---- evaluation --------------------------------------------------------- */

struct evaluator {
    const struct pipeline       *p;
    const struct view           *v;
    const int64_t               *row;
    const struct output         *o;
    const struct outputs_value  *vals;  /* the outputs before o */
};

static const struct outputs_value null_value = {OUTPUTS_NULL, 0, NULL};

static struct outputs_value
number(long double x)
{
    struct outputs_value r = {OUTPUTS_NUM, x, NULL};

    return isfinite(x) ? r : null_value;
}

static struct outputs_value eval(const struct evaluator *ev,
    const struct expr *e);

/* A condition of case: a comparison; false when a side is null. */
static int
holds(const struct evaluator *ev, const struct expr *e)
{
    struct outputs_value l = eval(ev, e->args[0]), r = eval(ev, e->args[1]);
    int c;

    if (l.type == OUTPUTS_NULL || r.type == OUTPUTS_NULL)
        return 0;
    if (l.type == OUTPUTS_STR)
        c = strcmp(l.str, r.str);
    else
        c = (l.num > r.num) - (l.num < r.num);
    switch (e->op) {
    case EXPR_EQ:
        return c == 0;
    case EXPR_NE:
        return c != 0;
    case EXPR_LT:
        return c < 0;
    case EXPR_LE:
        return c <= 0;
    case EXPR_GT:
        return c > 0;
    case EXPR_GE:
        return c >= 0;
    default:
        return 0;
    }
}

static struct outputs_value
arith(const struct evaluator *ev, const struct expr *e)
{
    struct outputs_value l = eval(ev, e->args[0]), r = eval(ev, e->args[1]);

    if (l.type == OUTPUTS_NULL || r.type == OUTPUTS_NULL)
        return null_value;
    switch (e->op) {
    case EXPR_ADD:
        return number(l.num + r.num);
    case EXPR_SUB:
        return number(l.num - r.num);
    case EXPR_MUL:
        return number(l.num * r.num);
    case EXPR_DIV:
        return r.num == 0 ? null_value : number(l.num / r.num);
    default:
        return null_value;
    }
}

static struct outputs_value
eval(const struct evaluator *ev, const struct expr *e)
{
    struct outputs_value x = null_value;
    int i;

    switch (e->kind) {
    case EXPR_NUM:
        return number(ev->o->nums[e->ref]);
    case EXPR_STR:
        x.type = OUTPUTS_STR;
        x.str = e->text;
        return x;
    case EXPR_NAME:
        if (e->ref >= ev->v->nmetrics)
            return ev->vals[e->ref - ev->v->nmetrics];
        if (agg_metric_value(ev->p, ev->v, e->ref, ev->row, &x.num) != 0)
            return null_value;
        return number(x.num);
    case EXPR_NEG:
        x = eval(ev, e->args[0]);
        return x.type == OUTPUTS_NULL ? x : number(-x.num);
    case EXPR_BINARY:
        return arith(ev, e);
    case EXPR_CALL:     /* case, checked at load */
        for (i = 0; i + 1 < e->nargs; i += 2)
            if (holds(ev, e->args[i]))
                return eval(ev, e->args[i + 1]);
        return eval(ev, e->args[i]);
    case EXPR_INDEX:
        break;
    }
    return null_value;
}

void
outputs_eval(const struct pipeline *p, const struct view *v,
    const int64_t *row, struct outputs_value *vals)
{
    struct evaluator ev = {p, v, row, NULL, vals};

    for (int i = 0; i < v->noutputs; i++) {
        ev.o = &v->outputs[i];
        vals[i] = eval(&ev, ev.o->expr);
    }
}

/* ---- printing ----------------------------------------------------------- */

static void
put_number(struct buf *out, long double x)
{
    size_t start = out->len;
    char *s, *e;

    buf_printf(out, "%.6Lf", x);
    s = out->data + start;
    e = out->data + out->len;
    if (strchr(s, '.') != NULL) {
        while (e[-1] == '0')
            e--;
        if (e[-1] == '.')
            e--;
    }
    if (e - s == 2 && s[0] == '-' && s[1] == '0') {  /* -0, or rounded to */
        s[0] = '0';
        e--;
    }
    out->len = (size_t)(e - out->data);
    out->data[out->len] = '\0';
}

void
outputs_put_value(struct buf *out, const struct outputs_value *x, int json)
{
    switch (x->type) {
    case OUTPUTS_NUM:
        put_number(out, x->num);
        return;
    case OUTPUTS_STR:
        if (json)
            buf_put_json_string(out, x->str, strlen(x->str));
        else
            buf_puts(out, x->str);
        return;
    case OUTPUTS_NULL:
    case OUTPUTS_BOOL:
        if (json)
            buf_puts(out, "null");
        return;
    }
}

void
outputs_put_json(struct buf *out, const struct pipeline *p,
    const struct view *v, const int64_t *row)
{
    struct outputs_value vals[OUTPUTS_MAX];

    if (v->noutputs == 0)
        return;
    outputs_eval(p, v, row, vals);
    for (int i = 0; i < v->noutputs; i++) {
        buf_putc(out, ',');
        buf_put_json_string(out, v->outputs[i].name,
            strlen(v->outputs[i].name));
        buf_putc(out, ':');
        outputs_put_value(out, &vals[i], 1);
    }
}

void
outputs_put_metrics(struct buf *out, const struct pipeline *p,
    const struct view *v, const int64_t *row)
{
    buf_putc(out, '{');
    for (int m = 0; m < v->nmetrics; m++) {
        if (m > 0)
            buf_putc(out, ',');
        buf_put_json_string(out, v->metrics[m].name,
            strlen(v->metrics[m].name));
        buf_putc(out, ':');
        agg_metric_json(p, v, m, row, out);
    }
    outputs_put_json(out, p, v, row);
    buf_putc(out, '}');
}

int
outputs_find(const struct view *v, const char *name)
{
    for (int i = 0; i < v->noutputs; i++)
        if (strcmp(v->outputs[i].name, name) == 0)
            return i;
    return -1;
}
