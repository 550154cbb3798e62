/* csv.c -- CSV with a header row (RFC 4180): records, fields, rows as JSON events */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <cjson/cJSON.h>

#include "shared/csv.h"
#include "shared/err.h"
#include "shared/mem.h"

#define CSV_COLS_MAX 1024

/* A column's place in the JSON object: a tree of dotted names. */
struct csv_node {
    char             *name;
    int               col;      /* the column, or -1 for an object */
    struct csv_node **kids;
    int               nkids;
};

struct csv_col {
    enum field_type type;       /* FIELD_STRING for a column of no field */
    int             is_time;
};

struct csv_header {
    int              ncols;
    struct csv_col  *cols;
    struct csv_node  root;
};

/* ---- records and fields -------------------------------------------------- */

long
csv_scan_end(struct csv_scan *cs, const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        char c = s[i];

        if (cs->quoted == 2) {          /* a quote inside quotes: "" or end */
            if (c == '"') {
                cs->quoted = 1;
                continue;
            }
            cs->quoted = 0;
        }
        if (cs->quoted == 1) {
            if (c == '"')
                cs->quoted = 2;
            continue;
        }
        if (c == '"')
            cs->quoted = 1;
        else if (c == '\n')
            return (long)i + 1;
    }
    return -1;
}

void
csv_fields_init(struct csv_fields *cf)
{
    memset(cf, 0, sizeof(*cf));
    buf_init(&cf->text);
}

void
csv_fields_reset(struct csv_fields *cf)
{
    buf_reset(&cf->text);
    free(cf->off);
    free(cf->len);
    memset(cf, 0, sizeof(*cf));
}

static void
add_field(struct csv_fields *cf, size_t off)
{
    if (cf->n == cf->cap) {
        cf->cap = cf->cap > 0 ? cf->cap * 2 : 16;
        cf->off = xrealloc(cf->off, sizeof(*cf->off) * (size_t)cf->cap);
        cf->len = xrealloc(cf->len, sizeof(*cf->len) * (size_t)cf->cap);
    }
    cf->off[cf->n] = off;
    cf->len[cf->n] = cf->text.len - off;
    cf->n++;
    buf_putc(&cf->text, '\0');
}

int
csv_split(struct csv_fields *cf, const char *rec, size_t len, char *err)
{
    size_t i = 0, off;

    buf_clear(&cf->text);
    cf->n = 0;
    if (len > 0 && rec[len - 1] == '\n')
        len--;
    if (len > 0 && rec[len - 1] == '\r')
        len--;
    for (;;) {
        off = cf->text.len;
        if (i < len && rec[i] == '"') {
            for (i++;; i++) {
                if (i >= len) {
                    snprintf(err, ERR_LEN, "a quoted field is not closed");
                    return -1;
                }
                if (rec[i] == '"') {
                    if (i + 1 < len && rec[i + 1] == '"') {
                        buf_putc(&cf->text, '"');
                        i++;
                        continue;
                    }
                    i++;
                    break;
                }
                buf_putc(&cf->text, rec[i]);
            }
            if (i < len && rec[i] != ',') {
                snprintf(err, ERR_LEN, "text after a closing quote at byte "
                    "%zu", i + 1);
                return -1;
            }
        } else {
            for (; i < len && rec[i] != ','; i++) {
                if (rec[i] == '"') {
                    snprintf(err, ERR_LEN, "a quote inside a field that is "
                        "not quoted, at byte %zu", i + 1);
                    return -1;
                }
                buf_putc(&cf->text, rec[i]);
            }
        }
        if (cf->n >= CSV_COLS_MAX) {
            snprintf(err, ERR_LEN, "more than %d fields", CSV_COLS_MAX);
            return -1;
        }
        add_field(cf, off);
        if (i >= len)
            return cf->n;
        i++;        /* the comma: a field follows, maybe empty */
    }
}

/* ---- the header ---------------------------------------------------------- */

static void
node_free(struct csv_node *n)
{
    for (int i = 0; i < n->nkids; i++) {
        node_free(n->kids[i]);
        free(n->kids[i]);
    }
    free(n->kids);
    free(n->name);
}

