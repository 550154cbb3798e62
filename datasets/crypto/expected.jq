# expected.jq -- the known totals of datasets/crypto/history, computed with jq, independently of lambdakit
# Usage (from the repository root; regenerates expected.json):
#   cat datasets/crypto/history/*.jsonl | jq -n -R -f datasets/crypto/expected.jq > datasets/crypto/expected.json
# Validation follows datasets/crypto.json: kind a string; timestamp epoch seconds; pair
# optional string; last, bid, ask, volume_24h optional and >= 0, sentiment.score optional
# in [-1, 1], each once rounded half to even to 6 decimals; cryptocurrencies_mentioned
# absent or an array of strings. Numbers are rounded from their text and summed as
# integers of millionths (datasets/decimal.jq). The views' outputs: the sentiment label,
# and the band avg_price -/+ 2 volatility, exact (serving prints it at 6 decimals).
include "decimal" {search: "../"};
def micro: units(6);
def flt(lo; hi): type == "number" and (micro | . >= lo * 1000000 and . <= hi * 1000000);
def opt(f): . == null or f;
def valid:
  type == "object" and (.kind | type == "string") and (.timestamp | type == "number")
  and (.pair | opt(type == "string"))
  and all(.last, .bid, .ask, .volume_24h; opt(flt(0; infinite)))
  and (.sentiment.score | opt(flt(-1; 1)))
  and (.cryptocurrencies_mentioned | opt(type == "array" and all(.[]; type == "string")));
def ms: .timestamp | units(3);
def articles:   # one row per crypto named, as the sentiment view explodes them
  [.[] | select(.kind == "article") | . as $a | (.cryptocurrencies_mentioned // [])[]
   | {crypto: ., score: ($a.sentiment.score | micro), ms: ($a | ms)}];
def label_of_score: .avg_score | tonumber
  | if . > 0.6 then "positive" elif . < 0.4 then "negative" else "neutral" end;
def sentiment:
  group_by(.crypto) | map({key: .[0].crypto, value: ({
    articles: length, score_sum: (map(.score) | add | fixed(6)),
    avg_score: (map(.score) | mean(6; 2))} | .label = label_of_score)}) | from_entries;
def ticks:
  [.[] | select(.kind == "ticker")
   | {symbol: (.pair | split("/")[0]), last: (.last | micro), ms: ms}];
# the sample standard deviation of millionths as text with 8 decimals, half away from
# zero (null for fewer than two), in doubles: about 1e-13 off the exact root, relatively,
# so the last digit is right unless the root lies that close to a half (python3's Decimal
# agrees on every value of this history)
def stddev: length as $n | if $n < 2 then null else (add / $n) as $m
  | map((. - $m) * (. - $m)) | add / ($n - 1) | sqrt * 100 | round | fixed(8) end;
# the confidence band avg_price -/+ 2 volatility, exact at 8 decimals (serving prints it
# rounded to 6)
def band: (.avg_price | tonumber | units(8)) as $a | (.volatility | tonumber | units(8)) as $v
  | .band_low = ($a - 2 * $v | fixed(8)) | .band_high = ($a + 2 * $v | fixed(8));
def prices:
  {ticks: length, price_sum: (map(.last) | add | fixed(6)),
   avg_price: (map(.last) | mean(6; 2)), volatility: (map(.last) | stddev),
   min_price: (map(.last) | min | fixed(6)), max_price: (map(.last) | max | fixed(6))} | band;

1795179600000 as $t1300        # 2026-11-20T13:00:00Z in ms
| [inputs | select(length > 0) | (try fromjson catch "invalid")] as $all
| [$all[] | select(valid)] as $ok
| {
    events: ($ok | length),
    rejects: (($all | length) - ($ok | length)),
    first: ($ok | map(ms) | min / 1000 | floor | todate),
    last: ($ok | map(ms) | max / 1000 | floor | todate),
    sentiment: ($ok | articles | sentiment),
    prices: ($ok | ticks | group_by(.symbol) | map({key: .[0].symbol, value: prices}) | from_entries),
    # the 3-minute window from 13:00, per crypto
    sentiment_1300: ($ok | articles | map(select(.ms >= $t1300 and .ms < $t1300 + 180000)) | sentiment),
    # BTC over 3 minutes sliding every 30 s: the windows starting 13:00:00 ... 13:02:30
    btc_sliding_1300: ($ok | ticks | map(select(.symbol == "BTC")) as $btc
      | [range(0; 6) | ($t1300 + . * 30000) as $t
         | {t: ($t / 1000 | todate)}
           + ($btc | map(select(.ms >= $t and .ms < $t + 180000)) | prices)])
  }
