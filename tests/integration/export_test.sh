#!/bin/bash
# export_test.sh -- GET /v1/views/NAME/export over real HTTP, and computed outputs: every group's
# lines equal its series answer, CSV (RFC 4180, read by python3's csv) equals NDJSON, group filters,
# from/to/step/window, errors; /total's outputs against python3's Decimal over the events; a
# 1M-row view exported while /proc/PID/status is sampled (bounded memory) and while a batch
# publish lands (the whole body comes from the snapshot taken when the request came).
set -u
BUILD=${BUILD:-build}
cd "$(dirname "$0")/../.." || exit 1
tmp=$(mktemp -d /tmp/export_test.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
BUILD=$BUILD TMP=$tmp python3 - <<'PYEOF'
import atexit, csv, datetime, http.client, io, json, os, re, subprocess, sys, threading, time
import urllib.parse
from decimal import Decimal, ROUND_HALF_UP

sys.path.insert(0, "tests/integration")
from harness import check, finish   # noqa: E402

BUILD, TMP = os.environ["BUILD"], os.environ["TMP"]
SANITIZED = os.environ.get("LAMBDA_SANITIZED", "0") not in ("", "0")
SLOW = int(os.environ.get("LAMBDA_SLOW") or (3 if SANITIZED else 1))
CUTOFF, WM = "2026-11-20T12:00:00Z", "2026-11-20T16:00:00Z"
procs = []
atexit.register(lambda: [p.kill() for p in procs if p.poll() is None])


def epoch(s):
    try:
        return int(datetime.datetime.fromisoformat(s.replace("Z", "+00:00")).timestamp())
    except (ValueError, AttributeError, TypeError):
        return None


def run(*argv):
    r = subprocess.run(argv, capture_output=True, text=True)
    if r.returncode != 0:
        print(r.stderr)
    return r.returncode


def serve(pipe, name, *args):
    port_file = os.path.join(TMP, name + ".port")
    p = subprocess.Popen([BUILD + "/lambda-serving", "-c", pipe, "--listen", "127.0.0.1:0",
                          "--port-file", port_file] + list(args),
                         stderr=open(os.path.join(TMP, name + ".log"), "w"))
    procs.append(p)
    for _ in range(200 * SLOW):
        if os.path.exists(port_file) and os.path.getsize(port_file) > 0:
            return p, int(open(port_file).read())
        time.sleep(0.05)
    sys.exit("lambda-serving did not start")


def get(port, path, method="GET"):
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=30 * SLOW)
    c.request(method, path)
    r = c.getresponse()
    body = r.read()
    c.close()
    return r.status, r.getheader("Content-Type") or "", body.decode()


def jtext(s):
    """JSON with numbers kept as their text (12.50 stays "12.50")."""
    return json.loads(s, parse_float=str, parse_int=str)


# ---- a store: the serving fixture, three awkward keys, batch below the cutoff, speed above ----
events = os.path.join(TMP, "events.jsonl")
extra = [{"customer": 'a,"b"\nc', "country": "F,R", "amount": 1.5, "ts": "2026-11-19T10:00:00Z"},
         {"customer": 'a,"b"\nc', "amount": 2.25, "ts": "2026-11-20T13:10:00Z"},
         {"customer": "x\r\ny", "country": "FR", "amount": 7, "ts": "2026-11-20T11:20:00Z"},
         {"customer": "one", "country": "FR", "amount": 0, "ts": "2026-11-19T11:00:00Z"}]
with open(events, "w") as f:
    f.write(open("datasets/serving/events.jsonl").read())
    for e in extra:
        f.write(json.dumps(e) + "\n")
store = os.path.join(TMP, "store")
pipe = os.path.join(TMP, "pipe.json")
OUTPUTS = {"spread": "max_order - min_order", "per": "revenue / (orders - 1)",
           "ratio": "max_order / min_order",
           "size": "case(avg_order > 150, 'big', avg_order < 100, 'small', 'mid')",
           "half": "case(orders > 1, spread / 2, -1)"}
