#!/bin/bash
# seed_input_test.sh -- what the seeds' inputs need: float fields, arrays with explode and
# event.derive give byte-identical views in batch and speed (also through speed's archive,
# for events timed by Kafka) and the answers python3's Decimal computes; CSV input for batch
# and lambda-produce; a CSV fed as JSON refused with a hint; batch.default_time; rejects
# naming an array element; bad derive expressions refused with their message and exit 2
. "$(dirname "$0")/speed_lib.sh"

export PYTHONIOENCODING=utf-8
start_broker -t seed:3 -t seednt:2 -t seedcsv:2

# seed_pipeline FILE STORE TOPIC EXTRA: floats, an array, derived fields, explode
seed_pipeline() {
    cat >"$1" <<EOF
{
  "name": "seed",
  "store": "$2",
  "event": {
    "time": "ts",
    "fields": {
      "pair":    "string",
      "city":    {"type": "string", "required": false},
      "last":    "float",
      "score":   {"type": "float", "scale": 4, "required": false},
      "amount":  {"type": "decimal", "scale": 2, "round": true, "required": false},
      "cryptos": {"type": "array", "items": "string"},
      "topic":   {"type": "string", "required": false}
    },
    "derive": {
      "symbol": "split(pair, '/', 0)",
      "city":   "upper(city)",
      "words":  "split(lower(topic), ' ')"
    }
  },
  "views": {
    "by_symbol": {"group_by": ["symbol"], "granularity": "1m",
        "metrics": {"n": "count", "sum_last": "sum(last)", "avg_last": "avg(last)",
                    "min_last": "min(last)", "max_last": "max(last)"}},
    "by_crypto": {"group_by": ["cryptos"], "explode": "cryptos", "granularity": "1m",
        "metrics": {"n": "count", "sum_score": "sum(score)", "avg_score": "avg(score)"}},
    "by_city":   {"group_by": ["city"], "granularity": "1h",
        "metrics": {"n": "count", "sum_amount": "sum(amount)"}},
    "by_word":   {"group_by": ["words"], "explode": "words", "granularity": "1h",
        "where": {"words": {"ne": "the"}}, "metrics": {"n": "count"}},
    "totals":    {"granularity": "1h", "metrics": {"n": "count", "sum_last": "sum(last)"}}
  },
  "speed": {"topic": "$3", "partitions": 3, "lateness": "366d",
            "kafka": {$KAFKA_TEST_PROPS}$4}
}
EOF
}

# The events (JSON Lines, numbers written as the seeds write them), the same as CSV,
# and the answers computed with Decimal, half to even, apart from the C code.
python3 - "$T" <<'PY'
import json, random, sys
from decimal import Decimal, ROUND_HALF_EVEN
from collections import defaultdict

T = sys.argv[1]
SCALE = {"by_symbol": 6, "by_crypto": 4, "by_city": 2}
rnd = random.Random(10)
pairs = ["BTC/USD", "ETH/USD", "SOL/EUR", "ADA/USDT"]
cities = ["z\u00fcrich", "paris", "\u0142\u00f3d\u017a", "\u03b1\u03b8\u03ae\u03bd\u03b1", None]
coins = ["btc", "eth", "sol", "ada"]
topics = ["The BTC rally", "eth and the merge", "sol sol sol", None]

def num_text(intpart, frac_digits):
    """A price as the seeds write it: many digits, ties, exponents."""
    k = rnd.random()
    ip = rnd.randrange(intpart)
    frac = "".join(rnd.choice("0123456789") for _ in range(frac_digits))
    if k < 0.2:   # a tie at the scale: ...5 then zeros
        frac = frac[:6] + "5" + "0" * rnd.randrange(3)
    elif k < 0.3:  # a tie broken far away, beyond a double
        frac = frac[:6] + "5000000000000001"
    text = "%d.%s" % (ip, frac)
    if rnd.random() < 0.15:   # exponent notation of the same value
        d = Decimal(text)
        text = "%se%d" % (str(d.scaleb(-3)), 3)
    return text

def q(text, scale):
    return Decimal(text).quantize(Decimal(1).scaleb(-scale), rounding=ROUND_HALF_EVEN)

lines, rows = [], []
want = {"by_symbol": defaultdict(lambda: [0, Decimal(0)]),
        "by_crypto": defaultdict(lambda: [0, Decimal(0)]),
        "by_city": defaultdict(lambda: [0, Decimal(0)]),
        "by_word": defaultdict(lambda: [0, Decimal(0)])}
