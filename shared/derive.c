/* derive.c -- event.derive: fields computed from the other fields of an event */
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "shared/dec.h"
#include "shared/derive.h"
#include "shared/err.h"
#include "shared/mem.h"

enum fn { FN_UPPER, FN_LOWER, FN_TRIM, FN_SUBSTR, FN_SPLIT, FN_CONCAT,
    FN_COALESCE };

static const struct {
    const char *name;
    int         min, max;       /* arguments */
} fns[] = {
    {"upper", 1, 1}, {"lower", 1, 1}, {"trim", 1, 1}, {"substr", 2, 3},
    {"split", 2, 3}, {"concat", 1, 64}, {"coalesce", 2, 64},
};
#define NFNS ((int)(sizeof(fns) / sizeof(fns[0])))

#define INDEX_MAX 1000000   /* largest |index| or length literal */

static const char *const type_names[] = {"string", "int", "decimal", "bool",
    "float", "array"};

/* The type of an expression's values, found at load. */
struct dtype {
    enum field_type type, items;
    int             scale, round;
    int             literal;    /* a 'text' or number literal */
};

/* ---- checking, at load --------------------------------------------------- */

struct checker {
    const struct pipeline *p;
    char                  *why;
};

static int
bad(struct checker *ck, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static int
bad(struct checker *ck, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    (void)vsnprintf(ck->why, ERR_LEN, fmt, ap);
    va_end(ap);
    return -1;
}

/* "a decimal", "an array of string", for messages. */
static const char *
type_text(const struct dtype *t, char *buf, size_t size)
{
    if (t->literal && t->type == FIELD_DECIMAL)
        snprintf(buf, size, "a number");
    else if (t->type == FIELD_ARRAY)
        snprintf(buf, size, "an array of %s", type_names[t->items]);
    else
        snprintf(buf, size, "%s %s", t->type == FIELD_INT ? "an" : "a",
            type_names[t->type]);
    return buf;
}

/* A literal: 'text', 12.5 or -12.5 (a minus before a number). */
static int
is_literal(const struct expr *e)
{
    return e->kind == EXPR_STR || e->kind == EXPR_NUM ||
        (e->kind == EXPR_NEG && e->args[0]->kind == EXPR_NUM);
}

/* A number literal's text with its sign, into buf. */
static const char *
number_text(const struct expr *e, char *buf, size_t size)
{
    if (e->kind == EXPR_NEG)
        snprintf(buf, size, "-%s", e->args[0]->text);
    else
        snprintf(buf, size, "%s", e->text);
    return buf;
}

/* An integer literal (12, -3) within INDEX_MAX: 0 and *v, else -1. */
static int
int_literal(const struct expr *e, int *v)
{
    int neg = 0;
    char *end;
    long n;

    if (e->kind == EXPR_NEG) {
        neg = 1;
        e = e->args[0];
    }
    if (e->kind != EXPR_NUM)
        return -1;
    errno = 0;
    n = strtol(e->text, &end, 10);
    if (errno != 0 || *end != '\0' || n > INDEX_MAX)
        return -1;
    *v = (int)(neg ? -n : n);
    return 0;
}

static int check(struct checker *ck, struct expr *e, struct dtype *t);

/* Argument i (0-based) of call e must be a string; its type in *t. */
static int
want_string(struct checker *ck, struct expr *e, int i, struct dtype *t)
{
    char got[48];

    if (check(ck, e->args[i], t) != 0)
        return -1;
    if (t->type != FIELD_STRING)
        return bad(ck, "argument %d of %s: expected a string, got %s", i + 1,
            e->text, type_text(t, got, sizeof(got)));
    return 0;
}

/* Argument i of call e must be an integer literal (its value in ref). */
static int
want_int(struct checker *ck, struct expr *e, int i, const char *what)
{
    if (int_literal(e->args[i], &e->args[i]->ref) != 0)
        return bad(ck, "argument %d of %s: expected %s, an integer from "
            "-%d to %d", i + 1, e->text, what, INDEX_MAX, INDEX_MAX);
    return 0;
}

/* Can literal l stand for a value of type t? */
static int
literal_fits(const struct expr *l, const struct dtype *t)
{
    char num[EXPR_MAX_TEXT + 2];
    int64_t v;

    switch (t->type) {
    case FIELD_STRING:
        return l->kind == EXPR_STR;
    case FIELD_INT:
    case FIELD_DECIMAL:
    case FIELD_FLOAT:
        if (l->kind == EXPR_STR)
            return 0;
        number_text(l, num, sizeof(num));
        if (t->round)
            return dec_round_text(num, strlen(num), t->scale, &v) == DEC_OK;
        return dec_parse(num, t->type == FIELD_INT ? 0 : t->scale,
            &v) == DEC_OK;
    default:
        return 0;
    }
}

static int
check_coalesce(struct checker *ck, struct expr *e, struct dtype *t)
{
    struct dtype a;
    char got[48], want[48];
    int typed = 0;

    for (int i = 0; i < e->nargs; i++) {
        if (is_literal(e->args[i]))
            continue;
        if (check(ck, e->args[i], &a) != 0)
            return -1;
        if (!typed) {
            *t = a;
            typed = 1;
        } else if (a.type != t->type || a.items != t->items ||
            a.scale != t->scale) {
            return bad(ck, "argument %d of coalesce: expected %s like the "
                "first, got %s", i + 1, type_text(t, want, sizeof(want)),
                type_text(&a, got, sizeof(got)));
        }
    }
    if (!typed)
        return bad(ck, "coalesce needs a field or a call among its "
            "arguments");
    for (int i = 0; i < e->nargs; i++) {
        const struct expr *l = e->args[i];
        char num[EXPR_MAX_TEXT + 2];

        if (is_literal(l) && !literal_fits(l, t))
            return bad(ck, "argument %d of coalesce: %s%.64s%s is not %s%s",
                i + 1, l->kind == EXPR_STR ? "'" : "", l->kind == EXPR_STR ?
                l->text : number_text(l, num, sizeof(num)),
                l->kind == EXPR_STR ? "'" : "",
                type_text(t, want, sizeof(want)),
                t->scale > 0 && t->type != FIELD_STRING ? " at its scale" :
                "");
    }
    t->literal = 0;
    return 0;
}

static int
check_call(struct checker *ck, struct expr *e, struct dtype *t)
{
    struct dtype a;
    char got[48];
    int f;

    for (f = 0; f < NFNS && strcmp(fns[f].name, e->text) != 0; f++)
        continue;
    if (f == NFNS)
        return bad(ck, "unknown function \"%.64s\"", e->text);
    e->ref = f;
    if (e->nargs < fns[f].min || e->nargs > fns[f].max) {
        if (fns[f].min == fns[f].max)
            return bad(ck, "%s takes %d argument%s, got %d", e->text,
                fns[f].min, fns[f].min == 1 ? "" : "s", e->nargs);
        if (fns[f].max < 64)
            return bad(ck, "%s takes %d or %d arguments, got %d", e->text,
                fns[f].min, fns[f].max, e->nargs);
        return bad(ck, "%s takes at least %d argument%s, got %d", e->text,
            fns[f].min, fns[f].min == 1 ? "" : "s", e->nargs);
    }
    memset(t, 0, sizeof(*t));
    t->type = t->items = FIELD_STRING;
    switch ((enum fn)f) {
    case FN_UPPER:
    case FN_LOWER:
    case FN_TRIM:
        return want_string(ck, e, 0, &a);
    case FN_SUBSTR:
        if (want_string(ck, e, 0, &a) != 0 ||
            want_int(ck, e, 1, "a start") != 0 ||
            (e->nargs == 3 && want_int(ck, e, 2, "a length") != 0))
            return -1;
        if (e->args[1]->ref == 0)
            return bad(ck, "argument 2 of substr: characters count from 1 "
                "(or from -1, the last)");
        if (e->nargs == 3 && e->args[2]->ref < 0)
            return bad(ck, "argument 3 of substr: expected a length, 0 or "
                "more");
        return 0;
    case FN_SPLIT:
        if (want_string(ck, e, 0, &a) != 0)
            return -1;
        if (e->args[1]->kind != EXPR_STR || e->args[1]->text[0] == '\0')
            return bad(ck, "argument 2 of split: expected a separator, a "
                "non-empty 'text'");
        if (e->nargs == 3)
            return want_int(ck, e, 2, "an index");
        t->type = FIELD_ARRAY;
        return 0;
    case FN_CONCAT:
        for (int i = 0; i < e->nargs; i++) {
            if (is_literal(e->args[i]) && e->args[i]->kind != EXPR_STR)
                continue;       /* a number as written */
            if (check(ck, e->args[i], &a) != 0)
                return -1;
            if (a.type == FIELD_ARRAY)
                return bad(ck, "argument %d of concat: expected a value, "
                    "got %s", i + 1, type_text(&a, got, sizeof(got)));
        }
        return 0;
    case FN_COALESCE:
        return check_coalesce(ck, e, t);
    }
    return 0;
}

static int
check(struct checker *ck, struct expr *e, struct dtype *t)
{
    const struct field *f;
    struct dtype a;
    char got[48];

    memset(t, 0, sizeof(*t));
    switch (e->kind) {
    case EXPR_STR:
        t->type = t->items = FIELD_STRING;
        t->literal = 1;
        return 0;
    case EXPR_NUM:
        return bad(ck, "a number alone has no type here: give it to "
            "coalesce, substr, split or an index");
    case EXPR_NAME:
        if ((e->ref = pipeline_field_index(ck->p, e->text)) < 0)
            return bad(ck, "unknown field \"%.128s\"", e->text);
        f = &ck->p->fields[e->ref];
        t->type = f->type;
        t->items = f->items;
        t->scale = f->scale;
        t->round = f->round;
        return 0;
    case EXPR_CALL:
        return check_call(ck, e, t);
    case EXPR_INDEX:
        if (check(ck, e->args[0], &a) != 0)
            return -1;
        if (a.type != FIELD_ARRAY)
            return bad(ck, "[] takes an array, got %s",
                type_text(&a, got, sizeof(got)));
        if (int_literal(e->args[1], &e->args[1]->ref) != 0)
            return bad(ck, "[] takes an integer from -%d to %d", INDEX_MAX,
                INDEX_MAX);
        *t = a;
        t->type = a.items;
        return 0;
    case EXPR_NEG:
    case EXPR_BINARY:
        break;
    }
    return bad(ck, "operators (%s at column %d) are not allowed in "
        "event.derive", e->kind == EXPR_NEG ? "-" : expr_op_name(e->op),
        e->col);
}

/* Derived names: what a field name may be, without the dots' meaning. */
static int
valid_derived_name(const char *s)
{
    size_t n = strlen(s);

    if (n == 0 || n > 128)
        return 0;
    for (; *s != '\0'; s++) {
        if ((unsigned char)*s < 0x20 || *s == 0x7f)
            return 0;
    }
    return 1;
}

/* The text and "required" of an entry: "EXPR" or {"expr", "required"}. */
static int
entry_parts(const cJSON *j, const char **src, int *required, char *at,
    char *why)
{
    const cJSON *c;

    *required = -1;
    if (cJSON_IsString(j)) {
        *src = j->valuestring;
        return 0;
    }
    if (!cJSON_IsObject(j)) {
        snprintf(why, ERR_LEN, "expected an expression or an object "
            "{\"expr\", \"required\"}");
        return -1;
    }
    *src = NULL;
    for (c = j->child; c != NULL; c = c->next) {
        if (strcmp(c->string, "expr") == 0) {
            if (!cJSON_IsString(c)) {
                snprintf(at, 16, "expr");
                snprintf(why, ERR_LEN, "expected an expression");
                return -1;
            }
            *src = c->valuestring;
        } else if (strcmp(c->string, "required") == 0) {
            if (!cJSON_IsBool(c)) {
                snprintf(at, 16, "required");
                snprintf(why, ERR_LEN, "expected true or false");
                return -1;
            }
            *required = cJSON_IsTrue(c);
        } else {
            snprintf(why, ERR_LEN, "unknown key \"%.64s\"", c->string);
            return -1;
        }
    }
    if (*src == NULL) {
        snprintf(at, 16, "expr");
        snprintf(why, ERR_LEN, "required");
        return -1;
    }
    return 0;
}

int
derive_load(struct pipeline *p, const char *name, const cJSON *j, char *at,
    char *why)
{
    struct checker ck = {p, why};
    struct expr *e = NULL;
    struct derive *d;
    struct dtype t;
    struct field *f;
    char got[48], want[48];
    const char *src;
    int required, fi;

    at[0] = '\0';
    if (entry_parts(j, &src, &required, at, why) != 0)
        return -1;
    if (!valid_derived_name(name)) {
        snprintf(why, ERR_LEN, "invalid field name: expected 1 to 128 "
            "bytes, no control characters");
        return -1;
    }
    if (strcmp(name, p->time_field) == 0) {
        snprintf(why, ERR_LEN, "the event time field cannot be derived");
        return -1;
    }
    if (p->nderives >= DERIVE_MAX) {
        snprintf(why, ERR_LEN, "more than %d derived fields", DERIVE_MAX);
        return -1;
    }
    if (cJSON_IsObject(j))
        snprintf(at, 16, "expr");
    if (expr_parse(&e, src, why) != 0)
        return -1;
    if (check(&ck, e, &t) != 0)
        goto fail;
    at[0] = '\0';
    if ((fi = pipeline_field_index(p, name)) >= 0) {
        /* overwriting: the declared type, and its "required" */
        f = &p->fields[fi];
        if (t.type != f->type || t.items != f->items ||
            (t.type != FIELD_STRING && t.type != FIELD_BOOL &&
            t.scale != f->scale)) {
            struct dtype ft = {f->type, f->items, f->scale, f->round, 0};
            snprintf(why, ERR_LEN, "gives %s%s, but the field is declared "
                "as %s%s", type_text(&t, got, sizeof(got)),
                t.scale > 0 ? " at another scale" : "",
                type_text(&ft, want, sizeof(want)),
                t.type == f->type ? " at its scale" : "");
            goto fail;
        }
        if (required >= 0) {
            snprintf(at, 16, "required");
            snprintf(why, ERR_LEN, "comes from event.fields.%.128s for a "
                "field that is declared", name);
            goto fail;
        }
    } else {
        fi = p->nfields;
        p->fields = xrealloc(p->fields, sizeof(*p->fields) *
            (size_t)(p->nfields + 1));
        f = &p->fields[p->nfields++];
        memset(f, 0, sizeof(*f));
        f->name = xstrdup(name);
        f->type = t.type;
        f->items = t.items;
        f->scale = t.scale;
        f->round = t.round;
        f->required = required > 0;
        f->computed = 1;
    }
    f->derived = 1;
    f->derive = p->nderives;
    p->derives = xrealloc(p->derives, sizeof(*p->derives) *
        (size_t)(p->nderives + 1));
    d = &p->derives[p->nderives++];
    d->src = xstrdup(src);
    d->expr = e;
    d->field = fi;
    return 0;
fail:
    expr_free(e);
    return -1;
}

void
derive_free(struct derive *d, int n)
{
    for (int i = 0; i < n; i++) {
        free(d[i].src);
        expr_free(d[i].expr);
    }
    free(d);
}

/* ---- computing, per event ------------------------------------------------ */

/* A copy of s[0..n) with a NUL, in the event's arena. */
static const char *
copy(const char *s, size_t n)
{
    char *p = event_alloc(n + 1);

    memcpy(p, s, n);
    p[n] = '\0';
    return p;
}

static void
set_str(struct event_value *v, const char *s, size_t n)
{
    memset(v, 0, sizeof(*v));
    v->present = 1;
    v->str = s;
    v->len = n;
}

/* Length of the UTF-8 sequence starting with byte c (valid text). */
static size_t
seq_len(unsigned char c)
{
    return c < 0x80 ? 1 : c < 0xE0 ? 2 : c < 0xF0 ? 3 : 4;
}

/*
 * Simple case mapping of the scripts most city and ticker names use: ASCII,
 * Latin-1, Latin Extended-A, Greek, Cyrillic. A table, not the locale, so
 * every machine derives the same bytes; every pair keeps its UTF-8 length.
 */
static uint32_t
case_map(uint32_t c, int up)
{
    if (c < 0x80) {
        if (up && c >= 'a' && c <= 'z')
            return c - 0x20;
        if (!up && c >= 'A' && c <= 'Z')
            return c + 0x20;
        return c;
    }
    if (c >= 0xC0 && c <= 0xFE && c != 0xD7 && c != 0xF7 && c != 0xDF)
        return up ? (c >= 0xE0 ? c - 0x20 : c) : (c <= 0xDE ? c + 0x20 : c);
    if (c == 0xFF || c == 0x178)
        return up ? 0x178 : 0xFF;
    if ((c >= 0x100 && c <= 0x12F) || (c >= 0x132 && c <= 0x137) ||
        (c >= 0x14A && c <= 0x177))
        return up ? (c & ~1u) : (c | 1u);
    if ((c >= 0x139 && c <= 0x148) || (c >= 0x179 && c <= 0x17E))
        return (c & 1u) != 0 ? (up ? c : c + 1) : (up ? c - 1 : c);
    if (c >= 0x391 && c <= 0x3A9 && c != 0x3A2)
        return up ? c : c + 0x20;
    if (c == 0x3C2)
        return up ? 0x3A3 : c;
    if (c >= 0x3B1 && c <= 0x3C9)
        return up ? c - 0x20 : c;
    if (c == 0x386 || c == 0x3AC)
        return up ? 0x386 : 0x3AC;
    if ((c >= 0x388 && c <= 0x38A) || (c >= 0x3AD && c <= 0x3AF))
        return up ? (c >= 0x3AD ? c - 0x25 : c) : (c <= 0x38A ? c + 0x25 : c);
    if (c == 0x38C || c == 0x3CC)
        return up ? 0x38C : 0x3CC;
    if ((c >= 0x38E && c <= 0x38F) || (c >= 0x3CD && c <= 0x3CE))
        return up ? (c >= 0x3CD ? c - 0x3F : c) : (c <= 0x38F ? c + 0x3F : c);
    if (c >= 0x400 && c <= 0x42F)
        return up ? c : c + (c >= 0x410 ? 0x20 : 0x50);
    if (c >= 0x430 && c <= 0x45F)
        return up ? c - (c <= 0x44F ? 0x20 : 0x50) : c;
    return c;
}

static void
fold(struct event_value *out, const struct event_value *in, int up)
{
    const unsigned char *s = (const unsigned char *)in->str;
    char *o = event_alloc(in->len + 1);
    size_t i = 0, k;

    while (i < in->len) {
        uint32_t c;

        k = seq_len(s[i]);
        if (k == 1) {
            o[i] = (char)case_map(s[i], up);
        } else if (k == 2) {
            c = case_map((uint32_t)(s[i] & 0x1F) << 6 | (s[i + 1] & 0x3F), up);
            o[i] = (char)(0xC0 | c >> 6);
            o[i + 1] = (char)(0x80 | (c & 0x3F));
        } else {
            memcpy(o + i, s + i, k);
        }
        i += k;
    }
    o[in->len] = '\0';
    set_str(out, o, in->len);
}

static int
is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' ||
        c == '\v';
}

