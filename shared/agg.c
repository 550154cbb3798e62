/* agg.c -- metric states: one row per (view, group, bucket), one merge for every layer */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "shared/agg.h"
#include "shared/dec.h"

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
 * Both agg_row_add() and agg_row_merge() check every sum first and write
 * second, so a row is never left half updated by an overflow.
 */
int
agg_row_add(const struct view *v, int64_t *row, const struct event *ev)
{
    const struct metric *m;
    dec_i128 s;
    int i;

    for (i = 0, m = v->metrics; i < v->nmetrics; i++, m++) {
        if ((m->kind == METRIC_SUM || m->kind == METRIC_AVG) &&
            ev->vals[m->field].present &&
            __builtin_add_overflow(sum_get(row + m->slot),
            (dec_i128)ev->vals[m->field].num, &s))
            return -1;
    }
    for (i = 0, m = v->metrics; i < v->nmetrics; i++, m++) {
        int64_t *st = row + m->slot, x;

        if (m->kind == METRIC_COUNT) {
            st[0]++;
            continue;
        }
        if (!ev->vals[m->field].present)
            continue;
        x = ev->vals[m->field].num;
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
        case METRIC_COUNT:
            break;
        }
        st[0]++;
    }
    return 0;
}

int
agg_row_merge(const struct view *v, int64_t *dst, const int64_t *src)
{
    const struct metric *m;
    dec_i128 s;
    int64_t n;
    int i;

    for (i = 0, m = v->metrics; i < v->nmetrics; i++, m++) {
        const int64_t *a = dst + m->slot, *b = src + m->slot;

        if (__builtin_add_overflow(a[0], b[0], &n))
            return -1;
        if ((m->kind == METRIC_SUM || m->kind == METRIC_AVG) &&
            __builtin_add_overflow(sum_get(a), sum_get(b), &s))
            return -1;
    }
    for (i = 0, m = v->metrics; i < v->nmetrics; i++, m++) {
        int64_t *a = dst + m->slot;
        const int64_t *b = src + m->slot;

        if (b[0] == 0)
            continue;
        switch (m->kind) {
        case METRIC_COUNT:
            break;
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

    switch (mt->kind) {
    case METRIC_COUNT:
        buf_printf(out, "%lld", (long long)st[0]);
        return;
    case METRIC_SUM:
        buf_puts(out, dec_format(sum_get(st), scale, num, sizeof(num)));
        return;
    case METRIC_MIN:
    case METRIC_MAX:
        buf_puts(out, st[0] == 0 ? "null" :
            dec_format(st[1], scale, num, sizeof(num)));
        return;
    case METRIC_AVG:
        buf_puts(out, st[0] == 0 ? "null" :
            dec_format_ratio(sum_get(st), st[0], scale, 2, num, sizeof(num)));
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

    if (mt->kind == METRIC_COUNT)
        return (x[0] > y[0]) - (x[0] < y[0]);
    if (mt->kind == METRIC_SUM)
        return cmp_i128(sum_get(x), sum_get(y));
    if (x[0] == 0 || y[0] == 0)         /* null sorts below every value */
        return (x[0] != 0) - (y[0] != 0);
    if (mt->kind == METRIC_AVG)
        return cmp_ratio(sum_get(x), x[0], sum_get(y), y[0]);
    return (x[1] > y[1]) - (x[1] < y[1]);
}
