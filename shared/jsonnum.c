/* jsonnum.c -- the numbers of a parsed JSON text as written, not as doubles */
#include <stdlib.h>
#include <string.h>

#include "shared/jsonnum.h"
#include "shared/mem.h"

void
jsonnum_init(struct jsonnum *jn)
{
    memset(jn, 0, sizeof(*jn));
}

void
jsonnum_reset(struct jsonnum *jn)
{
    free(jn->spans);
    memset(jn, 0, sizeof(*jn));
}

void
jsonnum_start(struct jsonnum *jn, const char *text, size_t len)
{
    jn->text = text;
    jn->len = len;
    jn->n = 0;
    jn->scanned = 0;
}

static int
num_char(char c)
{
    return (c >= '0' && c <= '9') || c == '-' || c == '+' || c == '.' ||
        c == 'e' || c == 'E';
}

/* Every number token of the text, in order, skipping strings. */
static void
scan(struct jsonnum *jn)
{
    const char *t = jn->text, *end = t + jn->len;

    jn->n = 0;
    while (t < end) {
        if (*t == '"') {
            for (t++; t < end && *t != '"'; t++) {
                if (*t == '\\')
                    t++;
            }
            t++;
            continue;
        }
        if (*t != '-' && (*t < '0' || *t > '9')) {
            t++;
            continue;
        }
        const char *s = t;
        while (t < end && num_char(*t))
            t++;
        if (jn->n == jn->cap) {
            jn->cap = jn->cap > 0 ? jn->cap * 2 : 16;
            jn->spans = xrealloc(jn->spans, 2 * sizeof(size_t) *
                (size_t)jn->cap);
        }
        jn->spans[2 * jn->n] = (size_t)(s - jn->text);
        jn->spans[2 * jn->n + 1] = (size_t)(t - s);
        jn->n++;
    }
    jn->scanned = 1;
}

/* Walk j depth-first counting number items in *i until item; 1 if found. */
static int
find(const cJSON *j, const cJSON *item, int *i)
{
    if (j == item)
        return 1;
    if (cJSON_IsNumber(j)) {
        (*i)++;
        return 0;
    }
    if (cJSON_IsArray(j) || cJSON_IsObject(j)) {
        for (const cJSON *c = j->child; c != NULL; c = c->next) {
            if (find(c, item, i))
                return 1;
        }
    }
    return 0;
}

int
jsonnum_text(struct jsonnum *jn, const cJSON *root, const cJSON *item,
    const char **s, size_t *n)
{
    int i = 0;

    if (!cJSON_IsNumber(item) || !find(root, item, &i))
        return -1;
    if (!jn->scanned)
        scan(jn);
    if (i >= jn->n)
        return -1;
    *s = jn->text + jn->spans[2 * i];
    *n = jn->spans[2 * i + 1];
    return 0;
}

static int
print(struct buf *out, const cJSON *j, const struct jsonnum *jn, int *i)
{
    const char *sep = "";

    if (cJSON_IsNumber(j)) {
        if (*i >= jn->n)
            return -1;
        buf_append(out, jn->text + jn->spans[2 * *i], jn->spans[2 * *i + 1]);
        (*i)++;
    } else if (cJSON_IsString(j)) {
        buf_put_json_string(out, j->valuestring, strlen(j->valuestring));
    } else if (cJSON_IsTrue(j)) {
        buf_puts(out, "true");
    } else if (cJSON_IsFalse(j)) {
        buf_puts(out, "false");
    } else if (cJSON_IsArray(j) || cJSON_IsObject(j)) {
        buf_putc(out, cJSON_IsArray(j) ? '[' : '{');
        for (const cJSON *c = j->child; c != NULL; c = c->next, sep = ",") {
            buf_puts(out, sep);
            if (cJSON_IsObject(j)) {
                buf_put_json_string(out, c->string, strlen(c->string));
                buf_putc(out, ':');
            }
            if (print(out, c, jn, i) != 0)
                return -1;
        }
        buf_putc(out, cJSON_IsArray(j) ? ']' : '}');
    } else {
        buf_puts(out, "null");
    }
    return 0;
}

int
jsonnum_print(struct buf *out, const cJSON *doc, const char *text,
    size_t len)
{
    struct jsonnum jn;
    size_t mark = out->len;
    int i = 0, rc;

    jsonnum_init(&jn);
    jsonnum_start(&jn, text, len);
    scan(&jn);
    rc = print(out, doc, &jn, &i);
    if (rc == 0 && i != jn.n)
        rc = -1;
    if (rc != 0) {
        out->len = mark;
        if (out->data != NULL)
            out->data[mark] = '\0';
    }
    jsonnum_reset(&jn);
    return rc;
}
