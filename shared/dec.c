/* dec.c -- exact decimals: scaled integers, checked arithmetic, exact printing */
#include <assert.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "shared/dec.h"

__extension__ typedef unsigned __int128 dec_u128;

static const double pow10d[DEC_MAX_SCALE + 1] = {
    1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9,
};

static const int64_t pow10i[19] = {
    1LL, 10LL, 100LL, 1000LL, 10000LL, 100000LL, 1000000LL, 10000000LL,
    100000000LL, 1000000000LL, 10000000000LL, 100000000000LL,
    1000000000000LL, 10000000000000LL, 100000000000000LL,
    1000000000000000LL, 10000000000000000LL, 100000000000000000LL,
    1000000000000000000LL,
};

/*
 * Why this is exact: a decimal v = r / 10^s with |r| <= DEC_MAX_ABS < 2^50
 * reaches us as d, the double nearest v (relative error <= 2^-53). d * 10^s
 * is then within 1e15 * 2^-52 < 0.25 of r, so rounding recovers r. Both r
 * and 10^s (s <= 9) are exact doubles and IEEE division rounds correctly, so
 * r / 10^s == d exactly when d is the double of the decimal r / 10^s; any d
 * that is not (12.345 at scale 2) fails the check and is DEC_SCALE.
 */
enum dec_status
dec_from_double(double d, int scale, int64_t *out)
{
    double x, p;
    long long r;

    assert(scale >= 0 && scale <= DEC_MAX_SCALE);
    p = pow10d[scale];
    x = d * p;
    if (!(fabs(x) < (double)DEC_MAX_ABS + 0.5))    /* also NaN, inf */
        return DEC_RANGE;
    r = llround(x);
    if (r > DEC_MAX_ABS || r < -DEC_MAX_ABS)
        return DEC_RANGE;
    if ((double)r / p != d)
        return DEC_SCALE;
    *out = r;       /* -0.0 rounds to 0 */
    return DEC_OK;
}

/*
 * Text is [-]digits[.digits][(e|E)[+|-]digits]. The significant digits are
 * gathered without their trailing zeros into m, so m ends in a nonzero digit
 * and value * 10^scale == m * 10^p: p < 0 means digits below the scale
 * (DEC_SCALE); otherwise m * 10^p must have at most DEC_MAX_DIGITS digits.
 */
enum dec_status
dec_parse(const char *s, int scale, int64_t *out)
{
    const char *q = s;
    int neg = 0, nd = 0, zeros = 0, frac = 0, any = 0;
    long exp10 = 0, p;
    int64_t m = 0;

    assert(scale >= 0 && scale <= DEC_MAX_SCALE);
    if (*q == '-') {
        neg = 1;
        q++;
    }
    for (int in_frac = 0;; q++) {
        if (*q == '.' && !in_frac && any) {
            in_frac = 1;
            if (q[1] < '0' || q[1] > '9')
                return DEC_RANGE;
            continue;
        }
        if (*q < '0' || *q > '9')
            break;
        any = 1;
        frac += in_frac;
        if (*q == '0') {
            if (nd > 0)
                zeros++;        /* pending: only kept if a nonzero follows */
            continue;
        }
        for (; zeros >= 0; zeros--) {
            if (++nd <= 18)
                m *= 10;
        }
        zeros = 0;
        if (nd <= 18)
            m += *q - '0';
    }
    if (!any)
        return DEC_RANGE;
    if (*q == 'e' || *q == 'E') {
        int eneg = 0, edig = 0;

        q++;
        if (*q == '+' || *q == '-')
            eneg = *q++ == '-';
        for (; *q >= '0' && *q <= '9'; q++, edig++) {
            if (exp10 < 100000)
                exp10 = exp10 * 10 + (*q - '0');
        }
        if (edig == 0)
            return DEC_RANGE;
        if (eneg)
            exp10 = -exp10;
    }
    if (*q != '\0')
        return DEC_RANGE;
    if (nd == 0) {
        *out = 0;
        return DEC_OK;
    }
    p = (long)scale - frac + zeros + exp10;
    if (p < 0)
        return DEC_SCALE;
    if (nd + p > DEC_MAX_DIGITS)
        return DEC_RANGE;
    m *= pow10i[p];
    *out = neg ? -m : m;
    return DEC_OK;
}

