#!/usr/bin/env bash
# Nexus (apalis-redis with Nexus's settings) vs BullMQ vs Celery on the same Redis, same run.
# bench/queue/run.sh [jobs]   (needs: cargo build --release; node + npm; python3 + pip)
set -euo pipefail
cd "$(dirname "$0")"
JOBS="${1:-5000}"
BIN="${CARGO_TARGET_DIR:-../../target}/release/nexus"
[ -x "$BIN" ] || { echo "build first: cargo build --release" >&2; exit 1; }
redis-cli ping >/dev/null || { echo "Redis must answer on 127.0.0.1:6379" >&2; exit 1; }
[ -d node_modules/bullmq ] || npm install --no-audit --no-fund --silent
python3 -c 'import celery, redis' 2>/dev/null || pip install --quiet -r requirements.txt

nexus_redis=$(REDIS_URL=redis://127.0.0.1:6379/0 RUST_LOG=warn "$BIN" bench queue --jobs "$JOBS" | tail -n 1)
nexus_sqlite=$(NEXUS_DATA_DIR="$(mktemp -d)" RUST_LOG=warn "$BIN" bench queue --jobs "$JOBS" | tail -n 1)
bullmq=$(node bullmq.mjs "$JOBS" | tail -n 1)
celery=$(python3 celery_bench.py "$JOBS" | tail -n 1)

python3 - "$nexus_redis" "$nexus_sqlite" "$bullmq" "$celery" <<'PY'
import json, sys
rows = [json.loads(a) for a in sys.argv[1:]]
names = ["nexus (redis)", "nexus (sqlite)", "bullmq", "celery"]
fmt = lambda v, d=0: "n/a" if v is None else f"{v:,.{d}f}"
print(f"{'':16}{'enqueue/s':>12}{'bulk/s':>12}{'drain/s':>12}{'idle ms':>10}")
for n, r in zip(names, rows):
    print(f"{n:16}{fmt(r['enqueue_per_s']):>12}{fmt(r['enqueue_bulk_per_s']):>12}{fmt(r['drain_per_s']):>12}{fmt(r['idle_latency_ms'], 2):>10}")
nx, bull, cel = rows[0], rows[2], rows[3]
ratio = lambda a, b: "n/a" if a is None or b in (None, 0) else f"{a / b:.2f}x"
for k in ["enqueue_per_s", "enqueue_bulk_per_s", "drain_per_s"]:
    print(f"nexus/bullmq {k}: {ratio(nx[k], bull[k])}   nexus/celery {k}: {ratio(nx[k], cel[k])}")
print(f"idle latency nexus/bullmq: {ratio(nx['idle_latency_ms'], bull['idle_latency_ms'])} (lower is better)")
print(json.dumps({"jobs": rows[0]["jobs"], "results": dict(zip(names, rows))}))
PY
