#!/bin/bash
# batch_guard_test.sh -- DESIGN invariant 7: a cutoff past the inputs, the clock or speed's
# watermark, and an empty or far smaller version, are refused (exit 2) unless forced, and
# the message names what would leave the answers; the demo's cutoff (history ending
# yesterday, --until today 00:00) is not refused; after a forced cutoff, lambda-speed
# rejects an event before it as late and archives it instead of dropping it
. "$(dirname "$0")/speed_lib.sh"   # T, BATCH, SPEED, PRODUCE, start_broker, status, check, eq

SPEEDFILL="$BUILD/tests/integration/speedfill"
export TZ=UTC

# times relative to now: H, the start of the hour three hours ago; D, the
# start of its UTC day; TODAY, the start of the current UTC day
now=$(date -u +%s)
H=$(( (now - 3 * 3600) / 3600 * 3600 ))
D=$(( H / 86400 * 86400 ))
TODAY=$(( now / 86400 * 86400 ))
iso() { date -u -d "@$1" +%Y-%m-%dT%H:%M:%SZ; }

guard_pipeline() {   # FILE STORE: two views, cutoff unit 1h, speed with an archive
    cat >"$1" <<EOF
{"name": "guard", "store": "$2",
 "event": {"time": "ts", "fields": {"customer": "string",
     "amount": {"type": "decimal", "scale": 2, "min": 0}}},
 "views": {
   "by_customer": {"group_by": ["customer"], "granularity": "1h",
       "metrics": {"orders": "count", "revenue": "sum(amount)"}},
   "totals": {"granularity": "10m", "metrics": {"orders": "count"}}},
 "speed": {"topic": "guard", "archive": "$T/archive", "lateness": "1h",
     "kafka": {$KAFKA_TEST_PROPS}}}
EOF
}
guard_pipeline "$T/p.json" "$T/s1"

