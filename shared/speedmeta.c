/* speedmeta.c -- what lambda-speed keeps in the store's meta for the others: keys, status record */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "shared/err.h"
#include "shared/mem.h"
#include "shared/speedmeta.h"
#include "shared/ts.h"

void
speedmeta_status_init(struct speedmeta_status *st)
{
    memset(st, 0, sizeof(*st));
    st->last_commit = INT64_MIN;
    st->watermark = INT64_MIN;
    st->fresh_p50 = -1;
    st->fresh_p99 = -1;
}

void
speedmeta_status_reset(struct speedmeta_status *st)
{
    free(st->topic);
    free(st->parts);
    speedmeta_status_init(st);
}

void
speedmeta_status_set_topic(struct speedmeta_status *st, const char *topic)
{
    free(st->topic);
    st->topic = xstrdup(topic);
}

struct speedmeta_part *
speedmeta_status_part(struct speedmeta_status *st, int32_t part)
{
    struct speedmeta_part *pp;

    for (int i = 0; i < st->nparts; i++)
        if (st->parts[i].part == part)
            return &st->parts[i];
    st->parts = xrealloc(st->parts, sizeof(*st->parts) *
        ((size_t)st->nparts + 1));
    pp = &st->parts[st->nparts++];
    memset(pp, 0, sizeof(*pp));
    pp->part = part;
    pp->next = -1;
    pp->high = -1;
    return pp;
}

/* ---- decoding ------------------------------------------------------------ */

/* The record's JSON object, or NULL when text is not one (trailing bytes
 * included); free with cJSON_Delete(). */
static cJSON *
parse_object(const void *text, size_t len)
{
    const char *end = NULL, *stop = (const char *)text + len;
    cJSON *root = cJSON_ParseWithLengthOpts(text, len, &end, 0);

    while (root != NULL && end < stop && (*end == ' ' || *end == '\t' ||
        *end == '\n' || *end == '\r'))
        end++;
    if (!cJSON_IsObject(root) || end != stop) {
        cJSON_Delete(root);
        return NULL;
    }
    return root;
}

/* The number of member name of o as an int64, or dflt when it is not one. */
static int64_t
get_i64(const cJSON *o, const char *name, int64_t dflt)
{
    const cJSON *it = cJSON_GetObjectItemCaseSensitive(o, name);
    double d;

    if (!cJSON_IsNumber(it))
        return dflt;
    d = it->valuedouble;
    if (d >= 9223372036854775807.0)
        return INT64_MAX;
    if (d <= -9223372036854775808.0)
        return INT64_MIN;
    return (int64_t)d;
}

static double
get_double(const cJSON *o, const char *name)
{
    const cJSON *it = cJSON_GetObjectItemCaseSensitive(o, name);

    return cJSON_IsNumber(it) ? it->valuedouble : 0;
}

/* A time member: RFC 3339 text, else INT64_MIN (null). */
static int64_t
get_time(const cJSON *o, const char *name)
{
    const cJSON *it = cJSON_GetObjectItemCaseSensitive(o, name);
    int64_t ms;

    if (!cJSON_IsString(it) || ts_parse(it->valuestring,
        strlen(it->valuestring), &ms) != 0)
        return INT64_MIN;
    return ms;
}

/* Partition names are what the encoder writes: a non-negative int32. */
static int
part_name(const char *s, int32_t *part)
{
    char *end;
    long v;

    if (*s < '0' || *s > '9')
        return -1;
    v = strtol(s, &end, 10);
    if (*end != '\0' || v > INT32_MAX)
        return -1;
    *part = (int32_t)v;
    return 0;
}

int
speedmeta_status_parse(struct speedmeta_status *st, const void *text,
    size_t len)
{
    cJSON *root = parse_object(text, len), *o, *it;
    int32_t part;

    speedmeta_status_reset(st);
    if (root == NULL)
        return -1;
    it = cJSON_GetObjectItemCaseSensitive(root, "topic");
    if (cJSON_IsString(it))
        speedmeta_status_set_topic(st, it->valuestring);
    st->consumed = get_i64(root, "consumed", 0);
    st->accepted = get_i64(root, "accepted", 0);
    st->rejected = get_i64(root, "rejected", 0);
    o = cJSON_GetObjectItemCaseSensitive(root, "rejects");
    for (int i = 1; i < REJECT_NREASONS; i++)
        st->rejects[i] = get_i64(o, event_reject_name((enum reject)i), 0);
    st->late = get_i64(root, "late", 0);
    st->lost = get_i64(root, "lost", 0);
    st->commits = get_i64(root, "commits", 0);
    st->last_commit = get_time(root, "last_commit");
    st->watermark = get_time(root, "watermark");
    o = cJSON_GetObjectItemCaseSensitive(root, "freshness_ms");
    st->fresh_p50 = get_i64(o, "p50", -1);
    st->fresh_p99 = get_i64(o, "p99", -1);
    o = cJSON_GetObjectItemCaseSensitive(root, "partitions");
    if (!cJSON_IsObject(o))
        o = NULL;
    cJSON_ArrayForEach(it, o) {
        struct speedmeta_part *pp;

        if (!cJSON_IsObject(it) || part_name(it->string, &part) != 0)
            continue;
        pp = speedmeta_status_part(st, part);
        pp->next = get_i64(it, "next", -1);
        pp->high = get_i64(it, "high", -1);
        pp->lag = get_i64(it, "lag", 0);
        pp->lag_seconds = get_double(it, "lag_seconds");
    }
    cJSON_Delete(root);
    return 0;
}

