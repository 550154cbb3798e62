/* fs.c -- file-system helpers the programs share: mkdir -p */
#include <sys/stat.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "shared/err.h"
#include "shared/fs.h"
#include "shared/mem.h"

int
fs_mkdir_p(const char *dir, mode_t mode, char *err)
{
    char *p, *s;
    int rc = -1;

    if (*dir == '\0') {
        snprintf(err, ERR_LEN, "mkdir: empty path");
        return -1;
    }
    s = xstrdup(dir);
    for (p = s + 1;; p++) {
        if (*p != '/' && *p != '\0')
            continue;
        if (p[-1] != '/') {
            char c = *p;

            *p = '\0';
            if (mkdir(s, mode) != 0 && errno != EEXIST) {
                snprintf(err, ERR_LEN, "mkdir %s: %s", s, strerror(errno));
                goto done;
            }
            *p = c;
        }
        if (*p == '\0')
            break;
    }
    rc = 0;
done:
    free(s);
    return rc;
}

int
fs_mkdir_parent(const char *path, mode_t mode, char *err)
{
    const char *slash = strrchr(path, '/');
    char *dir;
    int rc;

    if (slash == NULL || slash == path)
        return 0;
    dir = xstrndup(path, (size_t)(slash - path));
    rc = fs_mkdir_p(dir, mode, err);
    free(dir);
    return rc;
}
