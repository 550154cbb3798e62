/* parse_fuzz.c -- libFuzzer: time, duration and decimal text, and their round trips */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "shared/dec.h"
#include "shared/ts.h"
#include "tests/fuzz/fuzz.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char text[256], buf[TS_BUFSZ], dbuf[DEC_BUFSZ];
    int64_t ms, back, v, v2;

    if (size >= sizeof(text))
        return 0;
    memcpy(text, data, size);
    text[size] = '\0';
    /* a time that parses prints as RFC 3339 that parses to the same ms */
    if (ts_parse((const char *)data, size, &ms) == 0) {
        ts_format(ms, buf, sizeof(buf));
        if (ts_parse(buf, strlen(buf), &back) != 0 || back != ms)
            abort();
    }
    if (ts_param_parse(text, &ms) == 0)
        ts_format(ms, buf, sizeof(buf));
    if (ts_duration_parse(text, &ms) == 0) {
        ts_duration_format(ms, buf, sizeof(buf));
        if (ts_duration_parse(buf, &back) != 0 || back != ms)
            abort();
    }
    /* a decimal that parses prints at its scale and parses back */
    for (int scale = 0; scale <= DEC_MAX_SCALE; scale += 3) {
        if (dec_parse(text, scale, &v) != DEC_OK)
            continue;
        dec_format(v, scale, dbuf, sizeof(dbuf));
        if (dec_parse(dbuf, scale, &v2) != DEC_OK || v2 != v)
            abort();
    }
    return 0;
}
