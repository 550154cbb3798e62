/* dec_test.c -- unit tests for shared/dec.c: exact conversion, checked sums, printing */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "shared/dec.h"
#include "tests/test.h"

__extension__ typedef unsigned __int128 u128;

#define I128_MAX ((dec_i128)(((u128)1 << 127) - 1))
#define I128_MIN (-I128_MAX - 1)

static const char *
status_name(enum dec_status st)
{
    return st == DEC_OK ? "ok" : st == DEC_SCALE ? "scale" :
        st == DEC_RANGE ? "range" : "syntax";
}

/* One table case: prints what came back when it is not what was wanted. */
static void
check_case(const char *label, int scale, enum dec_status st, int64_t out,
    enum dec_status want_st, int64_t want_out)
{
    if (st != want_st || out != want_out)
        printf("  case %s scale %d: %s %lld\n", label, scale,
            status_name(st), (long long)out);
    CHECK(st == want_st && out == want_out);
}

/* A text case: the text in at a scale gives status st and value out. */
struct text_case {
    const char     *in;
    int             scale;
    enum dec_status st;
    int64_t         out;
};

typedef enum dec_status (*text_fn)(const char *in, int scale, int64_t *out);

/* dec_round_text() on a NUL-terminated text. */
static enum dec_status
round_text_str(const char *in, int scale, int64_t *out)
{
    return dec_round_text(in, strlen(in), scale, out);
}

/* Runs fn over n cases and checks each one. */
static void
run_text_cases(const struct text_case *cases, size_t n, text_fn fn)
{
    for (size_t i = 0; i < n; i++) {
        int64_t out = 0;
        enum dec_status st = fn(cases[i].in, cases[i].scale, &out);
        char label[128];

        snprintf(label, sizeof(label), "\"%s\"", cases[i].in);
        check_case(label, cases[i].scale, st, out, cases[i].st, cases[i].out);
    }
}

static void
test_dec_from_double_table(void)
{
    static const struct {
        double          d;
        int             scale;
        enum dec_status st;
        int64_t         out;
    } cases[] = {
        {0, 0, DEC_OK, 0},
        {-0.0, 2, DEC_OK, 0},
        {12.5, 2, DEC_OK, 1250},
        {12.5, 1, DEC_OK, 125},
        {12.5, 0, DEC_SCALE, 0},
        {12.345, 2, DEC_SCALE, 0},
        {12.345, 3, DEC_OK, 12345},
        {0.1, 1, DEC_OK, 1},
        {0.1, 0, DEC_SCALE, 0},
        {0.05, 2, DEC_OK, 5},
        {-0.05, 2, DEC_OK, -5},
        {-3, 0, DEC_OK, -3},
        {0.3, 9, DEC_OK, 300000000},
        {1e-9, 9, DEC_OK, 1},
        {1e-10, 9, DEC_SCALE, 0},
        {1e-300, 2, DEC_SCALE, 0},
        {999999999999999.0, 0, DEC_OK, DEC_MAX_ABS},
        {-999999999999999.0, 0, DEC_OK, -DEC_MAX_ABS},
        {1000000000000000.0, 0, DEC_RANGE, 0},
        {9999999999999.99, 2, DEC_OK, DEC_MAX_ABS},
        {99999999999999.99, 2, DEC_RANGE, 0},
        {999999.999999999, 9, DEC_OK, DEC_MAX_ABS},
        {1e300, 2, DEC_RANGE, 0},
        {NAN, 2, DEC_RANGE, 0},
        {INFINITY, 0, DEC_RANGE, 0},
        {-INFINITY, 0, DEC_RANGE, 0},
        {123456789012345.6, 0, DEC_SCALE, 0},
    };

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char label[64];
        int64_t out = 0;

        snprintf(label, sizeof(label), "%.17g", cases[i].d);
        enum dec_status st = dec_from_double(cases[i].d, cases[i].scale, &out);
        check_case(label, cases[i].scale, st, out, cases[i].st, cases[i].out);
    }
}

static int64_t
rand_digits(int nd)
{
    int64_t v = 0;

    for (int i = 0; i < nd; i++)
        v = v * 10 + rand() % 10;
    return v;
}

