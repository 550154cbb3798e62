#!/bin/bash
# serving_test.sh -- lambda-serving over real HTTP on 127.0.0.1: answers compared with
# jq-computed expectations (datasets/serving/expect.jq), the batch/speed boundary, a publish
# under concurrent queries, every error status, limits, slowloris, token, CORS, signals.
#
# The store is filled by the real lambda-batch (events before the cutoff) and by speedfill
# (events from 10:00 on, overlapping the batch by two hours, as speed would hold them before
# pruning), so a double count or a gap at the cutoff shows as a wrong number.
set -u
BUILD=${BUILD:-build}
cd "$(dirname "$0")/../.." || exit 1
PIPE=datasets/serving/pipeline.json
EVENTS=datasets/serving/events.jsonl
CUTOFF=2026-11-20T12:00:00Z
C=1795176000                    # $CUTOFF in epoch seconds
WM=2026-11-20T16:00:00Z
VERSION=1
. tests/integration/harness.sh  # check, eq, ok, fail, finish; SLOW (timing slack factor), wait_until
tmp=$(mktemp -d /tmp/serving_test.XXXXXX)
pids=()

cleanup() {
    for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
    wait 2>/dev/null
    rm -rf "$tmp"
}
trap cleanup EXIT


# start NAME [ARGS...]: run lambda-serving on an ephemeral port; sets PORT, URL, SPID
start() {
    local name=$1; shift
    rm -f "$tmp/$name.port"
    "$BUILD"/lambda-serving -c "$PIPE" --store "${STORE:-$tmp/store}" --listen 127.0.0.1:0 \
        --port-file "$tmp/$name.port" "$@" 2>"$tmp/$name.log" &
    SPID=$!
    pids+=("$SPID")
    for _ in $(seq 200); do [ -s "$tmp/$name.port" ] && break; sleep 0.05; done
    PORT=$(cat "$tmp/$name.port" 2>/dev/null)
    URL=http://127.0.0.1:$PORT
}

