#!/bin/bash
# serving_http_test.sh -- lambda-serving's HTTP edges over raw sockets: request framing (no desync),
# every limit answered with our JSON error, what libmicrohttpd still answers itself, the header
# timeout's 408, one address cannot lock the others out, a burst of 2,000 clients is served,
# and the query-string corner cases.
#
# The server runs with --timeout 2, so the header timeout is 2 s too (guard.h: 5 s or the timeout
# when shorter). Clients bind to other loopback addresses (127.0.0.2, 127.0.x.y) to be other
# clients: Linux routes all of 127/8 to lo.
set -u
BUILD=${BUILD:-build}
cd "$(dirname "$0")/../.." || exit 1
PIPE=datasets/serving/pipeline.json
. tests/integration/harness.sh  # check, eq, ok, fail, finish; SLOW
tmp=$(mktemp -d /tmp/serving_http_test.XXXXXX)
spid=
trap '[ -n "$spid" ] && kill "$spid" 2>/dev/null; wait 2>/dev/null; rm -rf "$tmp"' EXIT
# 1,000 held and 2,000 burst connections, on both sides
ulimit -n 8192 2>/dev/null || ulimit -n "$(ulimit -Hn)"

"$BUILD"/lambda-batch -c "$PIPE" --store "$tmp/store" --until 2026-11-20T12:00:00Z --no-progress \
    datasets/serving/events.jsonl 2>"$tmp/batch.log" || fail "lambda-batch run"
LAMBDA_MAP_SIZE=64Q "$BUILD"/lambda-serving -c "$PIPE" --store "$tmp/store" --check-config \
    >/dev/null 2>"$tmp/mapsize.err"
eq "a bad LAMBDA_MAP_SIZE is a usage error" "$? $(head -c 31 "$tmp/mapsize.err")" \
    "2 lambda-serving: LAMBDA_MAP_SIZE"
"$BUILD"/lambda-serving -c "$PIPE" --store "$tmp/store" --listen 127.0.0.1:0 --timeout 2 \
    --port-file "$tmp/port" 2>"$tmp/serving.log" &
spid=$!
check "lambda-serving listening" wait_until 10 test -s "$tmp/port"

export PORT SLOW COUNTS=$tmp/counts
PORT=$(cat "$tmp/port")
python3 - <<'PYEOF' || fail "the raw-socket checks ran to their end"
import json, os, selectors, socket, sys, threading, time
sys.path.insert(0, "tests/integration")
from harness import check  # noqa: E402

PORT, SLOW = int(os.environ["PORT"]), float(os.environ["SLOW"])
HEADER = 2.0                    # --timeout 2: the header and the idle timeout
PER_IP = 64                     # serving.max_connections_per_ip's default
HOST = b"Host: t\r\n"


def dial(src="127.0.0.1", timeout=5.0):
    s = socket.socket()
    s.bind((src, 0))
    s.settimeout(timeout * SLOW)
    s.connect(("127.0.0.1", PORT))
    return s


def drain(s):
    """Bytes the server sends until it closes: (bytes, closed, seconds)."""
    out, t0 = b"", time.time()
    try:
        while True:
            b = s.recv(65536)
            if not b:
                return out, True, time.time() - t0
            out += b
    except ConnectionResetError:
        return out, True, time.time() - t0
    except socket.timeout:
        return out, False, time.time() - t0


def exchange(data, src="127.0.0.1"):
    s = dial(src)
    try:
        s.sendall(data)
    except OSError:
        pass                    # refused mid-send: what it said is still there
    out, closed, _ = drain(s)
    s.close()
    return out, closed


def answers(out, head=False):
    """The responses in a byte stream: [(status, headers, body)], framed by Content-Length."""
    res = []
    while out.startswith(b"HTTP/1.1 "):
        end = out.find(b"\r\n\r\n")
        if end < 0:
            break
        lines = out[:end].decode("latin1").split("\r\n")
        hdrs = {k.strip().lower(): v.strip() for k, v in
                (ln.split(":", 1) for ln in lines[1:] if ":" in ln)}
        n = 0 if head else int(hdrs.get("content-length", "0"))
        res.append((int(lines[0][9:12]), hdrs, out[end + 4:end + 4 + n]))
        out = out[end + 4 + n:]
    return res