void
csv_header_free(struct csv_header *h)
{
    if (h == NULL)
        return;
    node_free(&h->root);
    free(h->cols);
    free(h);
}

static struct csv_node *
node_child(struct csv_node *n, const char *name, size_t len)
{
    struct csv_node *c;

    for (int i = 0; i < n->nkids; i++) {
        if (strlen(n->kids[i]->name) == len &&
            memcmp(n->kids[i]->name, name, len) == 0)
            return n->kids[i];
    }
    c = xcalloc(1, sizeof(*c));
    c->name = xstrndup(name, len);
    c->col = -1;
    n->kids = xrealloc(n->kids, sizeof(*n->kids) * (size_t)(n->nkids + 1));
    n->kids[n->nkids++] = c;
    return c;
}

/* Place column col, named name, in the tree. Returns 0, or -1 with err. */
static int
place(struct csv_header *h, const char *name, int col, char *err)
{
    struct csv_node *n = &h->root;
    const char *s = name, *dot;

    for (;;) {
        dot = strchr(s, '.');
        if ((dot != NULL ? (size_t)(dot - s) : strlen(s)) == 0) {
            snprintf(err, ERR_LEN, "column %d (\"%.64s\"): empty part in a "
                "dotted name", col + 1, name);
            return -1;
        }
        n = node_child(n, s, dot != NULL ? (size_t)(dot - s) : strlen(s));
        if (n->col >= 0 || (dot == NULL && n->nkids > 0)) {
            snprintf(err, ERR_LEN, "column %d (\"%.64s\") is also another "
                "column or part of one", col + 1, name);
            return -1;
        }
        if (dot == NULL)
            break;
        s = dot + 1;
    }
    n->col = col;
    return 0;
}

struct csv_header *
csv_header_new(const struct pipeline *p, const char *rec, size_t len,
    char *err)
{
    struct csv_header *h = xcalloc(1, sizeof(*h));
    struct csv_fields cf;
    char why[ERR_LEN];
    int n;

    csv_fields_init(&cf);
    h->root.col = -1;
    if ((n = csv_split(&cf, rec, len, why)) < 0) {
        snprintf(err, ERR_LEN, "header: %.200s", why);
        goto fail;
    }
    h->cols = xcalloc((size_t)n, sizeof(*h->cols));
    h->ncols = n;
    for (int i = 0; i < n; i++) {
        const char *name = cf.text.data + cf.off[i];
        int f;

        if (cf.len[i] == 0 || strlen(name) != cf.len[i]) {
            snprintf(err, ERR_LEN, "header: column %d has no name", i + 1);
            goto fail;
        }
        f = pipeline_field_index(p, name);
        h->cols[i].type = f >= 0 && !p->fields[f].computed ?
            p->fields[f].type : FIELD_STRING;
        h->cols[i].is_time = strcmp(name, p->time_field) == 0;
        if (place(h, name, i, why) != 0) {
            snprintf(err, ERR_LEN, "header: %.200s", why);
            goto fail;
        }
    }
    csv_fields_reset(&cf);
    return h;
fail:
    csv_fields_reset(&cf);
    csv_header_free(h);
    return NULL;
}

/* ---- rows as JSON -------------------------------------------------------- */

/* -?digits[.digits][(e|E)[+-]digits]: a number JSON parsers take. */
static int
is_number(const char *s, size_t n)
{
    size_t i = 0, d;

    if (i < n && s[i] == '-')
        i++;
    for (d = i; i < n && s[i] >= '0' && s[i] <= '9'; i++)
        continue;
    if (i == d)
        return 0;
    if (i < n && s[i] == '.') {
        for (d = ++i; i < n && s[i] >= '0' && s[i] <= '9'; i++)
            continue;
        if (i == d)
            return 0;
    }
    if (i < n && (s[i] == 'e' || s[i] == 'E')) {
        if (++i < n && (s[i] == '+' || s[i] == '-'))
            i++;
        for (d = i; i < n && s[i] >= '0' && s[i] <= '9'; i++)
            continue;
        if (i == d)
            return 0;
    }
    return i == n;
}

