/* fs_test.c -- unit tests for shared/fs.c: mkdir -p of a directory and of a file's parent */
#include <sys/stat.h>

#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "shared/err.h"
#include "shared/fs.h"
#include "tests/test.h"

static char tmp[] = "/tmp/fs_test.XXXXXX";

/* tmp/rel as a path in buf. */
static const char *
at(char *buf, const char *rel)
{
    snprintf(buf, PATH_MAX, "%s/%s", tmp, rel);
    return buf;
}

/* Nonzero if tmp/rel is a directory. */
static int
is_dir(const char *rel)
{
    char p[PATH_MAX];
    struct stat sb;

    return stat(at(p, rel), &sb) == 0 && S_ISDIR(sb.st_mode);
}

static int
exists(const char *rel)
{
    char p[PATH_MAX];
    struct stat sb;

    return stat(at(p, rel), &sb) == 0;
}

static void
test_fs_mkdir_p(void)
{
    static const struct {
        const char *path, *made;    /* given, a directory it must leave */
    } cases[] = {
        {"a", "a"},
        {"b/c/d", "b/c/d"},
        {"b/c/d", "b/c/d"},         /* all there already: fine */
        {"b/c/e", "b/c/e"},         /* some there already */
        {"f//g", "f/g"},            /* empty components skipped */
        {"h/i/", "h/i"},            /* trailing '/' */
        {"j/./k", "j/k"},
    };
    char p[PATH_MAX], err[ERR_LEN];
    struct stat sb;

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        err[0] = '\0';
        CHECK_EQ(fs_mkdir_p(at(p, cases[i].path), 0755, err), 0);
        CHECK(is_dir(cases[i].made));
        CHECK_EQ_STR(err, "");      /* untouched on success */
    }

    /* the mode, less the umask (022, set in main) */
    CHECK_EQ(fs_mkdir_p(at(p, "m/n"), 0700, err), 0);
    CHECK(stat(at(p, "m"), &sb) == 0 && (sb.st_mode & 0777) == 0700);
    CHECK(stat(at(p, "m/n"), &sb) == 0 && (sb.st_mode & 0777) == 0700);

    /* a relative path is made in the working directory */
    CHECK(chdir(tmp) == 0);
    CHECK_EQ(fs_mkdir_p("rel/x", 0755, err), 0);
    CHECK(is_dir("rel/x"));
    CHECK_EQ(fs_mkdir_p("/", 0755, err), 0);
}

static void
test_fs_mkdir_p_fails(void)
{
    char p[PATH_MAX], want[PATH_MAX + 64], err[ERR_LEN];
    FILE *f = fopen(at(p, "file"), "w");

    CHECK(f != NULL && fclose(f) == 0);

    /* a file where a directory must go: named in err */
    CHECK_EQ(fs_mkdir_p(at(p, "file/x/y"), 0755, err), -1);
    snprintf(want, sizeof(want), "mkdir %s/file/x: Not a directory", tmp);
    CHECK_EQ_STR(err, want);
    CHECK(!exists("file/x"));

    /* the path itself existing as a file counts as made, as mkdir -p's
     * callers here always had it: their open then says what is wrong */
    CHECK_EQ(fs_mkdir_p(at(p, "file"), 0755, err), 0);

    CHECK_EQ(fs_mkdir_p("", 0755, err), -1);
    CHECK_EQ_STR(err, "mkdir: empty path");
}

static void
test_fs_mkdir_parent(void)
{
    char p[PATH_MAX], want[PATH_MAX + 64], err[ERR_LEN];

    CHECK_EQ(fs_mkdir_parent(at(p, "q/r/rejects.jsonl"), 0755, err), 0);
    CHECK(is_dir("q/r"));
    CHECK(!exists("q/r/rejects.jsonl"));
    CHECK_EQ(fs_mkdir_parent(at(p, "s/t/"), 0755, err), 0);
    CHECK(is_dir("s/t"));

    /* nothing to make */
    CHECK(chdir(tmp) == 0);
    CHECK_EQ(fs_mkdir_parent("plain.jsonl", 0755, err), 0);
    CHECK_EQ(fs_mkdir_parent("/plain.jsonl", 0755, err), 0);
    CHECK_EQ(fs_mkdir_parent("", 0755, err), 0);

    CHECK_EQ(fs_mkdir_parent(at(p, "file/u/rejects.jsonl"), 0755, err), -1);
    snprintf(want, sizeof(want), "mkdir %s/file/u: Not a directory", tmp);
    CHECK_EQ_STR(err, want);
}

int
main(void)
{
    int rc;

    (void)umask(022);
    test_tmpdir(tmp);
    RUN(test_fs_mkdir_p);
    RUN(test_fs_mkdir_p_fails);
    RUN(test_fs_mkdir_parent);
    rc = test_report();
    (void)!chdir("/");
    (void)test_tmpdir_remove(tmp);
    return rc;
}