def error_code(body):
    try:
        return json.loads(body)["error"]["code"]
    except (ValueError, KeyError, TypeError):
        return None


def get(path, src="127.0.0.1"):
    out, _ = exchange(b"GET " + path.encode() + b" HTTP/1.1\r\n" + HOST +
                      b"Connection: close\r\n\r\n", src)
    a = answers(out)
    return (a[0][0], a[0][2]) if a else (None, out)


# ---- framing: one JSON 400 and a close; nothing after it is read as a request --------
second = b"GET /v1/views HTTP/1.1\r\n" + HOST + b"\r\n"
ok_req = b"GET /healthz HTTP/1.1\r\n" + HOST + b"\r\n"
cases = [
    ("Content-Length 0 and N, N bytes of another request after it",
     b"GET /healthz HTTP/1.1\r\n" + HOST + b"Content-Length: 0\r\nContent-Length: %d\r\n\r\n"
     % len(second) + second, 400, False),
    ("the same Content-Length twice",
     b"GET /healthz HTTP/1.1\r\n" + HOST + b"Content-Length: 0\r\nContent-Length: 0\r\n\r\n"
     + second, 400, False),
    ("a body on a GET", b"GET /healthz HTTP/1.1\r\n" + HOST + b"Content-Length: %d\r\n\r\n"
     % len(second) + second, 400, False),
    ("Transfer-Encoding on a GET", b"GET /healthz HTTP/1.1\r\n" + HOST +
     b"Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n" + second, 400, False),
    ("Transfer-Encoding and Content-Length", b"GET /healthz HTTP/1.1\r\n" + HOST +
     b"Content-Length: 0\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n" + second, 400, False),
    ("a space before a field's colon", b"GET /healthz HTTP/1.1\r\n" + HOST +
     b"Content-Length : %d\r\n\r\n" % len(second) + second, 400, False),
    ("a body on a HEAD", b"HEAD /healthz HTTP/1.1\r\n" + HOST + b"Content-Length: %d\r\n\r\n"
     % len(second) + second, 400, True),
    ("a POST", b"POST /healthz HTTP/1.1\r\n" + HOST + b"Content-Length: 3\r\n\r\nabc" + second,
     405, False),
    ("a 40 KB URL", b"GET /healthz?x=" + b"a" * 40000 + b" HTTP/1.1\r\n" + HOST + b"\r\n" + second,
     414, False),
    ("20 KB of header fields", b"GET /healthz HTTP/1.1\r\n" + HOST + b"X-Big: " + b"b" * 20000 +
     b"\r\n\r\n" + second, 431, False),
    ("150 header fields", b"GET /healthz HTTP/1.1\r\n" + HOST +
     b"".join(b"X-F%d: v\r\n" % i for i in range(150)) + b"\r\n" + second, 431, False),
]
for what, data, code, head in cases:
    out, closed = exchange(data)
    a = answers(out, head)
    got = [(st, None if head else error_code(body)) for st, _, body in a]
    want = [(code, None if head else code)]
    check(got == want and closed, "%s: %d%s, then closed" % (what, code, "" if head else " JSON"),
          "answers %r, closed %r: %r" % (got, closed, out[:300]))

# The same request line, kept alive, is answered (the checks above are not blanket refusals).
out, _ = exchange(ok_req + b"GET /healthz HTTP/1.1\r\n" + HOST + b"Content-Length: 0\r\n"
                  b"Connection: close\r\n\r\n")
check([x[0] for x in answers(out)] == [200, 200], "two sound requests on one connection: 200 200",
      out[:300])

