#!/usr/bin/env bash
# Catalog: generate + load N parts on SQLite and PostgreSQL (time, rows/s, size), then search
# latency through the API on each (bench/catalog/search.py). Needs a release build and
# PostgreSQL on 127.0.0.1:5432 (user postgres, trust); uses a scratch database it drops.
#
#   cargo build --release && bench/catalog/run.sh 1500000
set -euo pipefail
N=${1:-1500000}
SHAPES=${SHAPES:-sqlite postgres}   # SHAPES=postgres runs one
ROUNDS=${ROUNDS:-200}
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
nexus=${NEXUS_BIN:-${CARGO_TARGET_DIR:-$root/target}/release/nexus}
[ -x "$nexus" ] || { echo "build first: cargo build --release ($nexus missing)"; exit 1; }
PG=${PG_ADMIN_URL:-postgres://postgres@127.0.0.1:5432/postgres}
DB=nexus_bench_catalog
work=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; psql "$PG" -qc "DROP DATABASE IF EXISTS $DB" >/dev/null 2>&1 || true; rm -rf "$work"' EXIT
export POS_JWT_SECRET=bench-secret-bench-secret-bench-secret-0001
export NEXUS_OPS_ADDR=off RUST_LOG=warn

rss_of() { awk '/VmHWM/ {print $2/1024 " MB"}' "/proc/$1/status" 2>/dev/null || echo "?"; }

search_bench() { # $1 = label; env holds the shape's settings
  local port=18090
  NEXUS_HTTP_ADDR=127.0.0.1:$port "$nexus" api >"$work/api.log" 2>&1 &
  local pid=$!
  for _ in $(seq 100); do curl -fs "http://127.0.0.1:$port/healthz" >/dev/null 2>&1 && break; sleep 0.1; done
  local token
  token=$(curl -fs -X POST "http://127.0.0.1:$port/pos/api/auth/login" -H 'content-type: application/json' \
    -d '{"email":"bench@nexus.mx","password":"bench password 123"}' | python3 -c 'import sys,json; print(json.load(sys.stdin)["access_token"])')
  echo "search through the API ($1, $ROUNDS queries per kind):"
  python3 "$here/search.py" "http://127.0.0.1:$port" "$token" "$ROUNDS" | tee "$work/search-$1.json" | grep -v '^{'
  echo "  api peak RSS: $(rss_of $pid)"
  kill $pid; wait $pid 2>/dev/null || true
}

tenant() {
  "$nexus" migrate >/dev/null
  "$nexus" tenant create --slug bench --name Bench --rfc BEN010101AB1 \
    --owner-email bench@nexus.mx --owner-password "bench password 123" >/dev/null
}

if [[ " $SHAPES " == *" sqlite "* ]]; then
echo "== SQLite (embedded shape): $N parts"
export NEXUS_DATA_DIR=$work/sqlite
mkdir -p "$NEXUS_DATA_DIR"
tenant
/usr/bin/time -f "  generate peak RSS: %M KB" "$nexus" catalog generate --parts "$N" --seed 42
echo "  master.db size: $(du -sh "$NEXUS_DATA_DIR/master.db" | cut -f1) (+ WAL $(du -sh "$NEXUS_DATA_DIR/master.db-wal" 2>/dev/null | cut -f1 || echo 0))"
search_bench sqlite
fi
[[ " $SHAPES " == *" postgres "* ]] || exit 0

echo "== PostgreSQL (distributed shape): $N parts"
psql "$PG" -qc "DROP DATABASE IF EXISTS $DB" >/dev/null 2>&1
psql "$PG" -qc "CREATE DATABASE $DB" >/dev/null
export NEXUS_DATA_DIR=$work/pg MASTER_DB_URL=${PG%/*}/$DB
export TENANT_DB_URL_TEMPLATE=${PG%/*}/${DB}_t_{db_name}
mkdir -p "$NEXUS_DATA_DIR"
tenant
/usr/bin/time -f "  generate peak RSS: %M KB" "$nexus" catalog generate --parts "$N" --seed 42
echo "  database size: $(psql "$MASTER_DB_URL" -Atc "SELECT pg_size_pretty(pg_database_size(current_database()))")"
search_bench postgres
for d in $(psql "$PG" -Atc "SELECT datname FROM pg_database WHERE datname LIKE '${DB}_t_%'"); do
  psql "$PG" -qc "DROP DATABASE IF EXISTS $d" >/dev/null
done
