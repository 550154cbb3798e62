/* agg.c -- metric states: one row per (view, group, bucket), one merge for every layer */
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "shared/agg.h"
#include "shared/ddsketch.h"
#include "shared/dec.h"
#include "shared/hll.h"
#include "shared/moments.h"

__extension__ typedef unsigned __int128 agg_u128;

static dec_i128
sum_get(const int64_t *s)
{
    return (dec_i128)((agg_u128)(uint64_t)s[1] |
        (agg_u128)(uint64_t)s[2] << 64);
}

static void
sum_set(int64_t *s, dec_i128 v)
{
    s[1] = (int64_t)(uint64_t)(agg_u128)v;
    s[2] = (int64_t)(uint64_t)((agg_u128)v >> 64);
}

void
agg_row_init(const struct view *v, int64_t *row)
{
    memset(row, 0, (size_t)v->nslots * sizeof(*row));
}

/*
 * The hash distinct keeps for a value of a field of type t: a type tag, then
 * the string's bytes or the value's scaled integer (little-endian), so equal
 * values hash alike in every layer and strings never collide with numbers
 * by construction. Part of the stored states: never change it.
 */
static uint64_t
value_hash(enum field_type t, const struct event_value *val)
{
    unsigned char b[9];
    uint64_t u = (uint64_t)val->num;
    struct buf s;
    uint64_t h;

    if (t == FIELD_STRING) {
        if (val->len < 256) {
            unsigned char small[257];

            small[0] = 'S';
            memcpy(small + 1, val->str, val->len);
            return hll_hash(small, val->len + 1);
        }
        buf_init(&s);
        buf_putc(&s, 'S');
        buf_append(&s, val->str, val->len);
        h = hll_hash(s.data, s.len);
        buf_reset(&s);
        return h;
    }
    b[0] = t == FIELD_BOOL ? 'B' : 'N';
    for (int i = 1; i < 9; i++, u >>= 8)
        b[i] = (unsigned char)(u & 0xff);
    return hll_hash(b, 9);
}

int
agg_view_reads_text(const struct view *v)
{
    for (int i = 0; i < v->nmetrics; i++)
        if (v->metrics[i].kind == METRIC_DISTINCT &&
            v->metrics[i].type == FIELD_STRING)
            return 1;
    return 0;
}

/*
 * Both agg_row_add() and agg_row_merge() check every sum first and write
 * second, so a row is never left half updated by an overflow.
 */
int
agg_row_add(const struct view *v, int64_t *row, const struct event *ev)
{
    const struct metric *m, *end = v->metrics + v->nmetrics;
    const struct event_value *vals = ev->vals;
    dec_i128 s;

    /* count, min and max cannot fail: only the others are checked */
    for (m = v->metrics; m < end; m++) {
        const int64_t *st = row + m->slot;

        switch (m->kind) {
        case METRIC_SUM:
        case METRIC_AVG:
            if (vals[m->field].present &&
                __builtin_add_overflow(sum_get(st),
                (dec_i128)vals[m->field].num, &s))
                return -1;
            break;
        case METRIC_STDDEV:
        case METRIC_STDDEV_POP:
            if (vals[m->field].present &&
                !moments_fits(st, NULL, vals[m->field].num))
                return -1;
            break;
        case METRIC_QUANTILE:
            if (vals[m->field].present && ddsketch_count(st) == INT64_MAX)
                return -1;
            break;
        default:
            break;
        }
    }
    for (m = v->metrics; m < end; m++) {
        int64_t *st = row + m->slot, x;

        if (m->kind == METRIC_COUNT) {
            st[0]++;
            continue;
        }
        if (!vals[m->field].present)
            continue;
        x = vals[m->field].num;
        switch (m->kind) {
        case METRIC_SUM:
        case METRIC_AVG:
            sum_set(st, sum_get(st) + x);
            break;
        case METRIC_MIN:
            if (st[0] == 0 || x < st[1])
                st[1] = x;
            break;
        case METRIC_MAX:
            if (st[0] == 0 || x > st[1])
                st[1] = x;
            break;
        case METRIC_STDDEV:
        case METRIC_STDDEV_POP:
            (void)moments_add(st, x);       /* checked above */
            continue;
        case METRIC_DISTINCT:
            hll_add(st, value_hash(m->type, &vals[m->field]));
            continue;
        case METRIC_QUANTILE:
            ddsketch_put(st, x);            /* checked above */
            continue;
        case METRIC_COUNT:
            break;
        }
        st[0]++;
    }
    return 0;
}

