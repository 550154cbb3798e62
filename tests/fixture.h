/* fixture.h -- unit tests: load a pipeline file of tests/fixtures/ */
#ifndef TESTS_FIXTURE_H
#define TESTS_FIXTURE_H

#include <stdio.h>
#include <stdlib.h>

#include "shared/err.h"
#include "shared/pipeline.h"

/* tests/fixtures/NAME under $LAMBDA_TOP (or "."), loaded; exits the test
 * program with a message when it does not load. Free with pipeline_free(). */
static inline struct pipeline *
load_fixture(const char *name)
{
    const char *top = getenv("LAMBDA_TOP");
    char path[512], err[ERR_LEN];
    struct pipeline *p;

    snprintf(path, sizeof(path), "%s/tests/fixtures/%s",
        top != NULL ? top : ".", name);
    if (pipeline_load(&p, path, err) != 0) {
        printf("cannot load fixture: %s\n", err);
        exit(1);
    }
    return p;
}

#endif
