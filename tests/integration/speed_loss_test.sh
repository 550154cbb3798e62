#!/bin/bash
# speed_loss_test.sh -- retention deleted records lambda-speed never consumed (the mock keeps
# ~5 MiB per partition): speed.on_data_loss=fail stops with a clear message, skip counts the
# lost range and goes on
. "$(dirname "$0")/speed_lib.sh"

FIRST=1000
MORE=70000      # ~6.3 MB in one partition: the oldest batches are dropped

start_broker -t loss:1
orders_pipeline "$T/loss.json" "$T/loss" loss ''
gen_orders "$FIRST" 1 >"$T/first.jsonl"
gen_orders "$MORE" 2 >"$T/more.jsonl"

"$PRODUCE" -c "$T/loss.json" -b "$BROKERS" "$T/first.jsonl" >"$T/p1.log" 2>&1
"$SPEED" -c "$T/loss.json" --brokers "$BROKERS" --group loss-1 --once \
    >"$T/once1.log" 2>&1
eq "first --once exits 0" "$?" 0
eq "  ... stored offset" "$("$META" "$T/loss" offset/loss/0 i64)" "$FIRST"

"$PRODUCE" -c "$T/loss.json" -b "$BROKERS" "$T/more.jsonl" >"$T/p2.log" 2>&1
eq "producer sent more than the partition keeps" "$?" 0

"$SPEED" -c "$T/loss.json" --brokers "$BROKERS" --group loss-2 --once \
    >"$T/fail.log" 2>&1
eq "on_data_loss=fail (the default): exit 1" "$?" 1
check "  ... naming topic, partition and offset" \
    grep -q "data loss: loss \[0\]: offset $FIRST is no longer in the topic" "$T/fail.log"
eq "  ... the stored offset stays" "$("$META" "$T/loss" offset/loss/0 i64)" "$FIRST"
eq "  ... nothing counted" "$(status "$T/loss" .consumed)" "$FIRST"

"$SPEED" -c "$T/loss.json" --brokers "$BROKERS" --group loss-3 --once \
    --on-data-loss skip >"$T/skip.log" 2>&1
eq "on_data_loss=skip: exit 0" "$?" 0
check "  ... logging the lost range" grep -q "data loss: loss \[0\]: offsets $FIRST\.\." "$T/skip.log"
lost=$(status "$T/loss" .lost)
check "  ... lost records counted in the status ($lost)" [ "${lost:-0}" -gt 0 ]
eq "  ... consumed + lost = produced" "$(status "$T/loss" '.consumed + .lost')" \
    $((FIRST + MORE))
# what is left: the first events, then the tail of the second file
skipped=$((lost))
{
    cat "$T/first.jsonl"
    tail -n +$((skipped + 1)) "$T/more.jsonl"
} >"$T/kept.jsonl"
batch_of "$T/loss.json" "$T/batch" "$T/kept.jsonl"
same_views "after-loss" "$T/loss.json" "$T/loss" "$T/batch"

finish
