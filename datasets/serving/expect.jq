# expect.jq -- expected lambda-serving answers over datasets/serving/events.jsonl, with jq alone
# Used by tests/integration/serving_test.sh:
#   jq -n -R -r -L datasets/serving 'include "expect"; events | ...' datasets/serving/events.jsonl
# Times are epoch seconds; a bucket is the event time floored to the view's
# granularity; a range [from, to) selects buckets by their start. Decimals are
# handled as integer cents and printed exactly, never through floating point.

def epoch:
  capture("^(?<d>[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2})(?<z>Z|(?<s>[+-])(?<h>[0-9]{2}):(?<m>[0-9]{2}))$")
  | (.d + "Z" | fromdateiso8601)
    - (if .z == "Z" then 0 else (if .s == "+" then 1 else -1 end) * ((.h|tonumber)*3600 + (.m|tonumber)*60) end);

def valid:
  type == "object"
  and (.customer | type == "string")
  and (.amount | type == "number" and . >= 0 and (tostring | test("^[0-9]+(\\.[0-9]{1,2})?$")))
  and (.country == null or (.country | type == "string"))
  and (.ts | type == "string" and (try (epoch | true) catch false));

# The valid events of the input lines: {customer, country, c (cents), t}.
def events:
  [inputs | (try fromjson catch null) | select(. != null and valid)
   | {customer, country, c: (.amount * 100 | round), t: (.ts | epoch)}];

def money: "\(. / 100 | floor).\(. % 100 | tostring | if length == 1 then "0" + . else . end)";

# sum / n at 4 decimals, rounded half away from zero (sums are >= 0 here)
def avg4($s; $n):
  ($s * 100) as $x | ($x / $n | floor) as $q | ($x - $q * $n) as $r
  | (if 2 * $r >= $n then $q + 1 else $q end)
  | "\(. / 10000 | floor).\(. % 10000 | tostring | ("000" + .)[-4:])";

def bucketed($g): map(. + {b: (.t / $g | floor * $g)});
def within($from; $to): map(select(.b >= $from and .b < $to));

# Metrics objects, as text, in the views' metric order.
def m_customer:
  if length == 0 then
    "{\"orders\":0,\"revenue\":0.00,\"avg_order\":null,\"max_order\":null,\"min_order\":null}"
  else
    (map(.c) | add) as $s
    | "{\"orders\":\(length),\"revenue\":\($s | money),\"avg_order\":\(avg4($s; length)),\"max_order\":\(map(.c) | max | money),\"min_order\":\(map(.c) | min | money)}"
  end;
def m_simple:
  "{\"orders\":\(length),\"revenue\":\(if length == 0 then "0.00" else map(.c) | add | money end)}";

def t_or_null: if . == null then "null" else "\"\(todate)\"" end;

# Points of a series: t multiple of $step, window [t, t + $w), rows in
# [$from, $to) (numbers; use -1e15 and 1e15 for open ends), points without
# rows left out, source by the window's place against $cutoff.
def points($g; $step; $w; $from; $to; $cutoff; metrics):
  (bucketed($g) | within($from; $to)) as $e
  | (($from / $step | floor) * $step) as $first
  | [$e[].b | . as $b | range(((($b - $w) / $step) | floor) + 1; ($b / $step | floor) + 1) | . * $step]
  | unique | map(select(. >= $first))
  | map(. as $t | ($e | map(select(.b >= $t and .b < $t + $w))) as $in
        | select($in | length > 0)
        | "{\"t\":\"\($t | todate)\",\"source\":\"\(if $t >= $cutoff then "speed" elif $t + $w <= $cutoff then "batch" else "mixed" end)\",\"metrics\":\($in | metrics)}")
  | join(",");

# Rows of top: groups by key (a function of an event), ranked by metric
# (a number from the group's events) descending, ties by key ascending.
def top_rows(key; keyjson; rank; $n; metrics):
  group_by(key) | map({k: (.[0] | key), kj: (.[0] | keyjson), r: rank, m: metrics})
  | sort_by(-.r, .k) | .[:$n]
  | map("{\"key\":\(.kj),\"metrics\":\(.m)}") | join(",");
