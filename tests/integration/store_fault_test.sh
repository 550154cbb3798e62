#!/bin/bash
# store_fault_test.sh -- the store under faults: a full disk (an LD_PRELOAD shim that fills up,
# and a real tmpfs when root may mount one), a full map, kill -9 at random points of a publish, of
# lambda-speed's commits and of a pull, a truncated and a bit-flipped store. Each ends with the
# previous state served (or the new one, whole) or a clean refusal (exit 1 and a message), and
# the store opening afterwards (lambda-batch --verify clean, or naming the damage). Prints the
# fault matrix: how many faults of each kind, and how each ended.
. "$(dirname "$0")/speed_lib.sh"   # T, BATCH, SPEED, VIEWDUMP, the development broker, checks

SERVING="$BUILD/lambda-serving"
SHIM="$BUILD/tests/integration/fault_shim.so"
KILLS=8
FLIPS=8
EVENTS=55000       # two views of a row per event: > 2 of the writer's chunks of 50000 rows
[ "$SANITIZED" = 1 ] && KILLS=6 && FLIPS=5
# a preloaded shim goes before the sanitizers' runtime: tell ASan that is fine
export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0"

# ---- the matrix -----------------------------------------------------------------------------
declare -A M
FAULTS=""
tally() {   # FAULT OUTCOME: one more run of FAULT, ended so
    [ -z "${M[$1|runs]:-}" ] && FAULTS="$FAULTS|$1"
    M[$1|runs]=$(( ${M[$1|runs]:-0} + 1 ))
    also "$1" "$2"
}
also() {    # FAULT WHAT: of those runs, one more did WHAT too
    M[$1|$2]=$(( ${M[$1|$2]:-0} + 1 ))
}
SECTION_START=$(now_ms)
pause() {   # LO HI: sleep a random time between LO and HI ms
    sleep "$(awk -v r=$RANDOM -v lo="$1" -v hi="$2" 'BEGIN { printf "%.3f", (lo + r / 32767 * (hi - lo)) / 1000 }')"
}
section() { echo "## $1 ($(( $(now_ms) - SECTION_START )) ms so far)"; }
matrix() {
    local f k line total=0
    echo "fault matrix (runs: how they ended)"
    IFS='|' read -ra fs <<<"${FAULTS#|}"
    for f in "${fs[@]}"; do
        line=""
        while read -r k; do
            case $k in "$f|runs") ;; "$f|"*) line="$line, ${k#"$f|"} ${M[$k]}" ;; esac
        done < <(printf '%s\n' "${!M[@]}" | sort)
        printf '  %-28s %3d: %s\n' "$f" "${M[$f|runs]}" "${line#, }"
        total=$((total + M[$f|runs]))
    done
    echo "  $total faults injected; $failed checks failed"
}