/*
 * Random decimals of up to 15 significant digits at every scale go through
 * text and strtod(), as cJSON hands them over, and must come back exact;
 * the same value at one scale less must be refused unless its last digit is 0.
 */
static void
test_dec_from_double_exact(void)
{
    int bad = 0, checked = 0;

    srand(42);
    for (int scale = 0; scale <= DEC_MAX_SCALE; scale++) {
        for (int i = 0; i < 50000 && bad < 10; i++) {
            int nd = 1 + rand() % DEC_MAX_DIGITS;
            int64_t r = rand_digits(nd), out = 0;
            char txt[64];
            double d;

            if (rand() % 2 == 0)
                r = -r;
            snprintf(txt, sizeof(txt), "%.*f", scale,
                (double)r / pow(10, scale));
            d = strtod(txt, NULL);
            checked++;
            if (dec_from_double(d, scale, &out) != DEC_OK || out != r) {
                printf("  %s scale %d: got %lld want %lld\n", txt, scale,
                    (long long)out, (long long)r);
                bad++;
            }
            /* text parse agrees */
            if (dec_parse(txt, scale, &out) != DEC_OK || out != r) {
                printf("  parse %s scale %d: got %lld\n", txt, scale,
                    (long long)out);
                bad++;
            }
            if (scale > 0 && r % 10 != 0) {
                enum dec_status st = dec_from_double(d, scale - 1, &out);
                if (st != DEC_SCALE) {
                    printf("  %s at scale %d: %s\n", txt, scale - 1,
                        status_name(st));
                    bad++;
                }
            }
        }
    }
    CHECK(bad == 0);
    CHECK(checked == 500000);
}

static void
test_dec_parse(void)
{
    static const struct text_case cases[] = {
        {"12.5", 2, DEC_OK, 1250},
        {"12.50", 2, DEC_OK, 1250},
        {"12.500", 2, DEC_OK, 1250},
        {"12.345", 2, DEC_SCALE, 0},
        {"-3", 0, DEC_OK, -3},
        {"-0", 0, DEC_OK, 0},
        {"0", 3, DEC_OK, 0},
        {"0.000000000000000000000", 0, DEC_OK, 0},
        {"0.05", 2, DEC_OK, 5},
        {"-0.05", 2, DEC_OK, -5},
        {"100", 0, DEC_OK, 100},
        {"007", 0, DEC_OK, 7},
        {"1e2", 0, DEC_OK, 100},
        {"1.5E+1", 0, DEC_OK, 15},
        {"125e-2", 2, DEC_OK, 125},
        {"125e-3", 2, DEC_SCALE, 0},
        {"999999999999999", 0, DEC_OK, DEC_MAX_ABS},
        {"-999999999999999", 0, DEC_OK, -DEC_MAX_ABS},
        {"1000000000000000", 0, DEC_RANGE, 0},
        {"9999999999999.99", 2, DEC_OK, DEC_MAX_ABS},
        {"99999999999999.9", 2, DEC_RANGE, 0},
        {"123456789012345.6", 0, DEC_SCALE, 0},
        {"12345678901234567890123", 0, DEC_RANGE, 0},
        {"0.0000000001", 9, DEC_SCALE, 0},
        {"1e999999999999", 0, DEC_RANGE, 0},
        {"1e-999999999999", 0, DEC_SCALE, 0},
        {"", 0, DEC_RANGE, 0},
        {"-", 0, DEC_RANGE, 0},
        {".5", 1, DEC_RANGE, 0},
        {"5.", 1, DEC_RANGE, 0},
        {"+5", 0, DEC_RANGE, 0},
        {" 5", 0, DEC_RANGE, 0},
        {"5 ", 0, DEC_RANGE, 0},
        {"5x", 0, DEC_RANGE, 0},
        {"1.2.3", 2, DEC_RANGE, 0},
        {"1e", 0, DEC_RANGE, 0},
        {"1e+", 0, DEC_RANGE, 0},
        {"--1", 0, DEC_RANGE, 0},
        {"NaN", 0, DEC_RANGE, 0},
        {"inf", 0, DEC_RANGE, 0},
        {"0x10", 0, DEC_RANGE, 0},
    };

    run_text_cases(cases, sizeof(cases) / sizeof(cases[0]), dec_parse);
}

