/* buf.h -- growable byte buffer, always NUL-terminated after its data */
#ifndef SHARED_BUF_H
#define SHARED_BUF_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

struct buf {
    char   *data;   /* NULL until the first append; then data[len] == '\0' */
    size_t  len;    /* bytes used, not counting the terminating NUL */
    size_t  cap;    /* bytes allocated */
};

/* Embedded lifecycle: buf_init() makes an empty buffer (no allocation);
 * buf_reset() frees its memory and leaves it empty and reusable. */
void buf_init(struct buf *b);
void buf_reset(struct buf *b);

/* Forget the contents but keep the memory. */
void buf_clear(struct buf *b);

/* Make room for n more bytes. Aborts on OOM (mem.h). */
void buf_reserve(struct buf *b, size_t n);

/* The slow paths of the inline appends below: grow, then append. */
void buf_append_grow(struct buf *b, const void *p, size_t n);
void buf_putc_grow(struct buf *b, int c);

/* Inline: answers are built of many short appends, a literal's length is
 * known where it is put, and a short memcpy is a few moves. */
static inline void
buf_append(struct buf *b, const void *p, size_t n)
{
    if (b->len + n + 1 > b->cap) {
        buf_append_grow(b, p, n);
        return;
    }
    if (n > 0)      /* p may be NULL then */
        memcpy(b->data + b->len, p, n);
    b->len += n;
    b->data[b->len] = '\0';
}

static inline void
buf_putc(struct buf *b, int c)
{
    if (b->len + 2 > b->cap) {
        buf_putc_grow(b, c);
        return;
    }
    b->data[b->len++] = (char)c;
    b->data[b->len] = '\0';
}

static inline void
buf_puts(struct buf *b, const char *s)
{
    buf_append(b, s, strlen(s));
}

/* Writing in place: room for n more bytes (NUL included) at the returned
 * end of the data; then buf_advance() to where the writer's NUL is. */
static inline char *
buf_space(struct buf *b, size_t n)
{
    buf_reserve(b, n);
    return b->data + b->len;
}

static inline void
buf_advance(struct buf *b, const char *end)
{
    b->len = (size_t)(end - b->data);
}

/* Decimal text of v, as printf's %lld and %llu would print it. */
void buf_put_i64(struct buf *b, int64_t v);
void buf_put_u64(struct buf *b, uint64_t v);
void buf_printf(struct buf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Append s as a JSON string literal, quotes included, escaping what JSON
 * requires. s must be valid UTF-8 (event.c guarantees it for event text). */
void buf_put_json_string(struct buf *b, const char *s, size_t n);

/* Take the data out: returns the allocated string (free with free(); NULL if
 * nothing was ever appended) and leaves b empty. */
char *buf_steal(struct buf *b);

#endif
