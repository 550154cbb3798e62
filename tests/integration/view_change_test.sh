#!/bin/bash
# view_change_test.sh -- a view changes under a live stream (a metric added, the granularity
# changed, a view added): serving keeps answering the old definition, lambda-batch switches
# batch and speed rows in one publish (speed rows rebuilt from the archive), answers switch
# once with no 503 and no double count, lambda-speed starts itself again; removing a view
# drops its rows; without an archive the message names the command to run
. "$(dirname "$0")/speed_lib.sh"

start_broker -t vc:2 -t nv:1
HOUR=3600000
now=$(now_ms)
H0=$((now / HOUR * HOUR - 3 * HOUR))
U1=$((H0 + HOUR))
U2=$((H0 + 2 * HOUR))
iso() { date -u -d "@$(($1 / 1000))" +%Y-%m-%dT%H:%M:%SZ; }

# pipeline FILE VIEWS ARCHIVE: the test's pipeline with these views
pipeline() {
    cat >"$1" <<EOF
{
  "name": "vc", "store": "$T/store",
  "event": {"time": "ts", "fields": {"customer": "string", "country": "string",
      "amount": {"type": "decimal", "scale": 2}}},
  "views": {$2},
  "batch": {"inputs": ["$T/archive"]},
  "speed": {"topic": "vc", "lateness": "366d"$3,
            "kafka": {$KAFKA_TEST_PROPS}}
}
EOF
}
COUNTRY_A='"by_country": {"group_by": ["country"], "granularity": "1h",
        "metrics": {"orders": "count"}}'
COUNTRY_B='"by_country": {"group_by": ["country"], "granularity": "10m",
        "metrics": {"orders": "count", "revenue": "sum(amount)"}}'
TOTALS='"totals": {"granularity": "1h", "metrics": {"orders": "count", "revenue": "sum(amount)"}}'
GONE='"gone": {"group_by": ["customer"], "granularity": "1h", "metrics": {"orders": "count"}}'
ADDED='"by_customer": {"group_by": ["customer"], "granularity": "1h", "metrics": {"n": "count"}}'
ARCH=", \"archive\": \"$T/archive\""
pipeline "$T/a.json" "$COUNTRY_A, $TOTALS, $GONE" "$ARCH"
pipeline "$T/b.json" "$COUNTRY_B, $TOTALS, $GONE, $ADDED" "$ARCH"
pipeline "$T/c.json" "$COUNTRY_B, $TOTALS, $ADDED" "$ARCH"
cp "$T/a.json" "$T/vc.json"         # the lab's file, edited in place

# E0: history from H0 to U2 (country XX only here); E1: the live stream after U2
python3 - "$H0" "$U2" "$now" "$T" <<'EOF'
import json, random, sys
h0, u2, now, t = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
r = random.Random(7)
def ev(i, lo, hi, countries):
    return {"id": i, "customer": "c%d" % r.randrange(30), "country": r.choice(countries),
            "amount": "%d.%02d" % (r.randrange(500), r.randrange(100)), "ts": r.randrange(lo, hi)}
with open(t + "/e0.jsonl", "w") as f:
    for i in range(600):
        e = ev(i, h0, u2, ["XX", "DE", "FR"])
        e["amount"] = float(e["amount"])
        f.write(json.dumps(e) + "\n")
with open(t + "/e1.jsonl", "w") as f:
    for i in range(600, 2400):
        e = ev(i, u2, now - 60000, ["DE", "FR"])
        e["amount"] = float(e["amount"])
        f.write(json.dumps(e) + "\n")
EOF

"$PRODUCE" -c "$T/vc.json" -b "$BROKERS" "$T/e0.jsonl" >"$T/p0.log" 2>&1
"$SPEED" -c "$T/vc.json" --brokers "$BROKERS" --group vc --once >"$T/once.log" 2>&1
eq "the history reaches speed and its archive" "$?" 0
"$BATCH" -c "$T/vc.json" --until "$(iso $U1)" --force --no-progress >"$T/batch1.log" 2>&1
eq "lambda-batch publishes the first definition" "$?" 0

"$BUILD"/lambda-serving -c "$T/vc.json" --listen 127.0.0.1:0 --port-file "$T/port" \
    2>"$T/serving.log" &
bg $!
wait_until 10 test -s "$T/port"
URL=http://127.0.0.1:$(cat "$T/port")
"$SPEED" -c "$T/vc.json" --brokers "$BROKERS" --group vc >"$T/speed.log" 2>&1 &
speed=$!
bg $speed
check "lambda-speed gets its partitions" wait_until 30 grep -q "assigned vc: \[" "$T/speed.log"

