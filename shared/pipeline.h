/* pipeline.h -- the pipeline file (DESIGN.md §1): load, validate, override */
#ifndef SHARED_PIPELINE_H
#define SHARED_PIPELINE_H

#include <stddef.h>
#include <stdint.h>

/*
 * One validator serves all three programs, so a file one accepts, all accept.
 * Unknown keys are errors. Every error names the file, the JSON path inside it
 * and the reason:
 *     shop.json: views.by_country.metrics.revenue: unknown field "amout"
 * Relative paths in the file (store, batch.inputs, rejects, archive) are used
 * as given, i.e. relative to the working directory of the program.
 *
 * Schema (defaults in brackets):
 *   name                 string, required
 *   store                string, required (directory of the LMDB store)
 *   event.time           string, required: dotted name of the event-time field
 *   event.fields         object name -> type, where type is "string" | "int" |
 *                        "decimal" | "float" | "bool" or an object {"type",
 *                        "required" [true], "scale" (decimal: 0..9, required;
 *                        float: 0..9 [6]), "round" (decimal only [false]),
 *                        "min", "max" (int, decimal and float only)}
 *                        A float, and a decimal with "round": true, takes any
 *                        finite JSON number and rounds it as written, half to
 *                        even, to its scale; a plain decimal rejects more
 *                        digits than its scale (too_many_decimals).
 *                        {"type": "array", "items": TYPE} is a JSON array of
 *                        values of one of those types (scale, round, min and
 *                        max apply to each); arrays are optional unless they
 *                        say "required": true, and missing means empty.
 *   event.derive         object name -> expression ("upper(city)",
 *                        "split(pair, '/', 0)") or {"expr", "required"
 *                        [false]}: fields computed in file order from the
 *                        declared fields and earlier entries, with upper,
 *                        lower, trim, substr, split, concat, coalesce and
 *                        [index] (derive.h). A name of a declared field
 *                        overwrites it (same type; its "required" holds);
 *                        a new name adds a field of the result's type. A
 *                        value that cannot be computed is missing.
 *   views.NAME           {"group_by": [field...] ([]), "granularity": "1s".."1d"
 *                        (must divide one day), "metrics": {...}, "where":
 *                        {...}, "explode": field, "outputs": {...}}
 *   views.NAME.metrics   object name -> "count" | "sum(f)" | "min(f)" |
 *                        "max(f)" | "avg(f)" | "stddev(f)" (sample) |
 *                        "stddev_pop(f)" | "distinct(f)" | "quantile(f, q)"
 *                        (q from 0 to 1) (metric.h); distinct takes string,
 *                        int, decimal, float or bool fields, the others int,
 *                        decimal or float ones. avg and stddev answer at the
 *                        field's scale + 2, exactly; distinct is exact up to
 *                        128 values, then HyperLogLog (3.25% standard
 *                        error); quantile is within 2% of the value at rank
 *                        floor(q (n - 1)). Estimates say so in the answer
 *                        ("approximate", agg.h).
 *   views.NAME.explode   string: an array field; the view counts the event
 *                        once per element, with the element in the array's
 *                        place for group_by and where (duplicates count
 *                        twice, a missing or empty array nowhere). An array
 *                        field can be grouped by or filtered on only in the
 *                        view that explodes it; metrics never take one.
 *   views.NAME.outputs   object name -> expression over the view's metrics
 *                        and the outputs before it, computed by serving on
 *                        each merged row: + - * /, comparisons, case(c1,
 *                        v1, ..., default), numbers, 'strings' (outputs.h).
 *                        "low": "avg_price - volatility"; a division by zero
 *                        or a null metric gives null. Names differ from the
 *                        metrics'; outputs never change the stored rows.
 *   views.NAME.where     object field -> condition, all must hold; a condition
 *                        is a value (equality) or an object of operators
 *                        "eq","ne","lt","lte","gt","gte" (value) and "in"
 *                        (array of values). A missing field fails every
 *                        condition.
 *   batch.inputs         array of paths, directories or globs (or one string):
 *                        JSON Lines, JSON arrays, CSV with a header (*.csv)
 *   batch.rejects        string: JSON Lines file for rejected lines
 *                        [STORE/rejects/batch.jsonl]
 *   batch.default_time   string: the time of events without one: "mtime"
 *                        (their file's modification time), an RFC 3339 time
 *                        or epoch seconds, or "none" (bad_time) ["none"]
 *   batch.repository     string: directory every publish also writes its
 *                        version to, as one file (shared/repo.h) (optional)
 *   batch.repository_keep int [3]: versions kept in batch.repository
 *   speed.brokers        string ["localhost:9092"]
 *   speed.topic          string (required to run lambda-speed)
 *   speed.group          string ["lambdakit-" NAME]
 *   speed.partitions     int [4]: partitions the development broker creates
 *   speed.lateness       duration ["0s"]
 *   speed.max_batch      int [10000] events per micro-batch
 *   speed.commit_ms      int [100] longest time a micro-batch stays open
 *   speed.start          "earliest" | "latest" ["earliest"]
 *   speed.on_data_loss   "fail" | "skip" ["fail"]
 *   speed.rejects_topic  string (optional)
 *   speed.rejects_file   string [STORE/rejects/speed.jsonl unless rejects_topic]
 *   speed.archive        string: directory for archived accepted events (optional)
 *   speed.kafka          object of librdkafka properties; values string,
 *                        number or bool, passed through as text
 *   serving.listen       "ADDR:PORT" ["127.0.0.1:8080"]
 *   serving.token        string: bearer token for the /v1 routes (optional)
 *   serving.cors_origin  string (optional)
 *   serving.threads      int [2]
 *   serving.max_connections int [1024]
 *   serving.max_connections_per_ip int [64]: from one client address; 0 for
 *                        no limit
 *   serving.timeout      int seconds per connection [10]
 *   serving.max_points   int [10000] points per series answer
 *   serving.max_top      int [1000] largest n of top
 *   serving.ready_max_lag records (an int, or digits: "1000") or a duration
 *                        ("30s"): /readyz answers ready only once the store
 *                        holds a batch version and speed's lag is at most
 *                        this (optional: without it, ready once the store
 *                        opens)
 */

