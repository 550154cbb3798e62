/* key.h -- group keys: order-preserving, self-delimiting encoding of group_by values */
#ifndef SHARED_KEY_H
#define SHARED_KEY_H

#include <stddef.h>

#include "shared/buf.h"
#include "shared/event.h"
#include "shared/pipeline.h"

/*
 * A view's group key is its group_by values in order, each encoded as:
 *     absent/null   0x00
 *     false, true   0x01, 0x02
 *     int, decimal  0x03, then 8 bytes big-endian of (uint64)scaled ^ 2^63
 *     string        0x04, the bytes (never NUL), then 0x00
 * memcmp order is value order per field, and no key is a prefix of another,
 * so one group's series is one contiguous range in the store.
 * A view without group_by has the empty key.
 */

#define KEY_MAX 400     /* longest encoded group key; LMDB keys are <= 511 bytes */

/*
 * Append the group key of ev for view v of pipeline p to out (p gives the
 * field types: a bool and an int hold the same event_value). Returns 0, or -1
 * if it would be longer than KEY_MAX or a string value holds a NUL byte
 * (out is then left as it was).
 */
int key_encode_event(struct buf *out, const struct pipeline *p,
    const struct view *v, const struct event *ev);

/*
 * Write to msg (ERR_LEN bytes) the reason lambda-batch and lambda-speed both
 * give an event whose key key_encode_event() refused for view v (they count
 * it out_of_range):
 *     view by_customer: group key longer than 400 bytes
 */
void key_reject_msg(char *msg, const struct view *v);

/*
 * Append one component for field f from query-parameter text (NULL: absent),
 * parsed by the field's type: "true"/"false", integers, decimals at the
 * field's scale ("12.5"), any UTF-8 string. Returns 0, or -1 with err saying
 * what was expected.
 */
int key_encode_text(struct buf *out, const struct field *f, const char *text,
    char *err);

/*
 * Append the JSON object of a group key to out: {"customer":"c1"} (group_by
 * names as keys, typed values, decimals exact at scale, null when absent).
 * Returns 0, or -1 if key is not a valid key of v.
 */
int key_to_json(struct buf *out, const struct pipeline *p,
    const struct view *v, const void *key, size_t len);

/*
 * Append the group_by value at *k (one component of a key, for field f) to
 * out and move *k past it: as JSON (json set: null, "text" escaped, 12.50,
 * true) or as plain text (null as nothing, a string's bytes as they are).
 * Returns 0, or -1 (out and *k unchanged) if the bytes up to end do not
 * start with a valid value of f.
 */
int key_value_put(struct buf *out, const struct field *f,
    const unsigned char **k, const unsigned char *end, int json);

#endif
