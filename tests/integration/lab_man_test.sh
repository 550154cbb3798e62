#!/bin/bash
# lab_man_test.sh -- man/: every page renders without a warning (groff -ww, man --warnings);
# each program's SYNOPSIS is its --help usage line, and its OPTIONS name every flag and
# variable of --help and no other; lambdakit-pipeline(5) names every key of the schema in
# shared/pipeline.h and its example is datasets/orders.json; the examples run.
set -u
cd "${LAMBDA_TOP:-$(dirname "$0")/../..}" || exit 1
BUILD=${BUILD:-build}
case $BUILD in /*) ;; *) BUILD=$PWD/$BUILD ;; esac
passed=0 failed=0
ok() { passed=$((passed + 1)); }
fail() { failed=$((failed + 1)); echo "FAIL $*"; }
check() { local d=$1; shift; if "$@"; then ok; else fail "$d"; fi; }
work=$(mktemp -d /tmp/lab_man.XXXXXX)
trap 'rm -rf "$work"' EXIT
render() { MANWIDTH=200 LC_ALL=C.UTF-8 man -l "$1" 2>/dev/null | sed 's/‐/-/g; s/−/-/g'; }

for page in man/lambda-batch.1 man/lambda-speed.1 man/lambda-serving.1 man/lambdakit-pipeline.5; do
    check "$page exists" test -f "$page" || continue
    out=$(groff -ww -man -z "$page" 2>&1)
    check "$page: groff -ww -man reports nothing ($out)" test -z "$out"
    out=$(LC_ALL=C.UTF-8 MANWIDTH=80 man --warnings -l "$page" 2>&1 >/dev/null)
    check "$page: man --warnings reports nothing ($out)" test -z "$out"
    render "$page" >"$work/page.txt"
    check "$page: renders NAME, SYNOPSIS, DESCRIPTION and SEE ALSO" \
        test "$(grep -cE '^(NAME|SYNOPSIS|DESCRIPTION|SEE ALSO)$' "$work/page.txt")" = 4
done

for prog in lambda-batch lambda-speed lambda-serving; do
    page=man/$prog.1
    [ -f "$page" ] || continue
    "$BUILD/$prog" --help >"$work/help.txt" 2>&1
    check "$prog --help exits 0" test $? = 0
    # the usage block: every form, each maybe wrapped, up to the first blank line
    usage=$(awk 'NR == 1 { sub(/^usage: /, "") } /^$/ { exit } { print }' "$work/help.txt" |
            tr -s ' \n' '  ' | sed 's/^ *//; s/ *$//')
    render "$page" >"$work/page.txt"
    synopsis=$(sed -n '/^SYNOPSIS$/,/^DESCRIPTION$/p' "$work/page.txt" | sed '1d;$d' | tr -s ' \n' '  ' |
               sed 's/^ *//; s/ *$//')
    check "$prog: SYNOPSIS '$synopsis' is the --help usage '$usage'" test "$synopsis" = "$usage"
    sed -n '/^OPTIONS$/,/^[A-Z][A-Z ]*$/p' "$work/page.txt" | sed '1d' >"$work/options.txt"
    for flag in $(grep -oE '(^|[ ,])--[a-z][-a-z]*' "$work/help.txt" | tr -d ' ,' | sort -u); do
        check "$prog: man page OPTIONS documents $flag" grep -qE -- "(^| |,)$flag( |,|\$)" "$work/options.txt"
    done
    for flag in $(grep -oE '^ {7}-(-[a-z][-a-z]*|[a-zA-Z])' "$work/options.txt" | tr -d ' ' | sort -u); do
        check "$prog: $flag of the man page exists in --help" grep -qE -- "(^| |,)$flag( |,|\$)" "$work/help.txt"
    done
    for var in $(grep -oE 'LAMBDA_[A-Z_]+' "$work/help.txt" | sort -u); do
        check "$prog: man page names $var" grep -q "$var" "$work/page.txt"
    done
done

# the pipeline page: every schema key of shared/pipeline.h, and the example file
render man/lambdakit-pipeline.5 >"$work/pipe.txt"
for key in $(sed -n '/Schema (defaults in brackets):/,/\*\//p' shared/pipeline.h |
             grep -oE '^ \*   [a-z_]+(\.[A-Za-z_]+)*' | awk '{ print $2 }' | sort -u); do
    check "lambdakit-pipeline(5) documents $key" grep -q -- "$key" "$work/pipe.txt"
done
sed -n '/^EXAMPLES$/,/^SEE ALSO$/p' "$work/pipe.txt" | awk '/^       \{/ { on = 1 } on { print } /^       \}/ { exit }' \
    >"$work/example.json"
check "lambdakit-pipeline(5): the example is datasets/orders.json" \
    sh -c "jq -S . '$work/example.json' > '$work/a' 2>&1 && jq -S 'del(.speed.kafka)' datasets/orders.json > '$work/b' && diff '$work/a' '$work/b'"

# the examples run (from a scratch directory holding datasets/)
mkdir -p "$work/run"
ln -s "$PWD/datasets" "$work/run/datasets"
out=$(cd "$work/run" && "$BUILD/lambda-batch" -c datasets/orders.json --check-config 2>&1)
check "example: lambda-batch --check-config prints 'configuration OK' ($out)" test "$out" = "configuration OK"
out=$(cd "$work/run" && "$BUILD/lambda-batch" -c datasets/orders.json --until 2026-11-20T00:00:00Z \
      datasets/orders/history 2>&1)
check "example: lambda-batch publishes events=1300 rejects=9 ... cutoff=2026-11-20T00:00:00Z ($out)" \
    sh -c "echo '$out' | grep -q 'info: published version 1: events=1300 rejects=9 (invalid_json=2 .*cutoff=2026-11-20T00:00:00Z'"

echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