/* A bound on lambda-speed's lag: in records, or in time; -1 when unset. */
struct pipeline_lag {
    int64_t records;        /* records behind, summed over partitions */
    int64_t ms;             /* age of the oldest unconsumed record, ms */
};

enum field_type { FIELD_STRING, FIELD_INT, FIELD_DECIMAL, FIELD_BOOL,
    FIELD_FLOAT, FIELD_ARRAY };

struct field {
    char            *name;      /* dotted name as written, "sentiment.score" */
    char           **path;      /* name split at dots */
    int              npath;
    enum field_type  type;
    enum field_type  items;     /* array: its elements' type; else = type */
    int              scale;     /* decimal, float: fractional digits; else 0 */
    int              round;     /* float, or decimal with "round": true:
                                   numbers are rounded from their text */
    int              required;
    int              derived;   /* 1: an event.derive entry sets it, */
    int              derive;    /* that one (index into pipeline.derives) */
    int              computed;  /* 1: not read from the event, only derived */
    int              has_min, has_max;
    int64_t          min, max;  /* scaled like values */
};

/* metric.h parses them; agg.h keeps their states. */
enum metric_kind { METRIC_COUNT, METRIC_SUM, METRIC_MIN, METRIC_MAX, METRIC_AVG,
    METRIC_STDDEV, METRIC_STDDEV_POP, METRIC_DISTINCT, METRIC_QUANTILE };

struct metric {
    char             *name;
    enum metric_kind  kind;
    int               field;    /* index into pipeline.fields; -1 for count */
    int               slot;     /* first slot of its state in a row (agg.h) */
    enum field_type   type;     /* its field's type (distinct hashes by it) */
    double            q;        /* quantile: which one, 0..1; else 0 */
};

enum cond_op { COND_EQ, COND_NE, COND_LT, COND_LE, COND_GT, COND_GE, COND_IN };

struct cond_value {
    int64_t      num;           /* int, decimal (scaled), bool (0/1) */
    char        *str;           /* string fields, NUL-terminated */
};

struct cond {
    int                field;   /* index into pipeline.fields */
    enum cond_op       op;
    struct cond_value *vals;    /* one, or several for COND_IN */
    int                nvals;
};