static int
is_digit(char c)
{
    return c >= '0' && c <= '9';
}

/*
 * The value is D * 10^(exp10 - nfrac) for the digit string D (integer then
 * fraction digits), so the scaled value is D * 10^e with e = exp10 - nfrac +
 * scale. Past D's leading zeros, m significant digits remain: e >= 0 appends
 * zeros; e < 0 keeps the first m + e digits and rounds on the rest (the
 * first dropped digit, and whether any later one is nonzero). A kept part of
 * more than 19 digits is beyond INT64_MAX whatever it is; 19 digits fit a
 * uint64, and so does one more after rounding up.
 */
enum dec_status
dec_round_text(const char *s, size_t len, int scale, int64_t *out)
{
    const char *p = s, *end = s + len, *ip, *fp = NULL;
    size_t nint, nfrac = 0, n, f;
    long long exp10 = 0, e, k;
    int neg = 0, up, rest = 0;
    uint64_t q = 0;
    char dch;

    assert(scale >= 0 && scale <= DEC_MAX_SCALE);
    if (p < end && *p == '-') {
        neg = 1;
        p++;
    }
    for (ip = p; p < end && is_digit(*p); p++)
        continue;
    nint = (size_t)(p - ip);
    if (p < end && *p == '.') {
        for (fp = ++p; p < end && is_digit(*p); p++)
            continue;
        nfrac = (size_t)(p - fp);
    }
    if (nint + nfrac == 0)
        return DEC_SYNTAX;
    if (p < end && (*p == 'e' || *p == 'E')) {
        int eneg = 0;
        const char *ep;

        if (++p < end && (*p == '+' || *p == '-'))
            eneg = *p++ == '-';
        for (ep = p; p < end && is_digit(*p); p++) {
            if (exp10 < 1000000000000LL)    /* saturate: 1e12 is plenty */
                exp10 = exp10 * 10 + (*p - '0');
        }
        if (p == ep)
            return DEC_SYNTAX;
        if (eneg)
            exp10 = -exp10;
    }
    if (p != end)
        return DEC_SYNTAX;

    /* digit i of D, over the integer digits then the fraction digits */
#define DIGIT(i) ((i) < nint ? ip[(i)] : fp[(i) - nint])
    n = nint + nfrac;
    for (f = 0; f < n && DIGIT(f) == '0'; f++)
        continue;
    if (f == n) {
        *out = 0;
        return DEC_OK;
    }
    e = exp10 - (long long)nfrac + scale;
    k = (long long)(n - f) + (e < 0 ? e : 0);     /* digits kept */
    if (k + (e > 0 ? e : 0) > 19)
        return DEC_RANGE;
    for (long long i = 0; i < k; i++)
        q = q * 10 + (uint64_t)(DIGIT(f + (size_t)i) - '0');
    for (long long i = 0; i < e; i++)
        q *= 10;
    if (e < 0 && k >= 0 && f + (size_t)k < n) {
        size_t at = f + (size_t)k;

        dch = DIGIT(at);
        for (size_t i = at + 1; i < n && !rest; i++)
            rest = DIGIT(i) != '0';
        up = dch > '5' || (dch == '5' && (rest || (q & 1) != 0));
        q += (uint64_t)up;
    }
#undef DIGIT
    if (q > (uint64_t)DEC_ROUND_MAX)
        return DEC_RANGE;
    *out = neg ? -(int64_t)q : (int64_t)q;
    return DEC_OK;
}

int
dec_add(dec_i128 *acc, dec_i128 v)
{
    dec_i128 r;

    if (__builtin_add_overflow(*acc, v, &r))
        return -1;
    *acc = r;
    return 0;
}

/* Decimal digits of u, most significant first, into d (>= 40 bytes);
 * returns how many ("0" for zero). */