static void
test_dec_round_text(void)
{
    static const struct text_case cases[] = {
        /* the seeds' numbers */
        {"43123.12345678", 6, DEC_OK, 43123123457LL},
        {"0.734523", 6, DEC_OK, 734523},
        {"21.337829", 6, DEC_OK, 21337829},
        {"21.337", 6, DEC_OK, 21337000},
        {"3.14159", 2, DEC_OK, 314},
        /* half to even, from the text */
        {"0.0000005", 6, DEC_OK, 0},
        {"0.0000015", 6, DEC_OK, 2},
        {"0.0000025", 6, DEC_OK, 2},
        {"0.00000050000001", 6, DEC_OK, 1},
        {"0.1234565", 6, DEC_OK, 123456},
        {"0.1234575", 6, DEC_OK, 123458},
        {"0.1234565000000000001", 6, DEC_OK, 123457},
        {"0.12345649999999999999", 6, DEC_OK, 123456},
        {"2.5", 0, DEC_OK, 2},
        {"3.5", 0, DEC_OK, 4},
        {"-2.5", 0, DEC_OK, -2},
        {"-3.5", 0, DEC_OK, -4},
        {"-0.0000005", 6, DEC_OK, 0},
        {"9.5", 0, DEC_OK, 10},
        {"0.999999999", 6, DEC_OK, 1000000},
        /* exponents */
        {"1.5e-7", 6, DEC_OK, 0},
        {"1.5e-6", 6, DEC_OK, 2},
        {"2.5E-6", 6, DEC_OK, 2},
        {"3.5e-6", 6, DEC_OK, 4},
        {"1E+2", 2, DEC_OK, 10000},
        {"1e0", 0, DEC_OK, 1},
        {"1e-0", 3, DEC_OK, 1000},
        {"125e-2", 2, DEC_OK, 125},
        {"125e-3", 2, DEC_OK, 12},
        {"135e-3", 2, DEC_OK, 14},
        {"123456789012345678901234567890e-20", 6, DEC_OK,
            1234567890123457LL},
        {"1e-999999999999999", 6, DEC_OK, 0},
        {"1e999999999999999", 0, DEC_RANGE, 0},
        /* zeros */
        {"-0.0", 6, DEC_OK, 0},
        {"-0", 0, DEC_OK, 0},
        {"0e5", 2, DEC_OK, 0},
        {"000123.4500", 2, DEC_OK, 12345},
        {"0.00000000000000000000000000000000000000000000001234567", 6,
            DEC_OK, 0},
        /* what cJSON also accepts */
        {"5.", 0, DEC_OK, 5},
        {"-.5", 1, DEC_OK, -5},
        {"-.5", 0, DEC_OK, 0},
        {"01", 0, DEC_OK, 1},
        /* limits: the int64 at the scale */
        {"9e12", 6, DEC_OK, 9000000000000000000LL},
        {"-9e12", 6, DEC_OK, -9000000000000000000LL},
        {"9223372036854.775807", 6, DEC_OK, INT64_MAX},
        {"-9223372036854.775807", 6, DEC_OK, -INT64_MAX},
        {"9223372036854.7758074999", 6, DEC_OK, INT64_MAX},
        {"9223372036854.7758075", 6, DEC_RANGE, 0},
        {"9223372036854.775808", 6, DEC_RANGE, 0},
        {"-9223372036854.775808", 6, DEC_RANGE, 0},
        {"9999999999999999999", 0, DEC_RANGE, 0},
        {"99999999999999999999", 0, DEC_RANGE, 0},
        {"1e18", 0, DEC_OK, 1000000000000000000LL},
        {"1e19", 0, DEC_RANGE, 0},
        {"1e20", 0, DEC_RANGE, 0},
        {"12", 9, DEC_OK, 12000000000LL},
        {"9223372036.854775807", 9, DEC_OK, INT64_MAX},
        {"9223372036.8547758075", 9, DEC_RANGE, 0},
        /* not numbers */
        {"", 6, DEC_SYNTAX, 0},
        {"-", 6, DEC_SYNTAX, 0},
        {".", 6, DEC_SYNTAX, 0},
        {"e5", 6, DEC_SYNTAX, 0},
        {"1e", 6, DEC_SYNTAX, 0},
        {"1e+", 6, DEC_SYNTAX, 0},
        {"+1", 6, DEC_SYNTAX, 0},
        {" 1", 6, DEC_SYNTAX, 0},
        {"1 ", 6, DEC_SYNTAX, 0},
        {"1.2.3", 6, DEC_SYNTAX, 0},
        {"--1", 6, DEC_SYNTAX, 0},
        {"NaN", 6, DEC_SYNTAX, 0},
        {"0x10", 6, DEC_SYNTAX, 0},
    };

    run_text_cases(cases, sizeof(cases) / sizeof(cases[0]), round_text_str);
    /* the length bounds the text: no NUL needed */
    int64_t out = 0;
    CHECK(dec_round_text("12.3456789", 5, 1, &out) == DEC_OK && out == 123);
}

