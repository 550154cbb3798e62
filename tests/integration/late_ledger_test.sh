#!/bin/bash
# late_ledger_test.sh -- the late-data ledger end to end: a published batch, then late events
# (before its cutoff) through Kafka with speed.archive set; GET /late lists them per bucket and
# total and series carry them as "pending", exactly as python3 computes from the raw events;
# lambda-batch counts them, clears the ledger in its publish and /v1/publishes/VERSION says "late
# events absorbed" for exactly their buckets. Without an archive the entries stay, archived:false.
#
# Event times are relative to today (ten days ago), so the test passes on any date.
. "$(dirname "$0")/speed_lib.sh"
export TZ=UTC LC_ALL=C

start_broker -t late:2 -t noarch:1 -t replay:1
D0=$(( ($(date +%s) / 86400 - 10) * 86400 ))
day() { date -u -d "@$((D0 + $1 * 86400))" +%Y-%m-%d; }   # day N -> YYYY-MM-DD
A=$(day 0) B=$(day 1) CUT="$(day 2)T00:00:00Z"

# pipeline NAME TOPIC ARCHIVE_JSON
pipeline() {
    cat >"$T/$1.json" <<EOF
{"name": "$1", "store": "$T/$1",
 "event": {"time": "ts", "fields": {"country": "string",
                                    "amount": {"type": "decimal", "scale": 2}}},
 "views": {
   "by_country": {"group_by": ["country"], "granularity": "1h",
                  "metrics": {"orders": "count", "revenue": "sum(amount)",
                              "max_order": "max(amount)"}},
   "totals":     {"granularity": "1d",
                  "metrics": {"orders": "count", "revenue": "sum(amount)"}}},
 "batch": {"inputs": ["$T/in"$3]},
 "speed": {"topic": "$2", "lateness": "1h", "kafka": {$KAFKA_TEST_PROPS}$4}}
EOF
}
pipeline arch late ", \"$T/archive\"" ", \"archive\": \"$T/archive\""
pipeline noarch noarch "" ""
pipeline replay replay "" ", \"archive\": \"$T/archive2\""

ev() { printf '{"country":"%s","amount":%s,"ts":"%sT%sZ"}\n' "$1" "$2" "$3" "$4"; }
mkdir -p "$T/in" "$T/archive"
{ ev FR 10.00 "$A" 01:10:00; ev FR 5.50 "$A" 03:20:00; ev DE 7.25 "$A" 02:05:00
  ev FR 1.00 "$B" 04:00:00; ev DE 3.00 "$B" 05:00:00; } >"$T/in/history.jsonl"
# late: before the cutoff; FR in three buckets (two events in one), DE in one
{ ev FR 2.25 "$A" 01:40:00; ev FR 4.75 "$A" 01:05:00; ev FR 8.00 "$A" 07:00:00
  ev FR 0.50 "$B" 04:59:59; ev DE 6.00 "$B" 05:30:00
  echo 'not json'
  ev FR '"x"' "$A" 01:00:00; } >"$T/late.jsonl"
echo "$(ev FR 9.99 "$(day 3)" 00:30:00)" >"$T/ontime.jsonl"

# expect.py WHAT COUNTRY [FROM TO]: what python3 computes from the raw late events
cat >"$T/expect.py" <<'EOF'
import json, sys
from datetime import datetime, timezone, timedelta
from decimal import Decimal
what, country = sys.argv[1], sys.argv[2]
lo = datetime.fromisoformat(sys.argv[3].replace("Z", "+00:00")) if len(sys.argv) > 3 else None
hi = datetime.fromisoformat(sys.argv[4].replace("Z", "+00:00")) if len(sys.argv) > 4 else None
events = []
for line in open(sys.argv[5] if len(sys.argv) > 5 else "late.jsonl"):
    try:
        e = json.loads(line, parse_float=Decimal)
    except ValueError:
        continue
    if not isinstance(e.get("amount"), Decimal):
        continue
    events.append(e)