/* ---- encoding ------------------------------------------------------------ */

static cJSON *
time_json(int64_t ms)
{
    char tbuf[TS_BUFSZ];

    if (ms < TS_MIN || ms > TS_MAX)
        return cJSON_CreateNull();
    return cJSON_CreateString(ts_format(ms, tbuf, sizeof(tbuf)));
}

/* The members in the order of the schema: readers may compare the text
 * (serving's answer cache keys on it). */
int
speedmeta_status_format(const struct speedmeta_status *st, struct buf *out,
    char *err)
{
    cJSON *root = cJSON_CreateObject(), *o, *parts, *lag, *lags;
    char name[16], *text;

    if (st->topic != NULL)
        cJSON_AddStringToObject(root, "topic", st->topic);
    cJSON_AddNumberToObject(root, "consumed", (double)st->consumed);
    cJSON_AddNumberToObject(root, "accepted", (double)st->accepted);
    cJSON_AddNumberToObject(root, "rejected", (double)st->rejected);
    o = cJSON_AddObjectToObject(root, "rejects");
    for (int i = 1; i < REJECT_NREASONS; i++) {
        /* batch's own reasons only when counted: speed never gives them */
        if (i >= REJECT_NSPEED && st->rejects[i] == 0)
            continue;
        cJSON_AddNumberToObject(o, event_reject_name((enum reject)i),
            (double)st->rejects[i]);
    }
    cJSON_AddNumberToObject(root, "late", (double)st->late);
    cJSON_AddNumberToObject(root, "lost", (double)st->lost);
    cJSON_AddNumberToObject(root, "commits", (double)st->commits);
    cJSON_AddItemToObject(root, "last_commit", time_json(st->last_commit));
    cJSON_AddItemToObject(root, "watermark", time_json(st->watermark));
    o = cJSON_AddObjectToObject(root, "freshness_ms");
    cJSON_AddNumberToObject(o, "p50", (double)st->fresh_p50);
    cJSON_AddNumberToObject(o, "p99", (double)st->fresh_p99);
    parts = cJSON_AddObjectToObject(root, "partitions");
    lag = cJSON_AddObjectToObject(root, "lag");
    lags = cJSON_AddObjectToObject(root, "lag_seconds");
    for (int i = 0; i < st->nparts; i++) {
        const struct speedmeta_part *pp = &st->parts[i];

        snprintf(name, sizeof(name), "%" PRId32, pp->part);
        o = cJSON_AddObjectToObject(parts, name);
        cJSON_AddNumberToObject(o, "next", (double)pp->next);
        cJSON_AddNumberToObject(o, "high", (double)pp->high);
        cJSON_AddNumberToObject(o, "lag", (double)pp->lag);
        cJSON_AddNumberToObject(o, "lag_seconds", pp->lag_seconds);
        cJSON_AddNumberToObject(lag, name, (double)pp->lag);
        cJSON_AddNumberToObject(lags, name, pp->lag_seconds);
    }
    text = cJSON_PrintUnformatted(root);
    cJSON_Delete(root);
    if (text == NULL) {
        snprintf(err, ERR_LEN, "speed status: out of memory");
        return -1;
    }
    buf_puts(out, text);
    cJSON_free(text);
    return 0;
}

/* ---- display ------------------------------------------------------------- */

/* What the keys of a top-level object are. */
static const char *
label_of(const char *name)
{
    if (strcmp(name, "rejects") == 0)
        return "reason";
    if (strncmp(name, "lag", 3) == 0)
        return "partition";
    return "key";
}

static int
is_value(const cJSON *j, double *v)
{
    if (cJSON_IsNumber(j))
        *v = j->valuedouble;
    else if (cJSON_IsBool(j))
        *v = cJSON_IsTrue(j) ? 1 : 0;
    else
        return 0;
    return 1;
}

int
speedmeta_status_walk(const void *text, size_t len,
    void (*fn)(void *arg, const char *name, const char *label,
    const char *key, double value), void *arg)
{
    cJSON *root = parse_object(text, len), *j, *k;
    double v;

    if (root == NULL)
        return -1;
    cJSON_ArrayForEach(j, root) {
        if (is_value(j, &v)) {
            fn(arg, j->string, NULL, NULL, v);
        } else if (cJSON_IsObject(j)) {
            cJSON_ArrayForEach(k, j)
                if (is_value(k, &v))
                    fn(arg, j->string, label_of(j->string), k->string, v);
        }
    }
    cJSON_Delete(root);
    return 0;
}