# ---- data: two inputs of the same size, times relative to now -------------------------------
# EVENTS events 10 s apart from 9 days ago, 300 customers, every 997th line invalid (rejects),
# input a (seed 1) and input b (seed 2); and the totals expected of each, computed here: the
# events before the cutoff, the start of the day of the last one (totals, 1d, is the coarsest
# view), as "ORDERS REVENUE"
python3 - "$EVENTS" "$T" <<'EOF'
import sys, time
from decimal import Decimal
n, t = int(sys.argv[1]), sys.argv[2]
base = (int(time.time()) // 86400 - 9) * 86400
cc = ["DE", "FR", "US", "GB", "NL", "ES"]
for name, seed in (("a", 1), ("b", 2)):
    x, out, ev = seed * 7919, [], []
    for i in range(n):
        x = (x * 1103515245 + 12345) % 2147483648
        c, ts = x % 50000, base + i * 10
        if i % 997 == 5:
            out.append('{"customer":"c%d","amount":"bad","ts":%d}' % (i % 300, ts))
            continue
        amount = "%d.%02d" % (c // 100, c % 100)
        out.append('{"customer":"c%d","country":"%s","amount":%s,"ts":%d}'
                   % (i % 300, cc[(x >> 8) % 6], amount, ts))
        ev.append((ts, Decimal(amount)))
    open("%s/%s.jsonl" % (t, name), "w").write("\n".join(out) + "\n")
    cut = max(ts for ts, _ in ev) // 86400 * 86400
    open("%s/%s.expect" % (t, name), "w").write("%d %s\n" % (
        sum(1 for ts, _ in ev if ts < cut), sum(a for ts, a in ev if ts < cut)))
EOF
cat >"$T/p.json" <<EOF
{"name": "fault", "store": "$T/st",
 "event": {"time": "ts", "fields": {"customer": "string",
     "country": {"type": "string", "required": false},
     "amount": {"type": "decimal", "scale": 2, "min": 0}}},
 "views": {
   "by_customer": {"group_by": ["customer"], "granularity": "10s",
                   "metrics": {"orders": "count", "revenue": "sum(amount)"}},
   "by_country": {"group_by": ["country"], "granularity": "10s",
                  "metrics": {"orders": "count", "revenue": "sum(amount)"}},
   "totals": {"granularity": "1d", "metrics": {"orders": "count", "revenue": "sum(amount)"}}}}
EOF

publish() {   # STORE INPUT [ENV...]: lambda-batch into STORE; its log in $T/last.log
    local store=$1 input=$2
    shift 2
    env "$@" "$BATCH" -c "$T/p.json" --store "$store" --no-progress "$input" >"$T/last.log" 2>&1
}
state() {     # STORE: a digest of every row of the batch view
    "$VIEWDUMP" "$T/p.json" "$1" batch | sha256sum | cut -c1-16
}
entries() {   # STORE: entries of the batch database, every version
    mdb_stat -s batch "$1" | awk '/Entries:/ { print $2 }'
}
verify() {    # STORE: lambda-batch --verify; its output in $T/verify.out
    "$BATCH" -c "$T/p.json" --store "$1" --verify >"$T/verify.out" 2>&1
}

# ---- reference states -----------------------------------------------------------------------
publish "$T/st" "$T/a.jsonl"
eq "version 1 (input a) published" "$?" 0
cp -a "$T/st" "$T/pristine"         # version 1 alone: few free pages, for the disk cases
HA=$(state "$T/st")
LIVE_A=$(entries "$T/st")
t0=$(now_ms)
publish "$T/st" "$T/b.jsonl"
eq "version 2 (input b) published" "$?" 0
RUN_MS=$(( $(now_ms) - t0 ))     # how long a run takes here, now: kills land within it
HB=$(state "$T/st")
LIVE_B=$(entries "$T/st")
check "the two inputs give two states" [ "$HA" != "$HB" ]

serve() {     # NAME STORE: lambda-serving on STORE; sets SERVED (its URL) and SERVED_PID
    "$SERVING" -c "$T/p.json" --store "$2" --listen 127.0.0.1:0 --port-file "$T/$1.port" \
        >"$T/$1.log" 2>&1 &
    SERVED_PID=$!
    bg $SERVED_PID
    wait_until 10 test -s "$T/$1.port" || fail "lambda-serving on $2 did not start"
    SERVED="http://127.0.0.1:$(cat "$T/$1.port")"
}

# serving, read-only on the store through every fault below
serve serving "$T/st"
URL=$SERVED
answer() {    # the all-time totals served, as printed: "ORDERS REVENUE"
    curl -s --max-time 5 "$URL/v1/views/totals/total" |
        sed -nE 's/.*"metrics":\{"orders":([0-9]+),"revenue":([0-9.]+)\}.*/\1 \2/p'
}
wait_until 10 sh -c "curl -sf '$URL/readyz' >/dev/null"
AB=$(answer)
eq "served totals of input b are the totals computed here" "$AB" "$(cat "$T/b.expect")"
AA=$(cat "$T/a.expect")

section "publish kills"
# ---- kill -9 during a publish ---------------------------------------------------------------
# Alternate the inputs, kill at a random point of the run (reading, writing chunks, the publish
# transaction, the purge of the previous version): the state served is the previous one or the
# new one, whole, never a mix; the store verifies clean; what a killed run left is deleted by
# the next run before it reads.
cur=b
declare -A H=([a]=$HA [b]=$HB) A=([a]=$AA [b]=$AB)
for i in $(seq "$KILLS"); do
    next=a
    [ "$cur" = a ] && next=b
    "$BATCH" -c "$T/p.json" --no-progress "$T/$next.jsonl" >"$T/kill-$i.log" 2>&1 &
    pid=$!
    pause $((RUN_MS * 15 / 100)) $((RUN_MS * 11 / 10))
    kill -9 "$pid" 2>/dev/null
    wait "$pid" 2>/dev/null
    s=$(state "$T/st")
    a=$(answer)
    if [ "$s" = "${H[$cur]}" ] && [ "$a" = "${A[$cur]}" ]; then
        tally "publish kill -9" "previous served"
    elif [ "$s" = "${H[$next]}" ] && [ "$a" = "${A[$next]}" ]; then
        tally "publish kill -9" "new served"
        cur=$next
    else
        tally "publish kill -9" "TORN"
        fail "kill $i: the state served is neither version (rows $s, answer $a)"
    fi
    if verify "$T/st"; then
        grep -q "which is not published" "$T/verify.out" &&
            also "publish kill -9" "left rows"
    else
        tally "publish kill -9" "VERIFY FAILED"
        fail "kill $i: --verify: $(cat "$T/verify.out")"
    fi
done
eq "publish kills: never a torn state" "${M[publish kill -9|TORN]:-0}" 0
publish "$T/st" "$T/$cur.jsonl"
eq "a run after the kills exits 0" "$?" 0
[ "$cur" = a ] && live=$LIVE_A || live=$LIVE_B
eq "  ... and deleted what the killed runs left: entries back to live" "$(entries "$T/st")" "$live"
grep -q "rows a failed or killed run left" "$T/last.log" && also "publish kill -9" "rows deleted by the next run"

section "disk full"
# ---- a full disk (the shim), a full map --------------------------------------------------------
# From version 1 alone (no free pages to reuse) the run for input b must grow the file.
disk_case() {   # NAME WANT RECOVER ENV...: a failed run; with RECOVER, one without the fault
    local name=$1 want=$2 recover=$3 d="$T/disk"
    shift 3
    rm -rf "$d"
    cp -a "$T/pristine" "$d"
    publish "$d" "$T/b.jsonl" "$@"
    local rc=$? msg
    msg=$(grep -E 'warn:|error:' "$T/last.log" | tail -n 1)
    eq "$name: the run fails" "$rc" 1
    check "$name: named: $want ($msg)" grep -q "$want" <<<"$msg"
    eq "$name: version 1 still served" "$(state "$d")" "$HA"
    if [ "$(entries "$d")" = "$LIVE_A" ]; then
        also "$name" "rows deleted by the run"
    else
        also "$name" "rows left for the next run"
    fi
    verify "$d"
    eq "$name: the store verifies clean" "$?" 0
    [ "$rc" = 1 ] && tally "$name" "refused, previous served"
    [ "$recover" = recover ] || return
    publish "$d" "$T/b.jsonl"
    eq "$name: the next run, the disk freed, publishes" "$?" 0
    eq "$name:   ... input b, whole" "$(state "$d")" "$HB"
    eq "$name:   ... with no rows left behind" "$(entries "$d")" "$LIVE_B"
    also "$name" "the next run publishes"
}
disk_case "disk full (no room)" "store $T/disk: disk full: .*No space left on device (0 bytes free" recover \
    LD_PRELOAD="$SHIM" FAULT_SPACE=0 FAULT_PATH=/disk/data.mdb
disk_case "disk full (mid-run)" "store $T/disk: disk full: commit: a write was cut short (0 bytes free" - \
    LD_PRELOAD="$SHIM" FAULT_SPACE=3000000 FAULT_PATH=/disk/data.mdb
disk_case "disk quota" "store $T/disk: disk full: .*Disk quota exceeded: raise the quota" - \
    LD_PRELOAD="$SHIM" FAULT_SPACE=0 FAULT_ERRNO=EDQUOT FAULT_PATH=/disk/data.mdb
disk_case "disk full (rejects)" "disk full: rejects $T/disk/rejects/batch.jsonl.tmp: write: No space left on device" recover \
    LD_PRELOAD="$SHIM" FAULT_FSYNC=1 FAULT_PATH=/disk/rejects/
disk_case "map full" "store $T/disk: map full: it reached its map size of 12 MiB; set LAMBDA_MAP_SIZE larger .* LAMBDA_MAP_SIZE=24M" - \
    LAMBDA_MAP_SIZE=12M

# a real full disk: a tmpfs just larger than version 1, as root
if [ "$(id -u)" = 0 ] && mkdir -p "$T/mnt" &&
   mount -t tmpfs -o size=$(( $(du -sk "$T/pristine" | cut -f1) + 1024 ))k tmpfs "$T/mnt" 2>/dev/null; then
    trap 'umount "$T/mnt" 2>/dev/null; cleanup' EXIT
    cp -a "$T/pristine" "$T/mnt/st"
    publish "$T/mnt/st" "$T/b.jsonl"
    eq "tmpfs: a run on a full disk fails" "$?" 1
    msg=$(grep -E 'warn:|error:' "$T/last.log" | tail -n 1)
    check "tmpfs: named a full disk ($msg)" grep -q "disk full: " <<<"$msg"
    eq "tmpfs: version 1 still served" "$(state "$T/mnt/st")" "$HA"
    # the disk is still full: the next run says what to free
    publish "$T/mnt/st" "$T/b.jsonl"
    msg=$(grep -E 'warn:|error:' "$T/last.log" | tail -n 1)
    check "tmpfs: the next run on the full disk says what to free ($msg)" \
        grep -Eq "disk full: .*free (space|on)" <<<"$msg"
    verify "$T/mnt/st"
    eq "tmpfs: the store verifies clean" "$?" 0
    mount -o remount,size=64m "$T/mnt"
    publish "$T/mnt/st" "$T/b.jsonl"
    eq "tmpfs: room made, the next run publishes" "$?" 0
    eq "tmpfs:   ... input b, whole, nothing left behind" \
        "$(state "$T/mnt/st") $(entries "$T/mnt/st")" "$HB $LIVE_B"
    tally "disk full (tmpfs)" "refused, previous served"
    umount "$T/mnt"
else
    echo "(tmpfs case skipped: needs root and mount)"
fi

section "truncated"
# ---- a truncated store ------------------------------------------------------------------------
cp -a "$T/pristine" "$T/cut"
size=$(stat -c %s "$T/cut/data.mdb")
truncate -s $((size / 2)) "$T/cut/data.mdb"
want="data.mdb is $((size / 2)) bytes but its last page ends at $size: the file is truncated"
publish "$T/cut" "$T/b.jsonl"
eq "truncated: lambda-batch exits 1" "$?" 1
check "truncated: lambda-batch says so, and what to do" \
    grep -q "store $T/cut: $want; restore it from a backup, or move it away" "$T/last.log"
tally "truncated store" "lambda-batch refused"
verify "$T/cut"
eq "truncated: --verify exits 1" "$?" 1
check "truncated: --verify names it" grep -q "^damage: $want" "$T/verify.out"
serve cut "$T/cut"
CUT=$SERVED
cutpid=$SERVED_PID
r=$(curl -s -w ' %{http_code}' --max-time 5 "$CUT/readyz" | tr -d '\n')
check "truncated: lambda-serving is not ready, 503 with the reason ($r)" \
    grep -q "\"code\":503,\"message\":\"store $T/cut: $want.* 503$" <<<"$r"
r=$(curl -s -w ' %{http_code}' --max-time 5 "$CUT/v1/views/totals/total" | tr -d '\n')
check "truncated: a data route answers 503, our JSON error ($r)" \
    grep -q "^{\"error\":{\"code\":503,\"message\":\"store $T/cut: $want.* 503$" <<<"$r"
check "truncated: lambda-serving did not crash" kill -0 "$cutpid"
tally "truncated store" "lambda-serving not ready, 503"
# cut under a running server: its next reads fail, they do not crash it
cp -a "$T/pristine" "$T/cut2"
serve cut2 "$T/cut2"
CUT2=$SERVED
cut2pid=$SERVED_PID
wait_until 10 sh -c "curl -sf '$CUT2/readyz' >/dev/null"
eq "truncated live: served before" "$(curl -s -o /dev/null -w '%{http_code}' "$CUT2/v1/views/totals/total")" 200
truncate -s $((size / 2)) "$T/cut2/data.mdb"
r=$(curl -s -w ' %{http_code}' --max-time 5 "$CUT2/v1/views/totals/total" | tr -d '\n')
check "truncated live: then 503 with the reason ($r)" grep -q "the file is truncated.* 503$" <<<"$r"
check "truncated live: lambda-serving did not crash" kill -0 "$cut2pid"
tally "truncated store" "cut under lambda-serving: 503"
cp "$T/pristine/data.mdb" "$T/cut/data.mdb"
verify "$T/cut"
eq "truncated: restored, the store opens and verifies clean" "$?" 0

section "bit flips"
# ---- bit flips --------------------------------------------------------------------------------
# Random bits of the data pages of version 1: --verify names the damage, or nothing served
# changed (a flip in a free page or in the unused middle of a page). On a damaged store
# lambda-serving stays not ready and lambda-batch refuses before it writes, naming the damage
# (their walk before use); on a clean one they serve and publish.
seed=$RANDOM
echo "bit flips: seed $seed"
python3 - "$T/pristine/data.mdb" "$T/flip" "$FLIPS" "$seed" <<'EOF'
import random, sys
src, dst, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
random.seed(int(sys.argv[4]))
good = open(src, "rb").read()
for i in range(1, n + 1):
    b = bytearray(good)
    for _ in range(4):
        off = random.randrange(2 * 4096, len(b))
        b[off] ^= 1 << random.randrange(8)
    open("%s%d.mdb" % (dst, i), "wb").write(b)
EOF
for i in $(seq "$FLIPS"); do
    rm -rf "$T/flip"
    cp -a "$T/pristine" "$T/flip"
    mv "$T/flip$i.mdb" "$T/flip/data.mdb"
    verify "$T/flip"
    rc=$?
    if [ "$rc" = 1 ] && grep -q "^damage: " "$T/verify.out"; then
        tally "bit flips" "named by --verify"
    elif [ "$rc" = 0 ] && [ "$(state "$T/flip")" = "$HA" ]; then
        tally "bit flips" "harmless (rows unchanged)"
    else
        tally "bit flips" "UNDETECTED"
        fail "flip $i: --verify exit $rc, rows changed: $(tail -n 3 "$T/verify.out")"
    fi
    grep -q "crashed LMDB" "$T/verify.out" && also "bit flips" "LMDB crashed (reported)"
    # lambda-serving on it: not ready naming the damage, or (clean) input a's answer
    serve "flip$i" "$T/flip"
    r=$(curl -s -w ' %{http_code}' --max-time 5 "$SERVED/readyz" | tr -d '\n')
    a=$(curl -s --max-time 5 "$SERVED/v1/views/totals/total" | tr -d '\n')
    if [ "$rc" = 1 ]; then
        check "flip $i: lambda-serving not ready, the damage named ($r)" \
            grep -q "\"code\":503,\"message\":\"store $T/flip: damaged: .*--verify for the full report.* 503$" <<<"$r"
        check "flip $i: a data route 503 ($a)" grep -q '^{"error":{"code":503' <<<"$a"
        also "bit flips" "lambda-serving not ready"
    else
        check "flip $i: lambda-serving serves input a ($r)" grep -q ' 200$' <<<"$r"
        check "flip $i: ... its totals ($a)" grep -q "\"metrics\":{\"orders\":${AA% *},\"revenue\":${AA#* }}" <<<"$a"
    fi
    check "flip $i: lambda-serving did not crash" kill -0 "$SERVED_PID"
    kill "$SERVED_PID"; wait "$SERVED_PID" 2>/dev/null
    # lambda-batch on it: refused before it writes (data.mdb untouched), never a signal;
    # or, on a store that verified clean, input b published
    sum=$(sha256sum <"$T/flip/data.mdb")
    publish "$T/flip" "$T/b.jsonl"
    brc=$?
    check "flip $i: lambda-batch not killed by a signal (exit $brc)" [ "$brc" -lt 128 ]
    if [ "$rc" = 1 ]; then
        eq "flip $i: lambda-batch refuses, exit 1" "$brc" 1
        check "flip $i: ... naming the damage ($(tail -n 1 "$T/last.log"))" \
            grep -q "error: store $T/flip: damaged: .*; run lambda-batch --verify for the full report; nothing published" "$T/last.log"
        eq "flip $i: ... data.mdb untouched" "$(sha256sum <"$T/flip/data.mdb")" "$sum"
        also "bit flips" "lambda-batch refused"
    else
        eq "flip $i: lambda-batch publishes input b" "$brc $(state "$T/flip")" "0 $HB"
    fi
done
check "bit flips: --verify named some" [ "${M[bit flips|named by --verify]:-0}" -ge 1 ]

section "pull"
# ---- a pull killed -9 -------------------------------------------------------------------------
R="$T/repo"
publish "$T/pub" "$T/a.jsonl" LAMBDA_REPOSITORY="$R"
t0=$(now_ms)
"$BATCH" -c "$T/p.json" --store "$T/rep" --pull "$R" >"$T/pull.log" 2>&1
eq "pull: the replica imports version 1" "$?" 0
PULL_MS=$(( $(now_ms) - t0 ))
rcur=a
for i in $(seq $((KILLS / 2))); do
    next=a
    [ "$rcur" = a ] && next=b
    publish "$T/pub" "$T/$next.jsonl" LAMBDA_REPOSITORY="$R"
    "$BATCH" -c "$T/p.json" --store "$T/rep" --pull "$R" >"$T/pull-$i.log" 2>&1 &
    pid=$!
    pause 0 $((PULL_MS * 12 / 10))
    kill -9 "$pid" 2>/dev/null
    wait "$pid" 2>/dev/null
    s=$(state "$T/rep")
    if [ "$s" = "${H[$rcur]}" ]; then
        tally "pull kill -9" "previous served"
        "$BATCH" -c "$T/p.json" --store "$T/rep" --pull "$R" >"$T/pull-$i.log" 2>&1
        eq "pull $i: the next pull completes" "$? $(state "$T/rep")" "0 ${H[$next]}"
    elif [ "$s" = "${H[$next]}" ]; then
        tally "pull kill -9" "new served"
    else
        tally "pull kill -9" "TORN"
        fail "pull $i: the replica's state is neither version"
    fi
    rcur=$next
    verify "$T/rep" || { tally "pull kill -9" "VERIFY FAILED"; fail "pull $i: $(cat "$T/verify.out")"; }
done
eq "pull kills: never a torn state" "${M[pull kill -9|TORN]:-0}" 0

section "speed"
# ---- lambda-speed: kill -9 at random points, a full disk, a cut store ---------------------------
# The events go in three slices, one before each restart, so that every kill lands in a run
# with records to consume and commit. A group's first join takes the development broker 3 s:
# the full-disk runs (their own store and groups) go on beside the kills.
N=21000
start_broker -t fault:4
orders_pipeline "$T/speed.json" "$T/speed" fault ', "max_batch": 500'
gen_orders "$N" 5 >"$T/events.jsonl"
split -n l/3 -d "$T/events.jsonl" "$T/slice"
produce() {   # SLICE
    "$PRODUCE" -c "$T/speed.json" -b "$BROKERS" "$T/slice0$1" >>"$T/produce.log" 2>&1 ||
        fail "produce slice $1"
}
speed_once() {   # STORE GROUP LOG [ENV...]
    local store=$1 group=$2 log=$3
    shift 3
    env "$@" "$SPEED" -c "$T/speed.json" --brokers "$BROKERS" --store "$store" \
        --group "$group" --once >"$log" 2>&1
}

# a cut store: refused before any Kafka work
truncate -s $((size / 2)) "$T/cut/data.mdb"
speed_once "$T/cut" cut "$T/speed-cut.log"
eq "truncated: lambda-speed exits 1" "$?" 1
check "truncated: lambda-speed says so" grep -q "the file is truncated; restore it" "$T/speed-cut.log"
tally "truncated store" "lambda-speed refused"

# a full disk at a commit of a new store: exit 1, named; the offsets are in the same
# transaction as the rows, so the next run goes on from the last commit, nothing lost
produce 0
(
    speed_once "$T/full" full-1 "$T/speed-full.log" LD_PRELOAD="$SHIM" FAULT_SPACE=400000 \
        FAULT_PATH=/full/data.mdb
    echo $? >"$T/full-1.rc"
    wait_until 60 test -e "$T/produced"
    speed_once "$T/full" full-2 "$T/speed-full2.log"
    echo $? >"$T/full-2.rc"
) &
fullpid=$!
bg $fullpid

for i in 0 1 2; do
    [ "$i" != 0 ] && produce "$i"
    "$SPEED" -c "$T/speed.json" --brokers "$BROKERS" --group "fault-$i" --log-level debug \
        >"$T/speed-$i.log" 2>&1 &
    pid=$!
    bg $pid
    wait_until 20 grep -q "assigned fault:" "$T/speed-$i.log"
    pause $((20 * SLOW)) $((300 * SLOW))
    kill -9 "$pid" 2>/dev/null
    wait "$pid" 2>/dev/null
    if out=$("$BATCH" -c "$T/speed.json" --store "$T/speed" --verify 2>&1); then
        tally "speed kill -9" "store verifies clean"
    else
        tally "speed kill -9" "VERIFY FAILED"
        fail "speed kill $i: --verify: $out"
    fi
    grep -q "speed_commit: " "$T/speed-$i.log" && also "speed kill -9" "after a commit"
done
touch "$T/produced"
speed_once "$T/speed" fault-final "$T/final.log"
eq "speed: a last --once exits 0" "$?" 0
eq "speed: every event consumed exactly once" "$(status "$T/speed" .consumed)" "$N"

wait "$fullpid"
eq "speed on a full disk: exits 1" "$(cat "$T/full-1.rc")" 1
check "speed on a full disk: named ($(grep -m1 'disk full' "$T/speed-full.log"))" \
    grep -q "store $T/full: disk full: commit: .*free on its filesystem" "$T/speed-full.log"
check "  ... after committing some" [ "$(status "$T/full" .consumed)" -gt 0 ]
tally "speed disk full" "refused at a commit"
eq "speed: room made, --once exits 0" "$(cat "$T/full-2.rc")" 0
eq "speed:   ... every event consumed exactly once" "$(status "$T/full" .consumed)" "$N"

batch_of "$T/speed.json" "$T/speed-batch" "$T/events.jsonl"
same_views "speed after kills" "$T/speed.json" "$T/speed" "$T/speed-batch"
same_views "speed after a full disk" "$T/speed.json" "$T/full" "$T/speed-batch"
also "speed disk full" "nothing lost"

section "end"
matrix
finish
