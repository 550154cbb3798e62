#!/bin/bash
# lab_readme_test.sh -- README.md's tutorial and API examples, run against a live `make demo`.
# Every ```sh block between <!-- test:begin --> and <!-- test:end --> runs in order (in the
# demo's folder, after `. var/demo/env`, which sets $DEMO_URL and $DEMO_CUTOFF) and must
# exit 0. A ```json block right after it is compared with the output: same structure, and the
# same values except the ones that change from run to run (times, cutoffs, offsets, messages),
# unless marked <!-- test: shape -->. A ```text block marked <!-- test: exact --> must match
# line for line. <!-- test: skip ... --> skips a block; <!-- test: retry N --> reruns it until
# it passes, for N seconds at most.
set -u
cd "${LAMBDA_TOP:-$(dirname "$0")/../..}" || exit 1
BUILD=${BUILD:-build}
case $BUILD in /*) ;; *) BUILD=$PWD/$BUILD ;; esac
export BUILD
work=$(mktemp -d /tmp/lab_readme.XXXXXX)
. "$(dirname "$0")/lab_lib.sh"   # start_demo
start_demo
DEMO=$work/demo README=$PWD/README.md /usr/bin/python3 - <<'PYEOF'
import json, os, re, subprocess, sys, time

demo, readme = os.environ["DEMO"], os.environ["README"]
port = open(os.path.join(demo, "var/demo/port")).read().strip()
sys.path.insert(0, "tests/integration")
from harness import check, finish   # noqa: E402

# ---- the blocks, with their annotations and what follows them -------------
blocks, inside, note, fence, buf, last_end = [], False, None, None, [], -1
lines = open(readme).read().split("\n")
for i, line in enumerate(lines):
    s = line.strip()
    if fence is not None:
        if s == "```":
            blocks.append({"lang": fence, "code": "\n".join(buf), "note": note, "line": start + 1,
                           "adjacent": last_end >= 0 and all(
                               l.strip() == "" or l.strip().startswith("<!-- test:")
                               for l in lines[last_end + 1:start])})
            fence, note, last_end = None, None, i
        else:
            buf.append(line)
        continue
    if s == "<!-- test:begin -->":
        inside = True
    elif s == "<!-- test:end -->":
        inside = False
    elif inside and s.startswith("<!-- test:"):
        note = s[len("<!-- test:"):-len("-->")].strip()
    elif inside and s.startswith("```"):
        fence, buf, start = s[3:].strip() or "text", [], i
    elif s:
        if not s.startswith("<!--"):
            note = None
check(len(blocks) > 20, "README has the tutorial's blocks between test markers (%d)" % len(blocks))

VOLATILE = {"speed", "published_at", "updated_at", "watermark", "cutoff", "t", "offset", "partition",
            "timestamp", "message", "raw", "ts", "from", "to"}

def parse_json_lines(text):
    out = []
    for l in text.split("\n"):
        l = l.strip()
        if not l or l == "...":
            continue
        try:
            out.append(json.loads(l, parse_float=str, parse_int=str))
        except ValueError:
            pass
    return out

def compare(exp, act, exact, path="$"):
    """None if act matches exp, else a description of the first difference."""
    if isinstance(exp, dict):
        if not isinstance(act, dict):
            return "%s: expected an object, got %r" % (path, act)
        if set(exp) != set(act):
            return "%s: keys %s, expected %s" % (path, sorted(act), sorted(exp))
        for k in exp:
            if k in VOLATILE:
                continue
            d = compare(exp[k], act[k], exact, path + "." + k)
            if d:
                return d
        return None
    if isinstance(exp, list):
        if not isinstance(act, list):
            return "%s: expected an array, got %r" % (path, act)
        if exact:
            if len(exp) != len(act):
                return "%s: %d elements, expected %d" % (path, len(act), len(exp))
            pairs = zip(exp, act)
        else:
            pairs = [(exp[0], act[0])] if exp and act else []
        for n, (e, a) in enumerate(pairs):
            d = compare(e, a, exact, "%s[%d]" % (path, n))
            if d:
                return d
        return None
    if exact:
        # the demo's data is shifted to end yesterday: a date inside a string (a history
        # file's name) is the day the README was written, not the day the test runs
        undate = lambda v: re.sub(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", "YYYY-MM-DD", v) if isinstance(v, str) else v
        return None if undate(exp) == undate(act) else "%s: %r, expected %r" % (path, act, exp)
    if exp is None or act is None:
        return None
    kind = lambda v: "number" if isinstance(v, str) and re.fullmatch(r"-?[0-9.eE+-]+", v) else type(v).__name__
    return None if kind(exp) == kind(act) else "%s: %r is not like %r" % (path, act, exp)

def verdict(block, out, expect):
    """None when out is what the README shows after block, else why not."""
    if expect is None:
        return None
    mode = expect["note"] or ""
    if expect["lang"] == "json":
        want, got = parse_json_lines(expect["code"]), parse_json_lines(out)
        if not want:
            return "the README's json block does not parse"
        if not got:
            return "no JSON in the output"
        exact = "shape" not in mode
        if exact and len(want) != len(got):
            return "%d JSON values, the README shows %d" % (len(got), len(want))
        for n, (w, g) in enumerate(zip(want, got) if exact else [(want[0], got[0])]):
            d = compare(w, g, exact)
            if d:
                return "value %d: %s" % (n + 1, d)
        return None
    if expect["lang"] == "text" and "exact" in mode:
        want = [l.rstrip() for l in expect["code"].split("\n") if l.strip() and l.strip() != "..."]
        got = [l.rstrip() for l in out.split("\n") if l.strip()]
        return None if want == got else "lines %s, the README shows %s" % (got, want)
    return None

env = dict(os.environ, PATH=os.environ["BUILD"] + ":" + os.environ["PATH"])
for i, b in enumerate(blocks):
    if b["lang"] != "sh":
        continue
    note = b["note"] or ""
    first = b["code"].strip().split("\n")[0]
    if note.startswith("skip"):
        print("skip", "README line %d: %s (%s)" % (b["line"], first, note))
        continue
    nxt = blocks[i + 1] if i + 1 < len(blocks) and blocks[i + 1]["adjacent"] and blocks[i + 1]["lang"] != "sh" else None
    code = b["code"]
    check("localhost:8080" not in code, "README line %d: uses $DEMO_URL, not localhost:8080" % b["line"])
    m = re.match(r"retry (\d+)", note)
    deadline = time.time() + (int(m.group(1)) if m else 0)
    while True:
        r = subprocess.run(["bash", "-c", "set -e\n. var/demo/env\n" + code], cwd=demo, env=env,
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=120)
        why = "exit %d" % r.returncode if r.returncode != 0 else verdict(b, r.stdout, nxt)
        if why is None or time.time() >= deadline:
            break
        time.sleep(1)
    check(why is None, "README line %d: %s" % (b["line"], first), "%s\n--- output:\n%s" % (why, r.stdout))

finish()
PYEOF
rc=$?
[ $rc != 0 ] && tail -n 20 "$work/demo.out"
exit $rc
