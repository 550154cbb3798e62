/* segment_fuzz.c -- libFuzzer: speed's archive segment record (the store's meta) and its round trip */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "shared/segment.h"
#include "tests/fuzz/fuzz.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct segment s, t;
    char buf[SEGMENT_RECORD_MAX];
    size_t n;

    if (segment_parse(&s, data, size) != 0)
        return 0;
    n = segment_format(&s, buf);
    if (segment_parse(&t, buf, n) != 0 || memcmp(&s, &t, sizeof(s)) != 0)
        abort();
    return 0;
}
