/* derive.h -- event.derive: fields computed from the other fields of an event */
#ifndef SHARED_DERIVE_H
#define SHARED_DERIVE_H

#include <stddef.h>

#include <cjson/cJSON.h>

#include "shared/event.h"
#include "shared/expr.h"
#include "shared/pipeline.h"

/*
 * event.derive maps a field name to an expression (expr.h) of these
 * functions, nested as needed; arguments are fields, 'text' literals and
 * integers:
 *     upper(s), lower(s), trim(s)     case (letters of ASCII, Latin-1,
 *                                     Latin Extended-A, Greek, Cyrillic),
 *                                     ASCII spaces at both ends
 *     substr(s, start[, len])         len characters from character start,
 *                                     1-based as in SQL, or from the end
 *                                     when negative; "" past the end
 *     split(s, sep, index)            the index-th piece (0-based, negative
 *                                     from the end) of s cut at every sep
 *     split(s, sep)                   every piece: an array of strings
 *     a[index]                        an element of an array
 *     concat(a, b, ...)               the texts of a, b, ...: numbers exact
 *                                     at their scale, bools true/false
 *     coalesce(a, b, ...)             the first of them that has a value; a
 *                                     literal takes the others' type
 *     f                               a copy of field f (a rename)
 * Each entry is computed in file order, after the declared fields are read
 * and checked, and may use the declared fields and the entries before it.
 * A value that cannot be computed (a missing input, a split index out of
 * range) leaves the field missing, which rejects the event only when the
 * field is required.
 *
 * Overwriting: an entry named like a declared field ("city":
 * "upper(city)") reads the field as the event has it and replaces its
 * value for everything after (later entries, group_by, where, metrics,
 * explode). Its result must have the declared type (and scale), and the
 * declaration's "required" holds for the result too. An entry with a new
 * name adds a field of the result's type, optional unless the entry is an
 * object {"expr": "...", "required": true}.
 */

struct derive {
    char        *src;       /* the expression as written */
    struct expr *expr;      /* checked: NAME nodes hold field indexes in ref */
    int          field;     /* the field it sets (pipeline.fields) */
};

#define DERIVE_MAX 64       /* entries of event.derive */

/*
 * Compile entry name of event.derive (j: "EXPR" or {"expr": "EXPR",
 * "required": BOOL}) into p: parse and check it, add a field when name is
 * new, and append the entry to p->derives. Returns 0, or -1 with the key
 * under the entry the error is about in at ("" for the entry itself,
 * "expr", "required"; at holds 16 bytes) and the reason in why (ERR_LEN):
 *     unknown function "uper"
 */
int derive_load(struct pipeline *p, const char *name, const cJSON *j,
    char *at, char *why);

/* Free the n entries of d and d. */
void derive_free(struct derive *d, int n);

/*
 * Compute every derived field of ev (whose declared fields are read) in
 * order. Strings it makes live in the event's arena (event_alloc()).
 * Returns REJECT_NONE, or REJECT_MISSING with err when a required derived
 * field has no value.
 */
enum reject derive_event(const struct pipeline *p, struct event *ev,
    char *err);

#endif
