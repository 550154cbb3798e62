/* repo_test.c -- unit tests for shared/repo.c and repo_dir.c: the file format, corruption, the directory */
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "shared/buf.h"
#include "shared/err.h"
#include "shared/pipeline.h"
#include "shared/repo.h"
#include "shared/ts.h"
#include "tests/test.h"

static char tmpdir[64];

static const char *
tmp_path(const char *name)
{
    static char path[4][160];
    static int i;

    i = (i + 1) % 4;
    snprintf(path[i], sizeof(path[i]), "%s/%s", tmpdir, name);
    return path[i];
}

static struct pipeline *
load(const char *text)
{
    const char *path = tmp_path("p.json");
    struct pipeline *p = NULL;
    char err[ERR_LEN];
    FILE *f = fopen(path, "w");

    if (f == NULL)
        return NULL;
    fputs(text, f);
    fclose(f);
    if (pipeline_load(&p, path, err) != 0)
        printf("%s\n", err);
    return p;
}

#define NROWS 300

/* Row i of view v: keys share prefixes, buckets step, slots vary in sign. */
static void
row_of(const struct view *v, int i, unsigned char *key, size_t *klen,
    int64_t *bucket, int64_t *slots)
{
    *klen = (size_t)snprintf((char *)key, 32, "\004c%03d", i / 10) + 1;
    *bucket = 1795132800000LL + (int64_t)(i % 10) * v->granularity;
    for (int s = 0; s < v->nslots; s++)
        slots[s] = (int64_t)(i * 1000 + s) * (s % 2 == 0 ? 1 : -1);
}

/* Write a version file of p with NROWS rows per view. */
static int
write_version(const struct pipeline *p, const char *path, char *err)
{
    struct repo_version ver = {7, 1795219200000LL, 1795300000000LL, 12345,
        "shop"};
    struct repo_writer *w;
    struct buf meta;
    unsigned char key[32];
    int64_t slots[16], bucket;
    size_t klen;
    int rc;

    buf_init(&meta);
    repo_version_encode(&meta, &ver);
    rc = repo_create(&w, path, REPO_KIND_VERSION, &meta, err);
    buf_reset(&meta);
    if (rc != 0)
        return -1;
    repo_put_views(w, p);
    /* name order: by_country, by_customer */
    for (int k = 1; k >= 0; k--) {
        const struct view *v = &p->views[k];

        for (int i = 0; i < NROWS; i++) {
            row_of(v, i, key, &klen, &bucket, slots);
            repo_put_row(w, v, key, klen, bucket, slots);
        }
        repo_end_view(w);
    }
    return repo_finish(w, err);
}

static void
test_repo_roundtrip(void)
{
    char path[512], err[ERR_LEN] = "";
    struct pipeline *p = NULL;
    struct repo_reader *r = NULL;
    struct repo_version ver;
    struct repo_row row;
    const struct view *v;
    struct buf meta;
    unsigned char key[32];
    int64_t slots[16], bucket;
    size_t klen;
    int n = 0, bad = 0, rc;
    struct stat sb;

    buf_init(&meta);
    CHECK(pipeline_load(&p, test_top_path("tests/fixtures/shop.json", path,
        sizeof(path)), err) == 0);
    if (p == NULL)
        return;
    CHECK(write_version(p, tmp_path("v.lkv"), err) == 0);
    CHECK(stat(tmp_path(".v.lkv.tmp"), &sb) != 0);
    CHECK(repo_open(&r, tmp_path("v.lkv"), REPO_KIND_VERSION, &meta,
        err) == 0);
    if (r == NULL) {
            goto done;
    }
    CHECK(repo_version_decode(&meta, &ver) == 0);
    CHECK(ver.version == 7 && ver.cutoff == 1795219200000LL);
    CHECK(ver.published_at == 1795300000000LL && ver.events == 12345);
    CHECK_STREQ(ver.pipeline, "shop");
    CHECK(repo_get_views(r, p, err) == 0);
    CHECK((v = repo_next_view(r)) == &p->views[1]);
    while (v != NULL) {
        while ((rc = repo_get_row(r, &row, err)) == 0) {
            row_of(v, n % NROWS, key, &klen, &bucket, slots);
            if (row.gklen != klen || memcmp(row.gkey, key, klen) != 0 ||
                row.bucket != bucket ||
                memcmp(row.slots, slots, (size_t)v->nslots * 8) != 0)
                bad++;
            n++;
        }
        CHECK(rc == REPO_END);
        v = repo_next_view(r);
        CHECK(v == NULL || v == &p->views[0]);
    }
    CHECK(n == 2 * NROWS && bad == 0);
    CHECK(repo_done(r, err) == 0);
    /* compact: well under the 8 bytes a slot takes in the store */
    CHECK(repo_size(r) < (uint64_t)NROWS * 10 * 8);
    repo_close(r);
    CHECK(repo_peek(tmp_path("v.lkv"), REPO_KIND_VERSION, &meta, err) == 0);
done:
    buf_reset(&meta);
    pipeline_free(p);
}