static int
u128_digits(dec_u128 u, char *d)
{
    char tmp[40], *p = tmp + sizeof(tmp);
    uint64_t w;
    int n;

    /* 128-bit divisions are library calls: only the part above 2^64 */
    while (u > UINT64_MAX) {
        *--p = (char)('0' + (int)(u % 10));
        u /= 10;
    }
    w = (uint64_t)u;
    do {
        *--p = (char)('0' + (int)(w % 10));
        w /= 10;
    } while (w != 0);
    n = (int)(tmp + sizeof(tmp) - p);
    memcpy(d, p, (size_t)n);
    return n;
}

/*
 * Print the digit string dig (nd digits, most significant first, no leading
 * zeros unless it is "0") as a number with `scale` fractional digits, with a
 * minus sign when neg and any digit is nonzero. Returns the end (the NUL).
 */
static char *
put_scaled(int neg, const char *dig, int nd, int scale, char *buf,
    size_t size)
{
    int intd = nd - scale, nz = 0;
    size_t need;
    char *p = buf;

    for (int i = 0; i < nd; i++)
        nz |= dig[i] != '0';
    need = (size_t)(neg && nz) + (size_t)(intd > 0 ? nd : scale + 1) +
        (scale > 0) + 1;
    assert(need <= size);
    (void)need;
    (void)size;
    if (neg && nz)
        *p++ = '-';
    if (intd <= 0) {
        *p++ = '0';
    } else {
        memcpy(p, dig, (size_t)intd);
        p += intd;
    }
    if (scale > 0) {
        *p++ = '.';
        for (int i = intd; i < 0; i++)
            *p++ = '0';
        int from = intd > 0 ? intd : 0;
        memcpy(p, dig + from, (size_t)(nd - from));
        p += nd - from;
    }
    *p = '\0';
    return p;
}

static dec_u128
mag(dec_i128 v)
{
    return v < 0 ? -(dec_u128)v : (dec_u128)v;
}

/* How many decimal digits u has (1 for zero). */
static int
u64_ndigits(uint64_t u)
{
    int n = 1;

    while (u >= 100) {
        u /= 100;
        n += 2;
    }
    return n + (u >= 10);
}

/* "00" to "99": digits two at a time, a division per pair */
static const char digit_pairs[] =
    "00010203040506070809101112131415161718192021222324252627282930313233"
    "34353637383940414243444546474849505152535455565758596061626364656667"
    "6869707172737475767778798081828384858687888990919293949596979899";

/* Write the n lowest digits of *u before p, backwards; *u loses them.
 * Returns the new start. */
static char *
put_digits(char *p, uint64_t *u, int n)
{
    uint64_t v = *u;

    for (; n >= 2; n -= 2) {
        const char *d = digit_pairs + 2 * (v % 100);

        *--p = d[1];
        *--p = d[0];
        v /= 100;
    }
    if (n == 1) {
        *--p = (char)('0' + (int)(v % 10));
        v /= 10;
    }
    *u = v;
    return p;
}

/*
 * The common case of put_scaled(), written backwards straight into buf: the
 * number whose digits are hi's followed by exactly lod digits of lo
 * (lo < 10^lod), with `frac` (>= lod) of them fractional, and a minus sign
 * when neg and the number is not zero. Returns the end (the NUL).
 */
static char *
put_u64_scaled(int neg, uint64_t hi, uint64_t lo, int lod, int frac,
    char *buf, size_t size)
{
    int hid = u64_ndigits(hi), intd = hid + lod - frac;
    size_t len;
    char *p, *end;

    neg = neg && (hi | lo) != 0;
    if (intd < 1)
        intd = 1;               /* "0.05": one zero before the point */
    len = (size_t)neg + (size_t)intd + (frac > 0 ? (size_t)frac + 1 : 0);
    assert(len < size);
    (void)size;
    end = p = buf + len;
    *end = '\0';
    p = put_digits(p, &lo, lod);
    p = put_digits(p, &hi, frac - lod);
    if (frac > 0)
        *--p = '.';
    /* what is left of hi: its intd digits, or the one "0" */
    p = put_digits(p, &hi, intd);
    if (neg)
        *--p = '-';
    assert(p == buf);
    return end;
}

