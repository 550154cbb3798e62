#!/usr/bin/env python3
# generate.py -- regenerate datasets/orders/history/ (deterministic; the files are committed)
# The workshop's {"customer","amount"} orders, plus a time and a country, from
# 2026-11-16 to 2026-11-19, with a few invalid records that batch must reject.
import json, os, random
from datetime import datetime, timedelta, timezone

rnd = random.Random(20261116)
here = os.path.join(os.path.dirname(os.path.abspath(__file__)), "history")
customers = [("Ali", "MA"), ("Sara", "MA"), ("Yanis", "DZ"), ("Ines", "TN"),
             ("Karim", "FR"), ("Lea", "FR"), ("Omar", "SN"), ("Nadia", "BE"),
             ("Hugo", "FR"), ("Zoe", "BE")]
weights = [14, 12, 10, 9, 9, 8, 7, 6, 5, 4]
start = datetime(2026, 11, 16, 8, 0, tzinfo=timezone.utc)


def order(t):
    c, country = rnd.choices(customers, weights)[0]
    cents = rnd.choice([rnd.randint(500, 5000), rnd.randint(5000, 30000)])
    amount = cents / 100 if cents % 100 else cents // 100
    ev = {"customer": c, "amount": amount}
    if rnd.random() < 0.9:      # some orders carry no country (optional field)
        ev["country"] = country
    return ev, t


def ts_text(t, i):
    if i % 7 == 3:              # a few with an offset instead of Z
        return t.astimezone(timezone(timedelta(hours=1))).isoformat()
    return t.strftime("%Y-%m-%dT%H:%M:%SZ")


# days 1-3: one JSON array file, like the workshop's transactions.json
arr, t = [], start
for i in range(900):
    t += timedelta(seconds=rnd.randint(60, 500))
    ev, _ = order(t)
    ev["ts"] = ts_text(t, i)
    arr.append(ev)
# schema-invalid records (valid JSON): each must be rejected with a reason
arr.insert(100, {"customer": "Ali", "amount": -20, "country": "MA",
                 "ts": "2026-11-16T17:00:00Z"})                    # out_of_range
arr.insert(200, {"amount": 35, "country": "FR", "ts": "2026-11-17T01:00:00Z"})  # missing_field
arr.insert(300, {"customer": "Sara", "amount": "120", "country": "MA",
                 "ts": "2026-11-17T09:00:00Z"})                    # wrong_type
arr.insert(400, {"customer": "Lea", "amount": 12.345, "country": "FR",
                 "ts": "2026-11-17T22:00:00Z"})                    # too_many_decimals
arr.insert(500, {"customer": "Omar", "amount": 40, "country": "SN",
                 "ts": "yesterday"})                               # bad_time
with open(os.path.join(here, "transactions.json"), "w") as f:
    f.write("[\n" + ",\n".join(json.dumps(e) for e in arr) + "\n]\n")

# day 4: JSON Lines, as speed's archive writes them, with broken lines
lines, t = [], datetime(2026, 11, 19, 0, 0, tzinfo=timezone.utc)
for i in range(400):
    t += timedelta(seconds=rnd.randint(30, 200))
    ev, _ = order(t)
    ev["ts"] = ts_text(t, i)
    lines.append(json.dumps(ev))
lines.insert(50, '{"customer": "Ali", "amount": 50')                  # invalid_json
lines.insert(150, 'this is not json')                                # invalid_json
lines.insert(250, '["Sara", 120]')                                   # not_object
lines.insert(350, '{"customer": "Hugo", "amount": -5, "ts": "2026-11-19T12:00:00Z"}')  # out_of_range
with open(os.path.join(here, "2026-11-19.jsonl"), "w") as f:
    f.write("\n".join(lines) + "\n")
