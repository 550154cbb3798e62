/* expr.h -- the pipeline's small expression language: parse text into a tree */
#ifndef SHARED_EXPR_H
#define SHARED_EXPR_H

/*
 * One grammar for every expression of a pipeline file (event.derive now,
 * view outputs later), so they read alike:
 *
 *     expr    = compare
 *     compare = sum [("==" | "!=" | "<" | "<=" | ">" | ">=") sum]
 *     sum     = product {("+" | "-") product}
 *     product = unary {("*" | "/") unary}
 *     unary   = "-" unary | postfix
 *     postfix = primary {"[" expr "]"}
 *     primary = NUMBER | STRING | NAME | NAME "(" [expr {"," expr}] ")"
 *             | "(" expr ")"
 *
 * NUMBER is JSON's (12, 0.5, 1e-3). STRING is '...' or "..." with the
 * escapes \\ \' \" \n \t \r. NAME is a letter or "_", then letters, digits,
 * "_" or "." (a dotted field name), or any text in backquotes (`my-field`).
 * Spaces between tokens are free. The parser knows no functions and no
 * fields: its user checks names and types (derive.c).
 */

#define EXPR_MAX_TEXT 1024  /* longest expression */
#define EXPR_MAX_DEPTH 32   /* deepest nesting */

enum expr_kind {
    EXPR_NUM,       /* text: the number as written */
    EXPR_STR,       /* text: the value, unescaped */
    EXPR_NAME,      /* text: the name */
    EXPR_CALL,      /* text: the function; args */
    EXPR_INDEX,     /* args[0][args[1]] */
    EXPR_NEG,       /* -args[0] */
    EXPR_BINARY     /* args[0] op args[1] */
};

enum expr_op {
    EXPR_ADD, EXPR_SUB, EXPR_MUL, EXPR_DIV,
    EXPR_EQ, EXPR_NE, EXPR_LT, EXPR_LE, EXPR_GT, EXPR_GE
};

struct expr {
    enum expr_kind   kind;
    enum expr_op     op;        /* EXPR_BINARY */
    char            *text;
    struct expr    **args;
    int              nargs;
    int              col;       /* 1-based column in the source, for errors */
    int              ref;       /* the user's: derive.c's field index */
};

/*
 * Parse src into a new tree (free with expr_free()). Returns 0, or -1 with
 * the reason and its column in why ("expected \")\" at column 11"), and
 * *out untouched.
 */
int expr_parse(struct expr **out, const char *src, char *why);

/* Free e and its subtrees. NULL is a no-op. */
void expr_free(struct expr *e);

/*
 * Write the reason an expression is refused into why (ERR_LEN bytes) and
 * return -1: the checkers of the users of expressions fail with it.
 */
int expr_refuse(char *why, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* The operator as written ("+", "<="). */
const char *expr_op_name(enum expr_op op);

#endif
