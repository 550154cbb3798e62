/* reader.c -- cut the inputs into chunks of whole records */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "batch/input.h"
#include "batch/progress.h"
#include "batch/queue.h"
#include "batch/reader.h"
#include "shared/csv.h"
#include "shared/err.h"
#include "shared/log.h"
#include "shared/mem.h"

#define PEEK (64u << 10)        /* first read: enough to tell the kind */
#define BLOCK (1u << 20)        /* reads of a JSON array file */
#define MAX_RECS 65536          /* records per array chunk */

struct rd {                     /* reading one file, or a piece of it */
    struct batch       *b;
    struct input_file   f;
    int                 fi;
    int                 pi;     /* index into b->pieces, or -1 */
    uint64_t            limit;  /* a piece ends with the line holding byte
                                   limit - 1; UINT64_MAX: the file's end */
    int                 eof;
    int                 first;  /* the next chunk queued is the file's first */
    uint64_t            base;   /* bytes of the inputs before this file */
    char                err[ERR_LEN];
};

enum { A_TOP, A_LINE, A_EXPECT, A_ELEM };

struct scan {                   /* JSON array scanner, between blocks */
    int         state;
    int         comma;          /* A_EXPECT entered after ',' */
    int         depth, instr, esc;
    int64_t     line;           /* current line, 1-based */
    int64_t     start_line;     /* of the current element */
    int64_t     nelem;          /* elements of the current array so far */
    size_t      start;          /* its offset in the chunk */
    uint64_t    elen;           /* its bytes before the current span */
    uint64_t    clen;           /* its bytes up to the last non-blank one */
    int         toolong;
};

static int
stopping(struct rd *r)
{
    if (batch_signal != 0)
        batch_fail(r->b, "interrupted by signal %d", (int)batch_signal);
    return atomic_load(&r->b->stop);
}

/* Read up to n bytes into p; sets r->eof on a short read, and at the end
 * of a piece. */
static int
fill(struct rd *r, char *p, size_t n, size_t *got)
{
    uint64_t at = r->f.pos, from;
    char *nl;

    if (stopping(r))
        return -1;
    if (r->eof) {
        *got = 0;
        return 0;
    }
    if (input_read(&r->f, p, n, got, r->err) != 0) {
        (void)stopping(r);  /* a signal explains an interrupted read */
        batch_fail(r->b, "%s", r->err);
        return -1;
    }
    if (*got < n)
        r->eof = 1;
    if (r->limit != UINT64_MAX && at + *got >= r->limit) {
        /* plain files only (shard.c splits no gzip): pos is the offset */
        from = r->limit - 1 > at ? r->limit - 1 - at : 0;
        if ((nl = memchr(p + from, '\n', *got - from)) != NULL) {
            *got = (size_t)(nl - p) + 1;
            r->eof = 1;
        }
    }
    progress_bytes_set(&r->b->progress, r->base + r->f.pos);
    progress_tick(r->b, 0);
    return 0;
}

static struct chunk *
take(struct rd *r)
{
    struct chunk *c = queue_take(r->b);

    if (c != NULL) {
        c->file = r->fi;
        c->piece = r->pi;
    }
    return c;
}

/* Queue c, or give it back when it holds nothing. */
static void
push(struct rd *r, struct chunk *c)
{
    if (c->len == 0 && c->nrecs == 0) {
        queue_give_back(r->b, c);
        return;
    }
    c->first = r->first;
    r->first = 0;
    queue_push(r->b, c);
}

static void
add_rec(struct chunk *c, size_t off, size_t len, int64_t line, int64_t elem,
    uint64_t toolong)
{
    if (c->nrecs == c->recap) {
        c->recap = c->recap ? c->recap * 2 : 1024;
        c->recs = xrealloc(c->recs, c->recap * sizeof(*c->recs));
    }
    c->recs[c->nrecs].off = off;
    c->recs[c->nrecs].len = len;
    c->recs[c->nrecs].line = line;
    c->recs[c->nrecs].elem = elem;
    c->recs[c->nrecs].toolong = toolong;
    c->nrecs++;
    c->has_recs = 1;
}

/*
 * JSON Lines. *pc holds the start of an over-long line (no newline): keep its
 * first EVENT_RAW_MAX bytes, read on to the newline, queue it alone as a
 * too_large record, and leave in *pc a new chunk holding what followed.
 */
