#!/bin/sh
# demo.sh -- `make demo`: the whole lambda loop on one machine, no Docker and no Kafka needed
#
# Starts the development broker (librdkafka's mock cluster), lambda-serving and
# lambda-speed, publishes the shipped history with lambda-batch, streams live
# events with lambda-produce, and prints what to open and try. Ctrl-C stops
# everything it started. lambda-speed is restarted if it dies (try kill -9).
#
# Settings (environment, or `make demo VAR=value`):
#   DEMO_PIPELINE  orders (default), rides, iot, crypto, or a pipeline file
#   DEMO_PORT      port of the dashboard and API [8080]; 0 picks a free one
#   DEMO_RATE      live events per second [20]
#   DEMO_SECONDS   run non-interactively for about this long: stream one pass of
#                  the history over half of it, check the answers (kill -9 of speed
#                  included), stop; the exit status says whether every check passed
#   DEMO_DIR       working directory holding var/ [the repository]
#   BUILD          where the programs are [build]
set -u

say() { printf 'demo: %s\n' "$*"; }
die() { printf 'demo: %s\n' "$*" >&2; exit 1; }

# lambda-speed, restarted whenever it dies, as compose or systemd would
# (run as `demo.sh __speed`, in its own session: see start below)
speed_loop() {
    trap 'kill -TERM "$child" 2>/dev/null; wait; exit 0' TERM INT HUP
    starts=0
    while [ ! -e "$RUN/stopping" ]; do
        # speed.hold: stopped on purpose (the checks), wait to be let go
        while [ -e "$RUN/speed.hold" ] && [ ! -e "$RUN/stopping" ]; do sleep 0.2; done
        [ -e "$RUN/stopping" ] && break
        "$BUILD/lambda-speed" -c "$PIPE" ${DEMO_LATENESS:+--lateness "$DEMO_LATENESS"} \
            >>"$RUN/speed.log" 2>&1 &
        child=$!
        echo "$child" >"$RUN/speed.pid"
        starts=$((starts + 1))
        [ $starts -gt 1 ] && echo $((starts - 1)) >"$RUN/speed.restarts"
        wait "$child"
        rc=$?
        [ -e "$RUN/stopping" ] && break
        [ -e "$RUN/speed.hold" ] && continue
        if [ $rc -gt 128 ]; then
            say "lambda-speed was killed by signal $((rc - 128)); restarting it"
        else
            say "lambda-speed exited with status $rc; restarting it (see $RUN/speed.log)"
        fi
        sleep 1
    done
}
# live events forever: the history replayed with the current time
producer_loop() {
    trap 'kill -TERM "$child" 2>/dev/null; wait; exit 0' TERM INT HUP
    while [ ! -e "$RUN/stopping" ]; do
        "$BUILD/lambda-produce" -c "$PIPE" -b "$LAMBDA_BROKERS" --now \
            --rate "$RATE" "$REPLAY" >>"$RUN/producer.log" 2>&1 &
        child=$!
        wait "$child" || sleep 1
    done
}
case ${1:-} in
__speed) speed_loop; exit 0 ;;
__producer) producer_loop; exit 0 ;;
esac

top=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${BUILD:-build}
case $BUILD in /*) ;; *) BUILD=$top/$BUILD ;; esac
PORT=${DEMO_PORT:-8080}
RATE=${DEMO_RATE:-20}
SECS=${DEMO_SECONDS:-}
DIR=${DEMO_DIR:-$top}
case ${DEMO_PIPELINE:-orders} in
*/* | *.json) PIPE=${DEMO_PIPELINE} ;;
*) PIPE=datasets/${DEMO_PIPELINE:-orders}.json ;;
esac


for p in lambda-devbroker lambda-speed lambda-serving lambda-batch lambda-produce \
         lambda-timeshift; do
    [ -x "$BUILD/$p" ] || die "$BUILD/$p is missing: run 'make' first (make demo does)"
done
for c in curl jq; do
    command -v $c >/dev/null 2>&1 || die "$c is missing: run 'sh scripts/deps.sh' (make demo does)"
done
case $PORT in *[!0-9]* | '') die "DEMO_PORT=$PORT: expected a port number" ;; esac
case $SECS in *[!0-9]*) die "DEMO_SECONDS=$SECS: expected a number of seconds" ;; esac
# lambda-batch never moves its cutoff past speed's watermark (speed may still
# accept events behind the newest one), so a run of seconds checks the
# handover with a lateness of seconds rather than the pipeline's minute
[ -n "$SECS" ] && : "${DEMO_LATENESS:=2s}"
export DEMO_LATENESS