# get PATH [CURL ARGS...]: sets CODE, BODY and HDRS (response headers)
get() {
    local out
    out=$(curl -s -g -D "$tmp/hdrs" --max-time 10 -w '\n%{http_code}' "${@:2}" "$URL$1")
    CODE=${out##*$'\n'}
    BODY=${out%$'\n'*}
    BODY=${BODY%$'\n'}
    HDRS=$(tr -d '\r' <"$tmp/hdrs")
}

enc() { jq -rn --arg v "$1" '$v | @uri'; }
# expect PROGRAM [JQ ARGS...]: run PROGRAM over the fixture's valid events (with expect.jq)
expect() { jq -n -R -r -L datasets/serving "${@:2}" "include \"expect\"; events | $1" "$EVENTS"; }
tjson() { if [ -z "$1" ]; then echo null; else echo "\"$1\""; fi; }
layers() { echo "\"batch\":{\"version\":$VERSION,\"cutoff\":\"$CUTOFF\"},\"speed\":{\"watermark\":\"$WM\"}"; }
sec() { if [ -z "$1" ]; then echo "$2"; else jq -rn --arg t "$1" '$t | fromdateiso8601'; fi; }

# ---- not ready until the store exists ------------------------------------
start main
check "ready line names the real address" grep -q "ready: listening on http://127.0.0.1:$PORT" "$tmp/main.log"
get /healthz
eq "healthz before the store" "$CODE $BODY" '200 {"status":"ok"}'
get /readyz
eq "readyz 503 before the store" "$CODE $(jq -c .error.code <<<"$BODY")" "503 503"
get "/v1/views/totals/total"
eq "total 503 before the store" "$CODE $(jq -r .error.code <<<"$BODY")" "503 503"
check "503 carries Retry-After" grep -qi '^retry-after: 1' <<<"$HDRS"
get /v1/views
eq "views listed before the store" "$CODE $(jq -c '[.views[] | .name, .batch.version]' <<<"$BODY")" \
    '200 ["by_customer",null,"by_country",null,"totals",null]'

"$BUILD"/lambda-batch -c "$PIPE" --store "$tmp/store" --until "$CUTOFF" --no-progress \
    "$EVENTS" 2>"$tmp/batch.log" || fail "lambda-batch run"
for _ in $(seq 60); do get /readyz; [ "$CODE" = 200 ] && break; sleep 0.1; done
eq "ready once batch published" "$CODE" 200
jq -R -r -L datasets/serving --argjson c $((C - 7200)) 'include "expect";
    select((try fromjson catch null) as $e | $e != null and ($e | valid) and ($e.ts | epoch) >= $c)' \
    "$EVENTS" >"$tmp/speed.jsonl"
"$BUILD"/tests/integration/speedfill -c "$PIPE" --store "$tmp/store" --watermark "$WM" \
    --status '{"events":47,"rejects":{"late":2,"invalid_json":1},"lag":3}' \
    "$tmp/speed.jsonl" >"$tmp/speedfill.out" || fail "speedfill run"
check "speed rows overlap the batch" grep -q '2026-11-20T10:' "$tmp/speed.jsonl"

# ---- total -----------------------------------------------------------------
mapfile -t customers < <(expect 'map(.customer) | unique | .[]')
check "fixture has its customers" [ "${#customers[@]}" -ge 8 ]
for c in "${customers[@]}" "nobody"; do
    get "/v1/views/by_customer/total?customer=$(enc "$c")"
    want="{\"view\":\"by_customer\",\"key\":{\"customer\":$(jq -n --arg c "$c" '$c | tojson' | jq -r .)},\"from\":null,\"to\":null,\"metrics\":$(expect 'map(select(.customer == $c)) | m_customer' --arg c "$c"),$(layers)}"
    eq "total customer=$c" "$CODE $BODY" "200 $want"
done

# ranges: [from, to) over bucket starts; open ends; epoch seconds; at and around the cutoff
while read -r from to; do
    [ "$from" = - ] && from=""
    [ "$to" = - ] && to=""
    q="customer=Ali"
    [ -n "$from" ] && q="$q&from=$from"
    [ -n "$to" ] && q="$q&to=$to"
    ffrom=$from fto=$to
    case "$from" in *[!0-9]* | "") ;; *) ffrom=$(jq -rn --argjson s "$from" '$s | todate') ;; esac
    case "$to" in *[!0-9]* | "") ;; *) fto=$(jq -rn --argjson s "$to" '$s | todate') ;; esac
    get "/v1/views/by_customer/total?$q"
    want="{\"view\":\"by_customer\",\"key\":{\"customer\":\"Ali\"},\"from\":$(tjson "$ffrom"),\"to\":$(tjson "$fto"),\"metrics\":$(expect \
        'map(select(.customer == "Ali")) | bucketed(3600) | within($f; $t) | m_customer' \
        --argjson f "$(sec "$ffrom" -1e15)" --argjson t "$(sec "$fto" 1e15)"),$(layers)}"
    eq "total Ali from=$from to=$to" "$CODE $BODY" "200 $want"
done <<EOF
2026-11-18T05:00:00Z 2026-11-20T14:00:00Z
2026-11-18T05:30:00Z 2026-11-19T23:00:00Z
1795046400 1795183200
- $CUTOFF
$CUTOFF -
2026-11-20T11:00:00Z $CUTOFF
$CUTOFF 2026-11-20T13:00:00Z
2026-11-18T00:00:00Z -
- 2026-11-20T15:00:00Z
2026-11-19T00:00:00Z 2026-11-20T00:00:00Z
EOF

get "/v1/views/by_country/total?country=FR&from=2026-11-20T11:50:00Z&to=2026-11-20T12:10:00Z"
eq "by_country FR across the cutoff (10m buckets)" "$CODE $BODY" "200 {\"view\":\"by_country\",\"key\":{\"country\":\"FR\"},\"from\":\"2026-11-20T11:50:00Z\",\"to\":\"2026-11-20T12:10:00Z\",\"metrics\":$(expect \
    'map(select(.country == "FR")) | bucketed(600) | within($f; $t) | m_simple' --argjson f $((C - 600)) --argjson t $((C + 600))),$(layers)}"