static int
skip_line(struct rd *r, struct chunk **pc)
{
    struct chunk *c = *pc, *next;
    uint64_t total = c->len;
    size_t keep = c->len < EVENT_RAW_MAX ? c->len : EVENT_RAW_MAX;
    char *scratch = c->data + keep;
    size_t room = BATCH_CHUNK - keep, got, rest = 0;
    char *nl = NULL;

    while (nl == NULL) {
        if (fill(r, scratch, room, &got) != 0)
            return -1;
        if (got == 0)
            break;
        if ((nl = memchr(scratch, '\n', got)) != NULL) {
            total += (uint64_t)(nl - scratch);
            rest = got - (size_t)(nl - scratch) - 1;
        } else {
            total += got;
        }
    }
    if ((next = take(r)) == NULL)
        return -1;
    if (rest > 0)
        memcpy(next->data, nl + 1, rest);
    next->len = rest;
    c->len = keep;
    c->nlines = 1;
    add_rec(c, 0, keep, 1, -1, total);
    push(r, c);
    *pc = next;
    return 0;
}

static int
read_lines(struct rd *r, struct chunk *c)
{
    size_t got;
    char *nl;

    for (;;) {
        if (c->len < BATCH_CHUNK && !r->eof) {
            if (fill(r, c->data + c->len, BATCH_CHUNK - c->len, &got) != 0)
                goto fail;
            c->len += got;
        }
        if (r->eof) {
            push(r, c);
            return 0;
        }
        nl = memrchr(c->data, '\n', c->len);
        if (nl == NULL) {
            if (skip_line(r, &c) != 0)
                return -1;
            continue;
        }
        size_t cut = (size_t)(nl - c->data) + 1;
        struct chunk *next = take(r);

        if (next == NULL)
            goto fail;
        next->len = c->len - cut;
        memcpy(next->data, c->data + cut, next->len);
        c->len = cut;
        push(r, c);
        c = next;
        if (c->len > EVENT_MAX_LINE && skip_line(r, &c) != 0)
            return -1;
    }
fail:
    queue_give_back(r->b, c);
    return -1;
}

/* Copy n bytes of the current element into the chunk, moving the element
 * to a new chunk when it does not fit. */
static int
elem_append(struct rd *r, struct scan *s, struct chunk **pc, const char *p,
    size_t n)
{
    struct chunk *c = *pc;
    size_t copied = c->len - s->start, want = n;
    int toolong = 0;

    if (s->toolong) {
        s->elen += n;
        return 0;
    }
    if (s->elen + n > EVENT_MAX_LINE) {
        /* too long: keep only its first EVENT_RAW_MAX bytes from now on */
        toolong = 1;
        want = copied < EVENT_RAW_MAX ? EVENT_RAW_MAX - copied : 0;
        if (want > n)
            want = n;
    }
    if (c->len + want > BATCH_CHUNK) {
        struct chunk *next = take(r);

        if (next == NULL)
            return -1;
        next->abs_lines = 1;
        memcpy(next->data, c->data + s->start, copied);
        next->len = copied;
        c->len = s->start;
        push(r, c);
        *pc = c = next;
        s->start = 0;
        copied = c->len;
    }
    memcpy(c->data + c->len, p, want);
    c->len += want;
    s->elen += n;
    if (toolong) {
        s->toolong = 1;
        if (copied + want > EVENT_RAW_MAX)
            c->len = s->start + EVENT_RAW_MAX;
    }
    return 0;
}

/* The current element ends: record it, and queue the chunk when full. */
static int
elem_end(struct rd *r, struct scan *s, struct chunk **pc)
{
    struct chunk *c = *pc;
    size_t len = (size_t)(s->toolong ?
        (s->clen < EVENT_RAW_MAX ? s->clen : EVENT_RAW_MAX) : s->clen);

    /* rejects name an element by its index: a one-line array has no
     * other way to tell them apart */
    add_rec(c, s->start, len, s->start_line,
        s->state == A_ELEM ? s->nelem++ : -1, s->toolong ? s->clen : 0);
    c->len = s->start + len;
    if (c->nrecs >= MAX_RECS) {
        struct chunk *next = take(r);

        if (next == NULL)
            return -1;
        next->abs_lines = 1;
        push(r, c);
        *pc = next;
    }
    return 0;
}

static void
elem_begin(struct scan *s, struct chunk *c, int state)
{
    s->state = state;
    s->start = c->len;
    s->start_line = s->line;
    s->elen = s->clen = 0;
    s->toolong = 0;
    s->depth = s->instr = s->esc = 0;
}

#define IS_BLANK(ch) ((ch) == ' ' || (ch) == '\t' || (ch) == '\r' || \
    (ch) == '\n')

