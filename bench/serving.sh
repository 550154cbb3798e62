#!/bin/sh
# serving.sh -- `make bench`: wrk against lambda-serving and a libmicrohttpd hello world, side by side,
# while a live speed stream commits into the same store
#
# Same machine, same threading mode (internal epoll thread pool of serving.threads = 2),
# 64 connections for 10 s each (BENCH_DURATION, BENCH_CONNECTIONS), wrk --latency, and all along
# lambda-produce --generate at 10k events/s (BENCH_RATE) into the development broker, consumed by
# lambda-speed into the store being served (a speed commit every 100 ms: a new snapshot identity):
#   (a) total of a random key (of 10k)                     target: >= 0.6x hello req/s
#   (b) 30-day hourly series of a random key (of 10k)      target: >= 0.3x hello req/s, p99 < 10 ms
#   (c) top n=10 over 10k groups x 720 hours, `from` rotating over 720 hours  target: p99 < 50 ms
# Each serving run follows its own hello run, so drift on a shared machine hits both alike.
# Also shown, for the record: (b) and (c) for one fixed request, (b) with gzip, a hello serving
# (b)'s body size (what moving the bytes alone costs), and the cache counters of each case.
# The store (10k groups x 720 hourly buckets published by batch up to END, the last midnight UTC
# at least 6 hours ago, plus 6 hours of speed rows after it) is generated afresh by
# bench/serving_gen.c into bench/.work/serving/ on every run (the broker's offsets are new).
# BENCH_NO_STREAM=1 measures without the stream.
set -u
BUILD=${BUILD:-build}
cd "$(dirname "$0")/.." || exit 1
DUR=${BENCH_DURATION:-10s}
CONNS=${BENCH_CONNECTIONS:-64}
WRKT=${BENCH_WRK_THREADS:-2}
RATE=${BENCH_RATE:-10000}
work=bench/.work/serving
pids=""

command -v wrk >/dev/null 2>&1 ||
    { echo "serving bench: wrk missing: run 'sh scripts/deps.sh bench' (make bench does)"; exit 1; }
for b in "$BUILD/lambda-serving" "$BUILD/lambda-speed" "$BUILD/lambda-produce" \
    "$BUILD/lambda-devbroker" "$BUILD/bench/hello" "$BUILD/bench/serving_gen"; do
    [ -x "$b" ] || { echo "serving bench: $b missing (make bench builds it)"; exit 1; }
done
# the stream's producer and consumer first, the broker last
cleanup() { for p in $(echo $pids | tr ' ' '\n' | tac); do kill "$p" 2>/dev/null; done; wait 2>/dev/null; }
trap cleanup EXIT INT TERM
mkdir -p "$work"

# wait_file FILE: until it is not empty (10 s)
wait_file() { for _ in $(seq 200); do [ -s "$1" ] && return 0; sleep 0.05; done; return 1; }

rm -f "$work/bootstrap"
"$BUILD/lambda-devbroker" -f "$work/bootstrap" --log-level warn -t orders:4 \
    >/dev/null 2>"$work/devbroker.log" &
pids="$pids $!"
wait_file "$work/bootstrap" || { echo "serving bench: the development broker did not start"; exit 1; }
BROKERS=$(cat "$work/bootstrap")

cat >"$work/pipeline.json" <<'EOF'
{
  "name": "bench",
  "store": "bench/.work/serving/store",
  "event": {"time": "ts",
            "fields": {"customer": "string", "amount": {"type": "decimal", "scale": 2, "min": 0}}},
  "views": {"by_customer": {"group_by": ["customer"], "granularity": "1h",
                            "metrics": {"orders": "count", "revenue": "sum(amount)",
                                        "avg_order": "avg(amount)", "max_order": "max(amount)"}}},
  "speed": {"topic": "orders", "partitions": 4, "lateness": "1h"},
  "serving": {"listen": "127.0.0.1:0", "threads": 2}
}
EOF
now=$(date -u +%s)
END=$(( (now - 21600) / 86400 * 86400 ))
TO=$(( now / 3600 * 3600 + 3600 ))         # the hour after the current one
FROM=$(( TO - 30 * 86400 ))
rm -rf "$work/store"
echo "generating the store (10000 groups x 720 hourly buckets to $(date -u -d "@$END" +%FT%TZ) + 6 speed hours)..."
"$BUILD/bench/serving_gen" "$work/pipeline.json" "$work/store" 10000 720 6 "$END" || exit 1