get "/v1/views/by_country/total?country"
eq "by_country null group (?country without =)" "$CODE $BODY" "200 {\"view\":\"by_country\",\"key\":{\"country\":null},\"from\":null,\"to\":null,\"metrics\":$(expect 'map(select(.country == null)) | m_simple'),$(layers)}"
get "/v1/views/by_country/total?country="
eq "by_country empty string is a value, not null" "$(jq -c '[.key, .metrics.orders]' <<<"$BODY")" '[{"country":""},0]'
get "/v1/views/totals/total"
eq "totals all time: every event once" "$CODE $BODY" "200 {\"view\":\"totals\",\"key\":{},\"from\":null,\"to\":null,\"metrics\":$(expect m_simple),$(layers)}"
get "/v1/views/totals/total?from=2026-11-18T10:20:00Z&to=2026-11-20T13:40:00Z"
eq "totals edges+days+speed" "$(jq -c .metrics <<<"$BODY")" "$(expect 'bucketed(600) | within($f; $t) | m_simple' \
    --argjson f "$(sec 2026-11-18T10:20:00Z)" --argjson t "$(sec 2026-11-20T13:40:00Z)")"

# ---- series ----------------------------------------------------------------
# series VIEW GRAN QUERY KEYFILTER KEYJSON STEP WINDOW FROM TO METRICS
series() {
    local view=$1 g=$2 q=$3 kf=$4 kj=$5 step=$6 w=$7 from=$8 to=$9 m=${10}
    local sstep=$(jq -rn --argjson s "$step" 'if $s % 86400 == 0 then "\($s/86400)d" elif $s % 3600 == 0 then "\($s/3600)h" elif $s % 60 == 0 then "\($s/60)m" else "\($s)s" end')
    local sw=$(jq -rn --argjson s "$w" 'if $s % 86400 == 0 then "\($s/86400)d" elif $s % 3600 == 0 then "\($s/3600)h" elif $s % 60 == 0 then "\($s/60)m" else "\($s)s" end')
    get "/v1/views/$view/series?$q"
    local pts=$(expect "map(select($kf)) | points($g; $step; $w; \$f; \$t; $C; $m)" \
        --argjson f "$(sec "$from" -1e15)" --argjson t "$(sec "$to" 1e15)")
    eq "series $view $q" "$CODE $BODY" "200 {\"view\":\"$view\",\"key\":$kj,\"step\":\"$sstep\",\"window\":\"$sw\",\"from\":$(tjson "$from"),\"to\":$(tjson "$to"),\"points\":[$pts],$(layers)}"
}
series by_customer 3600 "customer=Ali&step=1h&from=2026-11-20T08:00:00Z&to=2026-11-20T16:00:00Z" \
    '.customer == "Ali"' '{"customer":"Ali"}' 3600 3600 2026-11-20T08:00:00Z 2026-11-20T16:00:00Z m_customer
series by_customer 3600 "customer=$(enc 'Zoë')&step=1d" '.customer == "Zoë"' '{"customer":"Zoë"}' 86400 86400 "" "" m_customer
series by_customer 3600 "customer=$(enc 'a&b=c d/e+f%?#')" '.customer == "a&b=c d/e+f%?#"' \
    '{"customer":"a&b=c d/e+f%?#"}' 3600 3600 "" "" m_customer
series totals 600 "step=6h" 'true' '{}' 21600 21600 "" "" m_simple
series totals 600 "step=1d&from=2026-11-18T12:00:00Z" 'true' '{}' 86400 86400 2026-11-18T12:00:00Z "" m_simple
series totals 600 "window=3h&step=1h&from=2026-11-20T06:00:00Z" 'true' '{}' 3600 10800 2026-11-20T06:00:00Z "" m_simple
series totals 600 "window=20m&step=1h&from=2026-11-19T20:00:00Z&to=2026-11-20T02:00:00Z" 'true' '{}' 3600 1200 \
    2026-11-19T20:00:00Z 2026-11-20T02:00:00Z m_simple
series by_country 600 "country=MA&from=2026-11-20T11:00:00Z&to=2026-11-20T13:00:00Z" '.country == "MA"' \
    '{"country":"MA"}' 600 600 2026-11-20T11:00:00Z 2026-11-20T13:00:00Z m_simple
