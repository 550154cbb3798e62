#!/bin/sh
# speed.sh -- `make bench` for lambda-speed on the development broker (4 partitions):
# throughput with exactly-once commits against a plain librdkafka consumer that only
# reads (bench/kafka_raw.c), both while a producer writes; freshness at 10k events/s.
#
# Throughput: each consumer starts on its own topic holding PREFILL events (lz4, so
# the mock's ~5 MiB per partition keeps them), and once it has its partitions a
# producer adds MORE at full speed ("live"); then again with PREFILL + MORE
# waiting and no producer ("backlog": the readers' capacity alone). Rate =
# events / (assignment .. caught up); the raw reader uses lambda-speed's
# librdkafka settings.
# Freshness: lambda-speed with its defaults (commit_ms 100, fetch.wait.max.ms 100)
# while RATE events/s arrive; p50 and p99 of (LMDB commit done - record produce
# time) over every event, from its exit summary.
set -u
BUILD=${BUILD:-build}
PREFILL=${PREFILL:-300000}
MORE=${MORE:-300000}
RATE=${RATE:-10000}
SECONDS_FRESH=${SECONDS_FRESH:-20}
ROUNDS=${ROUNDS:-3}

T=$(mktemp -d "${TMPDIR:-/tmp}/lambda-speed-bench.XXXXXX") || exit 1
broker=
cleanup() {
    [ -n "$broker" ] && kill "$broker" 2>/dev/null
    wait 2>/dev/null
    rm -rf "$T"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

"$BUILD/lambda-devbroker" -f "$T/bootstrap" --log-level warn \
    -t raw1live:4 -t raw2live:4 -t raw3live:4 -t raw1backlog:4 \
    -t raw2backlog:4 -t raw3backlog:4 -t spd1live:4 -t spd2live:4 \
    -t spd3live:4 -t spd1backlog:4 -t spd2backlog:4 -t spd3backlog:4 -t fresh:4 \
    >/dev/null 2>"$T/devbroker.log" &
broker=$!
i=0
while [ ! -s "$T/bootstrap" ]; do
    i=$((i + 1))
    [ $i -gt 200 ] && { echo "bench: development broker did not start"; exit 1; }
    sleep 0.05
done
B=$(cat "$T/bootstrap")

pipeline() {   # pipeline FILE TOPIC STORE KAFKA_PROPS
    cat >"$1" <<JSON
{
  "name": "bench", "store": "$3",
  "event": {"time": "ts", "fields": {
      "customer": "string",
      "country":  {"type": "string", "required": false},
      "amount":   {"type": "decimal", "scale": 2, "min": 0}}},
  "views": {
    "by_customer": {"group_by": ["customer"], "granularity": "10s",
        "metrics": {"orders": "count", "revenue": "sum(amount)",
                    "avg_order": "avg(amount)", "max_order": "max(amount)"}},
    "by_country": {"group_by": ["country"], "granularity": "10s",
        "metrics": {"orders": "count", "revenue": "sum(amount)"}},
    "totals": {"group_by": [], "granularity": "10s",
        "metrics": {"orders": "count", "revenue": "sum(amount)"}}
  },
  "speed": {"topic": "$2", "lateness": "1h",
            "kafka": {"session.timeout.ms": 6000$4}}
}
JSON
}

produce() {    # produce PIPELINE COUNT [ARGS...]
    p=$1 n=$2
    shift 2
    "$BUILD/lambda-produce" -c "$p" -b "$B" --generate --count "$n" \
        --cardinality 1000 -X compression.codec=lz4 "$@" >>"$T/produce.log" 2>&1
}

wait_for() {   # wait_for FILE PATTERN
    i=0
    while ! grep -q "$2" "$1" 2>/dev/null; do
        i=$((i + 1))
        [ $i -gt 600 ] && return 1
        sleep 0.05
    done
}

ms_of() {      # ms_of LOGLINE: its timestamp in ms since the epoch
    t=$(echo "$1" | cut -d' ' -f1)
    echo "$(date -d "${t%.*}Z" +%s)$(echo "$t" | sed 's/.*\.\([0-9]*\)Z/\1/')"
}

# measure MODE ROUND: one raw and one lambda-speed run on fresh topics
# MODE live: PREFILL waiting, MORE produced once the consumer has its
# partitions; MODE backlog: PREFILL + MORE waiting, nothing produced meanwhile
measure() {
    mode=$1 r=$2
    if [ "$mode" = live ]; then first=$PREFILL; else first=$((PREFILL + MORE)); fi
    pipeline "$T/raw$r$mode.json" "raw$r$mode" "$T/raw-store$r$mode" ''
    produce "$T/raw$r$mode.json" "$first"
    "$BUILD/bench/kafka_raw" -b "$B" -t "raw$r$mode" -g "raw$r$mode" \
        >"$T/raw$r$mode.out" 2>"$T/raw$r$mode.err" &
    pid=$!
    wait_for "$T/raw$r$mode.err" assigned
    [ "$mode" = live ] && produce "$T/raw$r$mode.json" "$MORE" --seed 2
    wait $pid
    raw=$(sed -n 's/.*(\([0-9]*\) msg\/s).*/\1/p' "$T/raw$r$mode.out")
    echo "  $mode $r raw reader:   $(sed 's/ from assign.*//; s/^raw: //' "$T/raw$r$mode.out")"

    pipeline "$T/spd$r$mode.json" "spd$r$mode" "$T/spd-store$r$mode" ''
    produce "$T/spd$r$mode.json" "$first"
    "$BUILD/lambda-speed" -c "$T/spd$r$mode.json" --brokers "$B" \
        --group "spd$r$mode" --once 2>"$T/spd$r$mode.log" &
    pid=$!
    wait_for "$T/spd$r$mode.log" "assigned spd$r$mode:"
    [ "$mode" = live ] && produce "$T/spd$r$mode.json" "$MORE" --seed 2
    wait $pid || { echo "bench: lambda-speed failed:"; tail -n 5 "$T/spd$r$mode.log"; exit 1; }
    t0=$(ms_of "$(grep "assigned spd$r$mode:" "$T/spd$r$mode.log")")
    t1=$(ms_of "$(grep "caught up" "$T/spd$r$mode.log")")
    n=$(sed -n 's/.*exiting: consumed \([0-9]*\),.*/\1/p' "$T/spd$r$mode.log")
    commits=$(sed -n 's/.* \([0-9]*\) commits,.*/\1/p' "$T/spd$r$mode.log")
    spd=$(( n * 1000 / (t1 - t0) ))
    echo "  $mode $r lambda-speed: $n events in $(( t1 - t0 )) ms ($spd events/s), $commits commits"
}

for mode in live backlog; do
    if [ $mode = live ]; then
        echo "throughput, producing while consuming: $PREFILL events waiting, $MORE more" \
            "produced at full speed once the consumer has its partitions (4 partitions, lz4)"
    else
        echo "throughput, backlog only: $((PREFILL + MORE)) events waiting, nothing produced"
    fi
    raw_best=0 spd_best=0
    r=1
    while [ $r -le "$ROUNDS" ]; do
        measure $mode $r
        [ "${raw:-0}" -gt "$raw_best" ] && raw_best=$raw
        [ "$spd" -gt "$spd_best" ] && spd_best=$spd
        r=$((r + 1))
    done
    echo "RESULT throughput ($mode): raw $raw_best msg/s, lambda-speed $spd_best events/s," \
        "ratio $(awk -v a="$spd_best" -v b="$raw_best" 'BEGIN { printf "%.2f", b ? a / b : 0 }')" \
        "(target >= 0.50; best of $ROUNDS)"
done

echo "freshness: $RATE events/s for $SECONDS_FRESH s, lambda-speed defaults"
pipeline "$T/fresh.json" fresh "$T/fresh-store" ''
"$BUILD/lambda-speed" -c "$T/fresh.json" --brokers "$B" --group fresh \
    2>"$T/fresh.log" &
pid=$!
wait_for "$T/fresh.log" "assigned fresh:"
"$BUILD/lambda-produce" -c "$T/fresh.json" -b "$B" --generate \
    --count $((RATE * SECONDS_FRESH)) --rate "$RATE" --cardinality 1000 \
    >>"$T/produce.log" 2>&1
sleep 1
kill -TERM $pid
wait $pid
line=$(grep "exiting:" "$T/fresh.log")
echo "  $(echo "$line" | sed 's/.*exiting: //')"
p50=$(echo "$line" | sed -n 's/.*freshness p50 \([0-9-]*\) ms.*/\1/p')
p99=$(echo "$line" | sed -n 's/.*p99 \([0-9-]*\) ms.*/\1/p')
echo "RESULT freshness at $RATE events/s: p50 $p50 ms, p99 $p99 ms (target p99 < 250 ms)"
