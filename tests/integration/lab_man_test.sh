#!/bin/bash
# lab_man_test.sh -- man/: every page renders without a warning (groff -ww, man --warnings);
# each program's SYNOPSIS is its --help usage (the tools' too), its OPTIONS are exactly the
# options of --help (names, short flags, arguments) and name every variable of --help; no
# --help line is wider than 80 columns; the five pages say the prologue's common options,
# exit status 2, stop signals and error lines in the same words, and the errors they show
# are what the programs print; lambdakit-pipeline(5) names every key of the schema in
# shared/pipeline.h and its example is datasets/orders.json; the examples run.
set -u
cd "${LAMBDA_TOP:-$(dirname "$0")/../..}" || exit 1
BUILD=${BUILD:-build}
case $BUILD in /*) ;; *) BUILD=$PWD/$BUILD ;; esac
. tests/integration/harness.sh   # check, eq, ok, fail, finish
work=$(mktemp -d /tmp/lab_man.XXXXXX)
trap 'rm -rf "$work"' EXIT
render() { MANWIDTH=200 LC_ALL=C.UTF-8 man -l "$1" 2>/dev/null | sed 's/‐/-/g; s/−/-/g'; }

PROGS="lambda-batch lambda-speed lambda-serving lambda-produce lambda-devbroker lambda-timeshift"
# the option tags of a page's OPTIONS, one a line ("-c, --config FILE"): rendered with the
# paragraph indent at 1n, so that every tag has a line of its own at column 1
tags() {
    groff -man -Tascii -rIN=1n -rLL=200n -P-cbu "$1" 2>/dev/null |
        sed -n '/^OPTIONS$/,/^[A-Z][A-Z ]*$/p' | sed -n 's/^ \(-.*\)$/\1/p'
}
# a whole section of a page as one line
section() {
    groff -man -Tascii -rLL=200n -P-cbu "$1" 2>/dev/null | sed 's/‐/-/g; s/−/-/g' |
        sed -n "/^$2\$/,/^[A-Z][A-Z ]*\$/p" | sed '1d;$d' | tr -s ' \n' '  '
}
# the text of one option's paragraph in a page, or of one EXIT STATUS entry
para() {
    groff -man -Tascii -rIN=1n -rLL=200n -P-cbu "$1" 2>/dev/null |
        awk -v t=" $2" '$0 == t { on = 1; next } on && /^$/ { exit } on { print }'
}

for page in man/lambda-batch.1 man/lambda-speed.1 man/lambda-serving.1 man/lambda-produce.1 \
            man/lambda-devbroker.1 man/lambda-timeshift.1 man/lambdakit-pipeline.5; do
    check "$page exists" test -f "$page" || continue
    out=$(groff -ww -man -z "$page" 2>&1)
    check "$page: groff -ww -man reports nothing ($out)" test -z "$out"
    out=$(LC_ALL=C.UTF-8 MANWIDTH=80 man --warnings -l "$page" 2>&1 >/dev/null)
    check "$page: man --warnings reports nothing ($out)" test -z "$out"
    render "$page" >"$work/page.txt"
    check "$page: renders NAME, SYNOPSIS, DESCRIPTION and SEE ALSO" \
        test "$(grep -cE '^(NAME|SYNOPSIS|DESCRIPTION|SEE ALSO)$' "$work/page.txt")" = 4
done

for prog in $PROGS; do
    page=man/$prog.1
    [ -f "$page" ] || continue
    "$BUILD/$prog" --help >"$work/help.txt" 2>&1
    check "$prog --help exits 0" test $? = 0
    wide=$(awk 'length($0) > 80 { print NR ": " $0 }' "$work/help.txt")
    check "$prog --help: no line wider than 80 columns ($wide)" test -z "$wide"
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
    # the whole option list, both ways: "  -c, --config FILE    help" and "      --once  help"
    grep -E '^ {2}-[a-zA-Z]|^ {6}--[a-z]' "$work/help.txt" | sed -E 's/^ +//; s/  .*//' |
        sort >"$work/help.tags"
    tags "$page" | sort >"$work/page.tags"
    while IFS= read -r tag; do
        check "$prog: OPTIONS of the man page has '$tag' of --help" grep -qxF -- "$tag" "$work/page.tags"
    done <"$work/help.tags"
    while IFS= read -r tag; do
        check "$prog: '$tag' of the man page's OPTIONS is in --help" grep -qxF -- "$tag" "$work/help.tags"
    done <"$work/page.tags"
