/* http.h -- the libmicrohttpd daemon: routes, limits, token, CORS, accounting */
#ifndef SERVING_HTTP_H
#define SERVING_HTTP_H

#include "serving/serving.h"

/*
 * Threading: libmicrohttpd's internal thread pool (serving.threads threads,
 * epoll on Linux), each thread answering its own connections. Handlers run
 * in those threads; each answer reads one store snapshot.
 *
 * Limits: request line and headers must fit HTTP_POOL bytes per connection
 * (libmicrohttpd answers 414 or 431 itself beyond that); a URL longer than
 * HTTP_URI_MAX gets our 414; a request body gets 413; at most
 * serving.max_connections connections; a request must arrive whole within
 * serving.timeout seconds (guard.h), and an idle connection is closed after
 * that long.
 */

#define HTTP_URI_MAX 8192
#define HTTP_POOL (32 * 1024)

/*
 * Start listening on sv->p->serving.listen ("ADDR:PORT", "[::1]:PORT";
 * port 0 picks a free port) and answering. Fills sv->daemon, sv->port and
 * sv->url. The caller must have blocked the signals it waits for, so the
 * daemon's threads inherit the mask. Returns 0, or -1 with err.
 */
int http_start(struct serving *sv, char *err);

/*
 * Stop: close the listening socket (new connections are refused), wait up
 * to wait_ms for the requests in flight to be answered, then stop the
 * threads and close every connection. NULL daemon is a no-op.
 */
void http_stop(struct serving *sv, int wait_ms);

#endif
