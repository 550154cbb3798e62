/* metric.c -- the metrics of a view: their kinds, how they are written, their slots */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "shared/ddsketch.h"
#include "shared/dec.h"
#include "shared/err.h"
#include "shared/hll.h"
#include "shared/metric.h"
#include "shared/moments.h"

#define NUMBERS (1u << FIELD_INT | 1u << FIELD_DECIMAL | 1u << FIELD_FLOAT)
#define SCALARS (NUMBERS | 1u << FIELD_STRING | 1u << FIELD_BOOL)

#define ARG_MAX 128     /* longest field name (pipeline.c's FIELD_NAME_MAX) */

/* By enum metric_kind. */
static const struct {
    const char *name;
    const char *form;       /* as the list of kinds in messages spells it */
    int         slots;
    unsigned    types;      /* 1 << enum field_type it takes */
    const char *takes;      /* those types, for messages */
} kinds[] = {
    {"count", "\"count\"", 1, 0, NULL},
    {"sum", "\"sum(FIELD)\"", 3, NUMBERS, "an int, decimal or float"},
    {"min", "\"min(FIELD)\"", 2, NUMBERS, "an int, decimal or float"},
    {"max", "\"max(FIELD)\"", 2, NUMBERS, "an int, decimal or float"},
    {"avg", "\"avg(FIELD)\"", 3, NUMBERS, "an int, decimal or float"},
    {"stddev", "\"stddev(FIELD)\"", MOMENTS_SLOTS, NUMBERS,
        "an int, decimal or float"},
    {"stddev_pop", "\"stddev_pop(FIELD)\"", MOMENTS_SLOTS, NUMBERS,
        "an int, decimal or float"},
    {"distinct", "\"distinct(FIELD)\"", HLL_SLOTS, SCALARS,
        "a string, int, decimal, float or bool"},
    {"quantile", "\"quantile(FIELD, Q)\"", DDSKETCH_SLOTS, NUMBERS,
        "an int, decimal or float"},
};
#define NKINDS ((int)(sizeof(kinds) / sizeof(kinds[0])))
_Static_assert(sizeof(kinds) / sizeof(kinds[0]) == METRIC_QUANTILE + 1,
    "one entry per enum metric_kind, in its order");

/* By enum field_type, for "\"f\" is a string". */
static const char *const a_type[] = {"a string", "an int", "a decimal",
    "a bool", "a float", "an array"};

const char *
metric_kind_name(enum metric_kind k)
{
    return kinds[k].name;
}

int
metric_slots(enum metric_kind k)
{
    return kinds[k].slots;
}

char *
metric_text(const struct pipeline *p, const struct metric *m, char *buf,
    size_t size)
{
    char q[64];

    if (m->field < 0)
        snprintf(buf, size, "%s", kinds[m->kind].name);
    else if (m->kind == METRIC_QUANTILE)
        snprintf(buf, size, "%s(%s, %s)", kinds[m->kind].name,
            p->fields[m->field].name, dec_format_double(m->q, q, sizeof(q)));
    else
        snprintf(buf, size, "%s(%s)", kinds[m->kind].name,
            p->fields[m->field].name);
    return buf;
}

/* "expected \"count\", ... or \"quantile(FIELD, Q)\", got GOT" */
static int
bad(char *why, const char *got)
{
    size_t n = (size_t)snprintf(why, ERR_LEN, "expected ");

    for (int k = 0; k < NKINDS && n < ERR_LEN; k++)
        n += (size_t)snprintf(why + n, ERR_LEN - n, "%s%s", k == 0 ? "" :
            k == NKINDS - 1 ? " or " : ", ", kinds[k].form);
    if (n < ERR_LEN)
        snprintf(why + n, ERR_LEN - n, ", got %s", got);
    return -1;
}

/* s[0..len) without the spaces at both ends, copied into out (ARG_MAX + 1
 * bytes). Returns 0, or -1 when it is empty or longer than ARG_MAX. */
static int
arg_copy(char *out, const char *s, size_t len)
{
    while (len > 0 && *s == ' ')
        s++, len--;
    while (len > 0 && s[len - 1] == ' ')
        len--;
    if (len == 0 || len > ARG_MAX)
        return -1;
    memcpy(out, s, len);
    out[len] = '\0';
    return 0;
}

/* Q of quantile(FIELD, Q): a plain decimal number (JSON's grammar, no
 * hex, no inf or nan) from 0 to 1. */
static int
quantile_q(const char *text, double *q, char *why)
{
    char *end;

    if (strspn(text, "0123456789.eE+-") != strlen(text))
        goto bad;
    errno = 0;
    *q = strtod(text, &end);
    if (end == text || *end != '\0' || errno != 0 || !isfinite(*q) ||
        *q < 0 || *q > 1)
        goto bad;
    return 0;
bad:
    snprintf(why, ERR_LEN, "quantile takes a number from 0 to 1, got %s",
        text);
    return -1;
}

int
metric_parse(const struct pipeline *p, const char *spec, const char *got,
    struct metric *m, char *why)
{
    char fname[ARG_MAX + 1], qtext[ARG_MAX + 1];
    const char *open, *args, *comma;     /* comma: just after it */
    size_t klen, alen;
    int k;

    m->field = -1;
    m->q = 0;
    if (spec == NULL)
        return bad(why, got);
    if (strcmp(spec, "count") == 0) {
        m->kind = METRIC_COUNT;
        return 0;
    }
    open = strchr(spec, '(');
    alen = strlen(spec);
    if (open == NULL || alen < 2 || spec[alen - 1] != ')')
        return bad(why, got);
    klen = (size_t)(open - spec);
    for (k = METRIC_COUNT + 1; k < NKINDS; k++)
        if (strlen(kinds[k].name) == klen &&
            strncmp(spec, kinds[k].name, klen) == 0)
            break;
    if (k == NKINDS)
        return bad(why, got);
    m->kind = (enum metric_kind)k;
    args = open + 1;
    alen = alen - klen - 2;
    if (m->kind == METRIC_QUANTILE) {
        /* after the last comma: a field name may hold one */
        for (comma = args + alen; comma > args && comma[-1] != ','; comma--)
            continue;
        if (comma == args ||
            arg_copy(fname, args, (size_t)(comma - args) - 1) != 0 ||
            arg_copy(qtext, comma, alen - (size_t)(comma - args)) != 0) {
            snprintf(why, ERR_LEN, "quantile takes a field and a number "
                "from 0 to 1, as in \"quantile(latency, 0.99)\", got %s", got);
            return -1;
        }
        if (quantile_q(qtext, &m->q, why) != 0)
            return -1;
    } else if (arg_copy(fname, args, alen) != 0) {
        return bad(why, got);
    }
    if ((m->field = pipeline_field_index(p, fname)) < 0) {
        snprintf(why, ERR_LEN, "unknown field \"%s\"", fname);
        return -1;
    }
    m->type = p->fields[m->field].type;
    if ((kinds[k].types & 1u << m->type) == 0) {
        snprintf(why, ERR_LEN, "%s takes %s field, \"%s\" is %s",
            kinds[k].name, kinds[k].takes, fname, a_type[m->type]);
        return -1;
    }
    return 0;
}
