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

void buf_append(struct buf *b, const void *p, size_t n);
void buf_putc(struct buf *b, int c);

/* Inline so that a literal's length is known where it is put. */
static inline void
buf_puts(struct buf *b, const char *s)
{
    buf_append(b, s, strlen(s));
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
