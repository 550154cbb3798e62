/* jsonnum.h -- the numbers of a parsed JSON text as written, not as doubles */
#ifndef SHARED_JSONNUM_H
#define SHARED_JSONNUM_H

#include <stddef.h>

#include <cjson/cJSON.h>

#include "shared/buf.h"

/*
 * cJSON keeps a number only as a double, which cannot hold 0.1234565 or
 * 43123.123456785 exactly; float fields round the number as written. The
 * numbers of a JSON text appear in the text in the order a depth-first walk
 * of cJSON's tree meets its number items (cJSON keeps members, duplicates
 * included, in text order), so the i-th number item is the i-th number
 * token of the text. A token is the run of [0-9+-.eE] from a '-' or a digit
 * outside strings: exactly what cJSON handed to strtod, since in a text
 * cJSON accepted no such character can follow a number.
 *
 * Caveat: text and tree must match. The tree is cJSON's parse of the text;
 * strings, objects, booleans and nulls may have been added or removed since,
 * numbers not.
 */

struct jsonnum {
    const char *text;       /* borrowed: the document */
    size_t      len;
    size_t     *spans;      /* offset and length of each number token */
    int         n, cap;
    int         scanned;    /* spans are those of text */
};

/* Embedded lifecycle: jsonnum_init() an empty one, jsonnum_reset() frees. */
void jsonnum_init(struct jsonnum *jn);
void jsonnum_reset(struct jsonnum *jn);

/* Use text[0..len) from now on (borrowed until the next start); its numbers
 * are found on the first jsonnum_text() call, once. */
void jsonnum_start(struct jsonnum *jn, const char *text, size_t len);

/*
 * The text of number item `item` of root, the tree parsed from the started
 * text: sets *s (inside the text) and *n. Returns 0, or -1 when item is not
 * a number of root or the tree does not match the text.
 */
int jsonnum_text(struct jsonnum *jn, const cJSON *root, const cJSON *item,
    const char **s, size_t *n);

/*
 * Append doc as one line of JSON (no spaces, like cJSON_PrintUnformatted),
 * every number as written in text[0..len), the text doc was parsed from.
 * Returns 0, or -1 (out unchanged) when doc's numbers do not match the
 * text's.
 */
int jsonnum_print(struct buf *out, const cJSON *doc, const char *text,
    size_t len);

#endif