series by_country 600 "country=FR&window=40m&step=10m&from=2026-11-20T11:00:00Z&to=2026-11-20T13:00:00Z" \
    '.country == "FR"' '{"country":"FR"}' 600 2400 2026-11-20T11:00:00Z 2026-11-20T13:00:00Z m_simple
get "/v1/views/totals/series?step=1h&from=2026-11-20T10:00:00Z&to=2026-11-20T14:00:00Z"
eq "sources around the cutoff" "$(jq -c '[.points[] | [.t[11:13], .source]]' <<<"$BODY")" \
    '[["10","batch"],["11","batch"],["12","speed"],["13","speed"]]'
get "/v1/views/totals/series?step=2h&from=2026-11-20T10:00:00Z&to=2026-11-20T14:00:00Z"
eq "a 2h step at the cutoff is batch, then speed" "$(jq -c '[.points[] | .source]' <<<"$BODY")" '["batch","speed"]'
get "/v1/views/totals/series?step=7h&from=2026-11-20T04:00:00Z&to=2026-11-20T18:00:00Z"
eq "a step spanning the cutoff is mixed" "$(jq -c '[.points[] | .source]' <<<"$BODY")" '["batch","mixed"]'
get "/v1/views/totals/series?step=1h"
eq "hourly points sum to the total" "$(jq -c '[([.points[].metrics.orders] | add)]' <<<"$BODY")" "[$(expect length)]"

# ---- top -------------------------------------------------------------------
get "/v1/views/by_customer/top?metric=revenue&n=3"
eq "top revenue n=3" "$CODE $BODY" "200 {\"view\":\"by_customer\",\"metric\":\"revenue\",\"n\":3,\"from\":null,\"to\":null,\"rows\":[$(expect \
    'top_rows(.customer; {customer} | tojson; map(.c) | add; 3; m_customer)')],$(layers)}"
get "/v1/views/by_customer/top?metric=orders&n=100"
eq "top orders, ties by key" "$CODE $BODY" "200 {\"view\":\"by_customer\",\"metric\":\"orders\",\"n\":100,\"from\":null,\"to\":null,\"rows\":[$(expect \
    'top_rows(.customer; {customer} | tojson; length; 100; m_customer)')],$(layers)}"
check "tie-a ranks before tie-b" jq -e '[.rows[].key.customer] | index("tie-a") < index("tie-b")' <<<"$BODY" >/dev/null
get "/v1/views/by_customer/top?metric=min_order&n=4&from=2026-11-19T06:00:00Z&to=2026-11-20T15:00:00Z"
eq "top min_order over a range" "$CODE $BODY" "200 {\"view\":\"by_customer\",\"metric\":\"min_order\",\"n\":4,\"from\":\"2026-11-19T06:00:00Z\",\"to\":\"2026-11-20T15:00:00Z\",\"rows\":[$(expect \
    'bucketed(3600) | within($f; $t) | top_rows(.customer; {customer} | tojson; map(.c) | min; 4; m_customer)' \
    --argjson f "$(sec 2026-11-19T06:00:00Z)" --argjson t "$(sec 2026-11-20T15:00:00Z)")],$(layers)}"
get "/v1/views/by_country/top?metric=orders&n=10&from=2026-11-20T11:00:00Z"
eq "top by_country, null group, across the cutoff" "$CODE $BODY" "200 {\"view\":\"by_country\",\"metric\":\"orders\",\"n\":10,\"from\":\"2026-11-20T11:00:00Z\",\"to\":null,\"rows\":[$(expect \
    'bucketed(600) | within($f; 1e15) | top_rows(.country; {country} | tojson; length; 10; m_simple)' --argjson f $((C - 3600)))],$(layers)}"

# ---- views, health, metrics ------------------------------------------------
get /v1/views
eq "views" "$CODE $(jq -c '.views[0] | [.name, .group_by, .granularity, .metrics, .batch.version, .batch.cutoff, .speed.watermark, (.speed.updated_at | type)]' <<<"$BODY")" \
    "200 [\"by_customer\",[\"customer\"],\"1h\",{\"orders\":\"count\",\"revenue\":\"sum(amount)\",\"avg_order\":\"avg(amount)\",\"max_order\":\"max(amount)\",\"min_order\":\"min(amount)\"},1,\"$CUTOFF\",\"$WM\",\"string\"]"
