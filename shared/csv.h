/* csv.h -- CSV with a header row (RFC 4180): records, fields, rows as JSON events */
#ifndef SHARED_CSV_H
#define SHARED_CSV_H

#include <stddef.h>

#include "shared/buf.h"
#include "shared/pipeline.h"

/*
 * RFC 4180: records end at LF or CRLF; a field in double quotes may hold
 * commas, line ends and "" for a quote; a quote anywhere else, or text
 * after a closing quote, is an error. The first record is the header: it
 * names the columns. Batch and lambda-produce turn every other record into
 * a JSON object that the pipeline then parses and checks like any event, so
 * a CSV row and its JSON twin are counted, or rejected, alike:
 * - a column named like a field takes the field's type: int, decimal and
 *   float cells that are JSON numbers become numbers, bool cells true or
 *   false (any case) become booleans, array cells are JSON arrays
 *   ("[""btc"",""eth""]"); any other cell stays a string, so that the
 *   event is rejected as wrong_type with the cell in the message;
 * - the time column is a number when the cell is one (epoch), else text;
 * - other columns are strings; dotted names nest ("sentiment.score");
 * - an empty cell is a missing value (the key is left out).
 */

/* Scanning for record ends across blocks of input. */
struct csv_scan {
    int quoted;     /* inside a quoted field */
};

/*
 * Scan s[0..n) from the state in cs for the end of the current record.
 * Returns the offset just past its '\n', or -1 when the record goes on
 * past n (cs keeps the state for the next block).
 */
long csv_scan_end(struct csv_scan *cs, const char *s, size_t n);

/* The fields of one record. */
struct csv_fields {
    struct buf  text;       /* the unquoted fields, each NUL-terminated */
    size_t     *off;        /* field i is text.data + off[i] */
    size_t     *len;
    int         n, cap;
};

/* Embedded lifecycle. */
void csv_fields_init(struct csv_fields *cf);
void csv_fields_reset(struct csv_fields *cf);

/*
 * Split record rec[0..len) (a trailing LF or CRLF is ignored) into cf.
 * Returns the number of fields, or -1 with err ("unclosed quote", "text
 * after a closing quote at byte 12").
 */
int csv_split(struct csv_fields *cf, const char *rec, size_t len, char *err);

struct csv_header;

/*
 * The header record of a CSV input for pipeline p (borrowed, must outlive
 * it). Returns a new header (free with csv_header_free()), or NULL with err
 * (bad quoting, an empty or repeated column name, columns "a" and "a.b").
 */
struct csv_header *csv_header_new(const struct pipeline *p, const char *rec,
    size_t len, char *err);
void csv_header_free(struct csv_header *h);

/*
 * Append record rec[0..len) as one line of JSON to out (see above).
 * Returns 0, or -1 with err (bad quoting, not as many fields as columns);
 * out is then as it was. Not thread-safe on one header: each thread keeps
 * its own cf.
 */
int csv_row_json(const struct csv_header *h, struct csv_fields *cf,
    const char *rec, size_t len, struct buf *out, char *err);

/*
 * Nonzero when line[0..len), the first line of an input read as JSON, is
 * CSV instead: it does not start like a JSON value and holds two fields or
 * more. Batch and lambda-produce refuse such a file with a hint rather than
 * reject each of its lines.
 */
int csv_looks_like(const char *line, size_t len);

/* Nonzero when path names a CSV input: it ends in .csv or .csv.gz. */
int csv_path(const char *path);

#endif
