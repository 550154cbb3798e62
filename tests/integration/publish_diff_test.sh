#!/bin/bash
# publish_diff_test.sh -- the publish log end to end: a history of publishes, then a late event, a
# new bucket and an input file taken away; /v1/publishes/VERSION names exactly the buckets that
# changed, with metrics before and after as python3 computes them from the raw events; --dry-run
# prints the same counts and publishes nothing; --pull records the same diff; the log keeps the
# last 20 publishes; unknown versions answer 404.
#
# Event times are relative to today (ten days ago and after), so the test passes on any date.
set -u
top=${LAMBDA_TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
cd "$top" || exit 1
BUILD=${BUILD:-build}
LB="$BUILD/lambda-batch"
unset LAMBDA_CONFIG LAMBDA_STORE LAMBDA_LOG_LEVEL LAMBDA_UNTIL LAMBDA_FROM LAMBDA_DRY_RUN
export TZ=UTC LC_ALL=C
. tests/integration/harness.sh  # check, eq, ok, fail, finish
T=$(mktemp -d "${TMPDIR:-/tmp}/publish_diff_test.XXXXXX") || exit 1
pids=()
cleanup() {
    for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
    wait 2>/dev/null
    rm -rf "$T"
}
trap cleanup EXIT

KEEP=20                         # PUBLOG_KEEP (shared/publog.h)
D0=$(( ($(date +%s) / 86400 - 10) * 86400 ))
day() { date -u -d "@$((D0 + $1 * 86400))" +%Y-%m-%d; }   # day N -> YYYY-MM-DD
A=$(day 0) B=$(day 1) C=$(day 2)

pipeline() {    # NAME STORE [REPOSITORY]
    local repo=""
    [ -n "${3:-}" ] && repo=", \"repository\": \"$3\""
    cat >"$T/$1.json" <<EOF
{"name": "diffs", "store": "$2",
 "event": {"time": "ts", "fields": {"country": "string",
                                    "amount": {"type": "decimal", "scale": 2}}},
 "views": {
   "by_country": {"group_by": ["country"], "granularity": "1h",
                  "metrics": {"orders": "count", "revenue": "sum(amount)"}},
   "totals":     {"group_by": [], "granularity": "1d",
                  "metrics": {"orders": "count", "revenue": "sum(amount)"}}},
 "batch": {"inputs": ["$T/in"]$repo}}
EOF
}
pipeline main "$T/store" "$T/repo"
pipeline replica "$T/replica"

ev() { printf '{"country":"%s","amount":%s,"ts":"%sT%sZ"}\n' "$1" "$2" "$3" "$4"; }
mkdir -p "$T/in"
{ ev FR 10.00 "$A" 01:10:00; ev FR 5.50 "$A" 01:20:00; ev DE 7.25 "$A" 02:05:00
  ev FR 1.00 "$A" 03:00:00; } >"$T/in/a.jsonl"
{ ev ZZ 3.00 "$A" 05:30:00; ev ZZ 4.00 "$A" 05:40:00; ev DE 0.75 "$A" 02:50:00; } >"$T/in/b.jsonl"
{ ev ES 2.00 "$A" 04:10:00; ev ES 1.10 "$B" 01:00:00; } >"$T/in/c.jsonl"
cp -r "$T/in" "$T/in.v1"

# start NAME: lambda-serving of pipeline NAME on an ephemeral port; sets URL
start() {
    rm -f "$T/$1.port"
    "$BUILD"/lambda-serving -c "$T/$1.json" --listen 127.0.0.1:0 \
        --port-file "$T/$1.port" 2>"$T/$1.serving.log" &
    pids+=($!)
    for _ in $(seq 200); do [ -s "$T/$1.port" ] && break; sleep 0.05; done
    URL=http://127.0.0.1:$(cat "$T/$1.port" 2>/dev/null)
}
# get PATH: sets CODE and BODY
get() {
    local out
    out=$(curl -s -g --max-time 10 -w '\n%{http_code}' "$URL$1")
    CODE=${out##*$'\n'}
    BODY=${out%$'\n'*}
}
batch() { "$LB" -c "$T/main.json" --no-progress "$@" 2>>"$T/batch.log"; }
pull() { "$LB" -c "$T/replica.json" --no-progress --pull "$T/repo" 2>>"$T/pull.log"; }
version() { get /v1/publishes; jq -r '.publishes[0].version' <<<"$BODY"; }

# ---- a history: the first publish, then the same inputs again ----------
batch || fail "first publish"
pull || fail "first pull"
start main
get /v1/publishes
eq "the first publish is listed" "$CODE $(jq -c '[.publishes[] | [.version, .changed,
    .events, .rejects]]' <<<"$BODY")" '200 [[1,6,8,0]]'
