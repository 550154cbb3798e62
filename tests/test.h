/* test.h -- the unit-test harness: CHECK counts, RUN groups, test_report totals */
#ifndef TESTS_TEST_H
#define TESTS_TEST_H

#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int test_passed, test_failed, test_cur_failed;

/* Record a failed check and carry on. */
#define CHECK(expr) do { \
        if (!(expr)) { \
            printf("FAIL %s:%d: %s\n", __FILE__, __LINE__, #expr); \
            test_cur_failed++; \
        } \
    } while (0)

#define CHECK_STREQ(a, b) do { \
        const char *check_a_ = (a), *check_b_ = (b); \
        if (check_a_ == NULL || check_b_ == NULL || \
            strcmp(check_a_, check_b_) != 0) { \
            printf("FAIL %s:%d: %s == %s (\"%s\" vs \"%s\")\n", __FILE__, \
                __LINE__, #a, #b, check_a_ ? check_a_ : "(null)", \
                check_b_ ? check_b_ : "(null)"); \
            test_cur_failed++; \
        } \
    } while (0)

/*
 * got == want, printing both on failure:
 *     FAIL t.c:12: n == 3: got 2, want 3
 * CHECK_EQ_INT compares integers as intmax_t, CHECK_EQ_UINT as uintmax_t,
 * CHECK_EQ_STR strings with strcmp() (NULL equals only NULL). CHECK_EQ
 * picks by the type of want: a string, an unsigned or another integer.
 */
#define CHECK_EQ_INT(got, want) \
    test_eq_num((got), (want), 1, #got, #want, __FILE__, __LINE__)
#define CHECK_EQ_UINT(got, want) \
    test_eq_num((got), (want), 0, #got, #want, __FILE__, __LINE__)
#define CHECK_EQ_STR(got, want) \
    test_eq_str((got), (want), 0, #got, #want, __FILE__, __LINE__)
#define CHECK_EQ(got, want) _Generic((want), \
        char *: test_eq_str, const char *: test_eq_str, \
        default: test_eq_num)((got), (want), _Generic((want), \
        unsigned: 0, unsigned long: 0, unsigned long long: 0, default: 1), \
        #got, #want, __FILE__, __LINE__)

/* Integers travel as uintmax_t (conversion keeps the bits and equality);
 * sgn says how to print them. */
static inline void
test_eq_num(uintmax_t got, uintmax_t want, int sgn, const char *gs,
    const char *ws, const char *file, int line)
{
    if (got == want)
        return;
    if (sgn)
        printf("FAIL %s:%d: %s == %s: got %jd, want %jd\n", file, line, gs,
            ws, (intmax_t)got, (intmax_t)want);
    else
        printf("FAIL %s:%d: %s == %s: got %ju, want %ju\n", file, line, gs,
            ws, got, want);
    test_cur_failed++;
}

static inline void
test_eq_str(const char *got, const char *want, int unused, const char *gs,
    const char *ws, const char *file, int line)
{
    (void)unused;
    if (got == NULL || want == NULL ? got == want : strcmp(got, want) == 0)
        return;
    printf("FAIL %s:%d: %s == %s: got %s%s%s, want %s%s%s\n", file, line,
        gs, ws, got ? "\"" : "", got ? got : "NULL", got ? "\"" : "",
        want ? "\"" : "", want ? want : "NULL", want ? "\"" : "");
    test_cur_failed++;
}

/* Make the directory tmpl ("/tmp/name.XXXXXX", rewritten in place) with
 * mkdtemp(3); without it the test cannot run: exit 1. */
static inline void
test_tmpdir(char *tmpl)
{
    if (mkdtemp(tmpl) == NULL) {
        perror(tmpl);
        exit(1);
    }
}

/* rm -rf dir. Returns 0, or -1. */
static inline int
test_tmpdir_remove(const char *dir)
{
    char cmd[PATH_MAX + 16];

    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    return system(cmd) == 0 ? 0 : -1;
}

/* Run one test function; it fails if any of its checks failed. */
#define RUN(fn) do { \
        test_cur_failed = 0; \
        fn(); \
        if (test_cur_failed == 0) { \
            test_passed++; \
        } else { \
            printf("FAILED %s\n", #fn); \
            test_failed++; \
        } \
    } while (0)

/* Print "N passed, N failed" and return the exit status. */
static inline int
test_report(void)
{
    printf("%d passed, %d failed\n", test_passed, test_failed);
    return test_failed == 0 ? 0 : 1;
}

/* A path under the repository top (tests may run from anywhere): LAMBDA_TOP
 * or the current directory, then rel, into buf. Returns buf. */
static inline const char *
test_top_path(const char *rel, char *buf, size_t size)
{
    const char *top = getenv("LAMBDA_TOP");

    snprintf(buf, size, "%s/%s", top != NULL ? top : ".", rel);
    return buf;
}

#endif