# ---- what libmicrohttpd 0.9.75 answers itself (http.h): not JSON, but no desync ----------
for what, data, code in [
        ("Content-Length: -1", b"GET /healthz HTTP/1.1\r\n" + HOST +
         b"Content-Length: -1\r\n\r\n" + second, 400),
        ("a Content-Length beyond 2^64", b"GET /healthz HTTP/1.1\r\n" + HOST +
         b"Content-Length: 99999999999999999999999\r\n\r\n" + second, 413),
        ("a 100 KB URL", b"GET /healthz?x=" + b"a" * 100000 + b" HTTP/1.1\r\n" + HOST +
         b"\r\n" + second, 414),
        ("no HTTP version", b"GET /healthz\r\n\r\n" + second, 400)]:
    out, closed = exchange(data)
    check(out.startswith(b"HTTP/1.1 %d " % code) and closed and b" 200 OK" not in out,
          "library: %s: %d, closed, the next request not answered" % (what, code), out[:300])
t0 = time.time()
out, closed = exchange(b"hello\r\n\r\n" + second)
check(out == b"" and closed and time.time() - t0 < SLOW,
      "library: a request line without a space is closed on at once, unanswered", out[:200])

# ---- deadlines: 408 when a request was due, a silent close when idle ----------------------
results = {}


def late(name, first, line, then):
    """Send first (and read one answer if it is a whole request), then line at once and the
    bytes of then one every 0.3 s; record what came after, whether closed, and when."""
    s = dial(timeout=HEADER + 4)
    t0 = time.time()
    if first:
        s.sendall(first)
        if first.endswith(b"\r\n\r\n"):
            buf = b""
            while not answers(buf):
                buf += s.recv(4096)
            t0 = time.time()
    if line:
        s.sendall(line)
    out = b""
    for i in range(len(then)):
        try:
            s.sendall(then[i:i + 1])
        except OSError:
            break
        time.sleep(0.3)
        if time.time() - t0 > HEADER + 3:
            break
    rest, closed, _ = drain(s)
    results[name] = (out + rest, closed, time.time() - t0)
    s.close()


threads = [threading.Thread(target=late, args=a) for a in [
    ("garbage, no line end", b"\x16\x03\x01\x00\xa5\x01\x00\x00", b"", b""),
    ("a connection that sends nothing", b"", b"", b""),
    ("headers a byte at a time after a kept-alive answer", ok_req,
     b"GET /healthz HTTP/1.1\r\n", b"X-Slow: " + b"x" * 30),
    ("idle after a kept-alive answer", ok_req, b"", b"")]]
for t in threads:
    t.start()
for t in threads:
    t.join()
for name, code in [("garbage, no line end", 408), ("a connection that sends nothing", 408),
                   ("headers a byte at a time after a kept-alive answer", 408),
                   ("idle after a kept-alive answer", None)]:
    out, closed, secs = results[name]
    a = answers(out)
    got = [(st, error_code(b)) for st, _, b in a]
    check(got == ([(code, code)] if code else []) and closed and
          HEADER - 0.5 <= secs <= HEADER + 1.5 * SLOW,
          "%s: %s after %.1f s (header timeout %g s)" % (name, "408 JSON" if code else
                                                         "closed unanswered", secs, HEADER),
          "answers %r, closed %r: %r" % (got, closed, out[:300]))

# ---- one address holds 1,000 idle connections; the others are not locked out ------------
held = [dial() for _ in range(1000)]
time.sleep(0.5)


def closed_count():
    n = 0
    for s in held:
        s.setblocking(False)
        try:
            n += s.recv(1, socket.MSG_PEEK) == b""
        except BlockingIOError:
            pass
        except OSError:
            n += 1
    return n


check(closed_count() == 1000 - PER_IP, "1,000 idle connections from 127.0.0.1: all but %d closed at "
      "once (serving.max_connections_per_ip)" % PER_IP, "closed %d" % closed_count())
