#!/bin/bash
# batch_test.sh -- lambda-batch end to end: golden, bad inputs, kill -9, threads, flags
#
# Runs the real binary ("$BUILD"/lambda-batch) in a mktemp directory and reads
# what it published with viewdump. The golden file datasets/expected/
# shop.batch.txt is also recomputed here from the raw events with jq, so it
# is checked by other means than the code that wrote it. Ends with
# "N passed, N failed". LAMBDA_SANITIZED=1 scales the generated inputs down.
set -u
top=${LAMBDA_TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
cd "$top" || exit 1
BUILD=${BUILD:-build}
LB="$BUILD/lambda-batch"
VD="$BUILD/tests/integration/viewdump"
SHOP=datasets/shop.json
unset LAMBDA_CONFIG LAMBDA_STORE LAMBDA_LOG_LEVEL LAMBDA_UNTIL LAMBDA_FROM \
    LAMBDA_THREADS LAMBDA_REJECTS LAMBDA_DRY_RUN LAMBDA_NO_PROGRESS \
    LAMBDA_CHECK_CONFIG
export TZ=UTC LC_ALL=C
T=$(mktemp -d "${TMPDIR:-/tmp}/batch_test.XXXXXX") || exit 1
trap 'jobs -p | xargs -r kill -9 2>/dev/null; rm -rf "$T"' EXIT
if [ "${LAMBDA_SANITIZED:-0}" = 1 ]; then
    BIG=40000 DELAYS="0 0.01 0.02 0.03 0.05 0.07 0.01 0.02"
else
    BIG=300000 DELAYS="0 0.05 0.1 0.15 0.2 0.3 0.05 0.1"
fi

. tests/integration/harness.sh   # check, eq, ok, fail, finish
# cond1 && cond2; expect NAME: passes when the previous command list did
expect() { if [ $? = 0 ]; then ok "$1"; else fail "$1"; fi; }
has()   { grep -q -- "$2" "$1"; }          # has FILE TEXT
same()  { cmp -s "$1" "$2"; }
# run LOG ARGS...: lambda-batch with stderr in LOG; $rc is its exit status
run()   { local log=$1; shift; "$LB" "$@" >"$log.out" 2>"$log"; rc=$?; }
dump()  { "$VD" "$SHOP" "$1" batch >"$2"; }
# summary field: field LOG NAME -> value of NAME=... in the summary line
field() { grep -o " $2=[^ ]*" "$1" | tail -n 1 | cut -d= -f2; }

# events of the shop history, one JSON value each (hidden files skipped)
shop_events() {
    local f
    for f in $(find datasets/shop -type f ! -name '.*' | sort); do
        case $f in
        *.gz)   zcat "$f" ;;
        *.json) jq -c '.[]' "$f" ;;
        *)      cat "$f"; echo ;;
        esac
    done
}

# Recompute the shop views from raw events, independently of lambdakit:
# one line per row, "VIEW<TAB>BUCKET<TAB>JSON" as viewdump's columns 1, 3, 5.
# $cut (ms) overrides the cutoff; else the start of the day of the last event.
cat >"$T/views.jq" <<'EOF'
def ms:
  if type == "number" then (if . >= 1e11 then floor else . * 1000 | floor end)
  else capture("^(?<d>[0-9-]+T[0-9:]+)(?<f>\\.[0-9]+)?(?<z>Z|[+-][0-9][0-9]:[0-9][0-9])$") as $m
    | (($m.d + "Z") | fromdateiso8601) * 1000
      + (if $m.f then ($m.f[1:] + "00")[0:3] | tonumber else 0 end)
      - (if $m.z == "Z" then 0
         else ($m.z[0:1] + "1" | tonumber) * (($m.z[1:3] | tonumber) * 60
              + ($m.z[4:6] | tonumber)) * 60000 end)
  end;
