# expected.jq -- the known totals of datasets/iot/history, computed with jq, independently of lambdakit
# Usage (from the repository root; regenerates expected.json):
#   cat datasets/iot/history/*.jsonl | jq -n -R -f datasets/iot/expected.jq > datasets/iot/expected.json
# Validation follows datasets/iot.json: building and sensor strings, temperature in
# [-40, 85] and humidity in [0, 100] with at most 1 decimal, co2 an integer in
# [0, 20000], ts epoch milliseconds.
def dec1(lo; hi): type == "number" and . >= lo and . <= hi and (tostring | test("^-?[0-9]+(\\.[0-9])?$"));
def int(lo; hi): type == "number" and . == floor and . >= lo and . <= hi;
def tenths: . * 10 | round;
def avg4: (add / length * 10000 | round / 10000);
def valid:
  type == "object" and (.building | type == "string") and (.sensor | type == "string")
  and (.temperature | dec1(-40; 85)) and (.humidity | dec1(0; 100)) and (.co2 | int(0; 20000))
  and (.ts | type == "number");
def agg: {readings: length,
          avg_temperature: (map(.temperature) | avg4), max_temperature: (map(.temperature) | max),
          avg_humidity: (map(.humidity) | avg4), max_humidity: (map(.humidity) | max),
          avg_co2: (map(.co2) | avg4), max_co2: (map(.co2) | max),
          temperature_tenths: (map(.temperature | tenths) | add)};

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
