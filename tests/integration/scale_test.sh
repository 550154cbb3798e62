#!/bin/bash
# scale_test.sh -- growing past one machine (DESIGN §6) on one machine, several processes: sharded
# batch (N = 1, 2, 4, 7 byte-identical to one run; wrong sets refused), the repository (publish,
# pull, refusals, no-op), and replicas (speed + serving + a pull loop each, own store and group)
# that converge while a producer streams and a publisher writes the repository, a kill -9 and a
# fresh replica included, pulls under load without a torn answer.
. "$(dirname "$0")/speed_lib.sh"

SERVING="$BUILD/lambda-serving"
HAMMER="$BUILD/tests/integration/serving_hammer"

# dump PIPELINE STORE: the batch view's rows, without the JSON column
dump() {
    "$VIEWDUMP" "$1" "$2" batch | cut -f1-4
}

# summary LOG: the publish line without pid, time and seconds
summary() {
    grep -o 'published version.*' "$1" | sed 's/ seconds=.*//'
}

# same NAME A B: byte-identical files, else the first differences
same() {
    if cmp -s "$2" "$3"; then
        ok "$1 ($(wc -l <"$2") lines)"
    else
        fail "$1"
        diff "$2" "$3" | head -n 6
    fi
}

# ---- sharded batch: --shard I/N --partial FILE, --merge FILE... ----------------------------
orders_pipeline "$T/p.json" "$T/one" none ''
mkdir -p "$T/in"
gen_orders 20000 3 | sed 's/2026-11-19/2026-11-18/' >"$T/in/a.jsonl"
{   # a line over EVENT_MAX_LINE in the middle, CRLF line ends, a blank line
    gen_orders 3000 5 1000000 | head -n 1500
    printf '{"customer":"long","amount":1,"ts":"2026-11-17T10:00:00Z","pad":"%s"}\n' \
        "$(head -c 1200000 /dev/zero | tr '\0' x)"
    gen_orders 3000 5 1000000 | tail -n 1500 | sed 's/$/\r/'
    echo
} >"$T/in/b.jsonl"
printf '\xef\xbb\xbf' >"$T/in/c.jsonl"
gen_orders 2000 11 2000000 >>"$T/in/c.jsonl"
gen_orders 5000 9 3000000 | gzip >"$T/in/d.jsonl.gz"
cp datasets/orders/history/2026-11-19.jsonl "$T/in/e.jsonl"
cp datasets/orders/history/transactions.json "$T/in/f.json"
: >"$T/in/g-empty.jsonl"

"$BATCH" -c "$T/p.json" --no-progress "$T/in" >"$T/one.log" 2>&1
eq "one run over every input exits 0" "$?" 0
dump "$T/p.json" "$T/one" >"$T/one.rows"
for n in 1 2 4 7; do
    rc=0
    for i in $(seq 0 $((n - 1))); do
        "$BATCH" -c "$T/p.json" --no-progress --shard "$i/$n" \
            --partial "$T/s$n-$i.part" "$T/in" >"$T/s$n-$i.log" 2>&1 || rc=1
    done
    eq "N=$n: every shard exits 0" "$rc" 0
    "$BATCH" -c "$T/p.json" --store "$T/m$n" --rejects "$T/m$n.rejects" \
        --no-progress --merge "$T"/s$n-*.part >"$T/m$n.log" 2>&1
    eq "N=$n: the merge exits 0" "$?" 0
    dump "$T/p.json" "$T/m$n" >"$T/m$n.rows"
    same "N=$n: views byte-identical to one run" "$T/one.rows" "$T/m$n.rows"
    same "N=$n: rejects identical (absolute lines)" "$T/one/rejects/batch.jsonl" \
        "$T/m$n.rejects"
    eq "N=$n: same cutoff and counts" "$(summary "$T/m$n.log")" "$(summary "$T/one.log")"
done
check "N=7: a JSON Lines file was split by byte range" \
    grep -q "shard 1/7 written to .*events=[1-9].* inputs=1 " "$T/s7-1.log"
