#!/bin/bash
# speed_reset_test.sh -- lambda-speed --reset-to: --dry-run's offsets and rows against python3's
# count of what was produced; reset to a time, to earliest, to -10m, each replayed with --once,
# gives a clean run's views (byte for byte) and HTTP answers; the archive gets no line twice;
# refused (exit 1, naming the pid) while a lambda-speed runs on the store; kill -9 during the
# reset's transaction leaves the old state or the new one
. "$(dirname "$0")/speed_lib.sh"

SERVING="$BUILD/lambda-serving"
start_broker -t rs:4

# reset_pipeline FILE STORE EXTRA: views of 1 s and 2 s, so a reset's
# boundary is a 2 s bucket and the test's phases can be seconds apart
reset_pipeline() {
    cat >"$1" <<EOF
{
  "name": "reset",
  "store": "$2",
  "event": {"time": "ts", "fields": {
      "customer": "string",
      "country":  {"type": "string", "required": false},
      "amount":   {"type": "decimal", "scale": 2, "min": 0}}},
  "views": {
    "by_customer": {"group_by": ["customer"], "granularity": "1s",
        "metrics": {"orders": "count", "revenue": "sum(amount)",
                    "avg_order": "avg(amount)", "max_order": "max(amount)"}},
    "by_country": {"group_by": ["country"], "granularity": "2s",
        "metrics": {"orders": "count", "revenue": "sum(amount)"}}
  },
  "speed": {"topic": "rs", "partitions": 4, "lateness": "1h",
            "kafka": {$KAFKA_TEST_PROPS}$3}
}
EOF
}
reset_pipeline "$T/s1.json" "$T/s1" ", \"archive\": \"$T/archive\""
reset_pipeline "$T/s2.json" "$T/s2" ''

# gen PHASE N SEED FROM_MS TO_MS: N events per partition, event times in
# [FROM, TO) (never after now: they are sent after they happen), one file
# per partition, $T/PHASE.P.jsonl
gen() {
    python3 - "$T" "$@" <<'EOF'
import json, random, sys
tmp, phase, n, seed, lo, hi = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5]), int(sys.argv[6])
rnd = random.Random(seed)
for p in range(4):
    with open("%s/%s.%d.jsonl" % (tmp, phase, p), "w") as f:
        for i in range(n + p * 7):
            e = {"id": "%s-%d-%d" % (phase, p, i), "customer": "c%d" % rnd.randrange(30),
                 "amount": "%d.%02d" % (rnd.randrange(500), rnd.randrange(100)),
                 "ts": rnd.randrange(lo, hi)}
            e["amount"] = float(e["amount"])
            if i % 5 != 0:
                e["country"] = rnd.choice(["DE", "FR", "US"])
            f.write(json.dumps(e) + "\n")
EOF
}
produce() {     # produce PHASE: each partition's file to its partition
    for p in 0 1 2 3; do
        "$PRODUCE" -c "$T/s1.json" -b "$BROKERS" -p "$p" "$T/$1.$p.jsonl" \
            >>"$T/produce.log" 2>&1 || fail "produce $1 to partition $p"
    done
}
once() {        # once PIPELINE GROUP: consume what is there
    "$SPEED" -c "$1" --brokers "$BROKERS" --group "$2" --once >>"$T/once.log" 2>&1
}
offset() {      # offset STORE P
    "$META" "$1" "offset/rs/$2" i64
}
offsets() {
    echo "$(offset "$1" 0) $(offset "$1" 1) $(offset "$1" 2) $(offset "$1" 3)"
}

# phase a: events of the last 20 s; then, from the next 2 s boundary M on,
# phase b: events from 10 s before M to now
now=$(now_ms)
gen a 60 1 $((now - 20000)) "$now"
produce a
now=$(now_ms)
M=$(( (now / 2000 + 1) * 2000 ))
while [ "$(now_ms)" -lt $((M + 50)) ]; do sleep 0.05; done
gen b 50 2 $((M - 10000)) $((M + 40))
produce b
once "$T/s1.json" rs-1
eq "first --once exits 0" "$?" 0
old=$(offsets "$T/s1")

