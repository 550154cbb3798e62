/*
 * lambda-produce.c -- put events into a Kafka topic for the demo, the lab,
 * the tests and the benchmark: replay a dataset file, or generate a live
 * stream for a pipeline.
 *
 * Replay sends every line of JSON Lines files (or every element of a JSON
 * array file; .gz read transparently) as one record, unvalidated, so
 * malformed input can be replayed too; a .csv file's rows go as the JSON
 * objects batch reads from them (csv.h). --now rewrites the pipeline's time
 * field to the current time. --generate makes events from the pipeline's
 * field types with the current time. Records are keyed by a group-by field
 * so partitions share the load evenly and one group stays in one partition.
 * The producer is idempotent and flushes before exit; the exit status is 1
 * if any record was not delivered.
 *
 * kcat does the same job for users who know it:
 *     kcat -P -b BROKERS -t TOPIC -l events.jsonl
 */
#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cjson/cJSON.h>
#include <librdkafka/rdkafka.h>
#include <zlib.h>

#include "shared/buf.h"
#include "shared/csv.h"
#include "shared/dec.h"
#include "shared/err.h"
#include "shared/log.h"
#include "shared/mem.h"
#include "shared/now.h"
#include "shared/pipeline.h"
#include "shared/prog.h"
#include "shared/sig.h"
#include "shared/ts.h"

#define PROG "lambda-produce"
#define SYNOPSIS "[-c FILE] [-b LIST] [-t TOPIC] [options] FILE...\n" \
    "-c FILE --generate [--count N] [--rate N] [options]"
#define ABOUT "Replays JSON Lines, JSON array or CSV files (.gz too) into a " \
    "Kafka topic, one record per event, or generates a live stream of " \
    "events for a pipeline. The pipeline gives the brokers, the topic, the " \
    "fields and the key field."

static const struct opt opts[] = {
    OPT_TOOL_COMMON,
    {"brokers", 'b', "LIST", NULL,
        "bootstrap servers (default speed.brokers)", 0},
    {"topic", 't', "TOPIC", NULL, "topic (default speed.topic)", OPT_NOENV},
    {"key", 'k', "FIELD", NULL, "key records by this field (default: the "
        "first group-by field); \"\" for no key", OPT_NOENV},
    {"partition", 'p', "N", NULL, "send every record to partition N",
        OPT_NOENV},
    {"rate", 'r', "N", NULL, "events per second (default: as fast as "
        "possible)", OPT_NOENV},
    {"count", 'n', "N", NULL, "stop after N events", OPT_NOENV},
    {"now", 0, NULL, NULL, "replay: set the time field to the current time",
        OPT_NOENV},
    {"generate", 'g', NULL, NULL, "generate events from the pipeline's "
        "fields, with the current time, until --count or SIGTERM", OPT_NOENV},
    {"cardinality", 0, "N", NULL, "distinct values per generated string "
        "(100)", OPT_NOENV},
    {"seed", 0, "N", NULL, "random seed for --generate (default 1)",
        OPT_NOENV},
    {"connect-timeout", 0, "SECS", NULL, "give up when no broker has "
        "answered SECS after the start (20; 0: wait as librdkafka does)",
        OPT_NOENV},
    {"kafka", 'X', "PROP=VALUE", NULL, "librdkafka producer property; "
        "repeatable", OPT_MULTI},
    {NULL, 0, NULL, NULL, NULL, 0}
};
enum { PR_BROKERS = OPT_TOOL_NCOMMON, PR_TOPIC, PR_KEY, PR_PARTITION,
    PR_RATE, PR_COUNT, PR_NOW, PR_GENERATE, PR_CARDINALITY, PR_SEED,
    PR_CONNECT, PR_KAFKA };

static volatile sig_atomic_t got_stop;

#define STOP_FLUSH_MS 1000      /* a stopped run's last wait for delivery */
#define CONNECT_S 20            /* --connect-timeout's default */

/* A node of the generated document: an object of children, or a field. */
struct gen_node {
    char             *name;
    int               field;        /* field index; -1 object; -2 time */
    struct gen_node **kids;
    int               nkids;
};