char *
dec_format_end(dec_i128 v, int scale, char *buf, size_t size)
{
    dec_u128 u = mag(v);
    char dig[40];
    int nd;

    assert(scale >= 0 && scale <= DEC_MAX_SCALE);
    if (u <= UINT64_MAX)
        return put_u64_scaled(v < 0, (uint64_t)u, 0, 0, scale, buf, size);
    nd = u128_digits(u, dig);
    return put_scaled(v < 0, dig, nd, scale, buf, size);
}

char *
dec_format(dec_i128 v, int scale, char *buf, size_t size)
{
    (void)dec_format_end(v, scale, buf, size);
    return buf;
}

/*
 * Long division: the integer quotient |sum| / n, then `extra` more digits
 * one at a time (the remainder stays below n < 2^63, so rem * 10 fits), then
 * one rounding step on the final remainder: in 64 bits the extra digits are
 * one number and the carry goes into the quotient, in 128 bits it is carried
 * leftwards in the digit string. Nothing can overflow, whatever the sum.
 */
char *
dec_format_ratio(dec_i128 sum, int64_t n, int scale, int extra, char *buf,
    size_t size)
{
    (void)dec_format_ratio_end(sum, n, scale, extra, buf, size);
    return buf;
}

char *
dec_format_ratio_end(dec_i128 sum, int64_t n, int scale, int extra, char *buf,
    size_t size)
{
    dec_u128 u = mag(sum), dn, q, rem;
    char dig[40 + 16];
    int nd, i;

    assert(n > 0 && extra >= 0 && extra <= 16);
    assert(scale >= 0 && scale <= DEC_MAX_SCALE);
    dn = (dec_u128)n;
    if (u <= UINT64_MAX && (uint64_t)n < (UINT64_C(1) << 59)) {
        /* the same division in 64 bits: rem < n < 2^59, so rem * 10 fits;
         * the extra digits are a number below 10^16, rounded as a whole */
        uint64_t n64 = (uint64_t)n, q64 = (uint64_t)u / n64,
            r64 = (uint64_t)u % n64, f = 0, p10 = 1;

        for (i = 0; i < extra; i++) {
            r64 *= 10;
            f = f * 10 + r64 / n64;
            r64 %= n64;
            p10 *= 10;
        }
        if (r64 * 2 >= n64 && ++f == p10) {     /* half away from zero */
            f = 0;
            q64++;      /* no overflow: q64 = 2^64 - 1 only when n = 1 */
        }
        return put_u64_scaled(sum < 0, q64, f, extra, scale + extra, buf,
            size);
    }
    q = u / dn;
    rem = u % dn;
    nd = u128_digits(q, dig);
    for (i = 0; i < extra; i++) {
        rem *= 10;
        dig[nd++] = (char)('0' + (int)(rem / dn));
        rem %= dn;
    }
    if (rem * 2 >= dn) {                /* half away from zero */
        for (i = nd - 1; i >= 0 && dig[i] == '9'; i--)
            dig[i] = '0';
        if (i >= 0) {
            dig[i]++;
        } else {
            memmove(dig + 1, dig, (size_t)nd);
            dig[0] = '1';
            nd++;
        }
    }
    /* q == 0 left a leading "0" in front of the extra digits: drop it */
    for (i = 0; i < nd - 1 && dig[i] == '0'; i++)
        ;
    return put_scaled(sum < 0, dig + i, nd - i, scale + extra, buf, size);
}

char *
dec_format_double(double d, char *buf, size_t size)
{
    if (isnan(d))
        snprintf(buf, size, "NaN");
    else if (isinf(d))
        snprintf(buf, size, d < 0 ? "-Infinity" : "Infinity");
    else if (snprintf(buf, size, "%.15g", d), strtod(buf, NULL) != d)
        snprintf(buf, size, "%.17g", d);
    return buf;
}
