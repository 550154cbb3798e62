/* cjson_parse.c -- benchmark reference: read lines, parse each with cJSON */
/*
 * usage: cjson_parse FILE [THREADS]
 *
 * The parser's cost alone: read FILE in 4 MiB blocks, split at newlines,
 * cJSON_ParseWithLength() and cJSON_Delete() each line (plain malloc, the
 * library's defaults). With THREADS (default 1) > 1 the file is cut into
 * THREADS byte ranges at line starts and each thread parses one: the most
 * any program parsing with cJSON on that many cores can reach (the ranges
 * are equal in bytes, so the threads end within a few milliseconds of each
 * other). Prints "lines=N objects=N seconds=S" (wall time of all threads).
 */
#include <cjson/cJSON.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define BLOCK (4u << 20)
#define MAX_THREADS 64

struct range {
    const char *path;
    off_t from, to;             /* [from, to): whole lines */
    long long lines, objects;
    int failed;
};

/* The offset of the first line starting at or after off (size if none). */
static off_t
line_start(int fd, off_t off, off_t size)
{
    char b[4096];
    ssize_t n;

    if (off == 0)
        return 0;
    off--;                      /* a line starts at off when off-1 is '\n' */
    while (off < size && (n = pread(fd, b, sizeof(b), off)) > 0) {
        char *nl = memchr(b, '\n', (size_t)n);

        if (nl != NULL)
            return off + (nl - b) + 1;
        off += n;
    }
    return size;
}

static void *
parse_range(void *arg)
{
    struct range *r = arg;
    char *buf = malloc(BLOCK);
    size_t have = 0;
    off_t pos = r->from;
    int fd = open(r->path, O_RDONLY);

    if (buf == NULL || fd < 0) {
        r->failed = 1;
        free(buf);
        return NULL;
    }
    for (;;) {
        size_t want = BLOCK - have;
        ssize_t got = 0;

        if ((off_t)want > r->to - pos)
            want = (size_t)(r->to - pos);
        if (want > 0 && (got = pread(fd, buf + have, want, pos)) < 0) {
            r->failed = 1;
            break;
        }
        pos += got;
        have += (size_t)got;
        if (have == 0)
            break;
        char *p = buf, *end = buf + have, *nl;

        while ((nl = memchr(p, '\n', (size_t)(end - p))) != NULL ||
            (got == 0 && p < end)) {
            char *e = nl != NULL ? nl : end;
            cJSON *j = cJSON_ParseWithLength(p, (size_t)(e - p));

            r->lines++;
            if (j != NULL && cJSON_IsObject(j))
                r->objects++;
            cJSON_Delete(j);
            p = nl != NULL ? nl + 1 : end;
        }
        have = (size_t)(end - p);
        if (have == BLOCK) {
            fprintf(stderr, "cjson_parse: line longer than %u bytes\n", BLOCK);
            r->failed = 1;
            break;
        }
        memmove(buf, p, have);
        if (got == 0)
            break;
    }
    free(buf);
    close(fd);
    return NULL;
}

int
main(int argc, char **argv)
{
    struct range r[MAX_THREADS];
    pthread_t tid[MAX_THREADS];
    long long lines = 0, objects = 0;
    struct timespec t0, t1;
    struct stat sb;
    char *end = NULL;
    long n = argc == 3 ? strtol(argv[2], &end, 10) : 1;
    int fd;

    if (argc < 2 || argc > 3 || (end != NULL && *end != '\0') || n < 1 ||
        n > MAX_THREADS) {
        fprintf(stderr, "usage: cjson_parse FILE [THREADS (1-%d)]\n",
            MAX_THREADS);
        return 2;
    }
    if ((fd = open(argv[1], O_RDONLY)) < 0 || fstat(fd, &sb) != 0) {
        perror(argv[1]);
        return 1;
    }
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (int i = 0; i < n; i++) {
        memset(&r[i], 0, sizeof(r[i]));
        r[i].path = argv[1];
        r[i].from = i == 0 ? 0 : r[i - 1].to;
        r[i].to = i == n - 1 ? sb.st_size :
            line_start(fd, sb.st_size / n * (i + 1), sb.st_size);
    }
    for (int i = 1; i < n; i++)
        if (pthread_create(&tid[i], NULL, parse_range, &r[i]) != 0) {
            fprintf(stderr, "cjson_parse: pthread_create failed\n");
            return 1;
        }
    parse_range(&r[0]);
    for (int i = 1; i < n; i++)
        pthread_join(tid[i], NULL);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    for (int i = 0; i < n; i++) {
        if (r[i].failed) {
            fprintf(stderr, "cjson_parse: %s: reading failed\n", argv[1]);
            return 1;
        }
        lines += r[i].lines;
        objects += r[i].objects;
    }
    printf("lines=%lld objects=%lld seconds=%.3f\n", lines, objects,
        (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) /
        1e9);
    close(fd);
    return 0;
}