check "  ... shards whose bytes fall inside one long line read nothing" \
    grep -q "shard 4/7 written to .*events=0 " "$T/s7-4.log"
check "  ... and the over-long line was rejected once" \
    [ "$(grep -c '"too_large"' "$T/m7.rejects")" = 1 ]

# a shard killed mid-way is simply rerun; a partial is never half written
"$BATCH" -c "$T/p.json" --no-progress --shard 1/4 --partial "$T/s4-1.part" "$T/in" \
    >/dev/null 2>&1 &
sleep 0.05
{ kill -9 $! && wait $!; } 2>/dev/null
"$BATCH" -c "$T/p.json" --no-progress --shard 1/4 --partial "$T/s4-1.part" "$T/in" \
    >"$T/rerun.log" 2>&1
eq "a shard rerun exits 0" "$?" 0
"$BATCH" -c "$T/p.json" --store "$T/m4b" --rejects "$T/m4b.rejects" --no-progress \
    --merge "$T"/s4-*.part >"$T/m4b.log" 2>&1
eq "  ... and the merge with it exits 0" "$?" 0
dump "$T/p.json" "$T/m4b" >"$T/m4b.rows"
same "  ... views still identical" "$T/one.rows" "$T/m4b.rows"

# the hold: an event stamped in the future holds the cutoff in one run and in the merge alike
cp -r "$T/in" "$T/inf"
printf '{"customer":"soon","amount":1,"ts":"2099-01-01T00:00:00Z"}\n' >"$T/inf/h.jsonl"
hold_run() {
    rm -rf "$T/$1"
    "$BATCH" -c "$T/p.json" --store "$T/$1" --rejects "$T/$1.rejects" --no-progress "$T/inf" \
        >"$T/$1.log" 2>&1
}
# shards NAME N INPUT [FLAGS...]: every shard of N into $T/NAME-I.part
shards() {
    local name=$1 n=$2 in=$3 i
    shift 3
    for i in $(seq 0 $((n - 1))); do
        "$BATCH" -c "$T/p.json" --no-progress --shard "$i/$n" "$@" \
            --partial "$T/$name-$i.part" "$in" >/dev/null 2>&1
    done
}
hold_run hold1
shards h3 3 "$T/inf"
"$BATCH" -c "$T/p.json" --store "$T/hold3" --no-progress --merge "$T"/h3-*.part \
    >"$T/hold3.log" 2>&1
hold_run hold2      # the same day as one of them, even across midnight
check "the hold: the merge publishes one run's cutoff and counts" \
    [ "$(summary "$T/hold3.log")" = "$(summary "$T/hold1.log")" -o \
      "$(summary "$T/hold3.log")" = "$(summary "$T/hold2.log")" ]
check "  ... held the future event for speed" grep -q "cutoff held at" "$T/hold3.log"

# --until and --from go to every shard; the merge takes them from the partials
"$BATCH" -c "$T/p.json" --store "$T/u1" --until 2026-11-18T00:00:00Z --no-progress "$T/in" \
    >"$T/u1.log" 2>&1
shards u3 3 "$T/in" --until 2026-11-18T00:00:00Z
"$BATCH" -c "$T/p.json" --store "$T/u3" --no-progress --merge "$T"/u3-*.part \
    >"$T/u3.log" 2>&1
eq "--until through the shards: same publish" "$(summary "$T/u3.log")" "$(summary "$T/u1.log")"
"$BATCH" -c "$T/p.json" --store "$T/u1" --from 2026-11-18T00:00:00Z --no-progress "$T/in" \
    >"$T/f1.log" 2>&1
shards f2 2 "$T/in" --from 2026-11-18T00:00:00Z
"$BATCH" -c "$T/p.json" --store "$T/u3" --no-progress --merge "$T"/f2-*.part \
    >"$T/f2.log" 2>&1
