#!/bin/bash
# speed_fault_test.sh -- Kafka faults end clearly: lambda-speed names an unreachable broker
# and why, once; --once gives up after --wait seconds with exit 1 and the reason; SIGTERM
# ends lambda-speed and lambda-produce within seconds with the broker gone; --once on the
# development broker does not wait for a group (twice on the same group, each quick) and
# still commits its offsets to the group; a fatal error is logged as an error
. "$(dirname "$0")/speed_lib.sh"   # T, SPEED, PRODUCE, start_broker, broker_cmd, status

# a pipeline as a user writes it: no test properties (librdkafka's defaults,
# a session timeout of 45 s)
user_pipeline() {   # FILE STORE BROKERS TOPIC
    cat >"$1" <<EOF
{"name": "fault", "store": "$2",
 "event": {"time": "ts", "fields": {"customer": "string"}},
 "views": {"totals": {"granularity": "1m", "metrics": {"orders": "count"}}},
 "speed": {"brokers": "$3", "topic": "$4", "group": "fault-group"}}
EOF
}
elapsed() { echo $(( $(now_ms) - $1 )); }
lines() { grep -c -- "$2" "$1"; }
# gives_up DESC LOG CMD...: CMD, a --once that cannot reach its broker with a
# wait of 2 s, exits 1 within that bound (and a few seconds to start and stop)
gives_up() {
    local desc=$1 log=$2 start rc ms
    shift 2
    start=$(now_ms)
    "$@" >"$log" 2>&1
    rc=$?
    ms=$(elapsed "$start")
    eq "$desc: exit 1" "$rc" 1
    check "  ... within the bound ($ms ms)" [ "$ms" -lt $(( (2 + 4) * 1000 * SLOW )) ]
}
# terminate PID: SIGTERM; sets rc (its exit status) and ms (how long it took)
terminate() {
    local start
    start=$(now_ms)
    kill -TERM "$1"
    wait "$1"
    rc=$?
    ms=$(elapsed "$start")
}

# ---- --once against a broker that refuses, and a name that does not resolve
user_pipeline "$T/refused.json" "$T/refused" 127.0.0.1:1 fault
gives_up "--once --wait 2, brokers 127.0.0.1:1" "$T/refused.log" \
    "$SPEED" -c "$T/refused.json" --once --wait 2
check "  ... naming the broker and the cause" grep -q \
    "warn: cannot reach 127.0.0.1:1/bootstrap: Connect to ipv4#127.0.0.1:1 failed: Connection refused$" \
    "$T/refused.log"
eq "  ... once, not at every retry" "$(lines "$T/refused.log" "warn: cannot reach")" 1
check "  ... the last word is an error with the reason" grep -q \
    "error: --once: no broker answered in 2 s (cannot reach 127.0.0.1:1/bootstrap: Connect to ipv4#127.0.0.1:1 failed: Connection refused); giving up" \
    "$T/refused.log"

user_pipeline "$T/noname.json" "$T/noname" no-such-host.invalid:9092 fault
gives_up "--once (LAMBDA_WAIT=2), a name that does not resolve" "$T/noname.log" \
    env LAMBDA_WAIT=2 "$SPEED" -c "$T/noname.json" --once
check "  ... naming it and the cause" grep -q \
    "warn: cannot reach no-such-host.invalid:9092/bootstrap: Failed to resolve 'no-such-host.invalid:9092'" \
    "$T/noname.log"
check "  ... and giving up with an error" grep -q \
    "error: --once: no broker answered in 2 s (cannot reach no-such-host.invalid:9092/bootstrap: Failed to resolve" \
    "$T/noname.log"
"$SPEED" -c "$T/refused.json" --wait 2 >"$T/wait.log" 2>&1
eq "--wait without --once: usage error" "$?" 2
"$SPEED" -c "$T/refused.json" --once --wait 0 >"$T/wait0.log" 2>&1
eq "--wait 0: usage error" "$?" 2