/* Nonzero when metric m's states a and b merge without overflow. */
static int
merge_fits(const struct metric *m, const int64_t *a, const int64_t *b)
{
    dec_i128 s;
    int64_t n;

    switch (m->kind) {
    case METRIC_STDDEV:
    case METRIC_STDDEV_POP:
        return moments_fits(a, b, 0);
    case METRIC_DISTINCT:
        return 1;
    case METRIC_QUANTILE:
        return !__builtin_add_overflow(ddsketch_count(a), ddsketch_count(b),
            &n);
    case METRIC_SUM:
    case METRIC_AVG:
        if (__builtin_add_overflow(sum_get(a), sum_get(b), &s))
            return 0;
        /* FALLTHROUGH */
    case METRIC_COUNT:
    case METRIC_MIN:
    case METRIC_MAX:
        break;
    }
    return !__builtin_add_overflow(a[0], b[0], &n);
}

int
agg_row_merge(const struct view *v, int64_t *dst, const int64_t *src)
{
    const struct metric *m;
    int i;

    for (i = 0, m = v->metrics; i < v->nmetrics; i++, m++)
        if (!merge_fits(m, dst + m->slot, src + m->slot))
            return -1;
    for (i = 0, m = v->metrics; i < v->nmetrics; i++, m++) {
        int64_t *a = dst + m->slot;
        const int64_t *b = src + m->slot;

        switch (m->kind) {
        case METRIC_STDDEV:
        case METRIC_STDDEV_POP:
            (void)moments_merge(a, b);      /* checked above */
            continue;
        case METRIC_DISTINCT:
            hll_merge(a, b);
            continue;
        case METRIC_QUANTILE:
            (void)ddsketch_merge(a, b);     /* checked above */
            continue;
        default:
            break;
        }
        if (b[0] == 0)
            continue;
        switch (m->kind) {
        case METRIC_SUM:
        case METRIC_AVG:
            sum_set(a, sum_get(a) + sum_get(b));
            break;
        case METRIC_MIN:
            if (a[0] == 0 || b[1] < a[1])
                a[1] = b[1];
            break;
        case METRIC_MAX:
            if (a[0] == 0 || b[1] > a[1])
                a[1] = b[1];
            break;
        default:
            break;
        }
        a[0] += b[0];
    }
    return 0;
}

size_t
agg_row_size(const struct view *v)
{
    return (size_t)v->nslots * 8;
}

void
agg_row_encode(const struct view *v, const int64_t *row, void *out)
{
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    memcpy(out, row, agg_row_size(v));
#else
    unsigned char *p = out;

    for (int i = 0; i < v->nslots; i++) {
        uint64_t u = (uint64_t)row[i];
        for (int j = 0; j < 8; j++, u >>= 8)
            *p++ = (unsigned char)(u & 0xff);
    }
#endif
}

void
agg_row_decode(const struct view *v, const void *in, int64_t *row)
{
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    memcpy(row, in, agg_row_size(v));
#else
    const unsigned char *p = in;

    for (int i = 0; i < v->nslots; i++) {
        uint64_t u = 0;
        for (int j = 7; j >= 0; j--)
            u = u << 8 | p[i * 8 + j];
        row[i] = (int64_t)u;
    }
#endif
}

void
agg_metric_json(const struct pipeline *p, const struct view *v, int m,
    const int64_t *row, struct buf *out)
{
    const struct metric *mt = &v->metrics[m];
    const int64_t *st = row + mt->slot;
    int scale = mt->field >= 0 ? p->fields[mt->field].scale : 0;
    char num[DEC_BUFSZ];
    const char *text;
    double q;

    switch (mt->kind) {
    case METRIC_COUNT:
        buf_put_i64(out, st[0]);
        return;
    case METRIC_SUM:
        buf_advance(out, dec_format_end(sum_get(st), scale,
            buf_space(out, DEC_BUFSZ), DEC_BUFSZ));
        return;
    case METRIC_MIN:
    case METRIC_MAX:
        if (st[0] == 0)
            buf_puts(out, "null");
        else
            buf_advance(out, dec_format_end(st[1], scale,
                buf_space(out, DEC_BUFSZ), DEC_BUFSZ));
        return;
    case METRIC_AVG:
        if (st[0] == 0)
            buf_puts(out, "null");
        else
            buf_advance(out, dec_format_ratio_end(sum_get(st), st[0], scale,
                2, buf_space(out, DEC_BUFSZ), DEC_BUFSZ));
        return;
    case METRIC_STDDEV:
    case METRIC_STDDEV_POP:
        text = moments_format(st, mt->kind == METRIC_STDDEV_POP, scale, num,
            sizeof(num));
        buf_puts(out, text != NULL ? text : "null");
        return;
    case METRIC_DISTINCT:
        buf_put_u64(out, hll_count(st, NULL));
        return;
    case METRIC_QUANTILE:
        /* q * 100 is exact in a long double (53 + 7 bits): one rounding */
        buf_puts(out, ddsketch_quantile(st, mt->q, &q) != 0 ? "null" :
            dec_format_ratio((dec_i128)roundl((long double)q * 100), 100,
            scale, 2, num, sizeof(num)));
        return;
    }
}

