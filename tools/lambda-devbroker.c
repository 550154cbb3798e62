/*
 * lambda-devbroker.c -- DEVELOPMENT BROKER for `make demo` and the tests, NOT
 * FOR PRODUCTION.
 *
 * It runs librdkafka's mock cluster (rdkafka_mock.h) in one process: a real
 * Kafka wire protocol on 127.0.0.1, ephemeral ports, data in memory only,
 * at most ~5 MiB kept per partition (older batches are dropped silently),
 * PLAINTEXT only, no admin API. The mock API carries no ABI guarantee, so
 * it stays in this tool, the tests and the demo; lambda-speed itself only
 * speaks ordinary Kafka.
 *
 * Topics are created before the address is published, because the mock
 * auto-creates any topic a client asks about with 4 partitions and cannot
 * change that later. The bootstrap address is printed on stdout and
 * written atomically (tmp + rename) to --bootstrap-file, so scripts wait for
 * the file instead of sleeping. A control FIFO takes fault-injection
 * commands, one per line:
 *     down [ID]            disconnect broker ID (default -1: all) and refuse
 *     up [ID]              accept connections again
 *     rtt [ID] MS          delay every request by MS
 *     topic NAME PARTS     create a topic
 *     leader TOPIC PART ID move a partition's leader
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

#include "shared/err.h"
#include "shared/log.h"
#include "shared/mem.h"
#include "shared/pipeline.h"
#include "shared/prog.h"
#include "shared/sig.h"

#define PROG "lambda-devbroker"
#define SYNOPSIS "[-c FILE] [-t NAME[:PARTS]]... [-b N] [-f FILE] " \
    "[--control FIFO] [options]"
#define ABOUT "Development broker for `make demo` and the tests, NOT for " \
    "production: librdkafka's mock cluster on 127.0.0.1 (memory only, " \
    "~5 MiB kept per partition, PLAINTEXT). It creates the topics of -t " \
    "and, with a pipeline, its speed.topic (with speed.partitions) and " \
    "speed.rejects_topic, prints the bootstrap address and runs until " \
    "SIGTERM or SIGINT."
#define MAX_TOPICS 32

static const struct opt opts[] = {
    OPT_TOOL_COMMON,
    {"topic", 't', "NAME[:PARTS]", NULL,
        "create a topic (default 4 partitions); repeatable", OPT_MULTI},
    {"brokers", 'b', "N", NULL, "number of brokers (default 1)", OPT_NOENV},
    {"bootstrap-file", 'f', "FILE", NULL,
        "write the bootstrap address here, atomically", OPT_NOENV},
    {"control", 0, "FIFO", NULL, "create FIFO and read commands from it:\n"
        "down [ID] | up [ID] | rtt [ID] MS |\n"
        "topic NAME PARTS | leader TOPIC PART ID", OPT_NOENV},
    {NULL, 0, NULL, NULL, NULL, 0}
};
enum { DB_TOPIC = OPT_TOOL_NCOMMON, DB_BROKERS, DB_BOOTSTRAP_FILE,
    DB_CONTROL };

static volatile sig_atomic_t got_stop;

struct devbroker {
    rd_kafka_t              *rk;        /* dummy handle that owns the mock */
    rd_kafka_mock_cluster_t *mc;
    int                      nbrokers;
    char                    *topics[MAX_TOPICS];
    int                      parts[MAX_TOPICS];
    int                      ntopics;
    const char              *bootstrap_file;
    const char              *control;   /* FIFO path, or NULL */
    int                      ctlfd;
    int                      made_fifo; /* we created it: unlink at exit */
    char                     line[1024];
    size_t                   linelen;
};

static int
parse_int(const char *s, long lo, long hi, long *out)
{
    char *end;
    long v;

    errno = 0;
    v = strtol(s, &end, 10);
    if (errno != 0 || end == s || *end != '\0' || v < lo || v > hi)
        return -1;
    *out = v;
    return 0;
}

static int
add_topic(struct devbroker *db, const char *spec, int defparts)
{
    const char *colon = strrchr(spec, ':');
    long parts = defparts;

    if (db->ntopics == MAX_TOPICS)
        return -1;
    if (colon != NULL && parse_int(colon + 1, 1, 10000, &parts) != 0)
        return -1;
    if (colon == spec || *spec == '\0')
        return -1;
    db->topics[db->ntopics] = colon != NULL ?
        xstrndup(spec, (size_t)(colon - spec)) : xstrdup(spec);
    db->parts[db->ntopics] = (int)parts;
    db->ntopics++;
    return 0;
}

/* The options of the command line and the pipeline's topics into db.
 * Returns PROG_RUN, or 2 after reporting why. */
