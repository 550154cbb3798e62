/* http.h -- the libmicrohttpd daemon: routes, limits, token, CORS, accounting */
#ifndef SERVING_HTTP_H
#define SERVING_HTTP_H

#include "serving/serving.h"

/*
 * Threading: libmicrohttpd's internal thread pool (serving.threads threads,
 * epoll on Linux), each thread answering its own connections. Handlers run
 * in those threads; each answer reads one store snapshot.
 *
 * Limits, each answered with our JSON error before anything else of the
 * request is looked at, and the connection closed after it:
 *   - a URL longer than HTTP_URI_MAX: 414;
 *   - a request line and header fields longer than HTTP_HEAD_MAX, or more
 *     than HTTP_FIELDS_MAX fields: 431;
 *   - a body, or doubt about where the request ends (RFC 9112 §6.3: more
 *     than one Content-Length, both Content-Length and Transfer-Encoding,
 *     a field name that is not a token): 400;
 *   - a method other than GET, HEAD (and OPTIONS with CORS): 405.
 * At most serving.max_connections connections, serving.max_connections_per_ip
 * of them from one address (more are closed at once, unanswered); the
 * deadlines of guard.h (a request whole within the header timeout, an idle
 * connection closed after serving.timeout).
 *
 * What libmicrohttpd 0.9.75 answers itself, before any handler runs, with
 * its own short HTML body that no option replaces, and then closes:
 *   - a request line and header fields that do not fit its connection
 *     memory (HTTP_POOL: about 65,200 bytes of them, or about 900 short
 *     fields): 414 while in the request line, else 431. In the few hundred
 *     bytes just below that, there is no room left for our answer either:
 *     the connection is closed unanswered, or cut by the guard with its
 *     408;
 *   - a request line without an HTTP version, or a header line without a
 *     colon: 400; HTTP/0.x or HTTP/2 and later: 505;
 *   - a Content-Length that is not digits ("-1"): 400; one beyond 2^64: 413;
 *     both send the status line and headers twice (a libmicrohttpd bug)
 *     and close, so nothing after them is read as a request.
 * A request line without a space is closed on unanswered.
 */

#define HTTP_URI_MAX 8192
#define HTTP_HEAD_MAX (16 * 1024)
#define HTTP_FIELDS_MAX 100
#define HTTP_POOL (64 * 1024)

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