eq "list entries carry the fixed fields" \
    "$(jq -c '.publishes[0] | keys' <<<"$BODY")" \
    '["changed","cutoff","events","published_at","rejects","version"]'
eq "cutoff of version 1" "$(jq -r '.publishes[0].cutoff' <<<"$BODY")" "${B}T00:00:00Z"
batch || fail "second publish"
get /v1/publishes/2
eq "same inputs again: nothing changed" \
    "$(jq -c '[.changed, .previous, (.views[] | .view, .counts.added, .counts.changed,
        .counts.removed, (.added + .changed + .removed | length))]' <<<"$BODY")" \
    '[0,1,"by_country",0,0,0,0,"totals",0,0,0,0]'

# ---- a late event, a new bucket, an input file gone, a new day ----------
ev FR 2.25 "$A" 01:45:00 >>"$T/in/a.jsonl"       # changes FR at 01:00
ev DE 9.99 "$A" 06:15:00 >>"$T/in/a.jsonl"       # adds DE at 06:00 (late)
rm "$T/in/b.jsonl"                               # ZZ at 05:00 goes, DE at 02:00 changes
{ ev ES 4.40 "$B" 08:00:00; ev ES 1.00 "$C" 00:30:00; } >>"$T/in/c.jsonl"   # day B: new data

# The expected diff, from the raw events: buckets of both views, old and new.
python3 - "$T/in.v1" "$T/in" "$D0" >"$T/want.json" <<'EOF'
import json, os, sys
from decimal import Decimal
old_dir, new_dir, d0 = sys.argv[1], sys.argv[2], int(sys.argv[3])
def ms(ts):
    import datetime
    return int(datetime.datetime.strptime(ts, "%Y-%m-%dT%H:%M:%SZ").replace(
        tzinfo=datetime.timezone.utc).timestamp()) * 1000
def iso(t):
    import datetime
    return datetime.datetime.fromtimestamp(t // 1000, datetime.timezone.utc).strftime(
        "%Y-%m-%dT%H:%M:%SZ")
def events(d):
    for f in sorted(os.listdir(d)):
        for line in open(os.path.join(d, f)):
            yield json.loads(line, parse_float=Decimal)