int
agg_metric_value(const struct pipeline *p, const struct view *v, int m,
    const int64_t *row, long double *out)
{
    struct buf b;
    char *end;
    int rc = -1;

    buf_init(&b);
    agg_metric_json(p, v, m, row, &b);
    if (b.data != NULL && strcmp(b.data, "null") != 0) {
        errno = 0;
        *out = strtold(b.data, &end);
        if (end != b.data && *end == '\0' && errno == 0)
            rc = 0;
    }
    buf_reset(&b);
    return rc;
}

int
agg_metric_approximate(const struct view *v, int m, const int64_t *row,
    double *rel_err)
{
    const struct metric *mt = &v->metrics[m];
    int exact = 1;

    if (mt->kind == METRIC_QUANTILE) {
        *rel_err = DDSKETCH_ALPHA;
        return 1;
    }
    if (mt->kind != METRIC_DISTINCT)
        return 0;
    (void)hll_count(row + mt->slot, &exact);
    if (exact)
        return 0;
    *rel_err = hll_error();
    return 1;
}

static int
cmp_i128(dec_i128 a, dec_i128 b)
{
    return (a > b) - (a < b);
}

/*
 * Exact comparison of sa/na and sb/nb (na, nb > 0) without the 191-bit
 * products sa*nb and sb*na: floor-divide each, sa = qa*na + ra with
 * 0 <= ra < na. Different quotients decide; equal ones leave ra/na against
 * rb/nb, and ra*nb, rb*na are below 2^126, so they fit.
 */
static int
cmp_ratio(dec_i128 sa, int64_t na, dec_i128 sb, int64_t nb)
{
    dec_i128 qa = sa / na, ra = sa % na, qb = sb / nb, rb = sb % nb;

    if (ra < 0) {
        ra += na;
        qa--;
    }
    if (rb < 0) {
        rb += nb;
        qb--;
    }
    if (qa != qb)
        return cmp_i128(qa, qb);
    return cmp_i128(ra * nb, rb * na);
}

int
agg_metric_cmp(const struct view *v, int m, const int64_t *a,
    const int64_t *b)
{
    const struct metric *mt = &v->metrics[m];
    const int64_t *x = a + mt->slot, *y = b + mt->slot;

    uint64_t cx, cy;
    double qx, qy;
    int hx, hy;

    switch (mt->kind) {
    case METRIC_COUNT:
        return (x[0] > y[0]) - (x[0] < y[0]);
    case METRIC_SUM:
        return cmp_i128(sum_get(x), sum_get(y));
    case METRIC_STDDEV:
    case METRIC_STDDEV_POP:
        return moments_cmp(x, y, mt->kind == METRIC_STDDEV_POP);
    case METRIC_DISTINCT:
        cx = hll_count(x, NULL);
        cy = hll_count(y, NULL);
        return (cx > cy) - (cx < cy);
    case METRIC_QUANTILE:
        hx = ddsketch_quantile(x, mt->q, &qx) == 0;
        hy = ddsketch_quantile(y, mt->q, &qy) == 0;
        if (!hx || !hy)
            return hx - hy;
        return (qx > qy) - (qx < qy);
    default:
        break;
    }
    if (x[0] == 0 || y[0] == 0)         /* null sorts below every value */
        return (x[0] != 0) - (y[0] != 0);
    if (mt->kind == METRIC_AVG)
        return cmp_ratio(sum_get(x), x[0], sum_get(y), y[0]);
    return (x[1] > y[1]) - (x[1] < y[1]);
}
