#!/usr/bin/env bash
# Notifications end to end on both shapes: MESSAGES business events (one customer each) are
# committed with their dispatch rows, then the relay and the `notify` pool render and send every
# message to a WhatsApp Cloud API peer that answers after LATENCY_MS (100 ms, a realistic Graph
# API round trip) until each is recorded `sent`. Beside the figure: the bound no implementation
# can beat with that latency and NEXUS_WORKER_CONCURRENCY sends in flight (concurrency/latency).
#
#   cargo build --release -p ops
#   bench/notify/run.sh            # MESSAGES=5000 LATENCY_MS=100 NEXUS_WORKER_CONCURRENCY=20
#
# BENCH_PG_URL (default postgres://postgres@127.0.0.1:5432/postgres) and BENCH_REDIS_URL (default
# redis://127.0.0.1:6379/0). Databases nexus_bench_nt* are dropped and made again.
set -euo pipefail
cd "$(dirname "$0")/../.."
BIN="${CARGO_TARGET_DIR:-target}/release/nexus"
[ -x "$BIN" ] || { echo "build first: cargo build --release -p ops" >&2; exit 1; }
PG=${BENCH_PG_URL:-postgres://postgres@127.0.0.1:5432/postgres}
REDIS=${BENCH_REDIS_URL:-redis://127.0.0.1:6379/0}
MESSAGES=${MESSAGES:-5000} LATENCY_MS=${LATENCY_MS:-100}
DB=nexus_bench_nt
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
NEXUS_DATA_DIR=$work/embedded "$BIN" bench notify --messages "$MESSAGES" --latency-ms "$LATENCY_MS"

echo "== distributed (PostgreSQL + Redis)"
drop_all
psql "$PG" -qc "CREATE DATABASE $DB" >/dev/null
export MASTER_DB_URL=${PG%/*}/$DB TENANT_DB_URL_TEMPLATE=${PG%/*}/${DB}_t_{db_name}
export REDIS_URL=$REDIS NEXUS_QUEUE_NAMESPACE=nexus-bench-nt-$$
NEXUS_DATA_DIR=$work/distributed "$BIN" migrate >/dev/null
NEXUS_DATA_DIR=$work/distributed "$BIN" bench notify --messages "$MESSAGES" --latency-ms "$LATENCY_MS"
