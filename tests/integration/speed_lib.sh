# speed_lib.sh -- shared by the speed_*_test.sh scripts: temp dir, development broker, checks
# Sourced, never run alone. Every check can fail; finish prints "N passed, N failed".

set -u
BUILD=${BUILD:-build}
TOP=${LAMBDA_TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
cd "$TOP" || exit 1
case "$BUILD" in /*) ;; *) BUILD="$TOP/$BUILD" ;; esac
SPEED="$BUILD/lambda-speed"
BATCH="$BUILD/lambda-batch"
PRODUCE="$BUILD/lambda-produce"
DEVBROKER="$BUILD/lambda-devbroker"
VIEWDUMP="$BUILD/tests/integration/viewdump"
META="$BUILD/tests/integration/speed_meta"
SANITIZED=${LAMBDA_SANITIZED:-0}

# the tests set what they need; nothing from the caller's environment
for v in CONFIG STORE LOG_LEVEL BROKERS TOPIC GROUP START ON_DATA_LOSS ONCE \
         UNTIL FROM THREADS REJECTS DRY_RUN CHECK_CONFIG; do
    unset "LAMBDA_$v"
done

T=$(mktemp -d "${TMPDIR:-/tmp}/lambda-speed-test.XXXXXX") || exit 1
PIDS=""

cleanup() {
    for p in $PIDS; do
        kill -9 "$p" 2>/dev/null
    done
    wait 2>/dev/null
    if [ "$failed" = 0 ] && [ -z "${KEEP:-}" ]; then
        rm -rf "$T"
    else
        echo "(test files kept in $T)"
    fi
}
trap cleanup EXIT
trap 'exit 1' INT TERM

. "$TOP/tests/integration/harness.sh"     # check, eq, ok, fail, finish, SLOW, wait_until

bg() {
    PIDS="$PIDS $1"
}


# start_broker ARGS...: the development broker; sets BROKERS, BROKER_PID
start_broker() {
    rm -f "$T/bootstrap"
    "$DEVBROKER" -f "$T/bootstrap" --control "$T/control" --log-level warn \
        "$@" >"$T/devbroker.out" 2>"$T/devbroker.log" &
    BROKER_PID=$!
    bg $BROKER_PID
    if ! wait_until 20 test -s "$T/bootstrap"; then
        echo "development broker did not start:"
        cat "$T/devbroker.log"
        exit 1
    fi
    BROKERS=$(cat "$T/bootstrap")
}

broker_cmd() {
    echo "$1" >"$T/control"
}

# status STORE JQ: a field of the speed status in the store
status() {
    "$META" "$1" speed.status 2>/dev/null | jq -r "$2" 2>/dev/null
}

# views PIPELINE STORE batch|speed: view rows without the JSON column
views() {
    "$VIEWDUMP" "$1" "$2" "$3" | cut -f1-4
}

# same_views NAME PIPELINE SPEED_STORE BATCH_STORE: byte-identical rows
same_views() {
    views "$2" "$3" speed >"$T/$1.speed"
    views "$2" "$4" batch >"$T/$1.batch"
    if [ ! -s "$T/$1.speed" ]; then
        fail "$1: no speed rows"
        return
    fi
    if cmp -s "$T/$1.speed" "$T/$1.batch"; then
        ok "$1 ($(wc -l <"$T/$1.speed") rows identical)"
    else
        fail "$1: speed and batch rows differ:"
        diff "$T/$1.speed" "$T/$1.batch" | head -n 10
    fi
}

# consumer properties for the mock: short session, short fetch wait
KAFKA_TEST_PROPS='"session.timeout.ms": 6000, "heartbeat.interval.ms": 500,
    "fetch.wait.max.ms": 20'

# orders_pipeline FILE STORE TOPIC EXTRA: the orders views, speed settings
orders_pipeline() {
    cat >"$1" <<EOF
{
  "name": "orders",
  "store": "$2",
  "event": {"time": "ts", "fields": {
      "customer": "string",
      "country":  {"type": "string", "required": false},
      "amount":   {"type": "decimal", "scale": 2, "min": 0}}},
  "views": {
    "by_customer": {"group_by": ["customer"], "granularity": "10s",
        "metrics": {"orders": "count", "revenue": "sum(amount)",
                    "avg_order": "avg(amount)", "max_order": "max(amount)",
                    "min_order": "min(amount)"}},
    "by_country": {"group_by": ["country"], "granularity": "1h",
        "metrics": {"orders": "count", "revenue": "sum(amount)"}},
    "big": {"group_by": ["country", "customer"], "granularity": "1d",
        "where": {"amount": {"gte": 100}},
        "metrics": {"orders": "count", "revenue": "sum(amount)"}},
    "totals": {"granularity": "1m",
        "metrics": {"orders": "count", "revenue": "sum(amount)"}}
  },
  "speed": {"topic": "$3", "partitions": 4, "lateness": "366d",
            "kafka": {$KAFKA_TEST_PROPS}$4}
}
EOF
}

# gen_orders N SEED [FIRST_ID]: N order events, unique "id" from FIRST_ID (0),
# times over one day, shuffled
gen_orders() {
    awk -v n="$1" -v seed="$2" -v first="${3:-0}" 'BEGIN {
        srand(seed);
        split("DE FR US GB NL ES", cc, " ");
        for (i = first; i < first + n; i++) {
            s = int(rand() * 86400);
            c = "c" int(rand() * 200);
            a = int(rand() * 50000) / 100;
            ts = sprintf("2026-11-19T%02d:%02d:%02dZ", s / 3600, (s / 60) % 60, s % 60);
            if (i % 7 == 3)
                printf "{\"id\":%d,\"customer\":\"%s\",\"amount\":%.2f,\"ts\":\"%s\"}\n", i, c, a, ts;
            else
                printf "{\"id\":%d,\"customer\":\"%s\",\"country\":\"%s\",\"amount\":%.2f,\"ts\":\"%s\"}\n", i, c, cc[1 + int(rand() * 6)], a, ts;
        }
    }'
}

# batch_of PIPELINE STORE FILES...: the batch view of FILES, far-future cutoff
# (past the inputs and the clock on purpose: --force)
batch_of() {
    local pipe=$1 store=$2
    shift 2
    "$BATCH" -c "$pipe" --store "$store" --until 2100-01-01T00:00:00Z --force \
        --rejects "$store.rejects.jsonl" --no-progress "$@" \
        >"$store.batch.out" 2>&1
}

# set_size N RATE SAN_N SAN_RATE: the event count and rate, smaller under sanitizers
set_size() {
    N=$1
    RATE=$2
    if [ "$SANITIZED" = 1 ]; then
        N=$3
        RATE=$4
    fi
}

# start_orders SPEC NAME SEED: a broker with topic SPEC, the orders pipeline NAME
# ($T/NAME.json) on topic NAME, and $N events of SEED in $T/events.jsonl
start_orders() {
    start_broker -t "$1"
    orders_pipeline "$T/$2.json" "$T/$2" "$2" ''
    gen_orders "$N" "$3" >"$T/events.jsonl"
}