struct view {
    char          *name;
    int           *group_by;    /* field indexes */
    int            ngroup;
    int64_t        granularity; /* ms, divides TS_DAY_MS */
    struct metric *metrics;     /* in file order */
    int            nmetrics;
    int            nslots;      /* row length in int64 slots */
    struct cond   *where;
    int            nwhere;
    int            explodes;    /* 1: the view explodes an array field, */
    int            explode;     /* that one (index into pipeline.fields) */
    struct output *outputs;     /* "outputs", in file order (outputs.h) */
    int            noutputs;
    const struct pipeline *pipeline;    /* the one that holds it */
    uint64_t       sig;         /* pipeline_view_signature(), kept at load;
                                   0 in a view built by hand: computed */
};

struct derive;                  /* derive.h */
struct output;                  /* outputs.h */

struct pipeline {
    char          *path;        /* the file it was loaded from */
    char          *text;        /* its text, as read (viewdef.h) */
    char          *name;
    char          *store;
    char          *time_field;  /* dotted name */
    char         **time_path;
    int            ntime_path;
    struct field  *fields;      /* in file order, then the derived ones */
    int            nfields;
    struct derive *derives;     /* event.derive, in file order */
    int            nderives;
    struct view   *views;       /* in file order */
    int            nviews;

    struct {
        char     **inputs;
        int        ninputs;
        char      *rejects;
        char      *default_time;    /* "mtime", a time; NULL: none */
        char      *repository;  /* NULL when absent */
        int        repository_keep;
    } batch;

    struct {
        char      *brokers;
        char      *topic;       /* NULL when absent */
        char      *group;
        int        partitions;
        int64_t    lateness;    /* ms */
        int        max_batch;
        int        commit_ms;
        int        start_latest;        /* speed.start == "latest" */
        int        skip_data_loss;      /* speed.on_data_loss == "skip" */
        char      *rejects_topic;       /* NULL when absent */
        char      *rejects_file;        /* NULL when rejects_topic is set */
        char      *archive;             /* NULL when absent */
        char     **kafka_keys;          /* speed.kafka, in file order */
        char     **kafka_vals;
        int        nkafka;
    } speed;

    struct {
        char      *listen;
        char      *token;       /* NULL when absent */
        char      *cors_origin; /* NULL when absent */
        int        threads;
        int        max_connections;
        int        max_connections_per_ip;  /* 0: no limit */
        int        timeout;     /* seconds */
        int        max_points;
        int        max_top;
        struct pipeline_lag ready_max_lag;
    } serving;
};

/*
 * Load and validate the pipeline file at path. On success returns 0 and sets
 * *out to a new pipeline (free with pipeline_free()). On failure returns -1,
 * writes "FILE: PATH: reason" into err and leaves *out untouched.
 */
int pipeline_load(struct pipeline **out, const char *path, char *err);

/*
 * As pipeline_load(), from text (len bytes, NUL at text[len]; taken over
 * whatever happens: freed with the pipeline or on failure); path names it in
 * errors and in p->path.
 */
int pipeline_parse(struct pipeline **out, const char *path, char *text,
    size_t len, char *err);

/* Free p and everything it owns. NULL is a no-op. */
void pipeline_free(struct pipeline *p);

/*
 * Override one scalar setting by its dotted key, from a flag or an
 * environment variable: "store", "batch.rejects", "batch.default_time",
 * any scalar key under
 * "speed." or "serving." (value parsed by the key's type: durations, ints,
 * enums). Returns 0, or -1 with err naming the key, the value and what was
 * expected.
 */
int pipeline_set(struct pipeline *p, const char *key, const char *value,
    char *err);

/* Index of the field with this dotted name, or -1. */
int pipeline_field_index(const struct pipeline *p, const char *name);

/* The view with this name, or NULL. */
const struct view *pipeline_view(const struct pipeline *p, const char *name);

/* Least common multiple of every view's granularity (ms): cutoffs align to it.
 * TS_DAY_MS is a multiple of it. 1000 when there are no views. */
int64_t pipeline_cutoff_unit(const struct pipeline *p);

/*
 * A 64-bit fingerprint of what a view's stored rows mean: group_by fields and
 * their types and scales, granularity, metrics and their fields, where.
 * Rows written under one fingerprint must not be merged with another's.
 * A loaded view's is computed once, at load (v->sig): serving asks it for
 * every request.
 */
uint64_t pipeline_view_signature(const struct pipeline *p,
    const struct view *v);

#endif
