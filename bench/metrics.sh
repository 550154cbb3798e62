#!/bin/sh
# metrics.sh -- `make bench`: what stddev, distinct and quantile cost lambda-batch on the 5M events
#
# The events of bench/batch.sh (bench/.work/events-N.jsonl from bench/gen_events, made here
# too when missing) and its job, two views: by_customer per day and by_country per hour.
# Two pipelines: "sum" keeps count and sum(amount) in both views; "metrics" is the same
# with by_country also keeping stddev(amount), distinct(customer) and quantile(amount,
# 0.99). lambda-batch --threads 2 runs each, alternated, RUNS times, publishing to its own
# store like any run. Prints the medians (wall and CPU seconds), the largest peak RSS, the
# ratio of the medians, the stores' sizes, and checks that both counted every event.
# Environment: BENCH_EVENTS (5000000), BENCH_RUNS (5), BUILD (build).
set -eu
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build} N=${BENCH_EVENTS:-5000000} RUNS=${BENCH_RUNS:-5} W=bench/.work
EV=$W/events-$N.jsonl   # batch.sh's
for p in lambda-batch bench/gen_events; do
    [ -x "$BUILD/$p" ] || { echo "metrics.sh: $BUILD/$p missing (run make bench)" >&2; exit 1; }
done
mkdir -p "$W"
[ -x /usr/bin/time ] ||
    { echo "metrics.sh: /usr/bin/time missing: run 'sh scripts/deps.sh bench'" >&2; exit 1; }
if [ ! -s "$EV" ]; then
    echo "metrics.sh: generating $N events into $EV"
    "$BUILD/bench/gen_events" "$N" >"$EV.tmp"
    mv "$EV.tmp" "$EV"
fi

# pipeline NAME EXTRA: the job, EXTRA added to by_country's metrics
pipeline() {
    cat >"$W/metrics-$1.json" <<EOF
{
  "name": "bench",
  "store": "$W/store-$1",
  "event": {"time": "ts", "fields": {"customer": "string", "country": "string",
                                     "amount": {"type": "decimal", "scale": 2}}},
  "views": {
    "by_customer": {"group_by": ["customer"], "granularity": "1d",
                    "metrics": {"orders": "count", "revenue": "sum(amount)"}},
    "by_country":  {"group_by": ["country"], "granularity": "1h",
                    "metrics": {"orders": "count", "revenue": "sum(amount)"$2}}
  },
  "batch": {"inputs": ["$EV"], "rejects": "$W/rejects-$1.jsonl"}
}
EOF
}
pipeline sum ''
pipeline metrics ', "sd": "stddev(amount)", "buyers": "distinct(customer)",
                                "p99": "quantile(amount, 0.99)"'
rm -rf "$W/store-sum" "$W/store-metrics" "$W/mtimes"
mkdir -p "$W/mtimes"
cat "$EV" >/dev/null       # page cache: both read from memory

run() {     # run NAME RUN
    /usr/bin/time -f "%e %U %S %M" -o "$W/mtimes/$1.$2" \
        "$BUILD/lambda-batch" -c "$W/metrics-$1.json" --threads 2 --until 2026-11-20T00:00:00Z \
        --no-progress 2>"$W/metrics-$1.log"
}
echo "metrics.sh: $N events, $RUNS runs of each, alternated"
for r in $(seq "$RUNS"); do
    run sum "$r"
    run metrics "$r"
    printf '  run %s: count/sum %ss, + stddev, distinct, quantile %ss\n' "$r" \
        "$(cut -d' ' -f1 "$W/mtimes/sum.$r")" "$(cut -d' ' -f1 "$W/mtimes/metrics.$r")"
done

ok=yes
for p in sum metrics; do
    grep -q "events=$N " "$W/metrics-$p.log" ||
        ok="NO ($p: $(grep -o 'events=[0-9]*' "$W/metrics-$p.log"))"
done
# per contender: median wall, median CPU (user + sys), largest peak RSS (KB)
for p in sum metrics; do
    cat "$W"/mtimes/"$p".* | awk -v p="$p" '
        { wall[NR] = $1; cpu[NR] = $2 + $3; if ($4 > rss) rss = $4 }
        function median(a, n,   i, j, t) {
            for (i = 2; i <= n; i++)
                for (j = i; j > 1 && a[j - 1] > a[j]; j--) {
                    t = a[j]; a[j] = a[j - 1]; a[j - 1] = t
                }
            return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
        }
        END { print p, median(wall, NR), median(cpu, NR), rss }'
done >"$W/mtimes/medians"
awk -v n="$N" -v runs="$RUNS" -v ok="$ok" \
    -v ssum="$(du -sk "$W/store-sum" | cut -f1)" \
    -v smet="$(du -sk "$W/store-metrics" | cut -f1)" '
    { wall[$1] = $2; cpu[$1] = $3; rss[$1] = $4 }
    END {
        printf "\nmedians of %d runs (%d events, lambda-batch --threads 2):\n", runs, n
        printf "  %-44s %6.2f s wall %6.2f s CPU  peak RSS %4d MB  store %d MB\n",
            "count, sum", wall["sum"], cpu["sum"], rss["sum"] / 1024, ssum / 1024
        printf "  %-44s %6.2f s wall %6.2f s CPU  peak RSS %4d MB  store %d MB\n",
            "+ stddev, distinct, quantile(0.99) by country", wall["metrics"],
            cpu["metrics"], rss["metrics"] / 1024, smet / 1024
        printf "  cost of the three metrics: %.2fx the wall time, %.2fx the CPU time\n",
            wall["metrics"] / wall["sum"], cpu["metrics"] / cpu["sum"]
        printf "  both counted every event: %s\n", ok
    }' "$W/mtimes/medians"
