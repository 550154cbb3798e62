/* timeshift.c -- move the event times in raw JSON text by whole days, every other byte kept */
#include <ctype.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "shared/timeshift.h"
#include "shared/ts.h"

#define DATE_LEN 10         /* "YYYY-MM-DD" */

/* The date "YYYY-MM-DD" at s as ms at its midnight UTC, or -1. */
static int
date_parse(const char *s, int64_t *ms)
{
    char text[DATE_LEN + 11];

    for (int i = 0; i < DATE_LEN; i++) {
        if (i == 4 || i == 7 ? s[i] != '-' :
            !isdigit((unsigned char)s[i]))
            return -1;
    }
    memcpy(text, s, DATE_LEN);
    memcpy(text + DATE_LEN, "T00:00:00Z", 10);
    return ts_parse(text, DATE_LEN + 10, ms);
}

/* Write the date at s moved by days into to (DATE_LEN bytes). Returns 0,
 * or -1 when it is no date or leaves [TS_MIN, TS_MAX]. */
static int
date_move(const char *s, int64_t days, char *to)
{
    char tbuf[TS_BUFSZ];
    int64_t ms;

    if (date_parse(s, &ms) != 0 || days > TS_MAX / TS_DAY_MS ||
        days < -(TS_MAX / TS_DAY_MS))
        return -1;
    ms += days * TS_DAY_MS;
    if (ms < TS_MIN || ms > TS_MAX)
        return -1;
    memcpy(to, ts_format(ms, tbuf, sizeof(tbuf)), DATE_LEN);
    return 0;
}

/* The last byte before i that is not white space is '{' or ','. */
static int
after_open_or_comma(const char *s, size_t i)
{
    while (i > 0 && isspace((unsigned char)s[i - 1]))
        i--;
    return i > 0 && (s[i - 1] == '{' || s[i - 1] == ',');
}

/* The value after a key at s[i] ('"' opening the key), or 0. */
static size_t
value_at(const char *s, size_t len, size_t i, const char *key, size_t klen)
{
    size_t j = i + 1 + klen;

    if (j >= len || memcmp(s + i + 1, key, klen) != 0 || s[j] != '"' ||
        !after_open_or_comma(s, i))
        return 0;
    for (j++; j < len && isspace((unsigned char)s[j]); j++)
        ;
    if (j >= len || s[j] != ':')
        return 0;
    for (j++; j < len && isspace((unsigned char)s[j]); j++)
        ;
    return j < len ? j : 0;
}

/*
 * The time value at s[v]: its span [v, *end) and its time in *ms. For text
 * the span includes the quotes. Returns 0, or -1 when it is not a time.
 */
static int
time_at(const char *s, size_t len, size_t v, size_t *end, int64_t *ms)
{
    char num[64];
    size_t e;

    if (s[v] == '"') {
        for (e = v + 1; e < len && s[e] != '"' && s[e] != '\\'; e++)
            ;
        if (e >= len || s[e] != '"' || ts_parse(s + v + 1, e - v - 1, ms) != 0)
            return -1;
        *end = e + 1;
        return 0;
    }
    for (e = v; e < len && e - v < sizeof(num) - 1 &&
        (isdigit((unsigned char)s[e]) || strchr(".eE+-", s[e]) != NULL); e++)
        ;
    if (e == v || e - v >= sizeof(num) - 1 || !isdigit((unsigned char)s[v]))
        return -1;
    memcpy(num, s + v, e - v);
    num[e - v] = '\0';
    if (ts_from_number(strtod(num, NULL), ms) != 0)
        return -1;
    *end = e;
    return 0;
}

/* Append the time s[v, end) (worth ms) moved by days; 0, or -1 to keep it. */
static int
time_move(const char *s, size_t v, size_t end, int64_t ms, int64_t days,
    struct buf *out)
{
    char date[DATE_LEN], num[64], frac[64] = "";
    int64_t moved, whole, unit, check;
    size_t n = end - v;

    if (days > TS_MAX / TS_DAY_MS || days < -(TS_MAX / TS_DAY_MS))
        return -1;
    moved = ms + days * TS_DAY_MS;
    if (moved < TS_MIN || moved > TS_MAX)
        return -1;
    if (s[v] == '"') {
        if (date_move(s + v + 1, days, date) != 0)
            return -1;
        buf_putc(out, '"');
        buf_append(out, date, DATE_LEN);
        buf_append(out, s + v + 1 + DATE_LEN, n - 1 - DATE_LEN);
        return 0;
    }
    memcpy(num, s + v, n);
    num[n] = '\0';
    if (strpbrk(num, "eE") != NULL) {      /* rewritten as milliseconds */
        buf_printf(out, "%" PRId64, moved);
        return 0;
    }
    /* as ts_from_number(): 1e11 and above are milliseconds */
    unit = strtod(num, NULL) >= 1e11 ? TS_DAY_MS : TS_DAY_MS / 1000;
    whole = strtoll(num, NULL, 10) + days * unit;
    if (strchr(num, '.') != NULL)
        snprintf(frac, sizeof(frac), "%s", strchr(num, '.'));
    snprintf(num, sizeof(num), "%" PRId64 "%s", whole, frac);
    /* the threshold must not be crossed: read it back as the programs do */
    if (strlen(num) >= sizeof(num) - 1 ||
        ts_from_number(strtod(num, NULL), &check) != 0 || check != moved)
        return -1;
    buf_puts(out, num);
    return 0;
}

size_t
timeshift_text(const char *s, size_t len, const char *key, int64_t days,
    struct buf *out, int64_t *max)
{
    size_t klen = strlen(key), copied = 0, found = 0, v, end;
    const char *q;
    int64_t ms;

    for (size_t i = 0; i < len; i = end) {
        q = memchr(s + i, '"', len - i);
        if (q == NULL)
            break;
        i = (size_t)(q - s);
        end = i + 1;
        if ((v = value_at(s, len, i, key, klen)) == 0 ||
            time_at(s, len, v, &end, &ms) != 0) {
            end = i + 1;
            continue;
        }
        found++;
        if (ms > *max)
            *max = ms;
        if (out == NULL)
            continue;
        buf_append(out, s + copied, v - copied);
        if (time_move(s, v, end, ms, days, out) != 0)
            buf_append(out, s + v, end - v);
        copied = end;
    }
    if (out != NULL)
        buf_append(out, s + copied, len - copied);
    return found;
}

int
timeshift_name(char *name, int64_t days)
{
    size_t len = strlen(name);

    for (size_t i = 0; i + DATE_LEN <= len; i++) {
        if (date_move(name + i, days, name + i) == 0)
            return 1;
    }
    return 0;
}