get /readyz
eq "readyz" "$CODE $BODY" "200 {\"status\":\"ready\",$(layers)}"
get /
check "dashboard at /" [ "$CODE" = 200 ] && grep -qi '^content-type: text/html' <<<"$HDRS"
get /v1/views -I
check "HEAD answers without a body" [ "$CODE" = 200 ] && [ -z "$BODY" ]
get /metrics
check "metrics: requests by route and status" grep -q '^lambda_serving_requests_total{route="total",code="200"} [1-9]' <<<"$BODY"
check "metrics: 503s counted" grep -q '^lambda_serving_requests_total{route="total",code="503"} 1$' <<<"$BODY"
check "metrics: latency histogram" grep -q '^lambda_serving_request_duration_seconds_bucket{route="series",le="+Inf"} [1-9]' <<<"$BODY"
check "metrics: batch version and cutoff age" grep -q '^lambda_batch_version 1$' <<<"$BODY"
check "metrics: cutoff age" grep -q '^lambda_batch_cutoff_age_seconds [0-9]' <<<"$BODY"
check "metrics: watermark age" grep -q '^lambda_speed_watermark_age_seconds [0-9]' <<<"$BODY"
check "metrics: store size" grep -q '^lambda_store_used_bytes [1-9]' <<<"$BODY"
check "metrics: speed status" grep -q '^lambda_speed_rejects{reason="late"} 2$' <<<"$BODY"
check "metrics: speed lag" grep -q '^lambda_speed_lag 3$' <<<"$BODY"
check "metrics: prometheus content type" grep -qi '^content-type: text/plain; version=0.0.4' <<<"$HDRS"

# ---- errors ----------------------------------------------------------------
while read -r code param path; do
    get "$path"
    eq "$code $path" "$CODE $(jq -r '"\(.error.code) \(.error.parameter)"' <<<"$BODY" 2>/dev/null)" "$code $code $param"
done <<'EOF'
400 from /v1/views/totals/total?from=yesterday
400 to /v1/views/totals/total?to=2026-13-01T00:00:00Z
400 to /v1/views/totals/total?from=2026-11-20T00:00:00Z&to=2026-11-19T00:00:00Z
400 to /v1/views/totals/total?from=1795176000&to=1795176000
400 customer /v1/views/by_customer/total
400 customer /v1/views/by_customer/series?step=1h
400 customer /v1/views/by_customer/total?customer=%FF%FE
400 form /v1/views/by_customer/total?customer=Ali&form=2026-11-20T00:00:00Z
400 customer /v1/views/by_customer/total?customer=Ali&customer=Sara
400 step /v1/views/by_customer/series?customer=Ali&step=90m
400 step /v1/views/by_customer/series?customer=Ali&step=fast
400 window /v1/views/totals/series?window=15m
400 window /v1/views/totals/series?window=-1h
400 window /v1/views/totals/series?window=100000000d
400 metric /v1/views/by_customer/top
400 metric /v1/views/by_customer/top?metric=profit
400 n /v1/views/by_customer/top?metric=orders&n=0
400 n /v1/views/by_customer/top?metric=orders&n=1001
400 n /v1/views/by_customer/top?metric=orders&n=ten
400 customer /v1/views/by_customer/top?metric=orders&customer=Ali
404 null /v1/views/nope/total
404 null /v1/views/nope/series
404 null /v1/views/by_customer/sum
404 null /v2/views
404 null /v1/views/by_customer
EOF
get "/v1/views/totals/total?from=yesterday"
check "400 says what was expected" grep -q 'RFC 3339' <<<"$BODY"
get /v1/views -X POST
eq "405 on POST, with Allow" "$CODE $(grep -i '^allow:' <<<"$HDRS")" "405 Allow: GET, HEAD"
get /v1/views -X DELETE
eq "405 on DELETE" "$CODE" 405
get /v1/views -X OPTIONS
eq "OPTIONS without CORS is 405" "$CODE" 405
get /v1/views -X GET --data-binary 'x=1'
eq "400 on a request body" "$CODE $(jq -r .error.code <<<"$BODY")" "400 400"
long=$(head -c 9000 /dev/zero | tr '\0' a)
get "/v1/views/by_customer/total?customer=$long"
eq "414 on a long URL (JSON)" "$CODE $(jq -r .error.code <<<"$BODY")" "414 414"
long=$(head -c 40000 /dev/zero | tr '\0' a)
get "/v1/views/by_customer/total?customer=$long"
eq "414 on a 40 KB URL (JSON)" "$CODE $(jq -r .error.code <<<"$BODY")" "414 414"
get /healthz -H "X-Big: $(head -c 40000 /dev/zero | tr '\0' b)"
eq "431 on 40 KB of headers (JSON)" "$CODE $(jq -r .error.code <<<"$BODY")" "431 431"
get /healthz
eq "still serving after the limits" "$CODE" 200

