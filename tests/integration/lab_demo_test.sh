#!/bin/bash
# lab_demo_test.sh -- `make demo` end to end: the non-interactive run checks its own answers
# against the datasets' known totals (history in batch, exact live counts after a kill -9 of
# lambda-speed, the speed-to-batch switch at the cutoff); Ctrl-C stops every process it
# started; a busy port is a clear error. Nothing may stay running.
set -u
cd "${LAMBDA_TOP:-$(dirname "$0")/../..}" || exit 1
BUILD=${BUILD:-build}
export BUILD
work=$(mktemp -d /tmp/lab_demo.XXXXXX)
cleanup() {
    # anything still running in our directories is a failure already counted;
    # kill it so the next test starts clean
    for p in $(leftovers "$work"); do kill -KILL "$p" 2>/dev/null; done
    rm -rf "$work"
}
trap cleanup EXIT
. "$(dirname "$0")/lab_lib.sh"   # with_sigint, running, stop_demo
# processes whose working directory is under $1 (the demo runs everything there)
leftovers() {
    local d
    for d in /proc/[0-9]*; do
        case $(readlink "$d/cwd" 2>/dev/null) in
        "$1"*) # a zombie is already dead, waiting for init to reap it
               [ "$(awk '{ print $3 }' "$d/stat" 2>/dev/null)" = Z ] || echo "${d#/proc/}" ;;
        esac
    done
}
nothing_left() {
    local left
    left=$(leftovers "$1")
    [ -z "$left" ] && return 0
    echo "     still running:"
    for p in $left; do echo "       $p $(tr '\0' ' ' <"/proc/$p/cmdline" 2>/dev/null)"; done
    return 1
}

# 1. DEMO_SECONDS=20: the demo checks its own answers --------------------------
d1=$work/run
start=$(date +%s)
DEMO_DIR=$d1 DEMO_PORT=0 DEMO_SECONDS=20 timeout 180 sh scripts/demo.sh >"$work/demo.out" 2>&1
rc=$?
secs=$(( $(date +%s) - start ))
sed 's/^/    | /' "$work/demo.out" | grep -v '| demo: ok   history' | tail -n 30
n_ok=$(grep -c '^demo: ok ' "$work/demo.out")
n_fail=$(grep -c '^demo: FAIL ' "$work/demo.out")
check "demo: exit status 0 (got $rc, ${secs} s)" test "$rc" = 0
check "demo: $n_ok checks passed, $n_fail failed" test "$n_fail" = 0 -a "$n_ok" -ge 20
for what in "history: by_customer customer=Ali matches the known totals" \
            "history: batch counted the 1300 valid events" \
            "speed: live counts grow" "speed: restarted after kill -9" \
            "speed: exactly the 400 valid live events counted after kill -9" \
            "speed: live revenue exact" \
            "serving: live buckets switched from speed to batch" \
            "serving: live total unchanged by the handover"; do
    check "demo checked: $what" grep -q "^demo: ok   $what" "$work/demo.out"
done
check "demo: printed the dashboard URL and three curl queries" \
    test "$(grep -c "^    curl -s 'http://127.0.0.1:[0-9]*/v1/views/" "$work/demo.out")" = 3 -a \
         "$(grep -c '^  Dashboard:  http://127.0.0.1:[0-9]*/$' "$work/demo.out")" = 1
check "demo: said it stopped everything" grep -q "^demo: stopped everything it started" "$work/demo.out"
check "demo: nothing left running after DEMO_SECONDS" nothing_left "$d1"

# 2. interactive, then Ctrl-C (SIGINT to the script, as the terminal sends it) --
d2=$work/interactive
DEMO_DIR=$d2 DEMO_PORT=0 DEMO_RATE=50 "${with_sigint[@]}" sh scripts/demo.sh >"$work/int.out" 2>&1 &
pid=$!
for _ in $(seq 600); do
    grep -q "press Ctrl-C to stop" "$work/int.out" && break
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
done
check "interactive: running and waiting for Ctrl-C" grep -q "press Ctrl-C to stop" "$work/int.out"
port=$(cat "$d2/var/demo/port" 2>/dev/null)
check "interactive: dashboard answers at / " \
    sh -c "curl -fsS --max-time 5 -o '$work/page.html' http://127.0.0.1:$port/ && grep -q '<title>lambdakit' '$work/page.html'"
cutoff=$(sed -n 's/.*DEMO_CUTOFF=\([^ ]*\).*/\1/p' "$d2/var/demo/env")  # the loaded history's end
check "interactive: var/demo/env names the history's end, today 00:00 UTC ($cutoff)" \
    test "$cutoff" = "$(date -u +%Y-%m-%dT00:00:00Z)"
live() { curl -fsS --max-time 5 "http://127.0.0.1:$port/v1/views/totals/total?from=$cutoff" | jq .metrics.orders; }
for _ in $(seq 60); do [ "$(live)" -gt 0 ] 2>/dev/null && break; sleep 0.5; done
c1=$(live)
grown() { [ "$(live)" -gt "${c1:-0}" ] 2>/dev/null; }
wait_until 20 grown
c2=$(live)
check "interactive: live orders stream in ($c1 -> $c2)" test "${c2:-0}" -gt "${c1:-0}"
kill -INT "$pid"
t0=$(date +%s)
n=0
while running "$pid" && [ $n -lt 300 ]; do sleep 0.1; n=$((n + 1)); done
if running "$pid"; then
    rc="still running"
    stop_demo "$pid"
else
    wait "$pid"
    rc=$?
fi
check "interactive: Ctrl-C exits with status 130 (got $rc) within 20 s ($(( $(date +%s) - t0 )) s)" \
    test "$rc" = 130 -a $(( $(date +%s) - t0 )) -le 20
check "interactive: said it stopped everything" grep -q "^demo: stopped everything it started" "$work/int.out"
check "interactive: nothing left running after Ctrl-C" nothing_left "$d2"
check "interactive: the port is free again" sh -c "! curl -s --max-time 2 http://127.0.0.1:$port/healthz"

# 3. a busy port: a clear error, nothing left running ----------------------------
d3=$work/busy
busy=$(/usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
/usr/bin/python3 -c 'import socket,sys,time; s=socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1); s.bind(("127.0.0.1",int(sys.argv[1]))); s.listen(); time.sleep(60)' "$busy" &
holder=$!
listening() { curl -s --max-time 1 -o /dev/null "http://127.0.0.1:$busy/"; [ $? != 7 ]; }   # 7: refused
wait_until 10 listening
DEMO_DIR=$d3 DEMO_PORT=$busy timeout 60 sh scripts/demo.sh >"$work/busy.out" 2>&1
rc=$?
kill "$holder" 2>/dev/null
wait "$holder" 2>/dev/null
check "busy port: exit status 1 (got $rc)" test "$rc" = 1
check "busy port: the message names DEMO_PORT" grep -q "DEMO_PORT" "$work/busy.out"
check "busy port: nothing left running" nothing_left "$d3"

finish
