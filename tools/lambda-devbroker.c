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
#include <getopt.h>
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
#include "shared/opt.h"
#include "shared/sig.h"
#include "shared/pipeline.h"

#define PROG "lambda-devbroker"
#define MAX_TOPICS 32

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

static void
on_signal(int sig)
{
    (void)sig;
    got_stop = 1;
}

static void
usage(FILE *fp)
{
    fprintf(fp,
        "usage: " PROG " [-c PIPELINE] [-t TOPIC[:PARTITIONS]]... [-b N]\n"
        "       [-f BOOTSTRAP_FILE] [--control FIFO] [--log-level LEVEL]\n"
        "\n"
        "Development broker for `make demo` and the tests, NOT for "
        "production:\n"
        "librdkafka's mock cluster on 127.0.0.1 (memory only, ~5 MiB kept per\n"
        "partition, PLAINTEXT). Prints the bootstrap address and runs until\n"
        "SIGTERM or SIGINT.\n"
        "\n"
        "  -c, --config FILE          create the pipeline's speed.topic (with\n"
        "                             speed.partitions) and "
        "speed.rejects_topic\n"
        "  -t, --topic NAME[:PARTS]   create a topic (default 4 partitions);\n"
        "                             repeatable\n"
        "  -b, --brokers N            number of brokers (default 1)\n"
        "  -f, --bootstrap-file FILE  write the bootstrap address here, "
        "atomically\n"
        "      --control FIFO         create FIFO and read commands from it:\n"
        "                             down [ID] | up [ID] | rtt [ID] MS |\n"
        "                             topic NAME PARTS | leader TOPIC PART ID\n"
        "      --log-level LEVEL      debug, info (default), warn or error\n"
        "  -h, --help                 show this help and exit\n"
        "  -V, --version              show the version and exit\n");
}

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

static int
add_pipeline_topics(struct devbroker *db, const char *path)
{
    struct pipeline *p = NULL;
    char err[ERR_LEN];
    int rc = 0;

    if (pipeline_load(&p, path, err) != 0) {
        fprintf(stderr, PROG ": %s\n", err);
        return -1;
    }
    if (p->speed.topic == NULL) {
        fprintf(stderr, PROG ": %s: speed.topic: not set\n", path);
        rc = -1;
    } else if (add_topic(db, p->speed.topic, 1) != 0) {
        rc = -1;
    } else {
        db->parts[db->ntopics - 1] = p->speed.partitions;
        if (p->speed.rejects_topic != NULL)
            rc = add_topic(db, p->speed.rejects_topic, 1);
    }
    pipeline_free(p);
    return rc;
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
    static const struct option longopts[] = {
        {"config", required_argument, NULL, 'c'},
        {"topic", required_argument, NULL, 't'},
        {"brokers", required_argument, NULL, 'b'},
        {"bootstrap-file", required_argument, NULL, 'f'},
        {"control", required_argument, NULL, 'C'},
        {"log-level", required_argument, NULL, 'L'},
        {"help", no_argument, NULL, 'h'},
        {"version", no_argument, NULL, 'V'},
        {NULL, 0, NULL, 0}
    };
    struct devbroker db;
    enum log_level level = LOG_LEVEL_INFO;
    const char *config = NULL;
    long n;
    int ch, rc = 1;

    memset(&db, 0, sizeof(db));
    db.nbrokers = 1;
    db.ctlfd = -1;
    while ((ch = getopt_long(argc, argv, "c:t:b:f:hV", longopts, NULL)) != -1) {
        switch (ch) {
        case 'c':
            config = optarg;
            break;
        case 't':
            if (add_topic(&db, optarg, 4) != 0) {
                fprintf(stderr, PROG ": bad --topic \"%s\" (NAME[:PARTS])\n",
                    optarg);
                return 2;
            }
            break;
        case 'b':
            if (parse_int(optarg, 1, 64, &n) != 0) {
                fprintf(stderr, PROG ": bad --brokers \"%s\" (1..64)\n",
                    optarg);
                return 2;
            }
            db.nbrokers = (int)n;
            break;
        case 'f':
            db.bootstrap_file = optarg;
            break;
        case 'C':
            db.control = optarg;
            break;
        case 'L':
            if (log_level_parse(optarg, &level) != 0) {
                fprintf(stderr, PROG ": bad --log-level \"%s\"\n", optarg);
                return 2;
            }
            break;
        case 'h':
            usage(stdout);
            return 0;
        case 'V':
            printf(PROG " %s (development broker, librdkafka %s)\n",
                LAMBDAKIT_VERSION, rd_kafka_version_str());
            return 0;
        default:
            fprintf(stderr, "Try '" PROG " --help'\n");
            return 2;
        }
    }
    if (optind != argc) {
        fprintf(stderr, PROG ": unexpected argument \"%s\"\n"
            "Try '" PROG " --help'\n", argv[optind]);
        return 2;
    }
    if (config != NULL && add_pipeline_topics(&db, config) != 0)
        return 2;
    log_init(PROG, level);

    sig_install(on_signal);

    if ((db.control != NULL && open_control(&db) != 0) || start(&db) != 0)
        goto done;
    printf("%s\n", rd_kafka_mock_cluster_bootstraps(db.mc));
    fflush(stdout);
    if (db.bootstrap_file != NULL &&
        write_bootstrap(db.bootstrap_file, rd_kafka_mock_cluster_bootstraps(
        db.mc)) != 0)
        goto done;
    log_info("development broker (not for production): %d broker(s) at %s",
        db.nbrokers, rd_kafka_mock_cluster_bootstraps(db.mc));
    run(&db);
    log_info("stopping");
    rc = 0;
done:
    stop(&db);
    if (db.ctlfd != -1)
        close(db.ctlfd);
    if (db.made_fifo)
        (void)unlink(db.control);
    for (int i = 0; i < db.ntopics; i++)
        free(db.topics[i]);
    return rc;
}