struct produce {
    struct pipeline  *p;            /* NULL without -c */
    const char       *brokers;
    const char       *topic;
    const char       *key;          /* dotted key field, or NULL */
    char            **keypath;
    int               nkeypath;
    int               key_field;    /* pipeline field index of key, or -1 */
    double            rate;         /* events/s, 0 unlimited */
    int               now;          /* rewrite time to now */
    int               generate;
    int64_t           count;        /* max events, -1 unlimited */
    int               cardinality;
    uint64_t          rng;
    int32_t           partition;    /* RD_KAFKA_PARTITION_UA unless set */
    const char       *const *props; /* -X PROP=VALUE, borrowed from argv */
    int               nprops;
    rd_kafka_t       *rk;
    rd_kafka_topic_t *rkt;
    struct gen_node  *root;
    struct buf        out, keybuf;
    int64_t           sent, failed;
    int64_t           start_ns;
    int               err_logged;
    int64_t           connect_s;    /* --connect-timeout; 0: none */
    int               reached;      /* a broker answered */
    int               gone;         /* none did within connect_s */
};

static int
parse_i64(const char *s, int64_t lo, int64_t hi, int64_t *out)
{
    char *end;
    long long v;

    errno = 0;
    v = strtoll(s, &end, 10);
    if (errno != 0 || end == s || *end != '\0' || v < lo || v > hi)
        return -1;
    *out = v;
    return 0;
}

/* xorshift64*: fast, plenty for test data */
static uint64_t
rnd(struct produce *pr)
{
    pr->rng ^= pr->rng >> 12;
    pr->rng ^= pr->rng << 25;
    pr->rng ^= pr->rng >> 27;
    return pr->rng * 2685821657736338717ULL;
}

static int64_t
rnd_range(struct produce *pr, int64_t lo, int64_t hi)
{
    uint64_t span = (uint64_t)hi - (uint64_t)lo + 1;

    if (span == 0)
        return (int64_t)rnd(pr);
    return (int64_t)((uint64_t)lo + rnd(pr) % span);
}

/* ---- kafka ---- */

static void
dr_cb(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque)
{
    struct produce *pr = opaque;

    (void)rk;
    if (m->err == RD_KAFKA_RESP_ERR_NO_ERROR) {
        pr->reached = 1;
    } else {
        pr->failed++;
        if (!pr->err_logged++)
            log_warnx("delivery failed: %s", rd_kafka_err2str(m->err));
    }
}

static void
error_cb(rd_kafka_t *rk, int err, const char *reason, void *opaque)
{
    (void)rk;
    (void)opaque;
    if (err == RD_KAFKA_RESP_ERR__TRANSPORT)
        log_debug("kafka: %s", reason);
    else
        log_warnx("kafka: %s: %s", rd_kafka_err2name(err), reason);
}

static void
kafka_log(const rd_kafka_t *rk, int level, const char *fac, const char *buf)
{
    (void)rk;
    /* speed.kafka holds consumer properties too: no warning for those */
    if (strstr(buf, "will be ignored by this") != NULL)
        level = 7;
    log_at(level <= 4 ? LOG_LEVEL_WARN : level <= 6 ? LOG_LEVEL_INFO :
        LOG_LEVEL_DEBUG, "kafka %s: %s", fac, buf);
}

static int
conf_set(rd_kafka_conf_t *conf, const char *k, const char *v, char *err)
{
    char errstr[512];

    if (rd_kafka_conf_set(conf, k, v, errstr, sizeof(errstr)) !=
        RD_KAFKA_CONF_OK) {
        snprintf(err, ERR_LEN, "%.60s=%.60s: %.120s", k, v, errstr);
        return -1;
    }
    return 0;
}

/*
 * The producer's configuration: ours, then what of the pipeline's
 * speed.kafka a producer takes, then -X. Returns a new conf (the caller
 * destroys it or hands it to rd_kafka_new()), or NULL with err.
 */