# every answer during the change, in the background
python3 - "$URL" "$T" >"$T/answers.jsonl" 2>"$T/loop.err" <<'EOF' &
import json, os, sys, time, urllib.request, urllib.error
url, t = sys.argv[1], sys.argv[2]
paths = ["/v1/views/by_country/total?country=XX", "/v1/views/by_country/total?country=DE",
         "/v1/views/totals/total"]
while not os.path.exists(t + "/stop"):
    for p in paths:
        try:
            with urllib.request.urlopen(url + p, timeout=5) as r:
                code, body = r.status, r.read().decode()
        except urllib.error.HTTPError as e:
            code, body = e.code, e.read().decode()
        except Exception as e:
            code, body = 0, str(e)
        print(json.dumps({"path": p, "code": code, "body": body}), flush=True)
    time.sleep(0.01)
EOF
loop=$!
bg $loop
"$PRODUCE" -c "$T/vc.json" -b "$BROKERS" --rate 150 "$T/e1.jsonl" >"$T/p1.log" 2>&1 &
producer=$!
bg $producer
sleep 3

# the change: the file is edited, serving marks it, then lambda-batch switches it
cp "$T/b.json" "$T/vc.json"
views=$(curl -s "$URL/v1/views")
eq "/v1/views: the changed view is answered under its previous definition" \
    "$(jq -c '.views[] | select(.name == "by_country") | [.definition, .next, .granularity, (.metrics | keys)]' <<<"$views")" \
    '["previous","waits for lambda-batch","1h",["orders"]]'
eq "/v1/views: the added view is pending" \
    "$(jq -c '[.views[] | select(.name == "by_customer") | .definition]' <<<"$views")" '["pending"]'
"$BATCH" -c "$T/vc.json" --until "$(iso $U2)" --force --no-progress --dry-run >"$T/dry2.out" 2>"$T/dry2.log"
eq "lambda-batch --dry-run before the switch: exit 0" "$?" 0
eq "  ... names the views it would switch, and only them" \
    "$(grep 'this publish would' "$T/dry2.out" | cut -d: -f1,2 | sort | tr '\n' ';')" \
    "view by_country: changed;view by_customer: new to the speed rows;"
eq "  ... and switches nothing" \
    "$(curl -s "$URL/v1/views" | jq -c '[.views[] | select(.name == "by_country") | .definition]')" '["previous"]'
sleep 1
"$BATCH" -c "$T/vc.json" --until "$(iso $U2)" --force --no-progress >"$T/batch2.log" 2>&1
eq "lambda-batch publishes the changed definitions" "$?" 0
check "  ... rebuilding the switched views' speed rows from the archive" \
    grep -q "rebuilt the speed rows of 2 views from $T/archive at or after $(iso $U2)" "$T/batch2.log"
check "lambda-speed notices the switch and starts again" \
    wait_until 20 grep -q "starting again under the switched definitions" "$T/speed.log"
wait "$producer"
all=$(cat "$T/e0.jsonl" "$T/e1.jsonl" | grep -c .)
caught_up() {
    [ "$(curl -s "$URL/v1/views/totals/total" | jq .metrics.orders)" = "$all" ]
}
check "lambda-speed, started again, consumes the whole stream" wait_until 30 caught_up
sleep 0.5
touch "$T/stop"
wait "$loop"
check "lambda-speed kept its process (execv) and is running" kill -0 "$speed"
eq "  ... it started twice" "$(grep -c 'startup: pipeline vc' "$T/speed.log")" 2

# every answer during the change: 200, the old or the new exact value, one switch
python3 - "$T" <<'EOF'
import json, sys
from decimal import Decimal
sys.path.insert(0, "tests/integration")
from harness import check, finish
t = sys.argv[1]
evs = [json.loads(l) for f in ("e0", "e1") for l in open("%s/%s.jsonl" % (t, f))]
e0 = [e for e in evs if e["id"] < 600]
def agg(rows):
    return len(rows), sum((Decimal(str(e["amount"])).quantize(Decimal("0.01")) for e in rows), Decimal("0"))