eq "--from through the shards: same publish" "$(summary "$T/f2.log")" "$(summary "$T/f1.log")"
dump "$T/p.json" "$T/u1" >"$T/f1.rows"
dump "$T/p.json" "$T/u3" >"$T/f2.rows"
same "  ... same rows, the kept ones included" "$T/f1.rows" "$T/f2.rows"

# wrong sets are refused, naming what is wrong, and publish nothing
refused() {     # DESC WANT PARTIAL...
    local desc=$1 want=$2
    shift 2
    "$BATCH" -c "${PIPE:-$T/p.json}" --store "$T/wrong" --no-progress --merge "$@" \
        >"$T/wrong.log" 2>&1
    eq "$desc: exit 1" "$?" 1
    if grep -q -- "$want" "$T/wrong.log"; then
        ok "  ... says \"$want\""
    else
        fail "  ... says \"$want\""
        cat "$T/wrong.log"
    fi
}
refused "a missing shard" "shard 2/4 missing" "$T"/s4-[013].part
refused "a shard twice" "shard 1/4 given twice" "$T"/s4-*.part "$T/s4-1.part"
refused "a shard of another split" "partials of different splits" \
    "$T"/s4-[012].part "$T/s7-3.part"
"$BATCH" -c "$T/p.json" --no-progress --shard 2/4 --until 2026-11-18T00:00:00Z \
    --partial "$T/u4-2.part" "$T/in" >/dev/null 2>&1
refused "another --until" "other --from or --until" "$T"/s4-[013].part "$T/u4-2.part"
jq '.views.by_country.granularity = "1d"' "$T/p.json" >"$T/q.json"
PIPE="$T/q.json" refused "another pipeline's partials" \
    "another pipeline's states: view by_country is defined differently" "$T"/s4-*.part
head -c 2000 "$T/s4-2.part" >"$T/cut.part"
refused "a truncated partial" "cut.part: truncated or unfinished" \
    "$T"/s4-[013].part "$T/cut.part"
printf 'nothing' >"$T/in/z.jsonl"
"$BATCH" -c "$T/p.json" --no-progress --shard 3/4 --partial "$T/z3.part" "$T/in" >/dev/null 2>&1
refused "a shard that saw other inputs" "the shards saw other input sets" \
    "$T"/s4-[012].part "$T/z3.part"
rm "$T/in/z.jsonl"
eq "  ... and the store holds no version" "$("$VIEWDUMP" "$T/p.json" "$T/wrong" batch)" ""
"$BATCH" -c "$T/p.json" --shard 4/4 --partial "$T/x.part" >/dev/null 2>&1
eq "--shard 4/4: usage error" "$?" 2
"$BATCH" -c "$T/p.json" --shard 1/4 >/dev/null 2>&1
eq "--shard without --partial: usage error" "$?" 2
"$BATCH" -c "$T/p.json" --merge --until 2026-11-18T00:00:00Z "$T/s4-0.part" >/dev/null 2>&1
eq "--merge with --until: usage error" "$?" 2
"$BATCH" -c "$T/p.json" --merge --pull "$T/repo" >/dev/null 2>&1
eq "--merge with --pull: usage error" "$?" 2

# ---- the repository: publish, pull, refusals ---------------------------------------------
R="$T/repo"
pub() {     # UNTIL [FLAGS...]: a publish of $T/in into the publisher's store
    local until=$1
    shift
    "$BATCH" -c "$T/p.json" --store "$T/pub" --repository "$R" --until "$until" \
        --no-progress "$@" "$T/in" >"$T/pub.log" 2>&1
}
pub 2026-11-18T00:00:00Z
eq "a publish with --repository exits 0" "$?" 0
eq "  ... LATEST names the version's file" "$(cat "$R/LATEST")" v0000000001.lkv
check "  ... and says so" grep -q "version 1 written to $R/v0000000001.lkv" "$T/pub.log"
"$BATCH" -c "$T/p.json" --store "$T/rep1" --pull "$R" >"$T/pull.log" 2>&1
eq "--pull into an empty store exits 0" "$?" 0
dump "$T/p.json" "$T/pub" >"$T/pub.rows"
dump "$T/p.json" "$T/rep1" >"$T/rep1.rows"
same "  ... the same batch rows" "$T/pub.rows" "$T/rep1.rows"
eq "  ... the same version number" "$("$META" "$T/rep1" batch.version i64)" 1
eq "  ... the same cutoff" "$("$META" "$T/rep1" batch.cutoff i64)" \
    "$("$META" "$T/pub" batch.cutoff i64)"