# events: N of them, customer c0..c6, from FIRST (epoch s) every STEP s
events() {   # N FIRST STEP
    awk -v n="$1" -v first="$2" -v step="$3" 'BEGIN {
        for (i = 0; i < n; i++)
            printf "{\"customer\":\"c%d\",\"amount\":%d.25,\"ts\":%d}\n",
                i % 7, i % 40, first + i * step }'
}
mkdir -p "$T/hist" "$T/empty" "$T/small"
# the day before D, ending at 13:17 like the demo's history; two big files
# and a small one (the small one alone is less than half of the rows)
events 300 $((D - 86400)) 60 >"$T/hist/a.jsonl"
events 300 $((D - 86400 + 18000)) 60 >"$T/hist/b.jsonl"
events 20 $((D - 86400 + 46000)) 30 >"$T/hist/c.jsonl"
cp "$T/hist/c.jsonl" "$T/small/"
hist_events=$(cat "$T/hist"/*.jsonl | grep -c .)
# speed's events from D on, two hours past H, one every 2 minutes
events 60 $((D + 60)) $(( (H + 7200 - D) / 60 )) >"$T/speed.jsonl"
speed_events=$(grep -c . "$T/speed.jsonl")

run() {   # LOG ARGS...: lambda-batch with both outputs in LOG; $rc its exit status
    local log=$1
    shift
    "$BATCH" -c "$T/p.json" --no-progress "$@" >"$log" 2>&1
    rc=$?
}
has() { grep -qF -- "$2" "$1"; }
version() { "$META" "$1" batch.version i64 2>/dev/null || echo none; }
rows() { "$VIEWDUMP" "$T/p.json" "$1" batch "$2" | grep -c .; }

# ---- the demo's cutoff: history ending yesterday 13:17, --until today 00:00
events 50 $((TODAY - 86400 + 36000)) 60 >"$T/yesterday.jsonl"
run "$T/demo.log" --store "$T/demo" --until "$(iso $TODAY)" "$T/yesterday.jsonl"
eq "the demo's cutoff (inputs end yesterday, --until today 00:00): published" "$rc" 0
check "  ... with that cutoff" has "$T/demo.log" "cutoff=$(iso $TODAY) "

# ---- version 1: the history up to D; then speed's rows and watermark
run "$T/v1.log" --store "$T/s1" --until "$(iso $D)" "$T/hist"
eq "history up to D: published" "$rc" 0
W=$((H + 1800))
"$SPEEDFILL" -c "$T/p.json" --store "$T/s1" --watermark "$(iso $W)" \
    "$T/speed.jsonl" >"$T/fill.out" 2>&1
check "speed rows and watermark written (speedfill)" has "$T/fill.out" "$speed_events events"

# ---- a typo: a year later than meant
typo=$(iso $((D + 365 * 86400)))
run "$T/typo.log" --store "$T/s1" --until "$typo" "$T/hist"
eq "--until a year ahead: refused, exit 2" "$rc" 2
check "  ... past the inputs' end, naming it" has "$T/typo.log" \
    "error: the cutoff $typo is past the inputs' end $(iso $D) (the end of the UTC day of their newest event)"
check "  ... past the wall clock" has "$T/typo.log" "error: the cutoff $typo is past the wall clock"
check "  ... past speed's watermark, naming it" has "$T/typo.log" \
    "error: the cutoff $typo is past lambda-speed's watermark $(iso $W)"
# what leaves: every speed row (all are from D on), counted independently
tot_rows=$(awk '{ t = substr($0, index($0, "\"ts\":") + 5) + 0; print t - t % 600 }' \
    "$T/speed.jsonl" | sort -u | wc -l)
first=$(head -n 1 "$T/speed.jsonl" | jq '.ts - .ts % 600')
last=$(tail -n 1 "$T/speed.jsonl" | jq '.ts - .ts % 600')
check "  ... naming the speed rows that leave: totals, $tot_rows rows, orders=$speed_events" \
    has "$T/typo.log" "view totals: $tot_rows speed rows in the buckets from $(iso "$first") to $(iso "$last") (orders=$speed_events) leave the answers, and no batch version holds them"
check "  ... and by_customer's" has "$T/typo.log" "view by_customer: "
check "  ... and what speed will do" has "$T/typo.log" \
    "lambda-speed will reject as late the events it reads with a time before $typo (its archive keeps them for the next batch run)"
check "  ... the last line says what to do" has "$T/typo.log" \
    "refused: the cutoff $typo is past the inputs' end, the wall clock and lambda-speed's watermark (a typo in --until? give --force to publish it anyway); nothing published"
eq "  ... and version 1 stays" "$(version "$T/s1")" 1
run "$T/typo-dry.log" --store "$T/s1" --until "$typo" --dry-run "$T/hist"
eq "--dry-run says the same: exit 2" "$rc" 2
same_errors() {   # the error lines of two logs, but the clock's reading
    grep -o 'error: .*' "$1" | sed 's/wall clock [^ ]*/wall clock NOW/' >"$T/a"
    grep -o 'error: .*' "$2" | sed 's/wall clock [^ ]*/wall clock NOW/' >"$T/b"
    [ -s "$T/a" ] && cmp -s "$T/a" "$T/b"
}
check "  ... the same lines" same_errors "$T/typo.log" "$T/typo-dry.log"
check "  ... after its summary" has "$T/typo-dry.log" "dry run, nothing published: events=$hist_events "

