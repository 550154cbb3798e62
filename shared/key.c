/* key.c -- group keys: order-preserving, self-delimiting encoding of group_by values */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "shared/dec.h"
#include "shared/err.h"
#include "shared/key.h"

#define KEY_NULL  0x00
#define KEY_FALSE 0x01
#define KEY_TRUE  0x02
#define KEY_NUM   0x03
#define KEY_STR   0x04

/* The type of a field's values in a key: an exploded array's are its
 * elements'. */
static enum field_type
value_type(const struct field *f)
{
    return f->type == FIELD_ARRAY ? f->items : f->type;
}

/* Flipping the sign bit makes unsigned big-endian byte order signed order. */
static void
put_num(unsigned char *p, int64_t v)
{
    uint64_t u = (uint64_t)v ^ ((uint64_t)1 << 63);

    for (int i = 7; i >= 0; i--) {
        p[i] = (unsigned char)(u & 0xff);
        u >>= 8;
    }
}

static int64_t
get_num(const unsigned char *p)
{
    uint64_t u = 0;

    for (int i = 0; i < 8; i++)
        u = u << 8 | p[i];
    return (int64_t)(u ^ ((uint64_t)1 << 63));
}

/* Nonzero when s[0..n) is well-formed UTF-8 (no overlongs, no surrogates,
 * nothing above U+10FFFF) without NUL bytes. */
static int
utf8_valid(const unsigned char *s, size_t n)
{
    size_t i = 0;

    while (i < n) {
        unsigned c = s[i];
        size_t k;
        uint32_t cp, min;

        if (c == 0)
            return 0;
        if (c < 0x80) {
            i++;
            continue;
        }
        if (c >= 0xc2 && c <= 0xdf) {
            k = 1, cp = c & 0x1f, min = 0x80;
        } else if (c >= 0xe0 && c <= 0xef) {
            k = 2, cp = c & 0x0f, min = 0x800;
        } else if (c >= 0xf0 && c <= 0xf4) {
            k = 3, cp = c & 0x07, min = 0x10000;
        } else {
            return 0;
        }
        if (n - i <= k)
            return 0;
        for (size_t j = 1; j <= k; j++) {
            if ((s[i + j] & 0xc0) != 0x80)
                return 0;
            cp = cp << 6 | (s[i + j] & 0x3f);
        }
        if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
            return 0;
        i += k + 1;
    }
    return 1;
}

int
key_encode_event(struct buf *out, const struct pipeline *p,
    const struct view *v, const struct event *ev)
{
    size_t need = 0;
    unsigned char *w;

    /* size first, so a key that is too long leaves out untouched */
    for (int i = 0; i < v->ngroup; i++) {
        int fi = v->group_by[i];
        const struct event_value *val = &ev->vals[fi];

        if (!val->present) {
            need += 1;
        } else {
            switch (value_type(&p->fields[fi])) {
            case FIELD_BOOL:
                need += 1;
                break;
            case FIELD_INT:
            case FIELD_DECIMAL:
            case FIELD_FLOAT:
                need += 9;
                break;
            case FIELD_STRING:
                if (val->len > KEY_MAX ||
                    memchr(val->str, '\0', val->len) != NULL)
                    return -1;
                need += val->len + 2;
                break;
            case FIELD_ARRAY:   /* fanout.c puts an element in its place */
                return -1;
            }
        }
        if (need > KEY_MAX)
            return -1;
    }
    buf_reserve(out, need);
    w = (unsigned char *)out->data + out->len;
    for (int i = 0; i < v->ngroup; i++) {
        int fi = v->group_by[i];
        const struct event_value *val = &ev->vals[fi];

        if (!val->present) {
            *w++ = KEY_NULL;
            continue;
        }
        switch (value_type(&p->fields[fi])) {
        case FIELD_BOOL:
            *w++ = val->num != 0 ? KEY_TRUE : KEY_FALSE;
            break;
        case FIELD_INT:
        case FIELD_DECIMAL:
        case FIELD_FLOAT:
            *w++ = KEY_NUM;
            put_num(w, val->num);
            w += 8;
            break;
        case FIELD_STRING:
            *w++ = KEY_STR;
            memcpy(w, val->str, val->len);
            w += val->len;
            *w++ = 0x00;
            break;
        case FIELD_ARRAY:
            break;
        }
    }
    out->len += need;
    out->data[out->len] = '\0';
    return 0;
}

void
key_reject_msg(char *msg, const struct view *v)
{
    snprintf(msg, ERR_LEN, "view %s: group key longer than %d bytes",
        v->name, KEY_MAX);
}

