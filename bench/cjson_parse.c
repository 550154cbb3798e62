/* cjson_parse.c -- benchmark reference: read lines, parse each with cJSON */
/*
 * usage: cjson_parse FILE
 *
 * The parser's cost alone, single-threaded: read FILE in 4 MiB blocks, split
 * at newlines, cJSON_ParseWithLength() and cJSON_Delete() each line (plain
 * malloc, the library's defaults). Prints "lines=N objects=N seconds=S".
 */
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define BLOCK (4u << 20)

int
main(int argc, char **argv)
{
    FILE *f;
    char *buf;
    size_t have = 0, got;
    long long lines = 0, objects = 0;
    struct timespec t0, t1;

    if (argc != 2) {
        fprintf(stderr, "usage: cjson_parse FILE\n");
        return 2;
    }
    if ((f = fopen(argv[1], "rb")) == NULL) {
        perror(argv[1]);
        return 1;
    }
    buf = malloc(BLOCK);
    if (buf == NULL)
        abort();
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (;;) {
        got = fread(buf + have, 1, BLOCK - have, f);
        have += got;
        if (have == 0)
            break;
        char *p = buf, *end = buf + have, *nl;

        while ((nl = memchr(p, '\n', (size_t)(end - p))) != NULL ||
            (got == 0 && p < end)) {
            char *e = nl != NULL ? nl : end;
            cJSON *j = cJSON_ParseWithLength(p, (size_t)(e - p));

            lines++;
            if (j != NULL && cJSON_IsObject(j))
                objects++;
            cJSON_Delete(j);
            p = nl != NULL ? nl + 1 : end;
        }
        have = (size_t)(end - p);
        if (have == BLOCK) {
            fprintf(stderr, "cjson_parse: line longer than %u bytes\n", BLOCK);
            return 1;
        }
        memmove(buf, p, have);
        if (got == 0)
            break;
    }
    clock_gettime(CLOCK_MONOTONIC, &t1);
    printf("lines=%lld objects=%lld seconds=%.3f\n", lines, objects,
        (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) /
        1e9);
    free(buf);
    (void)fclose(f);
    return 0;
}