xx_n, xx_rev = agg([e for e in e0 if e["country"] == "XX"])
de_all = len([e for e in evs if e["country"] == "DE"])
ans = [json.loads(l) for l in open(t + "/answers.jsonl")]
check(len(ans) > 30, "answers were collected during the change (%d)" % len(ans))
bad = [a for a in ans if a["code"] != 200]
check(not bad, "no answer but 200 during the change (no 503)", bad[:3])
old = {"orders": xx_n}
new = {"orders": xx_n, "revenue": xx_rev}
seen, wrong = [], []
for a in ans:
    if a["code"] != 200 or "XX" not in a["path"]:
        continue
    m = json.loads(a["body"], parse_float=Decimal)["metrics"]
    if m == old:
        seen.append("old")
    elif m == new:
        seen.append("new")
    else:
        wrong.append(m)
check(not wrong, "every answer of a key the stream does not touch is the old or the new exact "
      "value (%d orders, %s revenue)" % (xx_n, xx_rev), wrong[:3])
flips = sum(1 for a, b in zip(seen, seen[1:]) if a != b)
check("old" in seen and "new" in seen and flips == 1 and seen[0] == "old",
      "the answers switch once, old then new (%d old, %d new)" % (seen.count("old"), seen.count("new")))
for key in ("DE", "totals"):
    shapes, counts = [], []
    for a in ans:
        if a["code"] == 200 and key in a["path"]:
            m = json.loads(a["body"])["metrics"]
            shapes.append(sorted(m))
            counts.append(m["orders"])
    mono = all(a <= b for a, b in zip(counts, counts[1:]))
    top = de_all if key == "DE" else len(evs)
    check(mono and counts and counts[-1] <= top,
          "%s under the live stream: orders never go down nor past the events sent "
          "(no double count, nothing lost: %d to %d of %d)" % (key, counts[0], counts[-1], top))
    flips = sum(1 for a, b in zip(shapes, shapes[1:]) if a != b)
    check(flips == (1 if key == "DE" else 0), "%s: its metrics change %d time(s)" % (key, flips))
finish()
EOF
[ $? = 0 ] && ok "answers during the change" || fail "answers during the change"

# after the switch: batch and speed parts equal python over every event
python3 - "$T" "$URL" "$U2" <<'EOF'
import json, sys, urllib.request
from decimal import Decimal
sys.path.insert(0, "tests/integration")
from harness import check, finish
t, url, u2 = sys.argv[1], sys.argv[2], int(sys.argv[3])
evs = [json.loads(l) for f in ("e0", "e1") for l in open("%s/%s.jsonl" % (t, f))]
def get(p):
    with urllib.request.urlopen(url + p) as r:
        return json.loads(r.read().decode(), parse_float=Decimal)
def dec(e):
    return Decimal(str(e["amount"])).quantize(Decimal("0.01"))
for c in ("XX", "DE", "FR"):
    rows = [e for e in evs if e["country"] == c]
    want = {"orders": len(rows), "revenue": sum((dec(e) for e in rows), Decimal("0"))}
    got = get("/v1/views/by_country/total?country=" + c)["metrics"]
    check(got == want, "by_country %s: %s" % (c, want), got)
    s = get("/v1/views/by_country/series?country=%s&step=10m" % c)
    src = {p["source"] for p in s["points"]}
    n = sum(p["metrics"]["orders"] for p in s["points"])
    check(n == len(rows), "by_country %s: its 10m series adds up (%d, sources %s)" % (c, n, sorted(src)))