static int
is_array(const char *s, size_t n)
{
    const char *end = NULL;
    cJSON *j;
    int ok;

    if (n == 0 || s[0] != '[')
        return 0;
    j = cJSON_ParseWithLengthOpts(s, n, &end, 0);
    ok = j != NULL && cJSON_IsArray(j) && end == s + n;
    cJSON_Delete(j);
    return ok;
}

/* Append cell s[0..n) of column c as a JSON value. */
static void
put_cell(struct buf *out, const struct csv_col *c, const char *s, size_t n)
{
    const char *t = s;
    size_t m = n;

    /* typed cells may have spaces around them */
    while (m > 0 && (*t == ' ' || *t == '\t')) {
        t++;
        m--;
    }
    while (m > 0 && (t[m - 1] == ' ' || t[m - 1] == '\t'))
        m--;
    if ((c->is_time || c->type == FIELD_INT || c->type == FIELD_DECIMAL ||
        c->type == FIELD_FLOAT) && is_number(t, m)) {
        buf_append(out, t, m);
        return;
    }
    if (c->type == FIELD_BOOL && (m == 4 || m == 5) &&
        (strncasecmp(t, "true", m) == 0 || strncasecmp(t, "false", m) == 0)) {
        buf_puts(out, m == 4 ? "true" : "false");
        return;
    }
    if (c->type == FIELD_ARRAY && is_array(t, m)) {
        buf_append(out, t, m);
        return;
    }
    if (c->is_time || c->type != FIELD_STRING) {
        s = t;
        n = m;
    }
    buf_put_json_string(out, s, n);
}

/* Append node n's members (an object's), skipping empty cells. */
static void
put_object(struct buf *out, const struct csv_header *h,
    const struct csv_node *n, const struct csv_fields *cf)
{
    int first = 1;

    buf_putc(out, '{');
    for (int i = 0; i < n->nkids; i++) {
        const struct csv_node *k = n->kids[i];

        if (k->col >= 0 && cf->len[k->col] == 0)
            continue;
        if (!first)
            buf_putc(out, ',');
        first = 0;
        buf_put_json_string(out, k->name, strlen(k->name));
        buf_putc(out, ':');
        if (k->col >= 0)
            put_cell(out, &h->cols[k->col], cf->text.data + cf->off[k->col],
                cf->len[k->col]);
        else
            put_object(out, h, k, cf);
    }
    buf_putc(out, '}');
}

int
csv_row_json(const struct csv_header *h, struct csv_fields *cf,
    const char *rec, size_t len, struct buf *out, char *err)
{
    int n;

    if ((n = csv_split(cf, rec, len, err)) < 0)
        return -1;
    if (n != h->ncols) {
        snprintf(err, ERR_LEN, "%d field%s, the header has %d", n,
            n == 1 ? "" : "s", h->ncols);
        return -1;
    }
    put_object(out, h, &h->root, cf);
    return 0;
}

int
csv_looks_like(const char *line, size_t len)
{
    static const char *const words[] = {"true", "false", "null"};
    struct csv_fields cf;
    char err[ERR_LEN];
    size_t i = 0;
    int n;

    while (i < len && (line[i] == ' ' || line[i] == '\t'))
        i++;
    if (i == len || strchr("{[\"-0123456789", line[i]) != NULL)
        return 0;
    for (size_t w = 0; w < sizeof(words) / sizeof(words[0]); w++) {
        if (len - i >= strlen(words[w]) &&
            strncmp(line + i, words[w], strlen(words[w])) == 0)
            return 0;
    }
    csv_fields_init(&cf);
    n = csv_split(&cf, line, len, err);
    csv_fields_reset(&cf);
    return n >= 2;
}

int
csv_path(const char *path)
{
    size_t n = strlen(path);

    return (n >= 4 && strcasecmp(path + n - 4, ".csv") == 0) ||
        (n >= 7 && strcasecmp(path + n - 7, ".csv.gz") == 0);
}
