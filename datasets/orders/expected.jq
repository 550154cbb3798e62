# expected.jq -- the known totals of datasets/orders/history, computed with jq, independently of lambdakit
# Usage (from the repository root; regenerates expected.json):
#   { jq -c '.[]' datasets/orders/history/*.json; cat datasets/orders/history/*.jsonl; } |
#   jq -n -R -f datasets/orders/expected.jq > datasets/orders/expected.json
# Validation follows datasets/orders.json: customer string, amount >= 0 with at most
# 2 decimals, country optional string, ts RFC 3339 (Z or +hh:mm).
def epoch:
  capture("^(?<d>[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2})(?<z>Z|(?<s>[+-])(?<h>[0-9]{2}):(?<m>[0-9]{2}))$")
  | (.d + "Z" | fromdateiso8601)
    - (if .z == "Z" then 0 else (if .s == "+" then 1 else -1 end) * ((.h|tonumber)*3600 + (.m|tonumber)*60) end);
def cents: . * 100 | round;
def money: "\(. / 100 | floor).\(. % 100 | tostring | if length == 1 then "0" + . else . end)";
def valid:
  type == "object"
  and (.customer | type == "string")
  and (.amount | type == "number" and . >= 0 and (tostring | test("^[0-9]+(\\.[0-9]{1,2})?$")))
  and (.country == null or (.country | type == "string"))
  and (.ts | type == "string" and (try (epoch | true) catch false));
def agg: {orders: length, revenue: (map(.amount | cents) | add | money),
          max_order: (map(.amount | cents) | max | money)};

[inputs | (try fromjson catch "invalid")] as $all
| [$all[] | select(valid)] as $ok
| {
    events: ($ok | length),
    rejects: (($all | length) - ($ok | length)),
    first: ($ok | map(.ts | epoch) | min | todate),
    last: ($ok | map(.ts | epoch) | max | todate),
    totals: ($ok | agg | del(.max_order)),
    by_customer: ($ok | group_by(.customer) | map({key: .[0].customer, value: agg}) | from_entries),
    by_country: ($ok | group_by(.country) | map({key: (.[0].country // "null"), value: (agg | del(.max_order))}) | from_entries)
  }