/* Random texts with 0..12 fraction digits against 128-bit arithmetic. */
static void
test_dec_round_text_random(void)
{
    char text[64];
    int bad = 0;

    srand(7);
    for (int t = 0; t < 200000; t++) {
        int64_t ip = rand() % 1000000, out = 0;
        int nf = rand() % 13, scale = rand() % (DEC_MAX_SCALE + 1);
        int neg = rand() & 1;
        dec_i128 n = ip, want, q, r, half;
        int len = snprintf(text, sizeof(text), "%s%lld", neg ? "-" : "",
            (long long)ip);

        if (nf > 0)
            text[len++] = '.';
        for (int i = 0; i < nf; i++) {
            /* ties are common: many 5s and 0s */
            int dgt = rand() % 4 == 0 ? 5 : rand() % 4 == 0 ? 0 : rand() % 10;
            text[len++] = (char)('0' + dgt);
            n = n * 10 + dgt;
        }
        text[len] = '\0';
        /* n / 10^nf at scale: n * 10^scale / 10^nf, half to even */
        for (int i = 0; i < scale; i++)
            n *= 10;
        dec_i128 p = 1;
        for (int i = 0; i < nf; i++)
            p *= 10;
        q = n / p;
        r = n % p;
        half = p / 2;
        want = q + ((p > 1 && (r > half || (r == half && p % 2 == 0 &&
            (q & 1) != 0))) ? 1 : 0);
        if (neg)
            want = -want;
        if (dec_round_text(text, (size_t)len, scale, &out) != DEC_OK ||
            out != (int64_t)want) {
            if (bad++ < 5)
                printf("  %s at scale %d: got %lld want %lld\n", text,
                    scale, (long long)out, (long long)want);
        }
    }
    CHECK(bad == 0);
}

static void
test_dec_add(void)
{
    dec_i128 acc = 0;

    CHECK(dec_add(&acc, 5) == 0 && acc == 5);
    CHECK(dec_add(&acc, -7) == 0 && acc == -2);

    acc = I128_MAX - 1;
    CHECK(dec_add(&acc, 1) == 0 && acc == I128_MAX);
    CHECK(dec_add(&acc, 1) == -1 && acc == I128_MAX);      /* unchanged */
    CHECK(dec_add(&acc, I128_MAX) == -1 && acc == I128_MAX);
    CHECK(dec_add(&acc, -1) == 0 && acc == I128_MAX - 1);

    acc = I128_MIN + 1;
    CHECK(dec_add(&acc, -1) == 0 && acc == I128_MIN);
    CHECK(dec_add(&acc, -1) == -1 && acc == I128_MIN);
    CHECK(dec_add(&acc, I128_MAX) == 0 && acc == -1);

    /* 2^63 values of the largest magnitude cannot overflow: a sample of
     * that: 2^20 adds of DEC_MAX_ABS stay exact */
    acc = 0;
    for (int i = 0; i < (1 << 20); i++)
        CHECK(dec_add(&acc, DEC_MAX_ABS) == 0);
    CHECK(acc == (dec_i128)DEC_MAX_ABS * (1 << 20));
}

