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
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include <zlib.h>

#include "shared/buf.h"
#include "shared/err.h"
#include "shared/log.h"
#include "shared/mem.h"
#include "shared/opt.h"
#include "shared/pipeline.h"
#include "shared/timeshift.h"
#include "shared/ts.h"

#define PROG "lambda-timeshift"

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

static void
usage(FILE *fp)
{
    fprintf(fp,
        "usage: " PROG " -c PIPELINE -o DIR (--days N | --end-before DATE)"
        " INPUT...\n"
        "Copy INPUT files (JSON Lines or JSON arrays, .gz too; a directory:\n"
        "its files) into DIR with the event times moved by whole days; every\n"
        "other byte is kept. Prints the shift in days.\n"
        "\n"
        "  -c, --config FILE        pipeline file: names the time field "
        "(env LAMBDA_CONFIG)\n"
        "  -o, --output DIR         where the copies go (created)\n"
        "  -d, --days N             move by N days (negative: back)\n"
        "  -e, --end-before DATE    move so the newest event falls on the day\n"
        "                           before DATE (YYYY-MM-DD, or \"today\", UTC)\n"
        "      --log-level LEVEL    debug, info (default), warn or error\n"
        "  -h, --help               show this help and exit\n"
        "  -V, --version            show the version and exit\n");
}

static int
bad_usage(const char *what, const char *arg)
{
    fprintf(stderr, PROG ": %s%s%s%s\nTry '" PROG " --help' for more "
        "information.\n", what, arg != NULL ? " \"" : "",
        arg != NULL ? arg : "", arg != NULL ? "\"" : "");
    return 2;
}

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

/* mkdir -p */
static int
mkdirs(const char *dir)
{
    char *p = xstrdup(dir);
    int rc = 0;

    for (char *s = p + 1; rc == 0; s++) {
        if (*s != '/' && *s != '\0')
            continue;
        char c = *s;
        *s = '\0';
        if (mkdir(p, 0777) != 0 && errno != EEXIST) {
            log_errorx("mkdir %s: %s", p, strerror(errno));
            rc = -1;
        }
        *s = c;
        if (c == '\0')
            break;
    }
    free(p);
    return rc;
}

int
main(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"config", required_argument, NULL, 'c'},
        {"output", required_argument, NULL, 'o'},
        {"days", required_argument, NULL, 'd'},
        {"end-before", required_argument, NULL, 'e'},
        {"log-level", required_argument, NULL, 'L'},
        {"help", no_argument, NULL, 'h'},
        {"version", no_argument, NULL, 'V'},
        {NULL, 0, NULL, 0}
    };
    enum log_level level = LOG_LEVEL_INFO;
    const char *config = getenv("LAMBDA_CONFIG"), *days_arg = NULL;
    const char *end_arg = NULL;
    struct pipeline *p = NULL;
    struct shift sh;
    char err[ERR_LEN], t0[TS_BUFSZ], t1[TS_BUFSZ];
    int64_t days = 0, max = INT64_MIN, end;
    size_t total = 0, moved;
    char *stop;
    int ch, rc = 1;

    memset(&sh, 0, sizeof(sh));
    while ((ch = getopt_long(argc, argv, "c:o:d:e:hV", longopts, NULL)) != -1) {
        switch (ch) {
        case 'c': config = optarg; break;
        case 'o': sh.outdir = optarg; break;
        case 'd': days_arg = optarg; break;
        case 'e': end_arg = optarg; break;
        case 'L':
            if (log_level_parse(optarg, &level) != 0)
                return bad_usage("bad --log-level", optarg);
            break;
        case 'h':
            usage(stdout);
            return 0;
        case 'V':
            printf(PROG " %s\n", LAMBDAKIT_VERSION);
            return 0;
        default:
            return bad_usage("bad option", NULL);
        }
    }
    if (config == NULL || *config == '\0')
        return bad_usage("no pipeline: -c FILE or LAMBDA_CONFIG", NULL);
    if (sh.outdir == NULL)
        return bad_usage("no output directory: -o DIR", NULL);
    if ((days_arg == NULL) == (end_arg == NULL))
        return bad_usage("give one of --days N and --end-before DATE", NULL);
    if (optind == argc)
        return bad_usage("no INPUT to copy", NULL);
    if (days_arg != NULL) {
        errno = 0;
        days = strtoll(days_arg, &stop, 10);
        if (errno != 0 || stop == days_arg || *stop != '\0' ||
            days > 3000000 || days < -3000000)
            return bad_usage("--days: expected a whole number of days",
                days_arg);
    }
    if (end_arg != NULL) {
        char text[32];

        if (strcmp(end_arg, "today") == 0) {
            end = ts_bucket((int64_t)time(NULL) * 1000, TS_DAY_MS);
        } else if (strlen(end_arg) != 10 ||
            snprintf(text, sizeof(text), "%sT00:00:00Z", end_arg) < 0 ||
            ts_parse(text, strlen(text), &end) != 0) {
            return bad_usage("--end-before: expected YYYY-MM-DD or today",
                end_arg);
        }
    }
    log_init(PROG, level);
    if (pipeline_load(&p, config, err) != 0) {
        fprintf(stderr, PROG ": %s\n", err);
        return 2;
    }
    sh.key = p->time_path[p->ntime_path - 1];

    for (int i = optind; i < argc; i++) {
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
        log_errorx("no event time \"%s\" in the inputs", p->time_field);
        goto done;
    }
    if (end_arg != NULL)
        days = (end - TS_DAY_MS - ts_bucket(max, TS_DAY_MS)) / TS_DAY_MS;
    if (mkdirs(sh.outdir) != 0)
        goto done;
    for (int i = 0; i < sh.nin; i++) {
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
    pipeline_free(p);
    return rc;
}