/* Scan n bytes of a JSON array file. */
static int
scan_block(struct rd *r, struct scan *s, struct chunk **pc, const char *p,
    size_t n)
{
    size_t i, span = 0;
    int in = s->state == A_ELEM || s->state == A_LINE;

    for (i = 0; i < n; i++) {
        unsigned char ch = (unsigned char)p[i];
        int end = 0;

        if (ch == '\n')
            s->line++;
        switch (s->state) {
        case A_TOP:
            if (IS_BLANK(ch))
                continue;
            if (ch == '[') {
                s->state = A_EXPECT;
                s->comma = 0;
                s->nelem = 0;
                continue;
            }
            elem_begin(s, *pc, A_LINE);
            in = 1;
            span = i;
            s->clen = 1;
            continue;
        case A_EXPECT:
            if (IS_BLANK(ch))
                continue;
            if (ch == ']' || ch == ',') {
                if (ch == ',' || s->comma) {    /* empty element */
                    elem_begin(s, *pc, A_ELEM);
                    if (elem_end(r, s, pc) != 0)
                        return -1;
                }
                s->state = ch == ']' ? A_TOP : A_EXPECT;
                s->comma = ch == ',';
                continue;
            }
            elem_begin(s, *pc, A_ELEM);
            in = 1;
            span = i;
            /* FALLTHROUGH */
        case A_ELEM:
            if (s->instr) {
                if (s->esc)
                    s->esc = 0;
                else if (ch == '\\')
                    s->esc = 1;
                else if (ch == '"')
                    s->instr = 0;
            } else if (ch == '"') {
                s->instr = 1;
            } else if (ch == '{' || ch == '[') {
                s->depth++;
            } else if (ch == '}' || ch == ']') {
                if (s->depth > 0)
                    s->depth--;
                else if (ch == ']')
                    end = A_TOP + 1;
            } else if (ch == ',' && s->depth == 0) {
                end = A_EXPECT + 1;
            } else if (IS_BLANK(ch)) {
                continue;
            }
            break;
        case A_LINE:
            if (ch == '\n')
                end = A_TOP + 1;
            else if (IS_BLANK(ch))
                continue;
            break;
        }
        if (!end) {
            s->clen = s->elen + (i - span) + 1;
            continue;
        }
        if (elem_append(r, s, pc, p + span, i - span) != 0 ||
            elem_end(r, s, pc) != 0)
            return -1;
        in = 0;
        s->state = end - 1;
        s->comma = s->state == A_EXPECT;
    }
    if (in && elem_append(r, s, pc, p + span, n - span) != 0)
        return -1;
    return 0;
}

static int
read_array(struct rd *r, struct chunk *c)
{
    struct scan s;
    char *block = xmalloc(BLOCK);
    size_t got;
    int rc = -1;

    memset(&s, 0, sizeof(s));
    s.state = A_TOP;
    s.line = 1;
    c->abs_lines = 1;
    /* what was read to tell the file's kind is the first block */
    got = c->len;
    memcpy(block, c->data, got);
    c->len = 0;
    for (;;) {
        if (scan_block(r, &s, &c, block, got) != 0)
            goto done;
        if (r->eof)
            break;
        if (fill(r, block, BLOCK, &got) != 0)
            goto done;
    }
    if (s.state == A_ELEM || s.state == A_LINE) {
        if (s.state == A_ELEM)
            log_warnx("input %s: JSON array not closed at the end",
                r->f.path);
        if (elem_end(r, &s, &c) != 0)
            goto done;
    } else if (s.state == A_EXPECT) {
        log_warnx("input %s: JSON array not closed at the end", r->f.path);
    }
    push(r, c);
    c = NULL;
    rc = 0;
done:
    if (c != NULL)
        queue_give_back(r->b, c);
    free(block);
    return rc;
}

/* Newlines in s[0..n). */
static int64_t
count_nl(const char *s, size_t n)
{
    int64_t k = 0;
    const char *p = s, *end = s + n;

    while ((p = memchr(p, '\n', (size_t)(end - p))) != NULL) {
        k++;
        p++;
    }
    return k;
}

/* Move the bytes of c from start on to a new chunk: *pc is then it. */
static int
csv_rotate(struct rd *r, struct chunk **pc, size_t start)
{
    struct chunk *c = *pc, *next = take(r);

    if (next == NULL)
        return -1;
    next->abs_lines = 1;
    memcpy(next->data, c->data + start, c->len - start);
    next->len = c->len - start;
    c->len = start;
    push(r, c);
    *pc = next;
    return 0;
}