/* Characters start..start+len (1-based, negative from the end). */
static void
substr(struct event_value *out, const struct event_value *in, int start,
    int len, int has_len)
{
    const unsigned char *s = (const unsigned char *)in->str;
    size_t n = 0, i, from, to;
    long b, e;

    for (i = 0; i < in->len; i += seq_len(s[i]))
        n++;
    b = start > 0 ? start - 1 : (long)n + start;
    if (b < 0)
        b = 0;
    e = has_len ? b + len : (long)n;
    if (e > (long)n)
        e = (long)n;
    if (b >= e) {
        set_str(out, "", 0);
        return;
    }
    for (i = 0, n = 0; (long)n < b; n++)
        i += seq_len(s[i]);
    from = i;
    for (; (long)n < e; n++)
        i += seq_len(s[i]);
    to = i;
    set_str(out, copy(in->str + from, to - from), to - from);
}

/* The next piece of s (from *at) cut at sep; 0 after the last one. */
static int
next_piece(const struct event_value *s, const char *sep, size_t seplen,
    size_t *at, int *done, size_t *from, size_t *len)
{
    const char *p;

    if (*done)
        return 0;
    *from = *at;
    p = seplen <= s->len - *at ? memmem(s->str + *at, s->len - *at, sep,
        seplen) : NULL;
    if (p == NULL) {
        *len = s->len - *at;
        *done = 1;
    } else {
        *len = (size_t)(p - s->str) - *at;
        *at += *len + seplen;
    }
    return 1;
}