json.dump({"name": "export", "store": store,
           "event": {"time": "ts", "fields": {"customer": "string",
                                              "country": {"type": "string", "required": False},
                                              "amount": {"type": "decimal", "scale": 2, "min": 0}}},
           "views": {"by_customer": {"group_by": ["customer"], "granularity": "1h",
                                     "metrics": {"orders": "count", "revenue": "sum(amount)",
                                                 "avg_order": "avg(amount)", "max_order": "max(amount)",
                                                 "min_order": "min(amount)"},
                                     "outputs": OUTPUTS},
                     "by_cc": {"group_by": ["country", "customer"], "granularity": "10m",
                               "metrics": {"orders": "count", "revenue": "sum(amount)"},
                               "outputs": {"mean": "revenue / orders"}},
                     "totals": {"group_by": [], "granularity": "10m",
                                "metrics": {"orders": "count", "revenue": "sum(amount)"}}}},
          open(pipe, "w"))
check(run(BUILD + "/lambda-batch", "-c", pipe, "--until", CUTOFF, "--no-progress", events) == 0,
      "lambda-batch publishes the events before the cutoff")
speed_events = os.path.join(TMP, "speed.jsonl")
with open(speed_events, "w") as f:
    for line in open(events):
        try:
            t = epoch(json.loads(line).get("ts"))
        except (ValueError, AttributeError):
            continue
        if t is not None and t >= epoch(CUTOFF) - 7200:
            f.write(line)
check(run(BUILD + "/tests/integration/speedfill", "-c", pipe, "--watermark", WM, speed_events) == 0,
      "speedfill writes the speed rows (from two hours before the cutoff)")
srv, port = serve(pipe, "small")

# ---- outputs: /total against python3's Decimal over the valid events --------------------------
valid = []
for line in open(events):
    try:
        e = json.loads(line, parse_float=Decimal, parse_int=Decimal)
    except ValueError:
        continue
    a = e.get("amount") if isinstance(e, dict) else None
    if (isinstance(a, Decimal) and a >= 0 and a.as_tuple().exponent >= -2 and
            isinstance(e.get("customer"), str) and epoch(e.get("ts")) is not None):
        valid.append((e["customer"], a, epoch(e["ts"])))

SIX = Decimal("0.000001")


def money(d):
    return None if d is None else str(d.quantize(Decimal("0.01")))


def want_customer(rows):
    n, s = len(rows), sum((a for a in rows), Decimal(0))
    avg = (s / n).quantize(Decimal("0.0001"), ROUND_HALF_UP) if n else None
    hi, lo = (max(rows), min(rows)) if n else (None, None)
    spread = hi - lo if n else None
    return ({"orders": str(n), "revenue": money(s), "avg_order": None if avg is None else str(avg),
             "max_order": money(hi), "min_order": money(lo)},
            {"spread": spread, "per": s / (n - 1) if n != 1 else None,
             "ratio": hi / lo if n and lo != 0 else None,
             "size": "mid" if avg is None else "big" if avg > 150 else "small" if avg < 100 else "mid",
             "half": spread / 2 if n > 1 else Decimal(-1)})


def same_output(got, want):
    """A number printed rounded to 6 decimals (exact when the value has no more), a string, null."""
    if want is None or isinstance(want, str):
        return got == want
    if not isinstance(got, str) or not re.fullmatch(r"-?[0-9]+(\.[0-9]{0,5}[1-9])?", got):
        return False
    if want == want.quantize(SIX):
        return Decimal(got) == want
    return abs(Decimal(got) - want) <= SIX / 2