def iso: . / 1000 | todate;
def dec2: (. / 100 | floor | tostring) + "." + ((. % 100) + 100 | tostring | .[1:]);
def avg4($s; $n): ($s * 100 / $n + 0.5 | floor) as $q
  | ($q / 10000 | floor | tostring) + "." + (($q % 10000) + 10000 | tostring | .[1:]);
[ .[] | {c: .customer, k: .country, cents: (.amount * 100 | round), t: (.ts | ms)} ] as $ev
| (if $cut != "" then ($cut | tonumber)
   else ($ev | map(.t) | max | . - (. % 86400000)) end) as $cutoff
| [ $ev[] | select(.t < $cutoff and .t >= ($from | tonumber)) ] as $in
| ( $in | group_by([.c, (.t - .t % 3600000)])[]
    | "by_customer\t\(.[0].t - .[0].t % 3600000 | iso)\t{\"key\":{\"customer\":\(.[0].c | tojson)},\"metrics\":{\"orders\":\(length),\"revenue\":\(map(.cents) | add | dec2),\"avg_order\":\(avg4(map(.cents) | add; length)),\"max_order\":\(map(.cents) | max | dec2)}}" ),
  ( $in | group_by([.k, (.t - .t % 86400000)])[]
    | "by_country\t\(.[0].t - .[0].t % 86400000 | iso)\t{\"key\":{\"country\":\(.[0].k | tojson)},\"metrics\":{\"orders\":\(length),\"revenue\":\(map(.cents) | add | dec2)}}" )
EOF
# jq_views OUT [CUTOFF_MS [FROM_MS]]: the independent views, sorted
jq_views() {
    shop_events | jq -s -r --arg cut "${2:-}" --arg from "${3:-0}" \
        -f "$T/views.jq" | sort >"$1"
}
# cols IN OUT: viewdump columns 1, 3 and 5, sorted
cols() { cut -f1,3,5 "$1" | sort >"$2"; }

# generated input with many groups: c00000..c59999, 20 countries, 4 days
gen_big() {
    awk -v n="$1" 'BEGIN { for (i = 0; i < n; i++)
        printf "{\"customer\":\"c%05d\",\"country\":\"K%d\",\"amount\":%d.%02d,\"ts\":%d}\n",
            (i * 7919) % 60000, i % 20, i % 997, i % 100,
            1794787200 + (i * 37) % 345600 }'
}

test_golden() {
    local s=$T/golden
    run "$T/golden.log" -c "$SHOP" --store "$s"
    check "golden: exit 0" [ "$rc" = 0 ]
    dump "$s" "$T/golden.txt"
    check "golden: views equal datasets/expected/shop.batch.txt" \
        same "$T/golden.txt" datasets/expected/shop.batch.txt
    jq_views "$T/golden.jq.txt"
    cols datasets/expected/shop.batch.txt "$T/golden.cols"
    check "golden: expected file equals the views recomputed with jq" \
        same "$T/golden.jq.txt" "$T/golden.cols"
    [ "$(grep -c '^by_customer' "$T/golden.jq.txt")" -gt 100 ] && \
        [ "$(grep -c '^by_country' "$T/golden.jq.txt")" -gt 10 ]
    expect "golden: jq found rows in both views"
    local all before
    all=$(shop_events | jq -s 'length')
    before=$(grep '^by_country' "$T/golden.jq.txt" | cut -f3 |
        jq -s 'map(.metrics.orders) | add')
    check "golden: summary counts events before the cutoff ($before)" \
        [ "$(field "$T/golden.log" events)" = "$before" ]
    check "golden: summary counts the last day as after_cutoff" \
        [ "$(field "$T/golden.log" after_cutoff)" = $((all - before)) ]
    check "golden: cutoff is the start of the last day" \
        [ "$(field "$T/golden.log" cutoff)" = 2026-11-20T00:00:00Z ]
    [ "$(field "$T/golden.log" rejects)" = 0 ] && \
        [ ! -s "$s/rejects/batch.jsonl" ]
    expect "golden: no rejects (hidden .notes not read)"
    check "golden: the workshop's Ali 50 is in its hour" \
        grep -q $'^by_customer\t2026-11-18T12:00:00Z\t{"key":{"customer":"Ali"}' \
        "$T/golden.jq.txt"
    check "golden: rows in summary match the dump" \
        [ "$(field "$T/golden.log" rows)" = "$(wc -l <"$T/golden.txt")" ]

    # rerun: same bytes, next version
    run "$T/rerun.log" -c "$SHOP" --store "$s"
    dump "$s" "$T/rerun.txt"
    [ "$rc" = 0 ] && \
        has "$T/rerun.log" "published version 2:"
    expect "rerun: exit 0, version 2"
    check "rerun: byte-identical views" same "$T/rerun.txt" "$T/golden.txt"

    # an input listed twice is read once
    run "$T/dup.log" -c "$SHOP" --store "$T/dup" datasets/shop \
        datasets/shop/2026-11-16.jsonl
    dump "$T/dup" "$T/dup.txt"
    check "inputs: a file listed twice is counted once" \
        same "$T/dup.txt" "$T/golden.txt"
    # globs, a single file per kind, env config and store
    LAMBDA_CONFIG=$SHOP LAMBDA_STORE=$T/glob "$LB" 'datasets/shop/*.json*' \
        datasets/shop/older >/dev/null 2>"$T/glob.log"
    rc=$?
    dump "$T/glob" "$T/glob.txt"
    [ "$rc" = 0 ] && same "$T/glob.txt" "$T/golden.txt"
    expect "inputs: globs + directory + env give the same views"
}