accepted = 0
for i in range(3000):
    s = rnd.randrange(86400)
    ts = "2026-11-19T%02d:%02d:%02dZ" % (s // 3600, s // 60 % 60, s % 60)
    pair = rnd.choice(pairs)
    city = rnd.choice(cities)
    last = num_text(60000, 10)
    score = None if rnd.random() < 0.2 else "0.%05d" % rnd.randrange(100000)
    amount = None if rnd.random() < 0.3 else "%d.%03d" % (rnd.randrange(500), rnd.randrange(1000))
    k = rnd.random()
    cryptos = None if k < 0.1 else [] if k < 0.2 else \
        [rnd.choice(coins) for _ in range(rnd.randrange(1, 4))]
    topic = rnd.choice(topics)
    bad = None
    if i % 97 == 5:
        bad = "element"          # a wrong element rejects the whole event
    elif i % 101 == 7:
        bad = "range"            # beyond the int64 at scale 6
        last = "1e30"
    parts = ['"ts":"%s"' % ts, '"pair":"%s"' % pair]
    if city is not None:
        parts.append('"city":%s' % json.dumps(city))
    parts.append('"last":%s' % last)
    if score is not None:
        parts.append('"score":%s' % score)
    if amount is not None:
        parts.append('"amount":%s' % amount)
    if cryptos is not None:
        c = list(cryptos) + ([7] if bad == "element" else [])
        parts.append('"cryptos":%s' % json.dumps(c, separators=(",", ":")))
    elif bad == "element":
        parts.append('"cryptos":[7]')
    if topic is not None:
        parts.append('"topic":"%s"' % topic)
    lines.append("{" + ",".join(parts) + "}")
    csv_cryptos = "" if cryptos is None and bad != "element" else \
        json.dumps((cryptos or []) + ([7] if bad == "element" else []),
                   separators=(",", ":")).replace('"', '""')
    rows.append(",".join([ts, pair, city or "", last, score or "", amount or "",
                          '"%s"' % csv_cryptos if csv_cryptos else "", topic or ""]))
    if bad:
        continue
    accepted += 1
    sym = pair.split("/")[0]
    w = want["by_symbol"][sym]; w[0] += 1; w[1] += q(last, 6)
    for c in cryptos or []:
        w = want["by_crypto"][c]; w[0] += 1
        if score is not None:
            w[1] += q(score, 4)
    w = want["by_city"][city.upper() if city else None]; w[0] += 1
    if amount is not None:
        w[1] += q(amount, 2)
    if topic is not None:
        for word in topic.lower().split(" "):
            if word != "the":
                want["by_word"][word][0] += 1

with open(T + "/seed.jsonl", "w", encoding="utf-8") as f:
    f.write("\n".join(lines) + "\n")
with open(T + "/seed.csv", "w", encoding="utf-8", newline="") as f:
    f.write("ts,pair,city,last,score,amount,cryptos,topic\r\n")
    f.write("\r\n".join(rows) + "\r\n")
with open(T + "/seed.nots.jsonl", "w", encoding="utf-8") as f:
    for l in lines:
        f.write(l.replace(l[1:l.index(",") + 1], "", 1) + "\n")
with open(T + "/want.txt", "w", encoding="utf-8") as f:
    for view in sorted(want):
        for key in sorted(want[view], key=lambda k: (k is None, k or "")):
            n, s = want[view][key]
            f.write("%s %s %d %s\n" % (view, "null" if key is None else key, n,
                                       s.quantize(Decimal(1).scaleb(-SCALE[view]))
                                       if view in SCALE else "-"))
with open(T + "/accepted", "w") as f:
    f.write("%d\n" % accepted)
PY
eq "python3 wrote the events and the answers" "$?" 0

# the answers of a store's batch or speed view, summed over the buckets, as want.txt has them
answers() {
    "$VIEWDUMP" "$1" "$2" "$3" | cut -f1,5 | python3 -c '
import json, sys
from decimal import Decimal
from collections import defaultdict
metric = {"by_symbol": "sum_last", "by_crypto": "sum_score", "by_city": "sum_amount"}
scale = {"by_symbol": 6, "by_crypto": 4, "by_city": 2}
got = defaultdict(lambda: [0, Decimal(0)])
for line in sys.stdin:
    view, doc = line.rstrip("\n").split("\t", 1)
    if view == "totals":
        continue
    d = json.loads(doc, parse_float=Decimal)
    key = list(d["key"].values())[0]
    g = got[(view, key)]
    g[0] += d["metrics"]["n"]
    if view in metric:
        g[1] += d["metrics"][metric[view]]
for (view, key) in sorted(got, key=lambda vk: (vk[0], vk[1] is None, vk[1] or "")):
    n, s = got[(view, key)]
    print("%s %s %d %s" % (view, "null" if key is None else key, n,
        s.quantize(Decimal(1).scaleb(-scale[view])) if view in scale else "-"))
'
}

# ---- batch: the answers Decimal gives ----
seed_pipeline "$T/seed.json" "$T/seed" seed ''
batch_of "$T/seed.json" "$T/seed-batch" "$T/seed.jsonl"
eq "lambda-batch over float, array and derived fields exits 0" "$?" 0
check "  ... counts every valid event" \
    grep -q "events=$(cat "$T/accepted") rejects=$((3000 - $(cat "$T/accepted")))" "$T/seed-batch.batch.out"
answers "$T/seed.json" "$T/seed-batch" batch >"$T/got.txt"
if cmp -s "$T/got.txt" "$T/want.txt"; then
    ok "batch answers are Decimal's, half to even, explode and derive included ($(wc -l <"$T/want.txt") groups)"
else
    fail "batch answers differ from Decimal's:"
    diff "$T/got.txt" "$T/want.txt" | head -n 10
fi
eq "a rejected float names the limit" \
    "$(jq -r 'select(.reason == "out_of_range") | .message' "$T/seed-batch.rejects.jsonl" | sort -u)" \
    'field "last": expected a number from -9223372036854.775807 to 9223372036854.775807, got 1e30'
eq "a wrong element rejects the event, naming it" \
    "$(jq -r 'select(.reason == "wrong_type") | .message' "$T/seed-batch.rejects.jsonl" | sed 's/\[[0-9]*\]/[i]/' | sort -u)" \
    'field "cryptos[i]": expected a string, got 7'

# ---- speed: byte-identical rows ----
"$PRODUCE" -c "$T/seed.json" -b "$BROKERS" "$T/seed.jsonl" >"$T/produce.log" 2>&1
eq "lambda-produce replays the events" "$?" 0
"$SPEED" -c "$T/seed.json" --brokers "$BROKERS" --group seed-1 --once >"$T/speed.log" 2>&1
eq "lambda-speed --once exits 0" "$?" 0
same_views seed "$T/seed.json" "$T/seed" "$T/seed-batch"
eq "speed rejects what batch rejects" \
    "$(jq -r .reason "$T/seed/rejects/speed.jsonl" | sort | uniq -c | tr -s ' ')" \
    "$(jq -r .reason "$T/seed-batch.rejects.jsonl" | sort | uniq -c | tr -s ' ')"

# ---- events without a time: Kafka's timestamp, kept in the archive, read by batch ----
seed_pipeline "$T/nt.json" "$T/nt" seednt ", \"archive\": \"$T/archive\""
"$PRODUCE" -c "$T/nt.json" -b "$BROKERS" "$T/seed.nots.jsonl" >"$T/produce-nt.log" 2>&1
"$SPEED" -c "$T/nt.json" --brokers "$BROKERS" --group seednt-1 --once >"$T/speed-nt.log" 2>&1
eq "lambda-speed --once on events without time exits 0" "$?" 0
check "the archive keeps every number as sent (a tie beyond a double)" \
    sh -c "cat '$T'/archive/seednt/p*/*.jsonl | grep -q '5000000000000001[,}e]'"
check "  ... and adds the time (Kafka's)" \
    sh -c "cat '$T'/archive/seednt/p*/*.jsonl | head -n 1 | jq -e '.ts | test(\"Z$\")' >/dev/null"
batch_of "$T/nt.json" "$T/nt-batch" "$T/archive"
eq "lambda-batch over the archive exits 0" "$?" 0
same_views archive "$T/nt.json" "$T/nt" "$T/nt-batch"

# ---- CSV: the same rows as JSON, in batch and through lambda-produce ----
batch_of "$T/seed.json" "$T/csv-batch" "$T/seed.csv"
eq "lambda-batch reads CSV with a header row" "$?" 0
views "$T/seed.json" "$T/seed-batch" batch >"$T/json.rows"
views "$T/seed.json" "$T/csv-batch" batch >"$T/csv.rows"
check "  ... and publishes the rows the JSON gives" cmp -s "$T/json.rows" "$T/csv.rows"
eq "  ... and rejects the same events" \
    "$(jq -r .reason "$T/csv-batch.rejects.jsonl" | sort | uniq -c | tr -s ' ')" \
    "$(jq -r .reason "$T/seed-batch.rejects.jsonl" | sort | uniq -c | tr -s ' ')"
eq "  ... naming the line of the row (the header is line 1)" \
    "$(jq -r .line "$T/csv-batch.rejects.jsonl" | head -n 1)" \
    "$(( $(jq -r .line "$T/seed-batch.rejects.jsonl" | head -n 1) + 1 ))"
seed_pipeline "$T/csv.json" "$T/csv" seedcsv ''
"$PRODUCE" -c "$T/csv.json" -b "$BROKERS" "$T/seed.csv" >"$T/produce-csv.log" 2>&1
eq "lambda-produce replays CSV" "$?" 0
"$SPEED" -c "$T/csv.json" --brokers "$BROKERS" --group seedcsv-1 --once >"$T/speed-csv.log" 2>&1
same_views csv "$T/csv.json" "$T/csv" "$T/csv-batch"
"$PRODUCE" -b "$BROKERS" -t seedcsv "$T/seed.csv" >"$T/produce-csv2.log" 2>&1
eq "lambda-produce: CSV without a pipeline is refused" "$?" 1
check "  ... saying why" grep -q "CSV needs the pipeline (-c) for its field types" "$T/produce-csv2.log"

cat >"$T/quotes.csv" <<'EOF'
ts,pair,last,cryptos,topic
2026-11-19T01:00:00Z,"BTC/USD", 1.5 ,"[""btc"",""eth""]","say ""hi"",
then go"
2026-11-19T01:00:01Z,BTC/USD,2,,"unclosed
EOF
batch_of "$T/seed.json" "$T/quotes-batch" "$T/quotes.csv"
eq "CSV quoting: a quoted field holds commas, quotes and a line end" \
    "$("$VIEWDUMP" "$T/seed.json" "$T/quotes-batch" batch by_word | cut -f5 | jq -c '.key.words' | tr '\n' ' ')" \
    '"\"hi\",\nthen" "go" "say" '
eq "  ... an unclosed quote rejects its row as invalid_csv" \
    "$(jq -r '"\(.line) \(.reason) \(.message)"' "$T/quotes-batch.rejects.jsonl")" \
    '4 invalid_csv a quoted field is not closed'

cp "$T/seed.csv" "$T/seed-csv.jsonl"
batch_of "$T/seed.json" "$T/refused" "$T/seed-csv.jsonl"
eq "CSV fed as JSON: refused (exit 1), not rejected line by line" "$?" 1
check "  ... with a hint" \
    grep -q 'input .*/seed-csv.jsonl: its first line is CSV, not JSON ("ts,pair,city,last,score,amount,cryptos,topic"): name the file \*.csv' \
    "$T/refused.batch.out"
check "  ... and no rejects file" [ ! -s "$T/refused.rejects.jsonl" ]
"$PRODUCE" -c "$T/csv.json" -b "$BROKERS" "$T/seed-csv.jsonl" >"$T/produce-refused.log" 2>&1
eq "lambda-produce refuses it too" "$?" 1

# ---- events without a time in batch: batch.default_time ----
cat >"$T/tx.json" <<EOF
{"name": "tx", "store": "$T/tx",
 "event": {"time": "ts", "fields": {"customer": "string", "amount": "float",
                                    "note": {"type": "int", "required": false}}},
 "views": {"by_customer": {"group_by": ["customer"], "granularity": "1d",
                           "metrics": {"n": "count", "total": "sum(amount)"}}}}
EOF
printf '{"customer":"Ali","amount":50}\n{"customer":"Sara","amount":20.125}\n' >"$T/transactions.json"
touch -d 2026-11-19T10:00:00Z "$T/transactions.json"
# (no --until: with no valid event any cutoff is past the inputs, refused)
"$BATCH" -c "$T/tx.json" --no-progress --dry-run \
    "$T/transactions.json" >"$T/tx-none.out" 2>&1
check "without batch.default_time, events without time are bad_time" \
    grep -q "events=0 rejects=2 (bad_time=2)" "$T/tx-none.out"
"$BATCH" -c "$T/tx.json" --no-progress --default-time mtime --until 2026-11-20T00:00:00Z \
    "$T/transactions.json" >"$T/tx-mtime.out" 2>&1
eq "--default-time mtime: they take their file's time" \
    "$("$VIEWDUMP" "$T/tx.json" "$T/tx" batch | cut -f3,5 |
       sed -E 's/\t.*"customer":"([^"]*)".*"total":([-0-9.]+).*/ \1 \2/' | tr '\n' ' ')" \
    "2026-11-19T00:00:00Z Ali 50.000000 2026-11-19T00:00:00Z Sara 20.125000 "
