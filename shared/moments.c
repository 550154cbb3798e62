/* moments.c -- stddev states: count, exact sum and exact sum of squares */
#include <assert.h>
#include <stdint.h>
#include <string.h>

#include "shared/dec.h"
#include "shared/moments.h"

__extension__ typedef unsigned __int128 u128;

/*
 * The answer is decided in integers of LIMBS 64-bit limbs. The widest
 * number is V * D in moments_cmp(): V = n sq - sum^2 < 2^63 * 2^192 and
 * D <= n^2 < 2^126, so below 2^381.
 */
#define LIMBS 6

/* An unsigned integer, least significant limb first. */
struct big {
    uint64_t w[LIMBS];
};

/* Two slots as one unsigned 128-bit number, low slot first. */
static u128
pair_get(const int64_t *w)
{
    return (u128)(uint64_t)w[0] | (u128)(uint64_t)w[1] << 64;
}

static void
pair_put(int64_t *w, u128 v)
{
    w[0] = (int64_t)(uint64_t)v;
    w[1] = (int64_t)(uint64_t)(v >> 64);
}

/* The state of the one value v. */
static void
single(int64_t *t, int64_t v)
{
    u128 m = v < 0 ? (u128)0 - (u128)(dec_i128)v : (u128)v;

    t[0] = 1;
    pair_put(t + 1, (u128)(dec_i128)v);
    pair_put(t + 3, m * m);     /* |v| <= 2^63: the square fits 128 bits */
    t[5] = 0;
}

/* out = a (+) b. Returns 0, or -1 on overflow (out untouched). */
static int
combine(const int64_t *a, const int64_t *b, int64_t *out)
{
    dec_i128 sum;
    u128 la = pair_get(a + 3), lo = la + pair_get(b + 3);
    uint64_t hi;
    int64_t n;

    if (__builtin_add_overflow(a[0], b[0], &n) ||
        __builtin_add_overflow((dec_i128)pair_get(a + 1),
        (dec_i128)pair_get(b + 1), &sum) ||
        __builtin_add_overflow((uint64_t)a[5], (uint64_t)b[5], &hi) ||
        __builtin_add_overflow(hi, (uint64_t)(lo < la), &hi))
        return -1;
    out[0] = n;
    pair_put(out + 1, (u128)sum);
    pair_put(out + 3, lo);
    out[5] = (int64_t)hi;
    return 0;
}

int
moments_add(int64_t *s, int64_t v)
{
    int64_t t[MOMENTS_SLOTS];

    single(t, v);
    return moments_merge(s, t);
}

int
moments_merge(int64_t *dst, const int64_t *src)
{
    int64_t r[MOMENTS_SLOTS];

    if (combine(dst, src, r) != 0)
        return -1;
    memcpy(dst, r, sizeof(r));
    return 0;
}

int
moments_fits(const int64_t *s, const int64_t *src, int64_t v)
{
    int64_t t[MOMENTS_SLOTS], r[MOMENTS_SLOTS];

    if (src == NULL) {
        single(t, v);
        src = t;
    }
    return combine(s, src, r) == 0;
}

int
moments_defined(const int64_t *s, int pop)
{
    return s[0] >= (pop ? 1 : 2);
}

/* ---- integers of LIMBS limbs --------------------------------------------- */

static void
big_set(struct big *r, u128 v)
{
    memset(r, 0, sizeof(*r));
    r->w[0] = (uint64_t)v;
    r->w[1] = (uint64_t)(v >> 64);
}

/* r = a * b (r may be a or b); every product below fits LIMBS limbs. */
static void
big_mul(struct big *r, const struct big *a, const struct big *b)
{
    struct big t;

    memset(&t, 0, sizeof(t));
    for (int i = 0; i < LIMBS; i++) {
        u128 carry = 0;

        if (a->w[i] == 0)
            continue;
        for (int j = 0; i + j < LIMBS; j++) {
            u128 x = (u128)a->w[i] * b->w[j] + t.w[i + j] + carry;

            t.w[i + j] = (uint64_t)x;
            carry = x >> 64;
        }
        assert(carry == 0);
    }
    *r = t;
}

