/* err.h -- size of the caller-owned error buffers that shared/ fills */
#ifndef SHARED_ERR_H
#define SHARED_ERR_H

/*
 * Functions that can fail take a `char *err` of at least ERR_LEN bytes and, on
 * failure, write one line there naming what failed, on what, and why:
 *     store var/shop: mdb_env_open: No space left on device
 * On success they leave err untouched.
 */
#define ERR_LEN 256

#endif
