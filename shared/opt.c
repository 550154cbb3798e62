/* opt.c -- one option table drives getopt_long, environment fallback, overrides and --help */
#include <ctype.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "shared/err.h"
#include "shared/opt.h"
#include "shared/pipeline.h"

#define OPT_LONGVAL 256         /* getopt_long val of entry i: 256 + i */
#define ENV_NAME_MAX 64

/*
 * --help and --version have no variable (OPT_NOENV): a stray LAMBDA_VERSION
 * in a container's environment must not turn a daemon into a version
 * printer. Nor do a tool's own options, nor repeatable ones.
 */
static int
has_env(const struct opt *o)
{
    return (o->flags & (OPT_NOENV | OPT_MULTI)) == 0;
}

/* "log-level" -> "LAMBDA_LOG_LEVEL" */
static const char *
env_name(const char *name, char *buf, size_t size)
{
    size_t n = (size_t)snprintf(buf, size, "LAMBDA_");

    for (const char *s = name; *s != '\0' && n + 1 < size; s++)
        buf[n++] = *s == '-' ? '_' : (char)toupper((unsigned char)*s);
    buf[n] = '\0';
    return buf;
}

static int
table_len(const struct opt *tab)
{
    int n = 0;

    while (tab[n].name != NULL)
        n++;
    return n;
}

int
opt_index(const struct opt *tab, const char *name)
{
    for (int i = 0; tab[i].name != NULL; i++) {
        if (strcmp(tab[i].name, name) == 0)
            return i;
    }
    return -1;
}

/* Why getopt_long refused argv[optind - 1] with '?' and optopt. */
static void
unknown(const struct opt *tab, int n, const char *arg, int optopt_,
    char *err)
{
    size_t len;
    int matches = 0;

    if (optopt_ >= OPT_LONGVAL && optopt_ < OPT_LONGVAL + n) {
        snprintf(err, ERR_LEN, "option --%s takes no argument",
            tab[optopt_ - OPT_LONGVAL].name);
        return;
    }
    if (optopt_ != 0) {
        snprintf(err, ERR_LEN, "unknown option -%c", optopt_);
        return;
    }
    if (arg == NULL || strncmp(arg, "--", 2) != 0) {
        snprintf(err, ERR_LEN, "unknown option %s", arg != NULL ? arg : "");
        return;
    }
    arg += 2;
    len = strcspn(arg, "=");
    for (int i = 0; i < n; i++) {
        if (strncmp(tab[i].name, arg, len) == 0)
            matches++;
    }
    if (matches > 1)
        snprintf(err, ERR_LEN, "option --%.*s is ambiguous", (int)len, arg);
    else
        snprintf(err, ERR_LEN, "unknown option --%.*s", (int)len, arg);
}

int
opt_parse(const struct opt *tab, int argc, char **argv,
    struct opt_result *res, char *err)
{
    struct option lo[OPT_MAX + 1];
    char shorts[2 * OPT_MAX + 2], env[ENV_NAME_MAX];
    int n = table_len(tab), ns = 0, c, i;

    if (n > OPT_MAX) {
        snprintf(err, ERR_LEN, "option table has %d entries, at most %d",
            n, OPT_MAX);
        return -1;
    }
    memset(res, 0, sizeof(*res));
    memset(lo, 0, sizeof(lo));
    shorts[ns++] = ':';     /* report a missing argument as ':' */
    for (i = 0; i < n; i++) {
        lo[i].name = tab[i].name;
        lo[i].has_arg = tab[i].arg != NULL ? required_argument : no_argument;
        lo[i].flag = NULL;
        lo[i].val = OPT_LONGVAL + i;
        if (tab[i].shortname != 0) {
            shorts[ns++] = (char)tab[i].shortname;
            if (tab[i].arg != NULL)
                shorts[ns++] = ':';
        }
    }
    shorts[ns] = '\0';

