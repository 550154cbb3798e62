#!/usr/bin/env python3
# generate.py -- regenerate datasets/iot/history/ (deterministic; the files are committed)
# SmartTech building sensors as in the IoT seed: 3 buildings x 4 sensors, one
# reading every 30 s from 2026-11-20 08:00 to 10:00 UTC, time as epoch
# milliseconds, readings with the digits the sensors send (21.337829 degrees C,
# 43.2 %), with out-of-range, mistyped and broken readings.
import json, os, random

rnd = random.Random(2026112008)
here = os.path.join(os.path.dirname(os.path.abspath(__file__)), "history")
buildings = {"HQ": (21.0, 40.0, 600), "Lab": (19.5, 35.0, 800),
             "Warehouse": (14.0, 55.0, 450)}
start = 1795161600000                  # 2026-11-20T08:00:00Z in ms
state = {}
lines = []
for step in range(240):
    for b, (temp, hum, co2) in buildings.items():
        for s in range(1, 5):
            sid = "%s-%d" % (b, s)
            t0, h0, c0 = state.get(sid, (temp + rnd.uniform(-1, 1), hum, co2))
            t0 = min(max(t0 + rnd.uniform(-0.3, 0.3), temp - 4), temp + 4)
            h0 = min(max(h0 + rnd.uniform(-1, 1), 20), 80)
            c0 = int(min(max(c0 + rnd.randint(-40, 45), 380), 1800))
            state[sid] = (t0, h0, c0)
            ts = start + step * 30000 + rnd.randint(0, 2999)
            # the HQ's sensors send six decimals, the others one or two
            digits = 6 if b == "HQ" else 1 + s % 2
            lines.append(json.dumps({"building": b, "sensor": sid,
                                     "temperature": round(t0, digits),
                                     "humidity": round(h0, digits), "co2": c0,
                                     "ts": ts}))
bad = [
    (300, {"building": "HQ", "sensor": "HQ-2", "temperature": 21.4, "humidity": 120.0,
           "co2": 610, "ts": start + 300000}),                   # out_of_range humidity
    (900, {"building": "Lab", "temperature": 19.1, "humidity": 33.2,
           "co2": 790, "ts": start + 1800000}),                  # missing_field sensor
    (1500, {"building": "Lab", "sensor": "Lab-3", "temperature": "19.8",
            "humidity": 34.0, "co2": 805, "ts": start + 3600000}),  # wrong_type
    (2100, {"building": "Warehouse", "sensor": "Warehouse-1", "temperature": 13.2,
            "humidity": 51.0, "co2": -1, "ts": start + 5400000}),   # out_of_range co2
    (2500, {"building": "HQ", "sensor": "HQ-4", "temperature": 185.337829,
            "humidity": 41.0, "co2": 640, "ts": start + 6000000}),  # out_of_range temperature
]
for at, ev in bad:
    lines.insert(at, json.dumps(ev))
lines.insert(2700, '{"building":"HQ","sensor":"HQ-1","temperature":21.0,"humidity":40')  # invalid_json
with open(os.path.join(here, "sensors-2026-11-20.jsonl"), "w") as f:
    f.write("\n".join(lines) + "\n")
