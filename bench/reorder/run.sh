#!/usr/bin/env bash
# The nightly velocity + reorder run over 100,000 items × 3 warehouses with a year of sales
# (1,000,000 sale lines), on both shapes: embedded (SQLite) and distributed (PostgreSQL). Each
# prints the run's time and peak memory beside the ledger's grouped scan alone (the floor).
#
#   cargo build --release -p ops
#   bench/reorder/run.sh            # ITEMS=100000 WAREHOUSES=3 LINES=1000000
#
# BENCH_PG_URL (default postgres://postgres@127.0.0.1:5432/postgres) and BENCH_REDIS_URL (default
# redis://127.0.0.1:6379/0). Databases
# nexus_bench_ro* are dropped and made again.
set -euo pipefail
cd "$(dirname "$0")/../.."
BIN="${CARGO_TARGET_DIR:-target}/release/nexus"
[ -x "$BIN" ] || { echo "build first: cargo build --release -p ops" >&2; exit 1; }
PG=${BENCH_PG_URL:-postgres://postgres@127.0.0.1:5432/postgres}
REDIS=${BENCH_REDIS_URL:-redis://127.0.0.1:6379/0}
ITEMS=${ITEMS:-100000} WAREHOUSES=${WAREHOUSES:-3} LINES=${LINES:-1000000}
DB=nexus_bench_ro
work=$(mktemp -d)
drop_all() {
  for d in $(psql "$PG" -Atc "SELECT datname FROM pg_database WHERE datname LIKE '${DB}%'" 2>/dev/null); do
    psql "$PG" -qc "DROP DATABASE IF EXISTS \"$d\" WITH (FORCE)" >/dev/null 2>&1 || true
  done
}
cleanup() { drop_all; rm -rf "$work"; }
trap cleanup EXIT
export POS_JWT_SECRET=bench-secret-bench-secret-bench-secret-42 RUST_LOG=warn NEXUS_VPIC_URL=off

echo "== embedded (SQLite)"
mkdir -p "$work/embedded" "$work/distributed"
NEXUS_DATA_DIR=$work/embedded "$BIN" migrate >/dev/null
NEXUS_DATA_DIR=$work/embedded "$BIN" bench reorder --items "$ITEMS" --warehouses "$WAREHOUSES" --lines "$LINES" | tee "$work/embedded.out"

echo "== distributed (PostgreSQL)"
drop_all
psql "$PG" -qc "CREATE DATABASE $DB" >/dev/null
export MASTER_DB_URL=${PG%/*}/$DB TENANT_DB_URL_TEMPLATE=${PG%/*}/${DB}_t_{db_name}
export REDIS_URL=$REDIS NEXUS_QUEUE_NAMESPACE=nexus-bench-ro-$$
NEXUS_DATA_DIR=$work/distributed "$BIN" migrate >/dev/null
NEXUS_DATA_DIR=$work/distributed "$BIN" bench reorder --items "$ITEMS" --warehouses "$WAREHOUSES" --lines "$LINES" | tee "$work/distributed.out"
