#!/usr/bin/env python3
# generate.py -- regenerate datasets/serving/events.jsonl (deterministic; the file is committed)
# Orders from 2026-11-18T00:00Z to 2026-11-20T16:00Z for the lambda-serving tests: customers
# whose names need UTF-8 or URL encoding, an optional country, exact decimals, a few invalid
# lines, and two customers tied on every metric (top orders ties by key).
import json, os, random
from datetime import datetime, timedelta, timezone

rnd = random.Random(20261120)
here = os.path.dirname(os.path.abspath(__file__))
customers = ["Ali", "Al", "Zo\u00eb", "\u6771\u4eac", "a&b=c d/e+f%?#", "Ali Baba", "Sara"]
countries = ["FR", "MA", "DZ", None]
t = datetime(2026, 11, 18, 0, 0, tzinfo=timezone.utc)
end = datetime(2026, 11, 20, 16, 0, tzinfo=timezone.utc)
lines, i = [], 0
while True:
    t += timedelta(seconds=rnd.randint(60, 900))
    if t >= end:
        break
    cents = rnd.randint(1, 30000)
    amount = cents / 100 if cents % 100 else cents // 100
    ev = {"customer": rnd.choice(customers), "amount": amount}
    c = rnd.choice(countries)
    if c is not None:
        ev["country"] = c
    if i % 9 == 4:
        ev["ts"] = t.astimezone(timezone(timedelta(hours=1))).isoformat()
    else:
        ev["ts"] = t.strftime("%Y-%m-%dT%H:%M:%SZ")
    lines.append(json.dumps(ev, ensure_ascii=False))
    i += 1
# tied customers: same orders, revenue, max, min, in different hours
for name, h in (("tie-b", 3), ("tie-a", 5), ("tie-b", 13), ("tie-a", 14)):
    lines.append(json.dumps({"customer": name, "amount": 42.5, "country": "FR",
                             "ts": "2026-11-20T%02d:30:00Z" % h}))
# invalid lines: each is rejected, never counted
lines.insert(10, '{"customer": "Ali", "amount": -1, "ts": "2026-11-18T03:00:00Z"}')
lines.insert(20, '{"amount": 5, "ts": "2026-11-18T04:00:00Z"}')
lines.insert(30, 'not json')
with open(os.path.join(here, "events.jsonl"), "w") as f:
    f.write("\n".join(lines) + "\n")
