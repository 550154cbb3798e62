# expected.jq -- the known totals of datasets/rides/history, computed with jq, independently of lambdakit
# Usage (from the repository root; regenerates expected.json):
#   cat datasets/rides/history/*.jsonl | jq -n -R -f datasets/rides/expected.jq > datasets/rides/expected.json
# Validation follows datasets/rides.json: rideId and userId integers, city a string,
# grouped as upper(trim(city)); distanceKm and price numbers rounded half to even to
# 2 decimals (datasets/decimal.jq), then >= 0; ts RFC 3339 UTC. Blank lines are skipped.
include "decimal" {search: "../"};
def epoch: sub("\\.[0-9]+Z$"; "Z") | fromdateiso8601;
def cents: units(2);
def dec2: type == "number" and cents >= 0;
def int: type == "number" and . == floor;
def valid:
  type == "object" and (.rideId | int) and (.userId | int) and (.city | type == "string")
  and (.distanceKm | dec2) and (.price | dec2)
  and (.ts | type == "string" and test("^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\\.[0-9]+)?Z$"));
def agg: {rides: length, revenue: (map(.price | cents) | add | fixed(2)),
          distance_sum: (map(.distanceKm | cents) | add | fixed(2)),
          avg_distance: (map(.distanceKm | cents) | mean(2; 2))};
def by_city: map(.city |= (ltrimstr(" ") | rtrimstr(" ") | ascii_upcase))
  | group_by(.city) | map({key: .[0].city, value: agg}) | from_entries;

[inputs | select(length > 0) | (try fromjson catch "invalid")] as $all
| [$all[] | select(valid)] as $ok
| ($ok | map(.ts | epoch) | min) as $first
| {
    events: ($ok | length),
    rejects: (($all | length) - ($ok | length)),
    first: ($first | todate),
    last: ($ok | map(.ts | epoch) | max | todate),
    totals: ($ok | agg),
    by_city: ($ok | by_city),
    window_0800: ($ok | map(select(.ts >= "2026-11-20T08:00:00" and .ts < "2026-11-20T08:05:00")) | by_city)
  }