static int
split(struct event_value *out, const struct event_value *in,
    const char *sep, const struct expr *index)
{
    size_t seplen = strlen(sep), at = 0, from, len;
    int n = 0, done = 0, i, want;

    while (next_piece(in, sep, seplen, &at, &done, &from, &len))
        n++;
    if (index == NULL) {
        struct event_value *el = event_alloc(sizeof(*el) * (size_t)n);

        memset(out, 0, sizeof(*out));
        at = 0;
        done = 0;
        for (i = 0; next_piece(in, sep, seplen, &at, &done, &from, &len);
            i++)
            set_str(&el[i], copy(in->str + from, len), len);
        out->present = 1;
        out->elems = el;
        out->nelems = n;
        return 1;
    }
    want = index->ref < 0 ? n + index->ref : index->ref;
    if (want < 0 || want >= n)
        return 0;
    at = 0;
    done = 0;
    for (i = 0; next_piece(in, sep, seplen, &at, &done, &from, &len); i++) {
        if (i == want)
            break;
    }
    set_str(out, copy(in->str + from, len), len);
    return 1;
}

/*
 * The type of e's values, as check() found it at load: the result's type
 * does not depend on the event, so a missing value still has one.
 */
static void
type_of(const struct pipeline *p, const struct expr *e, struct dtype *t)
{
    const struct field *f;

    memset(t, 0, sizeof(*t));
    t->type = t->items = FIELD_STRING;
    switch (e->kind) {
    case EXPR_NAME:
        f = &p->fields[e->ref];
        t->type = f->type;
        t->items = f->items;
        t->scale = f->scale;
        t->round = f->round;
        return;
    case EXPR_INDEX:
        type_of(p, e->args[0], t);
        t->type = t->items;
        return;
    case EXPR_CALL:
        if (e->ref == FN_SPLIT && e->nargs == 2) {
            t->type = FIELD_ARRAY;
        } else if (e->ref == FN_COALESCE) {
            for (int i = 0; i < e->nargs; i++) {
                if (!is_literal(e->args[i])) {
                    type_of(p, e->args[i], t);
                    return;
                }
            }
        }
        return;
    default:
        return;
    }
}

