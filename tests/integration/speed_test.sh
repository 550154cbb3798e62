#!/bin/bash
# speed_test.sh -- lambda-speed against the development broker: configuration, --once on an
# empty topic, invariant 1 (speed and batch give byte-identical views), rejects and status
. "$(dirname "$0")/speed_lib.sh"

start_broker -t empty:4 -t inv1:4 -t rej:1 -t rej.out:1 -t gen:3

# ---- configuration ----
orders_pipeline "$T/ok.json" "$T/bad" inv1 ''
"$SPEED" -c "$T/ok.json" --check-config >"$T/ok.out" 2>&1
eq "--check-config exits 0" "$?" 0
check "  ... and prints configuration OK" grep -q "^configuration OK" "$T/ok.out"
jq '.speed.kafka["enable.auto.commit"] = true' "$T/ok.json" >"$T/bad.json"
"$SPEED" -c "$T/bad.json" --check-config >"$T/bad.out" 2>&1
eq "speed.kafka may not override enable.auto.commit (exit 2)" "$?" 2
check "  ... and says why" grep -q "speed.kafka.enable.auto.commit" "$T/bad.out"
"$SPEED" --once >/dev/null 2>&1
eq "no pipeline: usage error" "$?" 2
"$SPEED" -c "$T/bad.json" --bogus >/dev/null 2>&1
eq "unknown flag: usage error" "$?" 2

# ---- --once on an empty topic ----
orders_pipeline "$T/empty.json" "$T/empty" empty ''
start=$(now_ms)
"$SPEED" -c "$T/empty.json" --brokers "$BROKERS" --group empty-1 --once \
    >"$T/empty.log" 2>&1
eq "--once on an empty topic exits 0" "$?" 0
check "  ... within 15 s" [ $(( $(now_ms) - start )) -lt 15000 ]
check "  ... after logging the assignment" grep -q "assigned empty:" "$T/empty.log"

# ---- invariant 1: the same events through speed and through batch ----
orders_pipeline "$T/inv1.json" "$T/inv1" inv1 ''
gen_orders 3000 7 >"$T/gen.jsonl"
files="datasets/orders/history/2026-11-19.jsonl datasets/orders/history/transactions.json $T/gen.jsonl"
# shellcheck disable=SC2086
"$PRODUCE" -c "$T/inv1.json" -b "$BROKERS" $files >"$T/produce1.log" 2>&1
eq "lambda-produce replays JSON Lines and JSON arrays" "$?" 0
produced=$(( $(cat datasets/orders/history/2026-11-19.jsonl "$T/gen.jsonl" | grep -c .) +
    $(jq length datasets/orders/history/transactions.json) ))
"$SPEED" -c "$T/inv1.json" --brokers "$BROKERS" --group inv1-1 --once \
    >"$T/inv1.log" 2>&1
eq "lambda-speed --once exits 0" "$?" 0
# shellcheck disable=SC2086
batch_of "$T/inv1.json" "$T/inv1-batch" $files
eq "lambda-batch over the same files exits 0" "$?" 0
same_views invariant1 "$T/inv1.json" "$T/inv1" "$T/inv1-batch"
eq "status: consumed every record" "$(status "$T/inv1" .consumed)" "$produced"
eq "status: consumed = accepted + rejected" \
    "$(status "$T/inv1" '.accepted + .rejected')" "$produced"
reasons() {
    jq -r .reason "$1" | sort | uniq -c | tr -s ' '
}
eq "rejects: same reasons as batch" "$(reasons "$T/inv1/rejects/speed.jsonl")" \
    "$(reasons "$T/inv1-batch.rejects.jsonl")"
eq "rejects: counted by reason in the status" \
    "$(status "$T/inv1" '.rejects | to_entries | map(select(.value > 0)) | sort_by(.key) | map("\(.key)=\(.value)") | join(",")')" \
    "$(jq -r .reason "$T/inv1-batch.rejects.jsonl" | sort | uniq -c | awk '{ printf "%s%s=%s", (NR > 1 ? "," : ""), $2, $1 }')"
