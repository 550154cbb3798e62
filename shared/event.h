/* event.h -- parse one event with cJSON and validate it against the pipeline */
#ifndef SHARED_EVENT_H
#define SHARED_EVENT_H

#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "shared/buf.h"
#include "shared/pipeline.h"

/*
 * Caveats:
 * - event_parse() parses into a per-thread bump arena (cJSON_InitHooks is set
 *   once, process-wide, by the first event_init(); other cJSON use keeps
 *   plain malloc). Values borrowed from an event are valid until the next
 *   event_parse() or event_reset() on the same thread, and an event must be
 *   used and reset by the thread that parsed it. One live event per thread.
 * - Lines longer than EVENT_MAX_LINE are rejected as too_large unparsed.
 */

#define EVENT_MAX_LINE (1024 * 1024)
#define EVENT_RAW_MAX 1024      /* bytes of the raw line kept in a reject */

enum reject {
    REJECT_NONE = 0,
    REJECT_JSON,        /* "invalid_json": not JSON, trailing garbage, NUL byte */
    REJECT_UTF8,        /* "invalid_utf8" */
    REJECT_NOT_OBJECT,  /* "not_object": valid JSON but not an object */
    REJECT_MISSING,     /* "missing_field": a required field is absent or null */
    REJECT_TYPE,        /* "wrong_type": e.g. a number given as a string */
    REJECT_RANGE,       /* "out_of_range": min/max, >15 digits, NaN/Inf, group key too long */
    REJECT_SCALE,       /* "too_many_decimals": more fractional digits than the scale */
    REJECT_TIME,        /* "bad_time": time field missing, malformed or out of range */
    REJECT_TOO_LARGE,   /* "too_large": line longer than EVENT_MAX_LINE */
    REJECT_LATE,        /* "late": older than speed's watermark (speed only) */
    REJECT_CSV,         /* "invalid_csv": a CSV row badly quoted, or with not
                           as many fields as the header (batch only) */
    REJECT_NREASONS
};

/* The reasons before this one are those speed can give: its status lists
 * them all, and the later ones (CSV is read by batch only) when counted. */
#define REJECT_NSPEED REJECT_CSV

struct event_value {
    int          present;   /* 0: absent or null (optional fields only) */
    int          nelems;    /* array fields: how many elements */
    int64_t      num;       /* int, decimal, float (scaled by the field's
                               scale), bool 0/1 */
    union {
        const char *str;    /* string fields: NUL-terminated, valid UTF-8 */
        const struct event_value *elems;  /* array fields: the elements,
                                             values of the items type */
    };
    size_t       len;       /* string fields: bytes */
};

struct event {
    int64_t             time;       /* event time, ms since the epoch */
    int                 time_from_record; /* 1 when taken from the fallback */
    struct event_value *vals;       /* one per pipeline field, same order */
    int                 nvals;
    cJSON              *root;       /* the parsed document, arena-owned */
};

/* Name of a reject reason as written in rejects and metrics ("missing_field"). */
const char *event_reject_name(enum reject r);

/* Prepare ev for events of p (allocates vals). Reset with event_reset(). */
void event_init(struct event *ev, const struct pipeline *p);
void event_reset(struct event *ev);

/*
 * Parse and validate one event of len bytes (need not be NUL-terminated).
 * fallback_time is the time to use when the time field is absent (speed: the
 * Kafka record timestamp), or -1 for none (then absence is bad_time).
 * Returns REJECT_NONE and fills ev, or a reason with a one-line message in
 * err naming the field and what was expected:
 *     field "amount": expected a number with at most 2 decimals, got 12.345
 */
enum reject event_parse(struct event *ev, const struct pipeline *p,
    const char *text, size_t len, int64_t fallback_time, char *err);

/*
 * n bytes from this thread's event arena, for values made from an event
 * (derive.c): valid until the next event_parse() or event_reset() on the
 * thread, like the event's own values. Never fails (aborts on OOM).
 */
void *event_alloc(size_t n);

/* Nonzero when ev satisfies every condition of v's where. */
int event_match(const struct event *ev, const struct view *v);

/*
 * Append the fields of a reject record, without braces:
 *     "reason":"missing_field","message":"...","raw":"..."
 * raw is cut at EVENT_RAW_MAX bytes and made valid UTF-8 (bad bytes become
 * U+FFFD) so the record is always valid JSON.
 */
void event_reject_fields(struct buf *out, enum reject r, const char *msg,
    const char *raw, size_t rawlen);

#endif
