#!/bin/bash
# speed_idle_test.sh -- lambda-speed on an idle topic (an empty one, then one it has read to the
# end) writes its status once it is caught up, with no lag, so a replica's /readyz (serving's
# ready.c) can turn ready without waiting for an event; and no commit follows while it stays idle
. "$(dirname "$0")/speed_lib.sh"

set_size 300 1000 300 1000
start_orders idle:4 idle 3
"$SPEED" -c "$T/idle.json" --brokers "$BROKERS" >"$T/speed.log" 2>&1 &
speed=$!
bg $speed
has_status() { [ -n "$(status "$T/idle" .commits)" ]; }
check "an empty topic: the status is written once speed is caught up" wait_until 30 has_status
eq "  ... with no lag" "$(status "$T/idle" '[.partitions[].lag] | add')" 0
eq "  ... after one commit" "$(status "$T/idle" .commits)" 1
sleep 2
eq "  ... and none while the topic stays idle" "$(status "$T/idle" .commits)" 1

"$PRODUCE" -c "$T/idle.json" -b "$BROKERS" "$T/events.jsonl" >"$T/produce.log" 2>&1
consumed() { [ "$(status "$T/idle" .consumed)" = "$N" ]; }
check "the events are consumed" wait_until 30 consumed
eq "  ... the status has no lag at the end" "$(status "$T/idle" '[.partitions[].lag] | add')" 0
kill -TERM "$speed"
wait "$speed"
eq "speed exits 0 on SIGTERM" "$?" 0

# a new process on the same store, nothing new in the topic: caught up at once, status again
before=$(status "$T/idle" .commits)
"$SPEED" -c "$T/idle.json" --brokers "$BROKERS" >"$T/speed2.log" 2>&1 &
speed=$!
bg $speed
newer() { [ "$(status "$T/idle" .commits)" -gt "$before" ] 2>/dev/null; }
check "a restart on a topic read to the end writes its status too" wait_until 30 newer
eq "  ... with no lag and nothing counted twice" \
    "$(status "$T/idle" '[([.partitions[].lag] | add), .consumed] | map(tostring) | join(" ")')" "0 $N"
kill -TERM "$speed"
wait "$speed"
finish