/* Copy src to dst with byte at flips XORed (at < 0: none), cut at len. */
static void
copy_damaged(const char *src, const char *dst, long at, long len)
{
    FILE *in = fopen(src, "rb"), *out = fopen(dst, "wb");
    long i = 0;
    int c;

    if (in == NULL || out == NULL)
        return;
    while ((c = fgetc(in)) != EOF && (len < 0 || i < len)) {
        if (i == at)
            c ^= 0x40;
        fputc(c, out);
        i++;
    }
    fclose(in);
    fclose(out);
}

static void
test_repo_refusals(void)
{
    static const char other[] = "{\"name\":\"shop\",\"store\":\"s\","
        "\"event\":{\"time\":\"ts\",\"fields\":{\"customer\":\"string\","
        "\"country\":\"string\",\"amount\":{\"type\":\"decimal\",\"scale\":2}}},"
        "\"views\":{\"by_customer\":{\"group_by\":[\"customer\"],"
        "\"granularity\":\"1h\",\"metrics\":{\"orders\":\"count\","
        "\"revenue\":\"sum(amount)\",\"avg_order\":\"avg(amount)\","
        "\"max_order\":\"max(amount)\"}},\"by_country\":{\"group_by\":"
        "[\"country\"],\"granularity\":\"1h\",\"metrics\":{\"orders\":"
        "\"count\",\"revenue\":\"sum(amount)\"}}}}";
    char path[512], err[ERR_LEN] = "", want[ERR_LEN], good[160];
    struct pipeline *p = NULL, *q = NULL;
    struct repo_reader *r = NULL;
    struct buf meta;
    struct stat sb;

    buf_init(&meta);
    snprintf(good, sizeof(good), "%s", tmp_path("good.lkv"));
    CHECK(pipeline_load(&p, test_top_path("tests/fixtures/shop.json", path,
        sizeof(path)), err) == 0);
    if (p == NULL || write_version(p, good, err) != 0 ||
        stat(good, &sb) != 0) {
        CHECK(0);
        goto done;
    }

    copy_damaged(good, tmp_path("flip.lkv"), (long)sb.st_size / 2, -1);
    CHECK(repo_open(&r, tmp_path("flip.lkv"), REPO_KIND_VERSION, &meta,
        err) == -1);
    CHECK(strstr(err, "flip.lkv: checksum mismatch (stored ") != NULL);

    copy_damaged(good, tmp_path("cut.lkv"), -1, (long)sb.st_size - 100);
    CHECK(repo_open(&r, tmp_path("cut.lkv"), REPO_KIND_VERSION, &meta,
        err) == -1);
    snprintf(want, sizeof(want), "%s: truncated or unfinished (no trailer)",
        tmp_path("cut.lkv"));
    CHECK_STREQ(err, want);

    copy_damaged(good, tmp_path("head.lkv"), -1, 12);
    CHECK(repo_open(&r, tmp_path("head.lkv"), REPO_KIND_VERSION, &meta,
        err) == -1);
    CHECK(strstr(err, "head.lkv: truncated or unfinished") != NULL);

    copy_damaged(good, tmp_path("magic.lkv"), 1, -1);
    CHECK(repo_open(&r, tmp_path("magic.lkv"), REPO_KIND_VERSION, &meta,
        err) == -1);
    CHECK(strstr(err, "magic.lkv: not a lambdakit batch file (bad "
        "magic)") != NULL);

    CHECK(repo_open(&r, good, REPO_KIND_PARTIAL, &meta, err) == -1);
    CHECK(strstr(err, "good.lkv: a batch version (from a repository), not "
        "a shard's partial states") != NULL);

    CHECK(repo_open(&r, tmp_path("missing.lkv"), REPO_KIND_VERSION, &meta,
        err) == -1);
    CHECK(strstr(err, "missing.lkv: No such file or directory") != NULL);

    /* a foreign pipeline: by_country at another granularity */
    if ((q = load(other)) != NULL &&
        repo_open(&r, good, REPO_KIND_VERSION, &meta, err) == 0) {
        CHECK(repo_get_views(r, q, err) == -1);
        CHECK(strstr(err, "good.lkv: another pipeline's states: view "
            "by_country is defined differently in ") != NULL);
        repo_close(r);
    } else {
        CHECK(0);
    }
done:
    buf_reset(&meta);
    pipeline_free(p);
    pipeline_free(q);
}

