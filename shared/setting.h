/* setting.h -- the pipeline's scalar settings: one table for the file's sections and the overrides */
#ifndef SHARED_SETTING_H
#define SHARED_SETTING_H

#include <stddef.h>
#include <stdint.h>

#include "shared/pipeline.h"

/*
 * One overridable scalar setting, such as "speed.lateness": pipeline.c's
 * loader reads the file's store, batch, speed and serving members through
 * this table, and pipeline_set() (flags, LAMBDA_* variables) through the
 * same, so both check and store values the same way. The table is static
 * and lives as long as the program.
 */
enum set_type {
    SET_STR,        /* non-empty string */
    SET_OPTSTR,     /* string, NULL when absent or set to "" */
    SET_INT,        /* int in [lo, hi] */
    SET_DURATION,   /* duration in [lo, hi] ms, "0s" allowed when lo == 0 */
    SET_START,      /* "earliest" | "latest" */
    SET_LOSS,       /* "fail" | "skip" */
    SET_LISTEN,     /* "ADDR:PORT" */
    SET_DEFTIME,    /* "mtime", a time, or "none" (NULL) */
    SET_LAG         /* records ("1000" or 1000) or a duration ("30s") */
};

struct setting {
    const char     *key;    /* "speed.lateness" */
    enum set_type   type;
    size_t          off;    /* of the member in struct pipeline */
    int64_t         lo, hi; /* SET_INT, SET_DURATION: the bounds */
};

/* The setting named key ("speed.lateness"), or NULL. */
const struct setting *setting_find(const char *key);

/*
 * Store text as s's value into p (a string setting takes ownership of a
 * copy). Returns 0, or -1 when text is not a value of s's type, with
 * nothing stored; callers say what was expected: setting_expect().
 */
int setting_store(struct pipeline *p, const struct setting *s,
    const char *text);

/* The names, after "SECTION.", of section's settings into keys (at most
 * max, static strings); returns how many. */
int setting_keys(const char *section, const char **keys, int max);

/* What s takes, for "expected ..." ("an integer from 1 to 10000"). */
void setting_expect(const struct setting *s, char *buf, size_t size);

/* After s was stored: speed.rejects_topic and speed.rejects_file exclude
 * each other, the one set last wins. */
void setting_after(struct pipeline *p, const struct setting *s);

#endif
