/* test.h -- the unit-test harness: CHECK counts, RUN groups, test_report totals */
#ifndef TESTS_TEST_H
#define TESTS_TEST_H

#include <stdio.h>
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

#endif
