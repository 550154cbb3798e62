/* now.h -- the two clocks every program reads: wall time and monotonic time */
#ifndef SHARED_NOW_H
#define SHARED_NOW_H

#include <stdint.h>

/*
 * The wall clock (CLOCK_REALTIME) says what time it is: event times,
 * watermarks, published_at, log lines. It can jump when the system clock is
 * set, so it never measures an interval. The monotonic clock
 * (CLOCK_MONOTONIC) never jumps and means nothing across processes: it
 * measures durations and sets deadlines. clock_gettime(2) cannot fail for
 * these two clocks, so nothing here returns an error.
 */

/* Milliseconds since 1970-01-01T00:00:00Z (wall). */
int64_t now_wall_ms(void);

/* Monotonic time in nanoseconds, microseconds, milliseconds and seconds: one
 * clock at four scales, to compare with itself, never with now_wall_ms(). */
int64_t now_mono_ns(void);
int64_t now_mono_us(void);
int64_t now_mono_ms(void);
double now_mono_s(void);

#endif