# ---- each reason alone
# past the watermark only: inputs with an event after the cutoff, cutoff before now
C=$((H + 3600))
events 1 $((C + 300)) 1 >"$T/after.jsonl"
run "$T/wm.log" --store "$T/s1" --until "$(iso $C)" --dry-run "$T/hist" "$T/after.jsonl"
eq "past speed's watermark only: refused (dry run), exit 2" "$rc" 2
check "  ... for that reason alone" sh -c "grep -c 'error: the cutoff' '$T/wm.log' | grep -qx 1 && grep -q 'past lambda-speed.s watermark' '$T/wm.log'"
check "  ... no speed row is lost: the inputs hold those buckets" sh -c "! grep -q 'speed rows in the buckets' '$T/wm.log'"
# past the inputs only: no speed in that store
run "$T/in.log" --store "$T/s2" --until "$(iso $((D + 3600)))" "$T/hist"
eq "past the inputs' end only: refused, exit 2" "$rc" 2
check "  ... for that reason alone" sh -c "grep -c 'error: the cutoff' '$T/in.log' | grep -qx 1 && grep -q \"past the inputs' end\" '$T/in.log'"
check "  ... nothing about speed, which never ran there" sh -c "! grep -q 'lambda-speed' '$T/in.log'"
# past the clock only: an input event from the future proves the inputs reach it
NEXT=$(( (now / 3600 + 1) * 3600 ))
events 1 $((NEXT + 300)) 1 >"$T/future.jsonl"
run "$T/clock.log" --store "$T/s2" --until "$(iso $NEXT)" "$T/hist" "$T/future.jsonl"
eq "past the wall clock only: refused, exit 2" "$rc" 2
check "  ... for that reason alone" sh -c "grep -c 'error: the cutoff' '$T/clock.log' | grep -qx 1 && grep -q 'past the wall clock' '$T/clock.log'"
run "$T/none.log" --store "$T/s2" --until "$(iso $D)" "$T/empty"
eq "inputs without a valid event: any --until is past them" "$rc" 2
check "  ... so it says" has "$T/none.log" "is past the inputs' end: they hold no valid event"

# ---- shards: the merge checks the cutoff the shards were given
for i in 0 1; do
    "$BATCH" -c "$T/p.json" --no-progress --shard "$i/2" --partial "$T/part$i" \
        --until "$typo" "$T/hist" >"$T/shard$i.log" 2>&1
done
run "$T/merge.log" --store "$T/s1" --merge "$T/part0" "$T/part1"
eq "--merge of shards given a typo: refused, exit 2" "$rc" 2
check "  ... naming the inputs' end" has "$T/merge.log" "is past the inputs' end $(iso $D)"

# ---- an empty or wrong input folder
v1_cust=$(rows "$T/s1" by_customer)
v1_tot=$(rows "$T/s1" totals)
run "$T/empty.log" --store "$T/s1" "$T/empty"
eq "an empty input folder: refused, exit 2" "$rc" 2
check "  ... giving both numbers for by_customer ($v1_cust rows)" has "$T/empty.log" \
    "error: view by_customer: 0 rows in the new version against $v1_cust in the published version 1"
check "  ... and for totals ($v1_tot rows)" has "$T/empty.log" \
    "error: view totals: 0 rows in the new version against $v1_tot in the published version 1"
check "  ... and the events ($hist_events)" has "$T/empty.log" \
    "error: 0 events in the new version against $hist_events in the published version 1"
check "  ... and what to do" has "$T/empty.log" \
    "refused: the new version is empty, unlike the published one (inputs missing or wrong? give --allow-shrink to publish it anyway); nothing published"
run "$T/empty-dry.log" --store "$T/s1" --dry-run "$T/empty"
eq "  ... a dry run says the same, exit 2" "$rc" 2
check "  ... with the same lines" has "$T/empty-dry.log" "error: view totals: 0 rows in the new version against $v1_tot"
run "$T/small.log" --store "$T/s1" --until "$(iso $D)" "$T/small"
eq "a folder with a small part of the history: refused, exit 2" "$rc" 2
check "  ... less than half" has "$T/small.log" "refused: the new version is less than half the published one"
run "$T/most.log" --store "$T/s1" --until "$(iso $D)" "$T/hist/a.jsonl" "$T/hist/b.jsonl"
eq "most of the history (more than half of every view): published" "$rc" 0
eq "  ... as version 2" "$(version "$T/s1")" 2
cp -r "$T/s1" "$T/s3"
run "$T/shrink.log" --store "$T/s3" --allow-shrink "$T/empty"
eq "--allow-shrink publishes the empty version" "$rc" 0
check "  ... with a warning giving both numbers" has "$T/shrink.log" \
    "warn: --allow-shrink: view totals: 0 rows in the new version against"
