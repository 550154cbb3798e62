/* event.c -- parse one event with cJSON into a per-thread arena, validate it */
#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include "shared/buf.h"
#include "shared/dec.h"
#include "shared/derive.h"
#include "shared/err.h"
#include "shared/event.h"
#include "shared/jsonnum.h"
#include "shared/mem.h"
#include "shared/pipeline.h"
#include "shared/ts.h"

/*
 * The hot path of lambda-batch. cJSON allocates every value and key with
 * malloc; behind cJSON_InitHooks we hand it memory from a per-thread bump
 * arena instead, only while event_parse() is inside cJSON_ParseWithLength
 * (a flag), and forget the whole tree at the next parse. Everything else
 * here is one pass over the bytes (NUL and UTF-8), one memchr, and a walk
 * over the declared fields.
 *
 * Text fields cannot hold NUL: a raw NUL byte anywhere is invalid_json, and a
 * "\u0000" escape anywhere in the line is invalid_utf8 (cJSON would cut the
 * string there silently, so the line is refused wherever the escape is).
 */

#define ARENA_BLOCK (64 * 1024)  /* a typical line's tree needs a few KiB */
#define ARENA_ALIGN 16

struct arena_block {
    struct arena_block *next;
    size_t              size;   /* bytes of data after the header */
};

#define ARENA_HDR ((sizeof(struct arena_block) + ARENA_ALIGN - 1) & \
    ~(size_t)(ARENA_ALIGN - 1))

struct arena {
    char               *cur, *end;  /* free space in the current block */
    struct arena_block *first;      /* kept for the thread's life */
    struct arena_block *extra;      /* grown blocks, freed at each reset */
    cJSON              *heap_root;  /* a tree cJSON built with plain malloc */
    int                 active;     /* inside event_parse's cJSON parse */
};

static __thread struct arena arena;
static __thread struct jsonnum numtext;    /* the numbers of the line */
static pthread_once_t hooks_once = PTHREAD_ONCE_INIT;
static pthread_key_t arena_key;

static const char *const reject_names[REJECT_NREASONS] = {
    "none", "invalid_json", "invalid_utf8", "not_object", "missing_field",
    "wrong_type", "out_of_range", "too_many_decimals", "bad_time",
    "too_large", "late", "invalid_csv"
};

/* ---- the arena ----------------------------------------------------------- */

static char *
block_data(struct arena_block *b)
{
    return (char *)b + ARENA_HDR;
}

static int
block_owns(struct arena_block *b, const void *p)
{
    uintptr_t lo = (uintptr_t)block_data(b), q = (uintptr_t)p;

    return q >= lo && q < lo + b->size;
}

static int
arena_owns(const struct arena *a, const void *p)
{
    if (a->first != NULL && block_owns(a->first, p))
        return 1;
    for (struct arena_block *b = a->extra; b != NULL; b = b->next) {
        if (block_owns(b, p))
            return 1;
    }
    return 0;
}

static void *
arena_grow(struct arena *a, size_t n)
{
    size_t size = n > ARENA_BLOCK ? n : ARENA_BLOCK;
    struct arena_block *b = xmalloc(ARENA_HDR + size);

    b->size = size;
    b->next = a->extra;
    a->extra = b;
    a->cur = block_data(b) + n;
    a->end = block_data(b) + size;
    return block_data(b);
}

/* n bytes from arena a, valid until the next parse on this thread. */
static inline void *
arena_bump(struct arena *a, size_t n)
{
    char *p;

    n = (n + ARENA_ALIGN - 1) & ~(size_t)(ARENA_ALIGN - 1);
    if ((size_t)(a->end - a->cur) < n)
        return arena_grow(a, n);
    p = a->cur;
    a->cur += n;
    return p;
}

static void *
arena_malloc(size_t n)
{
    struct arena *a = &arena;

    if (!a->active)
        return malloc(n);
    return arena_bump(a, n);
}

static void
arena_free(void *p)
{
    struct arena *a = &arena;

    if (p == NULL || a->active || arena_owns(a, p))
        return;
    free(p);
}