def views(d):
    evs = list(events(d))
    cutoff = max(ms(e["ts"]) for e in evs) // 86400000 * 86400000
    out = {"by_country": {}, "totals": {}}
    for e in evs:
        t = ms(e["ts"])
        if t >= cutoff:
            continue
        for view, key, g in (("by_country", json.dumps({"country": e["country"]}), 3600000),
                             ("totals", "{}", 86400000)):
            b = (key, t // g * g)
            m = out[view].setdefault(b, [0, Decimal(0)])
            m[0] += 1
            m[1] += Decimal(e["amount"])
    return out, cutoff
(old, old_cut), (new, new_cut) = views(old_dir), views(new_dir)
met = lambda m: {"orders": m[0], "revenue": str(m[1])}
want = {"cutoff": iso(new_cut), "views": {}}
for view in ("by_country", "totals"):
    o, n = old[view], new[view]
    ent = lambda b, **kw: dict(key=json.loads(b[0]), t=iso(b[1]), **kw)
    added = [ent(b, after=met(n[b]), why="new data" if b[1] >= old_cut else "late data")
             for b in sorted(n) if b not in o]
    changed = [ent(b, before=met(o[b]), after=met(n[b]), why="late data")
               for b in sorted(n) if b in o and o[b] != n[b]]
    removed = [ent(b, before=met(o[b]), why="removed from inputs" if b[1] < new_cut
               else "cutoff moved back") for b in sorted(o) if b not in n]
    want["views"][view] = {"added": added, "changed": changed, "removed": removed}
print(json.dumps(want, sort_keys=True))
EOF
# same ANSWER: "same" when the answer's views hold exactly want.json's buckets (decimals
# compared exactly), else what differs
same() {
    python3 - "$T/want.json" "$1" <<'PYEOF'
import json, sys
from decimal import Decimal
want = json.load(open(sys.argv[1]))
got = json.loads(open(sys.argv[2]).read(), parse_float=Decimal)
def canon(e):
    m = lambda x: None if x is None else tuple(sorted((k, Decimal(str(v))) for k, v in x.items()))
    return (json.dumps(e["key"], sort_keys=True), e["t"], m(e.get("before")),
            m(e.get("after")), e["why"])
def views(doc):
    return {v: {k: sorted(map(canon, doc_v[k])) for k in ("added", "changed", "removed")}
            for v, doc_v in doc.items()}
g = views({v["view"]: v for v in got["views"]})
w = views(want["views"])
print("same" if g == w and got["cutoff"] == want["cutoff"] else
      "got %s cutoff %s\nwant %s cutoff %s" % (g, got["cutoff"], w, want["cutoff"]))
PYEOF
}
eq "the oracle sees all three kinds" \
    "$(jq -c '[.views[] | [.added, .changed, .removed] | map(length)]' "$T/want.json")" \
    '[[3,2,1],[1,1,0]]'
total=$(jq '[.views[] | .added, .changed, .removed | length] | add' "$T/want.json")

# --dry-run: the same counts, and nothing published
"$LB" -c "$T/main.json" --no-progress --dry-run >"$T/dry.out" 2>"$T/dry.log"
eq "--dry-run exits 0" "$?" 0
eq "--dry-run prints per view what the publish would change" \
    "$(grep -E '^(by_country|totals): ' "$T/dry.out" | sed 's/ (.*//')" \
    "$(jq -r '.views | to_entries[] | "\(.key): added \(.value.added | length), changed \(
        .value.changed | length), removed \(.value.removed | length) buckets"' "$T/want.json")"
check "--dry-run shows a changed bucket before and after" grep -qF \
    "  changed {\"country\":\"FR\"} ${A}T01:00:00Z: {\"orders\":2,\"revenue\":15.50} -> {\"orders\":3,\"revenue\":17.75} (late data)" "$T/dry.out"
check "--dry-run keeps its summary" grep -q "dry run, nothing published: events=9 " "$T/dry.log"
eq "--dry-run publishes nothing" "$(version)" 2

batch || fail "third publish"
get /v1/publishes/3
printf '%s' "$BODY" >"$T/v3.json"
eq "version 3 names exactly the buckets that changed, before and after" \
    "$(same "$T/v3.json")" same
eq "version 3: counts and reasons" "$(jq -cS '[.previous, .from, .rejects, .changed,
    (.views[] | .counts, .why)]' <<<"$BODY")" \
    "[2,null,0,$total,$(jq -c '[.views[] | ({added: .added | length, changed: .changed |
        length, removed: .removed | length}, ([.added, .changed, .removed | .[].why] |
        group_by(.) | map({(.[0]): length}) | add))] | .[]' "$T/want.json" | paste -sd,)]"
get /v1/publishes
eq "the list, newest first, with the total of buckets changed" \
    "$(jq -c '[.publishes[] | [.version, .changed]]' <<<"$BODY")" "[[3,$total],[2,0],[1,6]]"

# --pull imports through the same writer: the replica pulled version 1, now 3, so its
# log says what version 3 changed against 1, which is what main's says against 2
pull || fail "second pull"
main_url=$URL
start replica
get /v1/publishes/3
printf '%s' "$BODY" >"$T/r3.json"
eq "--pull records the diff against the replica's version" \
    "$(jq -c '[.previous, .rejects, .changed]' <<<"$BODY") $(same "$T/r3.json")" \
    "[1,null,$total] same"
URL=$main_url

# --from: a backfill of the same inputs changes nothing and says from when
batch --from "${B}T00:00:00Z" || fail "--from publish"
get /v1/publishes/4
eq "--from: recorded, nothing changed" "$(jq -c '[.from, .changed]' <<<"$BODY")" \
    "[\"${B}T00:00:00Z\",0]"

# ---- the log keeps the last 20 ------------------------------------------
for _ in $(seq $((KEEP - 2))); do batch || fail "publish"; done
get /v1/publishes
eq "the log keeps the last $KEEP publishes" \
    "$(jq -c '[.publishes | length, .[0].version, .[-1].version]' <<<"$BODY")" \
    "[$KEEP,$((KEEP + 2)),3]"
get /v1/publishes/2
eq "a pruned version: 404" "$CODE $(jq -c '.error.code' <<<"$BODY")" "404 404"
get /v1/publishes/3
eq "the oldest kept one still answers" "$CODE $(jq -c '.changed' <<<"$BODY")" "200 $total"
get /v1/publishes/999
eq "an unknown version: 404 with the JSON error" \
    "$CODE $(jq -r '.error.message' <<<"$BODY")" \
    "404 no publish 999 in the log (it keeps the last $KEEP: GET /v1/publishes lists them)"
get /v1/publishes/abc
eq "a version that is no number: 400" "$CODE $(jq -c '.error.code' <<<"$BODY")" "400 400"
get "/v1/publishes?limit=3"
eq "an unknown parameter: 400" "$CODE" 400

finish