static rd_kafka_conf_t *
kafka_conf(struct produce *pr, char *err)
{
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    char errstr[512];

    if (conf_set(conf, "bootstrap.servers", pr->brokers, err) != 0 ||
        conf_set(conf, "client.id", PROG, err) != 0 ||
        conf_set(conf, "enable.idempotence", "true", err) != 0 ||
        conf_set(conf, "linger.ms", "5", err) != 0 ||
        conf_set(conf, "queue.buffering.max.messages", "500000", err) != 0)
        goto fail;
    if (pr->p != NULL) {
        for (int i = 0; i < pr->p->speed.nkafka; i++) {
            /* consumer-only properties would only produce warnings */
            if (rd_kafka_conf_set(conf, pr->p->speed.kafka_keys[i],
                pr->p->speed.kafka_vals[i], errstr, sizeof(errstr)) !=
                RD_KAFKA_CONF_OK)
                log_debug("speed.kafka.%s ignored: %s",
                    pr->p->speed.kafka_keys[i], errstr);
        }
    }
    for (int i = 0; i < pr->nprops; i++) {
        char *kv = xstrdup(pr->props[i]), *eq = strchr(kv, '=');
        int rc;

        *eq = '\0';            /* configure() checked there is one */
        rc = conf_set(conf, kv, eq + 1, err);
        free(kv);
        if (rc != 0)
            goto fail;
    }
    rd_kafka_conf_set_opaque(conf, pr);
    rd_kafka_conf_set_dr_msg_cb(conf, dr_cb);
    rd_kafka_conf_set_error_cb(conf, error_cb);
    rd_kafka_conf_set_log_cb(conf, kafka_log);
    return conf;
fail:
    rd_kafka_conf_destroy(conf);
    return NULL;
}

/* The producer and the topic handle. Returns 0, or -1 with err. */
static int
kafka_open(struct produce *pr, char *err)
{
    rd_kafka_conf_t *conf;
    char errstr[512];

    if ((conf = kafka_conf(pr, err)) == NULL)
        return -1;
    if ((pr->rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr,
        sizeof(errstr))) == NULL) {
        rd_kafka_conf_destroy(conf);
        snprintf(err, ERR_LEN, "rd_kafka_new: %.200s", errstr);
        return -1;
    }
    if ((pr->rkt = rd_kafka_topic_new(pr->rk, pr->topic, NULL)) == NULL) {
        snprintf(err, ERR_LEN, "topic %s: %s", pr->topic,
            rd_kafka_err2str(rd_kafka_last_error()));
        return -1;
    }
    return 0;
}

/*
 * Nonzero when no broker has answered --connect-timeout seconds after the
 * start: a wrong address or a broker not started would otherwise keep the
 * program for message.timeout.ms (5 minutes), or for ever with --generate.
 * A broker that answered once may go and come back: librdkafka rides that
 * out. Past the deadline, asks the brokers once (half a second at most).
 */
static int
broker_gone(struct produce *pr)
{
    const struct rd_kafka_metadata *md;

    if (pr->reached || pr->gone || pr->connect_s <= 0)
        return pr->gone;
    if (now_mono_ns() - pr->start_ns < pr->connect_s * 1000000000)
        return 0;
    if (rd_kafka_metadata(pr->rk, 0, NULL, &md, 500) ==
        RD_KAFKA_RESP_ERR_NO_ERROR) {
        rd_kafka_metadata_destroy(md);
        pr->reached = 1;
        return 0;
    }
    pr->gone = 1;
    return 1;
}

/* Keep at most `rate` events per second on average. */
static void
pace(struct produce *pr)
{
    int64_t due, now;
    struct timespec ts;

    if (pr->rate <= 0)
        return;
    due = pr->start_ns + (int64_t)((double)pr->sent * 1e9 / pr->rate);
    now = now_mono_ns();
    if (due - now > 1000000) {
        ts.tv_sec = (due - now) / 1000000000;
        ts.tv_nsec = (due - now) % 1000000000;
        (void)rd_kafka_poll(pr->rk, 0);
        nanosleep(&ts, NULL);
    }
}

static int
send_one(struct produce *pr, const char *val, size_t len, const char *key,
    size_t klen)
{
    pace(pr);
    while (rd_kafka_produce(pr->rkt, pr->partition, RD_KAFKA_MSG_F_COPY,
        (void *)val, len, key, klen, NULL) != 0) {
        rd_kafka_resp_err_t err = rd_kafka_last_error();

        if (err != RD_KAFKA_RESP_ERR__QUEUE_FULL) {
            log_errorx("produce to %s: %s", pr->topic, rd_kafka_err2str(err));
            return -1;
        }
        if (got_stop || broker_gone(pr))
            return -1;      /* the queue is full and nobody takes it */
        (void)rd_kafka_poll(pr->rk, 10);
    }
    pr->sent++;
    if ((pr->sent & 1023) == 0)
        (void)rd_kafka_poll(pr->rk, 0);
    return broker_gone(pr) ? -1 : 0;
}

/* ---- replay ---- */