/* Append the text of v, a value of type t, to b. */
static void
put_text(struct buf *b, const struct event_value *v, const struct dtype *t)
{
    char num[DEC_BUFSZ];

    switch (t->type) {
    case FIELD_STRING:
        buf_append(b, v->str, v->len);
        break;
    case FIELD_BOOL:
        buf_puts(b, v->num != 0 ? "true" : "false");
        break;
    case FIELD_INT:
        buf_puts(b, dec_format(v->num, 0, num, sizeof(num)));
        break;
    case FIELD_DECIMAL:
    case FIELD_FLOAT:
        buf_puts(b, dec_format(v->num, t->scale, num, sizeof(num)));
        break;
    case FIELD_ARRAY:
        break;
    }
}

static int eval(const struct pipeline *p, const struct expr *e,
    const struct event *ev, struct event_value *out);

static int
concat(const struct pipeline *p, const struct expr *e, const struct event *ev,
    struct event_value *out)
{
    struct event_value v;
    struct dtype t;
    struct buf b;
    char *s, num[EXPR_MAX_TEXT + 2];

    buf_init(&b);
    buf_puts(&b, "");
    for (int i = 0; i < e->nargs; i++) {
        const struct expr *a = e->args[i];

        if (is_literal(a) && a->kind != EXPR_STR) {
            buf_puts(&b, number_text(a, num, sizeof(num)));
            continue;
        }
        if (!eval(p, a, ev, &v)) {
            buf_reset(&b);
            return 0;
        }
        type_of(p, a, &t);
        put_text(&b, &v, &t);
    }
    s = event_alloc(b.len + 1);
    memcpy(s, b.data, b.len + 1);
    set_str(out, s, b.len);
    buf_reset(&b);
    return 1;
}

