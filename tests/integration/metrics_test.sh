#!/bin/bash
# metrics_test.sh -- stddev, stddev_pop, distinct and quantile: byte-identical states from batch
# only, speed only, and half and half (invariant 1); identical HTTP answers from the three stores;
# the answers python3 computes apart from the C code (stddev exact to the printed digit, distinct
# exact to 128 then within 3 standard errors, quantiles within 2% of the value at the exact rank),
# with "approximate" where it applies; tumbling and sliding series; top by a stddev
. "$(dirname "$0")/speed_lib.sh"

SERVING="$BUILD/lambda-serving"
start_broker -t m:3

# metrics_pipeline FILE STORE
metrics_pipeline() {
    cat >"$1" <<EOF
{
  "name": "m",
  "store": "$2",
  "event": {"time": "ts", "fields": {
      "customer": "string",
      "item":     {"type": "string", "required": false},
      "qty":      "int",
      "amount":   {"type": "decimal", "scale": 2},
      "latency":  {"type": "float", "scale": 3, "required": false},
      "ok":       "bool"}},
  "views": {
    "by_customer": {"group_by": ["customer"], "granularity": "1m",
        "metrics": {"n": "count", "sd": "stddev(amount)", "sdp": "stddev_pop(amount)",
                    "items": "distinct(item)", "qtys": "distinct(qty)",
                    "p99": "quantile(amount, 0.99)", "p50": "quantile(latency, 0.5)"}},
    "totals": {"granularity": "1m",
        "metrics": {"n": "count", "sd": "stddev(amount)", "sd_lat": "stddev_pop(latency)",
                    "customers": "distinct(customer)", "oks": "distinct(ok)",
                    "p99": "quantile(amount, 0.99)", "p10": "quantile(latency, 0.1)"}}
  },
  "speed": {"topic": "m", "partitions": 3, "lateness": "366d",
            "kafka": {$KAFKA_TEST_PROPS}}
}
EOF
}

# The events (six hours from a day ago, skewed over 300 customers) and, apart from the C
# code, what every answer below must be: metrics.py answers PATH < body checks it.
BASE=$(( ($(date +%s) - 86400) / 3600 * 3600 ))
CUT=$(date -u -d "@$((BASE + 3 * 3600))" +%Y-%m-%dT%H:%M:%SZ)
cat >"$T/metrics.py" <<'PY'
import json, random, sys
from datetime import datetime, timezone
from decimal import Decimal, getcontext, ROUND_HALF_UP, ROUND_HALF_EVEN
from fractions import Fraction
getcontext().prec = 60
T, BASE, N = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
ALPHA, HLL_ERR = Decimal("0.02"), Decimal("0.0325")
METRICS = {
    "by_customer": {"n": ("count",), "sd": ("stddev", "amount", 2),
        "sdp": ("stddev_pop", "amount", 2), "items": ("distinct", "item"),
        "qtys": ("distinct", "qty"), "p99": ("quantile", "amount", 2, 0.99),
        "p50": ("quantile", "latency", 3, 0.5)},
    "totals": {"n": ("count",), "sd": ("stddev", "amount", 2),
        "sd_lat": ("stddev_pop", "latency", 3), "customers": ("distinct", "customer"),
        "oks": ("distinct", "ok"), "p99": ("quantile", "amount", 2, 0.99),
        "p10": ("quantile", "latency", 3, 0.1)},
}

