/* mem.h -- allocation wrappers that abort on out-of-memory */
#ifndef SHARED_MEM_H
#define SHARED_MEM_H

#include <stddef.h>

/*
 * Like malloc(3) and friends, but never return NULL: on OOM they print one
 * line to stderr and abort(). Callers do not check the result. Free with free().
 */
void *xmalloc(size_t n);
void *xcalloc(size_t nmemb, size_t size);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);

#endif
