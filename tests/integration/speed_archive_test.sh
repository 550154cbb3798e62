#!/bin/bash
# speed_archive_test.sh -- speed.archive: accepted events as JSON Lines segments named by
# offset range; a replay after kill -9 (with lines written but never committed) duplicates
# nothing; Kafka-timestamped events keep their time; lambda-batch reads the folder
. "$(dirname "$0")/speed_lib.sh"

start_broker -t arch:2 -t late:1
orders_pipeline "$T/arch.json" "$T/arch" arch ", \"archive\": \"$T/archive\""
A=$T/archive/arch

{
    gen_orders 2000 21
    echo '{"id":90001,"customer":"no-time","amount":1.50}'
    echo '{"id":90002,"customer":"bad","amount":"x","ts":"2026-11-19T01:00:00Z"}'
    echo 'not json at all'
} >"$T/first.jsonl"
"$PRODUCE" -c "$T/arch.json" -b "$BROKERS" "$T/first.jsonl" >"$T/p1.log" 2>&1
"$SPEED" -c "$T/arch.json" --brokers "$BROKERS" --group arch-1 --once \
    >"$T/once1.log" 2>&1
eq "--once with an archive exits 0" "$?" 0
eq "archive: one sealed segment per partition" \
    "$(ls "$A"/p0/*.jsonl "$A"/p1/*.jsonl 2>/dev/null | wc -l)" 2
eq "archive: every accepted event, no reject" "$(cat "$A"/p*/*.jsonl | grep -c .)" \
    "$(status "$T/arch" .accepted)"