speed = [e for e in evs if e["ts"] >= u2 and e["country"] == "DE"]
s = get("/v1/views/by_country/series?country=DE&step=10m&from=%d" % (u2 // 1000))
check(sum(p["metrics"]["orders"] for p in s["points"]) == len(speed)
      and {p["source"] for p in s["points"]} == {"speed"},
      "by_country DE after the cutoff: the rebuilt speed rows (%d events)" % len(speed))
for cu in ("c0", "c7", "c29"):
    rows = [e for e in evs if e["customer"] == cu]
    got = get("/v1/views/by_customer/total?customer=" + cu)["metrics"]
    check(got == {"n": len(rows)}, "the added view by_customer %s: %d" % (cu, len(rows)), got)
v = {x["name"]: x for x in get("/v1/views")["views"]}
check([v["by_country"]["definition"], v["by_country"]["granularity"], sorted(v["by_country"]["metrics"])]
      == ["current", "10m", ["orders", "revenue"]], "/v1/views: by_country is current, 10m, orders and revenue",
      v["by_country"])
check(v["by_customer"]["definition"] == "current", "/v1/views: by_customer is current")
finish()
EOF
[ $? = 0 ] && ok "answers after the switch" || fail "answers after the switch"

# removing a view drops its rows; lambda-speed follows the file again
before=$(views "$T/b.json" "$T/store" speed | awk -F'\t' '$1 == "gone"' | wc -l)
check "the view to remove has speed rows ($before)" [ "$before" -gt 0 ]
cp "$T/c.json" "$T/vc.json"
"$BATCH" -c "$T/vc.json" --until "$(iso $U2)" --force --no-progress --dry-run >"$T/dry3.out" 2>&1
eq "lambda-batch --dry-run names the view it would remove, and only it" \
    "$(grep 'this publish would' "$T/dry3.out")" \
    "view gone: not in the pipeline: this publish would drop its speed rows"
"$BATCH" -c "$T/vc.json" --until "$(iso $U2)" --force --no-progress >"$T/batch3.log" 2>&1
eq "lambda-batch publishes without the view" "$?" 0
check "  ... saying it removed it" grep -q "view gone: removed" "$T/batch3.log"
eq "  ... its speed rows are gone" \
    "$(views "$T/b.json" "$T/store" speed | awk -F'\t' '$1 == "gone"' | wc -l)" 0
eq "  ... and its batch rows" \
    "$(views "$T/b.json" "$T/store" batch | awk -F'\t' '$1 == "gone"' | wc -l)" 0
eq "  ... /v1/views no longer lists it" \
    "$(curl -s "$URL/v1/views" | jq -c '[.views[] | select(.name == "gone")] | length')" 0
# lambda-speed notices at its next commit, before it writes anything
echo "{\"id\":9999,\"customer\":\"c1\",\"country\":\"DE\",\"amount\":1.25,\"ts\":$((now - 30000))}" \
    >"$T/e2.jsonl"
"$PRODUCE" -c "$T/vc.json" -b "$BROKERS" "$T/e2.jsonl" >"$T/p2.log" 2>&1
check "lambda-speed starts again for the removal at its next commit" \
    wait_until 20 sh -c "[ \$(grep -c 'startup: pipeline vc' '$T/speed.log') = 3 ]"
more() {
    [ "$(curl -s "$URL/v1/views/totals/total" | jq .metrics.orders)" = $((all + 1)) ]
}
check "  ... and counts the next event" wait_until 20 more
eq "  ... without writing the removed view again" \
    "$(views "$T/b.json" "$T/store" speed | awk -F'\t' '$1 == "gone"' | wc -l)" 0

# without an archive: the switch drops the speed rows and names the command
sed -e "s|$T/store|$T/nstore|" -e 's|"vc"|"nv"|' "$T/a.json" | jq 'del(.speed.archive)' >"$T/n.json"
"$PRODUCE" -c "$T/n.json" -b "$BROKERS" "$T/e0.jsonl" >"$T/pn.log" 2>&1
"$SPEED" -c "$T/n.json" --brokers "$BROKERS" --group nv --once >"$T/nonce.log" 2>&1
jq '.views.totals.metrics.big = "max(amount)"' "$T/n.json" >"$T/n2.json"
"$BATCH" -c "$T/n2.json" --until "$(iso $U1)" --force --no-progress "$T/e0.jsonl" \
    >"$T/nbatch.log" 2>&1
eq "without an archive lambda-batch still switches" "$?" 0
check "  ... and says what to run" \
    grep -q "run lambda-speed --reset-to $(iso $U1) to replay them" "$T/nbatch.log"
eq "  ... the switched view's speed rows are dropped" \
    "$(views "$T/n2.json" "$T/nstore" speed | awk -F'\t' '$1 == "totals"' | wc -l)" 0
check "  ... the unchanged view keeps them" \
    [ "$(views "$T/n2.json" "$T/nstore" speed | awk -F'\t' '$1 == "by_country"' | wc -l)" -gt 0 ]
"$BUILD"/lambda-serving -c "$T/n2.json" --listen 127.0.0.1:0 --port-file "$T/nport" \
    2>"$T/nserving.log" &
bg $!
wait_until 10 test -s "$T/nport"
eq "  ... and /v1/views says the speed part is being rebuilt" \
    "$(curl -s "http://127.0.0.1:$(cat "$T/nport")/v1/views" | jq -r '.views[] | select(.name == "totals") | .speed.rebuild')" \
    "lambda-speed --reset-to $(iso $U1)"

kill -TERM "$speed"
wait "$speed"
eq "lambda-speed stops cleanly after its restarts" "$?" 0
finish