buckets = {}
for e in events:
    if e["country"] != country:
        continue
    t = datetime.fromisoformat(e["ts"].replace("Z", "+00:00")).replace(minute=0, second=0)
    if (lo and t < lo) or (hi and t >= hi):
        continue
    b = buckets.setdefault(t, [])
    b.append(e["amount"])
def metrics(a):
    return {"orders": len(a), "revenue": str(sum(a)), "max_order": str(max(a))}
rows = [{"t": t.strftime("%Y-%m-%dT%H:%M:%SZ"), "events": len(a), "metrics": metrics(a),
         "archived": what == "late"} for t, a in sorted(buckets.items())]
if what in ("late", "late_unarchived"):
    print(json.dumps(rows, sort_keys=True))
elif what == "pending":
    allv = [x for a in buckets.values() for x in a]
    print(json.dumps({"events": len(allv), "buckets": len(buckets),
                      "metrics": metrics(allv), "unarchived": 0}, sort_keys=True))
elif what == "buckets":
    print(" ".join('{"country":"%s"}@%s' % (country, r["t"]) for r in rows))
EOF
# canon.py JQPATH: the answer's part at a path, numbers as exact decimal text
cat >"$T/canon.py" <<'EOF'
import json, sys
from decimal import Decimal
def fix(x):
    if isinstance(x, dict):
        return {k: fix(v) for k, v in x.items()}
    if isinstance(x, list):
        return [fix(v) for v in x]
    if isinstance(x, Decimal):
        return str(x)
    return x
doc = json.loads(sys.stdin.read(), parse_float=Decimal)
for k in sys.argv[1].split(".") if sys.argv[1] else []:
    doc = doc.get(k) if isinstance(doc, dict) else None
# "orders" and "events" are integers: JSON prints them so, keep them int
print(json.dumps(fix(doc), sort_keys=True))
EOF
expect() { (cd "$T" && python3 expect.py "$@"); }
canon() { python3 "$T/canon.py" "$1"; }

# start NAME: lambda-serving of pipeline NAME on an ephemeral port; sets URL
start() {
    rm -f "$T/$1.port"
    "$BUILD"/lambda-serving -c "$T/$1.json" --listen 127.0.0.1:0 \
        --port-file "$T/$1.port" 2>"$T/$1.serving.log" &
    bg $!
    wait_until 10 test -s "$T/$1.port"
    URL=http://127.0.0.1:$(cat "$T/$1.port" 2>/dev/null)
}
get() { curl -s -g --max-time 10 "$URL$1"; }
batch() {       # NAME: a publish with the fixed cutoff
    "$BATCH" -c "$T/$1.json" --until "$CUT" --force --no-progress \
        --rejects "$T/$1.rejects" >>"$T/$1.batch.log" 2>&1
}

# ---- with an archive ----------------------------------------------------
batch arch
eq "the first publish" "$?" 0
"$PRODUCE" -c "$T/arch.json" -b "$BROKERS" "$T/late.jsonl" >"$T/p1.log" 2>&1
"$PRODUCE" -c "$T/arch.json" -b "$BROKERS" "$T/ontime.jsonl" >"$T/p2.log" 2>&1
"$SPEED" -c "$T/arch.json" --brokers "$BROKERS" --group g1 --once >"$T/once1.log" 2>&1
eq "lambda-speed --once exits 0" "$?" 0
eq "speed: 5 late, 1 accepted" "$(status "$T/arch" '"\(.late) \(.accepted)"')" "5 1"
start arch

eq "/late?country=FR: each late bucket, summed, archived" \
    "$(get "/v1/views/by_country/late?country=FR" | canon buckets)" "$(expect late FR)"
eq "/late?country=DE" \
    "$(get "/v1/views/by_country/late?country=DE" | canon buckets)" "$(expect late DE)"