t0 = time.time()
st, body = get("/healthz", "127.0.0.2")
ms = (time.time() - t0) * 1000
print("figure: /healthz from 127.0.0.2 while 127.0.0.1 holds 1,000 idle connections: %.1f ms" % ms)
check(st == 200 and ms < 500 * SLOW, "another address is answered at once (%.1f ms)" % ms, body)
st, body = get("/healthz", "127.0.0.1")
check(st is None and body == b"", "the holding address gets no more connections", body[:200])
time.sleep(HEADER + 0.8 * SLOW)
st, body = get("/healthz", "127.0.0.1")
check(st == 200, "the holding address is served once the guard cut its idle connections", body)
for s in held:
    s.close()

# ---- a burst of 2,000 clients, each its own address, all served ---------------------------
sel = selectors.DefaultSelector()
req = b"GET /healthz HTTP/1.1\r\n" + HOST + b"Connection: close\r\n\r\n"
t0 = time.time()
for i in range(2000):
    s = socket.socket()
    s.setblocking(False)
    s.bind(("127.0.%d.%d" % (1 + i // 250, 1 + i % 250), 0))
    try:
        s.connect(("127.0.0.1", PORT))
    except BlockingIOError:
        pass
    sel.register(s, selectors.EVENT_WRITE, [b"", time.time(), False])
left, lat, bad = 2000, [], []
while left and time.time() - t0 < 20 * SLOW:
    for key, _ in sel.select(1):
        s, st = key.fileobj, key.data
        try:
            if not st[2]:
                s.send(req)
                st[2] = True
                sel.modify(s, selectors.EVENT_READ, st)
                continue
            b = s.recv(65536)
        except OSError as e:
            b, st[0] = b"", st[0] + repr(e).encode()
        if b:
            st[0] += b
            continue
        sel.unregister(s)
        s.close()
        left -= 1
        a = answers(st[0])
        if a and a[0][0] == 200 and a[0][2] == b'{"status":"ok"}\n':
            lat.append((time.time() - st[1]) * 1000)
        else:
            bad.append(st[0][:80])
lat.sort()
print("figure: burst of 2,000 clients: %d served, p50 %.0f ms, max %.0f ms, %.2f s in all"
      % (len(lat), lat[len(lat) // 2] if lat else -1, lat[-1] if lat else -1, time.time() - t0))
check(len(lat) == 2000, "a burst of 2,000 clients, each its own address: every one served",
      "served %d, unfinished %d, first failure %r" % (len(lat), left, bad[:1]))

# ---- query strings --------------------------------------------------------------------
plain = get("/v1/views/by_customer/total?customer=Ali")
check(plain[0] == 200 and get("/v1/views/by_customer/total?&customer=Ali&&") == plain,
      "empty segments (a leading or doubled '&') are skipped", plain)
st, body = get("/v1/views/by_customer/total?=5&customer=Ali")
check(st == 400 and b"a parameter without a name" in body, "a parameter without a name is named so",
      body)
for q in ("n=%205", "n=5%20", "n=+5", "n=5.0"):
    st, body = get("/v1/views/by_customer/top?metric=orders&" + q)
    check(st == 400 and error_code(body) == 400 and json.loads(body)["error"]["parameter"] == "n",
          "top %s: 400 on n (decimal digits only, nothing trimmed)" % q, body)
st, body = get("/v1/views/by_customer/top?metric=orders&n=5")
check(st == 200 and json.loads(body)["n"] == 5, "top n=5: 200", body)

import harness  # noqa: E402
with open(os.environ["COUNTS"], "w") as f:
    f.write("%d %d\n" % (harness.passed, harness.failed))
PYEOF
read -r p f <"$tmp/counts" 2>/dev/null && passed=$((passed + p)) && failed=$((failed + f))

kill -TERM "$spid"
wait "$spid"
eq "SIGTERM exits 0" "$?" 0
spid=
check "no sanitizer or crash report in the server log" \
    test -z "$(grep -E 'AddressSanitizer|LeakSanitizer|runtime error' "$tmp/serving.log")"
finish
