# harness.sh -- sourced by the shell tests: one timing factor and polls with a deadline
# Timing asserts scale with SLOW (3 under the sanitizers, or LAMBDA_SLOW), and a test waits
# for what it needs with wait_until instead of a fixed sleep.

SLOW=${LAMBDA_SLOW:-1}
[ -n "${LAMBDA_SANITIZED:-}" ] && [ "${LAMBDA_SANITIZED:-}" != 0 ] && [ -z "${LAMBDA_SLOW:-}" ] && SLOW=3

now_ms() {
    date +%s%3N
}

# wait_until SECONDS COMMAND...: poll every 0.1 s for SECONDS x SLOW at most;
# 0 when COMMAND succeeded
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
