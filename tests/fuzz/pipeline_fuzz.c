/* pipeline_fuzz.c -- libFuzzer: the pipeline loader on any file content (a memfd, no disk) */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#include "tests/fuzz/fuzz.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static int fd = -1;
    static char path[64];
    struct pipeline *p = NULL;
    char err[ERR_LEN];

    if (fd == -1) {
        if ((fd = memfd_create("pipeline.json", 0)) == -1)
            abort();
        snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
    }
    if (ftruncate(fd, 0) != 0 || pwrite(fd, data, size, 0) != (ssize_t)size)
        abort();
    if (pipeline_load(&p, path, err) == 0) {
        /* what loads, loads again the same (no state left behind) */
        pipeline_free(p);
        if (pipeline_load(&p, path, err) != 0)
            abort();
        pipeline_free(p);
    } else if (err[0] == '\0') {
        abort();        /* every refusal says why */
    }
    return 0;
}