jq '.batch = {"default_time": "2026-11-18T12:00:00Z"}' "$T/tx.json" >"$T/tx2.json"
"$BATCH" -c "$T/tx2.json" --no-progress --dry-run --until 2026-11-19T00:00:00Z \
    "$T/transactions.json" >"$T/tx-fixed.out" 2>&1
check "batch.default_time TIME: they take that time" \
    grep -q "events=2 rejects=0 .*cutoff=2026-11-19T00:00:00Z" "$T/tx-fixed.out"
"$BATCH" -c "$T/tx.json" --default-time soon --check-config >"$T/tx-bad.out" 2>&1
eq "--default-time takes mtime, none or a time (exit 2)" "$?" 2

# an optional field no view uses is still checked: a wrong value rejects the event
printf '{"customer":"Ali","amount":1,"ts":"2026-11-19T01:00:00Z","note":"x"}\n' >"$T/note.jsonl"
"$BATCH" -c "$T/tx.json" --no-progress --dry-run --rejects "$T/note.rejects" \
    --until 2026-11-20T00:00:00Z "$T/note.jsonl" >"$T/note.out" 2>&1
eq "an unused optional field of the wrong type rejects the event" \
    "$(jq -r '"\(.reason) \(.message)"' "$T/note.rejects")" \
    'wrong_type field "note": expected an integer, got "x"'

