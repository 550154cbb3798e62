/* expr.c -- the pipeline's small expression language: parse text into a tree */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "shared/buf.h"
#include "shared/err.h"
#include "shared/expr.h"
#include "shared/mem.h"

struct parser {
    const char  *src, *s;   /* the text, the current position */
    int          depth;
    char        *why;
    int          failed;
};

static const char *const op_names[] = {"+", "-", "*", "/", "==", "!=", "<",
    "<=", ">", ">="};

static struct expr *parse_expr(struct parser *ps);

static int
col(const struct parser *ps, const char *at)
{
    return (int)(at - ps->src) + 1;
}

static struct expr *
fail(struct parser *ps, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Record the first error, with the column of the current position. */
static struct expr *
fail(struct parser *ps, const char *fmt, ...)
{
    char msg[ERR_LEN / 2];
    va_list ap;

    if (ps->failed++)
        return NULL;
    va_start(ap, fmt);
    (void)vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    snprintf(ps->why, ERR_LEN, "%s at column %d", msg, col(ps, ps->s));
    return NULL;
}

static void
skip_space(struct parser *ps)
{
    while (*ps->s == ' ' || *ps->s == '\t' || *ps->s == '\n' ||
        *ps->s == '\r')
        ps->s++;
}

/* What is at the current position, for "expected X, got Y". */
static const char *
here(const struct parser *ps, char *buf, size_t size)
{
    if (*ps->s == '\0')
        return "the end";
    snprintf(buf, size, "\"%.1s\"", ps->s);
    return buf;
}

static struct expr *
node(struct parser *ps, enum expr_kind kind, const char *at)
{
    struct expr *e = xcalloc(1, sizeof(*e));

    e->kind = kind;
    e->col = col(ps, at);
    e->ref = -1;
    return e;
}

static void
add_arg(struct expr *e, struct expr *a)
{
    e->args = xrealloc(e->args, sizeof(*e->args) * (size_t)(e->nargs + 1));
    e->args[e->nargs++] = a;
}

static int
is_name_start(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}

static int
is_digit(char c)
{
    return c >= '0' && c <= '9';
}

static struct expr *
parse_number(struct parser *ps)
{
    const char *at = ps->s, *p = ps->s;
    struct expr *e;

    while (is_digit(*p))
        p++;
    if (*p == '.') {
        if (!is_digit(p[1])) {
            ps->s = p + 1;
            return fail(ps, "expected a digit after \".\"");
        }
        for (p++; is_digit(*p); p++)
            continue;
    }
    if (*p == 'e' || *p == 'E') {
        const char *q = p + 1;
        if (*q == '+' || *q == '-')
            q++;
        if (!is_digit(*q)) {
            ps->s = q;
            return fail(ps, "expected the exponent's digits");
        }
        for (p = q; is_digit(*p); p++)
            continue;
    }
    e = node(ps, EXPR_NUM, at);
    e->text = xstrndup(at, (size_t)(p - at));
    ps->s = p;
    return e;
}

static struct expr *
parse_string(struct parser *ps)
{
    const char *at = ps->s;
    char quote = *ps->s++;
    struct buf b;
    struct expr *e;

    buf_init(&b);
    while (*ps->s != quote) {
        char c = *ps->s;

        if (c == '\0') {
            buf_reset(&b);
            ps->s = at;
            return fail(ps, "string not closed");
        }
        if (c == '\\') {
            switch (ps->s[1]) {
            case '\\': case '\'': case '"':
                c = ps->s[1];
                break;
            case 'n':
                c = '\n';
                break;
            case 't':
                c = '\t';
                break;
            case 'r':
                c = '\r';
                break;
            default:
                buf_reset(&b);
                ps->s++;
                return fail(ps, "unknown escape \"\\%.1s\"", ps->s);
            }
            ps->s++;
        }
        buf_putc(&b, c);
        ps->s++;
    }
    ps->s++;
    e = node(ps, EXPR_STR, at);
    if (b.data == NULL)
        buf_puts(&b, "");
    e->text = buf_steal(&b);
    return e;
}

static struct expr *
parse_name(struct parser *ps)
{
    const char *at = ps->s, *p = ps->s, *start, *end;
    struct expr *e;
    char got[8];

    if (*p == '`') {
        start = ++p;
        while (*p != '`' && *p != '\0')
            p++;
        if (*p == '\0' || p == start) {
            ps->s = at;
            return fail(ps, "expected a name between backquotes");
        }
        end = p++;
    } else {
        start = p;
        while (is_name_start(*p) || is_digit(*p) || *p == '.')
            p++;
        end = p;
    }
    ps->s = p;
    skip_space(ps);
    if (*ps->s != '(') {
        e = node(ps, EXPR_NAME, at);
        e->text = xstrndup(start, (size_t)(end - start));
        return e;
    }
    e = node(ps, EXPR_CALL, at);
    e->text = xstrndup(start, (size_t)(end - start));
    ps->s++;
    skip_space(ps);
    if (*ps->s == ')') {
        ps->s++;
        return e;
    }
    for (;;) {
        struct expr *a = parse_expr(ps);

        if (a == NULL) {
            expr_free(e);
            return NULL;
        }
        add_arg(e, a);
        skip_space(ps);
        if (*ps->s == ')') {
            ps->s++;
            return e;
        }
        if (*ps->s != ',') {
            fail(ps, "expected \",\" or \")\" after an argument of %.64s, "
                "got %s", e->text, here(ps, got, sizeof(got)));
            expr_free(e);
            return NULL;
        }
        ps->s++;
    }
}

static struct expr *
parse_primary(struct parser *ps)
{
    struct expr *e;
    char got[8];

    skip_space(ps);
    if (is_digit(*ps->s))
        return parse_number(ps);
    if (*ps->s == '"' || *ps->s == '\'')
        return parse_string(ps);
    if (is_name_start(*ps->s) || *ps->s == '`')
        return parse_name(ps);
    if (*ps->s == '(') {
        ps->s++;
        if ((e = parse_expr(ps)) == NULL)
            return NULL;
        skip_space(ps);
        if (*ps->s != ')') {
            expr_free(e);
            return fail(ps, "expected \")\", got %s",
                here(ps, got, sizeof(got)));
        }
        ps->s++;
        return e;
    }
    return fail(ps, "expected a value, a name or a call, got %s",
        here(ps, got, sizeof(got)));
}

static struct expr *
parse_postfix(struct parser *ps)
{
    struct expr *e = parse_primary(ps), *x, *i;
    char got[8];

    for (;;) {
        if (e == NULL)
            return NULL;
        skip_space(ps);
        if (*ps->s != '[')
            return e;
        x = node(ps, EXPR_INDEX, ps->s);
        ps->s++;
        add_arg(x, e);
        if ((i = parse_expr(ps)) == NULL) {
            expr_free(x);
            return NULL;
        }
        add_arg(x, i);
        skip_space(ps);
        if (*ps->s != ']') {
            expr_free(x);
            return fail(ps, "expected \"]\", got %s",
                here(ps, got, sizeof(got)));
        }
        ps->s++;
        e = x;
    }
}

static struct expr *
parse_unary(struct parser *ps)
{
    struct expr *e, *a;

    skip_space(ps);
    if (*ps->s != '-')
        return parse_postfix(ps);
    e = node(ps, EXPR_NEG, ps->s);
    ps->s++;
    if (++ps->depth > EXPR_MAX_DEPTH) {
        expr_free(e);
        return fail(ps, "nested deeper than %d", EXPR_MAX_DEPTH);
    }
    a = parse_unary(ps);
    ps->depth--;
    if (a == NULL) {
        expr_free(e);
        return NULL;
    }
    add_arg(e, a);
    return e;
}

static struct expr *
binary(struct parser *ps, enum expr_op op, const char *at, struct expr *l,
    struct expr *r)
{
    struct expr *e = node(ps, EXPR_BINARY, at);

    e->op = op;
    add_arg(e, l);
    add_arg(e, r);
    return e;
}

/* The operator at the current position among [lo, hi], or -1. */
static int
match_op(struct parser *ps, enum expr_op lo, enum expr_op hi)
{
    int best = -1;
    size_t blen = 0;

    skip_space(ps);
    for (int op = (int)lo; op <= (int)hi; op++) {
        size_t n = strlen(op_names[op]);
        if (n > blen && strncmp(ps->s, op_names[op], n) == 0) {
            best = op;
            blen = n;
        }
    }
    if (best >= 0)
        ps->s += blen;
    return best;
}

/* Left-associative chain of operators in [lo, hi] over next(). */
static struct expr *
parse_chain(struct parser *ps, enum expr_op lo, enum expr_op hi,
    struct expr *(*next)(struct parser *))
{
    struct expr *l = next(ps), *r;
    const char *at;
    int op;

    while (l != NULL) {
        skip_space(ps);
        at = ps->s;
        if ((op = match_op(ps, lo, hi)) < 0)
            return l;
        if ((r = next(ps)) == NULL) {
            expr_free(l);
            return NULL;
        }
        l = binary(ps, (enum expr_op)op, at, l, r);
    }
    return NULL;
}

static struct expr *
parse_product(struct parser *ps)
{
    return parse_chain(ps, EXPR_MUL, EXPR_DIV, parse_unary);
}

static struct expr *
parse_sum(struct parser *ps)
{
    return parse_chain(ps, EXPR_ADD, EXPR_SUB, parse_product);
}

static struct expr *
parse_expr(struct parser *ps)
{
    struct expr *l, *r;
    const char *at;
    int op;

    if (++ps->depth > EXPR_MAX_DEPTH)
        return fail(ps, "nested deeper than %d", EXPR_MAX_DEPTH);
    l = parse_sum(ps);
    if (l != NULL) {
        skip_space(ps);
        at = ps->s;
        if ((op = match_op(ps, EXPR_EQ, EXPR_GE)) >= 0) {
            if ((r = parse_sum(ps)) == NULL) {
                expr_free(l);
                l = NULL;
            } else {
                l = binary(ps, (enum expr_op)op, at, l, r);
            }
        }
    }
    ps->depth--;
    return l;
}

int
expr_parse(struct expr **out, const char *src, char *why)
{
    struct parser ps = {src, src, 0, why, 0};
    struct expr *e;
    char got[8];

    if (strlen(src) > EXPR_MAX_TEXT) {
        snprintf(why, ERR_LEN, "longer than %d bytes", EXPR_MAX_TEXT);
        return -1;
    }
    if ((e = parse_expr(&ps)) == NULL)
        return -1;
    skip_space(&ps);
    if (*ps.s != '\0') {
        expr_free(e);
        fail(&ps, "unexpected %s after the expression",
            here(&ps, got, sizeof(got)));
        return -1;
    }
    *out = e;
    return 0;
}

void
expr_free(struct expr *e)
{
    if (e == NULL)
        return;
    for (int i = 0; i < e->nargs; i++)
        expr_free(e->args[i]);
    free(e->args);
    free(e->text);
    free(e);
}

int
expr_refuse(char *why, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    (void)vsnprintf(why, ERR_LEN, fmt, ap);
    va_end(ap);
    return -1;
}

const char *
expr_op_name(enum expr_op op)
{
    return op_names[op];
}