static int
configure(struct devbroker *db, const struct prog *pg)
{
    const struct opt_result *res = &pg->res;
    const struct pipeline *p = pg->p;
    long n;

    for (int i = 0; i < res->nmulti; i++) {
        if (add_topic(db, res->multi[i], 4) != 0)
            return prog_usage(pg, "--topic %s: expected NAME[:PARTS], "
                "PARTS from 1 to 10000, at most %d topics", res->multi[i],
                MAX_TOPICS);
    }
    if (res->val[DB_BROKERS] != NULL) {
        if (parse_int(res->val[DB_BROKERS], 1, 64, &n) != 0)
            return prog_usage(pg, "--brokers %s: expected a number from 1 "
                "to 64", res->val[DB_BROKERS]);
        db->nbrokers = (int)n;
    }
    db->bootstrap_file = res->val[DB_BOOTSTRAP_FILE];
    db->control = res->val[DB_CONTROL];
    if (p == NULL)
        return PROG_RUN;
    if (p->speed.topic == NULL)
        return prog_error(pg, "%s: speed.topic: not set", p->path);
    if (add_topic(db, p->speed.topic, p->speed.partitions) != 0 ||
        (p->speed.rejects_topic != NULL &&
        add_topic(db, p->speed.rejects_topic, 1) != 0))
        return prog_error(pg, "%s: more than %d topics", p->path,
            MAX_TOPICS);
    return PROG_RUN;
}

/* Route the dummy handle's logs into ours; the missing bootstrap.servers
 * warning is expected and dropped. */
static void
kafka_log(const rd_kafka_t *rk, int level, const char *fac, const char *buf)
{
    enum log_level l;

    (void)rk;
    if (strcmp(fac, "CONFWARN") == 0 && strstr(buf, "bootstrap") != NULL)
        return;
    l = level <= 4 ? LOG_LEVEL_WARN : level <= 6 ? LOG_LEVEL_INFO :
        LOG_LEVEL_DEBUG;
    log_at(l, "kafka %s: %s", fac, buf);
}

static int
write_bootstrap(const char *path, const char *addr)
{
    char tmp[4096];
    FILE *fp;
    int n;

    n = snprintf(tmp, sizeof(tmp), "%s.tmp.%d", path, (int)getpid());
    if (n < 0 || (size_t)n >= sizeof(tmp)) {
        log_warnx("bootstrap file %s: path too long", path);
        return -1;
    }
    if ((fp = fopen(tmp, "w")) == NULL) {
        log_warn("bootstrap file %s", tmp);
        return -1;
    }
    fprintf(fp, "%s\n", addr);
    if (fclose(fp) != 0 || rename(tmp, path) != 0) {
        log_warn("bootstrap file %s", path);
        (void)unlink(tmp);
        return -1;
    }
    return 0;
}

static int
start(struct devbroker *db)
{
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    char errstr[512];
    rd_kafka_resp_err_t rc;

    rd_kafka_conf_set_log_cb(conf, kafka_log);
    db->rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof(errstr));
    if (db->rk == NULL) {
        rd_kafka_conf_destroy(conf);
        log_warnx("rd_kafka_new: %s", errstr);
        return -1;
    }
    if ((db->mc = rd_kafka_mock_cluster_new(db->rk, db->nbrokers)) == NULL) {
        log_warnx("rd_kafka_mock_cluster_new failed");
        return -1;
    }
    for (int i = 0; i < db->ntopics; i++) {
        rc = rd_kafka_mock_topic_create(db->mc, db->topics[i], db->parts[i],
            1);
        if (rc != RD_KAFKA_RESP_ERR_NO_ERROR) {
            log_warnx("topic %s: %s", db->topics[i], rd_kafka_err2str(rc));
            return -1;
        }
        log_info("topic %s: %d partitions", db->topics[i], db->parts[i]);
    }
    return 0;
}

static void
stop(struct devbroker *db)
{
    /* the mock must go before its handle, or librdkafka asserts */
    if (db->mc != NULL)
        rd_kafka_mock_cluster_destroy(db->mc);
    if (db->rk != NULL)
        rd_kafka_destroy(db->rk);
    db->mc = NULL;
    db->rk = NULL;
}

static int
open_control(struct devbroker *db)
{
    if (mkfifo(db->control, 0600) == 0)
        db->made_fifo = 1;
    else if (errno != EEXIST) {
        log_warn("mkfifo %s", db->control);
        return -1;
    }
    /* O_RDWR keeps a writer open ourselves, so a writer leaving is no EOF */
    if ((db->ctlfd = open(db->control, O_RDWR | O_NONBLOCK)) == -1) {
        log_warn("open %s", db->control);
        return -1;
    }
    return 0;
}