test_threads() {
    local n rcs=""
    gen_big "$BIG" >"$T/big.jsonl"
    for n in 1 2 3; do
        run "$T/th$n.log" -c "$SHOP" --store "$T/th$n" --threads $n \
            "$T/big.jsonl" datasets/shop datasets/bad
        rcs="$rcs$rc"
        dump "$T/th$n" "$T/th$n.txt"
    done
    check "threads: 1, 2 and 3 threads exit 0" [ "$rcs" = 000 ]
    check "threads: 1 vs 2 byte-identical" same "$T/th1.txt" "$T/th2.txt"
    check "threads: 1 vs 3 byte-identical" same "$T/th1.txt" "$T/th3.txt"
    check "threads: many groups written" [ "$(wc -l <"$T/th1.txt")" -gt 1000 ]
    # parsing threads must not share glibc's struct lconv (shared/clocale.c)
    nm -D --defined-only "$LB" | grep -q ' T localeconv$'
    expect "threads: lambda-batch defines its own localeconv()"
    [ -s "$T/th1/rejects/batch.jsonl" ] &&
        same "$T/th1/rejects/batch.jsonl" "$T/th2/rejects/batch.jsonl" &&
        same "$T/th1/rejects/batch.jsonl" "$T/th3/rejects/batch.jsonl"
    expect "threads: rejects file identical, in input order"
    # the same events as one JSON array, and gzipped: same views
    { echo '['; sed '$!s/$/,/' "$T/big.jsonl"; echo ']'; } >"$T/big.json"
    gzip -c "$T/big.jsonl" >"$T/big.jsonl.gz"
    run "$T/arr.log" -c "$SHOP" --store "$T/arr" --threads 2 "$T/big.json" \
        datasets/shop datasets/bad
    dump "$T/arr" "$T/arr.txt"
    check "inputs: a large JSON array streams to the same views" \
        same "$T/arr.txt" "$T/th1.txt"
    run "$T/gz.log" -c "$SHOP" --store "$T/gz" "$T/big.jsonl.gz" \
        datasets/shop datasets/bad
    dump "$T/gz" "$T/gz.txt"
    check "inputs: gzip gives the same views" same "$T/gz.txt" "$T/th1.txt"
}

