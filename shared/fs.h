/* fs.h -- file-system helpers the programs share: mkdir -p */
#ifndef SHARED_FS_H
#define SHARED_FS_H

#include <sys/types.h>

/*
 * mkdir -p: create dir and each missing directory above it with mode (less
 * the umask). A path that exists already counts as made, whatever it is: if
 * it is a file, the next mkdir below it (or the caller's own open) fails with
 * ENOTDIR. Empty components ("a//b", a trailing '/') are skipped. Returns 0, or -1 with err ("mkdir PATH:
 * reason", PATH the first directory that could not be made); directories
 * made before the failure stay.
 */
int fs_mkdir_p(const char *dir, mode_t mode, char *err);

/*
 * fs_mkdir_p() of the directory part of path, everything before its last
 * '/', so a file can then be created at path. A path without a '/' below
 * the root ("name", "/name") needs nothing and returns 0.
 */
int fs_mkdir_parent(const char *path, mode_t mode, char *err);

#endif
