/* log.h -- one-line, one-write(2) log records on stderr, OpenBSD log.c style */
#ifndef SHARED_LOG_H
#define SHARED_LOG_H

/*
 * Each record is one line written whole with a single write(2), so threads of
 * libmicrohttpd and librdkafka never interleave:
 *     2026-11-20T13:00:00.123Z lambda-speed[4242] warn: message
 * log_warn() appends ": strerror(errno)"; log_warnx() does not. fatal() and
 * fatalx() log at error level and exit(1). Never call from a signal handler.
 */

enum log_level { LOG_LEVEL_DEBUG, LOG_LEVEL_INFO, LOG_LEVEL_WARN, LOG_LEVEL_ERROR };

/* Set the program name (borrowed, must outlive logging) and the threshold. */
void log_init(const char *prog, enum log_level level);

/* Parse "debug", "info", "warn" or "error". Returns 0, or -1 if unknown. */
int log_level_parse(const char *s, enum log_level *out);

/* Nonzero when a record at this level would be written (check before costly
 * formatting). */
int log_enabled(enum log_level level);

void log_debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_warnx(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* An error the program reports before it fails (no strerror appended). */
void log_errorx(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void fatal(const char *fmt, ...)
    __attribute__((format(printf, 1, 2), noreturn));
void fatalx(const char *fmt, ...)
    __attribute__((format(printf, 1, 2), noreturn));

/* Write a record at an explicit level (used to route library logs). */
void log_at(enum log_level level, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

#endif