    opterr = 0;
    optind = 0;     /* 0, not 1: glibc then forgets the previous argv too */
    while ((c = getopt_long(argc, argv, shorts, lo, NULL)) != -1) {
        if (c >= OPT_LONGVAL && c < OPT_LONGVAL + n) {
            i = c - OPT_LONGVAL;
        } else if (c == '?') {
            unknown(tab, n, optind > 0 && optind <= argc ?
                argv[optind - 1] : NULL, optopt, err);
            return -1;
        } else if (c == ':') {
            if (optopt >= OPT_LONGVAL && optopt < OPT_LONGVAL + n)
                snprintf(err, ERR_LEN, "option --%s needs an argument",
                    tab[optopt - OPT_LONGVAL].name);
            else
                snprintf(err, ERR_LEN, "option -%c needs an argument",
                    optopt);
            return -1;
        } else {
            for (i = 0; i < n && tab[i].shortname != c; i++)
                ;
            if (i == n) {
                snprintf(err, ERR_LEN, "unknown option -%c", c);
                return -1;
            }
        }
        res->val[i] = tab[i].arg != NULL ? optarg : "1";
        res->from_flag[i] = 1;
        if ((tab[i].flags & OPT_MULTI) != 0) {
            if (res->nmulti == OPT_MULTI_MAX) {
                snprintf(err, ERR_LEN, "option --%s given more than %d times",
                    tab[i].name, OPT_MULTI_MAX);
                return -1;
            }
            res->multi[res->nmulti] = res->val[i];
            res->multi_of[res->nmulti++] = i;
        }
    }
    res->argi = optind;

    for (i = 0; i < n; i++) {
        const char *v;

        if (res->val[i] != NULL || !has_env(&tab[i]))
            continue;
        v = getenv(env_name(tab[i].name, env, sizeof(env)));
        if (v == NULL || *v == '\0')
            continue;
        if (tab[i].arg == NULL)
            v = strcmp(v, "0") == 0 || strcmp(v, "false") == 0 ? NULL : "1";
        res->val[i] = v;
    }
    return 0;
}

int
opt_on(const struct opt_result *res, int i)
{
    return i >= 0 && i < OPT_MAX && res->val[i] != NULL;
}

const char *
opt_source(const struct opt *tab, const struct opt_result *res, int i,
    char *buf, size_t size)
{
    if (res->from_flag[i])
        snprintf(buf, size, "--%s", tab[i].name);
    else
        (void)env_name(tab[i].name, buf, size);
    return buf;
}

int
opt_apply(const struct opt *tab, const struct opt_result *res,
    struct pipeline *p, char *err)
{
    char e[ERR_LEN], who[ENV_NAME_MAX + 2];

    for (int i = 0; tab[i].name != NULL && i < OPT_MAX; i++) {
        const char *why = e;
        size_t klen;

        if (tab[i].key == NULL || res->val[i] == NULL)
            continue;
        if (pipeline_set(p, tab[i].key, res->val[i], e) == 0)
            continue;
        /* "speed.partitions: expected ..." -> "--partitions: expected ..." */
        klen = strlen(tab[i].key);
        if (strncmp(e, tab[i].key, klen) == 0 && e[klen] == ':' &&
            e[klen + 1] == ' ')
            why = e + klen + 2;
        (void)opt_source(tab, res, i, who, sizeof(who));
        if (snprintf(err, ERR_LEN, "%s: %s", who, why) >= ERR_LEN)
            memcpy(err + ERR_LEN - 4, "...", 4);
        return -1;
    }
    return 0;
}

/* "  -c, --config FILE" or "      --store DIR" */
static int
left_column(const struct opt *o, char *buf, size_t size)
{
    int n;

    if (o->shortname != 0)
        n = snprintf(buf, size, "  -%c, --%s%s%s", o->shortname, o->name,
            o->arg != NULL ? " " : "", o->arg != NULL ? o->arg : "");
    else
        n = snprintf(buf, size, "      --%s%s%s", o->name,
            o->arg != NULL ? " " : "", o->arg != NULL ? o->arg : "");
    return n < 0 ? 0 : n >= (int)size ? (int)size - 1 : n;
}

