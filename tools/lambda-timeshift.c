/*
 * lambda-timeshift.c -- copy a data set with its event times moved by whole
 * days, so that a history shipped with fixed dates ends just before today.
 *
 * `make demo` and the compose lab load the shipped history this way: the
 * dashboard's last 7 days, the tutorial's steps and the known totals then
 * hold on any day. Every byte but the dates of the pipeline's time field is
 * kept (shared/timeshift.h), so the same events are valid and the same ones
 * are rejected. File names that hold a date move with it.
 *
 *     lambda-timeshift -c datasets/orders.json --end-before today \
 *         -o var/orders/history datasets/orders/history
 *
 * prints the shift in days on stdout (0 when the data already ends the day
 * before). Each output file is written whole and renamed into place.
 */
#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <zlib.h>

#include "shared/buf.h"
#include "shared/err.h"
#include "shared/fs.h"
#include "shared/log.h"
#include "shared/mem.h"
#include "shared/now.h"
#include "shared/opt.h"
#include "shared/pipeline.h"
#include "shared/prog.h"
#include "shared/sig.h"
#include "shared/timeshift.h"
#include "shared/ts.h"

#define PROG "lambda-timeshift"
#define SYNOPSIS "-c FILE -o DIR (--days N | --end-before DATE) [options] " \
    "INPUT..."
#define ABOUT "Copy INPUT files (JSON Lines or JSON arrays, .gz too; a " \
    "directory: its files) into DIR with every event time moved by whole " \
    "days; every other byte is kept. Prints the shift in days."

static volatile sig_atomic_t got_stop;

static const struct opt opts[] = {
    OPT_TOOL_COMMON,
    {"output", 'o', "DIR", NULL, "where the copies go (created)", OPT_NOENV},
    {"days", 'd', "N", NULL, "move by N days (negative: back)", OPT_NOENV},
    {"end-before", 'e', "DATE", NULL, "move so the newest event falls on "
        "the day before DATE (YYYY-MM-DD, or today, UTC)", OPT_NOENV},
    {NULL, 0, NULL, NULL, NULL, 0}
};

struct input {
    char       *path;
    struct buf  text;           /* the whole file, uncompressed */
};

struct shift {
    const char   *key;          /* last part of the pipeline's event.time */
    const char   *outdir;
    struct input *in;
    int           nin;
};

/* Read path whole into in->text (gzip or plain). Returns 0, or -1 logged. */
static int
input_read(struct input *in)
{
    char chunk[65536];
    gzFile gz;
    int n;

    if ((gz = gzopen(in->path, "rb")) == NULL) {
        log_errorx("%s: %s", in->path, strerror(errno != 0 ? errno : ENOMEM));
        return -1;
    }
    while ((n = gzread(gz, chunk, sizeof(chunk))) > 0)
        buf_append(&in->text, chunk, (size_t)n);
    if (n < 0) {
        int zerr;
        log_errorx("%s: read failed: %s", in->path, gzerror(gz, &zerr));
        gzclose(gz);
        return -1;
    }
    gzclose(gz);
    return 0;
}