test_long_keys() {
    # keys longer than the inline 16 bytes take the other sort and compare
    # (three days from 2026-11-16: the 19th is the end of the inputs)
    awk 'BEGIN { for (i = 0; i < 3000; i++)
        printf "{\"customer\":\"%s%d\",\"amount\":1,\"ts\":%d}\n",
            (i % 3 ? "a-rather-long-customer-name-" : "c"), i % 97,
            1794787200 + (i * 997) % 259200 }' >"$T/long.jsonl"
    run "$T/long1.log" -c "$SHOP" --store "$T/long1" --threads 1 \
        --until 2026-11-19T00:00:00Z "$T/long.jsonl"
    local rc1=$rc
    run "$T/long2.log" -c "$SHOP" --store "$T/long2" --threads 2 \
        --until 2026-11-19T00:00:00Z "$T/long.jsonl"
    dump "$T/long1" "$T/long1.txt"
    dump "$T/long2" "$T/long2.txt"
    [ "$rc1" = 0 ] && [ "$rc" = 0 ] && same "$T/long1.txt" "$T/long2.txt"
    expect "long keys: published, 1 vs 2 threads identical"
    local want
    want=$(jq -r '"\(.customer) \(.ts - .ts % 3600)"' "$T/long.jsonl" |
        sort -u | wc -l)
    check "long keys: one row per customer and hour ($want)" \
        [ "$(grep -c '^by_customer' "$T/long1.txt")" = "$want" ]
    cut -f2,3 "$T/long1.txt" | grep -v '^00' >"$T/long.order"
    sort -c "$T/long.order" 2>/dev/null
    expect "long keys: rows in key order"
}

test_bad() {
    local s=$T/bad
    # a cutoff past the inputs and the clock: every valid event counts
    run "$T/bad.log" -c "$SHOP" --store "$s" --until 2027-01-01T00:00:00Z \
        --force datasets/bad
    check "bad inputs: exit 0" [ "$rc" = 0 ]
    ! grep -qi 'sanitizer\|abort' "$T/bad.log"
    expect "bad inputs: no crash message"
    jq -r '[.source, .line, .reason] | @tsv' "$s/rejects/batch.jsonl" | sort \
        >"$T/bad.rejects"
    check "bad inputs: every reject with its line and reason" \
        same "$T/bad.rejects" datasets/expected/bad.rejects.txt
    local r n
    for r in invalid_json invalid_utf8 not_object missing_field wrong_type \
        out_of_range too_many_decimals bad_time; do
        n=$(grep -c $'\t'"$r"'$' datasets/expected/bad.rejects.txt)
        check "bad inputs: summary $r=$n" \
            grep -q "[( ]$r=$n[ )]" "$T/bad.log"
    done
    check "bad inputs: rejects total" [ "$(field "$T/bad.log" rejects)" = \
        "$(wc -l <datasets/expected/bad.rejects.txt)" ]
    check "bad inputs: the 14 valid events are counted" \
        [ "$(field "$T/bad.log" events)" = 14 ]
    check "bad inputs: every reject line is one JSON object" \
        [ "$(jq -c 'select(has("source") and has("line") and has("reason")
            and has("message") and has("raw"))' "$s/rejects/batch.jsonl" |
            wc -l)" = "$(wc -l <datasets/expected/bad.rejects.txt)" ]

    # huge records: in a chunk, longer than a chunk, at EOF; array elements
    python3 - "$T" <<'EOF'
import sys
T = sys.argv[1]
ok = '{"customer": "Ali", "amount": 50, "ts": "2026-11-18T12:00:00Z"}'
def big(n):
    return '{"customer": "Ali", "amount": 50, "pad": "' + 'x' * n + \
        '", "ts": "2026-11-18T12:00:00Z"}'
with open(T + "/huge.jsonl", "w") as f:
    f.write(ok + "\n" + big(1500000) + "\n" + ok + "\n" + big(5000000) + "\n"
            + ok + "\n" + big(1048576 - 100) + "\n" + ok + "\n" + big(9000000))
with open(T + "/huge.json", "w") as f:
    f.write("[\n" + ok + ",\n" + big(2000000) + ",\n" + ok + ",\n"
            + big(6000000).replace(", ", ",\n ") + ",\n" + ok + "\n]")