"$BATCH" -c "$T/p.json" --store "$T/rep1" --pull "$R" >"$T/pull2.log" 2>&1
eq "a second --pull exits 0" "$?" 0
check "  ... and is a no-op" grep -q "holds version 1 of .* already: nothing to pull" \
    "$T/pull2.log"

pub 2026-11-19T00:00:00Z                        # version 2
mkdir -p "$T/bad1" "$T/bad2" "$T/bad3"
cp "$R/v0000000002.lkv" "$T/bad1/"
size=$(stat -c %s "$R/v0000000002.lkv")
printf '\x55' | dd of="$T/bad1/v0000000002.lkv" bs=1 seek=$((size / 2)) conv=notrunc \
    2>/dev/null
head -c $((size - 1000)) "$R/v0000000002.lkv" >"$T/bad2/v0000000002.lkv"
echo v0000000002.lkv >"$T/bad1/LATEST"
echo v0000000002.lkv >"$T/bad2/LATEST"
"$BATCH" -c "$T/q.json" --store "$T/foreign" --repository "$T/bad3" \
    --until 2026-11-18T00:00:00Z --no-progress "$T/in" >/dev/null 2>&1
"$BATCH" -c "$T/q.json" --store "$T/foreign" --repository "$T/bad3" \
    --until 2026-11-19T00:00:00Z --no-progress "$T/in" >/dev/null 2>&1
pull_refused() {    # DESC DIR WANT
    "$BATCH" -c "$T/p.json" --store "$T/rep1" --pull "$2" >"$T/bad.log" 2>&1
    eq "$1: exit 1" "$?" 1
    if grep -q -- "$3" "$T/bad.log"; then
        ok "  ... says \"$3\""
    else
        fail "  ... says \"$3\""
        cat "$T/bad.log"
    fi
    dump "$T/p.json" "$T/rep1" >"$T/after.rows"
    same "  ... the local version stays" "$T/rep1.rows" "$T/after.rows"
}
pull_refused "a checksum mismatch" "$T/bad1" \
    "bad1/v0000000002.lkv: checksum mismatch"
pull_refused "a truncated file" "$T/bad2" "bad2/v0000000002.lkv: truncated or unfinished"
pull_refused "another pipeline's version" "$T/bad3" \
    "bad3/v0000000002.lkv: another pipeline's states: view by_country is defined differently"
pull_refused "an empty repository" "$T/bad4" "repository $T/bad4: No such file"
eq "  ... still version 1" "$("$META" "$T/rep1" batch.version i64)" 1

"$BATCH" -c "$T/p.json" --store "$T/rep1" --pull "$R" >"$T/pull3.log" 2>&1
eq "--pull of version 2 exits 0" "$?" 0
dump "$T/p.json" "$T/pub" >"$T/pub.rows"
dump "$T/p.json" "$T/rep1" >"$T/rep1.rows"
same "  ... the same batch rows" "$T/pub.rows" "$T/rep1.rows"
pub 2026-11-20T00:00:00Z --from 2026-11-19T00:00:00Z         # version 3, keeps rows
"$BATCH" -c "$T/p.json" --store "$T/rep1" --pull "$R" >"$T/pull4.log" 2>&1
dump "$T/p.json" "$T/pub" >"$T/pub.rows"
dump "$T/p.json" "$T/rep1" >"$T/rep1.rows"
same "a --from publish travels whole (kept rows included)" "$T/pub.rows" "$T/rep1.rows"
pub 2026-11-20T00:00:00Z                        # version 4
eq "the repository keeps the newest 3 (batch.repository_keep)" \
    "$(cd "$R" && echo v*.lkv)" "v0000000002.lkv v0000000003.lkv v0000000004.lkv"
