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
    return st == DEC_OK ? "ok" : st == DEC_SCALE ? "scale" : "range";
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
        int64_t out = 0;
        enum dec_status st = dec_from_double(cases[i].d, cases[i].scale, &out);
        if (st != cases[i].st || out != cases[i].out)
            printf("  case %.17g scale %d: %s %lld\n", cases[i].d,
                cases[i].scale, status_name(st), (long long)out);
        CHECK(st == cases[i].st && out == cases[i].out);
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
    static const struct {
        const char     *in;
        int             scale;
        enum dec_status st;
        int64_t         out;
    } cases[] = {
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

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        int64_t out = 0;
        enum dec_status st = dec_parse(cases[i].in, cases[i].scale, &out);
        if (st != cases[i].st || out != cases[i].out)
            printf("  case \"%s\" scale %d: %s %lld\n", cases[i].in,
                cases[i].scale, status_name(st), (long long)out);
        CHECK(st == cases[i].st && out == cases[i].out);
    }
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
    };
    char buf[DEC_BUFSZ];

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
        CHECK_STREQ(dec_format_ratio(cases[i].sum, cases[i].n,
            cases[i].scale, cases[i].extra, buf, sizeof(buf)), cases[i].out);
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
    RUN(test_dec_add);
    RUN(test_dec_format);
    RUN(test_dec_format_ratio);
    RUN(test_format_double);
    return test_report();
}