# ---- SIGTERM with the brokers away: lambda-speed
"$SPEED" -c "$T/refused.json" >"$T/term.log" 2>&1 &
pid=$!
bg $pid
wait_until 10 grep -q "cannot reach" "$T/term.log"
terminate "$pid"
eq "lambda-speed, brokers unreachable, SIGTERM: exit 0" "$rc" 0
check "  ... within 3 s ($ms ms)" [ "$ms" -lt $((3000 * SLOW)) ]

# ---- the development broker: --once does not wait for a group
start_broker -t fault:4
user_pipeline "$T/dev.json" "$T/dev" "$BROKERS" fault
for run in 1 2; do
    start=$(now_ms)
    "$SPEED" -c "$T/dev.json" --once >"$T/dev$run.log" 2>&1
    rc=$?
    ms=$(elapsed "$start")
    eq "--once $run on an empty topic, the same group: exit 0" "$rc" 0
    check "  ... in under 3 s ($ms ms; a group join took 3 s, and 44 s after a leave)" \
        [ "$ms" -lt $((3000 * SLOW)) ]
done
check "  ... it logs its partitions" grep -q "assigned fault: \[0\]" "$T/dev2.log"
for i in $(seq 1 40); do
    printf '{"customer":"c%d","ts":"2026-11-19T10:%02d:00Z"}\n' "$i" "$i"
done >"$T/events.jsonl"
"$PRODUCE" -c "$T/dev.json" "$T/events.jsonl" >"$T/produce.log" 2>&1
"$SPEED" -c "$T/dev.json" --once >"$T/dev3.log" 2>&1
eq "--once over 40 events: exit 0" "$?" 0
eq "  ... every event counted" "$(status "$T/dev" .accepted)" 40
# the group holds the offsets: a group consumer starting from them (earliest
# where it has none) finds nothing left
timeout 30 kcat -C -b "$BROKERS" -G fault-group -X auto.offset.reset=earliest \
    -e -q fault >"$T/kcat.out" 2>"$T/kcat.log"
eq "  ... and its offsets are the group's (nothing left for a group member)" \
    "$(grep -c . "$T/kcat.out")" 0

# ---- SIGTERM with the broker gone: lambda-produce
broker_cmd down
"$PRODUCE" -c "$T/dev.json" "$T/events.jsonl" >"$T/gone.log" 2>&1 &
pid=$!
bg $pid
sleep 1
terminate "$pid"
eq "lambda-produce, broker gone, SIGTERM: exit 1" "$rc" 1
check "  ... within 3 s ($ms ms; it waited for minutes)" [ "$ms" -lt $((3000 * SLOW)) ]
check "  ... saying what was not delivered" grep -q \
    "error: stopped by signal 15: 40 events not delivered" "$T/gone.log"
# ---- no broker ever answered: lambda-produce gives up by itself
start=$(date +%s%N)
"$PRODUCE" -c "$T/dev.json" --connect-timeout 1 "$T/events.jsonl" >"$T/never.log" 2>&1
rc=$?
ms=$(( ($(date +%s%N) - start) / 1000000 ))
eq "lambda-produce, no broker, --connect-timeout 1: exit 1" "$rc" 1
check "  ... within 4 s ($ms ms; it waited 5 minutes)" [ "$ms" -lt $((4000 * SLOW)) ]
check "  ... saying so, and what was not delivered" grep -q \
    "error: no broker answered at $BROKERS within 1 s (is it running? --connect-timeout waits longer): 40 events not delivered" \
    "$T/never.log"
broker_cmd up

# ---- a fatal error is an error, not a warning
touch "$T/afile"
user_pipeline "$T/nostore.json" "$T/afile/store" "$BROKERS" fault
"$SPEED" -c "$T/nostore.json" --once >"$T/nostore.log" 2>&1
eq "a store that cannot be created: exit 1" "$?" 1
check "  ... logged as an error" grep -q "error: store $T/afile/store: " "$T/nostore.log"
check "  ... and not as a warning" sh -c "! grep -q 'warn: store' '$T/nostore.log'"

finish