/* Forget everything allocated since the last reset; keep the first block. */
static void
arena_reset(struct arena *a)
{
    while (a->extra != NULL) {
        struct arena_block *b = a->extra;
        a->extra = b->next;
        free(b);
    }
    if (a->heap_root != NULL) {
        cJSON_Delete(a->heap_root);
        a->heap_root = NULL;
    }
    if (a->first == NULL) {
        a->first = xmalloc(ARENA_HDR + ARENA_BLOCK);
        a->first->next = NULL;
        a->first->size = ARENA_BLOCK;
        (void)pthread_setspecific(arena_key, a);
    }
    a->cur = block_data(a->first);
    a->end = a->cur + ARENA_BLOCK;
}

/* Thread exit: give the thread's blocks back. */
static void
arena_destroy(void *arg)
{
    struct arena *a = arg;

    a->active = 0;
    while (a->extra != NULL) {
        struct arena_block *b = a->extra;
        a->extra = b->next;
        free(b);
    }
    if (a->heap_root != NULL)
        cJSON_Delete(a->heap_root);
    free(a->first);
    memset(a, 0, sizeof(*a));
    jsonnum_reset(&numtext);
}

static void
hooks_install(void)
{
    cJSON_Hooks hooks = {arena_malloc, arena_free};

    if (pthread_key_create(&arena_key, arena_destroy) != 0)
        abort();
    cJSON_InitHooks(&hooks);
}

/* ---- text checks --------------------------------------------------------- */

/* Length of the valid UTF-8 sequence at s (n > 0 bytes left), or 0. */
static size_t
utf8_seq(const unsigned char *s, size_t n)
{
    unsigned char c = s[0], lo = 0x80, hi = 0xBF;
    size_t k;

    if (c < 0x80)
        return 1;
    if (c >= 0xC2 && c <= 0xDF)
        k = 2;
    else if (c >= 0xE0 && c <= 0xEF)
        k = 3;
    else if (c >= 0xF0 && c <= 0xF4)
        k = 4;
    else
        return 0;
    if (c == 0xE0)
        lo = 0xA0;
    else if (c == 0xED)
        hi = 0x9F;
    else if (c == 0xF0)
        lo = 0x90;
    else if (c == 0xF4)
        hi = 0x8F;
    if (n < k || s[1] < lo || s[1] > hi)
        return 0;
    for (size_t i = 2; i < k; i++) {
        if ((s[i] & 0xC0) != 0x80)
            return 0;
    }
    return k;
}

/*
 * One pass over the line: 0 when it holds no NUL byte and is valid UTF-8;
 * else REJECT_JSON for a NUL (wherever it is: it wins over bad UTF-8) or
 * REJECT_UTF8, with the offset in *at. Sixteen ASCII bytes at a time with
 * SSE2 (no high bit in the bytes or in their compare with zero), else eight:
 * a word with no zero byte and no high bit passes ((w - 0x01..) | w) &
 * 0x80.. == 0.
 */
static enum reject
scan_line(const unsigned char *s, size_t n, size_t *at)
{
    const uint64_t ones = 0x0101010101010101ULL;
    const uint64_t highs = 0x8080808080808080ULL;
    size_t i = 0, k;

    while (i < n) {
#if defined(__SSE2__)
        if (n - i >= 16) {
            __m128i v = _mm_loadu_si128((const __m128i *)(const void *)(s + i));

            if (_mm_movemask_epi8(_mm_or_si128(v,
                _mm_cmpeq_epi8(v, _mm_setzero_si128()))) == 0) {
                i += 16;
                continue;
            }
        }
#endif
        if (n - i >= 8) {
            uint64_t w;
            memcpy(&w, s + i, 8);
            if ((((w - ones) | w) & highs) == 0) {
                i += 8;
                continue;
            }
        }
        if (s[i] == '\0') {
            *at = i;
            return REJECT_JSON;
        }
        if (s[i] < 0x80) {
            i++;
            continue;
        }
        if ((k = utf8_seq(s + i, n - i)) == 0) {
            const unsigned char *nul = memchr(s + i, '\0', n - i);
            *at = nul != NULL ? (size_t)(nul - s) : i;
            return nul != NULL ? REJECT_JSON : REJECT_UTF8;
        }
        i += k;
    }
    return REJECT_NONE;
}