int
key_encode_text(struct buf *out, const struct field *f, const char *text,
    char *err)
{
    unsigned char num[9];
    int64_t v;

    if (text == NULL) {
        buf_putc(out, KEY_NULL);
        return 0;
    }
    switch (value_type(f)) {
    case FIELD_BOOL:
        if (strcmp(text, "true") == 0) {
            buf_putc(out, KEY_TRUE);
        } else if (strcmp(text, "false") == 0) {
            buf_putc(out, KEY_FALSE);
        } else {
            snprintf(err, ERR_LEN, "%s: expected true or false, got \"%.64s\"",
                f->name, text);
            return -1;
        }
        return 0;
    case FIELD_INT: {
        long long ll;
        char *end;

        errno = 0;
        ll = strtoll(text, &end, 10);
        if (end == text || *end != '\0' || errno != 0 ||
            !(text[0] == '-' || (text[0] >= '0' && text[0] <= '9'))) {
            snprintf(err, ERR_LEN, "%s: expected an integer, got \"%.64s\"",
                f->name, text);
            return -1;
        }
        v = ll;
        break;
    }
    case FIELD_DECIMAL:
    case FIELD_FLOAT:
        if (f->round) {
            /* rounded as an event's number would be */
            if (dec_round_text(text, strlen(text), f->scale, &v) != DEC_OK) {
                snprintf(err, ERR_LEN, "%s: expected a number, got "
                    "\"%.64s\"", f->name, text);
                return -1;
            }
        } else if (dec_parse(text, f->scale, &v) != DEC_OK) {
            snprintf(err, ERR_LEN, "%s: expected a number with at most %d "
                "decimals, got \"%.64s\"", f->name, f->scale, text);
            return -1;
        }
        break;
    case FIELD_STRING: {
        size_t n = strlen(text);

        if (!utf8_valid((const unsigned char *)text, n)) {
            snprintf(err, ERR_LEN, "%s: expected UTF-8 text", f->name);
            return -1;
        }
        if (n + 2 > KEY_MAX) {
            snprintf(err, ERR_LEN, "%s: longer than %d bytes", f->name,
                KEY_MAX - 2);
            return -1;
        }
        buf_putc(out, KEY_STR);
        buf_append(out, text, n);
        buf_putc(out, 0x00);
        return 0;
    }
    default:
        snprintf(err, ERR_LEN, "%s: unknown field type", f->name);
        return -1;
    }
    num[0] = KEY_NUM;
    put_num(num + 1, v);
    buf_append(out, num, sizeof(num));
    return 0;
}

int
key_value_put(struct buf *out, const struct field *f,
    const unsigned char **kp, const unsigned char *end, int json)
{
    const unsigned char *k = *kp, *z;
    char num[DEC_BUFSZ];

    if (k >= end)
        return -1;
    switch (*k++) {
    case KEY_NULL:
        if (json)
            buf_puts(out, "null");
        break;
    case KEY_FALSE:
    case KEY_TRUE:
        if (value_type(f) != FIELD_BOOL)
            return -1;
        buf_puts(out, k[-1] == KEY_TRUE ? "true" : "false");
        break;
    case KEY_NUM:
        if ((value_type(f) != FIELD_INT && value_type(f) != FIELD_DECIMAL &&
            value_type(f) != FIELD_FLOAT) || end - k < 8)
            return -1;
        buf_puts(out, dec_format(get_num(k), f->scale, num, sizeof(num)));
        k += 8;
        break;
    case KEY_STR:
        if (value_type(f) != FIELD_STRING ||
            (z = memchr(k, 0x00, (size_t)(end - k))) == NULL ||
            !utf8_valid(k, (size_t)(z - k)))
            return -1;
        if (json)
            buf_put_json_string(out, (const char *)k, (size_t)(z - k));
        else
            buf_append(out, k, (size_t)(z - k));
        k = z + 1;
        break;
    default:
        return -1;
    }
    *kp = k;
    return 0;
}

int
key_to_json(struct buf *out, const struct pipeline *p, const struct view *v,
    const void *key, size_t len)
{
    /* a view without group_by has the empty key, maybe NULL: no NULL + 0 */
    const unsigned char *k = key, *end = len > 0 ? k + len : k;
    size_t mark = out->len;

    buf_putc(out, '{');
    for (int i = 0; i < v->ngroup; i++) {
        const struct field *f = &p->fields[v->group_by[i]];

        if (i > 0)
            buf_putc(out, ',');
        buf_put_json_string(out, f->name, strlen(f->name));
        buf_putc(out, ':');
        if (key_value_put(out, f, &k, end, 1) != 0)
            goto bad;
    }
    if (k != end)
        goto bad;
    buf_putc(out, '}');
    return 0;
bad:
    out->len = mark;
    if (out->data != NULL)
        out->data[mark] = '\0';
    return -1;
}