EOF
    run "$T/huge.log" -c "$SHOP" --store "$T/huge" --force \
        --until 2027-01-01T00:00:00Z "$T/huge.jsonl" "$T/huge.json"
    jq -r '[(.source | sub(".*/"; "")), .line, .reason] | @tsv' \
        "$T/huge/rejects/batch.jsonl" >"$T/huge.rejects"
    printf 'huge.jsonl\t2\ttoo_large\nhuge.jsonl\t4\ttoo_large\nhuge.jsonl\t8\ttoo_large\nhuge.json\t3\ttoo_large\nhuge.json\t5\ttoo_large\n' \
        >"$T/huge.expected"
    check "huge records: exit 0" [ "$rc" = 0 ]
    check "huge records: rejected as too_large at their lines" \
        same "$T/huge.rejects" "$T/huge.expected"
    check "huge records: the events around them (and one just under 1 MiB) count" \
        [ "$(field "$T/huge.log" events)" = 8 ]
    check "huge records: raw cut at 1 KiB" \
        [ "$(jq -s 'map(.raw | length) | max' "$T/huge/rejects/batch.jsonl")" -le 1024 ]

    # a truncated gzip file is a failure, and publishes nothing
    head -c 300 datasets/shop/2026-11-19.jsonl.gz >"$T/trunc.jsonl.gz"
    dump "$T/golden" "$T/before_trunc.txt"
    run "$T/trunc.log" -c "$SHOP" --store "$T/golden" "$T/trunc.jsonl.gz"
    dump "$T/golden" "$T/after_trunc.txt"
    [ "$rc" = 1 ] && \
        has "$T/trunc.log" "nothing published" && \
        same "$T/before_trunc.txt" "$T/after_trunc.txt"
    expect "truncated gzip: exit 1, nothing published"
}

test_time() {
    local s=$T/until
    run "$T/until.log" -c "$SHOP" --store "$s" --until 2026-11-18T00:00:00Z
    dump "$s" "$T/until.txt"
    cols "$T/until.txt" "$T/until.cols"
    jq_views "$T/until.jq" 1794960000000
    check "--until: exit 0" [ "$rc" = 0 ]
    check "--until: views equal jq's before 2026-11-18" \
        same "$T/until.cols" "$T/until.jq"
    check "--until: cutoff recorded" \
        [ "$(field "$T/until.log" cutoff)" = 2026-11-18T00:00:00Z ]
    check "--until: later events reported as after_cutoff" \
        [ "$(field "$T/until.log" after_cutoff)" = \
          $(( $(shop_events | jq -s length) - $(field "$T/until.log" events) )) ]

    # --from: keep the rows before it, recompute [from, until) from new inputs
    run "$T/from0.log" -c "$SHOP" --store "$T/from" \
        --until 2026-11-20T00:00:00Z
    dump "$T/from" "$T/from0.txt"
    mkdir -p "$T/fix"
    printf '%s\n' '{"customer":"Zoe","amount":7.5,"ts":"2026-11-18T08:00:00Z"}' \
        '{"customer":"Zoe","amount":1,"ts":"2026-11-14T08:00:00Z"}' \
        >"$T/fix/fix.jsonl"
    # the new inputs end on the 18th: --force drops the 19th on purpose
    run "$T/from1.log" -c "$SHOP" --store "$T/from" --force \
        --from 2026-11-18T00:00:00Z --until 2026-11-20T00:00:00Z \
        "$T/fix/fix.jsonl" datasets/shop/transactions.json
    dump "$T/from" "$T/from1.txt"
    # expected: old rows before the 18th + a fresh run over the new inputs
    run "$T/from2.log" -c "$SHOP" --store "$T/from_ref" --force \
        --until 2026-11-20T00:00:00Z "$T/fix/fix.jsonl" \
        datasets/shop/transactions.json
    dump "$T/from_ref" "$T/from_ref.txt"
    { awk -F'\t' '$3 < "2026-11-18"' "$T/from0.txt"
      awk -F'\t' '$3 >= "2026-11-18"' "$T/from_ref.txt"; } |
        sort -t$'\t' -k1,1 -k2,2 -k3,3 >"$T/from_exp.txt"
    sort -t$'\t' -k1,1 -k2,2 -k3,3 "$T/from1.txt" >"$T/from1.sorted"
    check "--from: exit 0" [ "$rc" = 0 ]
    check "--from: old rows kept before it, new rows from it on" \
        same "$T/from1.sorted" "$T/from_exp.txt"
    ! grep -q $'\t2026-11-19' "$T/from1.txt"
    expect "--from: the 19th is gone (not in the new inputs)"
    check "--from: events before it skipped and reported" \
        [ "$(field "$T/from1.log" before_from)" = 1 ]
    run "$T/from3.log" -c "$SHOP" --store "$T/from" \
        --from 2026-11-21T00:00:00Z datasets/shop
    [ "$rc" = 1 ] && has "$T/from3.log" "nothing to recompute"
    expect "--from after the inputs' cutoff: exit 1, nothing to recompute"
    # --from past the published cutoff would leave buckets nobody answers
    run "$T/from4.log" -c "$SHOP" --store "$T/from" \
        --from 2026-11-21T00:00:00Z --until 2026-11-22T00:00:00Z datasets/shop
    [ "$rc" = 1 ] && has "$T/from4.log" \
        "--from 2026-11-21T00:00:00Z is after the published cutoff 2026-11-20T00:00:00Z"
    expect "--from after the published cutoff: exit 1, names both"
    run "$T/from5.log" -c "$SHOP" --store "$T/from_none" \
        --from 2026-11-18T00:00:00Z --until 2026-11-20T00:00:00Z datasets/shop
    [ "$rc" = 1 ] && has "$T/from5.log" "no version is published yet"
    expect "--from on a store with no version: exit 1"
}

