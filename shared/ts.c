/* ts.c -- event time: RFC 3339 and epoch parsing, formatting, durations, buckets */
#include <assert.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "shared/ts.h"

/*
 * Days since 1970-01-01 of a proleptic Gregorian date, by plain integer
 * arithmetic over 400-year eras (no mktime/timegm: this is on the hot path
 * and must not touch the TZ machinery). m is 1..12, d is 1..31.
 */
static int64_t
days_from_civil(int64_t y, int m, int d)
{
    int64_t era, yoe, doy, doe;

    y -= m <= 2;
    era = (y >= 0 ? y : y - 399) / 400;
    yoe = y - era * 400;                                   /* [0, 399] */
    doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1; /* [0, 365] */
    doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;           /* [0, 146096] */
    return era * 146097 + doe - 719468;
}

/* The inverse of days_from_civil(). */
static void
civil_from_days(int64_t z, int64_t *y, int *m, int *d)
{
    int64_t era, doe, yoe, doy, mp;

    z += 719468;
    era = (z >= 0 ? z : z - 146096) / 146097;
    doe = z - era * 146097;
    yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    mp = (5 * doy + 2) / 153;
    *d = (int)(doy - (153 * mp + 2) / 5 + 1);
    *m = (int)(mp < 10 ? mp + 3 : mp - 9);
    *y = yoe + era * 400 + (*m <= 2);
}

