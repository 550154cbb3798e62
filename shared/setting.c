/* setting.c -- the pipeline's scalar settings: their table, how each type is checked and stored */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "shared/mem.h"
#include "shared/setting.h"
#include "shared/ts.h"

#define OFF(m) offsetof(struct pipeline, m)

static const struct setting settings[] = {
    {"store", SET_STR, OFF(store), 0, 0},
    {"batch.rejects", SET_STR, OFF(batch.rejects), 0, 0},
    {"batch.default_time", SET_DEFTIME, OFF(batch.default_time), 0, 0},
    {"batch.repository", SET_OPTSTR, OFF(batch.repository), 0, 0},
    {"batch.repository_keep", SET_INT, OFF(batch.repository_keep), 1,
        1000000},
    {"speed.brokers", SET_STR, OFF(speed.brokers), 0, 0},
    {"speed.topic", SET_OPTSTR, OFF(speed.topic), 0, 0},
    {"speed.group", SET_STR, OFF(speed.group), 0, 0},
    {"speed.partitions", SET_INT, OFF(speed.partitions), 1, 10000},
    {"speed.lateness", SET_DURATION, OFF(speed.lateness), 0,
        366 * TS_DAY_MS},
    {"speed.max_batch", SET_INT, OFF(speed.max_batch), 1, 10000000},
    {"speed.commit_ms", SET_INT, OFF(speed.commit_ms), 1, 3600000},
    {"speed.start", SET_START, OFF(speed.start_latest), 0, 0},
    {"speed.on_data_loss", SET_LOSS, OFF(speed.skip_data_loss), 0, 0},
    {"speed.rejects_topic", SET_OPTSTR, OFF(speed.rejects_topic), 0, 0},
    {"speed.rejects_file", SET_OPTSTR, OFF(speed.rejects_file), 0, 0},
    {"speed.archive", SET_OPTSTR, OFF(speed.archive), 0, 0},
    {"serving.listen", SET_LISTEN, OFF(serving.listen), 0, 0},
    {"serving.token", SET_OPTSTR, OFF(serving.token), 0, 0},
    {"serving.cors_origin", SET_OPTSTR, OFF(serving.cors_origin), 0, 0},
    {"serving.threads", SET_INT, OFF(serving.threads), 1, 1024},
    {"serving.max_connections", SET_INT, OFF(serving.max_connections), 1,
        1000000},
    {"serving.max_connections_per_ip", SET_INT,
        OFF(serving.max_connections_per_ip), 0, 1000000},
    {"serving.timeout", SET_INT, OFF(serving.timeout), 1, 86400},
    {"serving.max_points", SET_INT, OFF(serving.max_points), 1, 100000000},
    {"serving.max_top", SET_INT, OFF(serving.max_top), 1, 1000000},
    {"serving.ready_max_lag", SET_LAG, OFF(serving.ready_max_lag), 0, 0},
    {NULL, SET_STR, 0, 0, 0}
};

/* "0s", "0ms", "0" ...: ts_duration_parse() refuses zero, lateness takes it. */
static int
is_zero_duration(const char *s)
{
    if (*s != '0')
        return 0;
    while (*s == '0')
        s++;
    return strcmp(s, "") == 0 || strcmp(s, "ms") == 0 || strcmp(s, "s") == 0 ||
        strcmp(s, "m") == 0 || strcmp(s, "h") == 0 || strcmp(s, "d") == 0;
}

static int
valid_listen(const char *s)
{
    const char *colon = strrchr(s, ':');
    char *end;
    long port;

    if (colon == NULL || colon == s || colon[1] == '\0')
        return 0;
    for (const char *c = colon + 1; *c != '\0'; c++) {
        if (*c < '0' || *c > '9')
            return 0;
    }
    errno = 0;
    port = strtol(colon + 1, &end, 10);
    return errno == 0 && *end == '\0' && port >= 0 && port <= 65535;
}

const struct setting *
setting_find(const char *key)
{
    for (const struct setting *s = settings; s->key != NULL; s++) {
        if (strcmp(s->key, key) == 0)
            return s;
    }
    return NULL;
}

int
setting_keys(const char *section, const char **keys, int max)
{
    size_t plen = strlen(section);
    int n = 0;

    for (const struct setting *s = settings; s->key != NULL && n < max; s++) {
        if (strncmp(s->key, section, plen) == 0 && s->key[plen] == '.')
            keys[n++] = s->key + plen + 1;
    }
    return n;
}