static cJSON *
json_at(cJSON *root, char **path, int npath, int create)
{
    cJSON *o = root, *next;

    for (int i = 0; i < npath && o != NULL; i++) {
        if (!cJSON_IsObject(o))
            return NULL;
        next = cJSON_GetObjectItemCaseSensitive(o, path[i]);
        if (next == NULL && create && i < npath - 1)
            next = cJSON_AddObjectToObject(o, path[i]);
        if (i == npath - 1)
            return next;
        o = next;
    }
    return o;
}

/* The key of one event as text, into pr->keybuf; returns 0 or -1 (no key). */
static int
key_of_json(struct produce *pr, cJSON *doc)
{
    cJSON *v;

    buf_clear(&pr->keybuf);
    if (pr->keypath == NULL ||
        (v = json_at(doc, pr->keypath, pr->nkeypath, 0)) == NULL)
        return -1;
    if (cJSON_IsString(v)) {
        buf_puts(&pr->keybuf, v->valuestring);
    } else {
        char *s = cJSON_PrintUnformatted(v);

        if (s == NULL)
            return -1;
        buf_puts(&pr->keybuf, s);
        cJSON_free(s);
    }
    return 0;
}

static void
set_now(struct produce *pr, cJSON *doc)
{
    char tbuf[TS_BUFSZ];
    cJSON *parent;
    struct pipeline *p = pr->p;

    ts_format(now_wall_ms(), tbuf, sizeof(tbuf));
    parent = p->ntime_path > 1 ?
        json_at(doc, p->time_path, p->ntime_path - 1, 1) : doc;
    if (parent == NULL || !cJSON_IsObject(parent))
        return;
    cJSON_DeleteItemFromObjectCaseSensitive(parent,
        p->time_path[p->ntime_path - 1]);
    cJSON_AddStringToObject(parent, p->time_path[p->ntime_path - 1], tbuf);
}

/* Send one JSON text (a line or an array element). */
static int
replay_one(struct produce *pr, const char *text, size_t len, cJSON *doc)
{
    cJSON *own = NULL;
    char *printed = NULL;
    int haskey, rc;

    if (doc == NULL && (pr->keypath != NULL || pr->now))
        doc = own = cJSON_ParseWithLength(text, len);
    haskey = doc != NULL && key_of_json(pr, doc) == 0;
    if (doc != NULL && pr->now && cJSON_IsObject(doc)) {
        set_now(pr, doc);
        if ((printed = cJSON_PrintUnformatted(doc)) != NULL) {
            text = printed;
            len = strlen(printed);
        }
    }
    rc = send_one(pr, text, len, haskey ? pr->keybuf.data : NULL,
        haskey ? pr->keybuf.len : 0);
    if (printed != NULL)
        cJSON_free(printed);
    cJSON_Delete(own);
    return rc;
}

static int
done(struct produce *pr)
{
    return got_stop || (pr->count >= 0 && pr->sent >= pr->count);
}

/*
 * A CSV file: the header row names the columns, and each other row goes out
 * as the JSON object batch would read from it (csv.h), typed by the
 * pipeline. A row that is not valid CSV is skipped with a warning.
 */
static int
replay_csv(struct produce *pr, const char *path, const char *s, size_t n)
{
    struct csv_header *h = NULL;
    struct csv_fields cf;
    struct csv_scan cs = {0};
    char err[ERR_LEN];
    int64_t line = 1, next;
    size_t at = 0, len;
    long end;
    int rc = 0;

    if (pr->p == NULL) {
        log_warnx("%s: CSV needs the pipeline (-c) for its field types",
            path);
        return -1;
    }
    csv_fields_init(&cf);
    while (at < n && rc == 0 && !done(pr)) {
        end = csv_scan_end(&cs, s + at, n - at);
        len = end >= 0 ? (size_t)end : n - at;
        next = line;
        for (size_t i = 0; i < len; i++)
            next += s[at + i] == '\n';
        if (h == NULL) {
            if ((h = csv_header_new(pr->p, s + at, len, err)) == NULL) {
                log_warnx("%s: %s", path, err);
                rc = -1;
            }
        } else if (len > 0 && s[at] != '\n' && s[at] != '\r') {
            buf_clear(&pr->out);
            if (csv_row_json(h, &cf, s + at, len, &pr->out, err) != 0)
                log_warnx("%s: line %" PRId64 " skipped: %s", path, line,
                    err);
            else
                rc = replay_one(pr, pr->out.data, pr->out.len, NULL);
        }
        at += len;
        line = next;
    }
    csv_fields_reset(&cf);
    csv_header_free(h);
    return rc;
}