"$BATCH" -c "$T/p.json" --store "$T/pub" --pull "$R" >"$T/pull5.log" 2>&1
check "the publisher's own store is current" grep -q "nothing to pull" "$T/pull5.log"
"$BATCH" -c "$T/p.json" --store "$T/pub" --pull "$T/bad3" >"$T/pull6.log" 2>&1
eq "a store holding a newer version is refused" "$?" 1
check "  ... saying why" grep -q "holds version 4, newer than the repository's newest" \
    "$T/pull6.log"

# ---- replicas: speed + serving + a pull loop each, sharing nothing -------------------------
start_broker -t rep:4
orders_pipeline "$T/rep1d.json" "$T/none" rep ''
jq 'del(.views.big)' "$T/rep1d.json" >"$T/rep.json"     # cutoffs on the hour
gen_orders 4000 21 >"$T/events.jsonl"
batch_of "$T/rep.json" "$T/oracle" "$T/events.jsonl"
eq "the oracle: one batch run over every event" "$?" 0

declare -A RPIDS PORTS
start_replica() {   # N: its store $T/rN, its group rep-N
    local n=$1 st=$T/r$1
    "$SPEED" -c "$T/rep.json" --store "$st" --brokers "$BROKERS" --group "rep-$n" \
        >"$T/r$n.speed.log" 2>&1 &
    RPIDS[$n]="$!"
    "$SERVING" -c "$T/rep.json" --store "$st" --listen 127.0.0.1:0 \
        --port-file "$T/r$n.port" --ready-max-lag 0 >"$T/r$n.serving.log" 2>&1 &
    RPIDS[$n]="${RPIDS[$n]} $!"
    (while :; do
        "$BATCH" -c "$T/rep.json" --store "$st" --pull "$R2" >>"$T/r$n.pull.log" 2>&1
        sleep 0.3
    done) &
    RPIDS[$n]="${RPIDS[$n]} $!"
    bg "${RPIDS[$n]}"
    wait_until 10 test -s "$T/r$n.port"
    PORTS[$n]=$(cat "$T/r$n.port")
}
get() {     # N PATH: the body, or the status line on error
    curl -s -g --max-time 5 "http://127.0.0.1:${PORTS[$1]}$2"
}
code() {    # N PATH
    curl -s -o /dev/null -w '%{http_code}' --max-time 5 "http://127.0.0.1:${PORTS[$1]}$2"
}
R2="$T/repo2"
publish() {     # UNTIL: the publisher, every publish also to $R2
    "$BATCH" -c "$T/rep.json" --store "$T/publisher" --repository "$R2" --until "$1" \
        --no-progress "$T/events.jsonl" >>"$T/publisher.log" 2>&1
}
version_of() {
    "$META" "$1" batch.version i64 2>/dev/null
}
consumed() {
    status "$1" .consumed
}

start_replica 1
start_replica 2
start_replica 3
eq "a replica without data is not ready (503)" "$(code 1 /readyz)" 503
"$PRODUCE" -c "$T/rep.json" -b "$BROKERS" -r 1000 "$T/events.jsonl" >"$T/produce.log" 2>&1 &
PRODUCER=$!
bg $PRODUCER
check "a replica with speed rows but no batch version is not ready, and says why" \
    wait_until 20 sh -c "curl -s http://127.0.0.1:${PORTS[1]}/readyz | \
    grep -q '\"code\":503,\"message\":\"store .* holds no batch version yet'"
