#!/usr/bin/env bash
# Full catalog sync throughput: `nexus search reindex` against a sink that answers the
# Meilisearch calls it makes (counts documents, drops them, tasks succeed at once), then the
# Python peer (peer.py) with the same documents into the same sink. Prints docs/s, peak RSS and
# the ratio.
#
#   cargo build --release -p ops -p tests --bin nexus --bin nexus_fake_meili
#   bench/catalog/sync/run.sh 200000        # parts; needs PostgreSQL, python3
#
# BENCH_PG_URL (default postgres://postgres@127.0.0.1:5432) is the server; the database
# nexus_bench_sync is dropped and made again. CARGO_TARGET_DIR is honoured.
set -euo pipefail
N=${1:-200000}
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../../.." && pwd)
TARGET=${CARGO_TARGET_DIR:-$ROOT/target}
NEXUS=$TARGET/release/nexus
SINK=$TARGET/release/nexus_fake_meili
PG=${BENCH_PG_URL:-postgres://postgres@127.0.0.1:5432}
DB=nexus_bench_sync
PORT=${BENCH_SINK_PORT:-7799}
for b in "$NEXUS" "$SINK"; do
  [ -x "$b" ] || { echo "missing $b: cargo build --release -p ops -p tests --bin nexus --bin nexus_fake_meili" >&2; exit 1; }
done

WORK=$(mktemp -d)
cleanup() { [ -n "${SINK_PID:-}" ] && kill "$SINK_PID" 2>/dev/null || true; rm -rf "$WORK"; }
trap cleanup EXIT

export MASTER_DB_URL="$PG/$DB"
export POS_JWT_SECRET=bench-secret-bench-secret-bench-secret-00
export REDIS_ENABLED=false NEXUS_DATA_DIR="$WORK/data" RUST_LOG=warn
export MEILI_URL="http://127.0.0.1:$PORT"

if [ "${BENCH_REUSE_DB:-0}" != 1 ]; then
  psql "$PG/postgres" -q -c "DROP DATABASE IF EXISTS $DB" -c "CREATE DATABASE $DB"
  "$NEXUS" migrate >/dev/null
  echo "generating $N parts…"
  psql "$MASTER_DB_URL" -q -v n="$N" -f "$HERE/gen.sql"
fi

"$SINK" "127.0.0.1:$PORT" --sink >"$WORK/sink.log" 2>&1 &
SINK_PID=$!
for _ in $(seq 50); do curl -fs "$MEILI_URL/health" >/dev/null 2>&1 && break; sleep 0.1; done
sink_docs() { curl -fs "$MEILI_URL/stats/sink" | python3 -c 'import json,sys; print(json.load(sys.stdin)["documents"])'; }

echo "== nexus search reindex"
/usr/bin/time -f "%e s, peak RSS %M KiB" -o "$WORK/nexus.time" "$NEXUS" search reindex | tee "$WORK/nexus.out"
cat "$WORK/nexus.time"
NEXUS_DOCS=$(sink_docs)

if [ ! -x "$HERE/.venv/bin/python" ]; then
  python3 -m venv "$HERE/.venv"
  "$HERE/.venv/bin/pip" install -q -r "$HERE/requirements.txt"
fi
echo "== python peer (meilisearch + psycopg)"
/usr/bin/time -f "%e s, peak RSS %M KiB" -o "$WORK/py.time" "$HERE/.venv/bin/python" "$HERE/peer.py" | tee "$WORK/py.out"
cat "$WORK/py.time"
TOTAL_DOCS=$(sink_docs)

python3 - "$WORK" "$N" "$NEXUS_DOCS" "$TOTAL_DOCS" <<'PY'
import re, sys
work, n, nexus_docs, total = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
def rate(f):
    return float(re.search(r"([\d.]+) docs/s", open(f"{work}/{f}").read()).group(1))
def rss(f):
    return int(re.search(r"peak RSS (\d+)", open(f"{work}/{f}").read()).group(1)) / 1024
nx, py = rate("nexus.out"), rate("py.out")
print()
print(f"{'':24}{'docs/s':>12}{'peak RSS MiB':>14}{'docs at sink':>14}")
print(f"{'nexus search reindex':24}{nx:>12.0f}{rss('nexus.time'):>14.1f}{nexus_docs:>14}")
print(f"{'python peer':24}{py:>12.0f}{rss('py.time'):>14.1f}{total - nexus_docs:>14}")
print(f"ratio nexus/python: {nx / py:.1f}x  ({n} parts)")
PY