test_dry_run() {
    run "$T/dry.log" -c "$SHOP" --store "$T/dry" --dry-run
    [ "$rc" = 0 ] && \
        has "$T/dry.log" "dry run, nothing published: events=181 "
    expect "--dry-run: exit 0, says so"
    check "--dry-run: creates no store, no rejects" [ ! -e "$T/dry" ]
    dump "$T/golden" "$T/dry_before.txt"
    run "$T/dry2.log" -c "$SHOP" --store "$T/golden" -n "$T/big.jsonl"
    dump "$T/golden" "$T/dry_after.txt"
    [ "$rc" = 0 ] && same "$T/dry_before.txt" "$T/dry_after.txt"
    expect "--dry-run: current version untouched"
    run "$T/dry3.log" -c "$SHOP" --store "$T/dry" --dry-run \
        --rejects "$T/dryrej/r.jsonl" datasets/bad
    check "--dry-run --rejects FILE: writes the rejects there" \
        [ "$(wc -l <"$T/dryrej/r.jsonl")" = \
          "$(wc -l <datasets/expected/bad.rejects.txt)" ]
}

test_lock_signal() {
    local s=$T/lock pid wpid
    mkfifo "$T/fifo"
    # a writer that sends one event and then keeps the pipe open
    ( printf '%s\n' '{"customer":"Ali","amount":1,"ts":"2026-11-18T12:00:00Z"}'
      sleep 30 ) >"$T/fifo" &
    wpid=$!
    "$LB" -c "$SHOP" --store "$s" "$T/fifo" 2>"$T/lock1.log" &
    pid=$!
    for _ in $(seq 100); do
        [ -s "$s/batch.run.lock" ] && break
        sleep 0.05
    done
    sleep 0.2
    run "$T/lock2.log" -c "$SHOP" --store "$s" datasets/shop
    check "lock: a second run exits 1" [ "$rc" = 1 ]
    check "lock: it names the store and the running pid" \
        has "$T/lock2.log" "another lambda-batch is running on $s (pid $pid)"
    kill -TERM "$pid"
    wait "$pid"
    rc=$?
    kill "$wpid" 2>/dev/null
    wait "$wpid" 2>/dev/null
    [ "$rc" = 1 ] && has "$T/lock1.log" "signal 15; nothing published"
    expect "SIGTERM while reading: exit 1, nothing published"
    dump "$s" "$T/sig.txt"
    check "SIGTERM: no version in the store" [ ! -s "$T/sig.txt" ]
    run "$T/lock3.log" -c "$SHOP" --store "$s"
    check "lock: released after the first run ended" [ "$rc" = 0 ]
}

