# decimal.jq -- exact decimals for the datasets' expected.jq, independently of lambdakit
# (each includes it: include "decimal" {search: "../"};)
# jq holds numbers as doubles and prints one with the shortest digits that read back as
# it: the digits the data file has, for the numbers of the lab's histories. These
# functions round that text, never the double, and keep sums as integers of 10^-s
# (exact below 2^53).

# a number's shortest text without an exponent: 1.2e-05 -> "0.000012"
def plain:
  tostring | ltrimstr("-") as $t | (if startswith("-") then "-" else "" end) as $sign
  | ($t | split("e")) as $me
  | if ($me | length) == 1 then $sign + $t
    else ($me[0] | split(".")) as $ip | ($ip[0] + ($ip[1] // "")) as $d
      | (($ip[0] | length) + ($me[1] | tonumber)) as $at
      | $sign + (if $at <= 0 then "0." + ("0" * (- $at) // "") + $d
                 elif $at >= ($d | length) then $d + ("0" * ($at - ($d | length)) // "")
                 else $d[0:$at] + "." + $d[$at:] end)
    end;

# the number as an integer of 10^-s, rounded half to even from its text (as a float
# field, or a decimal with "round": true, keeps it)
def units($s):
  plain as $t
  | ($t | startswith("-")) as $neg
  | ($t | ltrimstr("-") | split(".")) as $p
  | ($p[1] // "") as $f
  | ($p[0] + ($f + "000000000")[0:$s] | tonumber) as $q
  | $f[$s:] as $rest
  | (if $rest == "" or $rest[0:1] < "5" then 0
     elif $rest[0:1] > "5" or ($rest[1:] | test("[1-9]")) then 1
     else $q % 2 end) as $up
  | ($q + $up) * (if $neg then -1 else 1 end);

# the number has at most s decimals (a plain decimal field's rule)
def decimals($s): plain | test("^-?[0-9]+(\\.[0-9]{0,\($s)})?$");

# an integer of 10^-s as text with s decimals: 12345 | fixed(2) = "123.45"
def fixed($s):
  (if . < 0 then "-" else "" end) as $sign | fabs as $a
  | ($a % pow(10; $s) | tostring) as $f
  | if $s == 0 then "\($sign)\($a)"
    else "\($sign)\($a / pow(10; $s) | floor).\("000000000"[0:$s - ($f | length)])\($f)" end;

# the mean of an array of integers of 10^-s, as text with s + extra decimals, rounded
# half away from zero (as lambdakit prints avg(f): two more decimals than the field)
def mean($s; $extra):
  length as $n | add as $sum
  | (if $sum < 0 then -1 else 1 end) as $sign | ($sum | fabs) as $a | ($a / $n | floor) as $q
  | reduce range($extra) as $i ({q: $q, r: ($a - $q * $n)};
      {q: (.q * 10 + (.r * 10 / $n | floor)), r: (.r * 10 % $n)})
  | (.q + (if .r * 2 >= $n then 1 else 0 end)) * $sign | fixed($s + $extra);