eq "/late?country=FR&from=&to=: the range selects buckets" \
    "$(get "/v1/views/by_country/late?country=FR&from=${A}T01:00:00Z&to=${A}T02:00:00Z" | canon buckets)" \
    "$(expect late FR "${A}T01:00:00Z" "${A}T02:00:00Z")"
eq "/late of a group with none: no bucket" \
    "$(get "/v1/views/by_country/late?country=ES" | canon buckets)" "[]"
eq "/late with an unknown parameter: 400" \
    "$(curl -s -o /dev/null -w '%{http_code}' "$URL/v1/views/by_country/late?country=FR&form=1")" 400
eq "/late of an unknown view: 404" \
    "$(curl -s -o /dev/null -w '%{http_code}' "$URL/v1/views/nope/late")" 404
eq "total?country=FR: pending" \
    "$(get "/v1/views/by_country/total?country=FR" | canon pending)" "$(expect pending FR)"
eq "series?country=FR (a range): pending of that range" \
    "$(get "/v1/views/by_country/series?country=FR&from=${A}T00:00:00Z&to=${A}T05:00:00Z" | canon pending)" \
    "$(expect pending FR "${A}T00:00:00Z" "${A}T05:00:00Z")"
series_url="/v1/views/by_country/series?country=FR&step=1d"
eq "series (all time, answered twice: the second from the cache)" \
    "$(get "$series_url" >/dev/null; get "$series_url" | canon pending)" "$(expect pending FR)"
eq "total over a range with no late event: no pending" \
    "$(get "/v1/views/by_country/total?country=FR&from=$(day 3)T00:00:00Z" | canon pending)" null
total_before=$(get "/v1/views/totals/total" | canon metrics.orders)
eq "the total does not count them yet (5 in batch, 1 in speed)" "$total_before" 6
"$BATCH" -c "$T/arch.json" --verify >"$T/verify.out" 2>&1
check "lambda-batch --verify walks the ledger ($(cat "$T/verify.out"))" \
    grep -q "no damage found.*late-data ledger [0-9]* entries" "$T/verify.out"

# the batch: the archive is sealed (--once exits)
absorbed_fr=$(expect buckets FR) absorbed_de=$(expect buckets DE)
batch arch
eq "the publish over the archive" "$?" 0
eq "/late?country=FR after the publish: empty" \
    "$(get "/v1/views/by_country/late?country=FR" | canon buckets)" "[]"
eq "/late?country=DE after the publish: empty" \
    "$(get "/v1/views/by_country/late?country=DE" | canon buckets)" "[]"
eq "total?country=FR: no pending" \
    "$(get "/v1/views/by_country/total?country=FR" | canon pending)" null
eq "the cached series is not served after the publish: no pending" \
    "$(get "$series_url" | canon pending)" null
eq "the total now counts them" "$(get "/v1/views/totals/total" | canon metrics.orders)" 11
get /v1/publishes/2 >"$T/pub2.json"
eq "publish 2, by_country: why" \
    "$(jq -c '.views[] | select(.view == "by_country") | .why' "$T/pub2.json")" \
    "{\"late events absorbed\":$(echo $absorbed_fr $absorbed_de | wc -w)}"
eq "publish 2, by_country: exactly the late buckets" \
    "$(jq -r '.views[] | select(.view == "by_country") | [.added[], .changed[]] |
        map("\(.key | tojson)@\(.t) \(.why)") | sort | .[]' "$T/pub2.json" | tr '\n' ' ')" \
    "$(for b in $absorbed_de $absorbed_fr; do printf '%s late events absorbed ' "$b"; done)"
eq "publish 2, totals: the two late days" \
    "$(jq -c '.views[] | select(.view == "totals") | .why' "$T/pub2.json")" \
    '{"late events absorbed":2}'

