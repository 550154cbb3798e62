/* event_fuzz.c -- libFuzzer: one event line through parsing, validation, where, group keys and rows */
#include <stdint.h>
#include <string.h>

#include "shared/agg.h"
#include "shared/buf.h"
#include "shared/event.h"
#include "shared/key.h"
#include "tests/fuzz/fuzz.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct pipeline *p;
    struct event ev;
    struct buf key, json, rej;
    char err[ERR_LEN];
    enum reject r;

    if (p == NULL)
        p = fuzz_pipeline("tests/fuzz/pipeline.json");
    event_init(&ev, p);
    buf_init(&key);
    buf_init(&json);
    buf_init(&rej);
    r = event_parse(&ev, p, (const char *)data, size, 1763640000000LL, err);
    if (r == REJECT_NONE) {
        for (int i = 0; i < p->nviews; i++) {
            const struct view *v = &p->views[i];
            int64_t row[64];

            if (!event_match(&ev, v) || v->nslots > 64)
                continue;
            buf_clear(&key);
            buf_clear(&json);
            /* the key an event gets is one that key_to_json prints */
            if (key_encode_event(&key, p, v, &ev) == 0 &&
                key_to_json(&json, p, v, key.data, key.len) != 0)
                abort();
            agg_row_init(v, row);
            (void)agg_row_add(v, row, &ev);
            for (int m = 0; m < v->nmetrics; m++) {
                buf_clear(&json);
                agg_metric_json(p, v, m, row, &json);
            }
        }
    } else {
        /* the reject record is valid JSON whatever the bytes */
        event_reject_fields(&rej, r, err, (const char *)data, size);
    }
    buf_reset(&key);
    buf_reset(&json);
    buf_reset(&rej);
    event_reset(&ev);
    return 0;
}