/*
 * One form of the synopsis after lead and prog, wrapped between its
 * top-level words ("[--until TIME]" stays whole); further lines are indented
 * under the first word.
 */
static void
put_synopsis(FILE *fp, const char *lead, const char *prog, const char *form,
    size_t len)
{
    int col = (int)(strlen(lead) + strlen(prog)) + 1, at = col - 1;
    const char *s = form, *end = form + len;

    fprintf(fp, "%s%s", lead, prog);
    while (s < end) {
        const char *e = s;
        int depth = 0, n;

        if (*s == ' ') {
            s++;
            continue;
        }
        for (; e < end && (*e != ' ' || depth > 0); e++) {
            if (*e == '[')
                depth++;
            else if (*e == ']' && depth > 0)
                depth--;
        }
        n = (int)(e - s);
        if (at > col && at + 1 + n > 79) {
            fprintf(fp, "\n%*s", col - 1, "");
            at = col - 1;
        }
        fprintf(fp, " %.*s", n, s);
        at += 1 + n;
        s = e;
    }
    fputc('\n', fp);
}

/*
 * text from column col on, wrapped between words to 79 columns, each further
 * line indented to col; "\n" in text breaks the line. tail goes whole at the
 * end, on a line of its own when the last one has no room.
 */
static void
put_wrapped(FILE *fp, const char *text, const char *tail, int col)
{
    int at = col, fresh = 1;
    const char *s = text;
    size_t n;

    while (*s != '\0') {
        if (*s == ' ') {
            s++;
            continue;
        }
        if (*s == '\n') {
            fprintf(fp, "\n%*s", col, "");
            at = col;
            fresh = 1;
            s++;
            continue;
        }
        n = strcspn(s, " \n");
        if (!fresh && at + 1 + (int)n > 79) {
            fprintf(fp, "\n%*s", col, "");
            at = col;
            fresh = 1;
        }
        fprintf(fp, "%s%.*s", fresh ? "" : " ", (int)n, s);
        at += (fresh ? 0 : 1) + (int)n;
        fresh = 0;
        s += n;
    }
    n = strlen(tail);
    if (n > 0) {
        if (!fresh && at + 1 + (int)n > 79) {
            fprintf(fp, "\n%*s", col, "");
            fresh = 1;
        }
        fprintf(fp, "%s%s", fresh ? "" : " ", tail);
    }
    fputc('\n', fp);
}

void
opt_usage(FILE *fp, const char *prog, const char *synopsis,
    const char *about, const struct opt *tab)
{
    char left[128], env[ENV_NAME_MAX], tail[ENV_NAME_MAX + 8];
    const char *lead = "usage: ", *s = synopsis;
    int width = 0;

    for (int i = 0; tab[i].name != NULL; i++) {
        int w = left_column(&tab[i], left, sizeof(left));
        if (w > width && w <= 30)
            width = w;
    }
    for (;;) {
        size_t n = strcspn(s, "\n");

        put_synopsis(fp, lead, prog, s, n);
        if (s[n] == '\0')
            break;
        s += n + 1;
        lead = "       ";
    }
    if (about != NULL) {
        fputc('\n', fp);
        put_wrapped(fp, about, "", 0);
    }
    fprintf(fp, "\noptions:\n");
    for (int i = 0; tab[i].name != NULL; i++) {
        const char *help = tab[i].help != NULL ? tab[i].help : "";
        int w = left_column(&tab[i], left, sizeof(left));
        int col = width + 2;

        tail[0] = '\0';
        if (has_env(&tab[i])) {
            (void)env_name(tab[i].name, env, sizeof(env));
            if (strstr(help, env) == NULL)
                snprintf(tail, sizeof(tail), "(env %s)", env);
        }
        if (w > width)
            fprintf(fp, "%s\n%*s", left, col, "");
        else
            fprintf(fp, "%-*s", col, left);
        put_wrapped(fp, help, tail, col);
    }
    fprintf(fp, "\nFlags override environment variables, which override "
        "the pipeline file.\n");
}
