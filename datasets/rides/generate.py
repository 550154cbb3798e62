#!/usr/bin/env python3
# generate.py -- regenerate datasets/rides/history/ (deterministic; the files are committed)
# Rides as in the Spark Structured Streaming seed (rideId, userId, city,
# distanceKm, price, ts), 2026-11-20 06:00-12:00 UTC, as apps send them: cities
# in any case ("Paris", "PARIS", "paris", " Lyon"), distances from GPS (3.14159 km)
# and prices from float arithmetic (27.836412000000003), with the anomalies the
# seed filters out (negative price or distance, missing city) and broken lines.
import json, os, random
from datetime import datetime, timedelta, timezone

rnd = random.Random(20261120)
here = os.path.join(os.path.dirname(os.path.abspath(__file__)), "history")
cities = ["Antananarivo", "Toamasina", "Paris", "Lyon", "Marseille"]
weights = [30, 15, 25, 15, 15]
t = datetime(2026, 11, 20, 6, 0, tzinfo=timezone.utc)
lines = []


def spelled(city):
    """the city as one of the apps writes it"""
    k = rnd.random()
    return city if k < 0.7 else city.upper() if k < 0.85 else city.lower() if k < 0.95 \
        else " %s " % city


for i in range(1500):
    t += timedelta(milliseconds=rnd.randint(2000, 26000))
    if rnd.random() < 0.5:
        dist = rnd.randint(800, 3500000) / 100000       # GPS: 0.8 .. 35 km, 5 decimals
    else:
        dist = rnd.randint(8, 350) / 10                 # rounded by the app
    price = 2.5 + dist * rnd.uniform(1.1, 1.9)          # float arithmetic, every digit
    if rnd.random() < 0.5:
        price = round(price, 2)
    ev = {"rideId": 100000 + i, "userId": rnd.randint(1, 400),
          "city": spelled(rnd.choices(cities, weights)[0]), "distanceKm": dist,
          "price": price,
          "ts": t.strftime("%Y-%m-%dT%H:%M:%S.") + "%03dZ" % (t.microsecond // 1000)}
    lines.append(json.dumps(ev))


def bad(ev, at):
    ev = dict({"rideId": 900000 + at, "userId": 7, "city": "Paris",
               "distanceKm": 3.2, "price": 9.5,
               "ts": "2026-11-20T%02d:%02d:00Z" % (6 + at // 300, at % 60)}, **ev)
    lines.insert(at, json.dumps({k: v for k, v in ev.items() if v is not ...}))


bad({"price": -12.0}, 100)                # out_of_range: price < 0
bad({"price": -0.5}, 400)
bad({"distanceKm": -3.0}, 700)            # out_of_range: distance < 0
bad({"distanceKm": -42.1}, 900)
bad({"city": ...}, 1000)                  # missing_field: no city
bad({"city": None}, 1100)                 # missing_field: null city
bad({"price": "20.0"}, 1200)              # wrong_type: price as text
lines.insert(1300, '{"rideId": 123, "userId": 45, "city": "FR", "distanceKm": 12.5,')  # invalid_json
lines.insert(1400, '')                    # a blank line: skipped, not a reject
with open(os.path.join(here, "rides-2026-11-20.jsonl"), "w") as f:
    f.write("\n".join(lines) + "\n")
