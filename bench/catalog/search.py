#!/usr/bin/env python3
"""Catalog search latency through Nexus's HTTP API: typical counter queries, sequential, one
keep-alive connection, p50/p99 per kind. Standard library only.

usage: search.py BASE_URL TOKEN [ROUNDS]
"""
import http.client
import json
import random
import statistics
import sys
import time
import urllib.parse

base, token = sys.argv[1], sys.argv[2]
rounds = int(sys.argv[3]) if len(sys.argv) > 3 else 200
u = urllib.parse.urlparse(base)
conn = http.client.HTTPConnection(u.hostname, u.port)
headers = {"Authorization": f"Bearer {token}"}


def get(path):
    conn.request("GET", path, headers=headers)
    r = conn.getresponse()
    body = r.read()
    if r.status != 200:
        raise SystemExit(f"{path}: {r.status} {body[:300]!r}")
    return json.loads(body)


rng = random.Random(42)
# Real numbers and vehicles from the catalog itself.
sample = get("/pos/api/catalog/search?q=balata&per_page=200")["items"]
numbers = [p["number"] for p in sample]
details = [get(f"/pos/api/catalog/parts/{p['id']}") for p in sample[:40]]
vehicles = [f["vehicle"] for d in details for f in d["fitment"]]
oe = [n["number"] for d in details for n in d["interchange"] if n["kind"] == "oe"]
words = ["balata", "amortiguador delantero", "filtro de aceite", "bujia iridio", "shock",
         "pastilla de freno", "bomba de agua", "kit de clutch", "disco ventilado", "sensor oxigeno"]


def q(**params):
    return "/pos/api/catalog/search?" + urllib.parse.urlencode(params)


kinds = {
    "text (1-2 words)": lambda: q(q=rng.choice(words), per_page=20),
    "part number, as typed": lambda: q(q=rng.choice(numbers).lower().replace("-", " "), per_page=20),
    "OE interchange number": lambda: q(q=rng.choice(oe), per_page=20),
    "fitment: vehicle_id only": lambda: q(vehicle_id=rng.choice(vehicles)["id"], per_page=20),
    "text + vehicle_id": lambda: q(q=rng.choice(words), vehicle_id=rng.choice(vehicles)["id"], per_page=20),
    "text + year/make/model": lambda: (lambda v: q(q=rng.choice(words), year=v["year"], make=v["make_id"], model=v["model_id"], per_page=20))(rng.choice(vehicles)),
    "cascade: engines": lambda: (lambda v: f"/pos/api/vehicles/engines?year={v['year']}&make={v['make_id']}&model={v['model_id']}")(rng.choice(vehicles)),
    "part detail": lambda: f"/pos/api/catalog/parts/{rng.choice(sample)['id']}",
}

results = {}
for name, make in kinds.items():
    for _ in range(10):  # warm-up
        get(make())
    times = []
    for _ in range(rounds):
        path = make()
        t = time.perf_counter()
        get(path)
        times.append((time.perf_counter() - t) * 1000)
    times.sort()
    results[name] = {
        "p50_ms": round(statistics.median(times), 2),
        "p99_ms": round(times[int(len(times) * 0.99) - 1], 2),
        "max_ms": round(times[-1], 2),
    }
    print(f"  {name:28} p50 {results[name]['p50_ms']:7.2f} ms   p99 {results[name]['p99_ms']:7.2f} ms   max {results[name]['max_ms']:7.2f} ms", flush=True)
print(json.dumps(results))
