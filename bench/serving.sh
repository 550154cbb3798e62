#!/bin/sh
# serving.sh -- `make bench`: wrk against lambda-serving and a libmicrohttpd hello world, side by side
#
# Same machine, same threading mode (internal epoll thread pool of serving.threads = 2),
# 64 connections for 10 s each (BENCH_DURATION, BENCH_CONNECTIONS), wrk --latency:
#   (a) total for one key                      target: >= 0.6x hello req/s, p99 <= 1.5x hello p99
#   (b) 30-day hourly series for one key       target: >= 0.3x hello req/s
#   (c) top n=10 over 10k groups x 720 hours   target: p99 < 50 ms
# Each serving run follows its own hello run, so drift on a shared machine hits both alike.
# Also shown, for the record: (b) with gzip, a hello serving (b)'s body size (what moving the
# bytes alone costs), and the cache-miss paths (keys or n rotating on every request).
# The store (10k groups x 720 hourly buckets published by batch, plus 6 hours of speed rows)
# is generated once by bench/serving_gen.c into bench/.work/serving/ and reused.
set -u
BUILD=${BUILD:-build}
cd "$(dirname "$0")/.." || exit 1
DUR=${BENCH_DURATION:-10s}
CONNS=${BENCH_CONNECTIONS:-64}
WRKT=${BENCH_WRK_THREADS:-2}
work=bench/.work/serving
pids=""

command -v wrk >/dev/null 2>&1 ||
    { echo "serving bench: wrk missing: run 'sh scripts/deps.sh bench' (make bench does)"; exit 1; }
for b in "$BUILD/lambda-serving" "$BUILD/bench/hello" "$BUILD/bench/serving_gen"; do
    [ -x "$b" ] || { echo "serving bench: $b missing (make bench builds it)"; exit 1; }
done
cleanup() { for p in $pids; do kill "$p" 2>/dev/null; done; wait 2>/dev/null; }
trap cleanup EXIT INT TERM
mkdir -p "$work"

cat >"$work/pipeline.json" <<'EOF'
{
  "name": "bench",
  "store": "bench/.work/serving/store",
  "event": {"time": "ts",
            "fields": {"customer": "string", "amount": {"type": "decimal", "scale": 2, "min": 0}}},
  "views": {"by_customer": {"group_by": ["customer"], "granularity": "1h",
                            "metrics": {"orders": "count", "revenue": "sum(amount)",
                                        "avg_order": "avg(amount)", "max_order": "max(amount)"}}},
  "serving": {"listen": "127.0.0.1:0", "threads": 2}
}
EOF
stamp="groups=10000 hours=720 speed_hours=6 format=1"
if [ "$(cat "$work/store.stamp" 2>/dev/null)" != "$stamp" ]; then
    rm -rf "$work/store" "$work/store.stamp"
    echo "generating the store (10000 groups x 720 hourly buckets + 6 speed hours)..."
    "$BUILD/bench/serving_gen" "$work/pipeline.json" "$work/store" 10000 720 6 || exit 1
    echo "$stamp" >"$work/store.stamp"
fi

# start_hello [BYTES]: sets HPORT, HPID
start_hello() {
    rm -f "$work/hello.port"
    "$BUILD/bench/hello" 0 2 ${1:-} >"$work/hello.port" &
    HPID=$!
    pids="$pids $HPID"
    for _ in $(seq 100); do [ -s "$work/hello.port" ] && break; sleep 0.05; done
    HPORT=$(cat "$work/hello.port")
}
stop() { kill "$1" 2>/dev/null; wait "$1" 2>/dev/null; }

rm -f "$work/serving.port"
# wrk is one client address: no per-address limit, as hello has none
"$BUILD/lambda-serving" -c "$work/pipeline.json" --port-file "$work/serving.port" \
    --max-connections-per-ip 0 --log-level warn 2>"$work/serving.log" &
SPID=$!
pids="$pids $SPID"
for _ in $(seq 100); do [ -s "$work/serving.port" ] && break; sleep 0.05; done
S=http://127.0.0.1:$(cat "$work/serving.port")
curl -sf "$S/readyz" >/dev/null || { echo "serving bench: lambda-serving not ready"; exit 1; }

cat >"$work/rotate_series.lua" <<'EOF'
n = 0
request = function()
  n = n + 1
  return wrk.format(nil, string.format("/v1/views/by_customer/series?customer=c%05d&from=2026-10-21T00:00:00Z&to=2026-11-20T00:00:00Z&step=1h", n % 10000))
end
EOF
cat >"$work/rotate_top.lua" <<'EOF'
n = 0
request = function()
  n = n + 1
  return wrk.format(nil, "/v1/views/by_customer/top?metric=revenue&n=" .. (n % 1000 + 1))