customers = sorted({c for c, _, _ in valid}) + ["nobody"]
ranges = [("", ""), ("2026-11-19T00:00:00Z", "2026-11-20T13:00:00Z"), ("2026-11-20T11:00:00Z", "")]
for c in customers:
    for frm, to in ranges:
        f, t = epoch(frm) or -10 ** 12, epoch(to) or 10 ** 12
        rows = [a for cc, a, ts in valid if cc == c and f <= ts // 3600 * 3600 < t]
        q = "customer=" + urllib.parse.quote(c) + (frm and "&from=" + frm) + (to and "&to=" + to)
        code, _, body = get(port, "/v1/views/by_customer/total?" + q)
        m = jtext(body).get("metrics", {}) if code == 200 else {}
        wm, wo = want_customer(rows)
        got_m = {k: m.get(k) for k in wm}
        check(code == 200 and got_m == wm and all(same_output(m.get(k), wo[k]) for k in OUTPUTS)
              and list(m)[len(wm):] == list(OUTPUTS),
              "total %r %s: metrics, then outputs computed right" % (c, q.split("&", 1)[1:]),
              "got  %s\nwant %s %s" % (m, wm, wo))
code, _, body = get(port, "/v1/views/by_customer/top?metric=orders&n=100")
tops = jtext(body)["rows"]
check(all(jtext(get(port, "/v1/views/by_customer/total?customer=" + urllib.parse.quote(r["key"]["customer"]))[2])
          ["metrics"] == r["metrics"] for r in tops) and len(tops) == len(customers) - 1,
      "top rows carry the same outputs as total")
code, _, body = get(port, "/v1/views/by_customer/top?metric=spread")
check(code == 400 and "computed output" in jtext(body)["error"]["message"], "top?metric=OUTPUT is a 400", body)
code, _, body = get(port, "/v1/views")
check(jtext(body)["views"][0].get("outputs") == OUTPUTS, "/v1/views lists the outputs", body[:300])

# ---- export = series, group by group ----------------------------------------------------------
GROUPS = {"by_customer": ["customer"], "by_cc": ["country", "customer"], "totals": []}
PARAMS = ["", "step=1d", "from=2026-11-19T05:00:00Z&to=2026-11-20T14:00:00Z&step=2h",
          "window=3h&step=1h&from=2026-11-20T06:00:00Z"]


def key_query(view, key):
    return "".join("&" + urllib.parse.quote(f) + ("" if key[f] is None else "=" + urllib.parse.quote(key[f]))
                   for f in GROUPS[view])


def export(view, params, fmt="ndjson"):
    code, ctype, body = get(port, "/v1/views/%s/export?format=%s&%s" % (view, fmt, params))
    return code, ctype, body


def export_lines(view, params):
    code, ctype, body = export(view, params)
    lines = body.split("\n")
    ok = code == 200 and ctype == "application/x-ndjson" and lines[-1] == ""
    return ok, [jtext(x) for x in lines[:-1]], body


for view in GROUPS:
    for params in PARAMS:
        ok, objs, body = export_lines(view, params)
        groups, order = {}, []
        for o in objs:
            k = json.dumps(o["key"])
            if k not in groups:
                groups[k] = []
                order.append(k)
            groups[k].append({x: o[x] for x in o if x != "key"})
        check(ok and all(list(o)[0] == "key" for o in objs), "export %s %s: %d lines of %d groups"
              % (view, params, len(objs), len(groups)), body[:300])
        check(len(order) == len(set(order)) and sum(len(g) for g in groups.values()) == len(objs)
              and [json.dumps(o["key"]) for o in objs] == sorted([json.dumps(o["key"]) for o in objs],
                                                                   key=order.index),
              "export %s %s: each group's lines together" % (view, params))
        bad = []
        for k, pts in groups.items():
            q = (params + key_query(view, json.loads(k))).lstrip("&")
            code, _, sb = get(port, "/v1/views/%s/series?%s" % (view, q))
            if code != 200 or json.dumps(jtext(sb)["points"]) != json.dumps(pts):
                bad.append((k, code, sb[:200]))
        check(groups and not bad, "export %s %s: every group equals its series answer" % (view, params),
              bad[:2])
        rng = "&".join(p for p in params.split("&") if p.startswith(("from=", "to=")))
        code, _, tb = get(port, "/v1/views/%s/top?metric=orders&n=1000&%s" % (view, rng))
        check(sorted(json.dumps(r["key"]) for r in jtext(tb)["rows"]) == sorted(groups),
              "export %s %s: the groups with rows in the range, all of them" % (view, params))
        if view == "by_customer" and "step=2h" in params:
            check(all(epoch("2026-11-19T05:00:00Z") // 7200 * 7200 <= epoch(o["t"]) < epoch("2026-11-20T14:00:00Z")
                      and epoch(o["t"]) % 7200 == 0 for o in objs),
                  "from/to/step: every t a multiple of 2h inside the range")
    # CSV: the same rows, RFC 4180
    for params in PARAMS[:2]:
        ok, objs, _ = export_lines(view, params)
        code, ctype, text = export(view, params, "csv")
        rows = list(csv.reader(io.StringIO(text, newline="")))
        names = list(objs[0]["metrics"]) if objs else []
        want = [[("" if o["key"][f] is None else o["key"][f]) for f in GROUPS[view]] + [o["t"], o["source"]]
                + [("" if o["metrics"][m] is None else o["metrics"][m]) for m in names] for o in objs]
        check(code == 200 and ctype.startswith("text/csv") and rows[:1] == [GROUPS[view] + ["t", "source"] + names]
              and rows[1:] == want, "csv %s %s: header, then the NDJSON lines' values" % (view, params),
              "%s\n%s" % (rows[:2], want[:1]))
        check(text.count("\r\n") == len(rows) + sum(1 for r in rows for x in r if "\r\n" in x),
              "csv %s %s: CRLF line ends" % (view, params))
code, _, text = export("by_cc", "", "csv")
check('\r\n"F,R","a,""b""\nc",' in text and '\r\nFR,"x\r\ny",' in text and '\r\n,"a,""b""\nc",' in text,
      "csv quotes fields with a comma, a quote, CR or LF and doubles the quotes; null is empty")

# ---- filters: any group_by parameters, all optional -------------------------------------------
_, full, _ = export_lines("by_cc", "step=1d")
for q, keep in [("country=FR", lambda k: k["country"] == "FR"), ("customer=Ali", lambda k: k["customer"] == "Ali"),
                ("country", lambda k: k["country"] is None),
                ("country=F%2CR&customer=a%2C%22b%22%0Ac", lambda k: k == {"country": "F,R", "customer": 'a,"b"\nc'}),
                ("customer=nobody", lambda k: False)]:
    ok, objs, _ = export_lines("by_cc", "step=1d&" + q)
    want = [o for o in full if keep(o["key"])]
    check(ok and objs == want and (want or q == "customer=nobody"), "export by_cc ?%s: the groups that match" % q,
          "%d lines, want %d" % (len(objs), len(want)))

# ---- errors -----------------------------------------------------------------------------------
for path, status, param in [("by_customer/export?format=xml", 400, "format"),
                            ("by_customer/export?frm=1", 400, "frm"),
                            ("by_customer/export?step=7m", 400, "step"),
                            ("by_customer/export?from=2026-11-20T00:00:00Z&to=2026-11-19T00:00:00Z", 400, "to"),
                            ("by_customer/export?customer=a&customer=b", 400, "customer"),
                            ("nope/export", 404, None)]:
    code, ctype, body = get(port, "/v1/views/" + path)
    err = jtext(body).get("error", {}) if ctype == "application/json" else {}
    check(code == status and err.get("code") == str(status) and err.get("parameter") == param,
          "%s: %d with our JSON error" % (path, status), body)
code, ctype, body = get(port, "/v1/views/totals/export", "HEAD")
check(code == 200 and body == "" and ctype == "application/x-ndjson", "HEAD export: headers, no body")
check(re.search(r'route="export",code="200"} [1-9]', get(port, "/metrics")[2]) is not None,
      "/metrics counts export requests")
srv.terminate()
check(srv.wait() == 0, "lambda-serving stops cleanly (exit 0)")

# ---- a big view: bounded memory, one snapshot ---------------------------------------------------
N = 100000 if SANITIZED else 1000000
big = os.path.join(TMP, "big.jsonl")


def big_events(add):
    with open(big if add == 0 else big + ".v2", "w") as f:
        for i in range(0, N, 10000):
            f.write("".join('{"id":"k%07d","v":%d,"ts":1700000000}\n' % (j, j % 97 + add)
                            for j in range(i, min(N, i + 10000))))


big_events(0)
big_events(1000)    # the next version's, published during an export
bpipe = os.path.join(TMP, "big.json")
json.dump({"name": "big", "store": os.path.join(TMP, "bigstore"),
           "event": {"time": "ts", "fields": {"id": "string", "v": "int"}},
           "views": {"by_id": {"group_by": ["id"], "granularity": "1d",
                               "metrics": {"n": "count", "s": "sum(v)"}, "outputs": {"x": "s / n"}}}},
          open(bpipe, "w"))
t0 = time.time()
check(run(BUILD + "/lambda-batch", "-c", bpipe, "--until", "2023-11-15T00:00:00Z", "--no-progress", big) == 0,
      "lambda-batch publishes %d groups (%.1f s)" % (N, time.time() - t0))
srv, port = serve(bpipe, "big", "--timeout", "120")  # the reader pauses while a publish runs


def status(pid):
    s = {}
    for line in open("/proc/%d/status" % pid):
        k, _, v = line.partition(":")
        if k in ("VmRSS", "RssAnon"):
            s[k] = int(v.split()[0])
    return s


class Sampler(threading.Thread):
    def __init__(self):
        super().__init__(daemon=True)
        self.top, self.stop = status(srv.pid), threading.Event()
        self.base = dict(self.top)

    def run(self):
        while not self.stop.is_set():
            for k, v in status(srv.pid).items():
                self.top[k] = max(self.top[k], v)
            time.sleep(0.02)

    def growth(self):
        self.stop.set()
        self.join()
        return {k: self.top[k] - self.base[k] for k in self.top}


def stream(pause_after=None, during=None):
    """Read an export in 64 KiB blocks; returns (lines, lines of version 2, first line)."""
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=60 * SLOW)
    c.request("GET", "/v1/views/by_id/export")
    r = c.getresponse()
    n = v2 = got = 0
    tail = first = b""
    while True:
        b = r.read(65536)
        if not b:
            break
        got += len(b)
        n += b.count(b"\n")
        v2 += sum(1 for m in re.finditer(rb'"s":[0-9]{4}', tail + b) if m.end() > len(tail))
        tail = b[-16:]
        first = first or b.split(b"\n", 1)[0]
        if pause_after is not None and got >= pause_after and during is not None:
            during()
            during = None
    c.close()
    return n, v2, first.decode()


