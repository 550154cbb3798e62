/* clocale_test.c -- unit tests for shared/clocale.c: localeconv() from constants */
#include <dlfcn.h>
#include <limits.h>
#include <locale.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "tests/test.h"

typedef struct lconv *(*lconv_fn)(void);

/* dlsym() of localeconv in handle h, as a function pointer (POSIX: the
 * object pointer it returns holds one). */
static lconv_fn
lookup(void *h)
{
    void *p = dlsym(h, "localeconv");
    lconv_fn fn;

    memcpy(&fn, &p, sizeof(fn));
    return fn;
}

/* Ours is the definition every caller binds to, libraries included. */
static void
test_clocale_interposed(void)
{
    lconv_fn next = lookup(RTLD_NEXT);

    CHECK(lookup(RTLD_DEFAULT) == localeconv);
    CHECK(next != NULL && next != localeconv);
    CHECK(localeconv() == localeconv());
}

#define SAME_STR(f) CHECK(strcmp(ours->f, libc->f) == 0)
#define SAME_CHAR(f) CHECK(ours->f == libc->f)

/* Field by field what glibc answers in the C locale, the one every
 * lambdakit program runs in (none calls setlocale()). */
static void
test_clocale_fields(void)
{
    lconv_fn glibc = lookup(RTLD_NEXT);
    struct lconv *ours = localeconv(), *libc;

    CHECK(glibc != NULL);
    if (glibc == NULL)
        return;
    libc = glibc();
    SAME_STR(decimal_point);
    SAME_STR(thousands_sep);
    SAME_STR(grouping);
    SAME_STR(int_curr_symbol);
    SAME_STR(currency_symbol);
    SAME_STR(mon_decimal_point);
    SAME_STR(mon_thousands_sep);
    SAME_STR(mon_grouping);
    SAME_STR(positive_sign);
    SAME_STR(negative_sign);
    SAME_CHAR(int_frac_digits);
    SAME_CHAR(frac_digits);
    SAME_CHAR(p_cs_precedes);
    SAME_CHAR(p_sep_by_space);
    SAME_CHAR(n_cs_precedes);
    SAME_CHAR(n_sep_by_space);
    SAME_CHAR(p_sign_posn);
    SAME_CHAR(n_sign_posn);
    SAME_CHAR(int_p_cs_precedes);
    SAME_CHAR(int_p_sep_by_space);
    SAME_CHAR(int_n_cs_precedes);
    SAME_CHAR(int_n_sep_by_space);
    SAME_CHAR(int_p_sign_posn);
    SAME_CHAR(int_n_sign_posn);
    CHECK(strcmp(ours->decimal_point, ".") == 0);
}

/* cJSON, which asks localeconv() for every number, reads numbers with a
 * fraction and an exponent exactly as before. */
static void
test_clocale_cjson(void)
{
    cJSON *j = cJSON_Parse("[0.5, -12.25, 1e3, 2.5E-2, 123456789.125]");
    const double want[] = {0.5, -12.25, 1000, 0.025, 123456789.125};
    int i = 0;

    CHECK(j != NULL && cJSON_GetArraySize(j) == 5);
    for (cJSON *e = j != NULL ? j->child : NULL; e != NULL; e = e->next, i++)
        CHECK(cJSON_IsNumber(e) && e->valuedouble == want[i]);
    cJSON_Delete(j);
}

int
main(void)
{
    RUN(test_clocale_interposed);
    RUN(test_clocale_fields);
    RUN(test_clocale_cjson);
    return test_report();
}