struct csv_rd {                 /* the record being cut */
    struct csv_scan cs;
    size_t          start, pos;     /* its offset; how far it is scanned */
    int64_t         line;           /* the line pos is on */
    int64_t         start_line;
    int             header;         /* the next record is the header */
    int             skipping;       /* too long: only keep bytes are kept */
    size_t          keep;
    uint64_t        total;          /* its length while skipping */
};

/* Record [cr->start, end) is complete: the header, or a record to queue. */
static int
csv_record(struct rd *r, struct csv_rd *cr, struct chunk *c, size_t end)
{
    size_t len = end - cr->start;
    char err[ERR_LEN];

    while (len > 0 && (c->data[cr->start + len - 1] == '\n' ||
        c->data[cr->start + len - 1] == '\r'))
        len--;
    if (cr->header) {
        if (cr->skipping) {
            batch_fail(r->b, "input %s: the CSV header is longer than %d "
                "bytes", r->f.path, EVENT_MAX_LINE);
            return -1;
        }
        if ((r->b->inputs[r->fi].csv = csv_header_new(r->b->p,
            c->data + cr->start, len, err)) == NULL) {
            batch_fail(r->b, "input %s: %s", r->f.path, err);
            return -1;
        }
        cr->header = 0;
    } else if (cr->skipping) {
        add_rec(c, cr->start, cr->keep, cr->start_line, -1, cr->total);
    } else if (len > 0) {       /* a blank line is no record */
        add_rec(c, cr->start, len, cr->start_line, -1, 0);
    }
    return 0;
}

/*
 * CSV (csv.h): the first record is the header, kept in b->inputs[fi].csv
 * for the workers; every other record is queued with the line it starts on
 * (quoted fields may span lines). A record longer than EVENT_MAX_LINE keeps
 * its first EVENT_RAW_MAX bytes and is rejected as too_large.
 */
static int
read_csv(struct rd *r, struct chunk *c)
{
    struct csv_rd cr;
    size_t got;
    long end;

    memset(&cr, 0, sizeof(cr));
    cr.line = cr.start_line = 1;
    cr.header = 1;
    c->abs_lines = 1;
    for (;;) {
        while ((end = csv_scan_end(&cr.cs, c->data + cr.pos,
            c->len - cr.pos)) >= 0) {
            size_t rend = cr.pos + (size_t)end;

            cr.line += count_nl(c->data + cr.pos, (size_t)end);
            if (cr.skipping) {
                /* drop what followed the kept bytes */
                cr.total += (uint64_t)end;
                memmove(c->data + cr.start + cr.keep, c->data + rend,
                    c->len - rend);
                c->len -= rend - (cr.start + cr.keep);
                rend = cr.start + cr.keep;
            }
            if (csv_record(r, &cr, c, rend) != 0)
                goto fail;
            cr.skipping = 0;
            cr.start = cr.pos = rend;
            cr.start_line = cr.line;
            if (c->nrecs >= MAX_RECS) {
                if (csv_rotate(r, &c, cr.start) != 0)
                    return -1;
                cr.start = cr.pos = 0;
            }
        }
        cr.line += count_nl(c->data + cr.pos, c->len - cr.pos);
        if (cr.skipping) {
            cr.total += c->len - cr.pos;
            c->len = cr.pos;
        } else if (c->len - cr.start > EVENT_MAX_LINE) {
            cr.skipping = 1;
            cr.keep = EVENT_RAW_MAX;
            cr.total = c->len - cr.start;
            c->len = cr.start + cr.keep;
        }
        cr.pos = c->len;
        if (r->eof)
            break;
        if (c->len == BATCH_CHUNK) {
            if (csv_rotate(r, &c, cr.start) != 0)
                return -1;
            cr.pos -= cr.start;
            cr.start = 0;
        }
        if (fill(r, c->data + c->len, BATCH_CHUNK - c->len, &got) != 0)
            goto fail;
        c->len += got;
    }
    /* the last record may have no line end */
    if (cr.start < c->len && csv_record(r, &cr, c, c->len) != 0)
        goto fail;
    push(r, c);
    return 0;
fail:
    queue_give_back(r->b, c);
    return -1;
}