if [ -z "${BENCH_NO_STREAM:-}" ]; then
    "$BUILD/lambda-speed" -c "$work/pipeline.json" --brokers "$BROKERS" --group bench \
        --log-level warn 2>"$work/speed.log" &
    pids="$pids $!"
    # enough events for the whole run; it is stopped at the end
    "$BUILD/lambda-produce" -c "$work/pipeline.json" -b "$BROKERS" --generate \
        --rate "$RATE" --count $((RATE * 3600)) --cardinality 10000 \
        >"$work/produce.log" 2>&1 &
    pids="$pids $!"
fi

# start_hello [BYTES]: sets HPORT, HPID
start_hello() {
    rm -f "$work/hello.port"
    "$BUILD/bench/hello" 0 2 ${1:-} >"$work/hello.port" &
    HPID=$!
    pids="$pids $HPID"
    wait_file "$work/hello.port"
    HPORT=$(cat "$work/hello.port")
}
stop() { kill "$1" 2>/dev/null; wait "$1" 2>/dev/null; }

rm -f "$work/serving.port"
# wrk is one client address: no per-address limit, as hello has none
"$BUILD/lambda-serving" -c "$work/pipeline.json" --port-file "$work/serving.port" \
    --max-connections-per-ip 0 --log-level warn 2>"$work/serving.log" &
SPID=$!
pids="$pids $SPID"
wait_file "$work/serving.port"
S=http://127.0.0.1:$(cat "$work/serving.port")
for _ in $(seq 600); do curl -sf "$S/readyz" >/dev/null && break; sleep 0.1; done
curl -sf "$S/readyz" >/dev/null || { echo "serving bench: lambda-serving not ready"; exit 1; }
# the time of speed's last commit (not the watermark: in the hour after END + 6 h
# the live events' watermark is still behind the generated rows', and stays put)
upd() { curl -s "$S/v1/views" | jq -r '.views[0].speed.updated_at'; }
if [ -z "${BENCH_NO_STREAM:-}" ]; then
    w0=$(upd)
    for _ in $(seq 300); do [ "$(upd)" != "$w0" ] && break; sleep 0.1; done
    [ "$(upd)" != "$w0" ] || { echo "serving bench: lambda-speed commits nothing"; tail "$work/speed.log"; exit 1; }
fi

cat >"$work/rand_total.lua" <<'EOF'
math.randomseed(os.time() + tonumber(tostring({}):sub(8), 16))
request = function()
  return wrk.format(nil, string.format("/v1/views/by_customer/total?customer=customer-%d", math.random(0, 9999)))
end
EOF
cat >"$work/rand_series.lua" <<EOF
math.randomseed(os.time() + tonumber(tostring({}):sub(8), 16))
request = function()
  return wrk.format(nil, string.format("/v1/views/by_customer/series?customer=customer-%d&from=$FROM&to=$TO&step=1h", math.random(0, 9999)))
end
EOF
cat >"$work/rotate_top.lua" <<EOF
n = 0
request = function()
  n = n + 1
  return wrk.format(nil, "/v1/views/by_customer/top?metric=revenue&n=10&from=" .. ($END - (n % 720 + 1) * 3600))
end
EOF

# counters: the cache lines of /metrics, one "name value" a line
counters() {
    curl -s "$S/metrics" | awk '/^lambda_serving_[a-z_]*cache_requests_total/ {
        n = $1; sub(/^lambda_serving_/, "", n); sub(/_requests_total\{result="/, ",", n); sub(/"\}/, "", n); print n, $2 }'
}
# hitrates BEFORE AFTER: "name=hits/(hits+misses)" per cache, over the case
hitrates() {
    join "$1" "$2" | awk '{ d[$1] = $3 - $2 }
        END { for (k in d) if (k ~ /,hit$/) { b = k; sub(/,hit$/, "", b); m = d[b ",miss"];
              t = d[k] + m; if (t > 0) printf "%s %.0f%% of %d; ", b, 100 * d[k] / t, t } }'
}

# measure NAME URL [WRK ARGS...]: prints "rps p50_ms p99_ms" into $work/NAME.res
measure() {
    name=$1 url=$2
    shift 2
    counters | sort >"$work/$name.c0"
    wrk -t"$WRKT" -c"$CONNS" -d"$DUR" --latency "$@" "$url" >"$work/$name.wrk" 2>&1
    counters | sort >"$work/$name.c1"
    if grep -q 'Non-2xx' "$work/$name.wrk"; then
        echo "serving bench: $name: non-2xx answers"; grep 'Non-2xx' "$work/$name.wrk"
        echo "0 0 0" >"$work/$name.res"
        errors=1
        return
    fi
    awk '
        function ms(v) {
            if (v ~ /us$/) return v / 1000
            if (v ~ /ms$/) return v + 0
            if (v ~ /m$/) return v * 60000
            if (v ~ /s$/) return v * 1000
            return v + 0
        }
        $1 == "50%" { p50 = ms($2) }
        $1 == "99%" { p99 = ms($2) }
        $1 == "Requests/sec:" { rps = $2 }
        END { printf "%.0f %.3f %.3f\n", rps, p50, p99 }' "$work/$name.wrk" >"$work/$name.res"
    case $name in hello*) ;; *) echo "  $name: $(cat "$work/$name.res") (rps p50 p99); caches: $(hitrates "$work/$name.c0" "$work/$name.c1")" ;; esac
}

