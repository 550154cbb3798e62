/* now.c -- the two clocks every program reads: wall time and monotonic time */
#include <stdint.h>
#include <time.h>

#include "shared/now.h"

static int64_t
ns_of(clockid_t id)
{
    struct timespec ts;

    (void)clock_gettime(id, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

int64_t
now_wall_ms(void)
{
    return ns_of(CLOCK_REALTIME) / 1000000;
}

int64_t
now_mono_ns(void)
{
    return ns_of(CLOCK_MONOTONIC);
}

int64_t
now_mono_us(void)
{
    return ns_of(CLOCK_MONOTONIC) / 1000;
}

int64_t
now_mono_ms(void)
{
    return ns_of(CLOCK_MONOTONIC) / 1000000;
}

double
now_mono_s(void)
{
    return (double)ns_of(CLOCK_MONOTONIC) / 1e9;
}