/* A file read as JSON whose first line is CSV: refused, with a hint. */
static int
csv_refused(struct rd *r, const struct chunk *c, size_t i)
{
    const char *line = c->data + i;
    const char *nl = memchr(line, '\n', c->len - i);
    size_t len = nl != NULL ? (size_t)(nl - line) : c->len - i;

    if (len > 0 && line[len - 1] == '\r')
        len--;
    if (!csv_looks_like(line, len))
        return 0;
    batch_fail(r->b, "input %s: its first line is CSV, not JSON (\"%.*s%s\"): "
        "name the file *.csv to read it as CSV with a header row", r->f.path,
        len > 60 ? 60 : (int)len, line, len > 60 ? "..." : "");
    return 1;
}

/*
 * A piece that starts inside a file starts after the first newline at or
 * after byte start - 1 (the line holding that byte is the previous piece's).
 * Leaves the file there and returns 0, or 1 when no line of the piece
 * starts before r->limit, or -1 after batch_fail().
 */
static int
skip_to_line(struct rd *r, uint64_t start)
{
    char block[4096];
    uint64_t at = start - 1;
    ssize_t n;
    char *nl;

    for (;;) {
        if (stopping(r))
            return -1;
        if ((n = pread(r->f.fd, block, sizeof(block), (off_t)at)) < 0) {
            if (errno == EINTR)
                continue;
            batch_fail(r->b, "input %s: %s", r->f.path, strerror(errno));
            return -1;
        }
        if (n == 0)
            return 1;           /* the file ended inside that line */
        if ((nl = memchr(block, '\n', (size_t)n)) != NULL)
            break;
        at += (uint64_t)n;
    }
    at += (uint64_t)(nl - block);
    if (at + 1 >= r->limit)
        return 1;               /* the next line starts past the piece */
    if (lseek(r->f.fd, (off_t)(at + 1), SEEK_SET) < 0) {
        batch_fail(r->b, "input %s: %s", r->f.path, strerror(errno));
        return -1;
    }
    r->f.pos = at + 1;
    return 0;
}

/* Read input fi whole (pi -1), or piece pi of it. */
static int
read_file(struct batch *b, int fi, int pi)
{
    const struct piece *pc = pi >= 0 ? &b->pieces[pi] : NULL;
    struct rd r;
    struct chunk *c;
    size_t got, i;
    int rc;

    memset(&r, 0, sizeof(r));
    r.b = b;
    r.fi = fi;
    r.pi = pi;
    r.limit = pc != NULL ? pc->end : UINT64_MAX;
    r.first = 1;
    r.base = progress_bytes(&b->progress);
    if (input_open(&r.f, b->inputs[fi].path, r.err) != 0) {
        (void)stopping(&r);
        batch_fail(b, "%s", r.err);
        return -1;
    }
    if (pc != NULL && pc->start > 0) {
        /* inside a JSON Lines file (shard.c splits nothing else) */
        if ((rc = skip_to_line(&r, pc->start)) != 0 ||
            (c = take(&r)) == NULL) {
            input_close(&r.f);
            return rc > 0 ? 0 : -1;
        }
        rc = read_lines(&r, c);
        input_close(&r.f);
        progress_bytes_set(&b->progress, r.base + (pc->end - pc->start));
        return rc;
    }
    if ((c = take(&r)) == NULL) {
        input_close(&r.f);
        return -1;
    }
    if (fill(&r, c->data, PEEK, &got) != 0) {
        queue_give_back(b, c);
        input_close(&r.f);
        return -1;
    }
    c->len = got;
    if (got >= 3 && memcmp(c->data, "\xef\xbb\xbf", 3) == 0) {
        memmove(c->data, c->data + 3, got - 3);
        c->len -= 3;
    }
    for (i = 0; i < c->len && IS_BLANK(c->data[i]); i++)
        continue;
    if (csv_path(b->inputs[fi].path)) {
        rc = read_csv(&r, c);
    } else if (csv_refused(&r, c, i)) {
        queue_give_back(b, c);
        rc = -1;
    } else if (i < c->len && c->data[i] == '[') {
        rc = read_array(&r, c);
    } else {
        rc = read_lines(&r, c);
    }
    input_close(&r.f);
    progress_bytes_set(&b->progress, r.base + (pc != NULL &&
        pc->end != UINT64_MAX ? pc->end - pc->start : b->inputs[fi].size));
    return rc;
}

int
reader_run(struct batch *b)
{
    int n = b->mode == BATCH_SHARD ? b->npieces : b->ninputs;

    for (int i = 0; i < n; i++) {
        int rc = b->mode == BATCH_SHARD ?
            read_file(b, b->pieces[i].file, i) : read_file(b, i, -1);

        if (rc != 0) {
            queue_stop(b);
            return -1;
        }
    }
    progress_tick(b, 1);
    return 0;
}