static int
replay_file(struct produce *pr, const char *path)
{
    gzFile gz;
    struct buf all;
    char chunk[65536];
    int n, rc = 0;

    if ((gz = gzopen(path, "rb")) == NULL) {
        log_warn("%s", path);
        return -1;
    }
    buf_init(&all);
    while ((n = gzread(gz, chunk, sizeof(chunk))) > 0)
        buf_append(&all, chunk, (size_t)n);
    if (n < 0) {
        int errnum;

        log_warnx("%s: %s", path, gzerror(gz, &errnum));
        rc = -1;
    }
    gzclose(gz);
    if (rc == 0 && all.len > 0) {
        const char *s = all.data, *end = all.data + all.len;
        const char *eol;

        if (csv_path(path)) {
            if (all.len >= 3 && memcmp(s, "\xef\xbb\xbf", 3) == 0)
                s += 3;     /* spreadsheets write one */
            rc = replay_csv(pr, path, s, (size_t)(end - s));
            buf_reset(&all);
            return rc;
        }
        while (s < end && (*s == ' ' || *s == '\t' || *s == '\n' ||
            *s == '\r'))
            s++;
        eol = memchr(s, '\n', (size_t)(end - s));
        if (csv_looks_like(s, eol != NULL ? (size_t)(eol - s) :
            (size_t)(end - s))) {
            log_warnx("%s: its first line is CSV, not JSON: name the file "
                "*.csv to replay it as CSV with a header row", path);
            rc = -1;
        } else if (s < end && *s == '[') {
            cJSON *arr = cJSON_ParseWithLength(all.data, all.len), *el;

            if (arr == NULL) {
                log_warnx("%s: not a valid JSON array", path);
                rc = -1;
            }
            cJSON_ArrayForEach(el, arr) {
                char *t;

                if (done(pr))
                    break;
                if ((t = cJSON_PrintUnformatted(el)) == NULL)
                    continue;
                rc = replay_one(pr, t, strlen(t), el);
                cJSON_free(t);
                if (rc != 0)
                    break;
            }
            cJSON_Delete(arr);
        } else {
            while (s < end && rc == 0 && !done(pr)) {
                const char *nl = memchr(s, '\n', (size_t)(end - s));
                const char *e = nl != NULL ? nl : end;
                size_t len = (size_t)(e - s);

                if (len > 0 && s[len - 1] == '\r')
                    len--;
                if (len > 0)
                    rc = replay_one(pr, s, len, NULL);
                s = e + 1;
            }
        }
    }
    buf_reset(&all);
    return rc;
}

/* ---- generate ---- */

static struct gen_node *
node_child(struct gen_node *n, const char *name)
{
    struct gen_node *c;

    for (int i = 0; i < n->nkids; i++)
        if (strcmp(n->kids[i]->name, name) == 0)
            return n->kids[i];
    c = xcalloc(1, sizeof(*c));
    c->name = xstrdup(name);
    c->field = -1;
    n->kids = xrealloc(n->kids, sizeof(*n->kids) * (size_t)(n->nkids + 1));
    n->kids[n->nkids++] = c;
    return c;
}

static void
node_add(struct gen_node *root, char **path, int npath, int field)
{
    struct gen_node *n = root;

    for (int i = 0; i < npath; i++)
        n = node_child(n, path[i]);
    n->field = field;
}

static void
node_free(struct gen_node *n)
{
    if (n == NULL)
        return;
    for (int i = 0; i < n->nkids; i++)
        node_free(n->kids[i]);
    free(n->kids);
    free(n->name);
    free(n);
}

static const char *const countries[] = {"DE", "FR", "US", "GB", "NL", "ES",
    "IT", "SE", "PL", "JP", "BR", "IN"};

