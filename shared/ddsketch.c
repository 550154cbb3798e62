/* ddsketch.c -- quantiles with a relative accuracy in fixed slots (DDSketch) */
#include <assert.h>
#include <float.h>
#include <math.h>

#include "shared/ddsketch.h"

#if FLT_EVAL_METHOD != 0
#error "ddsketch.c: bin bounds need double arithmetic without excess precision"
#endif

#define NB DDSKETCH_BINS
#define GAMMA ((1 + DDSKETCH_ALPHA) / (1 - DDSKETCH_ALPHA))
#define MAX_INDEX 1092                  /* the index of 2^63 */

_Static_assert(2 * NB % 4 == 0, "ddsketch_count() sums the bins by fours");

/* A store: its top index and its NB bins, in place in a state. */
struct store {
    int64_t *top;
    int64_t *bin;                       /* bin[k]: index *top - (NB-1) + k */
};

static struct store
store_of(int64_t *s, int neg)
{
    struct store st = {s + 1 + neg, s + 3 + neg * NB};
    return st;
}

/* gamma^i by binary powering: IEEE multiplications only, so every machine
 * computes the same bounds (libm's pow() and log() may differ in the last
 * bit). Within 1e-13 of (51/49)^i, relative, for i <= MAX_INDEX. */
static double
pow_gamma(int i)
{
    double r = 1, g = GAMMA;

    assert(i >= 0 && i <= MAX_INDEX);
    for (; i > 0; i >>= 1) {
        if (i & 1)
            r *= g;
        g *= g;
    }
    return r;
}

/* x <= gamma^i, exactly: x is an integer and gamma^i < 2^64 */
static int
below(uint64_t x, int i)
{
    return x <= (uint64_t)pow_gamma(i);
}

/* The index of magnitude x >= 1: the least i with x <= gamma^i. log()
 * guesses; below() decides, so the result never depends on libm. */
static int
index_of(uint64_t x)
{
    int i = (int)ceil(log((double)x) / log(GAMMA));

    i = i < 0 ? 0 : i > MAX_INDEX ? MAX_INDEX : i;
    while (i > 0 && below(x, i - 1))
        i--;
    while (!below(x, i))
        i++;
    return i;
}

/* Raise st's top to top (>= the current one): bins now at or below the new
 * window's lowest index collapse into bin 0. */
static void
store_raise(struct store st, int64_t top)
{
    int64_t d = top - *st.top, low = 0;

    if (d <= 0)
        return;
    for (int k = 0; k < NB; k++) {
        int64_t c = st.bin[k];

        st.bin[k] = 0;
        if (k <= d)
            low += c;
        else
            st.bin[k - d] = c;          /* k - d >= 1, already moved */
    }
    st.bin[0] = low;
    *st.top = top;
}

/* Count n values of index i into st. */
static void
store_put(struct store st, int64_t i, int64_t n)
{
    int64_t k;

    store_raise(st, i);
    k = i - (*st.top - (NB - 1));
    st.bin[k < 0 ? 0 : k] += n;
}

int64_t
ddsketch_count(const int64_t *s)
{
    uint64_t n[4] = {(uint64_t)s[0], 0, 0, 0};

    /* four running sums, which compilers vectorize: each add sums them */
    for (int i = 3; i < DDSKETCH_SLOTS; i += 4)
        for (int j = 0; j < 4; j++)
            n[j] += (uint64_t)s[i + j];
    return (int64_t)(n[0] + n[1] + n[2] + n[3]);
}

int
ddsketch_add(int64_t *s, int64_t v)
{
    if (ddsketch_count(s) == INT64_MAX)
        return -1;
    ddsketch_put(s, v);
    return 0;
}

void
ddsketch_put(int64_t *s, int64_t v)
{
    uint64_t x;

    if (v == 0) {
        s[0]++;
        return;
    }
    x = v < 0 ? -(uint64_t)v : (uint64_t)v;
    store_put(store_of(s, v < 0), index_of(x), 1);
}

int
ddsketch_merge(int64_t *dst, const int64_t *src)
{
    if (ddsketch_count(src) > INT64_MAX - ddsketch_count(dst))
        return -1;
    dst[0] += src[0];
    for (int neg = 0; neg <= 1; neg++) {
        struct store d = store_of(dst, neg);
        int64_t top = src[1 + neg];
        const int64_t *bin = src + 3 + neg * NB;

        store_raise(d, top);
        for (int k = 0; k < NB; k++)    /* src's bin 0 may collapse more */
            if (bin[k] != 0)
                store_put(d, top - (NB - 1) + k, bin[k]);
    }
    return 0;
}

/* The value reported for index i: within alpha of all of (gamma^(i-1),
 * gamma^i]. */
static double
value_of(int64_t i)
{
    return 2 * pow_gamma((int)i) / (GAMMA + 1);
}

int
ddsketch_quantile(const int64_t *s, double q, double *out)
{
    int64_t n = ddsketch_count(s), seen, rank;
    double r;

    if (n == 0 || !(q >= 0 && q <= 1))
        return -1;
    r = floor(q * (double)(n - 1));
    rank = r >= (double)(n - 1) ? n - 1 : (int64_t)r;
    seen = 0;
    for (int k = NB - 1; k >= 0; k--) {     /* most negative first */
        seen += s[3 + NB + k];
        if (seen > rank) {
            *out = -value_of(s[2] - (NB - 1) + k);
            return 0;
        }
    }
    seen += s[0];
    if (seen > rank) {
        *out = 0;
        return 0;
    }
    for (int k = 0; k < NB; k++) {
        seen += s[3 + k];
        if (seen > rank) {
            *out = value_of(s[1] - (NB - 1) + k);
            return 0;
        }
    }
    assert(!"ddsketch_quantile: rank beyond the count");
    return -1;
}