# ---- without an archive -------------------------------------------------
batch noarch
eq "no archive: the first publish" "$?" 0
"$PRODUCE" -c "$T/noarch.json" -b "$BROKERS" "$T/late.jsonl" >"$T/p3.log" 2>&1
"$SPEED" -c "$T/noarch.json" --brokers "$BROKERS" --group g2 --once >"$T/once2.log" 2>&1
eq "no archive: lambda-speed --once exits 0" "$?" 0
start noarch
eq "no archive: /late lists them, archived:false" \
    "$(get "/v1/views/by_country/late?country=FR" | canon buckets)" "$(expect late_unarchived FR)"
eq "no archive: total has no pending (never archived: no batch run counts them)" \
    "$(get "/v1/views/by_country/total?country=FR" | canon pending)" null
eq "no archive: /late counts them as unarchived" \
    "$(get "/v1/views/by_country/late?country=FR" | jq -c '[.events, .unarchived]')" \
    "[0,$(grep -c '"FR".*"amount":[0-9]' "$T/late.jsonl")]"
batch noarch
eq "no archive: a publish" "$?" 0
eq "no archive: the entries stay after it" \
    "$(get "/v1/views/by_country/late?country=FR" | canon buckets)" "$(expect late_unarchived FR)"
eq "no archive: the total does not count them" \
    "$(get "/v1/views/totals/total" | canon metrics.orders)" 5

# ---- a reset whose replay counts late events ------------------------------
# no batch: an on-time order ten minutes ago, then one three hours ago, late
# (before the watermark); a reset to four hours ago replays both, counts
# both, and takes the late one out of the ledger in its transaction
NOW=$(date +%s)
at() { date -u -d "@$((NOW - $1))" +%Y-%m-%dT%H:%M:%SZ; }
printf '{"country":"IT","amount":2.00,"ts":"%s"}\n' "$(at 600)" >"$T/replay1.jsonl"
printf '{"country":"IT","amount":3.00,"ts":"%s"}\n' "$(at 10800)" >"$T/replay2.jsonl"
mkdir -p "$T/archive2"
for i in 1 2; do     # a commit each: the second is judged by the first's watermark
    "$PRODUCE" -c "$T/replay.json" -b "$BROKERS" "$T/replay$i.jsonl" >>"$T/p4.log" 2>&1
    "$SPEED" -c "$T/replay.json" --brokers "$BROKERS" --group g3 --once >>"$T/once3.log" 2>&1
done
eq "replay: 1 late, 1 accepted" "$(status "$T/replay" '"\(.late) \(.accepted)"')" "1 1"
start replay
eq "replay: the late order is pending" \
    "$(get "/v1/views/by_country/total?country=IT" | jq -c '[.metrics.orders, .pending.events]')" "[1,1]"
"$SPEED" -c "$T/replay.json" --brokers "$BROKERS" --reset-to -4h --dry-run >"$T/dry.out" 2>&1
check "replay: --dry-run names the ledger's entries that would go" \
    grep -q "^late-data ledger: 2 entries (one per view and bucket) would go" "$T/dry.out"
eq "replay: --dry-run deletes none" \
    "$(get "/v1/views/by_country/late?country=IT" | jq '.buckets | length')" 1
"$SPEED" -c "$T/replay.json" --brokers "$BROKERS" --reset-to -4h >"$T/reset.out" 2>"$T/reset.log"
eq "replay: --reset-to -4h exits 0" "$?" 0
check "replay: the reset deletes the ledger's entries (one per view)" \
    grep -q "^late-data ledger: 2 entries deleted" "$T/reset.out"
"$SPEED" -c "$T/replay.json" --brokers "$BROKERS" --group g3 --once >"$T/once4.log" 2>&1
eq "replay: --once after the reset exits 0" "$?" 0
eq "replay: both orders counted once, none pending" \
    "$(get "/v1/views/by_country/total?country=IT" | jq -c '[.metrics.orders, .pending]')" "[2,null]"
eq "replay: /late lists nothing" \
    "$(get "/v1/views/by_country/late?country=IT" | canon buckets)" "[]"

finish
