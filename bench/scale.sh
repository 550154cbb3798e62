#!/bin/sh
# scale.sh -- `make bench` for growing past one machine: repository publish and pull of a large
# view, --shard 4 ways run serially against one run, and a replica's bootstrap time to ready
#
# The input is bench/scale_gen GROUPS HOURS (one event per customer and hour, in time order,
# one file: the shards split it by byte range), so the view by_customer per hour has
# GROUPS x HOURS rows. It is generated once into bench/.work/scale/ and reused.
#   1. one run: lambda-batch --repository, timed whole; its log gives the repository
#      publish time (writing the version file, fsync, rename, LATEST)
#   2. --shard I/4 for I = 0..3, one after the other, then --merge: each timed
#   3. --pull into an empty store, and a second --pull (a no-op)
#   4. a replica from an empty store on a running system: the development broker holds
#      BENCH_SCALE_TOPIC events; lambda-speed, lambda-serving (--ready-max-lag 0) and one
#      --pull start together; the time until /readyz answers 200
# Environment: BENCH_SCALE_GROUPS (300000), BENCH_SCALE_HOURS (72; 720 is the issue's size
# and needs about 60 GB of disk and 20 GB of memory), BENCH_SCALE_TOPIC (200000), BUILD.
set -u
BUILD=${BUILD:-build}
cd "$(dirname "$0")/.." || exit 1
G=${BENCH_SCALE_GROUPS:-300000}
H=${BENCH_SCALE_HOURS:-72}
NTOPIC=${BENCH_SCALE_TOPIC:-200000}
W=bench/.work/scale
EV=$W/events-$G-$H.jsonl
pids=""

for b in lambda-batch lambda-speed lambda-serving lambda-produce lambda-devbroker \
         bench/scale_gen; do
    [ -x "$BUILD/$b" ] || { echo "scale bench: $BUILD/$b missing (make bench builds it)"; exit 1; }
done
cleanup() { for p in $pids; do kill "$p" 2>/dev/null; done; wait 2>/dev/null; }
trap cleanup EXIT INT TERM
mkdir -p "$W"
if [ ! -s "$EV" ]; then
    echo "scale bench: generating $G groups x $H hours into $EV"
    "$BUILD/bench/scale_gen" "$G" "$H" >"$EV.tmp" && mv "$EV.tmp" "$EV" || exit 1
fi
rm -rf "$W/one" "$W/merged" "$W/pulled" "$W/replica" "$W/repo" "$W"/part-* "$W"/*.log \
    "$W/bootstrap"

cat >"$W/pipeline.json" <<EOF
{
  "name": "scale",
  "store": "$W/one",
  "event": {"time": "ts",
            "fields": {"customer": "string", "amount": {"type": "decimal", "scale": 2, "min": 0}}},
  "views": {"by_customer": {"group_by": ["customer"], "granularity": "1h",
                            "metrics": {"orders": "count", "revenue": "sum(amount)",
                                        "max_order": "max(amount)"}}},
  "speed": {"topic": "scale", "partitions": 4, "lateness": "366d",
            "kafka": {"session.timeout.ms": 6000, "fetch.wait.max.ms": 20}}
}
EOF
P=$W/pipeline.json
UNTIL=$(date -u -d "@$((1792540800 + H * 3600))" +%Y-%m-%dT%H:%M:%SZ)

ms() { date +%s%3N; }
secs() { echo "$1" | awk '{ printf "%.2f", $1 / 1000 }'; }
size() { du -sb "$1" 2>/dev/null | awk '{ printf "%.1f MB", $1 / 1e6 }'; }

echo "view: $G groups x $H hours = $((G * H)) rows; input $(size "$EV")"

# 1. one run, writing the repository
t0=$(ms)
"$BUILD/lambda-batch" -c "$P" --repository "$W/repo" --until "$UNTIL" --no-progress "$EV" \
    >"$W/one.log" 2>&1 || { echo "scale bench: the run failed:"; tail -n 3 "$W/one.log"; exit 1; }
one=$(( $(ms) - t0 ))
file=$(ls "$W/repo"/v*.lkv)
repo_s=$(sed -n 's/.*written to .* bytes, \([0-9.]*\) s).*/\1/p' "$W/one.log")
echo "one run: $(secs $one) s (store $(size "$W/one")); repository publish: $repo_s s" \
    "(file $(size "$file"), $(awk -v b="$(stat -c %s "$file")" -v n=$((G * H)) \
    'BEGIN { printf "%.1f", b / n }') bytes a row)"

