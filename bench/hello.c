/* hello.c -- benchmark baseline: libmicrohttpd hello world, threaded like lambda-serving */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <microhttpd.h>

/*
 * usage: hello [PORT [THREADS [BYTES]]]   (PORT 0 picks a free one; prints it)
 *
 * Answers every GET with the same 100-byte JSON body (or a JSON body of
 * BYTES bytes, to measure the cost of moving a large answer), using the daemon
 * flags and options lambda-serving uses (internal thread pool, epoll, ITC,
 * connection limit, timeout, memory limit) and the same trick of queuing
 * on the second handler call, so the two differ only in the work behind
 * the answer.
 */

static const char body[] =
    "{\"view\":\"hello\",\"key\":{\"customer\":\"c00042\"},\"metrics\":"
    "{\"orders\":42,\"revenue\":1234.56,\"pad\":\"xxxx\"}}\n";

static const char *page = body;
static size_t pagelen = sizeof(body) - 1;

static enum MHD_Result
on_request(void *cls, struct MHD_Connection *c, const char *url,
    const char *method, const char *version, const char *upload,
    size_t *upload_size, void **con_cls)
{
    static int first;
    struct MHD_Response *r;
    enum MHD_Result ret;

    (void)cls;
    (void)url;
    (void)method;
    (void)version;
    (void)upload;
    (void)upload_size;
    if (*con_cls == NULL) {
        *con_cls = &first;
        return MHD_YES;
    }
    r = MHD_create_response_from_buffer(pagelen, (void *)page,
        MHD_RESPMEM_PERSISTENT);
    if (r == NULL)
        return MHD_NO;
    (void)MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE,
        "application/json");
    ret = MHD_queue_response(c, MHD_HTTP_OK, r);
    MHD_destroy_response(r);
    return ret;
}

int
main(int argc, char **argv)
{
    struct sockaddr_in a;
    struct MHD_Daemon *d;
    const union MHD_DaemonInfo *di;
    socklen_t len = sizeof(a);
    unsigned threads = argc > 2 ? (unsigned)atoi(argv[2]) : 2;
    sigset_t sigs;
    int sig;

    _Static_assert(sizeof(body) - 1 == 100, "the body is 100 bytes");
    if (argc > 3 && atoi(argv[3]) > 20) {
        char *p;

        pagelen = (size_t)atoi(argv[3]);
        page = p = malloc(pagelen);
        if (p == NULL)
            return 1;
        memset(p, ' ', pagelen);
        memcpy(p, "{\"pad\":\"", 8);
        memcpy(p + pagelen - 3, "\"}\n", 3);
    }
    memset(&a, 0, sizeof(a));
    a.sin_family = AF_INET;
    a.sin_port = htons((unsigned short)(argc > 1 ? atoi(argv[1]) : 0));
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    sigemptyset(&sigs);
    sigaddset(&sigs, SIGTERM);
    sigaddset(&sigs, SIGINT);
    pthread_sigmask(SIG_BLOCK, &sigs, NULL);
    d = MHD_start_daemon(MHD_USE_AUTO_INTERNAL_THREAD | MHD_USE_ITC |
        MHD_USE_ERROR_LOG, 0, NULL, NULL, on_request, NULL,
        MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&a,
        MHD_OPTION_THREAD_POOL_SIZE, threads,
        MHD_OPTION_CONNECTION_LIMIT, 1024u,
        MHD_OPTION_CONNECTION_TIMEOUT, 10u,
        MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)(32 * 1024),
        MHD_OPTION_END);
    if (d == NULL) {
        fprintf(stderr, "hello: cannot start the daemon\n");
        return 1;
    }
    di = MHD_get_daemon_info(d, MHD_DAEMON_INFO_LISTEN_FD);
    if (di == NULL || getsockname(di->listen_fd, (struct sockaddr *)&a,
        &len) != 0)
        return 1;
    printf("%d\n", ntohs(a.sin_port));
    fflush(stdout);
    (void)sigwait(&sigs, &sig);
    MHD_stop_daemon(d);
    return 0;
}
