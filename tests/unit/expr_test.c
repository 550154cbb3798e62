/* expr_test.c -- unit tests for shared/expr.c: the expression grammar, its trees and errors */
#include <stdio.h>
#include <string.h>

#include "shared/buf.h"
#include "shared/err.h"
#include "shared/expr.h"
#include "tests/test.h"

/* The tree as text: calls f(a,b), (a+b), (-a), a[i], 'text', numbers. */
static void
show(struct buf *b, const struct expr *e)
{
    switch (e->kind) {
    case EXPR_NUM:
    case EXPR_NAME:
        buf_puts(b, e->text);
        break;
    case EXPR_STR:
        buf_printf(b, "'%s'", e->text);
        break;
    case EXPR_CALL:
        buf_printf(b, "%s(", e->text);
        for (int i = 0; i < e->nargs; i++) {
            if (i > 0)
                buf_putc(b, ',');
            show(b, e->args[i]);
        }
        buf_putc(b, ')');
        break;
    case EXPR_INDEX:
        show(b, e->args[0]);
        buf_putc(b, '[');
        show(b, e->args[1]);
        buf_putc(b, ']');
        break;
    case EXPR_NEG:
        buf_puts(b, "(-");
        show(b, e->args[0]);
        buf_putc(b, ')');
        break;
    case EXPR_BINARY:
        buf_putc(b, '(');
        show(b, e->args[0]);
        buf_puts(b, expr_op_name(e->op));
        show(b, e->args[1]);
        buf_putc(b, ')');
        break;
    }
}

static void
test_expr_parse(void)
{
    static const struct {
        const char *src;
        const char *want;       /* the tree, or "error: ..." */
    } cases[] = {
        {"upper(city)", "upper(city)"},
        {"  upper ( city )  ", "upper(city)"},
        {"split(pair, \"/\", 0)", "split(pair,'/',0)"},
        {"split(pair, '/')[0]", "split(pair,'/')[0]"},
        {"split(pair, '/')[-1]", "split(pair,'/')[(-1)]"},
        {"upper(trim(`my-field`))", "upper(trim(my-field))"},
        {"sentiment.score", "sentiment.score"},
        {"concat(a, 'it\\'s', \"\\\"q\\\"\", '\\\\')",
            "concat(a,'it's','\"q\"','\\')"},
        {"coalesce(x, 1.5e-3)", "coalesce(x,1.5e-3)"},
        {"f()", "f()"},
        {"a + b * c", "(a+(b*c))"},
        {"a - b - c", "((a-b)-c)"},
        {"a / b / c", "((a/b)/c)"},
        {"-a * 2", "((-a)*2)"},
        {"--a", "(-(-a))"},
        {"(a + b) * c", "((a+b)*c)"},
        {"avg_score > 0.6", "(avg_score>0.6)"},
        {"a <= b + 1", "(a<=(b+1))"},
        {"a >= b", "(a>=b)"},
        {"a != 'x'", "(a!='x')"},
        {"a == b", "(a==b)"},
        {"case(avg > 0.6, 'positive', avg < 0.4, 'negative', 'neutral')",
            "case((avg>0.6),'positive',(avg<0.4),'negative','neutral')"},
        {"upper(city", "error: expected \",\" or \")\" after an argument of "
            "upper, got the end at column 11"},
        {"", "error: expected a value, a name or a call, got the end at "
            "column 1"},
        {"1.", "error: expected a digit after \".\" at column 3"},
        {"1e+", "error: expected the exponent's digits at column 4"},
        {"'abc", "error: string not closed at column 1"},
        {"a b", "error: unexpected \"b\" after the expression at column 3"},
        {"f(a,)", "error: expected a value, a name or a call, got \")\" at "
            "column 5"},
        {"x[1", "error: expected \"]\", got the end at column 4"},
        {"(a", "error: expected \")\", got the end at column 3"},
        {"``", "error: expected a name between backquotes at column 1"},
        {"'\\q'", "error: unknown escape \"\\q\" at column 3"},
        {"a < b < c", "error: unexpected \"<\" after the expression at "
            "column 7"},
        {"a = b", "error: unexpected \"=\" after the expression at column 3"},
        {"#", "error: expected a value, a name or a call, got \"#\" at "
            "column 1"},
    };
    char why[ERR_LEN];
    struct buf b;

    buf_init(&b);
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct expr *e = NULL;

        buf_clear(&b);
        if (expr_parse(&e, cases[i].src, why) == 0) {
            show(&b, e);
            expr_free(e);
        } else {
            buf_printf(&b, "error: %s", why);
        }
        if (strcmp(b.data, cases[i].want) != 0)
            printf("  case %zu: %s\n    got  %s\n    want %s\n", i,
                cases[i].src, b.data, cases[i].want);
        CHECK_STREQ(b.data, cases[i].want);
    }
    buf_reset(&b);
}

static void
test_expr_limits(void)
{
    char src[EXPR_MAX_TEXT + 64], why[ERR_LEN];
    struct expr *e = NULL;
    size_t n = 0;

    /* nesting: 32 levels parse, 33 do not */
    for (int i = 0; i < 31; i++)
        n += (size_t)snprintf(src + n, sizeof(src) - n, "f(");
    n += (size_t)snprintf(src + n, sizeof(src) - n, "x");
    for (int i = 0; i < 31; i++)
        src[n++] = ')';
    src[n] = '\0';
    CHECK(expr_parse(&e, src, why) == 0);
    expr_free(e);
    e = NULL;
    memmove(src + 2, src, n + 1);
    memcpy(src, "f(", 2);
    strcat(src, ")");
    CHECK(expr_parse(&e, src, why) == -1);
    CHECK(strstr(why, "nested deeper than 32") != NULL);
    memset(src, 'a', EXPR_MAX_TEXT + 1);
    src[EXPR_MAX_TEXT + 1] = '\0';
    CHECK(expr_parse(&e, src, why) == -1);
    CHECK_STREQ(why, "longer than 1024 bytes");
    CHECK(e == NULL);
}

int
main(void)
{
    RUN(test_expr_parse);
    RUN(test_expr_limits);
    return test_report();
}
