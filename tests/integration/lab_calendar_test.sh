#!/bin/bash
# lab_calendar_test.sh -- the lab on another day: `make demo DEMO_SECONDS=20` with the clock moved
# 200 days ahead (Debian's faketime; the monotonic clock, which sleep uses, stays real). The demo
# must load the history to end the day before that day, publish it up to that day's midnight, and
# pass every one of its own checks (known totals, live counts, kill -9, the speed-to-batch
# handover). Any other offset: LAMBDA_CALENDAR_OFFSET=+400d.
#
# What reads the date runs on the moved clock: the demo script, date, lambda-timeshift,
# lambda-batch (its hold never passes the wall clock), lambda-produce (--now), lambda-serving.
# lambda-speed and the development broker run on the real clock: they work on event times and
# Kafka offsets only, and librdkafka's timed waits stall under libfaketime (measured: lambda-speed
# never finished its SIGTERM shutdown, so it never sealed its archive).
set -u
cd "${LAMBDA_TOP:-$(dirname "$0")/../..}" || exit 1
BUILD=${BUILD:-build}
case $BUILD in /*) ;; *) BUILD=$PWD/$BUILD ;; esac
export BUILD
OFFSET=${LAMBDA_CALENDAR_OFFSET:-+200d}
work=$(mktemp -d /tmp/lab_calendar.XXXXXX)
demo=""
trap '[ -n "$demo" ] && stop_demo "$demo"; [ -n "${KEEP:-}" ] || rm -rf "$work"' EXIT
. "$(dirname "$0")/lab_lib.sh"   # with_sigint, running, stop_demo
# (a sanitized build: ASan would refuse libfaketime preloaded ahead of its runtime)
shifted() {
    ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0" \
        FAKETIME_DONT_FAKE_MONOTONIC=1 faketime -f "$OFFSET" "$@"
}

# the programs as the demo finds them, speed and the broker on the real clock
real=$BUILD
mkdir -p "$work/bin"
for p in "$real"/lambda-*; do
    case ${p##*/} in
    lambda-speed | lambda-devbroker)
        printf '#!/bin/sh\nexec env -u LD_PRELOAD -u FAKETIME -u FAKETIME_DONT_FAKE_MONOTONIC "%s" "$@"\n' \
            "$p" >"$work/bin/${p##*/}"
        chmod +x "$work/bin/${p##*/}" ;;
    *) ln -s "$p" "$work/bin/${p##*/}" ;;
    esac
done
BUILD=$work/bin

today=$(shifted date -u +%F)
check "faketime moves the clock ($OFFSET: today is $today, really $(date -u +%F))" \
    test "$today" != "$(date -u +%F)"
yesterday=$(shifted date -u -d yesterday +%F)

DEMO_DIR=$work/demo DEMO_PORT=0 DEMO_SECONDS=20 shifted "${with_sigint[@]}" sh scripts/demo.sh \
    >"$work/demo.out" 2>&1 &
demo=$!
wait "$demo"
rc=$?
demo=""
check "the demo on $today passed its own checks (exit $rc: $(grep -c '^demo: ok' "$work/demo.out") ok, $(grep -c '^demo: FAIL' "$work/demo.out") failed)" \
    test "$rc" = 0
check "the history is loaded to end on $yesterday" \
    test -f "$work/demo/var/orders/history/$yesterday.jsonl"
check "batch published the history up to $today 00:00 UTC" \
    grep -q "published version 1: events=1300 rejects=9 .*cutoff=${today}T00:00:00Z" "$work/demo.out"
check "var/demo/env: DEMO_CUTOFF=${today}T00:00:00Z" \
    grep -q "DEMO_CUTOFF=${today}T00:00:00Z" "$work/demo/var/demo/env"
check "the history's known totals hold" grep -q "^demo: ok   history: batch counted the 1300 valid events" \
    "$work/demo.out"
check "the live buckets switched from speed to batch" \
    grep -q "^demo: ok   serving: live buckets switched from speed to batch" "$work/demo.out"
[ "$failed" = 0 ] || tail -n 30 "$work/demo.out"
finish