end
EOF

# measure NAME URL [WRK ARGS...]: prints "rps p50_ms p99_ms" into $work/NAME.res
measure() {
    name=$1 url=$2
    shift 2
    wrk -t"$WRKT" -c"$CONNS" -d"$DUR" --latency "$@" "$url" >"$work/$name.wrk" 2>&1
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
}

errors=0
A="$S/v1/views/by_customer/total?customer=c00042"
B="$S/v1/views/by_customer/series?customer=c00042&from=2026-10-21T00:00:00Z&to=2026-11-20T00:00:00Z&step=1h"
C="$S/v1/views/by_customer/top?metric=revenue&n=10"
bbytes=$(curl -s "$B" | wc -c)
[ "$(curl -s "$B" | jq '.points | length')" = 720 ] || { echo "serving bench: (b) is not 720 points"; errors=1; }
[ "$(curl -s "$C" | jq '.rows | length')" = 10 ] || { echo "serving bench: (c) is not 10 rows"; errors=1; }

echo "wrk -t$WRKT -c$CONNS -d$DUR --latency; lambda-serving and hello: epoll thread pool of 2"
for case in a b c; do
    start_hello
    measure "hello_$case" "http://127.0.0.1:$HPORT/"
    stop "$HPID"
    case $case in
    a) measure a "$A" ;;
    b) measure b "$B"
       measure b_gzip "$B" -H "Accept-Encoding: gzip"
       start_hello "$bbytes"
       measure hello_big "http://127.0.0.1:$HPORT/"
       stop "$HPID" ;;
    c) measure c "$C" ;;
    esac
done
measure b_miss "$S" -s "$work/rotate_series.lua"
measure c_miss "$S" -s "$work/rotate_top.lua"

row() {  # row LABEL SERVING_RES HELLO_RES
    read -r srps sp50 sp99 <"$work/$2.res"
    read -r hrps hp50 hp99 <"$work/$3.res"
    awk -v l="$1" -v s="$srps" -v a="$sp50" -v b="$sp99" -v h="$hrps" -v c="$hp50" -v d="$hp99" 'BEGIN {
        printf "%-44s %9d %9d %6.2fx %8.2f %8.2f %8.2f %8.2f %6.2fx\n", l, h, s,
            (h > 0 ? s / h : 0), c, a, d, b, (d > 0 ? b / d : 0) }'
}
printf "%-44s %9s %9s %7s %8s %8s %8s %8s %7s\n" case "hello/s" "serving/s" ratio \
    "h p50ms" "s p50ms" "h p99ms" "s p99ms" "p99 x"
row "(a) total, one key" a hello_a
row "(b) series 30d hourly (720 points, ${bbytes} B)" b hello_b
row "(b) same, Accept-Encoding: gzip" b_gzip hello_b
row "    hello with a ${bbytes}-byte body" hello_big hello_b
row "(c) top n=10, 10k groups x 720 h" c hello_c
row "(b) cache miss: 10k keys rotating" b_miss hello_b
row "(c) cache miss: n rotating 1..1000" c_miss hello_c

read -r arps ap50 ap99 <"$work/a.res"; read -r harps x hap99 <"$work/hello_a.res"
read -r brps x x <"$work/b.res"; read -r bzrps x x <"$work/b_gzip.res"; read -r hbrps x x <"$work/hello_b.res"
read -r crps x cp99 <"$work/c.res"
verdict() { if [ "$(awk "BEGIN { print ($2) ? 1 : 0 }")" = 1 ]; then echo "met   $1"; else echo "MISSED $1"; fi; }
echo
verdict "(a) req/s >= 0.6x hello: $(awk "BEGIN { printf \"%.2f\", $arps / $harps }")x" "$arps >= 0.6 * $harps"
verdict "(a) p99 <= 1.5x hello p99: $ap99 ms vs $hap99 ms" "$ap99 <= 1.5 * $hap99"
read -r bigrps x x <"$work/hello_big.res"
verdict "(b) req/s >= 0.3x hello, gzip: $(awk "BEGIN { printf \"%.2f\", $bzrps / $hbrps }")x" "$bzrps >= 0.3 * $hbrps"
verdict "(b) req/s >= 0.3x hello, plain: $(awk "BEGIN { printf \"%.2f\", $brps / $hbrps }")x (hello sending the same $bbytes bytes: $(awk "BEGIN { printf \"%.2f\", $bigrps / $hbrps }")x)" "$brps >= 0.3 * $hbrps"
verdict "(c) p99 < 50 ms: $cp99 ms" "$cp99 < 50"
exit $errors
