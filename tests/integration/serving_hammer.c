/* serving_hammer.c -- test helper: keep-alive GETs from several threads, checking every answer */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

/*
 * usage: serving_hammer PORT PATH SECONDS THREADS EXPECT
 *
 * Each thread sends GET PATH over one keep-alive connection (reconnecting
 * when the server closes it) until SECONDS have passed or SIGTERM came
 * (a test stops it once its writers are done), and checks that
 * every answer is a 200 whose body contains EXPECT. Prints
 *     requests=N mismatches=N errors=N max_ms=X versions=1,2,3
 * where versions are the batch versions seen ("version":N in the bodies),
 * and the first wrong body if any. Exits 0 when it could run at all.
 */

struct shared {
    int              port;
    const char      *path, *expect;
    double           until;
    pthread_mutex_t  mu;
    long             requests, mismatches, errors;
    double           max_ms;
    unsigned long long versions;   /* bit v: version v seen (v < 64) */
    char             wrong[512];
};

static volatile sig_atomic_t stop;

static void
on_term(int sig)
{
    (void)sig;
    stop = 1;
}

static double
now(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int
dial(int port)
{
    struct sockaddr_in a;
    int fd = socket(AF_INET, SOCK_STREAM, 0), one = 1;

    if (fd < 0)
        return -1;
    memset(&a, 0, sizeof(a));
    a.sin_family = AF_INET;
    a.sin_port = htons((unsigned short)port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(fd, (struct sockaddr *)&a, sizeof(a)) != 0) {
        close(fd);
        return -1;
    }
    (void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    return fd;
}

/* One request and its answer. Returns the status (body in *body, of
 * *blen bytes), or -1 when the connection failed. */
static int
roundtrip(int fd, const char *req, size_t rlen, char *buf, size_t cap,
    char **body, size_t *blen)
{
    size_t have = 0, need;
    char *end, *cl;
    int status;
    ssize_t n;

    if (send(fd, req, rlen, MSG_NOSIGNAL) != (ssize_t)rlen)
        return -1;
    for (;;) {
        if (have == cap - 1)
            return -1;
        if ((n = recv(fd, buf + have, cap - 1 - have, 0)) <= 0)
            return -1;
        have += (size_t)n;
        buf[have] = '\0';
        if ((end = strstr(buf, "\r\n\r\n")) != NULL)
            break;
    }
    if (sscanf(buf, "HTTP/1.%*d %d", &status) != 1)
        return -1;
    cl = strcasestr(buf, "\r\nContent-Length:");
    if (cl == NULL || cl > end)
        return -1;
    need = (size_t)(end + 4 - buf) + strtoul(cl + 17, NULL, 10);
    if (need >= cap)
        return -1;
    while (have < need) {
        if ((n = recv(fd, buf + have, need - have, 0)) <= 0)
            return -1;
        have += (size_t)n;
    }
    buf[need] = '\0';
    *body = end + 4;
    *blen = need - (size_t)(end + 4 - buf);
    return status;
}

static void *
worker(void *arg)
{
    struct shared *s = arg;
    size_t cap = 1 << 20;
    char *buf = malloc(cap), req[8192], *body, *v;
    size_t blen;
    int fd = -1, rlen;

    rlen = snprintf(req, sizeof(req), "GET %s HTTP/1.1\r\nHost: hammer\r\n"
        "\r\n", s->path);
    while (buf != NULL && now() < s->until && !stop) {
        double t0 = now(), ms;
        int status, bad;

        if (fd < 0 && (fd = dial(s->port)) < 0) {
            pthread_mutex_lock(&s->mu);
            s->errors++;
            pthread_mutex_unlock(&s->mu);
            usleep(10000);
            continue;
        }
        status = roundtrip(fd, req, (size_t)rlen, buf, cap, &body, &blen);
        if (status < 0) {           /* closed: reconnect, not an error */
            close(fd);
            fd = -1;
            continue;
        }
        ms = (now() - t0) * 1000;
        bad = status != 200 || strstr(body, s->expect) == NULL;
        pthread_mutex_lock(&s->mu);
        s->requests++;
        if (ms > s->max_ms)
            s->max_ms = ms;
        if (bad) {
            s->mismatches++;
            if (s->wrong[0] == '\0')
                snprintf(s->wrong, sizeof(s->wrong), "%d %.*s", status,
                    (int)(blen < 400 ? blen : 400), body);
        }
        if ((v = strstr(body, "\"version\":")) != NULL) {
            long ver = strtol(v + 10, NULL, 10);

            if (ver > 0 && ver < 64)
                s->versions |= 1ULL << ver;
        }
        pthread_mutex_unlock(&s->mu);
    }
    if (fd >= 0)
        close(fd);
    free(buf);
    return NULL;
}

int
main(int argc, char **argv)
{
    struct shared s;
    pthread_t th[64];
    int n, sep = 0;

    if (argc != 6) {
        fprintf(stderr, "usage: serving_hammer PORT PATH SECONDS THREADS "
            "EXPECT\n");
        return 2;
    }
    memset(&s, 0, sizeof(s));
    s.port = atoi(argv[1]);
    s.path = argv[2];
    s.until = now() + atof(argv[3]);
    n = atoi(argv[4]);
    s.expect = argv[5];
    if (n < 1 || n > 64)
        n = 4;
    pthread_mutex_init(&s.mu, NULL);
    signal(SIGTERM, on_term);
    for (int i = 0; i < n; i++)
        pthread_create(&th[i], NULL, worker, &s);
    for (int i = 0; i < n; i++)
        pthread_join(th[i], NULL);
    printf("requests=%ld mismatches=%ld errors=%ld max_ms=%.1f versions=",
        s.requests, s.mismatches, s.errors, s.max_ms);
    for (int v = 1; v < 64; v++) {
        if (s.versions & (1ULL << v)) {
            printf("%s%d", sep ? "," : "", v);
            sep = 1;
        }
    }
    printf("\n");
    if (s.wrong[0] != '\0')
        printf("first wrong answer: %s\n", s.wrong);
    return 0;
}