# ---- a one-line JSON array: rejects name the element ----
printf '[{"customer":"a","amount":1,"ts":"2026-11-19T01:00:00Z"},{"customer":"b"},{"amount":2}]' \
    >"$T/arr.json"
"$BATCH" -c "$T/tx.json" --no-progress --dry-run --rejects "$T/arr.rejects" \
    --until 2026-11-20T00:00:00Z "$T/arr.json" >"$T/arr.out" 2>&1
eq "rejects from a one-line array name the element index" \
    "$(jq -r '"\(.line)/\(.element)"' "$T/arr.rejects" | tr '\n' ' ')" "1/1 1/2 "

# ---- bad derive expressions: the message and exit 2 ----
derive_case() {   # DERIVE WANT
    jq --argjson d "$1" '.event.derive = $d' "$T/seed.json" >"$T/rides.json"
    out=$(cd "$T" && "$BATCH" -c rides.json --check-config 2>&1)
    rc=$?
    eq "derive $1: exit 2" "$rc" 2
    eq "  ... $2" "$out" "lambda-batch: rides.json: $2"
}
derive_case '{"city": "uper(city)"}' 'event.derive.city: unknown function "uper"'
derive_case '{"x": "upper(cty)"}' 'event.derive.x: unknown field "cty"'
derive_case '{"x": "split(pair, \"/\")[0"}' 'event.derive.x: expected "]", got the end at column 19'
derive_case '{"x": "substr(pair, 0, 1)"}' 'event.derive.x: argument 2 of substr: characters count from 1 (or from -1, the last)'
derive_case '{"x": "upper(last)"}' 'event.derive.x: argument 1 of upper: expected a string, got a float'
derive_case '{"last": "pair"}' 'event.derive.last: gives a string, but the field is declared as a float'
derive_case '{"x": "last * 2"}' 'event.derive.x: operators (* at column 6) are not allowed in event.derive'
derive_case '{"x": {"expr": "trim(pair)", "required": 1}}' 'event.derive.x.required: expected true or false'
jq '.views.by_word.group_by = ["cryptos"]' "$T/seed.json" >"$T/rides.json"
out=$(cd "$T" && "$BATCH" -c rides.json --check-config 2>&1)
eq "group_by an array another view explodes: exit 2" "$?" 2
eq "  ... and why" "$out" 'lambda-batch: rides.json: views.by_word.group_by[0]: field "cryptos" is an array: group by it in a view that explodes it ("explode": "cryptos")'

finish