test_kill9() {
    local s=$T/kill d pid kept=0 mixed=0 i st
    # what a complete publish of big.jsonl looks like
    run "$T/k2.log" -c "$SHOP" --store "$T/kill_ref" "$T/big.jsonl"
    dump "$T/kill_ref" "$T/k_ref.txt"
    run "$T/k0.log" -c "$SHOP" --store "$s"
    dump "$s" "$T/k_before.txt"
    for d in $DELAYS; do
        "$LB" -c "$SHOP" --store "$s" --log-level debug "$T/big.jsonl" \
            2>"$T/k.log" &
        pid=$!
        for i in $(seq 400); do
            grep -q 'writing' "$T/k.log" && break
            sleep 0.01
        done
        sleep "$d"
        kill -9 "$pid" 2>/dev/null
        { wait "$pid"; } 2>/dev/null
        st=$?
        dump "$s" "$T/k_after.txt"
        if same "$T/k_before.txt" "$T/k_after.txt"; then
            [ "$st" = 137 ] && kept=$((kept + 1))
        elif same "$T/k_ref.txt" "$T/k_after.txt"; then
            # published before the kill landed: whole, as it must be; put
            # the small version back so the next kill can tell
            run "$T/k0.log" -c "$SHOP" --store "$s"
        else
            echo "kill -9 after ${d}s of writing: neither version (status $st)"
            mixed=$((mixed + 1))
        fi
    done
    check "kill -9 during publish: landed before publishing in $kept runs" \
        [ "$kept" -ge 3 ]
    check "kill -9: the store held the old or the new version, never a mix" \
        [ "$mixed" = 0 ]
    check "kill -9: the old version stayed byte-identical" \
        same "$T/k_before.txt" datasets/expected/shop.batch.txt
    run "$T/k1.log" -c "$SHOP" --store "$s" "$T/big.jsonl"
    dump "$s" "$T/k_final.txt"
    [ "$rc" = 0 ] && has "$T/k1.log" "published version"
    expect "kill -9: the next run succeeds"
    check "kill -9: and publishes what a clean store would" \
        same "$T/k_final.txt" "$T/k_ref.txt"
}