/* A literal of coalesce as a value of type t (it fits: checked at load). */
static void
literal(const struct expr *l, const struct dtype *t, struct event_value *out)
{
    char num[EXPR_MAX_TEXT + 2];
    int64_t v = 0;

    memset(out, 0, sizeof(*out));
    out->present = 1;
    if (l->kind == EXPR_STR) {
        out->str = l->text;
        out->len = strlen(l->text);
        return;
    }
    number_text(l, num, sizeof(num));
    if (t->round)
        (void)dec_round_text(num, strlen(num), t->scale, &v);
    else
        (void)dec_parse(num, t->type == FIELD_INT ? 0 : t->scale, &v);
    out->num = v;
}

static int
coalesce(const struct pipeline *p, const struct expr *e,
    const struct event *ev, struct event_value *out)
{
    struct dtype t;

    type_of(p, e, &t);
    for (int i = 0; i < e->nargs; i++) {
        if (is_literal(e->args[i])) {
            literal(e->args[i], &t, out);
            return 1;
        }
        if (eval(p, e->args[i], ev, out))
            return 1;
    }
    return 0;
}

/* Compute e for ev into out; returns 1, or 0 when it has no value. */
static int
eval(const struct pipeline *p, const struct expr *e, const struct event *ev,
    struct event_value *out)
{
    struct event_value a;
    int i;

