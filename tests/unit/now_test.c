/* now_test.c -- unit tests for shared/now.c: the wall and monotonic clocks */
#include <stdint.h>
#include <time.h>

#include "shared/now.h"
#include "tests/test.h"

/* The wall clock is the system's, in milliseconds (time(2) may lag it by a
 * tick: a second of slack). */
static void
test_now_wall(void)
{
    int64_t before = (int64_t)time(NULL) * 1000;
    int64_t ms = now_wall_ms();
    int64_t after = (int64_t)time(NULL) * 1000 + 2000;

    CHECK(ms >= before && ms < after);
}

/* The monotonic clock never goes back, and its four scales agree. */
static void
test_now_mono(void)
{
    int64_t ns = now_mono_ns(), us = now_mono_us(), ms = now_mono_ms();
    double s = now_mono_s();
    int64_t ns2 = now_mono_ns();

    CHECK(ns > 0 && ns2 >= ns);
    CHECK(us >= ns / 1000 && us <= ns2 / 1000);
    CHECK(ms >= ns / 1000000 && ms <= ns2 / 1000000);
    CHECK(s * 1e9 >= (double)ns - 1e3 && s * 1e9 <= (double)ns2 + 1e3);
}

int
main(void)
{
    RUN(test_now_wall);
    RUN(test_now_mono);
    return test_report();
}