smp = Sampler()
smp.start()
t0 = time.time()
n, v2, first = stream()
g = smp.growth()
print("     cold export: %d lines in %.2f s; growth VmRSS %d kB (with the store pages it maps), RssAnon %d kB"
      % (n, time.time() - t0, g["VmRSS"], g["RssAnon"]))
check(n == N and first == '{"key":{"id":"k0000000"},"t":"2023-11-14T00:00:00Z","source":"batch",'
      '"metrics":{"n":1,"s":0,"x":0}}', "export of %d groups, every line" % N, first)
if not SANITIZED:   # ASan's quarantine keeps freed memory: no bound to check there
    check(g["RssAnon"] < 4096, "the cold export grows the server's own memory (RssAnon) by under 4 MB",
          g)
seen = {}


def publish_v2():
    seen["rc"] = run(BUILD + "/lambda-batch", "-c", bpipe, "--until", "2023-11-15T00:00:00Z", "--no-progress",
                     big + ".v2")
    seen["version"] = jtext(get(port, "/v1/views")[2])["views"][0]["batch"]["version"]
    seen["total"] = jtext(get(port, "/v1/views/by_id/total?id=k0000001")[2])["metrics"]["s"]


smp = Sampler()
smp.start()
n, v2, _ = stream(pause_after=1 << 20, during=publish_v2)
g = smp.growth()
print("     warm export with a publish midway: growth VmRSS %d kB, RssAnon %d kB" % (g["VmRSS"], g["RssAnon"]))
check(seen.get("rc") == 0 and seen.get("version") == "2" and seen.get("total") == "1001",
      "a publish lands while the export is under way (new requests see version 2)", seen)
