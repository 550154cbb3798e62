#!/bin/bash
# serving_cache_test.sh -- answers from the caches (the answer cache, top's batch columns and
# speed parts) are byte-identical to answers computed cold (LAMBDA_NO_CACHE=1) from the same
# store, after live speed commits and after batch publishes, with the caches filled meanwhile
. "$(dirname "$0")/speed_lib.sh"

set_size 3000 6000 1500 1500
# spread_days: the orders of gen_orders over 2026-11-18, 19 and 20 (by id)
spread_days() {
    awk '{ d = 18 + (NR % 3); sub(/"ts":"2026-11-19T/, "\"ts\":\"2026-11-" d "T"); print }'
}
start_broker -t cache:4
orders_pipeline "$T/cache.json" "$T/cache" cache ''
gen_orders "$N" 5 | spread_days >"$T/events.jsonl"
gen_orders "$N" 6 "$N" | spread_days >"$T/events2.jsonl"
gen_orders 2000 8 $((2 * N)) | spread_days >"$T/events3.jsonl"

"$SPEED" -c "$T/cache.json" --brokers "$BROKERS" --group cache >"$T/speed.log" 2>&1 &
bg $!
check "lambda-speed gets its partitions" wait_until 30 grep -q "assigned cache: \[" "$T/speed.log"

# serve NAME [VAR=VALUE]: lambda-serving on the store; sets URL_NAME
serve() {
    rm -f "$T/$1.port"
    env ${2:-LAMBDA_X=} "$BUILD/lambda-serving" -c "$T/cache.json" --listen 127.0.0.1:0 \
        --port-file "$T/$1.port" --max-connections-per-ip 0 --log-level warn 2>"$T/$1.log" &
    bg $!
    wait_until 20 test -s "$T/$1.port"
    eval "URL_$1=http://127.0.0.1:$(cat "$T/$1.port")"
}

V=/v1/views
Q=(
    "$V/by_customer/top?metric=revenue&n=10"
    "$V/by_customer/top?metric=orders&n=25&from=2026-11-18T06:00:00Z"
    "$V/by_customer/top?metric=avg_order&n=5&from=2026-11-18T23:00:00Z&to=2026-11-19T01:00:00Z"
    "$V/by_customer/top?metric=revenue&n=200&to=2026-11-19T00:00:00Z"
    "$V/by_customer/top?metric=revenue&n=3&from=2026-11-20T00:00:05Z"
    "$V/by_customer/top?metric=orders&n=1000&from=2026-11-19T23:59:55Z&to=2026-11-20T00:00:25Z"
    "$V/by_customer/top?metric=max_order&n=10"
    "$V/by_country/top?metric=revenue&n=3&from=2026-11-19T10:00:00Z"
    "$V/by_country/top?metric=orders&n=10&to=2026-11-20T00:00:00Z"
    "$V/big/top?metric=orders&n=10"
    "$V/big/top?metric=revenue&n=4&from=2026-11-19T00:00:00Z&to=2026-11-21T00:00:00Z"
    "$V/totals/total"
    "$V/by_customer/total?customer=c17&from=2026-11-18T05:00:00Z"
    "$V/by_customer/series?customer=c17&step=1h"
    "$V/by_customer/series?customer=c17&step=1h&from=2026-11-18T22:00:00Z&to=2026-11-20T02:00:00Z"
    "$V/by_customer/series?customer=c99&step=1d&from=2026-11-18T00:00:00Z"
    "$V/by_customer/series?customer=c3&step=10s&from=2026-11-19T23:59:00Z&to=2026-11-20T00:01:00Z"
    "$V/by_country/series?country&step=2h"
    "$V/by_customer/series?customer=c42&step=10m&window=1h&from=2026-11-18T10:00:00Z"
    "$V/by_country/series?country=FR&step=1h&window=3h"
    "$V/totals/series?step=1h&from=2026-11-18T11:00:00Z&to=2026-11-20T19:00:00Z"
)
for t in 18T00 18T13 19T00 19T09 19T23 20T00 20T12 20T21; do
    Q+=("$V/by_customer/top?metric=revenue&n=10&from=2026-11-$t:17:00Z")
    Q+=("$V/by_customer/top?metric=orders&n=7&from=2026-11-$t:00:00Z&to=2026-11-$t:59:50Z")