    switch (e->kind) {
    case EXPR_STR:
        set_str(out, e->text, strlen(e->text));
        return 1;
    case EXPR_NAME:
        *out = ev->vals[e->ref];
        return out->present;
    case EXPR_INDEX:
        if (!eval(p, e->args[0], ev, &a))
            return 0;
        i = e->args[1]->ref < 0 ? a.nelems + e->args[1]->ref :
            e->args[1]->ref;
        if (i < 0 || i >= a.nelems)
            return 0;
        *out = a.elems[i];
        return 1;
    case EXPR_CALL:
        break;
    default:
        return 0;       /* refused at load */
    }
    if (e->ref == FN_CONCAT)
        return concat(p, e, ev, out);
    if (e->ref == FN_COALESCE)
        return coalesce(p, e, ev, out);
    /* the others take a string first, and have no value without it */
    if (!eval(p, e->args[0], ev, &a))
        return 0;
    switch ((enum fn)e->ref) {
    case FN_UPPER:
    case FN_LOWER:
        fold(out, &a, e->ref == FN_UPPER);
        return 1;
    case FN_TRIM:
        while (a.len > 0 && is_space(a.str[a.len - 1]))
            a.len--;
        while (a.len > 0 && is_space(*a.str)) {
            a.str++;
            a.len--;
        }
        set_str(out, copy(a.str, a.len), a.len);
        return 1;
    case FN_SUBSTR:
        substr(out, &a, e->args[1]->ref, e->nargs == 3 ? e->args[2]->ref : 0,
            e->nargs == 3);
        return 1;
    case FN_SPLIT:
        return split(out, &a, e->args[1]->text, e->nargs == 3 ?
            e->args[2] : NULL);
    default:
        return 0;
    }
}

enum reject
derive_event(const struct pipeline *p, struct event *ev, char *err)
{
    for (int i = 0; i < p->nderives; i++) {
        const struct derive *d = &p->derives[i];
        const struct field *f = &p->fields[d->field];
        struct event_value v;

        if (!eval(p, d->expr, ev, &v)) {
            memset(&v, 0, sizeof(v));
            if (f->required) {
                snprintf(err, ERR_LEN, "field \"%.128s\": required, and %.80s "
                    "gives no value", f->name, d->src);
                return REJECT_MISSING;
            }
        }
        ev->vals[d->field] = v;
    }
    return REJECT_NONE;
}
