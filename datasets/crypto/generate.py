#!/usr/bin/env python3
# generate.py -- regenerate datasets/crypto/history/ (deterministic; the files are committed)
# The two streams of the crypto seed (CRYPTO VIZ) on one topic, told apart by
# "kind": news articles with a sentiment score and the cryptocurrencies they
# mention, and exchange tickers (pair, last, bid, ask, volume_24h), from
# 2026-11-20 12:00 to 14:00 UTC, times in epoch seconds with fractions. Numbers
# are written as an exchange and a scoring model write them (8 decimals,
# scores like 0.734523 or -0.2), with the invalid records the seed must survive.
import json, os, random

rnd = random.Random(2026112012)
here = os.path.join(os.path.dirname(os.path.abspath(__file__)), "history")
start = 1795176000                     # 2026-11-20T12:00:00Z in seconds
end = start + 2 * 3600

# pair: (first price in 1e-8 units, ticks every MIN..MAX seconds)
pairs = {"BTC/USD": (9125043000000, 6, 18), "ETH/USD": (312877000000, 6, 18),
         "SOL/USD": (14213500000, 8, 24), "ADA/USD": (45120000, 10, 30),
         "XRP/USD": (219870000, 10, 30)}
# the mood of the news about each coin, around which it drifts
base = {"BTC": 0.86, "ETH": 0.55, "SOL": 0.7, "ADA": 0.2, "XRP": 0.4, "DOGE": 0.5}
mood = dict(base)
sites = ["coindesk.com", "cointelegraph.com", "decrypt.co", "theblock.co", "bitcoinist.com"]
words = {"BTC": "Bitcoin", "ETH": "Ether", "SOL": "Solana", "ADA": "Cardano",
         "XRP": "XRP", "DOGE": "Dogecoin"}


def fixed(units, decimals):
    """units of 10^-decimals as text, e.g. fixed(4312312345678, 8) = 43123.12345678"""
    sign = "-" if units < 0 else ""
    units = abs(units)
    return "%s%d.%0*d" % (sign, units // 10 ** decimals, decimals, units % 10 ** decimals)


def seconds(ms):
    """epoch milliseconds as epoch seconds, the fraction without trailing zeros"""
    text = "%d.%03d" % (ms // 1000, ms % 1000)
    return text.rstrip("0").rstrip(".")


def line(ms, fields):
    """a JSON object whose numbers are written as given (texts in raw())"""
    parts = []
    for k, v in fields + [("timestamp", raw(seconds(ms)))]:
        parts.append("%s: %s" % (json.dumps(k), v.text if isinstance(v, raw) else json.dumps(v)))
    return "{" + ", ".join(parts) + "}"


class raw:
    def __init__(self, text):
        self.text = text


events = []                            # (ms, order, line)
for pair, (price, lo, hi) in pairs.items():
    first = price
    t = start * 1000 + rnd.randint(0, hi * 1000)
    while t < end * 1000:
        # a random walk that stays within 4 % of the first price
        price += int(price * rnd.gauss(0, 0.0006)) + int((first - price) * 0.01)
        half = int(price * rnd.uniform(0.00003, 0.00015))
        vol = rnd.randint(10 ** 7, 10 ** 10) if pair != "BTC/USD" else rnd.randint(10 ** 6, 10 ** 8)
        pct = rnd.randint(-80000, 80000)
        fields = [("kind", "ticker"), ("pair", pair), ("last", raw(fixed(price, 8))),
                  ("bid", raw(fixed(price - half, 8))), ("ask", raw(fixed(price + half, 8))),
                  ("volume_24h", raw(fixed(vol, 4))), ("pct_change", raw(fixed(pct, 4)))]
        events.append((t, len(events), line(t, fields)))
        t += rnd.randint(lo * 1000, hi * 1000)
        if rnd.random() < 0.3:         # some exchanges stamp whole seconds
            t -= t % 1000
        elif rnd.random() < 0.3:       # and some hundredths
            t -= t % 10

t = start * 1000
n = 0
while True:
    t += rnd.randint(4000, 36000)
    if t >= end * 1000:
        break
    n += 1
    k = rnd.random()
    if k < 0.04:
        coins = []                     # an article about no coin: counts nowhere
    elif k < 0.08:
        coins = None                   # no list at all: counts nowhere either
    else:
        coins = rnd.sample(list(mood), rnd.choice([1, 1, 1, 2, 2, 3]))
        if rnd.random() < 0.05:
            coins.append(coins[0])     # named twice: counts twice, as Spark's explode
    for c in mood:
        mood[c] += (base[c] - mood[c]) * 0.05 + rnd.gauss(0, 0.03)
    # the score follows the coin the article is mostly about, the first one
    score = min(max((mood[coins[0]] if coins else 0.5) + rnd.gauss(0, 0.15), -1.0), 1.0)
    k = rnd.random()
    if k < 0.1:
        score_text = "%.1f" % score                    # -0.2, 0.5
    elif k < 0.2:
        score_text = "%.8f" % score                    # more digits than kept
    else:
        score_text = "%.6f" % score                    # 0.734523
    label = "positive" if score > 0.6 else "negative" if score < 0.4 else "neutral"
    site = rnd.choice(sites)
    about = " and ".join(words[c] for c in dict.fromkeys(coins)) if coins else "the market"
    fields = [("kind", "article"), ("id", "art-%05d" % n),
              ("title", "%s: %s" % (about, rnd.choice(["rally continues", "traders wait",
                                                        "ETF flows", "sell-off deepens",
                                                        "new highs?", "regulators weigh in"]))),
              ("url", "https://%s/news/%05d" % (site, n)), ("website", site)]
    if coins is not None:
        fields.append(("cryptocurrencies_mentioned", coins))
    fields.append(("sentiment", raw('{"score": %s, "label": "%s"}' % (score_text, label))))
    events.append((t, len(events), line(t, fields)))

events.sort()
lines = [e[2] for e in events]
bad = [
    (300, '{"kind": "ticker", "pair": "BTC/USD", "last": "91250.1", "bid": 91249.9, '
          '"ask": 91250.3, "volume_24h": 1543.2, "timestamp": 1795176600.5}'),   # wrong_type
    (900, '{"kind": "ticker", "pair": "ETH/USD", "last": -3128.77, "bid": 3128.7, '
          '"ask": 3128.8, "volume_24h": 98121.5, "timestamp": 1795177800}'),     # out_of_range
    (1500, '{"kind": "article", "id": "art-x1", "cryptocurrencies_mentioned": ["BTC", 7], '
           '"sentiment": {"score": 0.5, "label": "neutral"}, "timestamp": 1795179000.75}'),  # wrong_type element
    (2100, '{"kind": "article", "id": "art-x2", "cryptocurrencies_mentioned": ["SOL"], '
           '"sentiment": {"score": 1.7, "label": "positive"}, "timestamp": 1795180200}'),   # out_of_range
    (2500, '{"pair": "XRP/USD", "last": 2.1987, "timestamp": 1795181000}'),               # missing_field kind
    (2700, '{"kind": "article", "id": "art-x3", "cryptocurrencies_mentioned": "ETH", '
           '"sentiment": {"score": 0.2, "label": "negative"}, "timestamp": 1795181400.5}'),  # wrong_type: not an array
]
for at, text in bad:
    lines.insert(at, text)
lines.insert(2900, '{"kind": "ticker", "pair": "SOL/USD", "last": 142.1')             # invalid_json
with open(os.path.join(here, "crypto-2026-11-20.jsonl"), "w") as f:
    f.write("\n".join(lines) + "\n")
