/* fixture.h -- unit tests: load a pipeline file of tests/fixtures/ */
#ifndef TESTS_FIXTURE_H
#define TESTS_FIXTURE_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

/* Write text to DIR/name; returns the path in a static buffer. Exits the
 * test program when it cannot. */
static inline const char *
write_in(const char *dir, const char *name, const char *text)
{
    static char path[256];
    FILE *fp;

    snprintf(path, sizeof(path), "%s/%s", dir, name);
    fp = fopen(path, "w");
    if (fp == NULL) {
        perror(path);
        exit(1);
    }
    fputs(text, fp);
    fclose(fp);
    return path;
}

/* Load text as DIR/shop.json; returns pipeline_load()'s rc, with err
 * reading "shop.json: ..." (DIR cut off) on failure. */
static inline int
load_text_in(const char *dir, const char *text, struct pipeline **p,
    char *err)
{
    const char *path = write_in(dir, "shop.json", text);
    size_t n = strlen(dir) + 1;
    int rc;

    err[0] = '\0';
    rc = pipeline_load(p, path, err);
    if (rc != 0 && strncmp(err, dir, n - 1) == 0)
        memmove(err, err + n, strlen(err + n) + 1);
    return rc;
}

#endif
