/* timeshift_fuzz.c -- libFuzzer: the history loader's scan; a moved time is still found as a time */
#include <stdint.h>
#include <stdlib.h>

#include "shared/buf.h"
#include "shared/timeshift.h"
#include "tests/fuzz/fuzz.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct buf fwd, back;
    int64_t max = INT64_MIN, max2 = INT64_MIN;
    size_t n, n2;
    int64_t days = size > 0 ? (int64_t)(data[0] % 64) - 32 : 3;

    buf_init(&fwd);
    buf_init(&back);
    n = timeshift_text((const char *)data, size, "ts", days, &fwd, &max);
    n2 = timeshift_text(fwd.data, fwd.len, "ts", -days, &back, &max2);
    /* every time found is found again after the move (moved or kept) */
    if (n2 != n || (n > 0) != (max2 != INT64_MIN))
        abort();
    buf_reset(&fwd);
    buf_reset(&back);
    return 0;
}