static void
test_dec_format(void)
{
    static const struct {
        dec_i128    v;
        int         scale;
        const char *out;
    } cases[] = {
        {0, 0, "0"},
        {0, 2, "0.00"},
        {3, 0, "3"},
        {-3, 0, "-3"},
        {1250, 2, "12.50"},
        {-5, 2, "-0.05"},
        {5, 2, "0.05"},
        {5, 9, "0.000000005"},
        {-123456789, 9, "-0.123456789"},
        {1234567890, 9, "1.234567890"},
        {DEC_MAX_ABS, 2, "9999999999999.99"},
        {(dec_i128)DEC_MAX_ABS * DEC_MAX_ABS, 0, "999999999999998000000000000001"},
        {I128_MAX, 0, "170141183460469231731687303715884105727"},
        {I128_MIN, 0, "-170141183460469231731687303715884105728"},
        {I128_MIN, 9, "-170141183460469231731687303715.884105728"},
    };
    char buf[DEC_BUFSZ];

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
        CHECK_STREQ(dec_format(cases[i].v, cases[i].scale, buf, sizeof(buf)),
            cases[i].out);
}

static void
test_dec_format_ratio(void)
{
    static const struct {
        dec_i128    sum;
        int64_t     n;
        int         scale, extra;
        const char *out;
    } cases[] = {
        {3001, 2, 2, 2, "15.0050"},             /* avg of 10.00 and 20.01 */
        {-3001, 2, 2, 2, "-15.0050"},
        {1, 3, 0, 2, "0.33"},
        {2, 3, 0, 2, "0.67"},
        {-2, 3, 0, 2, "-0.67"},
        {1, 8, 0, 2, "0.13"},                   /* 0.125: half away from zero */
        {-1, 8, 0, 2, "-0.13"},
        {1, 200, 0, 2, "0.01"},                 /* 0.005 */
        {-1, 200, 0, 2, "-0.01"},
        {-1, 1000, 0, 2, "0.00"},               /* never "-0.00" */
        {999, 1000, 0, 2, "1.00"},              /* carry through the digits */
        {-9999, 1000, 1, 2, "-1.000"},
        {10, 1, 0, 0, "10"},
        {15, 10, 0, 0, "2"},
        {-15, 10, 0, 0, "-2"},
        {14, 10, 0, 0, "1"},
        {0, 5, 2, 2, "0.0000"},
        {1250, 1, 2, 2, "12.5000"},
        {7, 2, 9, 2, "0.00000000350"},
        {I128_MAX, 1, 0, 2, "170141183460469231731687303715884105727.00"},
        {I128_MIN, INT64_MAX, 2, 2, "-184467440737095516.1800"},
        {I128_MAX, 3, 0, 2, "56713727820156410577229101238628035242.33"},
        /* at the edges of the 64-bit path: |sum| < 2^64 and n < 2^59 */
        {(dec_i128)UINT64_MAX, (INT64_C(1) << 59) - 1, 0, 16,
            "32.0000000000000001"},
        {(dec_i128)UINT64_MAX, INT64_C(1) << 59, 0, 16, "32.0000000000000000"},
        {(dec_i128)UINT64_MAX + 1, (INT64_C(1) << 59) - 1, 2, 16,
            "0.320000000000000001"},
        {-(dec_i128)UINT64_MAX, 7, 9, 16,
            "-2635249153.3870788021428571428571429"},
        {(dec_i128)UINT64_MAX, 1, 0, 2, "18446744073709551615.00"},
    };
    char buf[DEC_BUFSZ];

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
        CHECK_STREQ(dec_format_ratio(cases[i].sum, cases[i].n,
            cases[i].scale, cases[i].extra, buf, sizeof(buf)), cases[i].out);
}

/* A 64-bit draw with every magnitude equally likely (1 to 64 bits). */
static uint64_t
rand_u64(void)
{
    uint64_t v = 0;

    for (int i = 0; i < 4; i++)
        v = v << 16 | (uint64_t)(rand() & 0xffff);
    return v >> (rand() % 64);
}

