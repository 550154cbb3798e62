/* clocale.c -- localeconv() answered from constants: the C locale's, which every lambdakit program runs in */
#include <limits.h>
#include <locale.h>

/*
 * libcjson's parse_number() calls localeconv() for every number it reads,
 * to learn the decimal point before strtod(). glibc's localeconv() rewrites
 * one static struct lconv on each call, so threads parsing events write the
 * same two cache lines for every number and take them from each other's
 * cache: in lambda-batch -j2 the read of decimal_point after that call was
 * 11% of the CPU time (bench/README.md, "2026-12-03: two workers, one
 * struct lconv").
 *
 * No lambdakit program calls setlocale(), so each runs in the C locale from
 * its start to its end and localeconv() always answers the same. This
 * definition, in the executable, takes the place of glibc's for the program
 * and every library it loads (ELF symbol interposition; the link keeps it
 * with -u localeconv, see the Makefile) and returns the C locale's answer
 * from read-only memory. A program that ever calls setlocale() must not link
 * it. tests/unit/clocale_test.c compares it with glibc's own, field by field.
 */

static const struct lconv c_locale = {
    .decimal_point = (char *)".",
    .thousands_sep = (char *)"",
    .grouping = (char *)"",
    .int_curr_symbol = (char *)"",
    .currency_symbol = (char *)"",
    .mon_decimal_point = (char *)"",
    .mon_thousands_sep = (char *)"",
    .mon_grouping = (char *)"",
    .positive_sign = (char *)"",
    .negative_sign = (char *)"",
    .int_frac_digits = CHAR_MAX,
    .frac_digits = CHAR_MAX,
    .p_cs_precedes = CHAR_MAX,
    .p_sep_by_space = CHAR_MAX,
    .n_cs_precedes = CHAR_MAX,
    .n_sep_by_space = CHAR_MAX,
    .p_sign_posn = CHAR_MAX,
    .n_sign_posn = CHAR_MAX,
    .int_p_cs_precedes = CHAR_MAX,
    .int_p_sep_by_space = CHAR_MAX,
    .int_n_cs_precedes = CHAR_MAX,
    .int_n_sep_by_space = CHAR_MAX,
    .int_p_sign_posn = CHAR_MAX,
    .int_n_sign_posn = CHAR_MAX,
};

/* The C locale's numeric and monetary conventions; the caller must not
 * write through the pointer (C11 7.11.2.1, as for the libc's). */
struct lconv *
localeconv(void)
{
    return (struct lconv *)&c_locale;  /* const: a write faults, loudly */
}