mkdir -p "$DIR" || exit 1
cd "$DIR" || exit 1
[ -e datasets ] || ln -s "$top/datasets" datasets
[ -f "$PIPE" ] || die "no pipeline file $PIPE"

name=$(jq -r .name "$PIPE")
store=$(jq -r .store "$PIPE")
archive=$(jq -r '.speed.archive // empty' "$PIPE")
topic=$(jq -r .speed.topic "$PIPE")
history=datasets/$name/history
expected=datasets/$name/expected.json
replay=$(ls "$history"/*.jsonl 2>/dev/null | head -n 1)
[ -n "$replay" ] || die "no $history/*.jsonl to stream"
RUN=var/demo
LC_ALL=C
export LC_ALL

# ---- processes: started in their own process groups, stopped in reverse order
pids=""
stopping=0
start() {       # start NAME CMD...: CMD in the background, in its own session and process group
    _n=$1
    shift
    # A background child of a shell is not a group leader, so setsid(1) makes it
    # one without forking: $! is the group to signal. Ctrl-C on the terminal then
    # reaches this script only, which stops the groups in reverse order.
    setsid "$@" &
    _p=$!
    echo "$_p" >"$RUN/$_n.job"
    pids="$_p $pids"
}
group_alive() {  # a process of group $1 is running (zombies do not count)
    cat /proc/[0-9]*/stat 2>/dev/null |
        awk -v g="$1" '$5 == g && $3 != "Z" { found = 1 } END { exit !found }'
}
stop_all() {     # stop the groups in reverse order of start, each within 10 s
    [ "$stopping" = 1 ] && return
    stopping=1
    [ -n "${sleeper:-}" ] && kill "$sleeper" 2>/dev/null
    touch "$RUN/stopping" 2>/dev/null
    for p in $pids; do
        kill -TERM -"$p" 2>/dev/null
        n=0
        while group_alive "$p" && [ $n -lt 100 ]; do
            sleep 0.1
            n=$((n + 1))
        done
        if group_alive "$p"; then
            say "$(cat /proc/"$p"/comm 2>/dev/null || echo "process group $p") did not stop in 10 s; killing it"
            kill -KILL -"$p" 2>/dev/null
        fi
        wait "$p" 2>/dev/null
    done
    [ -n "$pids" ] && say "stopped everything it started"
}
on_signal() {
    trap - INT TERM
    echo
    say "stopping (Ctrl-C again to kill at once)"
    trap 'for p in $pids; do kill -KILL -"$p" 2>/dev/null; done; exit 130' INT TERM
    stop_all
    exit 130
}
trap 'stop_all' EXIT
trap 'on_signal' INT TERM HUP

wait_for() {    # wait_for SECONDS DESCRIPTION COMMAND...: poll every 0.1 s
    _t=$(($1 * 10))
    _d=$2
    shift 2
    while ! "$@" >/dev/null 2>&1; do
        _t=$((_t - 1))
        [ $_t -le 0 ] && return 1
        sleep 0.1
    done
    return 0
}
alive() { kill -0 "$(cat "$RUN/$1.job" 2>/dev/null || echo 0)" 2>/dev/null; }
logtail() { say "last lines of $RUN/$1.log:"; tail -n 15 "$RUN/$1.log" | sed 's/^/    /'; }

