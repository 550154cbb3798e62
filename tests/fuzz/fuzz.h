/* fuzz.h -- what the libFuzzer targets share: a pipeline loaded once, from a file of the tree */
#ifndef TESTS_FUZZ_FUZZ_H
#define TESTS_FUZZ_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "shared/err.h"
#include "shared/pipeline.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The pipeline at path (relative to the repository, where `make fuzz` and
 * the tests run them); a target without it cannot run, so it aborts. */
static inline struct pipeline *
fuzz_pipeline(const char *path)
{
    struct pipeline *p = NULL;
    char err[ERR_LEN];

    if (pipeline_load(&p, path, err) != 0) {
        fprintf(stderr, "fuzz: %s (run from the repository)\n", err);
        abort();
    }
    return p;
}

#endif