test_flags() {
    run "$T/f1.log" -c "$SHOP" --threads 0
    [ "$rc" = 2 ] && \
        has "$T/f1.log" "threads" && has "$T/f1.log" "Try 'lambda-batch --help'"
    expect "--threads 0: exit 2 with a usage hint"
    run "$T/f2.log" -c "$SHOP" --bogus
    [ "$rc" = 2 ] && has "$T/f2.log" "bogus" && \
        has "$T/f2.log" "Try 'lambda-batch --help'"
    expect "unknown flag: exit 2"
    run "$T/f3.log" -c "$SHOP" --store "$T/x" --until 2026-11-18T01:00:00Z
    [ "$rc" = 2 ] && \
        has "$T/f3.log" "--until 2026-11-18T01:00:00Z: not aligned to 1d"
    expect "--until not aligned: exit 2 naming the flag"
    LAMBDA_UNTIL=2026-11-18T01:00:00Z "$LB" -c "$SHOP" --store "$T/x" \
        2>"$T/f4.log"
    rc=$?
    [ "$rc" = 2 ] && has "$T/f4.log" "LAMBDA_UNTIL"
    expect "LAMBDA_UNTIL not aligned: exit 2 naming the variable"
    run "$T/f5.log" -c "$SHOP" --until yesterday
    [ "$rc" = 2 ] && has "$T/f5.log" "yesterday"
    expect "--until garbage: exit 2"
    run "$T/f6.log" -c "$SHOP" --from 2026-11-19T00:00:00Z \
        --until 2026-11-18T00:00:00Z
    check "--from after --until: exit 2" [ "$rc" = 2 ]
    run "$T/f7.log" --store "$T/x"
    [ "$rc" = 2 ] && has "$T/f7.log" "LAMBDA_CONFIG"
    expect "no pipeline: exit 2"
    run "$T/f8.log" -c "$T/nope.json"
    [ "$rc" = 2 ] && \
        has "$T/f8.log" "nope.json"
    expect "missing pipeline file: exit 2 naming it"
    printf '{"name":"shop","store":"x","event":{"time":"ts","fields":{}},"views":{"v":{"granularity":"1h","metrics":{"r":"sum(amout)"}}}}' \
        >"$T/badpipe.json"
    run "$T/f9.log" -c "$T/badpipe.json"
    [ "$rc" = 2 ] && \
        has "$T/f9.log" "badpipe.json: views.v.metrics.r"
    expect "bad pipeline: exit 2 with file and path"
    run "$T/f10.log" -c "$SHOP" --store "$T/x" "$T/missing.jsonl"
    [ "$rc" = 2 ] && \
        has "$T/f10.log" "missing.jsonl" && [ ! -e "$T/x" ]
    expect "missing input: exit 2 naming it"
    run "$T/f11.log" -c "$SHOP" --store "$T/x" "$T/nomatch/*.jsonl"
    [ "$rc" = 2 ] && \
        has "$T/f11.log" "no file matches"
    expect "glob matching nothing: exit 2"
    run "$T/f12.log" -c "$SHOP" --check-config
    [ "$rc" = 0 ] && \
        grep -qx "configuration OK" "$T/f12.log.out"
    expect "--check-config: configuration OK"
    run "$T/f13.log" --help
    [ "$rc" = 0 ] && \
        has "$T/f13.log.out" "usage: lambda-batch" && \
        has "$T/f13.log.out" "--until" && has "$T/f13.log.out" "--dry-run"
    expect "--help: usage on stdout, exit 0"
    run "$T/f14.log" --version
    [ "$rc" = 0 ] && has "$T/f14.log.out" "lambda-batch"
    expect "--version: exit 0"
    run "$T/f15.log" -c "$SHOP" --store "$T/x" --log-level loud
    check "--log-level bad: exit 2" [ "$rc" = 2 ]
}

[ -x "$LB" ] && [ -x "$VD" ] || { echo "build $LB and $VD first"; echo "0 passed, 1 failed"; exit 1; }
# an event stamped in the future never becomes the cutoff: the clock holds it
test_future() {
    printf '%s\n' '{"customer":"Ali","amount":50,"ts":"2026-11-18T08:00:00Z"}' \
        '{"customer":"Ali","amount":5,"ts":"2026-11-19T08:00:00Z"}' \
        '{"customer":"Eve","amount":1,"ts":"9999-01-01T00:00:00Z"}' >"$T/future.jsonl"
    run "$T/future.log" -c "$SHOP" --store "$T/future" "$T/future.jsonl"
    [ "$rc" = 0 ] && has "$T/future.log" "cutoff held at " &&
        has "$T/future.log" "events stamped in the future are not complete (1 events left to speed)"
    expect "future event: the cutoff is held at the clock"
    check "  ... every event before the clock counted" \
        [ "$(field "$T/future.log" events)" = 2 ]
    check "  ... the future one left to speed" \
        [ "$(field "$T/future.log" after_cutoff)" = 1 ]
    cut=$(field "$T/future.log" cutoff)
    check "  ... the cutoff is not after now ($cut)" \
        [ "$(date -u -d "$cut" +%s)" -le "$(date -u +%s)" ]
}

test_golden
test_threads
test_long_keys
test_future
test_bad
test_time
test_dry_run
test_lock_signal
test_kill9
test_flags
finish