# ---- a fresh start: the development broker keeps nothing between runs, so the
# offsets of an old store would point past the end of its empty topic
rm -rf "$RUN" "$store" "var/$name/history"
[ -n "$archive" ] && rm -rf "$archive"
mkdir -p "$RUN" "$store"
# the lab runs from its own copy of a shipped pipeline, which the tutorial
# edits while everything runs ("Add a metric to a running lab")
case $PIPE in
datasets/*) cp "$PIPE" "$RUN/$name.json" && PIPE=$RUN/$name.json ;;
esac
[ -n "$archive" ] && mkdir -p "$archive"
# the master dataset's folders under var/ (batch.inputs), so lambda-batch finds them
for d in $(jq -r '.batch.inputs | if type == "string" then [.] else . end | .[]' "$PIPE"); do
    case $d in *[*?[]*) ;; var/*) mkdir -p "$d" ;; esac
done
say "pipeline $PIPE (store $store, topic $topic); logs in $DIR/$RUN/"

# 1. the development broker (real Kafka protocol on 127.0.0.1, memory only)
start devbroker "$BUILD/lambda-devbroker" -c "$PIPE" -f "$RUN/bootstrap" >"$RUN/devbroker.log" 2>&1
wait_for 15 broker test -s "$RUN/bootstrap" || { logtail devbroker; die "the development broker did not start"; }
LAMBDA_BROKERS=$(cat "$RUN/bootstrap")
LAMBDA_CONFIG=$PIPE
export LAMBDA_BROKERS LAMBDA_CONFIG
say "development broker at $LAMBDA_BROKERS"

# 2. serving
start serving "$BUILD/lambda-serving" -c "$PIPE" --listen "127.0.0.1:$PORT" \
    --port-file "$RUN/port" >"$RUN/serving.log" 2>&1
if ! wait_for 15 serving test -s "$RUN/port"; then
    logtail serving
    die "lambda-serving did not start (port $PORT busy? try: make demo DEMO_PORT=8081)"
fi
PORT=$(cat "$RUN/port")
URL=http://127.0.0.1:$PORT
api() { curl -fsS --max-time 5 "$URL$1"; }

# 3. speed, restarted whenever it dies
export BUILD PIPE RUN
start speed sh "$top/scripts/demo.sh" __speed 2>>"$RUN/speed.log"
say "lambda-speed started (pid in $RUN/speed.pid)"

# 4. the shipped history, as the batch view. Its dates are fixed, so it is
# loaded moved by whole days to end yesterday (the totals stay the known ones
# of expected.json, whatever today is), and published up to today 00:00 UTC.
loaded=var/$name/history
if ! days=$("$BUILD/lambda-timeshift" -c "$PIPE" --end-before today -o "$loaded" \
        "$history" 2>"$RUN/timeshift.log"); then
    logtail timeshift
    die "lambda-timeshift could not load $history"
fi
sed -n 's/.*info: /    /p' "$RUN/timeshift.log"
last=$(jq -r '.last // empty' "$expected" 2>/dev/null)
if [ -n "$last" ]; then
    until=$(date -u -d "${last%%T*} + $((days + 1)) day" +%Y-%m-%dT00:00:00Z)
    set -- --until "$until"
else
    set --
fi
say "lambda-batch over $loaded $*"
if ! "$BUILD/lambda-batch" -c "$PIPE" --no-progress "$@" "$loaded" >"$RUN/batch.log" 2>&1; then
    logtail batch
    die "lambda-batch failed"
fi
sed -n 's/.*info: published/    published/p' "$RUN/batch.log"
history_until=${until:-}

# 5. live events: the history replayed with the current time
lines=$(grep -c '[^[:space:]]' "$replay")     # lambda-produce skips blank lines
if [ -n "$SECS" ]; then
    # one pass over about three quarters of the time, so the checks know
    # what was sent and the stream spans more than a bucket plus the
    # lateness (the handover needs live buckets before batch's cutoff);
    # once speed has its partitions, so that it sees the stream grow
    wait_for 30 "speed's partitions" grep -q "info: assigned" "$RUN/speed.log" ||
        say "lambda-speed has no partitions after 30 s; streaming anyway"
    RATE=$(( (lines * 4 + 3 * SECS - 1) / (SECS > 0 ? 3 * SECS : 1) ))
    [ "$RATE" -lt 1 ] && RATE=1
    start producer "$BUILD/lambda-produce" -c "$PIPE" -b "$LAMBDA_BROKERS" --now \
        --rate "$RATE" "$replay" >"$RUN/producer.log" 2>&1
else
    REPLAY=$replay
    export RATE REPLAY
    start producer sh "$top/scripts/demo.sh" __producer 2>>"$RUN/producer.log"
fi
say "streaming $replay into topic $topic at $RATE events/s (current time)"

cat >"$RUN/env" <<EOF
# . $RUN/env -- the demo's settings for a second terminal (cd $DIR first)
export LAMBDA_CONFIG=$PIPE LAMBDA_BROKERS=$LAMBDA_BROKERS DEMO_URL=$URL
export DEMO_CUTOFF=${history_until:-} # the end of the loaded history: batch before, live after
export PATH="$BUILD:\$PATH"
EOF

# serving notices the new store within a second
wait_for 15 "serving ready" api /readyz || { logtail serving; die "lambda-serving is not ready"; }
probe=$(api /v1/views | jq -r '.views[0] | "/v1/views/\(.name)/top?n=1&metric=\(.metrics | keys_unsorted[0])"')
wait_for 15 "serving answers" api "$probe" ||
    { logtail serving; die "lambda-serving does not answer queries"; }

# ---- what to open and try
view1=$(api /v1/views | jq -r '[.views[] | select(.group_by | length > 0)][0].name // .views[0].name')
field1=$(api /v1/views | jq -r --arg v "$view1" '.views[] | select(.name == $v) | .group_by[0] // empty')
metric1=$(api /v1/views | jq -r --arg v "$view1" '.views[] | select(.name == $v) | .metrics | keys_unsorted[0]')
group1=$(api "/v1/views/$view1/top?metric=$metric1&n=1" | jq -r --arg f "$field1" '.rows[0].key[$f] // empty')
q_total="/v1/views/$view1/total${field1:+?$field1=$group1}"
q_series="/v1/views/$view1/series?${field1:+$field1=$group1&}step=1d"
q_top="/v1/views/$view1/top?metric=$metric1&n=3"
shape() { api "$1" | cut -c 1-110 | sed 's/$/.../'; }
cat <<EOF

  lambdakit demo is running.

  Dashboard:  $URL/

  Try, in another terminal:
    curl -s '$URL$q_total'
      -> $(shape "$q_total")
    curl -s '$URL$q_series'
      -> $(shape "$q_series")
    curl -s '$URL$q_top'
      -> $(shape "$q_top")

  More (README.md, "Tutorial"): cd $DIR && . $RUN/env
    kill -9 \$(cat $RUN/speed.pid)     # speed restarts; nothing is counted twice
    lambda-batch                       # after a minute: the live buckets switch to batch
    kcat -b \$LAMBDA_BROKERS -t $topic -C -e -o -3   # the last records

EOF

if [ -z "$SECS" ]; then
    say "running; press Ctrl-C to stop"
    while :; do
        sleep 1 &
        sleeper=$!
        wait $sleeper 2>/dev/null
        if ! alive serving || ! alive devbroker; then
            say "a process stopped unexpectedly"
            logtail serving
            logtail devbroker
            exit 1
        fi
    done
fi

# ---- DEMO_SECONDS: check the answers ------------------------------------------
passed=0
failed=0
check() {       # check DESCRIPTION TEST...
    _d=$1
    shift
    if "$@" >/dev/null; then
        passed=$((passed + 1))
        say "ok   $_d"
    else
        failed=$((failed + 1))
        say "FAIL $_d"
    fi
}
eq() { [ "$1" = "$2" ] || { say "     expected $2, got $1" >&2; return 1; }; }
t0=$(date +%s)
errors5xx() { api /metrics | awk '/^lambda_serving_requests_total\{.*code="5/ { n += $NF } END { print n + 0 }'; }
e0=$(errors5xx)

# a. speed counts grow while events stream in
count_view=$(api /v1/views | jq -r '[.views[] | select(.group_by | length == 0)][0].name // empty')
count_metric=$(api /v1/views | jq -r --arg v "${count_view:-$view1}" '.views[] | select(.name == $v) | .metrics | to_entries[] | select(.value == "count") | .key' | head -n 1)
live() {        # live count over the buckets after the history, every group
    if [ -n "$count_view" ]; then
        api "/v1/views/$count_view/total?from=$history_until" | jq -r ".metrics.$count_metric // 0"
    else
        api "/v1/views/$view1/top?metric=$count_metric&n=1000&from=$history_until" |
            jq -r "[.rows[].metrics.$count_metric] | add // 0"
    fi
}
has_live() { [ "$(live)" -gt 0 ] 2>/dev/null; }
wait_for 30 "first live events" has_live
c1=$(live)
grown() { [ "$(live)" -gt "$c1" ] 2>/dev/null; }
wait_for 15 "live counts to grow" grown
c2=$(live)
check "speed: live counts grow ($c1 -> $c2)" test "$c2" -gt "$c1"

# b. kill -9 lambda-speed mid-stream: it is restarted and counts nothing twice
kill -KILL "$(cat "$RUN/speed.pid")"
say "killed lambda-speed with SIGKILL at $c2 live events"
wait_for 10 "restart" test -s "$RUN/speed.restarts"
check "speed: restarted after kill -9" test -s "$RUN/speed.restarts"
# the known totals of the history, from the batch view (while speed recovers)
views=$(jq -r 'keys[]' "$expected" | while read -r k; do
    api /v1/views | jq -e --arg k "$k" '.views[] | select(.name == $k and (.group_by | length) > 0)' >/dev/null &&
        echo "$k"
done)
for v in $views; do
    field=$(api /v1/views | jq -r --arg v "$v" '.views[] | select(.name == $v) | .group_by[0]')
    metrics=$(api /v1/views | jq -c --arg v "$v" '.views[] | select(.name == $v) | .metrics | keys')
    for g in $(jq -r --arg v "$v" '.[$v] | keys[]' "$expected"); do
        if [ "$g" = null ]; then q="$field"; else q="$field=$(jq -rn --arg g "$g" '$g | @uri')"; fi
        got=$(api "/v1/views/$v/total?$q&to=$history_until" | jq -c .metrics)
        verdict=$(jq -n --argjson got "$got" --argjson want "$(jq -c --arg v "$v" --arg g "$g" '.[$v][$g]' "$expected")" \
            --argjson names "$metrics" '
            [$want | to_entries[] | select(.key as $k | $names | index($k)) |
             (.value | tonumber) as $w | ($got[.key] | tonumber) as $g |
             if (.key | startswith("avg")) then (($g - $w) | fabs) <= 0.001 * ([($w | fabs), 1] | max)
             else $g == $w end] | all')
        check "history: $v $field=$g matches the known totals" eq "$verdict" true
    done
done
ev=$(jq -r .events "$expected")
check "history: batch counted the $ev valid events" grep -q "events=$ev " "$RUN/batch.log"

want=$(jq -n -R -f "datasets/$name/expected.jq" <"$replay" | jq -r .events)
# done once it logs its summary (or is gone): librdkafka's shutdown after it
# can sleep to a deadline of the moved clock under libfaketime
# (lab_calendar_test); the end of the demo stops it either way
producer_done() { grep -q "info: produced " "$RUN/producer.log" || ! alive producer; }
wait_for 90 "producer" producer_done
check "producer: sent the whole file ($lines records)" grep -q "produced $lines events" "$RUN/producer.log"
n=0
while [ "$(live)" != "$want" ] && [ $n -lt 60 ]; do sleep 0.5; n=$((n + 1)); done
c3=$(live)
check "speed: exactly the $want valid live events counted after kill -9 ($c3)" eq "$c3" "$want"
wantrev=$(jq -n -R -f "datasets/$name/expected.jq" <"$replay" | jq -r '.totals.revenue // empty')
if [ -n "$wantrev" ] && [ -n "$count_view" ]; then
    rev=$(api "/v1/views/$count_view/total?from=$history_until" | jq -r '.metrics.revenue')
    check "speed: live revenue exact ($rev)" jq -en "$rev == $wantrev"
fi

# c. batch over history + archive: the live buckets switch from speed to batch
gran=$(api /v1/views | jq -r --arg v "${count_view:-$view1}" '.views[] | select(.name == $v) | .granularity')
if [ -n "$count_view" ]; then
    series="/v1/views/$count_view/series?from=$history_until&step=$gran"
else
    series="/v1/views/$view1/series?$field1=$group1&from=$history_until&step=$gran"
fi
before=$(api "$series" | jq -c '[.points[] | .source] | group_by(.) | map({(.[0]): length}) | add // {}')
touch "$RUN/speed.hold"
kill -TERM "$(cat "$RUN/speed.pid")"
wait_for 20 "speed to stop" sh -c "! kill -0 $(cat "$RUN/speed.pid") 2>/dev/null"
say "stopped lambda-speed gracefully (it seals its archive); running lambda-batch over history + archive"
if "$BUILD/lambda-batch" -c "$PIPE" --no-progress >"$RUN/batch2.log" 2>&1; then
    sed -n 's/.*info: published/    published/p' "$RUN/batch2.log"
    check "batch: second run published" true
else
    logtail batch2
    check "batch: second run published" false
fi
after=$(api "$series" | jq -c '[.points[] | .source] | group_by(.) | map({(.[0]): length}) | add // {}')
say "live series sources before: $before, after: $after"
cutoff=$(api /v1/views | jq -r '.views[0].batch.cutoff')
first=$(api "$series" | jq -r '.points[0].t // empty')
if [ -n "$first" ] && [ "$(date -u -d "$cutoff" +%s)" -gt "$(date -u -d "$first" +%s)" ]; then
    check "serving: live buckets switched from speed to batch at the new cutoff $cutoff" \
        jq -en --argjson b "$before" --argjson a "$after" \
        '($b.speed // 0) > 0 and ($a.batch // 0) > 0 and ($a.batch // 0) + ($a.mixed // 0) > ($b.batch // 0)'
else
    say "skip the speed-to-batch switch: every live event is in the $gran bucket at the cutoff $cutoff (run longer)"
fi
c4=$(live)
check "serving: live total unchanged by the handover ($c4)" eq "$c4" "$want"
rm -f "$RUN/speed.hold"
e1=$(errors5xx)
check "serving: no 5xx answers while speed and batch wrote the store ($((e1 - e0)))" eq "$e1" "$e0"

say "$passed checks passed, $failed failed ($(( $(date +%s) - t0 )) s of checks)"
[ "$failed" = 0 ]
