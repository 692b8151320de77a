#!/usr/bin/env bash
# Checkout on PostgreSQL at 16 concurrent cashiers (20-line tickets) through `nexus serve`
# (distributed shape: PostgreSQL + Redis), with pgbench's TPC-B on the same server in the same
# run as the peer; then stock-by-branch cold (cache miss) and warm (cache hit).
#
#   cargo build --release -p ops
#   bench/checkout/run.sh            # CLIENTS=16 DURATION=20 LINES=20 ITEMS=1000 SCALE=16
#
# BENCH_PG_URL (default postgres://postgres@127.0.0.1:5432/postgres) and BENCH_REDIS_URL (default
# redis://127.0.0.1:6379/0). Databases nexus_bench_co* and pgbench_co are dropped and made again.
set -euo pipefail
cd "$(dirname "$0")/../.."
BIN="${CARGO_TARGET_DIR:-target}/release/nexus"
[ -x "$BIN" ] || { echo "build first: cargo build --release -p ops" >&2; exit 1; }
command -v pgbench >/dev/null || { echo "pgbench is needed (postgresql-contrib)" >&2; exit 1; }
PG=${BENCH_PG_URL:-postgres://postgres@127.0.0.1:5432/postgres}
REDIS=${BENCH_REDIS_URL:-redis://127.0.0.1:6379/0}
CLIENTS=${CLIENTS:-16} DURATION=${DURATION:-20} LINES=${LINES:-20} ITEMS=${ITEMS:-1000} SCALE=${SCALE:-16}
PORT=${PORT:-18181}
DB=nexus_bench_co
work=$(mktemp -d)
drop_all() {
  for d in $(psql "$PG" -Atc "SELECT datname FROM pg_database WHERE datname LIKE '${DB}%' OR datname = 'pgbench_co'"); do
    psql "$PG" -qc "DROP DATABASE IF EXISTS \"$d\" WITH (FORCE)" >/dev/null 2>&1 || true
  done
}
cleanup() { [ -n "${SERVER:-}" ] && kill "$SERVER" 2>/dev/null; wait 2>/dev/null || true; drop_all; rm -rf "$work"; }
trap cleanup EXIT
drop_all

echo "== pgbench TPC-B (scale $SCALE, $CLIENTS clients, ${DURATION} s)"
psql "$PG" -qc "CREATE DATABASE pgbench_co" >/dev/null
PGB=${PG%/*}/pgbench_co
pgbench -i -q -s "$SCALE" "$PGB" >/dev/null 2>&1
tpcb=$(pgbench -n -c "$CLIENTS" -j 2 -T "$DURATION" "$PGB" 2>/dev/null | awk '/^tps/ {print $3; exit}')
lat=$(pgbench -n -c "$CLIENTS" -j 2 -T 5 -r "$PGB" 2>/dev/null | awk '/latency average/ {print $4}')
echo "pgbench: $tpcb tps (average latency of a 5 s rerun: $lat ms)"
psql "$PG" -qc "DROP DATABASE pgbench_co WITH (FORCE)" >/dev/null

echo "== nexus checkout"
psql "$PG" -qc "CREATE DATABASE $DB" >/dev/null
export NEXUS_DATA_DIR=$work MASTER_DB_URL=${PG%/*}/$DB TENANT_DB_URL_TEMPLATE=${PG%/*}/${DB}_t_{db_name}
export REDIS_URL=$REDIS NEXUS_QUEUE_NAMESPACE=nexus-bench-co-$$ POS_JWT_SECRET=bench-secret-bench-secret-bench-secret-42
export NEXUS_HTTP_ADDR=127.0.0.1:$PORT RUST_LOG=warn NEXUS_OPS_ADDR=off
export NEXUS_VPIC_URL=off
"$BIN" migrate >/dev/null
NEXUS_OWNER_PASSWORD=bench-password-123 "$BIN" tenant create --slug bench --name "Banco de pruebas" \
  --rfc EKU9003173C9 --owner-email owner@bench.mx >/dev/null
"$BIN" serve >"$work/serve.log" 2>&1 &
SERVER=$!
until curl -fs "http://127.0.0.1:$PORT/healthz" >/dev/null 2>&1; do
  kill -0 "$SERVER" 2>/dev/null || { cat "$work/serve.log"; exit 1; }
  sleep 0.1
done
out=$(NEXUS_BENCH_PASSWORD=bench-password-123 "$BIN" bench checkout --url "http://127.0.0.1:$PORT" \
  --email owner@bench.mx --clients "$CLIENTS" --seconds "$DURATION" --lines "$LINES" --items "$ITEMS" \
  --server-pid "$SERVER")
echo "$out" | head -3
rss=$(awk '/VmHWM/ {print $2}' "/proc/$SERVER/status")
json=$(echo "$out" | tail -1)
sps=$(echo "$json" | python3 -c 'import json,sys; print(json.load(sys.stdin)["sales_per_s"])')
python3 - "$sps" "$tpcb" "$rss" "$LINES" <<'PY'
import sys
sps, tps, rss, lines = float(sys.argv[1]), float(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
print(f"nexus serve peak RSS: {rss/1024:.0f} MiB")
print(f"ratio: {sps:.1f} sales/s ÷ {tps:.0f} TPC-B tps = {100*sps/tps:.0f} % "
      f"(a sale updates {lines} stock rows and inserts {lines} ledger rows, {lines} lines, the sale, "
      f"its payment, an audit row and a job, which the workers in the same process then run; "
      f"a TPC-B transaction updates 3 rows and inserts 1)")
PY