eq "  ... and it is empty" "$(rows "$T/s3" totals)" 0

# ---- --force: published, the same lines as warnings
run "$T/force.log" --store "$T/s1" --until "$typo" --force "$T/hist"
eq "--force publishes the typo" "$rc" 0
check "  ... warning what leaves the answers" has "$T/force.log" \
    "warn: view totals: $tot_rows speed rows in the buckets from $(iso "$first") to $(iso "$last") (orders=$speed_events) leave the answers"
check "  ... and why" has "$T/force.log" "warn: --force: the cutoff $typo is past the wall clock"

# ---- lambda-speed after the forced cutoff: an event before it is late, not lost
start_broker -t guard:1 -t guard4:1
late_t=$((now - 600))
printf '{"customer":"late","amount":9.50,"ts":%d}\n' "$late_t" >"$T/late.jsonl"
"$PRODUCE" -c "$T/p.json" -b "$BROKERS" "$T/late.jsonl" >"$T/produce.log" 2>&1
"$SPEED" -c "$T/p.json" --brokers "$BROKERS" --group guard-1 --once >"$T/speed.log" 2>&1
eq "lambda-speed --once after the forced cutoff exits 0" "$?" 0
eq "  ... the event before the cutoff is late, not accepted" \
    "$(status "$T/s1" '"accepted=\(.accepted) late=\(.late)"')" "accepted=0 late=1"
check "  ... rejected with the reason" sh -c \
    "jq -r 'select(.reason == \"late\") | .message' '$T/s1/rejects/speed.jsonl' | grep -q 'is before the batch cutoff $typo'"
check "  ... and archived, for the next batch run" sh -c \
    "cat '$T'/archive/guard/p0/*.jsonl | jq -e 'select(.customer == \"late\")' >/dev/null"
eq "  ... speed's rows before the cutoff are pruned" "$("$VIEWDUMP" "$T/p.json" "$T/s1" speed | grep -c .)" 0

# ---- a forced cutoff published while speed holds such an event uncommitted
guard_pipeline "$T/p4.json" "$T/s4"
jq --arg a "$T/archive4" '.speed.topic = "guard4" | .speed.commit_ms = 4000 |
    .speed.archive = $a' "$T/p4.json" >"$T/p4.tmp" && mv "$T/p4.tmp" "$T/p4.json"
"$BATCH" -c "$T/p4.json" --no-progress --until "$(iso $D)" "$T/hist" >"$T/v4.log" 2>&1
"$SPEED" -c "$T/p4.json" --brokers "$BROKERS" --group guard-4 >"$T/speed4.log" 2>&1 &
speed=$!
bg $speed
has_status() { [ -n "$(status "$T/s4" .commits)" ]; }
wait_until 30 has_status
"$PRODUCE" -c "$T/p4.json" -b "$BROKERS" "$T/late.jsonl" >"$T/produce4.log" 2>&1
sleep 1     # read into the micro-batch, committed 4 s after it opened
run "$T/force4.log" --store "$T/s4" --until "$typo" --force "$T/hist"
late_in() { [ "$(status "$T/s4" .late)" = 1 ]; }
check "a cutoff published over an open micro-batch: its event turns late" wait_until 30 late_in
eq "  ... and is not counted" "$(status "$T/s4" .accepted)" 0
check "  ... speed says it re-read it" grep -q \
    "lambda-batch published the cutoff $typo while the micro-batch held events before it; re-reading them, as late events" \
    "$T/speed4.log"
kill -TERM $speed
wait $speed
check "  ... and archived it" sh -c \
    "cat '$T'/archive4/guard4/p0/*.jsonl | jq -e 'select(.customer == \"late\")' >/dev/null"

finish
