/* hll.c -- distinct counting in fixed slots: exact up to 128 values, then HyperLogLog */
#include <assert.h>
#include <math.h>
#include <string.h>

#include "shared/hll.h"

#define HLL_M (1 << HLL_P)                  /* registers */
#define HLL_REGSLOTS (HLL_M / 8)            /* slots holding them */

_Static_assert(HLL_SLOTS == 1 + HLL_EXACT_MAX, "exact layout");
_Static_assert(HLL_SLOTS == 1 + HLL_REGSLOTS, "register layout");

/* The int64 slot with the bits of u (a plain cast is implementation-defined
 * above INT64_MAX). */
static int64_t
slot_of(uint64_t u)
{
    return u <= INT64_MAX ? (int64_t)u : -(int64_t)(UINT64_MAX - u) - 1;
}

uint64_t
hll_hash(const void *data, size_t len)
{
    const unsigned char *p = data;
    uint64_t h = 0xcbf29ce484222325ULL;

    for (size_t i = 0; i < len; i++) {
        h ^= p[i];
        h *= 0x100000001b3ULL;
    }
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdULL;
    h ^= h >> 33;
    h *= 0xc4ceb9fe1a85ec53ULL;
    h ^= h >> 33;
    return h;
}

static unsigned
reg_get(const int64_t *s, int i)
{
    return (unsigned)((uint64_t)s[1 + i / 8] >> (8 * (i % 8)) & 0xff);
}

/* Raise the register of hash in a registers state to its rho. */
static void
reg_add(int64_t *s, uint64_t hash)
{
    int i = (int)(hash >> (64 - HLL_P));
    /* the guard bit caps rho at 64 - HLL_P + 1 when the low bits are 0 */
    uint64_t w = hash << HLL_P | (uint64_t)1 << (HLL_P - 1);
    unsigned rho = (unsigned)__builtin_clzll(w) + 1;
    uint64_t slot = (uint64_t)s[1 + i / 8];
    int shift = 8 * (i % 8);

    if (reg_get(s, i) < rho) {
        slot = (slot & ~((uint64_t)0xff << shift)) | (uint64_t)rho << shift;
        s[1 + i / 8] = slot_of(slot);
    }
}

/* Turn an exact state into the registers of the same hashes. */
static void
to_registers(int64_t *s)
{
    uint64_t h[HLL_EXACT_MAX];
    int n = (int)s[0];

    for (int i = 0; i < n; i++)
        h[i] = (uint64_t)s[1 + i];
    memset(s, 0, HLL_SLOTS * sizeof(*s));
    s[0] = -1;
    for (int i = 0; i < n; i++)
        reg_add(s, h[i]);
}

void
hll_add(int64_t *s, uint64_t hash)
{
    int lo = 0, hi, n;

    if (s[0] < 0) {
        reg_add(s, hash);
        return;
    }
    n = (int)s[0];
    assert(n <= HLL_EXACT_MAX);
    hi = n;
    while (lo < hi) {                   /* first slot holding >= hash */
        int mid = lo + (hi - lo) / 2;
        if ((uint64_t)s[1 + mid] < hash)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo < n && (uint64_t)s[1 + lo] == hash)
        return;
    if (n == HLL_EXACT_MAX) {
        to_registers(s);
        reg_add(s, hash);
        return;
    }
    memmove(s + 2 + lo, s + 1 + lo, (size_t)(n - lo) * sizeof(*s));
    s[1 + lo] = slot_of(hash);
    s[0] = n + 1;
}

void
hll_merge(int64_t *dst, const int64_t *src)
{
    if (src[0] >= 0) {      /* exact: adding its hashes is the union */
        for (int i = 0; i < (int)src[0]; i++)
            hll_add(dst, (uint64_t)src[1 + i]);
        return;
    }
    if (dst[0] >= 0)
        to_registers(dst);
    for (int i = 1; i <= HLL_REGSLOTS; i++) {
        uint64_t a = (uint64_t)dst[i], b = (uint64_t)src[i], r = 0;

        for (int shift = 0; shift < 64; shift += 8) {
            uint64_t ra = a >> shift & 0xff, rb = b >> shift & 0xff;
            r |= (ra > rb ? ra : rb) << shift;
        }
        dst[i] = slot_of(r);
    }
}

/* sigma(x) = x + sum over k >= 1 of x^(2^k) 2^(k-1), for the zero registers */
static double
sigma(double x)
{
    double y = 1, z = x, prev;

    if (x == 1)
        return INFINITY;
    do {
        x *= x;
        prev = z;
        z += x * y;
        y += y;
    } while (z != prev);
    return z;
}

/* tau(x) = (1 - x - sum over k >= 1 of (1 - x^(2^-k))^2 2^-k) / 3, for the
 * registers at their maximum */
static double
tau(double x)
{
    double y = 1, z = 1 - x, prev;

    if (x == 0 || x == 1)
        return 0;
    do {
        x = sqrt(x);
        prev = z;
        y *= 0.5;
        z -= (1 - x) * (1 - x) * y;
    } while (z != prev);
    return z / 3;
}

uint64_t
hll_count(const int64_t *s, int *exact)
{
    enum { Q = 64 - HLL_P };            /* rho is 1 .. Q + 1 */
    const double m = HLL_M;
    int c[Q + 2] = {0};                 /* registers by value */
    double z, e;

    if (exact != NULL)
        *exact = s[0] >= 0;
    if (s[0] >= 0)
        return (uint64_t)s[0];
    for (int i = 0; i < HLL_M; i++) {
        unsigned r = reg_get(s, i);
        c[r <= Q + 1 ? r : Q + 1]++;    /* more only in a corrupt state */
    }
    /* Ertl's improved raw estimator (arXiv:1706.07290) */
    z = m * tau(1 - c[Q + 1] / m);
    for (int k = Q; k >= 1; k--)
        z = 0.5 * (z + c[k]);
    z += m * sigma(c[0] / m);
    e = m * m / (2 * log(2)) / z;
    /* a registers state holds more than HLL_EXACT_MAX hashes */
    if (e < HLL_EXACT_MAX + 1)
        return HLL_EXACT_MAX + 1;
    if (e >= 18446744073709551615.0)
        return UINT64_MAX;
    return (uint64_t)floor(e + 0.5);
}

double
hll_error(void)
{
    return 1.04 / sqrt(HLL_M);
}