for f in consumed accepted rejected rejects late lost commits last_commit \
         watermark freshness_ms lag lag_seconds partitions; do
    check "status has \"$f\"" [ "$(status "$T/inv1" "has(\"$f\")")" = true ]
done
eq "status: no lag left after --once" "$(status "$T/inv1" '[.lag[]] | add')" 0
has_meta() {
    "$META" "$1" "$2" i64 >/dev/null
}
check "offsets are in the store" has_meta "$T/inv1" offset/inv1/0
"$SPEED" -c "$T/inv1.json" --brokers "$BROKERS" --group inv1-2 --once \
    >"$T/inv1b.log" 2>&1
eq "a second --once exits 0" "$?" 0
eq "  ... and finds nothing new" "$(status "$T/inv1" .consumed)" "$produced"
same_views "invariant1-after-rerun" "$T/inv1.json" "$T/inv1" "$T/inv1-batch"

# a batch publish with a cutoff: the next commit drops speed rows before it
# (past speed's watermark, a lateness of 366 days behind: --force)
# shellcheck disable=SC2086
"$BATCH" -c "$T/inv1.json" --until 2026-11-19T00:00:00Z --force --no-progress \
    --rejects "$T/inv1-cut.rejects.jsonl" $files >"$T/inv1-cut.out" 2>&1
eq "lambda-batch publishes a cutoff into speed's store" "$?" 0
before_cut() {
    "$VIEWDUMP" "$T/inv1.json" "$T/inv1" speed | cut -f3 |
        awk '$1 < "2026-11-19T00:00:00Z"' | wc -l
}
check "  ... speed rows before it exist until speed commits" [ "$(before_cut)" -gt 0 ]
echo '{"customer":"late-comer","amount":1.00,"ts":"2026-11-19T13:00:00Z"}' >"$T/one.jsonl"
"$PRODUCE" -b "$BROKERS" -t inv1 "$T/one.jsonl" >>"$T/produce1.log" 2>&1
"$SPEED" -c "$T/inv1.json" --brokers "$BROKERS" --group inv1-3 --once \
    >"$T/inv1c.log" 2>&1
eq "  ... --once exits 0" "$?" 0
eq "  ... then no speed row is older than the cutoff" "$(before_cut)" 0
check "  ... rows from the cutoff on stay" [ "$("$VIEWDUMP" "$T/inv1.json" "$T/inv1" speed | wc -l)" -gt 0 ]
check "  ... and it says so" grep -q "pruned speed buckets before the batch cutoff 2026-11-19T00:00:00Z" "$T/inv1c.log"

# a view whose definition changed while speed rows exist: skipped until
# lambda-batch switches it, rows intact
jq '(.views | to_entries[0].key) as $v | .views[$v].granularity = "1d"' \
    "$T/inv1.json" >"$T/inv1-changed.json"
"$VIEWDUMP" "$T/inv1.json" "$T/inv1" speed >"$T/inv1-before.txt"
"$SPEED" -c "$T/inv1-changed.json" --brokers "$BROKERS" --group inv1-4 --once \
    >"$T/inv1d.log" 2>&1
eq "a changed view: lambda-speed runs (exit 0)" "$?" 0
check "  ... saying which view it leaves to lambda-batch" \
    grep -q "view $(jq -r '.views | keys_unsorted[0]' "$T/inv1.json"): .* defines it otherwise than the store's rows: its speed rows are not written until lambda-batch publishes this definition" "$T/inv1d.log"
"$VIEWDUMP" "$T/inv1.json" "$T/inv1" speed >"$T/inv1-after.txt"
check "  ... and leaves the speed rows as they were" cmp -s "$T/inv1-before.txt" "$T/inv1-after.txt"

# generated events: int, decimal, bool, where, optional and nested fields
cat >"$T/gen.json" <<EOF
{
  "name": "gen", "store": "$T/gen",
  "event": {"time": "meta.at", "fields": {
      "site": "string", "ok": "bool",
      "reading.value": {"type": "decimal", "scale": 3, "min": -50, "max": 50},
      "reading.count": {"type": "int", "min": 0, "max": 9},
      "zone": {"type": "string", "required": false}}},
  "views": {
    "by_site": {"group_by": ["site", "ok"], "granularity": "1s",
        "metrics": {"n": "count", "sum": "sum(reading.value)",
                    "avg": "avg(reading.count)", "lo": "min(reading.value)",
                    "hi": "max(reading.value)"}},
    "by_zone": {"group_by": ["zone"], "granularity": "1m",
        "where": {"ok": true, "reading.count": {"in": [1, 3, 5]}},
        "metrics": {"n": "count", "sum": "sum(reading.value)"}}
  },
  "speed": {"topic": "gen", "lateness": "366d", "kafka": {$KAFKA_TEST_PROPS}}
}
EOF
"$PRODUCE" -c "$T/gen.json" -b "$BROKERS" --generate --count 5000 \
    --cardinality 20 --seed 3 >"$T/produce-gen.log" 2>&1
eq "lambda-produce --generate exits 0" "$?" 0
"$SPEED" -c "$T/gen.json" --brokers "$BROKERS" --group gen-1 --once \
    >"$T/gen.log" 2>&1
eq "lambda-speed --once over generated events exits 0" "$?" 0
eq "generated events are all valid" "$(status "$T/gen" .accepted)" 5000
# the same events for batch, read back from the topic by a second speed
# run with an archive
cat "$T/gen.json" | jq --arg a "$T/gen-archive" --arg s "$T/gen2" \
    '.store = $s | .speed.archive = $a' >"$T/gen2.json"
"$SPEED" -c "$T/gen2.json" --brokers "$BROKERS" --group gen-2 --once \
    >"$T/gen2.log" 2>&1
batch_of "$T/gen.json" "$T/gen-batch" "$T/gen-archive"
eq "lambda-batch over speed's archive exits 0" "$?" 0
same_views generated "$T/gen.json" "$T/gen" "$T/gen-batch"

# ---- rejects: malformed, mistyped, missing, late; to a file and a topic ----
cat >"$T/rej.jsonl" <<'EOF'
{"customer":"a","amount":1.00,"ts":"2026-11-19T12:00:00Z"}
{"customer":"b","amount":2.00,"ts":"2026-11-19T12:30:00Z"}
{"customer":"late","amount":3.00,"ts":"2026-11-19T10:00:00Z"}
{"customer":"c","amount":4.00,"ts":"2026-11-19T11:45:00Z"}
{"customer":"d","amount":"5.00","ts":"2026-11-19T12:31:00Z"}
{"amount":6.00,"ts":"2026-11-19T12:32:00Z"}
{"customer":"e","amount":7.001,"ts":"2026-11-19T12:33:00Z"}
{"customer":"f","amount":-8,"ts":"2026-11-19T12:34:00Z"}
{"customer":"g","amount":9.00,"ts":"2026-11-19T12:35:00
[1,2,3]
{"customer":"late2","amount":10.00,"ts":"2026-11-19T11:00:00Z"}
{"customer":"h","amount":11.00,"ts":"not a time"}
{"customer":"i","amount":12.00,"ts":"2026-11-19T12:36:00Z"}
EOF
"$PRODUCE" -b "$BROKERS" -t rej "$T/rej.jsonl" >"$T/produce-rej.log" 2>&1
for sink in file topic; do
    if [ $sink = file ]; then
        extra=''
    else
        extra=', "rejects_topic": "rej.out"'
    fi
    orders_pipeline "$T/rej-$sink.json" "$T/rej-$sink" rej ''
    # one event per micro-batch, so the watermark moves after every event
    jq ".speed.lateness = \"1h\" | .speed.max_batch = 1 | .speed += {${extra#, }}" \
        "$T/rej-$sink.json" >"$T/rej-$sink.tmp" && mv "$T/rej-$sink.tmp" "$T/rej-$sink.json"
    "$SPEED" -c "$T/rej-$sink.json" --brokers "$BROKERS" --group "rej-$sink" \
        --once >"$T/rej-$sink.log" 2>&1
    eq "rejects to a $sink: --once exits 0" "$?" 0
    eq "rejects to a $sink: counted by reason" \
        "$(status "$T/rej-$sink" '[.accepted, .rejected, .late, .rejects.wrong_type, .rejects.missing_field, .rejects.too_many_decimals, .rejects.out_of_range, .rejects.invalid_json, .rejects.not_object, .rejects.bad_time] | map(tostring) | join(" ")')" \
        "4 9 2 1 1 1 1 1 1 1"
done
eq "rejects file: one record per reject" "$(grep -c . "$T/rej-file/rejects/speed.jsonl")" 9
eq "rejects file: topic, partition, offset, reason of each" \
    "$(jq -r '"\(.topic)/\(.partition)/\(.offset)/\(.reason)"' "$T/rej-file/rejects/speed.jsonl" | tr '\n' ' ')" \
    "rej/0/2/late rej/0/4/wrong_type rej/0/5/missing_field rej/0/6/too_many_decimals rej/0/7/out_of_range rej/0/8/invalid_json rej/0/9/not_object rej/0/10/late rej/0/11/bad_time "
eq "rejects file: the raw record and a message" \
    "$(jq -r 'select(.offset == 4) | "\(.raw)|\(.message | length > 0)"' "$T/rej-file/rejects/speed.jsonl")" \
    '{"customer":"d","amount":"5.00","ts":"2026-11-19T12:31:00Z"}|true'
check "no rejects file when they go to a topic" [ ! -e "$T/rej-topic/rejects/speed.jsonl" ]
# read the rejects topic back with a second lambda-speed: a view by reason
cat >"$T/rejmon.json" <<EOF
{
  "name": "rejmon", "store": "$T/rejmon",
  "event": {"time": "timestamp", "fields": {"reason": "string",
      "offset": "int", "topic": "string", "raw": "string"}},
  "views": {"by_reason": {"group_by": ["reason"], "granularity": "1d",
      "metrics": {"n": "count", "offsets": "sum(offset)"}}},
  "speed": {"topic": "rej.out", "lateness": "366d", "kafka": {$KAFKA_TEST_PROPS}}
}
EOF
"$SPEED" -c "$T/rejmon.json" --brokers "$BROKERS" --group rejmon --once \
    >"$T/rejmon.log" 2>&1
eq "rejects topic: every reject, readable JSON" "$(status "$T/rejmon" '"\(.accepted) \(.rejected)"')" "9 0"
eq "rejects topic: by reason" \
    "$("$VIEWDUMP" "$T/rejmon.json" "$T/rejmon" speed | cut -f5 | jq -r '"\(.key.reason)=\(.metrics.n)/\(.metrics.offsets)"' | tr '\n' ' ')" \
    "bad_time=1/11 invalid_json=1/8 late=2/12 missing_field=1/5 not_object=1/9 out_of_range=1/7 too_many_decimals=1/6 wrong_type=1/4 "

finish