no_time=$(cat "$A"/p*/*.jsonl | jq -c 'select(.id == 90001)')
check "an event without time is archived with the Kafka timestamp ($no_time)" \
    sh -c "echo '$no_time' | jq -e '.ts | test(\"^20[0-9-]+T[0-9:.]+Z$\")' >/dev/null"

# kill -9 mid-stream, then pretend a micro-batch wrote its lines and died
# before its commit: lines beyond the committed length of the open segment
gen_orders 3000 22 100000 >"$T/second.jsonl"
"$SPEED" -c "$T/arch.json" --brokers "$BROKERS" --group arch-2 \
    >"$T/run2.log" 2>&1 &
speed=$!
bg $speed
check "lambda-speed gets its partitions" \
    wait_until 30 grep -q "assigned arch: \[" "$T/run2.log"
"$PRODUCE" -c "$T/arch.json" -b "$BROKERS" --rate 1000 "$T/second.jsonl" \
    >"$T/p2.log" 2>&1 &
producer=$!
bg $producer
first=$(status "$T/arch" .accepted)
progressed() {
    [ "$(status "$T/arch" .accepted)" -gt $((first + 500)) ]
}
check "lambda-speed archives while it consumes" wait_until 30 progressed
kill -9 "$speed"
wait "$speed" 2>/dev/null
open_segments=$(find "$A" -name '.*.jsonl.open' | wc -l)
check "kill -9 leaves open segments ($open_segments)" [ "$open_segments" -gt 0 ]
for f in $(find "$A" -name '.*.jsonl.open'); do
    tail -n 3 "$f" >"$T/uncommitted"
    cat "$T/uncommitted" >>"$f"     # three duplicates that no commit knows
done
wait "$producer"
"$SPEED" -c "$T/arch.json" --brokers "$BROKERS" --group arch-3 --once \
    >"$T/once3.log" 2>&1
eq "--once after the kill exits 0" "$?" 0
total=$(( $(grep -c . "$T/first.jsonl") + 3000 ))
eq "every record consumed once" "$(status "$T/arch" .consumed)" "$total"
cat "$A"/p*/*.jsonl >"$T/archived.jsonl"
eq "archive: every accepted event" "$(grep -c . "$T/archived.jsonl")" \
    "$(status "$T/arch" .accepted)"
eq "archive: no duplicate line" "$(jq -r .id "$T/archived.jsonl" | sort | uniq -d | wc -l)" 0
check "archive: no open segment after a clean exit" \
    [ -z "$(find "$A" -name '.*.open')" ]
ranges_ok() {
    for d in "$A"/p*; do
        prev=-1
        for f in "$d"/*.jsonl; do
            name=$(basename "$f" .jsonl)
            first=$((10#${name%-*}))
            last=$((10#${name#*-}))
            [ "$first" -gt "$prev" ] && [ "$last" -ge "$first" ] || return 1
            [ "$(grep -c . "$f")" -le $((last - first + 1)) ] || return 1
            prev=$last
        done
    done
}
check "archive: names are increasing, disjoint offset ranges" ranges_ok
batch_of "$T/arch.json" "$T/batch" "$T/archive"
eq "lambda-batch reads the archive folder" "$?" 0
same_views archive "$T/arch.json" "$T/arch" "$T/batch"

# a late event is rejected by speed but archived, so the next batch counts it
orders_pipeline "$T/late.json" "$T/late" late ", \"archive\": \"$T/larchive\""
jq '.speed.lateness = "1h"' "$T/late.json" >"$T/late.tmp" && mv "$T/late.tmp" "$T/late.json"
echo '{"id":1,"customer":"on-time","amount":2.00,"ts":"2026-11-19T12:00:00Z"}' >"$T/l1.jsonl"
echo '{"id":2,"customer":"late","amount":3.00,"ts":"2026-11-19T09:00:00Z"}' >"$T/l2.jsonl"
"$PRODUCE" -c "$T/late.json" -b "$BROKERS" "$T/l1.jsonl" >"$T/pl1.log" 2>&1
"$SPEED" -c "$T/late.json" --brokers "$BROKERS" --group late-1 --once >"$T/late1.log" 2>&1
"$PRODUCE" -c "$T/late.json" -b "$BROKERS" "$T/l2.jsonl" >"$T/pl2.log" 2>&1
"$SPEED" -c "$T/late.json" --brokers "$BROKERS" --group late-2 --once >"$T/late2.log" 2>&1
eq "late event: rejected by speed as late" "$(status "$T/late" '"\(.accepted) \(.late)"')" "1 1"
eq "late event: archived beside the on-time one" \
    "$(cat "$T"/larchive/late/p0/*.jsonl | jq -r .customer | sort | tr '\n' ' ')" "late on-time "
batch_of "$T/late.json" "$T/lbatch" "$T/larchive"
eq "late event: the next batch run counts it" \
    "$("$VIEWDUMP" "$T/late.json" "$T/lbatch" batch totals | cut -f5 | jq -s -c 'map(.metrics.orders) | add')" 2

# batch holds its cutoff before archived events that speed has not sealed
# yet: a late event of 2026-11-18 sits in an open segment while speed runs
"$SPEED" -c "$T/late.json" --brokers "$BROKERS" --group late-3 >"$T/late3.log" 2>&1 &
speed=$!
bg $speed
check "lambda-speed gets its partition again" \
    wait_until 30 grep -q "assigned late: \[" "$T/late3.log"
echo '{"id":3,"customer":"very-late","amount":4.00,"ts":"2026-11-18T22:00:00Z"}' >"$T/l3.jsonl"
"$PRODUCE" -c "$T/late.json" -b "$BROKERS" "$T/l3.jsonl" >"$T/pl3.log" 2>&1
late_in() { [ "$(status "$T/late" .late)" = 2 ]; }
check "the late event is committed (archived in an open segment)" wait_until 30 late_in
"$BATCH" -c "$T/late.json" --rejects "$T/hold.rejects" --no-progress "$T/larchive" >"$T/hold1.log" 2>&1
eq "batch with an unsealed segment exits 0" "$?" 0
check "  ... and holds its cutoff at the unsealed event's day" \
    grep -q "cutoff held at 2026-11-18T00:00:00Z: lambda-speed has archived events from then on that are not sealed (listed) yet (2 events left to speed)" "$T/hold1.log"
kill -TERM "$speed"
wait "$speed"
eq "lambda-speed seals its segment on SIGTERM" "$?" 0
"$BATCH" -c "$T/late.json" --rejects "$T/hold.rejects" --no-progress "$T/larchive" >"$T/hold2.log" 2>&1
eq "batch after the seal exits 0" "$?" 0
check "  ... and no longer holds its cutoff" sh -c "! grep -q 'lambda-speed has archived' '$T/hold2.log' && grep -q 'cutoff=2026-11-19T00:00:00Z' '$T/hold2.log'"

finish