# ---- speed only: no batch published yet ---------------------------------------
STORE=$tmp/speedonly start sponly
get /readyz
eq "no store yet: not ready" "$CODE" 503
"$BUILD"/tests/integration/speedfill -c "$PIPE" --store "$tmp/speedonly" --watermark "$WM" \
    "$tmp/speed.jsonl" >/dev/null || fail "speedfill speed-only"
for _ in $(seq 40); do get /readyz; [ "$CODE" = 200 ] && break; sleep 0.1; done
eq "ready on speed rows alone" "$CODE $BODY" "200 {\"status\":\"ready\",\"batch\":{\"version\":null,\"cutoff\":null},\"speed\":{\"watermark\":\"$WM\"}}"
get "/v1/views/totals/total"
eq "speed-only total" "$(grep -o '"metrics":{[^}]*}' <<<"$BODY")" "\"metrics\":$(expect 'map(select(.t >= $c)) | m_simple' --argjson c $((C - 7200)))"
get "/v1/views/totals/series?step=1h"
eq "speed-only points are all speed" "$(jq -c '[.points[].source] | unique' <<<"$BODY")" '["speed"]'
kill -TERM "$SPID"; wait "$SPID" 2>/dev/null

# ---- limits: points and n ----------------------------------------------------
start small --max-points 5 --max-top 3
get "/v1/views/totals/series?step=1h"
eq "max_points 400" "$CODE $(jq -r .error.parameter <<<"$BODY")" "400 step"
check "max_points message names the limit" grep -q 'serving.max_points' <<<"$BODY"
get "/v1/views/totals/series?step=1d"
eq "3 daily points fit in max_points 5" "$CODE $(jq '.points | length' <<<"$BODY")" "200 3"
get "/v1/views/by_customer/top?metric=orders&n=4"
eq "n above max_top" "$CODE $(jq -r .error.parameter <<<"$BODY")" "400 n"
kill -TERM "$SPID"; wait "$SPID" 2>/dev/null

# ---- token and CORS ----------------------------------------------------------
LAMBDA_TOKEN=s3cret-token start auth --cors-origin https://dash.example
get /v1/views
eq "401 without a token" "$CODE $(jq -r .error.code <<<"$BODY")" "401 401"
check "401 carries WWW-Authenticate" grep -qi '^www-authenticate: Bearer' <<<"$HDRS"
get /v1/views -H "Authorization: Bearer wrong"
eq "401 with a wrong token" "$CODE" 401
get /v1/views -H "Authorization: Bearer s3cret-tokenX"
eq "401 with a longer token" "$CODE" 401
get /v1/views -H "Authorization: Bearer s3cret-token"
eq "200 with the token" "$CODE" 200
get "/v1/views/totals/total" -H "Authorization: bearer s3cret-token"
eq "scheme is case-insensitive" "$CODE" 200
get /healthz
eq "healthz needs no token" "$CODE" 200
check "CORS origin header when configured" grep -qi '^access-control-allow-origin: https://dash.example' <<<"$HDRS"
get /v1/views -X OPTIONS -H "Origin: https://dash.example" -H "Access-Control-Request-Method: GET"
eq "CORS preflight" "$CODE $(grep -ci '^access-control-allow-methods: GET' <<<"$HDRS")" "204 1"
kill -TERM "$SPID"; wait "$SPID" 2>/dev/null
URL=http://127.0.0.1:$(cat "$tmp/main.port")
get /v1/views
check "CORS off by default" test "$(grep -ci '^access-control' <<<"$HDRS")" = 0
"$BUILD"/lambda-serving -c "$PIPE" --token x --check-config >/dev/null 2>&1
eq "--token on the command line refused" "$?" 2
"$BUILD"/lambda-serving -c "$PIPE" --check-config >"$tmp/cc.out" 2>&1
eq "--check-config" "$? $(cat "$tmp/cc.out")" "0 configuration OK"
"$BUILD"/lambda-serving -c "$PIPE" --listen nonsense --check-config >/dev/null 2>&1
eq "bad --listen is a usage error" "$?" 2
"$BUILD"/lambda-serving -c "$PIPE" --listen 203.0.113.7:1 --store "$tmp/store" 2>/dev/null
eq "unbindable address exits 1" "$?" 1