static int
name_cmp(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Add path, or a directory's regular files in name order. */
static int
input_add(struct shift *sh, const char *path)
{
    struct stat st;
    struct dirent *de;
    char **names = NULL;
    int n = 0, rc = 0;
    DIR *d;

    if (stat(path, &st) != 0) {
        log_errorx("%s: %s", path, strerror(errno));
        return -1;
    }
    if (!S_ISDIR(st.st_mode)) {
        sh->in = xrealloc(sh->in, sizeof(*sh->in) * (size_t)(sh->nin + 1));
        sh->in[sh->nin].path = xstrdup(path);
        buf_init(&sh->in[sh->nin].text);
        sh->nin++;
        return 0;
    }
    if ((d = opendir(path)) == NULL) {
        log_errorx("%s: %s", path, strerror(errno));
        return -1;
    }
    while ((de = readdir(d)) != NULL) {
        struct buf full;

        if (de->d_name[0] == '.')
            continue;
        buf_init(&full);
        buf_printf(&full, "%s/%s", path, de->d_name);
        if (stat(full.data, &st) == 0 && S_ISREG(st.st_mode)) {
            names = xrealloc(names, sizeof(char *) * (size_t)(n + 1));
            names[n++] = buf_steal(&full);
        }
        buf_reset(&full);
    }
    closedir(d);
    if (n > 0)
        qsort(names, (size_t)n, sizeof(char *), name_cmp);
    for (int i = 0; i < n; i++) {
        if (rc == 0)
            rc = input_add(sh, names[i]);
        free(names[i]);
    }
    free(names);
    return rc;
}

/* Write in moved by days as DIR/NAME (its date moved too), tmp + rename. */
static int
output_write(struct shift *sh, struct input *in, int64_t days,
    size_t *moved)
{
    const char *base = strrchr(in->path, '/');
    size_t n = strlen(in->path);
    char *name = xstrdup(base != NULL ? base + 1 : in->path);
    struct buf out, path, tmp;
    int64_t max = INT64_MIN;
    gzFile gz = NULL;
    int gzip = n > 3 && strcmp(in->path + n - 3, ".gz") == 0, rc = -1;

    buf_init(&out);
    buf_init(&path);
    buf_init(&tmp);
    *moved = timeshift_text(in->text.data, in->text.len, sh->key, days, &out,
        &max);
    timeshift_name(name, days);
    buf_printf(&path, "%s/%s", sh->outdir, name);
    buf_printf(&tmp, "%s.tmp", path.data);
    if ((gz = gzopen(tmp.data, gzip ? "wb" : "wbT")) == NULL ||
        (out.len > 0 && gzwrite(gz, out.data, (unsigned)out.len) == 0)) {
        log_errorx("%s: %s", tmp.data, strerror(errno != 0 ? errno : EIO));
        goto done;
    }
    if (gzclose(gz) != Z_OK) {
        gz = NULL;
        log_errorx("%s: write failed", tmp.data);
        goto done;
    }
    gz = NULL;
    if (rename(tmp.data, path.data) != 0) {
        log_errorx("rename %s: %s", path.data, strerror(errno));
        goto done;
    }
    log_debug("%s -> %s: %zu times", in->path, path.data, *moved);
    rc = 0;
done:
    if (gz != NULL)
        gzclose(gz);
    if (rc != 0)
        (void)remove(tmp.data);
    buf_reset(&out);
    buf_reset(&path);
    buf_reset(&tmp);
    free(name);
    return rc;
}

/* The options beyond the prologue's: -o, and the shift (--days, or the day
 * --end-before sets in *end). Returns PROG_RUN or an exit status. */
static int
configure(struct prog *pg, struct shift *sh, int64_t *days, int64_t *end)
{
    const char *d = prog_val(pg, "days"), *e = prog_val(pg, "end-before");
    char text[32], *stop;

    if ((sh->outdir = prog_val(pg, "output")) == NULL)
        return prog_usage(pg, "no output directory: give -o DIR");
    if ((d == NULL) == (e == NULL))
        return prog_usage(pg, "give one of --days N and --end-before DATE");
    if (d != NULL) {
        errno = 0;
        *days = strtoll(d, &stop, 10);
        if (errno != 0 || stop == d || *stop != '\0' || *days > 3000000 ||
            *days < -3000000)
            return prog_usage(pg, "--days \"%s\": expected a whole number "
                "of days", d);
        *end = INT64_MIN;
    } else if (strcmp(e, "today") == 0) {
        *end = ts_bucket(now_wall_ms(), TS_DAY_MS);
    } else if (strlen(e) != 10 ||
        snprintf(text, sizeof(text), "%sT00:00:00Z", e) < 0 ||
        ts_parse(text, strlen(text), end) != 0) {
        return prog_usage(pg, "--end-before \"%s\": expected YYYY-MM-DD or "
            "today", e);
    }
    sh->key = pg->p->time_path[pg->p->ntime_path - 1];
    return PROG_RUN;
}

int
main(int argc, char **argv)
{
    struct prog pg = {.name = PROG, .synopsis = SYNOPSIS, .about = ABOUT,
        .opts = opts, .flags = PROG_OPERANDS};
    struct shift sh;
    char t0[TS_BUFSZ], t1[TS_BUFSZ], e[ERR_LEN];
    int64_t days = 0, max = INT64_MIN, end = INT64_MIN;
    size_t total = 0, moved;
    int rc;

    memset(&sh, 0, sizeof(sh));

    /* Options and pipeline: the time field, where to, by how much. */
    if ((rc = prog_begin(&pg, argc, argv)) != PROG_RUN ||
        (rc = configure(&pg, &sh, &days, &end)) != PROG_RUN)
        goto done;
    if (pg.res.argi == argc) {
        rc = prog_usage(&pg, "no INPUT to copy");
        goto done;
    }
    if ((rc = prog_ready(&pg)) != PROG_RUN)
        goto done;

    /* Signals: a stop ends the run between two files. */
    sig_install(PROG, &got_stop);

    /* Run: read everything, find the newest time, write the copies. */
    rc = 1;
    for (int i = pg.res.argi; i < argc; i++) {
        if (input_add(&sh, argv[i]) != 0)
            goto done;
    }
    for (int i = 0; i < sh.nin; i++) {
        if (input_read(&sh.in[i]) != 0)
            goto done;
        timeshift_text(sh.in[i].text.data, sh.in[i].text.len, sh.key, 0,
            NULL, &max);
    }
    if (max == INT64_MIN) {
        log_errorx("no event time \"%s\" in the inputs", pg.p->time_field);
        goto done;
    }
    if (end != INT64_MIN)
        days = (end - TS_DAY_MS - ts_bucket(max, TS_DAY_MS)) / TS_DAY_MS;
    if (fs_mkdir_p(sh.outdir, 0777, e) != 0) {
        log_errorx("%s", e);
        goto done;
    }
    for (int i = 0; i < sh.nin; i++) {
        if (got_stop) {
            log_errorx("stopped by a signal after %d of %d files", i, sh.nin);
            goto done;
        }
        if (output_write(&sh, &sh.in[i], days, &moved) != 0)
            goto done;
        total += moved;
    }
    log_info("moved %zu event times in %d files by %" PRId64 " days: the "
        "newest, %s, is now %s", total, sh.nin, days,
        ts_format(max, t0, sizeof(t0)),
        ts_format(max + days * TS_DAY_MS, t1, sizeof(t1)));
    printf("%" PRId64 "\n", days);
    rc = 0;
done:
    for (int i = 0; i < sh.nin; i++) {
        free(sh.in[i].path);
        buf_reset(&sh.in[i].text);
    }
    free(sh.in);
    prog_end(&pg);
    return rc;
}
