#!/usr/bin/env bash
# The nightly customers pass (`customers.nightly`: expire points past their day, move tiers,
# compute every customer's analytics) over 200,000 customers with a year of sales (about 5.5
# each, 1.1 M rows and their lines) and a points lot each, on both shapes: embedded (SQLite) and
# distributed (PostgreSQL). Each prints every step's time and the peak memory beside the sales'
# grouped scan alone (the floor).
#
#   cargo build --release -p ops
#   bench/customers/run.sh            # CUSTOMERS=200000 SALES=5
#
# BENCH_PG_URL (default postgres://postgres@127.0.0.1:5432/postgres) and BENCH_REDIS_URL (default
# redis://127.0.0.1:6379/0). Databases nexus_bench_cu* are dropped and made again.
set -euo pipefail
cd "$(dirname "$0")/../.."
BIN="${CARGO_TARGET_DIR:-target}/release/nexus"
[ -x "$BIN" ] || { echo "build first: cargo build --release -p ops" >&2; exit 1; }
PG=${BENCH_PG_URL:-postgres://postgres@127.0.0.1:5432/postgres}
REDIS=${BENCH_REDIS_URL:-redis://127.0.0.1:6379/0}
CUSTOMERS=${CUSTOMERS:-200000} SALES=${SALES:-5}
DB=nexus_bench_cu
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
NEXUS_DATA_DIR=$work/embedded "$BIN" bench customers --customers "$CUSTOMERS" --sales "$SALES" | tee "$work/embedded.out"

echo "== distributed (PostgreSQL)"
drop_all
psql "$PG" -qc "CREATE DATABASE $DB" >/dev/null
export MASTER_DB_URL=${PG%/*}/$DB TENANT_DB_URL_TEMPLATE=${PG%/*}/${DB}_t_{db_name}
export REDIS_URL=$REDIS NEXUS_QUEUE_NAMESPACE=nexus-bench-cu-$$
NEXUS_DATA_DIR=$work/distributed "$BIN" migrate >/dev/null
NEXUS_DATA_DIR=$work/distributed "$BIN" bench customers --customers "$CUSTOMERS" --sales "$SALES" | tee "$work/distributed.out"
