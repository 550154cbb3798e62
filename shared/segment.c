/* segment.c -- the speed archive's file names and store record: speed writes, batch reads */
#include <assert.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "shared/segment.h"

void
segment_key(struct buf *b, const char *topic, int32_t part)
{
    buf_printf(b, SEGMENT_KEY_PREFIX "%s/", topic);
    if (part >= 0)
        buf_printf(b, "%" PRId32, part);
}

/* Parse a decimal int64 at *p, which then points past it. */
static int
parse_i64(const char **p, int64_t *v)
{
    char *end;
    long long n;

    if (**p != '-' && (**p < '0' || **p > '9'))
        return -1;
    errno = 0;
    n = strtoll(*p, &end, 10);
    if (errno != 0 || end == *p)
        return -1;
    *v = n;
    *p = end;
    return 0;
}

int
segment_key_part(const char *name, const char *topic, int32_t *part)
{
    size_t np = strlen(SEGMENT_KEY_PREFIX), nt = strlen(topic);
    const char *p;
    int64_t v;

    if (strncmp(name, SEGMENT_KEY_PREFIX, np) != 0 ||
        strncmp(name + np, topic, nt) != 0 || name[np + nt] != '/')
        return -1;
    p = name + np + nt + 1;
    /* only what segment_key() writes: no sign, no leading zero */
    if (*p == '-' || (*p == '0' && p[1] != '\0') || parse_i64(&p, &v) != 0 ||
        *p != '\0' || v > INT32_MAX)
        return -1;
    *part = (int32_t)v;
    return 0;
}

void
segment_tmax_key(struct buf *b, const char *topic, int32_t part,
    int64_t first)
{
    buf_clear(b);
    buf_printf(b, SEGMENT_TMAX_PREFIX "%s/%" PRId32 "/%" PRId64, topic, part,
        first);
}

size_t
segment_format(const struct segment *s, char *buf)
{
    int n = snprintf(buf, SEGMENT_RECORD_MAX, "%" PRId64 " %" PRId64 " %"
        PRId64 " %" PRId64 " %" PRId64, s->first, s->len, s->last,
        s->opened, s->tmin);

    /* five int64 and four spaces always fit */
    assert(n > 0 && n < SEGMENT_RECORD_MAX);
    return (size_t)n;
}

int
segment_parse(struct segment *s, const void *text, size_t len)
{
    struct segment got;
    int64_t *fields[] = {&got.first, &got.len, &got.last, &got.opened,
        &got.tmin};
    char copy[SEGMENT_RECORD_MAX];
    const char *p = copy;

    if (len == 0 || len >= sizeof(copy))
        return -1;
    memcpy(copy, text, len);
    copy[len] = '\0';
    for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++)
        if ((i > 0 && *p++ != ' ') || parse_i64(&p, fields[i]) != 0)
            return -1;
    if (*p != '\0')
        return -1;
    *s = got;
    return 0;
}

const char *
segment_open_name(char *buf, int64_t first)
{
    snprintf(buf, SEGMENT_NAME_MAX, ".%020" PRId64 SEGMENT_OPEN_SUFFIX, first);
    return buf;
}

const char *
segment_sealed_name(char *buf, int64_t first, int64_t last)
{
    snprintf(buf, SEGMENT_NAME_MAX, "%020" PRId64 "-%020" PRId64
        SEGMENT_SUFFIX, first, last);
    return buf;
}

/* n decimal digits at s, into *v; -1 when they are not. */
static int
digits(const char *s, int n, int64_t *v)
{
    *v = 0;
    for (int i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9' || *v > (INT64_MAX - 9) / 10)
            return -1;
        *v = *v * 10 + (s[i] - '0');
    }
    return 0;
}

int
segment_path_parse(const char *path, const char *dir, const char *topic,
    int32_t *part, int64_t *first, int64_t *last)
{
    size_t dl = strlen(dir), tl = strlen(topic);
    const char *s = path, *slash;
    char *end;
    long p;

    while (dl > 1 && dir[dl - 1] == '/')
        dl--;
    if (strncmp(s, dir, dl) != 0 || s[dl] != '/' ||
        strncmp(s + dl + 1, topic, tl) != 0 || s[dl + 1 + tl] != '/' ||
        s[dl + 2 + tl] != 'p')
        return -1;
    s += dl + 3 + tl;
    errno = 0;
    p = strtol(s, &end, 10);
    if (end == s || *end != '/' || errno != 0 || p < 0 || p > INT32_MAX)
        return -1;
    s = end + 1;
    if ((slash = strchr(s, '/')) != NULL || strlen(s) != 20 + 1 + 20 +
        strlen(SEGMENT_SUFFIX) || s[20] != '-' ||
        strcmp(s + 41, SEGMENT_SUFFIX) != 0 || digits(s, 20, first) != 0 ||
        digits(s + 21, 20, last) != 0)
        return -1;
    *part = (int32_t)p;
    return 0;
}

int
segment_path_is(const char *path, int32_t part, int64_t first)
{
    char needle[SEGMENT_NAME_MAX];

    snprintf(needle, sizeof(needle), "/p%" PRId32 "/%020" PRId64 "-", part,
        first);
    return strstr(path, needle) != NULL;
}