static void
command(struct devbroker *db, char *cmd)
{
    char *argv[8];
    int argc = 0;
    long a = -1, b = 0, c = 0;
    rd_kafka_resp_err_t rc = RD_KAFKA_RESP_ERR__INVALID_ARG;
    char *p, *save = NULL;

    for (p = strtok_r(cmd, " \t\r", &save); p != NULL && argc < 8;
        p = strtok_r(NULL, " \t\r", &save))
        argv[argc++] = p;
    if (argc == 0)
        return;
    if ((strcmp(argv[0], "down") == 0 || strcmp(argv[0], "up") == 0) &&
        argc <= 2 && (argc == 1 || parse_int(argv[1], -1, 1000, &a) == 0)) {
        rc = argv[0][0] == 'd' ? rd_kafka_mock_broker_set_down(db->mc,
            (int32_t)a) : rd_kafka_mock_broker_set_up(db->mc, (int32_t)a);
    } else if (strcmp(argv[0], "rtt") == 0 && (argc == 2 || argc == 3) &&
        (argc == 2 || parse_int(argv[1], -1, 1000, &a) == 0) &&
        parse_int(argv[argc - 1], 0, 600000, &b) == 0) {
        rc = rd_kafka_mock_broker_set_rtt(db->mc, (int32_t)a, (int)b);
    } else if (strcmp(argv[0], "topic") == 0 && argc == 3 &&
        parse_int(argv[2], 1, 10000, &b) == 0) {
        rc = rd_kafka_mock_topic_create(db->mc, argv[1], (int)b, 1);
    } else if (strcmp(argv[0], "leader") == 0 && argc == 4 &&
        parse_int(argv[2], 0, 100000, &b) == 0 &&
        parse_int(argv[3], -1, 1000, &c) == 0) {
        rc = rd_kafka_mock_partition_set_leader(db->mc, argv[1], (int32_t)b,
            (int32_t)c);
    } else {
        log_warnx("control: unknown command \"%s\"", argv[0]);
        return;
    }
    if (rc == RD_KAFKA_RESP_ERR_NO_ERROR)
        log_info("control: %s: OK", argv[0]);
    else
        log_warnx("control: %s: %s", argv[0], rd_kafka_err2str(rc));
}

/* Read what the FIFO holds and run every complete line. */
static void
read_control(struct devbroker *db)
{
    ssize_t n;
    char *nl;

    for (;;) {
        n = read(db->ctlfd, db->line + db->linelen,
            sizeof(db->line) - 1 - db->linelen);
        if (n <= 0)
            break;
        db->linelen += (size_t)n;
        db->line[db->linelen] = '\0';
        while ((nl = strchr(db->line, '\n')) != NULL) {
            *nl = '\0';
            command(db, db->line);
            db->linelen -= (size_t)(nl + 1 - db->line);
            memmove(db->line, nl + 1, db->linelen + 1);
        }
        if (db->linelen == sizeof(db->line) - 1) {
            log_warnx("control: line too long, dropped");
            db->linelen = 0;
        }
    }
}

static void
run(struct devbroker *db)
{
    struct pollfd pfd;

    while (!got_stop) {
        pfd.fd = db->ctlfd;
        pfd.events = POLLIN;
        if (poll(&pfd, db->ctlfd != -1 ? 1 : 0, 200) > 0)
            read_control(db);
    }
}

int
main(int argc, char **argv)
{
    struct prog pg = {.name = PROG, .synopsis = SYNOPSIS, .about = ABOUT,
        .opts = opts, .flags = PROG_CONFIG_OPTIONAL, .lib = "librdkafka",
        .lib_version = rd_kafka_version_str()};
    struct devbroker db;
    const char *addr;
    int rc;

    memset(&db, 0, sizeof(db));
    db.nbrokers = 1;
    db.ctlfd = -1;

    /* Options and pipeline: the topics to create. */
    if ((rc = prog_begin(&pg, argc, argv)) != PROG_RUN ||
        (rc = configure(&db, &pg)) != PROG_RUN ||
        (rc = prog_ready(&pg)) != PROG_RUN)
        goto done;

    /* Resources: the control FIFO, the mock cluster, its address. */
    rc = 1;
    if ((db.control != NULL && open_control(&db) != 0) || start(&db) != 0)
        goto done;
    addr = rd_kafka_mock_cluster_bootstraps(db.mc);
    printf("%s\n", addr);
    fflush(stdout);
    if (db.bootstrap_file != NULL &&
        write_bootstrap(db.bootstrap_file, addr) != 0)
        goto done;

    /* Signals. */
    sig_install(PROG, &got_stop);

    /* Run. */
    log_info("development broker (not for production): %d broker(s) at %s",
        db.nbrokers, addr);
    run(&db);
    log_info("stopping");
    rc = 0;

    /* Shutdown, in reverse order. */
done:
    stop(&db);
    if (db.ctlfd != -1)
        close(db.ctlfd);
    if (db.made_fifo)
        (void)unlink(db.control);
    for (int i = 0; i < db.ntopics; i++)
        free(db.topics[i]);
    prog_end(&pg);
    return rc;
}