/* Append a value for field f; returns 0, or 1 when the field is left out. */
static int
gen_value(struct produce *pr, const struct field *f, struct buf *b)
{
    char num[DEC_BUFSZ];
    const char *base;
    int64_t lo, hi, v;

    if (!f->required && rnd(pr) % 10 == 0)
        return 1;
    switch (f->type) {
    case FIELD_STRING:
        base = strrchr(f->name, '.') != NULL ? strrchr(f->name, '.') + 1 :
            f->name;
        v = rnd_range(pr, 0, pr->cardinality - 1);
        if (strcmp(base, "country") == 0)
            buf_printf(b, "\"%s\"", countries[v % 12]);
        else
            buf_printf(b, "\"%s-%" PRId64 "\"", base, v);
        break;
    case FIELD_BOOL:
        buf_puts(b, rnd(pr) & 1 ? "true" : "false");
        break;
    case FIELD_INT:
    case FIELD_DECIMAL:
    case FIELD_FLOAT:
        lo = f->has_min ? f->min : 0;
        hi = f->has_max ? f->max : lo + 1000;
        for (int i = 0; i < f->scale && !f->has_max; i++)
            hi = lo + (hi - lo) * 10;
        v = rnd_range(pr, lo, hi);
        buf_puts(b, dec_format(v, f->scale, num, sizeof(num)));
        break;
    case FIELD_ARRAY: {
        /* zero to three elements, a repeat now and then */
        struct field ef = *f;

        ef.type = f->items;
        ef.required = 1;
        buf_putc(b, '[');
        for (int i = 0, n = (int)(rnd(pr) % 4); i < n; i++) {
            if (i > 0)
                buf_putc(b, ',');
            (void)gen_value(pr, &ef, b);
        }
        buf_putc(b, ']');
        break;
    }
    }
    return 0;
}

static void
gen_object(struct produce *pr, const struct gen_node *n, int64_t now,
    struct buf *b)
{
    char tbuf[TS_BUFSZ];
    int first = 1;
    size_t mark;

    buf_putc(b, '{');
    for (int i = 0; i < n->nkids; i++) {
        const struct gen_node *c = n->kids[i];

        mark = b->len;
        if (!first)
            buf_putc(b, ',');
        buf_put_json_string(b, c->name, strlen(c->name));
        buf_putc(b, ':');
        if (c->field == -2) {
            buf_printf(b, "\"%s\"", ts_format(now, tbuf, sizeof(tbuf)));
        } else if (c->field >= 0) {
            if (gen_value(pr, &pr->p->fields[c->field], b) != 0) {
                b->len = mark;
                b->data[mark] = '\0';
                continue;
            }
            if (c->field == pr->key_field) {
                /* the value just printed, without quotes for strings */
                const char *v = b->data + b->len;

                while (v > b->data && v[-1] != ':')
                    v--;
                buf_clear(&pr->keybuf);
                if (*v == '"')
                    buf_append(&pr->keybuf, v + 1,
                        (size_t)(b->data + b->len - v - 2));
                else
                    buf_append(&pr->keybuf, v,
                        (size_t)(b->data + b->len - v));
            }
        } else {
            gen_object(pr, c, now, b);
        }
        first = 0;
    }
    buf_putc(b, '}');
}

static int
generate(struct produce *pr)
{
    struct pipeline *p = pr->p;

    pr->root = xcalloc(1, sizeof(*pr->root));
    pr->root->field = -1;
    node_add(pr->root, p->time_path, p->ntime_path, -2);
    for (int i = 0; i < p->nfields; i++) {
        if (!p->fields[i].computed)     /* derived: not in the input */
            node_add(pr->root, p->fields[i].path, p->fields[i].npath, i);
    }
    while (!done(pr)) {
        buf_clear(&pr->out);
        buf_clear(&pr->keybuf);
        gen_object(pr, pr->root, now_wall_ms(), &pr->out);
        if (send_one(pr, pr->out.data, pr->out.len,
            pr->key_field >= 0 && pr->keybuf.len > 0 ? pr->keybuf.data : NULL,
            pr->key_field >= 0 ? pr->keybuf.len : 0) != 0)
            return -1;
    }
    return 0;
}

/* ---- main ---- */

/*
 * Stopped by a signal, or no broker answered: a last, bounded flush, then
 * the rest is purged (its delivery reports count it as failed) and named.
 * Without it, a broker that is gone would keep the program for
 * message.timeout.ms (5 minutes).
 */