def gen():
    rnd = random.Random(41)
    items = ["item-%02d" % i for i in range(40)]
    with open(T + "/events.jsonl", "w") as f:
        for i in range(N):
            t = BASE + rnd.randrange(6 * 3600)
            e = {"ts": datetime.fromtimestamp(t, timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
                 "customer": "c%03d" % int(300 * rnd.random() ** 2),
                 "qty": rnd.randrange(1, 30), "ok": rnd.random() < 0.7}
            if rnd.random() < 0.9:
                e["item"] = rnd.choice(items)
            amount = "%d.%02d" % (rnd.randrange(-50, 1000), rnd.randrange(100))
            lat = None
            k = rnd.random()
            if k < 0.6:
                lat = "%d.%03d" % (rnd.randrange(5), rnd.randrange(1000))
            elif k < 0.8:       # more digits: rounded half to even at scale 3
                lat = "0.%03d5%s" % (rnd.randrange(1000), rnd.choice(["", "0", "01"]))
            elif k < 0.9:       # exponent notation
                lat = "%de-3" % rnd.randrange(1, 9000)
            text = json.dumps(e)[:-1] + ', "amount": %s' % amount
            if lat is not None:
                text += ', "latency": %s' % lat
            f.write(text + "}\n")

def events():
    out = []
    for line in open(T + "/events.jsonl"):
        e = json.loads(line, parse_float=str)
        e["t"] = int(datetime.strptime(e["ts"], "%Y-%m-%dT%H:%M:%SZ")
                     .replace(tzinfo=timezone.utc).timestamp())
        e["amount"] = Decimal(e["amount"])
        if "latency" in e:
            e["latency"] = Decimal(str(e["latency"])).quantize(Decimal("0.001"),
                                                                rounding=ROUND_HALF_EVEN)
        out.append(e)
    return out

def exact(kind, evs):
    """The exact answer: a Decimal, an int, or None (null)."""
    if kind[0] == "count":
        return len(evs)
    vals = [e[kind[1]] for e in evs if kind[1] in e]
    if kind[0] == "distinct":
        return len(set(vals))
    n = len(vals)
    if kind[0] in ("stddev", "stddev_pop"):
        if n < (2 if kind[0] == "stddev" else 1):
            return None
        mean = sum(vals) / n
        var = sum((v - mean) ** 2 for v in vals) / (n - 1 if kind[0] == "stddev" else n)
        return var.sqrt().quantize(Decimal(1).scaleb(-(kind[2] + 2)), rounding=ROUND_HALF_UP)
    if n == 0:
        return None
    return sorted(vals)[int(kind[3] * (n - 1))]

checked = 0

def agree(view, name, got, evs, approx, where):
    """Problems with one answer (a list of strings)."""
    global checked
    checked += 1
    kind = METRICS[view][name]
    want = exact(kind, evs)
    rel = (approx or {}).get(name, {}).get("relative_error")
    bad = []
    if want is None or got is None:
        if want is not None or got is not None:
            bad.append("%s %s: got %s, want %s" % (where, name, got, want))
        return bad
    got = Decimal(got)
    if kind[0] == "quantile":
        slack = abs(want) * ALPHA + Decimal(1).scaleb(-(kind[2] + 2)) / 2
        if abs(got - want) > slack or rel != "0.02":
            bad.append("%s %s: got %s (error %s), want %s within 2%%" % (where, name, got, rel, want))
    elif kind[0] == "distinct" and want > 128:
        if abs(got - want) > 3 * HLL_ERR * want or rel != "0.0325":
            bad.append("%s %s: got %s (error %s), want %s within 3 standard errors"
                       % (where, name, got, rel, want))
    elif got != want or rel is not None:
        bad.append("%s %s: got %s%s, want %s" % (where, name, got,
                   " (approximate)" if rel is not None else "", want))
    return bad

def check(path, d, evs):
    """Problems of one answer of the batch-only store against the events."""
    view = path.split("/")[3]
    bad = []
    route = path.split("?")[0]
    if route.endswith("/total"):
        mine = [e for e in evs if view == "totals" or e["customer"] == d["key"]["customer"]]
        for m, v in d["metrics"].items():
            bad += agree(view, m, v, mine, d.get("approximate"), "total")
    elif route.endswith("/series"):
        step, width = [int(x) * 60 for x in path.split("step=")[1].replace("m", "").split("&window=")]
        key = d["key"].get("customer")
        mine = [e for e in evs if key is None or e["customer"] == key]
        points = sorted({(e["t"] // step - k) * step for e in mine
                         for k in range(width // step)})
        got = [datetime.strptime(p["t"], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=timezone.utc)
               .timestamp() for p in d["points"]]
        if got != points:
            bad.append("series: points %s, want %s" % (got[:5], points[:5]))
        for p, t in zip(d["points"], points):
            win = [e for e in mine if t <= e["t"] < t + width]
            for m, v in p["metrics"].items():
                bad += agree(view, m, v, win, p.get("approximate"), "point %s" % p["t"])
    else:       # top?metric=M&n=N: the customers' answers; by sd: ranked by exact variance
        n = int(path.split("n=")[1])
        groups = {}
        for e in evs:
            groups.setdefault(e["customer"], []).append(e)
        def var(c):     # nulls last, ties by key
            a = [e["amount"] for e in groups[c]]
            if len(a) < 2:
                return (1, 0, c)
            s, q, k = sum(a), sum(x * x for x in a), len(a)
            return (0, -Fraction(k * q - s * s) / (k * (k - 1)), c)
        got = [r["key"]["customer"] for r in d["rows"]]
        if "metric=sd&" in path and got != sorted(groups, key=var)[:n]:
            bad.append("top: %s, want %s" % (got[:12], sorted(groups, key=var)[:12]))
        if len(got) != min(n, len(groups)):
            bad.append("top: %d rows, want %d" % (len(got), min(n, len(groups))))
        for r in d["rows"]:
            for m, v in r["metrics"].items():
                bad += agree(view, m, v, groups[r["key"]["customer"]], r.get("approximate"),
                             r["key"]["customer"])
    return bad

def bare(d):
    """An answer without where it came from: batch version, cutoff, watermark, source."""
    d = dict(d)
    for k in ("batch", "speed"):
        d.pop(k, None)
    for p in d.get("points", []):
        p.pop("source", None)
    return json.dumps(d)

def compare(paths):
    """For each path, answers b.I, s.I, h.I: one line "ok|DESC" or "FAIL|DESC|WHY"."""
    global checked
    evs = events()
    for i, path in enumerate(open(paths).read().split("\n")):
        if not path:
            continue
        ans = {}
        for st in "bsh":
            try:
                ans[st] = json.loads(open("%s/ans/%s.%d" % (T, st, i)).read(),
                                     parse_float=str, parse_int=str)
            except ValueError as e:
                ans[st] = {"error": str(e)}
        same = bare(ans["b"]) == bare(ans["s"]) == bare(ans["h"])
        print("%s|%s: batch only, speed only, half and half alike|%s" % (
            "ok" if same else "FAIL", path, "" if same else
            "\\n     ".join([""] + [bare(ans[st])[:300] for st in "bsh"])))
        checked = 0
        bad = check(path, ans["b"], evs) if "error" not in ans["b"] else [ans["b"]["error"]]
        print("%s|%s: %d answers as computed|%s" % ("FAIL" if bad else "ok", path,
              checked, "\\n     ".join([""] + bad[:8])))


if sys.argv[4] == "gen":
    gen()
else:
    compare(sys.argv[5])
PY
set_size 3000 0 1500 0
python3 "$T/metrics.py" "$T" "$BASE" "$N" gen
eq "python3 wrote the events" "$(wc -l <"$T/events.jsonl")" "$N"

# ---- batch only, speed only, half and half: the same states ----
metrics_pipeline "$T/m.json" "$T/none"
batch_of "$T/m.json" "$T/b" "$T/events.jsonl"
eq "lambda-batch over stddev, distinct and quantile views exits 0" "$?" 0
"$PRODUCE" -c "$T/m.json" -b "$BROKERS" "$T/events.jsonl" >"$T/produce.log" 2>&1
eq "lambda-produce replays the events" "$?" 0
"$SPEED" -c "$T/m.json" --store "$T/s" --brokers "$BROKERS" --group m-s --once \
    >"$T/s.log" 2>&1
eq "lambda-speed --once exits 0" "$?" 0
same_views "batch only = speed only" "$T/m.json" "$T/s" "$T/b"

# the states of 4 KB rows through shard files, a merge, a repository file and a pull
rc=0
for i in 0 1 2; do
    "$BATCH" -c "$T/m.json" --no-progress --shard "$i/3" --partial "$T/part-$i.lkp" \
        --until 2100-01-01T00:00:00Z "$T/events.jsonl" >"$T/part-$i.log" 2>&1 || rc=1
done
eq "three shards write their partial states" "$rc" 0
"$BATCH" -c "$T/m.json" --store "$T/sh" --no-progress --rejects "$T/sh.rejects" \
    --repository "$T/repo" --force --merge "$T"/part-*.lkp >"$T/sh.log" 2>&1
eq "  ... their merge publishes, also to a repository" "$?" 0
"$BATCH" -c "$T/m.json" --store "$T/pl" --pull "$T/repo" >"$T/pl.log" 2>&1
eq "  ... which another store pulls" "$?" 0
views "$T/m.json" "$T/b" batch >"$T/b.rows"
views "$T/m.json" "$T/sh" batch >"$T/sh.rows"
views "$T/m.json" "$T/pl" batch >"$T/pl.rows"
check "  ... the merge's rows are one run's" cmp -s "$T/sh.rows" "$T/b.rows"
check "  ... and so are the pulled ones" cmp -s "$T/pl.rows" "$T/b.rows"

"$BATCH" -c "$T/m.json" --store "$T/h" --until "$CUT" --no-progress \
    --rejects "$T/h.rejects.jsonl" "$T/events.jsonl" >"$T/h.batch.out" 2>&1
eq "half and half: lambda-batch publishes the first three hours" "$?" 0
"$SPEED" -c "$T/m.json" --store "$T/h" --brokers "$BROKERS" --group m-h --once \
    >"$T/h.log" 2>&1
eq "  ... lambda-speed --once counts every event into the same store" "$?" 0
{ views "$T/m.json" "$T/h" batch | awk -F '\t' -v c="$CUT" '$3 < c'
  views "$T/m.json" "$T/h" speed | awk -F '\t' -v c="$CUT" '$3 >= c'; } | sort >"$T/h.rows"
sort "$T/b.rows" >"$T/b.sorted"
check "  ... its batch rows before the cutoff and speed rows after are batch only's" \
    cmp -s "$T/h.rows" "$T/b.sorted"
before=$(views "$T/m.json" "$T/h" batch | wc -l)
after=$(views "$T/m.json" "$T/h" speed | awk -F '\t' -v c="$CUT" '$3 >= c' | wc -l)
check "  ... with rows on both sides of the cutoff ($before, $after)" \
    [ "$before" -gt 100 ] && [ "$after" -gt 100 ]

# ---- the same HTTP answers from the three stores ----
declare -A PORT
for st in b s h; do
    "$SERVING" -c "$T/m.json" --store "$T/$st" --listen 127.0.0.1:0 \
        --port-file "$T/$st.port" >"$T/$st.serving.log" 2>&1 &
    bg $!
done
for st in b s h; do
    wait_until 10 test -s "$T/$st.port"
    PORT[$st]=$(cat "$T/$st.port")
done
get() {     # STORE PATH
    curl -s -g --max-time 10 "http://127.0.0.1:${PORT[$1]}$2"
}
top=$(get b "/v1/views/by_customer/top?metric=n&n=3" | jq -r '.rows[].key.customer')
one=$(jq -r .customer "$T/events.jsonl" | sort | uniq -c | awk '$1 == 1 { print $2; exit }')
{
    echo "/v1/views/totals/total"
    echo "/v1/views/totals/series?step=60m&window=60m"
    echo "/v1/views/totals/series?step=20m&window=60m"
    echo "/v1/views/by_customer/top?metric=sd&n=1000"
    echo "/v1/views/by_customer/top?metric=sd&n=12"
    echo "/v1/views/by_customer/top?metric=p99&n=1000"
    echo "/v1/views/by_customer/top?metric=items&n=5"
    echo "/v1/views/by_customer/total?customer=$one"
    for c in $top; do
        echo "/v1/views/by_customer/total?customer=$c"
        echo "/v1/views/by_customer/series?customer=$c&step=30m&window=90m"
    done
} >"$T/paths"
mkdir -p "$T/ans"
i=0
while read -r path; do
    for st in b s h; do
        get $st "$path" >"$T/ans/$st.$i"
    done
    i=$((i + 1))
done <"$T/paths"
# each answer the same from the three stores, and the batch-only one as python3 computes it
python3 "$T/metrics.py" "$T" "$BASE" "$N" compare "$T/paths" >"$T/compare.out" 2>&1
eq "python3 compared the answers" "$?" 0
while IFS='|' read -r verdict desc why; do
    if [ "$verdict" = ok ]; then
        ok "$desc"
    else
        fail "$desc"
        printf '%b\n' "$why"
    fi
done <"$T/compare.out"
check "  ... every path" [ "$(grep -c . "$T/compare.out")" = $((2 * i)) ]

tot=$(get b /v1/views/totals/total)
eq "approximate: totals' quantiles always, distinct past 128, the rest exact" \
    "$(echo "$tot" | jq -c '.approximate | to_entries | map("\(.key)=\(.value.relative_error)")')" \
    '["customers=0.0325","p99=0.02","p10=0.02"]'
eq "  ... a customer's distinct items (under 128): exact, no \"approximate\" entry" \
    "$(get b "/v1/views/by_customer/total?customer=$one" | jq -c '.approximate | keys')" \
    '["p50","p99"]'
eq "  ... values stay plain JSON numbers" \
    "$(echo "$tot" | jq -c '[.metrics[] | type] | unique')" '["number"]'
eq "a customer with one event: stddev null, stddev_pop 0" \
    "$(get b "/v1/views/by_customer/total?customer=$one" | jq -c '[.metrics.sd, .metrics.sdp]')" \
    '[null,0]'
eq "/v1/views lists the metrics as written" \
    "$(get b /v1/views | jq -c '.views[] | select(.name == "totals") | .metrics')" \
    '{"n":"count","sd":"stddev(amount)","sd_lat":"stddev_pop(latency)","customers":"distinct(customer)","oks":"distinct(ok)","p99":"quantile(amount, 0.99)","p10":"quantile(latency, 0.1)"}'

# ---- a changed q is another view ----
sed 's/quantile(amount, 0.99)/quantile(amount, 0.9)/g' "$T/m.json" >"$T/m9.json"
"$SPEED" -c "$T/m9.json" --store "$T/s" --brokers "$BROKERS" --group m-s9 --once \
    >"$T/s9.log" 2>&1
eq "a quantile's q changed: lambda-speed runs (exit 0)" "$?" 0
check "  ... and leaves the view's old rows to lambda-batch's switch, naming it" \
    grep -q "view by_customer: $T/m9.json defines it otherwise than the store's rows: its speed rows are not written" "$T/s9.log"

finish