# ---- slowloris ----------------------------------------------------------------
start slow --timeout 2
"$BUILD"/tests/integration/serving_slowloris "$PORT" 8 300 $((8 * SLOW)) >"$tmp/slow.out" 2>"$tmp/slow.err" &
lpid=$!
check "slowloris connected" wait_until $((5 * SLOW)) grep -q connected "$tmp/slow.err"
fast=0
for _ in $(seq 10); do
    t0=$(date +%s%N)
    c=$(curl -s -o /dev/null -w '%{http_code}' --max-time 2 "$URL/v1/views/totals/total")
    ms=$(( ($(date +%s%N) - t0) / 1000000 ))
    [ "$c" = 200 ] && [ "$ms" -lt $((1000 * SLOW)) ] && fast=$((fast + 1))
    sleep 0.1
done
eq "others answered promptly during slowloris" "$fast" 10
wait "$lpid"
read -r cut alive maxcut <<<"$(sed 's/[a-z_]*=//g' "$tmp/slow.out")"
eq "slowloris connections cut, none left" "$cut $alive" "8 0"
check "cut within timeout + 1.5 s (${maxcut} ms)" [ "${maxcut:-99999}" -le $((3500 * SLOW)) ]
get /metrics
check "cut connections counted" grep -q '^lambda_serving_connections_cut_total [1-9]' <<<"$BODY"
kill -TERM "$SPID"; wait "$SPID" 2>/dev/null

start maxc --max-connections 3 --timeout 2
"$BUILD"/tests/integration/serving_slowloris "$PORT" 3 300 $((6 * SLOW)) >"$tmp/maxc.out" 2>"$tmp/maxc.err" &
lpid=$!
check "slowloris holds max_connections" wait_until $((5 * SLOW)) grep -q connected "$tmp/maxc.err"
c=$(curl -s -o /dev/null -w '%{http_code}' --max-time 1 "$URL/healthz")
check "a connection beyond max_connections waits ($c)" test "$c" != 200
wait "$lpid"
get /healthz
eq "served again once the slow clients are cut" "$CODE" 200
kill -TERM "$SPID"; wait "$SPID" 2>/dev/null

# ---- a batch publish under concurrent queries ----------------------------------
URL=http://127.0.0.1:$(cat "$tmp/main.port")
want=$(expect 'map(select(.customer == "Ali")) | m_customer')
# the hammer runs until the publishes are done, however long they take on a loaded machine
"$BUILD"/tests/integration/serving_hammer "$(cat "$tmp/main.port")" \
    "/v1/views/by_customer/total?customer=Ali" $((60 * SLOW)) 4 "\"metrics\":$want" >"$tmp/hammer.out" &
hpid=$!
sleep 0.3
for _ in 1 2 3; do
    "$BUILD"/lambda-batch -c "$PIPE" --store "$tmp/store" --until "$CUTOFF" --no-progress \
        "$EVENTS" 2>>"$tmp/batch.log" || fail "republish"
    sleep 0.3
done
kill -TERM "$hpid"
wait "$hpid"
cat "$tmp/hammer.out"
read -r reqs mism errs maxms vers <<<"$(head -1 "$tmp/hammer.out" | sed 's/[a-z_]*=//g')"
check "hammer ran ($reqs requests)" [ "${reqs:-0}" -gt 100 ]
eq "same answer before, during and after publishes" "${mism:-x} ${errs:-x}" "0 0"
check "versions moved under load ($vers)" grep -q ',' <<<"${vers:-}"
check "no query blocked by a publish (max ${maxms} ms)" \
    [ "$(jq -n --argjson m "${maxms:-1e9}" --argjson s $SLOW '$m < 500 * $s')" = true ]