static void
undelivered(struct produce *pr)
{
    int64_t before = pr->failed;

    (void)rd_kafka_flush(pr->rk, STOP_FLUSH_MS);
    if (rd_kafka_outq_len(pr->rk) == 0)
        return;
    (void)rd_kafka_purge(pr->rk, RD_KAFKA_PURGE_F_QUEUE |
        RD_KAFKA_PURGE_F_INFLIGHT | RD_KAFKA_PURGE_F_NON_BLOCKING);
    pr->err_logged = 1;     /* one line for them all, below */
    (void)rd_kafka_poll(pr->rk, 100);   /* their delivery reports */
    if (pr->gone)
        log_errorx("no broker answered at %s within %" PRId64 " s (is it "
            "running? --connect-timeout waits longer): %" PRId64 " events "
            "not delivered", pr->brokers, pr->connect_s, pr->failed - before);
    else
        log_errorx("stopped by signal %d: %" PRId64 " events not delivered",
            (int)got_stop, pr->failed - before);
}

/* The key field's path, and its index for --generate. Returns 0, or -1 when
 * --generate keys by a field the pipeline does not have. */
static int
setup_key(struct produce *pr)
{
    const char *k = pr->key;
    char *s, *save = NULL, *tok;

    pr->key_field = -1;
    if (k == NULL && pr->p != NULL) {
        for (int i = 0; i < pr->p->nviews && k == NULL; i++)
            if (pr->p->views[i].ngroup > 0)
                k = pr->p->fields[pr->p->views[i].group_by[0]].name;
    }
    if (k == NULL || *k == '\0')
        return 0;
    if (pr->p != NULL)
        pr->key_field = pipeline_field_index(pr->p, k);
    if (pr->generate && pr->key_field < 0)
        return -1;
    s = xstrdup(k);
    for (tok = strtok_r(s, ".", &save); tok != NULL;
        tok = strtok_r(NULL, ".", &save)) {
        pr->keypath = xrealloc(pr->keypath,
            sizeof(char *) * (size_t)(pr->nkeypath + 1));
        pr->keypath[pr->nkeypath++] = xstrdup(tok);
    }
    free(s);
    return 0;
}

/* Integer option i from lo to hi into *out, unless unset. Returns PROG_RUN,
 * or 2 after a usage error. */
static int
int_opt(const struct prog *pg, int i, int64_t lo, int64_t hi, int64_t *out)
{
    const char *v = pg->res.val[i];

    if (v == NULL || parse_i64(v, lo, hi, out) == 0)
        return PROG_RUN;
    if (hi == INT64_MAX)
        return prog_usage(pg, "--%s %s: expected an integer of at least %"
            PRId64, pg->opts[i].name, v, lo);
    return prog_usage(pg, "--%s %s: expected an integer from %" PRId64
        " to %" PRId64, pg->opts[i].name, v, lo, hi);
}

/*
 * The options into pr: flag, then LAMBDA_BROKERS, then the pipeline, as the
 * programs do. Checks the producer's configuration without connecting.
 * Returns PROG_RUN, or 2 after reporting why.
 */
static int
configure(struct produce *pr, const struct prog *pg, int nfiles)
{
    const struct opt_result *res = &pg->res;
    rd_kafka_conf_t *conf;
    int64_t part = -1, rate = 0, seed = 0, card = pr->cardinality;
    char err[ERR_LEN];
    int rc;

    pr->p = pg->p;
    if ((rc = int_opt(pg, PR_PARTITION, 0, INT32_MAX, &part)) != PROG_RUN ||
        (rc = int_opt(pg, PR_RATE, 0, INT64_MAX, &rate)) != PROG_RUN ||
        (rc = int_opt(pg, PR_COUNT, 0, INT64_MAX, &pr->count)) != PROG_RUN ||
        (rc = int_opt(pg, PR_CARDINALITY, 1, INT64_MAX, &card)) != PROG_RUN ||
        (rc = int_opt(pg, PR_SEED, 1, INT64_MAX, &seed)) != PROG_RUN ||
        (rc = int_opt(pg, PR_CONNECT, 0, 86400, &pr->connect_s)) != PROG_RUN)
        return rc;
    if (part >= 0)
        pr->partition = (int32_t)part;
    pr->rate = (double)rate;
    pr->cardinality = card > 1000000000 ? 1000000000 : (int)card;
    if (seed > 0)
        pr->rng = (uint64_t)seed * 0x9E3779B97F4A7C15ULL | 1;
    pr->now = opt_on(res, PR_NOW);
    pr->generate = opt_on(res, PR_GENERATE);
    pr->key = res->val[PR_KEY];
    pr->props = res->multi;
    pr->nprops = res->nmulti;
    for (int i = 0; i < pr->nprops; i++) {
        if (strchr(pr->props[i], '=') == NULL)
            return prog_usage(pg, "-X %s: expected PROP=VALUE",
                pr->props[i]);
    }
    pr->brokers = res->val[PR_BROKERS];
    if (pr->brokers == NULL)
        pr->brokers = pr->p != NULL ? pr->p->speed.brokers : "localhost:9092";
    pr->topic = res->val[PR_TOPIC];
    if (pr->topic == NULL && pr->p != NULL)
        pr->topic = pr->p->speed.topic;
    if (pr->topic == NULL)
        return prog_usage(pg, "no topic (-t or a pipeline's speed.topic)");
    if ((pr->generate || pr->now) && pr->p == NULL)
        return prog_usage(pg, "--generate and --now need a pipeline (-c)");
    if (pr->generate && nfiles > 0)
        return prog_usage(pg, "--generate takes no FILE");
    if (!pr->generate && nfiles == 0 && !pg->check)
        return prog_usage(pg, "no FILE to replay");
    if (setup_key(pr) != 0)
        return prog_usage(pg, "--key %s: not a field of the pipeline",
            pr->key);
    if ((conf = kafka_conf(pr, err)) == NULL)
        return prog_error(pg, "%s", err);
    rd_kafka_conf_destroy(conf);
    return PROG_RUN;
}