/* Does the line hold a "\u0000" escape? from: the first backslash. */
static int
has_nul_escape(const char *from, const char *end)
{
    for (const char *s = from; s + 1 < end; s++) {
        if (*s != '\\')
            continue;
        if (s[1] == 'u' && end - s >= 6 && s[2] == '0' && s[3] == '0' &&
            s[4] == '0' && s[5] == '0')
            return 1;
        s++;    /* skip the escaped character */
    }
    return 0;
}

/* ---- messages -------------------------------------------------------------- */

/* A scaled value as the user wrote it: 1250 at scale 2 is "12.5". */
static void
fmt_scaled(int64_t v, int scale, char *buf, size_t size)
{
    uint64_t a = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
    uint64_t p = 1;
    int n;

    for (int i = 0; i < scale; i++)
        p *= 10;
    n = snprintf(buf, size, "%s%llu", v < 0 ? "-" : "",
        (unsigned long long)(a / p));
    if (a % p != 0 && n > 0 && (size_t)n < size) {
        char frac[24];
        int len = scale;
        snprintf(frac, sizeof(frac), "%0*llu", scale,
            (unsigned long long)(a % p));
        while (len > 0 && frac[len - 1] == '0')
            len--;
        snprintf(buf + n, size - (size_t)n, ".%.*s", len, frac);
    }
}

/* What a JSON value is, for "got ..." (strings quoted, cut at 40 bytes). */
static const char *
describe(const cJSON *j, char *buf, size_t size)
{
    if (cJSON_IsString(j)) {
        const char *s = j->valuestring;
        size_t n = strlen(s);
        const char *dots = "";
        if (n > 40) {
            n = 40;
            while (n > 0 && ((unsigned char)s[n] & 0xC0) == 0x80)
                n--;
            dots = "...";
        }
        snprintf(buf, size, "\"%.*s%s\"", (int)n, s, dots);
    } else if (cJSON_IsNumber(j)) {
        dec_format_double(j->valuedouble, buf, size);
    } else if (cJSON_IsTrue(j)) {
        snprintf(buf, size, "true");
    } else if (cJSON_IsFalse(j)) {
        snprintf(buf, size, "false");
    } else if (cJSON_IsNull(j)) {
        snprintf(buf, size, "null");
    } else if (cJSON_IsArray(j)) {
        snprintf(buf, size, "an array");
    } else {
        snprintf(buf, size, "an object");
    }
    return buf;
}