publish 2026-11-19T04:00:00Z
sleep 1
publish 2026-11-19T08:00:00Z
sleep 1
{   # replica 2 dies mid-way: speed, serving and its pull loop
    kill -9 ${RPIDS[2]}
    wait ${RPIDS[2]}
} 2>/dev/null
publish 2026-11-19T12:00:00Z
start_replica 4             # a fresh replica from an empty store, on a running system
sleep 1
publish 2026-11-19T16:00:00Z
wait $PRODUCER
eq "the producer streamed every event" "$?" 0
publish 2026-11-19T20:00:00Z    # version 5

caught_up() {   # every live replica: the newest version, every event consumed, ready
    for n in 1 3 4; do
        [ "$(version_of "$T/r$n")" = "$1" ] || return 1
        [ "$(consumed "$T/r$n")" = 4000 ] || return 1
        [ "$(code "$n" /readyz)" = 200 ] || return 1
    done
}
check "replicas 1, 3 and the fresh 4 pull version 5 and catch up" wait_until 40 caught_up 5

# pulls under load: the all-time total never changes while versions move the cutoff
total=$(get 1 /v1/views/totals/total | grep -o '"metrics":{[^}]*}')
"$HAMMER" "${PORTS[1]}" /v1/views/totals/total 4 2 "$total" \
    >"$T/hammer.out" 2>&1 &
HPID=$!
bg $HPID
for u in 21 22 23; do
    sleep 1
    publish "2026-11-19T$u:00:00Z"
done
wait $HPID
hammer=$(head -n 1 "$T/hammer.out")
check "pull under load: no error, no torn answer ($hammer)" \
    grep -q "mismatches=0 errors=0" "$T/hammer.out"
check "  ... while the answers moved to new versions" \
    sh -c "head -n 1 '$T/hammer.out' | grep -q 'versions=.*,'"
check "every live replica reaches version 8" wait_until 20 caught_up 8

# the answers: byte-identical across replicas, and the oracle's numbers
"$SERVING" -c "$T/rep.json" --store "$T/oracle" --listen 127.0.0.1:0 \
    --port-file "$T/oracle.port" >"$T/oracle.log" 2>&1 &
bg $!
wait_until 10 test -s "$T/oracle.port"
PORTS[0]=$(cat "$T/oracle.port")
while read -r path; do
    a=$(get 1 "$path")
    b=$(get 3 "$path")
    c=$(get 4 "$path")
    if [ -n "$a" ] && [ "$a" = "$b" ] && [ "$a" = "$c" ]; then
        ok "replicas 1, 3, 4 answer $path byte-identically"
    else
        fail "replicas 1, 3, 4 answer $path byte-identically"
        printf '  1: %.300s\n  3: %.300s\n  4: %.300s\n' "$a" "$b" "$c"
    fi
    metrics='[.metrics?, (.points? // [] | map(.metrics)), (.rows? // [] | map([.key, .metrics]))]'
    eq "  ... and the oracle's numbers" "$(jq -c "$metrics" <<<"$a")" \
        "$(get 0 "$path" | jq -c "$metrics")"
done <<'EOF'
/v1/views/totals/total
/v1/views/by_customer/total?customer=c7
/v1/views/by_country/total?country=DE
/v1/views/by_country/total?country
/v1/views/totals/series?step=1h
/v1/views/by_customer/series?customer=c42
/v1/views/by_customer/top?metric=revenue&n=5
/v1/views/by_country/top?metric=orders&n=10
EOF
check "the answers name the version and the watermark" \
    sh -c "curl -s 'http://127.0.0.1:${PORTS[1]}/v1/views/totals/total' | \
    grep -q '\"batch\":{\"version\":8,\"cutoff\":\"2026-11-19T23:00:00Z\"},\"speed\":{\"watermark\":'"
check "no pull failed on a live replica" sh -c "! grep -h 'warn:' '$T/r1.pull.log' \
    '$T/r3.pull.log' '$T/r4.pull.log' | grep -v 'repo2: No such file or directory'"
[ "$failed" = 0 ] || tail -n 5 "$T"/r*.pull.log "$T"/r*.speed.log
finish