int
main(int argc, char **argv)
{
    struct prog pg = {.name = PROG, .synopsis = SYNOPSIS, .about = ABOUT,
        .opts = opts, .flags = PROG_OPERANDS | PROG_CONFIG_OPTIONAL,
        .lib = "librdkafka", .lib_version = rd_kafka_version_str()};
    struct produce pr;
    char err[ERR_LEN];
    double secs;
    int rc;

    memset(&pr, 0, sizeof(pr));
    pr.count = -1;
    pr.cardinality = 100;
    pr.rng = 88172645463325252ULL;
    pr.partition = RD_KAFKA_PARTITION_UA;
    pr.connect_s = CONNECT_S;
    buf_init(&pr.out);
    buf_init(&pr.keybuf);

    /* Options and pipeline: brokers, topic, fields and key field. */
    if ((rc = prog_begin(&pg, argc, argv)) != PROG_RUN ||
        (rc = configure(&pr, &pg, argc - pg.res.argi)) != PROG_RUN ||
        (rc = prog_ready(&pg)) != PROG_RUN)
        goto out;

    /* Resources: the producer. */
    if (kafka_open(&pr, err) != 0) {
        log_errorx("%s", err);
        rc = 2;
        goto out;
    }

    /* Signals. */
    sig_install(PROG, &got_stop);

    /* Run: generate or replay, then deliver what is queued; a stop signal
     * ends the wait (Ctrl-C again gives up at once). */
    pr.start_ns = now_mono_ns();
    rc = 0;
    if (pr.generate)
        rc = generate(&pr);
    for (int i = pg.res.argi; i < argc && rc == 0 && !done(&pr); i++)
        rc = replay_file(&pr, argv[i]);
    while (rd_kafka_outq_len(pr.rk) > 0 && pr.failed == 0 && !got_stop &&
        !broker_gone(&pr))
        (void)rd_kafka_flush(pr.rk, 100);
    if (got_stop || pr.gone)
        undelivered(&pr);
    secs = (double)(now_mono_ns() - pr.start_ns) / 1e9;
    log_info("produced %" PRId64 " events to %s in %.2f s (%.0f/s), "
        "%" PRId64 " failed", pr.sent - pr.failed, pr.topic, secs,
        secs > 0 ? (double)pr.sent / secs : 0.0, pr.failed);
    if (rc != 0 || pr.failed > 0 || rd_kafka_outq_len(pr.rk) > 0)
        rc = 1;

    /* Shutdown. */
out:
    if (pr.rkt != NULL)
        rd_kafka_topic_destroy(pr.rkt);
    if (pr.rk != NULL)
        rd_kafka_destroy(pr.rk);
    for (int i = 0; i < pr.nkeypath; i++)
        free(pr.keypath[i]);
    free(pr.keypath);
    node_free(pr.root);
    buf_reset(&pr.out);
    buf_reset(&pr.keybuf);
    prog_end(&pg);
    return rc;
}
