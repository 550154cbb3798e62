/* serving_slowloris.c -- test helper: clients that send their headers a byte at a time */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

/*
 * usage: serving_slowloris PORT CONNS INTERVAL_MS SECONDS
 *
 * Opens CONNS connections and, on each, sends a request line and then a
 * header one byte every INTERVAL_MS, never finishing it, for at most
 * SECONDS. A connection the server closes (end of file, reset, or a failed
 * send) counts as cut, with the time since it opened. Prints
 *     cut=N alive=N max_cut_ms=X
 */

#define MAXC 256

static double
now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1000 + (double)ts.tv_nsec / 1e6;
}

int
main(int argc, char **argv)
{
    int fd[MAXC], n, interval, cut = 0, alive = 0;
    double start[MAXC], cutat[MAXC], until, max_cut = 0;
    const char *line = "GET /healthz HTTP/1.1\r\nHost: slow\r\nX-Slow: ";

    if (argc != 5) {
        fprintf(stderr, "usage: serving_slowloris PORT CONNS INTERVAL_MS "
            "SECONDS\n");
        return 2;
    }
    n = atoi(argv[2]);
    interval = atoi(argv[3]);
    until = now_ms() + atof(argv[4]) * 1000;
    if (n < 1 || n > MAXC)
        n = 1;
    for (int i = 0; i < n; i++) {
        struct sockaddr_in a;

        memset(&a, 0, sizeof(a));
        a.sin_family = AF_INET;
        a.sin_port = htons((unsigned short)atoi(argv[1]));
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        fd[i] = socket(AF_INET, SOCK_STREAM, 0);
        start[i] = now_ms();
        cutat[i] = -1;
        if (fd[i] < 0 ||
            connect(fd[i], (struct sockaddr *)&a, sizeof(a)) != 0 ||
            send(fd[i], line, strlen(line), MSG_NOSIGNAL) < 0)
            cutat[i] = 0;
    }
    /* the connections are in the server's accept queue, ahead of any later
     * client: a test waits for this line instead of sleeping */
    fprintf(stderr, "connected=%d\n", n);
    while (now_ms() < until) {
        int left = 0;

        for (int i = 0; i < n; i++) {
            struct pollfd p = {fd[i], POLLIN, 0};
            char c;

            if (cutat[i] >= 0)
                continue;
            /* the server closed it: readable with end of file or error */
            if ((poll(&p, 1, 0) > 0 && recv(fd[i], &c, 1, MSG_DONTWAIT) <= 0)
                || send(fd[i], "x", 1, MSG_NOSIGNAL) != 1) {
                cutat[i] = now_ms() - start[i];
                continue;
            }
            left++;
        }
        if (left == 0)
            break;
        usleep((useconds_t)interval * 1000);
    }
    for (int i = 0; i < n; i++) {
        if (cutat[i] >= 0) {
            cut++;
            if (cutat[i] > max_cut)
                max_cut = cutat[i];
        } else {
            alive++;
        }
        if (fd[i] >= 0)
            close(fd[i]);
    }
    printf("cut=%d alive=%d max_cut_ms=%.0f\n", cut, alive, max_cut);
    return 0;
}