static void
test_repo_meta_codec(void)
{
    static const int64_t vals[] = {0, 1, -1, 63, -64, 64, 300, INT64_MAX,
        INT64_MIN, -1795132800000LL};
    struct buf b;
    struct repo_cur c;
    const char *s;
    size_t n;
    int64_t v;
    uint64_t u;
    int bad = 0;

    buf_init(&b);
    for (size_t i = 0; i < sizeof(vals) / sizeof(vals[0]); i++)
        repo_enc_s(&b, vals[i]);
    repo_enc_u(&b, UINT64_MAX);
    repo_enc_str(&b, "abc", 3);
    repo_cur_init(&c, &b);
    for (size_t i = 0; i < sizeof(vals) / sizeof(vals[0]); i++)
        if (repo_dec_s(&c, &v) != 0 || v != vals[i])
            bad++;
    CHECK(bad == 0);
    CHECK(repo_dec_u(&c, &u) == 0 && u == UINT64_MAX);
    CHECK(repo_dec_str(&c, &s, &n) == 0 && n == 3 && memcmp(s, "abc", 3) == 0);
    CHECK(repo_dec_u(&c, &u) == -1);    /* the end */
    b.len -= 2;                         /* "abc" cut short */
    repo_cur_init(&c, &b);
    for (size_t i = 0; i <= sizeof(vals) / sizeof(vals[0]); i++)
        (void)repo_dec_u(&c, &u);
    CHECK(repo_dec_str(&c, &s, &n) == -1);
    buf_reset(&b);
}

static int
exists(const char *name)
{
    struct stat sb;

    return stat(tmp_path(name), &sb) == 0;
}

static void
touch(const char *name)
{
    FILE *f = fopen(tmp_path(name), "w");

    if (f != NULL)
        fclose(f);
}

static void
test_repo_dir(void)
{
    char name[REPO_NAME_MAX], err[ERR_LEN] = "", dir[128];
    int64_t v;

    repo_version_name(7, name, sizeof(name));
    CHECK_STREQ(name, "v0000000007.lkv");
    CHECK(repo_version_parse(name, &v) == 0 && v == 7);
    CHECK(repo_version_parse("v0000000007.lkv.tmp", &v) == -1);
    CHECK(repo_version_parse("v000000007.lkv", &v) == -1);
    CHECK(repo_version_parse("LATEST", &v) == -1);

    snprintf(dir, sizeof(dir), "%s/repo/a", tmpdir);
    CHECK(repo_mkdir(dir, err) == 0);
    CHECK(repo_mkdir(dir, err) == 0);
    CHECK(repo_latest(dir, name, sizeof(name), err) == REPO_NONE);
    CHECK(repo_latest(tmp_path("nothing"), name, sizeof(name), err) == -1);
    for (int i = 1; i <= 5; i++) {
        char n[REPO_NAME_MAX], rel[REPO_NAME_MAX + 8];

        repo_version_name(i, n, sizeof(n));
        snprintf(rel, sizeof(rel), "repo/a/%s", n);
        touch(rel);
    }
    touch("repo/a/.v0000000001.lkv.tmp");
    touch("repo/a/.v0000000006.lkv.tmp");
    CHECK(repo_set_latest(dir, "v0000000004.lkv", 2, err) == 0);
    CHECK(repo_latest(dir, name, sizeof(name), err) == 0);
    CHECK_STREQ(name, "v0000000004.lkv");
    CHECK(!exists("repo/a/v0000000001.lkv") &&
        !exists("repo/a/v0000000002.lkv"));
    CHECK(exists("repo/a/v0000000003.lkv") && exists("repo/a/v0000000004.lkv"));
    CHECK(exists("repo/a/v0000000005.lkv"));    /* newer: not ours to drop */
    CHECK(!exists("repo/a/.v0000000001.lkv.tmp"));
    CHECK(exists("repo/a/.v0000000006.lkv.tmp"));
    CHECK(!exists("repo/a/.LATEST.tmp"));
    touch("repo/a/LATEST");
    CHECK(repo_latest(dir, name, sizeof(name), err) == -1);
    CHECK(strstr(err, "LATEST: does not name a version file") != NULL);
}

int
main(void)
{
    char cmd[128];

    snprintf(tmpdir, sizeof(tmpdir), "/tmp/repo_test.XXXXXX");
    if (mkdtemp(tmpdir) == NULL) {
        perror("mkdtemp");
        return 1;
    }
    RUN(test_repo_roundtrip);
    RUN(test_repo_refusals);
    RUN(test_repo_meta_codec);
    RUN(test_repo_dir);
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
    if (system(cmd) != 0)
        printf("warning: could not remove %s\n", tmpdir);
    return test_report();
}