/* The integer q with `frac` of its digits after a point, into out. */
static void
point(u128 q, int neg, int frac, char *out)
{
    char d[64];
    size_t nd;

    dec_format((dec_i128)q, 0, d, sizeof(d));
    for (nd = strlen(d); nd < (size_t)frac + 1; nd++) {  /* 5, 2: "005" */
        memmove(d + 1, d, nd + 1);
        d[0] = '0';
    }
    snprintf(out, DEC_BUFSZ, "%s%.*s%s%s", neg && q != 0 ? "-" : "",
        (int)(nd - (size_t)frac), d, frac > 0 ? "." : "",
        d + nd - (size_t)frac);
}

/*
 * dec_format() and dec_format_ratio() below 2^64 (written backwards in 64
 * bits) against references built another way: the integer and fractional
 * parts printed with printf, and the ratio's rounded quotient computed in
 * 128 bits, printed as an integer by dec_format() (past 2^64 with the
 * extra digits, so that print takes the digit-string path) and given its
 * point by point().
 */
static void
test_dec_format_random(void)
{
    char got[DEC_BUFSZ], want[DEC_BUFSZ], first[160] = "";
    int bad = 0;

    srand(7);
    for (int i = 0; i < 200000; i++) {
        uint64_t u = rand_u64(), p10 = 1;
        int neg = rand() % 2, scale = rand() % 10;

        for (int k = 0; k < scale; k++)
            p10 *= 10;
        if (scale == 0)
            snprintf(want, sizeof(want), "%s%llu", neg && u ? "-" : "",
                (unsigned long long)u);
        else
            snprintf(want, sizeof(want), "%s%llu.%0*llu", neg && u ? "-" : "",
                (unsigned long long)(u / p10), scale,
                (unsigned long long)(u % p10));
        dec_format(neg ? -(dec_i128)u : (dec_i128)u, scale, got, sizeof(got));
        if (strcmp(got, want) != 0 && bad++ == 0)
            snprintf(first, sizeof(first), "%s%llu at scale %d: %s, not %s",
                neg ? "-" : "", (unsigned long long)u, scale, got, want);
    }
    for (int i = 0; i < 200000; i++) {
        uint64_t u = rand_u64();
        int64_t n = (int64_t)(rand_u64() >> 1) | 1;
        int neg = rand() % 2, scale = rand() % 10, extra = rand() % 17;
        u128 w = u, p10 = 1, q, r;

        if (rand() % 2)
            n %= 1000000;       /* averages: small counts */
        n += n == 0;
        for (int k = 0; k < extra; k++)
            p10 *= 10;
        w *= p10;
        q = w / (u128)n;
        r = w % (u128)n;
        if (r * 2 >= (u128)n)
            q++;
        point(q, neg, scale + extra, want);
        dec_format_ratio(neg ? -(dec_i128)u : (dec_i128)u, n, scale, extra,
            got, sizeof(got));
        if (strcmp(got, want) != 0 && bad++ == 0)
            snprintf(first, sizeof(first), "%s%llu / %lld at scale %d+%d: "
                "%s, not %s", neg ? "-" : "", (unsigned long long)u,
                (long long)n, scale, extra, got, want);
    }
    if (bad != 0)
        printf("dec_format random: %d wrong, the first: %s\n", bad, first);
    CHECK(bad == 0);
}

static void
test_format_double(void)
{
    static const struct { double d; const char *want; } cases[] = {
        {12.345, "12.345"}, {0.1, "0.1"}, {-3, "-3"}, {1e20, "1e+20"},
        {0.1 + 0.2, "0.30000000000000004"},
    };
    char buf[64];

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
        CHECK_STREQ(dec_format_double(cases[i].d, buf, sizeof(buf)),
            cases[i].want);
    CHECK_STREQ(dec_format_double(NAN, buf, sizeof(buf)), "NaN");
    CHECK_STREQ(dec_format_double(-INFINITY, buf, sizeof(buf)), "-Infinity");
}

int
main(void)
{
    RUN(test_dec_from_double_table);
    RUN(test_dec_from_double_exact);
    RUN(test_dec_parse);
    RUN(test_dec_round_text);
    RUN(test_dec_round_text_random);
    RUN(test_dec_add);
    RUN(test_dec_format);
    RUN(test_dec_format_ratio);
    RUN(test_dec_format_random);
    RUN(test_format_double);
    return test_report();
}