# 2. four shards one after the other, then the merge
total=0
max=0
for i in 0 1 2 3; do
    t0=$(ms)
    "$BUILD/lambda-batch" -c "$P" --shard "$i/4" --partial "$W/part-$i.lkv" --until "$UNTIL" \
        --no-progress "$EV" >"$W/shard-$i.log" 2>&1 || { echo "shard $i failed"; exit 1; }
    d=$(( $(ms) - t0 ))
    total=$((total + d))
    [ $d -gt $max ] && max=$d
    echo "  shard $i/4: $(secs $d) s (partial $(size "$W/part-$i.lkv"))"
done
t0=$(ms)
"$BUILD/lambda-batch" -c "$P" --store "$W/merged" --no-progress --merge "$W"/part-*.lkv \
    >"$W/merge.log" 2>&1 || { echo "merge failed"; tail -n 3 "$W/merge.log"; exit 1; }
merge=$(( $(ms) - t0 ))
echo "--shard 4 ways serially: shards $(secs $total) s + merge $(secs $merge) s =" \
    "$(secs $((total + merge))) s, against one run $(secs $one) s;" \
    "on 4 machines: $(secs $((max + merge))) s (the slowest shard + the merge)"

# 3. pull into an empty store, then again
t0=$(ms)
"$BUILD/lambda-batch" -c "$P" --store "$W/pulled" --pull "$W/repo" >"$W/pull.log" 2>&1 ||
    { echo "pull failed"; tail -n 3 "$W/pull.log"; exit 1; }
pull=$(( $(ms) - t0 ))
t0=$(ms)
"$BUILD/lambda-batch" -c "$P" --store "$W/pulled" --pull "$W/repo" >"$W/pull2.log" 2>&1
noop=$(( $(ms) - t0 ))
echo "pull into an empty store: $(secs $pull) s; a pull when current: $(secs $noop) s"

# 4. a replica from an empty store, on a running system
"$BUILD/lambda-devbroker" -c "$P" -f "$W/bootstrap" --log-level warn >/dev/null 2>"$W/broker.log" &
pids="$pids $!"
for _ in $(seq 100); do [ -s "$W/bootstrap" ] && break; sleep 0.1; done
B=$(cat "$W/bootstrap")
head -n "$NTOPIC" "$EV" >"$W/topic.jsonl"
"$BUILD/lambda-produce" -c "$P" -b "$B" "$W/topic.jsonl" >"$W/produce.log" 2>&1 ||
    { echo "produce failed"; exit 1; }
port=$(awk 'BEGIN { srand(); print 20000 + int(rand() * 20000) }')
t0=$(ms)
"$BUILD/lambda-speed" -c "$P" --store "$W/replica" --brokers "$B" --group bench-replica \
    >"$W/rspeed.log" 2>&1 &
pids="$pids $!"
"$BUILD/lambda-serving" -c "$P" --store "$W/replica" --listen "127.0.0.1:$port" \
    --ready-max-lag 0 >"$W/rserving.log" 2>&1 &
pids="$pids $!"
"$BUILD/lambda-batch" -c "$P" --store "$W/replica" --pull "$W/repo" >"$W/rpull.log" 2>&1 &
pids="$pids $!"
ready=""
while [ $(( $(ms) - t0 )) -lt 600000 ]; do
    if [ "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/readyz")" = 200 ]; then
        ready=$(( $(ms) - t0 ))
        break
    fi
    sleep 0.05
done
if [ -n "$ready" ]; then
    echo "replica bootstrap to ready: $(secs $ready) s (pull of $(size "$file") and" \
        "$NTOPIC events from the topic)"
else
    echo "replica bootstrap: not ready after 600 s"
    exit 1
fi
