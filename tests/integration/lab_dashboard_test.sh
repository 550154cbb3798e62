#!/bin/bash
# lab_dashboard_test.sh -- the dashboard at / in a real headless browser (Debian's chromium),
# driven over the DevTools protocol by a small client written here (Python standard library,
# no npm): against `make demo` (scripts/demo.sh) the page loads with no console errors, shows
# the numbers the API gives, colours buckets by source, and updates after new events.
# Screenshots are kept in "$BUILD"/artifacts/dashboard.png and dashboard-7d.png.
set -u
cd "${LAMBDA_TOP:-$(dirname "$0")/../..}" || exit 1
BUILD=${BUILD:-build}
case $BUILD in /*) ;; *) BUILD=$PWD/$BUILD ;; esac
export BUILD
if ! command -v chromium >/dev/null 2>&1; then
    echo "FAIL: chromium is not installed (apt-get install chromium; scripts/deps.sh does)"
    echo "0 passed, 1 failed"
    exit 1
fi
work=$(mktemp -d /tmp/lab_dashboard.XXXXXX)
. "$(dirname "$0")/lab_lib.sh"   # start_demo
start_demo DEMO_RATE=30
mkdir -p "$BUILD/artifacts"
WORK=$work DEMO=$work/demo ARTIFACTS=$BUILD/artifacts /usr/bin/python3 - <<'PYEOF'
import base64, json, os, re, socket, struct, subprocess, time, urllib.request

class CDP:
    """A minimal Chrome DevTools Protocol client over a hand-written WebSocket."""
    def __init__(self, ws_url):
        assert ws_url.startswith("ws://")
        hostport, path = ws_url[5:].split("/", 1)
        host, port = hostport.split(":")
        self.sock = socket.create_connection((host, int(port)), timeout=30)
        key = base64.b64encode(os.urandom(16)).decode()
        req = ("GET /%s HTTP/1.1\r\nHost: %s\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
               "Sec-WebSocket-Key: %s\r\nSec-WebSocket-Version: 13\r\n\r\n" % (path, hostport, key))
        self.sock.sendall(req.encode())
        head = b""
        while b"\r\n\r\n" not in head:
            chunk = self.sock.recv(4096)
            if not chunk:
                raise IOError("websocket handshake: connection closed")
            head += chunk
        head, self.buf = head.split(b"\r\n\r\n", 1)
        if b" 101 " not in head.split(b"\r\n")[0]:
            raise IOError("websocket handshake: %r" % head[:200])
        self.next_id = 0
        self.events = []

    def _recv_exact(self, n):
        while len(self.buf) < n:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise IOError("websocket closed")
            self.buf += chunk
        out, self.buf = self.buf[:n], self.buf[n:]
        return out

    def _send_frame(self, opcode, payload):
        head = bytes([0x80 | opcode])
        n = len(payload)
        if n < 126:
            head += bytes([0x80 | n])
        elif n < 65536:
            head += bytes([0x80 | 126]) + struct.pack(">H", n)
        else:
            head += bytes([0x80 | 127]) + struct.pack(">Q", n)
        mask = os.urandom(4)
        masked = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
        self.sock.sendall(head + mask + masked)

    def _recv_message(self):
        data, first_op = b"", None
        while True:
            b0, b1 = self._recv_exact(2)
            fin, op, n = b0 & 0x80, b0 & 0x0F, b1 & 0x7F
            if n == 126:
                n = struct.unpack(">H", self._recv_exact(2))[0]
            elif n == 127:
                n = struct.unpack(">Q", self._recv_exact(8))[0]
            if b1 & 0x80:
                mask = self._recv_exact(4)
                payload = bytes(b ^ mask[i % 4] for i, b in enumerate(self._recv_exact(n)))
            else:
                payload = self._recv_exact(n)
            if op == 9:                     # ping
                self._send_frame(10, payload)
                continue
            if op == 8:
                raise IOError("websocket closed by the browser")
            if op in (1, 2):
                first_op, data = op, payload
            elif op == 0:
                data += payload
            if fin:
                return data.decode()

    def call(self, method, **params):
        self.next_id += 1
        mid = self.next_id
        self._send_frame(1, json.dumps({"id": mid, "method": method, "params": params}).encode())
        while True:
            msg = json.loads(self._recv_message())
            if msg.get("id") == mid:
                if "error" in msg:
                    raise RuntimeError("%s: %s" % (method, msg["error"]))
                return msg.get("result", {})
            if "method" in msg:
                self.events.append(msg)

    def evaluate(self, expr):
        r = self.call("Runtime.evaluate", expression=expr, returnByValue=True, awaitPromise=True)
        if "exceptionDetails" in r:
            raise RuntimeError("evaluate %s: %s" % (expr[:60], r["exceptionDetails"]))
        return r["result"].get("value")

    def pump(self, seconds):
        """Read events for a while (the browser keeps sending them)."""
        end = time.time() + seconds
        self.sock.settimeout(0.2)
        try:
            while time.time() < end:
                try:
                    msg = json.loads(self._recv_message())
                except socket.timeout:
                    continue
                if "method" in msg:
                    self.events.append(msg)
        finally:
            self.sock.settimeout(30)

    def errors(self):
        out = []
        for e in self.events:
            m, p = e["method"], e.get("params", {})
            if m == "Runtime.consoleAPICalled" and p.get("type") in ("error", "assert"):
                out.append("console.%s: %s" % (p["type"], " ".join(str(a.get("value", a.get("description", ""))) for a in p.get("args", []))))
            elif m == "Runtime.exceptionThrown":
                d = p.get("exceptionDetails", {})
                out.append("exception: %s %s" % (d.get("text", ""), d.get("exception", {}).get("description", "")))
            elif m == "Log.entryAdded" and p.get("entry", {}).get("level") == "error":
                out.append("log: %s %s" % (p["entry"].get("text", ""), p["entry"].get("url", "")))
        return out


def launch_chromium(profile, log):
    exe = next((p for p in ("/usr/bin/chromium", "/usr/bin/chromium-browser") if os.path.exists(p)), "chromium")
    args = [exe, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
            "--disable-background-networking", "--disable-component-update", "--disable-sync",
            "--disable-dev-shm-usage", "--hide-scrollbars", "--user-data-dir=" + profile,
            "--remote-debugging-port=0", "--window-size=1280,900", "about:blank"]
    proc = subprocess.Popen(args, stdout=log, stderr=log, start_new_session=True)
    port_file = os.path.join(profile, "DevToolsActivePort")
    deadline = time.time() + 30
    while time.time() < deadline:
        if proc.poll() is not None:
            raise RuntimeError("chromium exited with %s" % proc.returncode)
        if os.path.exists(port_file):
            lines = open(port_file).read().split()
            if len(lines) >= 2:
                port = int(lines[0])
                break
        time.sleep(0.1)
    else:
        raise RuntimeError("chromium: no DevToolsActivePort after 30 s")
    for _ in range(100):
        try:
            targets = json.load(urllib.request.urlopen("http://127.0.0.1:%d/json/list" % port, timeout=5))
            pages = [t for t in targets if t.get("type") == "page"]
            if pages:
                return proc, pages[0]["webSocketDebuggerUrl"]
        except OSError:
            pass
        time.sleep(0.1)
    raise RuntimeError("chromium: no page target")


# ---------------------------------------------------------------------------
import sys
work, demo, artifacts = os.environ["WORK"], os.environ["DEMO"], os.environ["ARTIFACTS"]
url = "http://127.0.0.1:%s" % open(os.path.join(demo, "var/demo/port")).read().strip()
sys.path.insert(0, "tests/integration")
from harness import check, finish   # noqa: E402

def api(path):
    """The answer with every number kept as its text, as the page shows it."""
    with urllib.request.urlopen(url + path, timeout=5) as r:
        return json.loads(r.read().decode(), parse_float=str, parse_int=str)

# the end of the history the demo loaded (moved to end yesterday): live events come after it
cutoff = re.search(r"DEMO_CUTOFF=(\S+)", open(os.path.join(demo, "var/demo/env")).read()).group(1)
def live_orders():
    return int(api("/v1/views/totals/total?from=" + cutoff)["metrics"]["orders"])

def producer(sig):
    pgid = int(open(os.path.join(demo, "var/demo/producer.job")).read())
    os.killpg(pgid, sig)

import signal
# wait for live events, then hold the producer so the page and the API agree
deadline = time.time() + 30
while time.time() < deadline and live_orders() == 0:
    time.sleep(0.3)
check(live_orders() > 0, "live events reach the speed view")
producer(signal.SIGSTOP)
prev, stable = -1, 0
deadline = time.time() + 20
while time.time() < deadline and stable < 3:
    n = live_orders()
    stable = stable + 1 if n == prev else 0
    prev = n
    time.sleep(0.5)

profile = os.path.join(work, "profile")
os.mkdir(profile)
proc, ws = launch_chromium(profile, open(os.path.join(work, "chromium.log"), "w"))
try:
    c = CDP(ws)
    for d in ("Runtime", "Log", "Page"):
        c.call(d + ".enable")
    c.call("Emulation.setDeviceMetricsOverride", width=1280, height=1500, deviceScaleFactor=1, mobile=False)
    c.call("Page.navigate", url=url + "/")

    def polls():
        return c.evaluate("+(document.body && document.body.getAttribute('data-polls') || 0)") or 0
    def wait_polls(n, timeout=20):
        start = polls()
        end = time.time() + timeout
        while time.time() < end and polls() < start + n:
            c.pump(0.25)
        return polls() >= start + n
    check(wait_polls(2), "the page polls the API (2 rounds)")
    check(c.evaluate("document.getElementById('status-text').textContent").startswith("live"),
          "status says live")

    # every number on the page is the API's
    views = api("/v1/views")["views"]
    dom = c.evaluate("""JSON.stringify(Array.from(document.querySelectorAll('[data-view][data-metric]')).map(
        e => [e.dataset.view, e.dataset.key === undefined ? null : e.dataset.key, e.dataset.metric, e.textContent]))""")
    dom = json.loads(dom)
    check(len(dom) > 20, "the page shows totals and top groups (%d numbers)" % len(dom))
    mism = []
    for v in views:
        name = v["name"]
        first = list(v["metrics"])[0]
        chart = next((m for m, d in v["metrics"].items() if d.startswith("sum(")), first)
        if v["group_by"]:
            rows = api("/v1/views/%s/top?n=1000&metric=%s" % (name, chart))["rows"]
            for r in rows[:8]:
                key = " / ".join("(none)" if x is None else str(x) for x in r["key"].values())
                for m, val in r["metrics"].items():
                    shown = [t for (vv, k, mm, t) in dom if vv == name and k == key and mm == m]
                    if shown != [val]:
                        mism.append((name, key, m, val, shown))
        else:
            tot = api("/v1/views/%s/total" % name)["metrics"]
            for m, val in tot.items():
                shown = [t for (vv, k, mm, t) in dom if vv == name and k is None and mm == m]
                if shown != [val]:
                    mism.append((name, None, m, val, shown))
    check(not mism, "every total and top-group number equals the API's text: %s" % mism[:5])
    b = views[0]["batch"]
    check(c.evaluate("document.getElementById('batch-version').textContent") == str(b["version"]),
          "batch version shown (%s)" % b["version"])
    check(c.evaluate("document.getElementById('batch-cutoff').textContent").startswith(b["cutoff"][:10]),
          "batch cutoff shown (%s)" % b["cutoff"])
    rej = c.evaluate("document.getElementById('rejects-total').textContent")
    metrics = urllib.request.urlopen(url + "/metrics", timeout=5).read().decode()
    want = [l.split()[-1] for l in metrics.splitlines() if l.startswith("lambda_speed_rejected ")]
    check(want and rej == want[0] and int(rej) > 0, "speed rejects shown (%s, /metrics %s)" % (rej, want))

    # the chart: live buckets in the last 15 minutes come from speed
    legend = json.loads(c.evaluate("""JSON.stringify(Array.from(document.querySelectorAll(
        '#view-totals .legend [data-source]')).map(e => [e.dataset.source, +e.dataset.count]))"""))
    bars = json.loads(c.evaluate("""JSON.stringify(Array.from(document.querySelectorAll(
        '#view-totals svg rect')).map(e => [e.dataset.source, e.getAttribute('fill')]))"""))
    check(dict(legend).get("speed", 0) > 0, "totals chart, last 15 min: speed buckets (%s)" % legend)
    check(all(f == "var(--%s)" % s for s, f in bars) and len(bars) == sum(dict(legend).values()),
          "every bar is coloured by its source (%d bars)" % len(bars))
    shot = c.call("Page.captureScreenshot", format="png", captureBeyondViewport=True)
    png = base64.b64decode(shot["data"])
    open(os.path.join(artifacts, "dashboard.png"), "wb").write(png)
    check(png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 20000, "screenshot saved (%d bytes)" % len(png))

    # new events: the page follows
    before = int(c.evaluate("document.querySelector('.totals [data-view=totals][data-metric=orders]').textContent"))
    producer(signal.SIGCONT)
    end, after = time.time() + 20, before
    while time.time() < end and after <= before:
        c.pump(0.5)
        after = int(c.evaluate("document.querySelector('.totals [data-view=totals][data-metric=orders]').textContent"))
    check(after > before, "the page updates after new events (orders %d -> %d)" % (before, after))

    # last 7 and 30 days: the history from batch, left of the cutoff, whatever today is
    def range_sources(seconds, label):
        c.evaluate("document.querySelector('[data-range=\"%d\"]').click()" % seconds)
        wait_polls(2)
        srcs = json.loads(c.evaluate("""JSON.stringify(Array.from(document.querySelectorAll(
            '#view-totals svg rect')).map(e => e.dataset.source))"""))
        check("batch" in srcs and "speed" in srcs, "%s: batch and speed buckets (%d batch, %d speed)"
              % (label, srcs.count("batch"), srcs.count("speed")))
    range_sources(604800, "last 7 days")
    check(c.evaluate("Array.from(document.querySelectorAll('#view-totals svg text')).some(t => t.textContent == 'batch cutoff')"),
          "the batch cutoff is marked on the chart")
    shot = c.call("Page.captureScreenshot", format="png", captureBeyondViewport=True)
    open(os.path.join(artifacts, "dashboard-7d.png"), "wb").write(base64.b64decode(shot["data"]))
    range_sources(2592000, "last 30 days")

    # a group without the field (optional country) is selectable: the page asks ?country
    c.evaluate("Array.from(document.querySelectorAll('#view-by_country tbody tr')).find(r => r.dataset.key == '(none)').click()")
    wait_polls(1)
    check("(none)" in c.evaluate("document.querySelector('#view-by_country .chart h3').textContent"),
          "the chart follows a clicked group, also the one without a country")

    c.pump(0.5)
    errs = c.errors()
    check(not errs, "no console errors or exceptions: %s" % errs[:5])

    # a plain headless capture, as the README shows it: with a virtual-time budget chromium waits
    # for the first answers (without one it captures the page at load, still "connecting")
    exe = next((p for p in ("/usr/bin/chromium", "/usr/bin/chromium-browser") if os.path.exists(p)), "chromium")
    r = subprocess.run([exe, "--headless", "--no-sandbox", "--disable-gpu", "--virtual-time-budget=5000",
                        "--user-data-dir=" + os.path.join(work, "profile-dump"), "--dump-dom", url + "/"],
                       capture_output=True, text=True, timeout=60)
    events = json.load(open("datasets/orders/expected.json"))["events"]   # the batch card's events
    check('id="status-text">live' in r.stdout and ">%s<" % events in r.stdout.replace(" ", ""),
          "chromium --headless --virtual-time-budget shows the answers, not 'connecting'",
          "%s\n%s" % (re.findall(r'id="status-text">[^<]*', r.stdout), r.stderr[-500:]))
finally:
    proc.terminate()
    try:
        proc.wait(10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
    try:
        producer(signal.SIGCONT)
    except OSError:
        pass
finish()
PYEOF