void
setting_expect(const struct setting *s, char *buf, size_t size)
{
    char lo[TS_BUFSZ], hi[TS_BUFSZ];

    switch (s->type) {
    case SET_STR:
        snprintf(buf, size, "a non-empty string");
        break;
    case SET_OPTSTR:
        snprintf(buf, size, "a string");
        break;
    case SET_INT:
        snprintf(buf, size, "an integer from %lld to %lld", (long long)s->lo,
            (long long)s->hi);
        break;
    case SET_DURATION:
        if (s->lo == 0)
            snprintf(lo, sizeof(lo), "0s");
        else
            (void)ts_duration_format(s->lo, lo, sizeof(lo));
        (void)ts_duration_format(s->hi, hi, sizeof(hi));
        snprintf(buf, size, "a duration from %s to %s such as \"10m\"", lo,
            hi);
        break;
    case SET_START:
        snprintf(buf, size, "\"earliest\" or \"latest\"");
        break;
    case SET_LOSS:
        snprintf(buf, size, "\"fail\" or \"skip\"");
        break;
    case SET_LISTEN:
        snprintf(buf, size, "ADDR:PORT such as \"127.0.0.1:8080\"");
        break;
    case SET_DEFTIME:
        snprintf(buf, size, "\"mtime\", \"none\", or an RFC 3339 time or "
            "epoch seconds");
        break;
    case SET_LAG:
        snprintf(buf, size, "records such as 1000 or a duration such as "
            "\"30s\"");
        break;
    }
}

/* A lag bound: "" none, digits a number of records, else a duration. */
static int
lag_store(struct pipeline_lag *lag, const char *text)
{
    long long n;
    int64_t ms;
    char *end;

    if (*text == '\0') {
        lag->records = lag->ms = -1;
        return 0;
    }
    if (*text >= '0' && *text <= '9') {
        errno = 0;
        n = strtoll(text, &end, 10);
        if (errno == 0 && *end == '\0') {
            lag->records = n;
            lag->ms = -1;
            return 0;
        }
    }
    if (is_zero_duration(text))
        ms = 0;
    else if (ts_duration_parse(text, &ms) != 0)
        return -1;
    if (ms < 0 || ms > 366 * TS_DAY_MS)
        return -1;
    lag->ms = ms;
    lag->records = -1;
    return 0;
}

int
setting_store(struct pipeline *p, const struct setting *s, const char *text)
{
    char *base = (char *)p + s->off;
    int64_t v;
    char *end;

    switch (s->type) {
    case SET_STR:
    case SET_OPTSTR: {
        char **dst = (char **)(void *)base;
        if (s->type == SET_STR && *text == '\0')
            return -1;
        free(*dst);
        *dst = *text == '\0' ? NULL : xstrdup(text);
        return 0;
    }
    case SET_INT: {
        long long n;
        if (*text == '\0' || *text == ' ')
            return -1;
        errno = 0;
        n = strtoll(text, &end, 10);
        if (errno != 0 || *end != '\0' || n < s->lo || n > s->hi)
            return -1;
        *(int *)(void *)base = (int)n;
        return 0;
    }
    case SET_DURATION:
        if (is_zero_duration(text))
            v = 0;
        else if (ts_duration_parse(text, &v) != 0)
            return -1;
        if (v < s->lo || v > s->hi)
            return -1;
        *(int64_t *)(void *)base = v;
        return 0;
    case SET_START:
    case SET_LOSS: {
        const char *on = s->type == SET_START ? "latest" : "skip";
        const char *off = s->type == SET_START ? "earliest" : "fail";
        if (strcmp(text, on) == 0)
            *(int *)(void *)base = 1;
        else if (strcmp(text, off) == 0)
            *(int *)(void *)base = 0;
        else
            return -1;
        return 0;
    }
    case SET_LISTEN: {
        char **dst = (char **)(void *)base;
        if (!valid_listen(text))
            return -1;
        free(*dst);
        *dst = xstrdup(text);
        return 0;
    }
    case SET_DEFTIME: {
        char **dst = (char **)(void *)base;
        if (strcmp(text, "mtime") != 0 && strcmp(text, "none") != 0 &&
            *text != '\0' && (ts_param_parse(text, &v) != 0 || v < 0))
            return -1;
        free(*dst);
        *dst = *text == '\0' || strcmp(text, "none") == 0 ? NULL :
            xstrdup(text);
        return 0;
    }
    case SET_LAG:
        return lag_store((struct pipeline_lag *)(void *)base, text);
    }
    return -1;
}

void
setting_after(struct pipeline *p, const struct setting *s)
{
    if (strcmp(s->key, "speed.rejects_topic") == 0 &&
        p->speed.rejects_topic != NULL) {
        free(p->speed.rejects_file);
        p->speed.rejects_file = NULL;
    } else if (strcmp(s->key, "speed.rejects_file") == 0 &&
        p->speed.rejects_file != NULL) {
        free(p->speed.rejects_topic);
        p->speed.rejects_topic = NULL;
    }
}