errors=0
A="$S/v1/views/by_customer/total?customer=customer-42"
B="$S/v1/views/by_customer/series?customer=customer-42&from=$FROM&to=$TO&step=1h"
C="$S/v1/views/by_customer/top?metric=revenue&n=10"
bbytes=$(curl -s "$B" | wc -c)
bpts=$(curl -s "$B" | jq '.points | length')
[ "$bpts" -ge 700 ] || { echo "serving bench: (b) is $bpts points, not about 720"; errors=1; }
[ "$(curl -s "$C" | jq '.rows | length')" = 10 ] || { echo "serving bench: (c) is not 10 rows"; errors=1; }

echo "wrk -t$WRKT -c$CONNS -d$DUR --latency; lambda-serving and hello: epoll thread pool of 2;" \
    "live stream: ${BENCH_NO_STREAM:+none}${BENCH_NO_STREAM:-$RATE events/s}"
for case in a b c; do
    start_hello
    measure "hello_$case" "http://127.0.0.1:$HPORT/"
    stop "$HPID"
    case $case in
    a) measure a "$S" -s "$work/rand_total.lua" ;;
    b) measure b "$S" -s "$work/rand_series.lua"
       measure b_one "$B"
       measure b_gzip "$S" -s "$work/rand_series.lua" -H "Accept-Encoding: gzip"
       start_hello "$bbytes"
       measure hello_big "http://127.0.0.1:$HPORT/"
       stop "$HPID" ;;
    c) measure c "$S" -s "$work/rotate_top.lua"
       measure c_one "$C" ;;
    esac
done
[ -n "${BENCH_NO_STREAM:-}" ] || echo "speed: $(curl -s "$S/v1/views" | jq -c '.views[0].speed')"

row() {  # row LABEL SERVING_RES HELLO_RES
    read -r srps sp50 sp99 <"$work/$2.res"
    read -r hrps hp50 hp99 <"$work/$3.res"
    awk -v l="$1" -v s="$srps" -v a="$sp50" -v b="$sp99" -v h="$hrps" -v c="$hp50" -v d="$hp99" 'BEGIN {
        printf "%-46s %9d %9d %6.2fx %8.2f %8.2f %8.2f %8.2f\n", l, h, s,
            (h > 0 ? s / h : 0), c, a, d, b }'
}
printf "%-46s %9s %9s %7s %8s %8s %8s %8s\n" case "hello/s" "serving/s" ratio \
    "h p50ms" "s p50ms" "h p99ms" "s p99ms"
row "(a) total, random key" a hello_a
row "(b) series 30d hourly, random key (${bbytes} B)" b hello_b
row "    same, one key" b_one hello_b
row "    same, random key, Accept-Encoding: gzip" b_gzip hello_b
row "    hello with a ${bbytes}-byte body" hello_big hello_b
row "(c) top n=10, from rotating over 720 hours" c hello_c
row "    same, all time (one request)" c_one hello_c

read -r arps x x <"$work/a.res"; read -r harps x x <"$work/hello_a.res"
read -r brps x bp99 <"$work/b.res"; read -r hbrps x x <"$work/hello_b.res"
read -r crps x cp99 <"$work/c.res"
read -r bigrps x x <"$work/hello_big.res"
verdict() { if [ "$(awk "BEGIN { print ($2) ? 1 : 0 }")" = 1 ]; then echo "met   $1"; else echo "MISSED $1"; fi; }
echo
verdict "(a) req/s >= 0.6x hello: $(awk "BEGIN { printf \"%.2f\", $arps / $harps }")x" "$arps >= 0.6 * $harps"
verdict "(b) req/s >= 0.3x hello: $(awk "BEGIN { printf \"%.2f\", $brps / $hbrps }")x (hello sending the same $bbytes bytes: $(awk "BEGIN { printf \"%.2f\", $bigrps / $hbrps }")x)" "$brps >= 0.3 * $hbrps"
verdict "(b) p99 < 10 ms: $bp99 ms" "$bp99 < 10"
verdict "(c) p99 < 50 ms: $cp99 ms" "$cp99 < 50"
exit $errors
