# harness.sh -- sourced by every shell test: checks that print got and want, one timing factor,
# polls with a deadline, and the closing "N passed, N failed" line that tests/run.sh reads
#
#   check DESC COMMAND...   passes when COMMAND succeeds
#   eq DESC GOT WANT        passes when GOT = WANT; else prints both
#   ok DESC / fail DESC     count a pass or a failure found some other way
#   finish                  print "N passed, N failed" and exit 0 only without failures
#   wait_until SECS CMD...  poll CMD every 0.1 s for SECS x SLOW at most
# Timing asserts scale with SLOW: 3 under the sanitizers, or LAMBDA_SLOW.

passed=0 failed=0
ok()    { passed=$((passed + 1)); echo "ok   $*"; }
fail()  { failed=$((failed + 1)); echo "FAIL $*"; }
check() { local d=$1; shift; if "$@"; then ok "$d"; else fail "$d"; fi; }
eq() {
    if [ "$2" = "$3" ]; then
        ok "$1 ($2)"
    else
        fail "$1"
        printf '     got:  %.700s\n     want: %.700s\n' "$2" "$3"
    fi
}
finish() {
    echo "$passed passed, $failed failed"
    [ "$failed" = 0 ]
    exit $?
}

# need_yaml: Debian's python3 with PyYAML, or the test fails at once
need_yaml() {
    /usr/bin/python3 -c 'import yaml' 2>/dev/null && return 0
    echo "FAIL: /usr/bin/python3 cannot import yaml (apt-get install python3-yaml; scripts/deps.sh does)"
    echo "0 passed, 1 failed"
    exit 1
}

SLOW=${LAMBDA_SLOW:-1}
[ -n "${LAMBDA_SANITIZED:-}" ] && [ "${LAMBDA_SANITIZED:-}" != 0 ] && [ -z "${LAMBDA_SLOW:-}" ] && SLOW=3

now_ms() {
    date +%s%3N
}

wait_until() {
    local limit
    limit=$(( $(now_ms) + $1 * SLOW * 1000 ))
    shift
    while ! "$@"; do
        [ "$(now_ms)" -gt "$limit" ] && return 1
        sleep 0.1
    done
    return 0
}
