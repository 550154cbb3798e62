#!/bin/sh
# run.sh -- run every libFuzzer target of $BUILD/fuzz over its seeds, then FUZZ_SECONDS of new inputs
# The seeds: lines and files of datasets/ and tests/fixtures/ (made here, per target), files the
# programs wrote (tests/fuzz/seeds/TARGET/), and the
# regression inputs in tests/fuzz/regress/TARGET/ (every crash found becomes one). The targets run
# side by side; a crash leaves its input in $BUILD/fuzz/artifacts/. Ends "N passed, N failed".
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
cd "$top" || exit 1
BUILD=${BUILD:-build/fuzz}
SECS=${FUZZ_SECONDS:-20}
work=$(mktemp -d /tmp/fuzz.XXXXXX)
trap 'rm -rf "$work"' EXIT
mkdir -p "$BUILD/fuzz/artifacts"

# seeds TARGET DIR: write the target's seed inputs into DIR, one file each
seeds() {
    case $1 in
    event_fuzz | timeshift_fuzz)
        cat datasets/bad/*.jsonl datasets/*/history/*.jsonl datasets/shop/*.jsonl 2>/dev/null |
            awk 'NR % 7 == 1' | head -n 300 | split -l 1 - "$2/line." ;;
    pipeline_fuzz)
        for _p in datasets/*.json tests/fixtures/*.json tests/fuzz/pipeline.json datasets/serving/pipeline.json; do
            cp "$_p" "$2/$(echo "$_p" | tr / _)"
        done ;;
    parse_fuzz)
        _n=0
        for _s in 2026-11-20T13:00:00Z 2026-11-20t13:00:00.123456+02:00 "2026-02-29 00:00:00Z" \
                 9999-12-31T23:59:59.999Z 1970-01-01T00:00:00-00:01 1763643600 250ms 10m 1d 90s \
                 12.50 -0.05 3 999999999999999 1e5 0.000000001 -; do
            _n=$((_n + 1)); printf '%s' "$_s" >"$2/s$_n"
        done ;;
    query_fuzz)
        # the URLs of the README, the man page and serving_test.sh, on datasets/serving's views
        grep -oh '/v1/views[^"'"'"' )`<>]*' README.md man/lambda-serving.1 \
                tests/integration/serving_test.sh |
            sed 's/\$DEMO_CUTOFF/2026-11-20T12:00:00Z/' | grep -v '\$' |
            awk '{ if (!index($0, "{view}")) { print; next }
                   n = split("by_customer by_country totals", v, " ")
                   for (i = 1; i <= n; i++) { s = $0; sub(/\{view\}/, v[i], s); print s } }' |
            sort -u | awk -v d="$2" '{ printf "%s", $0 > (d "/url." NR) }' ;;
    partial_fuzz)
        # files the real programs wrote on tests/fuzz/pipeline.json: lambda-batch --shard 0/2
        # and 1/2 --partial, and a version of --repository (remake them when its views change)
        cp tests/fuzz/seeds/partial_fuzz/*.lkv "$2/" ;;
    segment_fuzz)
        printf '0 120 5 1763640000000 1763640000000' >"$2/a"
        printf '9223372036854775807 0 -1 0 -9223372036854775808' >"$2/b" ;;
    esac
}

passed=0 failed=0 pids=""
for f in "$BUILD"/fuzz/*_fuzz; do
    [ -x "$f" ] || continue
    t=${f##*/}
    mkdir -p "$work/$t/corpus" "$work/$t/seeds"
    seeds "$t" "$work/$t/seeds"
    set -- "$work/$t/seeds"
    [ -d "tests/fuzz/regress/$t" ] && set -- "$@" "tests/fuzz/regress/$t"
    "$f" -max_total_time="$SECS" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
        -artifact_prefix="$BUILD/fuzz/artifacts/$t-" "$work/$t/corpus" "$@" >"$work/$t.log" 2>&1 &
    pids="$pids $!:$t"
done
for pt in $pids; do
    wait "${pt%%:*}"
    rc=$?
    t=${pt#*:}
    runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$work/$t.log")
    cov=$(grep -o 'cov: [0-9]*' "$work/$t.log" | tail -n 1)
    if [ "$rc" = 0 ]; then
        passed=$((passed + 1))
        echo "ok   $t: ${runs:-?} runs in ${SECS} s, $cov"
    else
        failed=$((failed + 1))
        echo "FAIL $t (exit $rc): the input is in $BUILD/fuzz/artifacts/; add it to tests/fuzz/regress/$t/"
        grep -E 'ERROR|SUMMARY|runtime error|#0 |#1 |#2 |#3 ' "$work/$t.log" | head -n 12
    fi
done
[ "$passed" -gt 0 ] || { failed=$((failed + 1)); echo "FAIL no fuzz target in $BUILD/fuzz"; }
echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
