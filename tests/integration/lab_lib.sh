# lab_lib.sh -- sourced by the lab tests that run `make demo`'s script: start it as a
# user would (SIGINT at its default) and stop it as Ctrl-C does. Needs $work, the
# demo's folder, set by the test.
. "$(dirname "${BASH_SOURCE[0]}")/harness.sh"   # check, eq, ok, fail, finish, wait_until
# Ctrl-C is how the demo stops: start it with SIGINT at its default even when this
# test itself was started with SIGINT ignored (a background job of a script)
# (a command, not a function: a function run with & is a subshell, and $! its pid)
with_sigint=(/usr/bin/python3 -c 'import os, signal, sys
signal.signal(signal.SIGINT, signal.SIG_DFL)
os.execvp(sys.argv[1], sys.argv[1:])')
# stop the demo as Ctrl-C does; SIGTERM if that did not work within 20 s
running() { local s; s=$(awk '{ print $3 }' "/proc/$1/stat" 2>/dev/null); [ -n "$s" ] && [ "$s" != Z ]; }
stop_demo() {
    local p=$1 sig n d
    for sig in INT TERM KILL; do
        running "$p" || break
        kill -"$sig" "$p" 2>/dev/null
        n=0
        while running "$p" && [ $n -lt 200 ]; do sleep 0.1; n=$((n + 1)); done
    done
    wait "$p" 2>/dev/null
    # whatever still runs in the demo's folder (it never should) goes too
    for d in /proc/[0-9]*; do
        case $(readlink "$d/cwd" 2>/dev/null) in "$work"*) kill -KILL "${d#/proc/}" 2>/dev/null ;; esac
    done
}
# start_demo [VAR=VALUE...]: `make demo`'s script in $work/demo with SIGINT at its default and
# the settings given, stopped and $work removed at exit; returns once it runs (else fails the test)
start_demo() {
    demo=""
    trap '[ -n "$demo" ] && stop_demo "$demo"; rm -rf "$work"' EXIT
    env DEMO_DIR="$work/demo" DEMO_PORT=0 "$@" "${with_sigint[@]}" sh scripts/demo.sh \
        >"$work/demo.out" 2>&1 &
    demo=$!
    wait_demo_started
}
# wait until the demo started with demo=$! says it runs ($work/demo.out);
# else show its output and fail the test
wait_demo_started() {
    for _ in $(seq 600); do
        grep -q "press Ctrl-C to stop" "$work/demo.out" 2>/dev/null && break
        kill -0 "$demo" 2>/dev/null || break
        sleep 0.1
    done
    if ! grep -q "press Ctrl-C to stop" "$work/demo.out"; then
        tail -n 30 "$work/demo.out"
        echo "FAIL: the demo did not start"
        echo "0 passed, 1 failed"
        exit 1
    fi
}
