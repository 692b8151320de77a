#!/usr/bin/env bash
# Cold start and idle memory of `nexus serve` in the embedded shape, on a fresh data folder.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN="${CARGO_TARGET_DIR:-target}/release/nexus"
[ -x "$BIN" ] || { echo "build first: cargo build --release" >&2; exit 1; }
PORT="${PORT:-18080}"
RUNS="${RUNS:-5}"
starts=() rss=()
for i in $(seq 1 "$RUNS"); do
  dir=$(mktemp -d)
  t0=$(date +%s%N)
  NEXUS_DATA_DIR="$dir" NEXUS_HTTP_ADDR="127.0.0.1:$PORT" RUST_LOG=warn "$BIN" serve >"$dir/out.log" 2>&1 &
  pid=$!
  until curl -fs "http://127.0.0.1:$PORT/healthz" >/dev/null 2>&1; do
    kill -0 "$pid" 2>/dev/null || { cat "$dir/out.log"; exit 1; }
    sleep 0.01
  done
  t1=$(date +%s%N)
  starts+=($(( (t1 - t0) / 1000000 )))
  sleep 2
  rss+=($(awk '/VmRSS/ {print $2}' "/proc/$pid/status"))
  kill -TERM "$pid"; wait "$pid" || true
  rm -rf "$dir"
done
median() { printf '%s\n' "$@" | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
echo "cold start (fresh data dir, incl. migrations and demo tenant): median $(median "${starts[@]}") ms over $RUNS runs (${starts[*]})"
echo "idle RSS after 2 s: median $(median "${rss[@]}") KiB (${rss[*]})"