static int
big_cmp(const struct big *a, const struct big *b)
{
    for (int i = LIMBS - 1; i >= 0; i--)
        if (a->w[i] != b->w[i])
            return a->w[i] < b->w[i] ? -1 : 1;
    return 0;
}

/* r = a - b, a >= b. */
static void
big_sub(struct big *r, const struct big *a, const struct big *b)
{
    uint64_t borrow = 0;

    for (int i = 0; i < LIMBS; i++) {
        uint64_t x = a->w[i] - b->w[i], y = x - borrow;

        borrow = (a->w[i] < b->w[i]) | (x < borrow);
        r->w[i] = y;
    }
}

/*
 * V = n sq - sum^2 (n^2 times the population variance, so >= 0 for every
 * state made of values; 0 for any other) and the divisor D: n (n - 1), or
 * n^2 for pop. variance = V / D in scaled units squared.
 */
static void
spread(const int64_t *s, int pop, struct big *v, struct big *d)
{
    dec_i128 sum = (dec_i128)pair_get(s + 1);
    u128 m = sum < 0 ? (u128)0 - (u128)sum : (u128)sum;
    struct big sq, sq2;

    big_set(v, (u128)s[0]);
    big_set(&sq, pair_get(s + 3));
    sq.w[2] = (uint64_t)s[5];
    big_mul(v, v, &sq);
    big_set(&sq2, m);
    big_mul(&sq2, &sq2, &sq2);
    if (big_cmp(v, &sq2) < 0)
        memset(v, 0, sizeof(*v));
    else
        big_sub(v, v, &sq2);
    big_set(d, (u128)s[0] * (u128)(pop ? s[0] : s[0] - 1));
}

/* The largest k with k^2 d <= x: k < 2^72 since stddev < 2^64 and x
 * carries the factor 10^4 < 2^14. Bit by bit, 72 rounds. */
static u128
isqrt_ratio(const struct big *x, const struct big *d)
{
    struct big c, t;
    u128 k = 0;

    for (int bit = 71; bit >= 0; bit--) {
        u128 cand = k | (u128)1 << bit;

        big_set(&c, cand);
        big_mul(&t, &c, &c);
        big_mul(&t, &t, d);
        if (big_cmp(&t, x) <= 0)
            k = cand;
    }
    return k;
}

/*
 * stddev * 10^(scale + 2) = sqrt(V / D) * 100 in the scaled units, so the
 * printed digits are R = round(sqrt(V 10^4 / D)): k = floor of it, and R =
 * k + 1 when sqrt(V 10^4 / D) >= k + 1/2, i.e. 4 V 10^4 >= (2k + 1)^2 D
 * (half away from zero, as avg rounds).
 */
char *
moments_format(const int64_t *s, int pop, int scale, char *buf, size_t size)
{
    struct big v, d, x, c;
    u128 k;

    if (!moments_defined(s, pop))
        return NULL;
    spread(s, pop, &v, &d);
    big_set(&c, 10000);
    big_mul(&x, &v, &c);
    k = isqrt_ratio(&x, &d);
    big_set(&c, 4);
    big_mul(&x, &x, &c);
    big_set(&c, 2 * k + 1);
    big_mul(&c, &c, &c);
    big_mul(&c, &c, &d);
    if (big_cmp(&x, &c) >= 0)
        k++;
    return dec_format_ratio((dec_i128)k, 100, scale, 2, buf, size);
}

int
moments_cmp(const int64_t *a, const int64_t *b, int pop)
{
    struct big va, da, vb, db;
    int ha = moments_defined(a, pop), hb = moments_defined(b, pop);

    if (!ha || !hb)
        return ha - hb;
    spread(a, pop, &va, &da);
    spread(b, pop, &vb, &db);
    big_mul(&va, &va, &db);     /* Va / Da against Vb / Db */
    big_mul(&vb, &vb, &da);
    return big_cmp(&va, &vb);
}