done

# hammer: the queries on the cached serving, over and over, until $T/stop exists
hammer() {
    rm -f "$T/stop"
    while [ ! -e "$T/stop" ]; do
        for q in "${Q[@]}"; do curl -s -g "$URL_cached$q" >/dev/null; done
    done
}

# produce FILE: the events through the topic while the cached serving is queried, then until
# lambda-speed consumed them all
produced=0
produce() {
    hammer &
    local h=$!
    "$PRODUCE" -c "$T/cache.json" -b "$BROKERS" --rate "$RATE" "$1" >>"$T/produce.log" 2>&1 ||
        fail "producing $1"
    produced=$((produced + $(grep -c . "$1")))
    consumed() { [ "$(status "$T/cache" .consumed)" = "$produced" ]; }
    check "lambda-speed consumed $produced events" wait_until 60 consumed
    touch "$T/stop"
    wait "$h"
}

# compare ROUND: every query on both servings, twice on the cached one (the second from the
# caches), byte for byte
compare() {
    local bad=0 q a b c
    for q in "${Q[@]}"; do
        a=$(curl -s -g "$URL_cached$q")
        b=$(curl -s -g "$URL_cold$q")
        c=$(curl -s -g "$URL_cached$q")
        if [ "$a" != "$b" ] || [ "$c" != "$b" ]; then
            bad=$((bad + 1))
            [ $bad -le 3 ] && { echo "  $q:"; echo "    cached: ${a:0:300}"; echo "    cold:   ${b:0:300}"; }
        fi
        case $b in *'"error"'*) fail "$1: $q answers an error: ${b:0:200}" ;; esac
    done
    eq "$1: ${#Q[@]} answers cached = cold" "$bad" 0
}

produce "$T/events.jsonl"
serve cached
serve cold LAMBDA_NO_CACHE=1
check "both servings ready" wait_until 20 sh -c "curl -sf $URL_cached/readyz && curl -sf $URL_cold/readyz"
compare "speed only"

# a publish under the stream: batch holds the first events up to the 19th
"$BATCH" -c "$T/cache.json" --store "$T/cache" --until 2026-11-19T00:00:00Z --force \
    --no-progress "$T/events.jsonl" >"$T/batch1.out" 2>&1
eq "lambda-batch publishes version 1 beside the stream" "$?" 0
produce "$T/events2.jsonl"
compare "batch version 1 + speed"

# a second publish, then more events: the columns of version 1 must not be used any more
"$BATCH" -c "$T/cache.json" --store "$T/cache" --until 2026-11-20T00:00:00Z --force \
    --no-progress "$T/events.jsonl" "$T/events2.jsonl" >"$T/batch2.out" 2>&1
eq "lambda-batch publishes version 2" "$?" 0
compare "batch version 2, speed pruned"
produce "$T/events3.jsonl"
compare "batch version 2 + more speed"

m=$(curl -s "$URL_cached/metrics")
check "top's batch columns were used" grep -q '^lambda_serving_top_batch_cache_requests_total{result="hit"} [1-9]' <<<"$m"
check "a column per batch version was built" grep -q '^lambda_serving_top_batch_cache_requests_total{result="miss"} [2-9]' <<<"$m"
check "series' batch parts were used" grep -q '^lambda_serving_series_batch_cache_requests_total{result="hit"} [1-9]' <<<"$m"
check "top's speed parts were reused" grep -q '^lambda_serving_top_speed_cache_requests_total{result="hit"} [1-9]' <<<"$m"
check "the cold serving kept nothing" grep -q '^lambda_serving_cache_requests_total{result="hit"} 0$' <<<"$(curl -s "$URL_cold/metrics")"
finish