static enum reject
reject(enum reject r, char *err, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static enum reject
reject(enum reject r, char *err, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    if (vsnprintf(err, ERR_LEN, fmt, ap) >= ERR_LEN) {
        size_t end = ERR_LEN - 4;
        while (end > 0 && ((unsigned char)err[end] & 0xC0) == 0x80)
            end--;
        memcpy(err + end, "...", 4);
    }
    va_end(ap);
    return r;
}

/* ---- fields ---------------------------------------------------------------- */

static const cJSON *
child(const cJSON *obj, const char *key)
{
    for (const cJSON *c = obj->child; c != NULL; c = c->next) {
        if (c->string[0] == key[0] && strcmp(c->string, key) == 0)
            return c;
    }
    return NULL;
}

/*
 * The value at a dotted path, NULL when absent. *bad is set to the
 * component depth when a parent on the way is neither an object nor null.
 */
static const cJSON *
lookup(const cJSON *root, char **path, int npath, int *bad)
{
    const cJSON *j = root;

    *bad = 0;
    for (int i = 0; i < npath; i++) {
        if (!cJSON_IsObject(j)) {
            if (!cJSON_IsNull(j))
                *bad = i;
            return NULL;
        }
        if ((j = child(j, path[i])) == NULL)
            return NULL;
    }
    return j;
}

static enum reject
bad_parent(const struct field *f, int depth, char *err)
{
    return reject(REJECT_TYPE, err, "field \"%s\": expected \"%s\" to be an "
        "object", f->name, f->path[depth - 1]);
}

static enum reject
check_bounds(const struct field *f, const cJSON *j, int64_t v, char *err)
{
    char bound[32], got[64];

    if (f->has_min && v < f->min) {
        fmt_scaled(f->min, f->scale, bound, sizeof(bound));
        return reject(REJECT_RANGE, err, "field \"%s\": expected a number "
            ">= %s, got %s", f->name, bound, describe(j, got, sizeof(got)));
    }
    if (f->has_max && v > f->max) {
        fmt_scaled(f->max, f->scale, bound, sizeof(bound));
        return reject(REJECT_RANGE, err, "field \"%s\": expected a number "
            "<= %s, got %s", f->name, bound, describe(j, got, sizeof(got)));
    }
    return REJECT_NONE;
}

/*
 * A float, or a decimal with "round": true: the number as written, rounded
 * half to even to the field's scale (dec_round_text()).
 */
static enum reject
round_number(const struct field *f, const cJSON *root, const cJSON *j,
    int64_t *out, char *err)
{
    char lim[32];
    const char *s;
    size_t n;

    if (jsonnum_text(&numtext, root, j, &s, &n) != 0)
        return reject(REJECT_JSON, err, "field \"%s\": number not found "
            "in the text", f->name);
    switch (dec_round_text(s, n, f->scale, out)) {
    case DEC_OK:
        return REJECT_NONE;
    case DEC_RANGE:
        fmt_scaled(DEC_ROUND_MAX, f->scale, lim, sizeof(lim));
        return reject(REJECT_RANGE, err, "field \"%s\": expected a number "
            "from -%s to %s, got %.*s%s", f->name, lim, lim,
            n > 40 ? 40 : (int)n, s, n > 40 ? "..." : "");
    default:
        return reject(REJECT_JSON, err, "field \"%s\": cannot read the "
            "number %.*s%s", f->name, n > 40 ? 40 : (int)n, s,
            n > 40 ? "..." : "");
    }
}

/* A plain decimal: at most `scale` fractional digits, 15 digits in all. */
static inline enum reject
exact_number(const struct field *f, const cJSON *j, int64_t *out, char *err)
{
    char got[64];

    switch (dec_from_double(j->valuedouble, f->scale, out)) {
    case DEC_OK:
        return REJECT_NONE;
    case DEC_SCALE:
        return reject(REJECT_SCALE, err, "field \"%s\": expected a "
            "number with at most %d decimals, got %s", f->name, f->scale,
            describe(j, got, sizeof(got)));
    default:
        return reject(REJECT_RANGE, err, "field \"%s\": expected a "
            "number of at most 15 digits, got %s", f->name,
            describe(j, got, sizeof(got)));
    }
}

static inline __attribute__((always_inline)) enum reject
parse_field(const struct field *f, const cJSON *root, const cJSON *j,
    struct event_value *v, char *err)
{
    char got[64];
    enum reject r;
    double d;

    switch (f->type) {
    case FIELD_STRING:
        if (!cJSON_IsString(j))
            return reject(REJECT_TYPE, err, "field \"%s\": expected a "
                "string, got %s", f->name, describe(j, got, sizeof(got)));
        v->str = j->valuestring;
        v->len = strlen(j->valuestring);
        break;
    case FIELD_BOOL:
        if (!cJSON_IsBool(j))
            return reject(REJECT_TYPE, err, "field \"%s\": expected true or "
                "false, got %s", f->name, describe(j, got, sizeof(got)));
        v->num = cJSON_IsTrue(j);
        break;
    case FIELD_INT:
        if (!cJSON_IsNumber(j))
            return reject(REJECT_TYPE, err, "field \"%s\": expected an "
                "integer, got %s", f->name, describe(j, got, sizeof(got)));
        d = j->valuedouble;
        if (!(fabs(d) <= (double)DEC_MAX_ABS)) {
            if (isfinite(d) && d != trunc(d))
                goto notint;
            return reject(REJECT_RANGE, err, "field \"%s\": expected an "
                "integer of at most 15 digits, got %s", f->name,
                describe(j, got, sizeof(got)));
        }
        if (d != trunc(d))
            goto notint;
        v->num = (int64_t)d;
        if (check_bounds(f, j, v->num, err) != REJECT_NONE)
            return REJECT_RANGE;
        break;
    case FIELD_DECIMAL:
    case FIELD_FLOAT:
        if (!cJSON_IsNumber(j))
            return reject(REJECT_TYPE, err, "field \"%s\": expected a "
                "number, got %s", f->name, describe(j, got, sizeof(got)));
        r = f->round ? round_number(f, root, j, &v->num, err) :
            exact_number(f, j, &v->num, err);
        if (r != REJECT_NONE)
            return r;
        if (check_bounds(f, j, v->num, err) != REJECT_NONE)
            return REJECT_RANGE;
        break;
    case FIELD_ARRAY:   /* parse_array() */
        break;
    }
    v->present = 1;
    return REJECT_NONE;
notint:
    return reject(REJECT_TYPE, err, "field \"%s\": expected an integer, "
        "got %s", f->name, describe(j, got, sizeof(got)));
}

/* An array: every element of the items type, else the event is rejected
 * naming the element ("tags[2]"). */
static enum reject
parse_array(const struct field *f, const cJSON *root, const cJSON *j,
    struct event_value *v, char *err)
{
    char got[64], name[160];     /* a field name is <= 128 bytes */
    struct event_value *el;
    struct field ef = *f;
    int n, i = 0;

    if (!cJSON_IsArray(j))
        return reject(REJECT_TYPE, err, "field \"%s\": expected an array, "
            "got %s", f->name, describe(j, got, sizeof(got)));
    n = cJSON_GetArraySize(j);
    el = arena_bump(&arena, (size_t)(n > 0 ? n : 1) * sizeof(*el));
    ef.type = f->items;
    for (const cJSON *c = j->child; c != NULL; c = c->next, i++) {
        memset(&el[i], 0, sizeof(el[i]));
        if (parse_field(&ef, root, c, &el[i], err) == REJECT_NONE)
            continue;
        /* again, for the message: the name costs only on a reject */
        snprintf(name, sizeof(name), "%s[%d]", f->name, i);
        ef.name = name;
        return parse_field(&ef, root, c, &el[i], err);
    }
    v->elems = el;
    v->nelems = n;
    v->present = 1;
    return REJECT_NONE;
}

static enum reject
parse_time(struct event *ev, const struct pipeline *p, const cJSON *root,
    int64_t fallback_time, char *err)
{
    const cJSON *j;
    char got[64];
    int bad;

    j = lookup(root, p->time_path, p->ntime_path, &bad);
    if (j == NULL || cJSON_IsNull(j)) {
        if (bad > 0)
            return reject(REJECT_TIME, err, "field \"%s\": expected \"%s\" to "
                "be an object", p->time_field, p->time_path[bad - 1]);
        if (fallback_time < 0)
            return reject(REJECT_TIME, err, "field \"%s\": required",
                p->time_field);
        if (fallback_time > TS_MAX)
            return reject(REJECT_TIME, err, "field \"%s\": absent, and the "
                "record time %lld is out of range", p->time_field,
                (long long)fallback_time);
        ev->time = fallback_time;
        ev->time_from_record = 1;
        return REJECT_NONE;
    }
    if (cJSON_IsString(j)) {
        if (ts_parse(j->valuestring, strlen(j->valuestring), &ev->time) != 0)
            return reject(REJECT_TIME, err, "field \"%s\": expected an RFC "
                "3339 time from 1970 to 9999 such as "
                "\"2026-11-20T13:00:00Z\", got %s", p->time_field,
                describe(j, got, sizeof(got)));
        return REJECT_NONE;
    }
    if (cJSON_IsNumber(j)) {
        if (ts_from_number(j->valuedouble, &ev->time) != 0)
            return reject(REJECT_TIME, err, "field \"%s\": expected epoch "
                "seconds or milliseconds from 1970 to 9999, got %s",
                p->time_field, describe(j, got, sizeof(got)));
        return REJECT_NONE;
    }
    return reject(REJECT_TIME, err, "field \"%s\": expected an RFC 3339 "
        "string or an epoch number, got %s", p->time_field,
        describe(j, got, sizeof(got)));
}

/* ---- public ---------------------------------------------------------------- */

const char *
event_reject_name(enum reject r)
{
    if ((int)r < 0 || r >= REJECT_NREASONS)
        return "unknown";
    return reject_names[r];
}

void
event_init(struct event *ev, const struct pipeline *p)
{
    (void)pthread_once(&hooks_once, hooks_install);
    memset(ev, 0, sizeof(*ev));
    ev->vals = xcalloc((size_t)(p->nfields > 0 ? p->nfields : 1),
        sizeof(*ev->vals));
    ev->nvals = p->nfields;
}

void *
event_alloc(size_t n)
{
    if (arena.first == NULL) {
        (void)pthread_once(&hooks_once, hooks_install);
        arena_reset(&arena);
    }
    return arena_bump(&arena, n);
}

void
event_reset(struct event *ev)
{
    if (arena.first != NULL)
        arena_reset(&arena);
    jsonnum_reset(&numtext);
    free(ev->vals);
    memset(ev, 0, sizeof(*ev));
}

enum reject
event_parse(struct event *ev, const struct pipeline *p, const char *text,
    size_t len, int64_t fallback_time, char *err)
{
    struct arena *a = &arena;
    const char *end = NULL, *bs;
    enum reject r;
    cJSON *root;
    size_t at;

    /* fast reset: the common case has no extra block and no heap tree */
    if (a->first == NULL || a->extra != NULL || a->heap_root != NULL) {
        (void)pthread_once(&hooks_once, hooks_install);
        arena_reset(a);
    } else {
        a->cur = block_data(a->first);
    }
    if (ev->vals == NULL || ev->nvals != p->nfields) {
        free(ev->vals);
        ev->vals = xcalloc((size_t)(p->nfields > 0 ? p->nfields : 1),
            sizeof(*ev->vals));
        ev->nvals = p->nfields;
    }
    ev->root = NULL;
    ev->time = 0;
    ev->time_from_record = 0;

    if (len > EVENT_MAX_LINE)
        return reject(REJECT_TOO_LARGE, err, "line of %zu bytes, longer "
            "than the limit of %d", len, EVENT_MAX_LINE);
    if ((r = scan_line((const unsigned char *)text, len, &at)) != REJECT_NONE)
        return reject(r, err, r == REJECT_JSON ? "NUL byte at offset %zu" :
            "invalid UTF-8 at offset %zu", at);
    if ((bs = memchr(text, '\\', len)) != NULL &&
        has_nul_escape(bs, text + len))
        return reject(REJECT_UTF8, err, "a string holds \\u0000 (NUL)");

    a->active = 1;
    root = cJSON_ParseWithLengthOpts(text, len, &end, 0);
    a->active = 0;
    if (root != NULL && !arena_owns(a, root))
        a->heap_root = root;    /* someone replaced our hooks */
    if (root == NULL || end == NULL) {
        at = end != NULL && end >= text ? (size_t)(end - text) : 0;
        return reject(REJECT_JSON, err, "invalid JSON at offset %zu", at);
    }
    for (; end < text + len; end++) {
        if (*end != ' ' && *end != '\t' && *end != '\n' && *end != '\r')
            return reject(REJECT_JSON, err, "unexpected text after the JSON "
                "value at offset %zu", (size_t)(end - text));
    }
    if (!cJSON_IsObject(root)) {
        char got[64];
        return reject(REJECT_NOT_OBJECT, err, "expected a JSON object, got %s",
            describe(root, got, sizeof(got)));
    }
    ev->root = root;
    jsonnum_start(&numtext, text, len);

    for (int i = 0; i < p->nfields; i++) {
        const struct field *f = &p->fields[i];
        struct event_value *v = &ev->vals[i];
        const cJSON *j;
        int bad = 0;

        v->present = 0;
        v->num = 0;
        v->str = NULL;
        v->len = 0;
        v->elems = NULL;
        v->nelems = 0;
        if (f->computed)
            continue;   /* event.derive sets it below */
        j = f->npath == 1 ? child(root, f->path[0]) :
            lookup(root, f->path, f->npath, &bad);
        if (j == NULL || cJSON_IsNull(j)) {
            if (f->npath > 1 && j == NULL && bad > 0)
                return bad_parent(f, bad, err);
            if (f->required)
                return reject(REJECT_MISSING, err, "field \"%s\": required",
                    f->name);
            continue;
        }
        r = f->type == FIELD_ARRAY ? parse_array(f, root, j, v, err) :
            parse_field(f, root, j, v, err);
        if (r != REJECT_NONE)
            return r;
    }
    if (p->nderives > 0 && (r = derive_event(p, ev, err)) != REJECT_NONE)
        return r;
    return parse_time(ev, p, root, fallback_time, err);
}

static int
cond_holds(const struct cond *c, const struct event_value *v)
{
    for (int i = 0; i < c->nvals; i++) {
        const struct cond_value *cv = &c->vals[i];
        int cmp;

        if (cv->str != NULL)
            cmp = strcmp(v->str, cv->str);
        else
            cmp = v->num < cv->num ? -1 : v->num > cv->num;
        switch (c->op) {
        case COND_EQ:
            return cmp == 0;
        case COND_NE:
            return cmp != 0;
        case COND_LT:
            return cmp < 0;
        case COND_LE:
            return cmp <= 0;
        case COND_GT:
            return cmp > 0;
        case COND_GE:
            return cmp >= 0;
        case COND_IN:
            if (cmp == 0)
                return 1;
            break;
        }
    }
    return 0;
}

int
event_match(const struct event *ev, const struct view *v)
{
    for (int i = 0; i < v->nwhere; i++) {
        const struct cond *c = &v->where[i];
        const struct event_value *val = &ev->vals[c->field];

        if (!val->present || !cond_holds(c, val))
            return 0;
    }
    return 1;
}

/*
 * Append s[0..n) as a JSON string, at most max bytes of it, with invalid
 * UTF-8 bytes replaced by U+FFFD. A character cut by max is dropped whole.
 */
static void
put_sanitized(struct buf *out, const char *s, size_t n, size_t max)
{
    const unsigned char *u = (const unsigned char *)s;
    char tmp[3 * EVENT_RAW_MAX + 4];
    size_t i = 0, o = 0, k;

    if (max > EVENT_RAW_MAX)
        max = EVENT_RAW_MAX;
    while (i < n && i < max) {
        if ((k = utf8_seq(u + i, n - i)) == 0) {
            memcpy(tmp + o, "\xEF\xBF\xBD", 3);
            o += 3;
            i++;
            continue;
        }
        if (i + k > max)
            break;
        memcpy(tmp + o, u + i, k);
        o += k;
        i += k;
    }
    buf_put_json_string(out, tmp, o);
}

void
event_reject_fields(struct buf *out, enum reject r, const char *msg,
    const char *raw, size_t rawlen)
{
    buf_puts(out, "\"reason\":");
    buf_put_json_string(out, event_reject_name(r), strlen(event_reject_name(r)));
    buf_puts(out, ",\"message\":");
    put_sanitized(out, msg != NULL ? msg : "", msg != NULL ? strlen(msg) : 0,
        EVENT_RAW_MAX);
    buf_puts(out, ",\"raw\":");
    put_sanitized(out, raw != NULL ? raw : "", raw != NULL ? rawlen : 0,
        EVENT_RAW_MAX);
}