done

# the prologue's words, the same in every page, and what the programs really print
for prog in $PROGS; do
    page=man/$prog.1
    [ -f "$page" ] || continue
    for tag in "-c, --config FILE" "--log-level LEVEL" "--check-config" "-h, --help" "-V, --version"; do
        check "$prog: '$tag' is described as in lambda-batch(1)" \
            test "$(para "$page" "$tag")" = "$(para man/lambda-batch.1 "$tag")"
    done
    case $prog in lambda-produce|lambda-devbroker|lambda-timeshift) ;; *)
        check "$prog: '--store DIR' is described as in lambda-batch(1)" \
            test "$(para "$page" "--store DIR")" = "$(para man/lambda-batch.1 "--store DIR")" ;;
    esac
    check "$prog: EXIT STATUS 2 is worded as in lambda-batch(1)" \
        test "$(para "$page" 2)" = "$(para man/lambda-batch.1 2)"
    check "$prog: OPTIONS end with the precedence of flags, variables and file" \
        sh -c "groff -man -Tascii -rLL=200n -P-cbu '$page' 2>/dev/null | sed -n '/^OPTIONS\$/,/^[A-Z][A-Z ]*\$/p' |
               grep -q 'Flags override environment variables, which override the pipeline file.  An empty variable counts as unset.'"
    sig=$(section "$page" SIGNALS)
    check "$prog: SIGNALS: a clean stop first ($sig)" \
        grep -qF "SIGTERM, SIGINT and SIGHUP ask a clean stop:" <<<"$sig"
    check "$prog: SIGNALS: Ctrl-C again exits 1 at once" grep -qF \
        "Once a stop is asked, SIGINT (Ctrl-C again) exits 1 at once, printing $prog: interrupted again, exiting now;" <<<"$sig"
    check "$prog: SIGNALS: SIGPIPE is ignored" grep -qF "SIGPIPE is ignored." <<<"$sig"
    diag=$(section "$page" DIAGNOSTICS)
    "$BUILD/$prog" --bogus >/dev/null 2>"$work/bogus.txt"
    check "$prog --bogus exits 2" test $? = 2
    check "$prog: DIAGNOSTICS shows what --bogus prints ($(tr '\n' '|' <"$work/bogus.txt"))" \
        grep -qF "$(tr -s ' \n' '  ' <"$work/bogus.txt" | sed 's/ *$//')" <<<"$diag"
    if grep -q 'no pipeline' <<<"$diag"; then
        (unset LAMBDA_CONFIG; "$BUILD/$prog" >/dev/null 2>"$work/nopipe.txt")
        check "$prog: DIAGNOSTICS shows what a missing -c prints ($(tr '\n' '|' <"$work/nopipe.txt"))" \
            grep -qF "$(tr -s ' \n' '  ' <"$work/nopipe.txt" | sed 's/ *$//')" <<<"$diag"
    fi
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
out=$(cd "$work/run" && "$BUILD/lambda-batch" -c datasets/orders.json --verify 2>&1)
check "example: lambda-batch --verify finds no damage ($out)" \
    sh -c "echo '$out' | grep -Eqx 'store var/orders: no damage found \(meta [0-9]+ entries, batch version 1: [0-9]+ rows, speed 0 rows, [0-9]+ free pages\)'"

finish