# what a reset to M + 0.7 s must do, from the files alone: M is a 2 s
# boundary, so the boundary is M; phase b's records were sent after M
python3 - "$T" "$M" >"$T/want.dry" <<'EOF'
import datetime, glob, json, sys
tmp, M = sys.argv[1], int(sys.argv[2])
def rfc(ms):
    return datetime.datetime.fromtimestamp(ms / 1000, datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
print("reset to %s: boundary %s (the views' buckets of 2s)" % (rfc(M + 700).replace("Z", ".700Z"), rfc(M)))
ev = []
for p in range(4):
    a = [json.loads(l) for l in open("%s/a.%d.jsonl" % (tmp, p))]
    b = [json.loads(l) for l in open("%s/b.%d.jsonl" % (tmp, p))]
    ev += a + b
    print("partition %d: offset %d -> %d" % (p, len(a) + len(b), len(a)))
for view, gran, key in (("by_customer", 1000, lambda e: e["customer"]),
                        ("by_country", 2000, lambda e: e.get("country"))):
    rows = {(key(e), e["ts"] // gran * gran) for e in ev if e["ts"] >= M}
    if rows:
        bs = [b for _, b in rows]
        print("view %s: %d rows, buckets %s to %s" % (view, len(rows), rfc(min(bs)), rfc(max(bs))))
    else:
        print("view %s: no rows" % view)
print("dry run: nothing changed")
EOF
TIME=$(python3 -c "import datetime,sys; print(datetime.datetime.fromtimestamp($M/1000 + 0.7, datetime.timezone.utc).strftime('%Y-%m-%dT%H:%M:%S.700Z'))")
cp -a "$T/s1" "$T/s1.before"
"$SPEED" -c "$T/s1.json" --brokers "$BROKERS" --reset-to "$TIME" --dry-run \
    >"$T/dry.out" 2>"$T/dry.log"
eq "--dry-run exits 0" "$?" 0
if cmp -s "$T/dry.out" "$T/want.dry"; then
    ok "--dry-run: offsets and rows as computed from the produced files"
else
    fail "--dry-run: offsets and rows as computed from the produced files"
    diff "$T/dry.out" "$T/want.dry"
fi
eq "--dry-run changes no offset" "$(offsets "$T/s1")" "$old"
# a view taken out of the pipeline keeps its speed rows until a publish
# drops them, and the reset deletes them with the others: the dry run
# counts them
jq 'del(.views.by_country)' "$T/s1.json" >"$T/s1-one.json"
"$SPEED" -c "$T/s1-one.json" --brokers "$BROKERS" --reset-to "$TIME" --dry-run \
    >"$T/dry1.out" 2>"$T/dry1.log"
eq "--dry-run, a view taken out of the pipeline: exits 0" "$?" 0
eq "--dry-run, a view taken out of the pipeline: its rows counted" \
    "$(grep -e '^view ' -e '^views ' "$T/dry1.out")" \
    "$(grep '^view by_customer' "$T/want.dry")
views no longer in the pipeline: $(sed -n 's/^view by_country: \([0-9]*\) rows.*/\1/p' "$T/want.dry") rows"
eq "--dry-run changes no row" "$(views "$T/s1.json" "$T/s1" speed | md5sum)" \
    "$(views "$T/s1.json" "$T/s1.before" speed | md5sum)"

"$SPEED" -c "$T/s1.json" --brokers "$BROKERS" --reset-to "$TIME" \
    >"$T/reset1.out" 2>"$T/reset1.log"
eq "--reset-to TIME exits 0" "$?" 0
eq "--reset-to TIME: as many rows deleted as the dry run listed" \
    "$(sed -n 's/^reset done: \([0-9]*\) speed rows deleted.*/\1/p' "$T/reset1.out")" \
    "$(sed -n 's/^view [a-z_]*: \([0-9]*\) rows.*/\1/p' "$T/want.dry" | awk '{ s += $1 } END { print s + 0 }')"
eq "--reset-to TIME: offsets at the first record sent after the boundary" \
    "$(offsets "$T/s1")" "$(sed -n 's/^partition .* -> //p' "$T/want.dry" | tr '\n' ' ' | sed 's/ $//')"
eq "--reset-to TIME: no speed row at or after the boundary" \
    "$(views "$T/s1.json" "$T/s1" speed | awk -F'\t' -v m="$(head -n 1 "$T/want.dry" | sed 's/.*boundary \([^ ]*\) .*/\1/')" '$3 >= m' | wc -l)" 0
eq "--reset-to TIME: the rows before it kept" \
    "$(views "$T/s1.json" "$T/s1" speed | md5sum)" \
    "$(views "$T/s1.json" "$T/s1.before" speed | awk -F'\t' -v m="$(head -n 1 "$T/want.dry" | sed 's/.*boundary \([^ ]*\) .*/\1/')" '$3 < m' | md5sum)"

# more events after the reset, some before the boundary; then the replay
gen c 40 3 $((M - 10000)) "$(now_ms)"
produce c
once "$T/s1.json" rs-2
eq "replay --once exits 0" "$?" 0
once "$T/s2.json" rs-clean
eq "clean --once exits 0" "$?" 0

# same_rows NAME: store s1 against the clean run's s2, byte for byte
same_rows() {
    views "$T/s1.json" "$T/s1" speed >"$T/$1.s1"
    views "$T/s2.json" "$T/s2" speed >"$T/$1.s2"
    if [ -s "$T/$1.s1" ] && cmp -s "$T/$1.s1" "$T/$1.s2"; then
        ok "$1: the views equal a clean run's ($(wc -l <"$T/$1.s1") rows)"
    else
        fail "$1: the views differ from a clean run's"
        diff "$T/$1.s1" "$T/$1.s2" | head -n 10
    fi
}
same_rows "reset to a time, replay"
cat "$T"/[abc].?.jsonl >"$T/all.jsonl"
batch_of "$T/s2.json" "$T/batch" "$T/all.jsonl"
same_views "batch of every event" "$T/s1.json" "$T/s1" "$T/batch"
eq "archive: every event once" \
    "$(cat "$T"/archive/rs/p*/*.jsonl | jq -r .id | sort | uniq | wc -l) $(cat "$T"/archive/rs/p*/*.jsonl | wc -l)" \
    "$(wc -l <"$T/all.jsonl") $(wc -l <"$T/all.jsonl")"

# answers over HTTP, from both stores
python3 - "$SERVING" "$T" <<'EOF'
import http.client, json, os, subprocess, sys, time
sys.path.insert(0, "tests/integration")
from harness import check
serving, tmp = sys.argv[1], sys.argv[2]
procs, ports = [], {}
for s in ("s1", "s2"):
    pf = "%s/%s.port" % (tmp, s)
    procs.append(subprocess.Popen([serving, "-c", "%s/%s.json" % (tmp, s), "--listen", "127.0.0.1:0",
                                   "--port-file", pf], stderr=open(pf + ".log", "w")))
    for _ in range(400):
        if os.path.exists(pf) and os.path.getsize(pf) > 0:
            break
        time.sleep(0.05)
    ports[s] = int(open(pf).read())
def get(port, path):
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    c.request("GET", path)
    r = c.getresponse()
    body = json.loads(r.read())
    c.close()
    body.pop("speed", None)
    return r.status, body
paths = ["/v1/views/by_customer/top?metric=revenue&n=50",
         "/v1/views/by_country/series?step=2s&country=DE",
         "/v1/views/by_country/total?country=FR",
         "/v1/views/by_customer/total?customer=c7"]
for path in paths:
    a, b = get(ports["s1"], path), get(ports["s2"], path)
    check(a[0] == 200 and a == b, "HTTP %s: the same answer as a clean run" % path,
          "%s\n%s" % (a, b))
for p in procs:
    p.terminate()
    p.wait()
import harness
sys.exit(1 if harness.failed else 0)
EOF
[ $? = 0 ] && ok "HTTP answers compared" || fail "HTTP answers compared"

# earliest: every row goes, every record is read again
"$SPEED" -c "$T/s1.json" --brokers "$BROKERS" --reset-to earliest \
    >"$T/reset2.out" 2>"$T/reset2.log"
eq "--reset-to earliest exits 0" "$?" 0
eq "--reset-to earliest: offsets at 0" "$(offsets "$T/s1")" "0 0 0 0"
eq "--reset-to earliest: no speed row" "$(views "$T/s1.json" "$T/s1" speed | wc -l)" 0
eq "--reset-to earliest: no watermark" "$("$META" "$T/s1" speed.watermark i64; echo $?)" 3
once "$T/s1.json" rs-3
same_rows "reset to earliest, replay"

# "-10m": ten minutes ago, before every event here
"$SPEED" -c "$T/s1.json" --brokers "$BROKERS" --reset-to "10m ago" --dry-run \
    >"$T/dry2.out" 2>&1
eq "--reset-to '10m ago' --dry-run: every row would go" \
    "$(grep -c "^partition .* -> 0$" "$T/dry2.out")" 4
"$SPEED" -c "$T/s1.json" --brokers "$BROKERS" --reset-to -10m \
    >"$T/reset3.out" 2>"$T/reset3.log"
eq "--reset-to -10m exits 0" "$?" 0
once "$T/s1.json" rs-4
same_rows "reset to -10m, replay"
eq "archive: still every event once after three resets" \
    "$(cat "$T"/archive/rs/p*/*.jsonl | wc -l)" "$(wc -l <"$T/all.jsonl")"

# usage errors
"$SPEED" -c "$T/s1.json" --reset-to yesterday >/dev/null 2>"$T/usage.err"
eq "--reset-to yesterday: exit 2" "$?" 2
check "  ... saying what a TIME is" grep -q "expected earliest, latest" "$T/usage.err"
"$SPEED" -c "$T/s1.json" --dry-run >/dev/null 2>&1
eq "--dry-run without --reset-to: exit 2" "$?" 2

# refused while a lambda-speed runs on the store
"$SPEED" -c "$T/s1.json" --brokers "$BROKERS" --group rs-5 >"$T/run.log" 2>&1 &
speed=$!
bg $speed
check "a running lambda-speed holds the store's run lock" \
    wait_until 20 grep -qx "$speed" "$T/s1/speed.run.lock"
"$SPEED" -c "$T/s1.json" --brokers "$BROKERS" --reset-to latest \
    >"$T/refused.out" 2>"$T/refused.log"
eq "--reset-to while lambda-speed runs: exit 1" "$?" 1
check "  ... naming it: another lambda-speed is running on $T/s1 (pid $speed)" \
    grep -qF "another lambda-speed is running on $T/s1 (pid $speed)" "$T/refused.log"
"$SPEED" -c "$T/s1.json" --brokers "$BROKERS" --reset-to latest --dry-run \
    >"$T/dry3.out" 2>&1
eq "--dry-run while lambda-speed runs: exit 0, with a note" \
    "$?:$(grep -c "^note: another lambda-speed is running" "$T/dry3.out")" "0:1"
kill -TERM "$speed"
wait "$speed"
eq "lambda-speed stops (exit 0)" "$?" 0
same_rows "no reset happened while lambda-speed ran"

# never forward: records not consumed yet stay to be read, even when the
# time is after them (a minute from now: no record at or after it)
gen d 5 4 $(($(now_ms) - 1000)) "$(now_ms)"
produce d
future=$(python3 -c "import datetime; print(datetime.datetime.fromtimestamp($(now_ms)/1000 + 60, datetime.timezone.utc).strftime('%Y-%m-%dT%H:%M:%SZ'))")
"$SPEED" -c "$T/s1.json" --brokers "$BROKERS" --reset-to "$future" --dry-run \
    >"$T/dry4.out" 2>&1
eq "--reset-to a time after unread records: the offsets stay (not forward)" \
    "$(sed -n 's/^partition \([0-9]\): offset \([0-9]*\) -> \([0-9]*\)$/\2=\3/p' "$T/dry4.out" | tr '\n' ' ')" \
    "$(offsets "$T/s1" | awk '{for (i = 1; i <= NF; i++) printf "%s=%s ", $i, $i}')"

# kill -9 during the reset's transaction: a store with many rows at or
# after the boundary, and a reset to earliest that deletes them all
set_size 100000 0 20000 0
python3 - "$N" >"$T/many.jsonl" <<EOF
import json, sys
n = int(sys.argv[1])
for i in range(n):
    print(json.dumps({"customer": "k%d" % (i % 5000), "amount": 1.25, "ts": $M - 3600000 + i * 7 % 3600000}))
EOF
"$BUILD/tests/integration/speedfill" -c "$T/s1.json" --store "$T/s1" \
    "$T/many.jsonl" >"$T/fill.log" 2>&1
check "speedfill adds $N events" grep -q "$N events" "$T/fill.log"
rows_old=$(views "$T/s1.json" "$T/s1" speed | wc -l)
off_old=$(offsets "$T/s1")
old_new=0; new_new=0; other=0
mkfifo "$T/k.fifo"
for delay in 0 0 0.01 0.03 0.2; do
    rm -rf "$T/k"
    cp -a "$T/s1" "$T/k"
    "$SPEED" -c "$T/s1.json" --store "$T/k" --brokers "$BROKERS" --log-level debug \
        --reset-to earliest >"$T/k.out" 2>"$T/k.fifo" &
    r=$!
    # the log line read as it is written (polling the file is slower than
    # the transaction), then the kill
    while IFS= read -r line; do
        case $line in
        *"store_write: writing"*)
            [ "$delay" = 0 ] || sleep "$delay"
            kill -9 "$r" 2>/dev/null
            break ;;
        esac
    done <"$T/k.fifo"
    wait "$r" 2>/dev/null
    state="$(offsets "$T/k") $(views "$T/s1.json" "$T/k" speed | wc -l)"
    case "$state" in
    "$off_old $rows_old") old_new=$((old_new + 1)) ;;
    "0 0 0 0 0") new_new=$((new_new + 1)) ;;
    *) other=$((other + 1)); echo "     state after kill -9 at +$delay s: $state" ;;
    esac
done
eq "kill -9 during a reset: the old state or the new one (old $old_new, new $new_new)" "$other" 0
check "  ... the kill came before the commit at least once" [ "$old_new" -gt 0 ]
finish
