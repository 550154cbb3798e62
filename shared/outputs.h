/* outputs.h -- a view's computed outputs: expressions over merged metrics */
#ifndef SHARED_OUTPUTS_H
#define SHARED_OUTPUTS_H

#include <stdint.h>

#include <cjson/cJSON.h>

#include "shared/buf.h"
#include "shared/expr.h"
#include "shared/pipeline.h"

/*
 * views.NAME.outputs maps a name to an expression (expr.h) over the view's
 * metrics and the outputs before it, evaluated by serving on every merged
 * row it answers with (a total, a series point, a top row, an export line),
 * so an output is always computed from the metrics beside it:
 *
 *     "outputs": {"low": "avg_price - volatility",
 *                 "label": "case(avg_score > 0.6, 'positive', avg_score <
 *                     0.4, 'negative', 'neutral')"}
 *
 *     + - * /             numbers; - also in front of one
 *     == != < <= > >=     two numbers or two strings (byte order); only as
 *                         a condition of case
 *     case(c1, v1, c2, v2, ..., default)
 *                         the value after the first true condition, else
 *                         default; the values all numbers or all strings
 *     12, 0.5, 1e-3       numbers; 'text' or "text": strings
 *     NAME                a metric of the view, or an output before this one
 *
 * Values: a metric's value is what the answer prints for it
 * (agg_metric_value()), null included; arithmetic on null is null, a
 * division by zero is null, a comparison with null is false. Numbers are
 * computed as long double and printed rounded to 6 decimals (printf's
 * "%.6Lf": the binary value, ties to even), trailing zeros and point cut:
 * 2.5, 0.333333, 10, -1.25; -0 prints 0.
 *
 * Checked at load: the syntax, unknown names and functions, case's arity,
 * a name that is also a metric, a comparison where a value goes, a string
 * in arithmetic, a number compared with a string.
 */

#define OUTPUTS_MAX 64      /* outputs of a view */
#define OUTPUTS_AT  72      /* bytes of outputs_load()'s at */

/* OUTPUTS_BOOL: a comparison's type, found at load; never a value */
enum outputs_type { OUTPUTS_NULL, OUTPUTS_NUM, OUTPUTS_STR, OUTPUTS_BOOL };

struct output {
    char              *name;
    char              *src;     /* the expression as written */
    struct expr       *expr;    /* checked; see outputs.c for ref */
    enum outputs_type  type;    /* OUTPUTS_NUM or OUTPUTS_STR */
    long double       *nums;    /* the number literals, by ref */
    int                nnums;
};

/* One evaluated output. */
struct outputs_value {
    enum outputs_type  type;    /* OUTPUTS_NULL: no value */
    long double        num;
    const char        *str;     /* borrowed from the view: valid while the
                                   pipeline lives */
};

/*
 * Compile views.NAME.outputs, the object j, into v->outputs (v's metrics
 * are loaded). Returns 0, or -1 with the output the error is about in at
 * (OUTPUTS_AT bytes; its name, cut) and the reason in why (ERR_LEN):
 *     unknown metric "avg_prce"
 * Whatever was compiled stays in v for outputs_free().
 */
int outputs_load(struct view *v, const cJSON *j, char *at, char *why);

/* Free the n outputs of o and o. */
void outputs_free(struct output *o, int n);

/*
 * Evaluate every output of v on the merged row, in order, into vals
 * (v->noutputs entries).
 */
void outputs_eval(const struct pipeline *p, const struct view *v,
    const int64_t *row, struct outputs_value *vals);

/*
 * Append x as text: a number by the rule above; a string as JSON (json
 * set: "text", escaped) or as its bytes; null as null (json) or nothing.
 */
void outputs_put_value(struct buf *out, const struct outputs_value *x,
    int json);

/* Append ,"NAME":VALUE for each output of v on row (nothing without). */
void outputs_put_json(struct buf *out, const struct pipeline *p,
    const struct view *v, const int64_t *row);

/*
 * Append the "metrics" object of an answer: {"METRIC":value,...} for every
 * metric of v on row (agg_metric_json()), then its outputs. The one form
 * serving's answers and lambda-batch's diffs print.
 */
void outputs_put_metrics(struct buf *out, const struct pipeline *p,
    const struct view *v, const int64_t *row);

/* The index of v's output named name, or -1. */
int outputs_find(const struct view *v, const char *name);

#endif