static int
is_leap(int64_t y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static int
days_in_month(int64_t y, int m)
{
    static const int mdays[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30,
        31};

    return m == 2 && is_leap(y) ? 29 : mdays[m - 1];
}

/* Read exactly n decimal digits at s into *v; 0 or -1. */
static int
digits(const char *s, int n, int *v)
{
    int x = 0;

    for (int i = 0; i < n; i++) {
        unsigned c = (unsigned char)s[i] - '0';
        if (c > 9)
            return -1;
        x = x * 10 + (int)c;
    }
    *v = x;
    return 0;
}

/*
 * Days already parsed by this thread, by day of the month and month: the
 * events of a file span a few days or months, so a date's digits are read
 * and checked once. Only valid dates are kept (an empty entry's text is
 * NULs, which a date never starts with).
 */
#define DAY_CACHE 64
static __thread struct {
    char    text[10];   /* "YYYY-MM-DD" */
    int64_t days;
} day_cache[DAY_CACHE];

/* Days since the epoch of the valid date "YYYY-MM-DD" at s, or -1. */
static int
parse_day(const char *s, int64_t *days)
{
    unsigned i = ((unsigned char)s[6] * 31u + (unsigned char)s[8] * 10u +
        (unsigned char)s[9]) % DAY_CACHE;
    int y, mo, d;

    if (memcmp(s, day_cache[i].text, 10) == 0) {
        *days = day_cache[i].days;
        return 0;
    }
    if (digits(s, 4, &y) != 0 || s[4] != '-' ||
        digits(s + 5, 2, &mo) != 0 || s[7] != '-' ||
        digits(s + 8, 2, &d) != 0 ||
        mo < 1 || mo > 12 || d < 1 || d > days_in_month(y, mo))
        return -1;
    *days = days_from_civil(y, mo, d);
    memcpy(day_cache[i].text, s, 10);
    day_cache[i].days = *days;
    return 0;
}

int
ts_parse(const char *s, size_t len, int64_t *ms)
{
    const char *p, *end = s + len;
    int h, mi, sec, frac = 0, off = 0;
    int64_t t, days;

    /* "YYYY-MM-DDTHH:MM:SS" is 19 bytes, the offset at least 1 more */
    if (len < 20 || parse_day(s, &days) != 0 ||
        (s[10] != 'T' && s[10] != 't' && s[10] != ' ') ||
        digits(s + 11, 2, &h) != 0 || s[13] != ':' ||
        digits(s + 14, 2, &mi) != 0 || s[16] != ':' ||
        digits(s + 17, 2, &sec) != 0)
        return -1;
    if (h > 23 || mi > 59 || sec > 59)
        return -1;
    p = s + 19;
    if (*p == '.') {
        int nd = 0;

        for (p++; p < end && (unsigned)((unsigned char)*p - '0') <= 9; p++) {
            if (nd++ < 3)
                frac = frac * 10 + (*p - '0');
        }
        if (nd == 0)
            return -1;
        for (; nd < 3; nd++)
            frac *= 10;
    }
    if (p >= end)
        return -1;
    if (*p == 'Z' || *p == 'z') {
        p++;
    } else if (*p == '+' || *p == '-') {
        int oh, om;

        if (end - p < 6 || digits(p + 1, 2, &oh) != 0 || p[3] != ':' ||
            digits(p + 4, 2, &om) != 0 || oh > 23 || om > 59)
            return -1;
        off = (oh * 60 + om) * 60;
        if (*p == '-')
            off = -off;
        p += 6;
    } else {
        return -1;
    }
    if (p != end)
        return -1;
    t = days * 86400 + h * 3600 + mi * 60 + sec - off;
    t = t * 1000 + frac;
    if (t < TS_MIN || t > TS_MAX)
        return -1;
    *ms = t;
    return 0;
}

int
ts_from_number(double d, int64_t *ms)
{
    double x, r;

    if (!isfinite(d))
        return -1;
    x = fabs(d) >= 1e11 ? d : d * 1000.0;
    if (!(x >= (double)TS_MIN && x < (double)TS_MAX + 1.0))
        return -1;
    /*
     * 1763643600.123 * 1000 lands a hair off 1763643600123: snap to the
     * nearest millisecond within a few ulps, otherwise truncate the fraction
     * (as ts_parse() does).
     */
    r = nearbyint(x);
    if (fabs(x - r) > x * 1e-15 + 1e-9)
        r = floor(x);
    if (r > (double)TS_MAX)
        return -1;
    *ms = (int64_t)r;
    return 0;
}

int
ts_param_parse(const char *s, int64_t *ms)
{
    const char *p = s;

    if (*p == '\0')
        return -1;
    while (*p >= '0' && *p <= '9')
        p++;
    if (*p == '\0') {
        long long v;
        char *e;

        errno = 0;
        v = strtoll(s, &e, 10);
        if (errno != 0 || *e != '\0' || v > TS_MAX / 1000)
            return -1;
        *ms = (int64_t)v * 1000;
        return 0;
    }
    return ts_parse(s, strlen(s), ms);
}

/* Write v as exactly n digits, zero-padded, at p. */
static char *
put_digits(char *p, int64_t v, int n)
{
    for (int i = n - 1; i >= 0; i--) {
        p[i] = (char)('0' + v % 10);
        v /= 10;
    }
    return p + n;
}

/* The date part of the last day this thread printed, "YYYY-MM-DDT". */
static __thread int64_t day_last = INT64_MIN;
static __thread char day_text[TS_BUFSZ];
static __thread size_t day_len;

char *
ts_format(int64_t ms, char *buf, size_t size)
{
    (void)ts_format_end(ms, buf, size);
    return buf;
}

char *
ts_format_end(int64_t ms, char *buf, size_t size)
{
    int64_t days, rem, y;
    int m, d, yd = 4;
    char *p = buf;

    assert(size >= TS_BUFSZ);
    (void)size;
    /* a value no event has (a damaged store's meta) prints as the nearest
     * of year -9999 and 9999, rather than overflowing below */
    if (ms < -TS_MAX - TS_DAY_MS * 366 * 2)
        ms = -TS_MAX - TS_DAY_MS * 366 * 2;
    if (ms > TS_MAX)
        ms = TS_MAX;
    days = ts_bucket(ms, TS_DAY_MS) / TS_DAY_MS;
    rem = ms - days * TS_DAY_MS;                 /* [0, TS_DAY_MS) */
    if (days == day_last) {     /* a series prints many times of one day */
        memcpy(p, day_text, day_len);
        p += day_len;
    } else {
        civil_from_days(days, &y, &m, &d);
        if (y < 0) {
            *p++ = '-';
            y = -y;
        }
        for (int64_t t = y; t >= 10000; t /= 10)
            yd++;
        p = put_digits(p, y, yd);
        *p++ = '-';
        p = put_digits(p, m, 2);
        *p++ = '-';
        p = put_digits(p, d, 2);
        *p++ = 'T';
        day_len = (size_t)(p - buf);
        memcpy(day_text, buf, day_len);
        day_last = days;
    }
    p = put_digits(p, rem / 3600000, 2);
    *p++ = ':';
    p = put_digits(p, rem / 60000 % 60, 2);
    *p++ = ':';
    p = put_digits(p, rem / 1000 % 60, 2);
    if (rem % 1000 != 0) {
        *p++ = '.';
        p = put_digits(p, rem % 1000, 3);
    }
    *p++ = 'Z';
    *p = '\0';
    return p;
}

static const struct {
    const char *name;
    int64_t     ms;
} units[] = {
    {"d", TS_DAY_MS}, {"h", 3600000}, {"m", 60000}, {"s", 1000}, {"ms", 1},
};

int
ts_duration_parse(const char *s, int64_t *ms)
{
    const char *p = s;
    int64_t v = 0;

    if (*p < '0' || *p > '9')
        return -1;
    for (; *p >= '0' && *p <= '9'; p++) {
        if (__builtin_mul_overflow(v, 10, &v) ||
            __builtin_add_overflow(v, *p - '0', &v))
            return -1;
    }
    if (v == 0)
        return -1;
    for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
        if (strcmp(p, units[i].name) == 0) {
            if (__builtin_mul_overflow(v, units[i].ms, &v))
                return -1;
            *ms = v;
            return 0;
        }
    }
    return -1;
}

char *
ts_duration_format(int64_t ms, char *buf, size_t size)
{
    size_t i = 0;

    if (ms == 0) {
        (void)snprintf(buf, size, "0s");
        return buf;
    }
    while (ms % units[i].ms != 0)
        i++;
    (void)snprintf(buf, size, "%lld%s", (long long)(ms / units[i].ms),
        units[i].name);
    return buf;
}

int64_t
ts_bucket(int64_t t, int64_t gran)
{
    int64_t q;

    assert(gran > 0);
    if (t >= 0)
        return t - t % gran;    /* every event time: one division */
    q = t / gran;
    if (t % gran < 0)
        q--;
    /* within gran of INT64_MIN (never an event time; a damaged store's
     * value can be): the lowest bucket int64 holds */
    if (q < INT64_MIN / gran)
        q = INT64_MIN / gran;
    return q * gran;
}

int64_t
ts_gcd(int64_t a, int64_t b)
{
    while (b != 0) {
        int64_t r = a % b;

        a = b;
        b = r;
    }
    return a;
}