VERSION=4
get "/v1/views/totals/total"
eq "after republishing" "$CODE $BODY" "200 {\"view\":\"totals\",\"key\":{},\"from\":null,\"to\":null,\"metrics\":$(expect m_simple),$(layers)}"

# ---- answer cache and gzip -------------------------------------------------------
get "/v1/views/totals/series?step=1h&from=2026-11-20T13:00:00Z"
first=$BODY
get "/v1/views/totals/series?step=1h&from=2026-11-20T13:00:00Z"
eq "a cached series equals the computed one" "$BODY" "$first"
get /metrics
check "cache hits counted" grep -q '^lambda_serving_cache_requests_total{result="hit"} [1-9]' <<<"$BODY"
echo '{"customer":"late","amount":1.5,"ts":"2026-11-20T15:59:00Z"}' |
    "$BUILD"/tests/integration/speedfill -c "$PIPE" --store "$tmp/store" --watermark "$WM" \
    >/dev/null || fail "speedfill one event"
get "/v1/views/totals/series?step=1h&from=2026-11-20T13:00:00Z"
eq "a speed commit invalidates cached answers" "$(jq -c '[.points[].metrics.orders]' <<<"$BODY")" \
    "$(jq -c '[.points[].metrics.orders] | .[-1] += 1' <<<"$first")"
plain=$(curl -s "$URL/v1/views/totals/series?step=10m")
zipped=$(curl -s --compressed "$URL/v1/views/totals/series?step=10m")
eq "gzip answers decode to the same bytes" "$(md5sum <<<"$zipped")" "$(md5sum <<<"$plain")"
check "gzip when accepted" grep -qi '^content-encoding: gzip' \
    <<<"$(curl -s -o /dev/null -D - -H 'Accept-Encoding: gzip' "$URL/v1/views/totals/series?step=10m")"
get "/v1/views/totals/series?step=10m" -H 'Accept-Encoding: gzip;q=0'
check "no gzip with q=0" test "$(grep -ci '^content-encoding' <<<"$HDRS")" = 0

# ---- a view whose definition changed since its rows were written -----------------
get "/v1/views/by_customer/total?customer=Ali"
before="$CODE $(jq -c .metrics <<<"$BODY")"
gran=$(jq -r .views.by_customer.granularity "$PIPE")
jq '.views.by_customer.granularity = "2h" | .views.by_customer.metrics.n2 = "count"' \
    "$PIPE" >"$tmp/changed.json"
PIPE=$tmp/changed.json start changed
get "/v1/views/by_customer/total?customer=Ali"
eq "a changed view answers under the definition its rows were written with" \
    "$CODE $(jq -c .metrics <<<"$BODY")" "$before"
get /v1/views
eq "  ... marked previous, waiting for lambda-batch, with the metrics served" \
    "$(jq -c '.views[] | select(.name == "by_customer") | [.definition, .next, .granularity, (.metrics | has("n2"))]' <<<"$BODY")" \
    "[\"previous\",\"waits for lambda-batch\",\"$gran\",false]"
eq "  ... an unchanged view is current" \
    "$(jq -c '[.views[] | select(.name == "by_country") | .definition]' <<<"$BODY")" '["current"]'
get "/v1/views/by_country/total?country=FR"
eq "  ... and answers" "$CODE" 200

# ---- signals -------------------------------------------------------------------
kill -TERM "${pids[0]}"
wait "${pids[0]}"
eq "SIGTERM exits 0" "$?" 0
check "exit logged" grep -q 'exiting' "$tmp/main.log"
start int
kill -INT "$SPID"
wait "$SPID"
eq "SIGINT exits 0" "$?" 0

for _ in $(seq 50); do kill -0 "${pids[@]}" 2>/dev/null || break; sleep 0.1; done
check "no sanitizer or crash report in any server log" \
    test -z "$(grep -lE 'AddressSanitizer|LeakSanitizer|runtime error|Segmentation' "$tmp"/*.log)"

finish