check(n == N and v2 == 0, "the export stays on the version of its snapshot: %d lines, %d from version 2"
      % (n, v2))
if not SANITIZED:
    check(g["VmRSS"] < 4096 and g["RssAnon"] < 4096,
          "a warm export of %d groups grows VmRSS and RssAnon by under 4 MB" % N, g)
n, v2, _ = stream()
check(n == N and v2 == N, "the next export reads version 2")
srv.terminate()
check(srv.wait() == 0, "lambda-serving stops cleanly after the exports (exit 0)")

# a stop during an export: cut after serving.timeout, the snapshot ended before the store closes
srv, port = serve(bpipe, "stop", "--timeout", "1")
c = http.client.HTTPConnection("127.0.0.1", port, timeout=30 * SLOW)
c.request("GET", "/v1/views/by_id/export")
r = c.getresponse()
got = len(r.read(65536))
t0 = time.time()
srv.terminate()
time.sleep(1.5)     # not reading: the server stops with most of the body unsent
try:
    while True:
        b = r.read(65536)
        if not b:
            break
        got += len(b)
except (http.client.HTTPException, OSError):
    pass
rc = srv.wait()
check(rc == 0 and time.time() - t0 < 5 * SLOW and got < N * 50,
      "SIGTERM during an export: exit 0 after serving.timeout, the body cut short (%d bytes, %.1f s)"
      % (got, time.time() - t0), rc)
finish()
PYEOF
