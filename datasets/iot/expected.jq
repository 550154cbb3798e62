# expected.jq -- the known totals of datasets/iot/history, computed with jq, independently of lambdakit
# Usage (from the repository root; regenerates expected.json):
#   cat datasets/iot/history/*.jsonl | jq -n -R -f datasets/iot/expected.jq > datasets/iot/expected.json
# Validation follows datasets/iot.json: building and sensor strings, temperature and
# humidity numbers rounded half to even to 2 decimals (datasets/decimal.jq), then in
# [-40, 85] and [0, 100]; co2 an integer in [0, 20000], ts epoch milliseconds.
include "decimal" {search: "../"};
def hundredths: units(2);
def float2(lo; hi): type == "number" and (hundredths | . >= lo * 100 and . <= hi * 100);
def int(lo; hi): type == "number" and . == floor and . >= lo and . <= hi;
def valid:
  type == "object" and (.building | type == "string") and (.sensor | type == "string")
  and (.temperature | float2(-40; 85)) and (.humidity | float2(0; 100)) and (.co2 | int(0; 20000))
  and (.ts | type == "number");
def agg: (map(.temperature | hundredths)) as $t | (map(.humidity | hundredths)) as $h
  | {readings: length,
     avg_temperature: ($t | mean(2; 2)), max_temperature: ($t | max | fixed(2)),
     avg_humidity: ($h | mean(2; 2)), max_humidity: ($h | max | fixed(2)),
     avg_co2: (map(.co2) | mean(0; 2)), max_co2: (map(.co2) | max),
     temperature_sum: ($t | add | fixed(2))};

[inputs | select(length > 0) | (try fromjson catch "invalid")] as $all
| [$all[] | select(valid)] as $ok
| {
    events: ($ok | length),
    rejects: (($all | length) - ($ok | length)),
    first: ($ok | map(.ts) | min / 1000 | floor | todate),
    last: ($ok | map(.ts) | max / 1000 | floor | todate),
    by_building: ($ok | group_by(.building) | map({key: .[0].building, value: agg}) | from_entries),
    co2_alerts: ($ok | map(select(.co2 > 1000)) | group_by(.building)
                 | map({key: .[0].building, value: {alerts: length, max_co2: (map(.co2) | max)}}) | from_entries)
  }
