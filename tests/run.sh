#!/bin/sh
# run.sh -- run every test program, sum their "N passed, N failed" lines, print the total
# A program that exits non-zero or prints no final line counts as one failure.
set -u
BUILD=${BUILD:-build}
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top" || exit 1
export BUILD LAMBDA_TOP="$top"
passed=0 failed=0 broken=""
log=$(mktemp)
only=${TESTS:-}

for t in "$BUILD"/tests/unit/*_test "$BUILD"/tests/integration/*_test \
         tests/integration/*_test.sh; do
    [ -e "$t" ] || continue
    name=$(basename "$t")
    if [ -n "$only" ]; then
        case " $only " in *" $name "*) ;; *) continue ;; esac
    fi
    start=$(date +%s)
    case "$t" in
    *.sh) bash "$t" >"$log" 2>&1; rc=$? ;;
    *)    "$t" >"$log" 2>&1; rc=$? ;;
    esac
    secs=$(( $(date +%s) - start ))
    last=$(grep -E '^[0-9]+ passed, [0-9]+ failed' "$log" | tail -n 1)
    if [ -z "$last" ]; then
        p=0; f=1
    else
        p=$(echo "$last" | sed 's/ passed.*//')
        f=$(echo "$last" | sed 's/.*passed, //; s/ failed.*//')
        [ "$rc" != 0 ] && [ "$f" = 0 ] && f=1
    fi
    passed=$((passed + p)); failed=$((failed + f))
    if [ "$f" != 0 ]; then
        broken="$broken $name"
        echo "--- $name FAILED (exit $rc, ${secs}s):"
        grep -E -A 4 '^(FAIL|not ok)' "$log" | head -n 60
        echo "--- the last lines:"
        tail -n 40 "$log"
    else
        echo "ok   $name: $p passed (${secs}s)"
    fi
done
rm -f "$log"
[ -n "$broken" ] && echo "failed:$broken"
echo "TOTAL: $passed passed, $failed failed"
[ "$failed" = 0 ] && [ "$passed" -gt 0 ]
