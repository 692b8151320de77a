#!/usr/bin/env bash
# Plain vs 16-way hash-partitioned fitment on a generated catalog, with pgbench (the database's
# own load tool) running the two reads the catalog makes: the parts of a vehicle (search by
# fitment) and the vehicles of a part (part detail).
#   DB=postgres://postgres@127.0.0.1:5432/<a database holding a generated catalog> bench/catalog/partitioning/run.sh
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
DB=${DB:?DB=<URL of a database with a generated catalog>}
T=${T:-20}
psql "$DB" -q -f "$here/setup.sql"
echo "table sizes: $(psql "$DB" -Atc "SELECT pg_size_pretty(pg_total_relation_size('catalog_fitment')) || ' plain, ' || (SELECT pg_size_pretty(sum(pg_total_relation_size(c.oid))) FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid WHERE i.inhparent = 'fitment_hash16'::regclass) || ' partitioned'")"
for q in by_vehicle by_part; do
  for t in plain hash16; do
    r=$(pgbench -n -c 4 -j 2 -T "$T" -f "$here/${q}_$t.sql" "$DB" 2>&1 | grep -E "^latency average|^tps")
    echo "$q $t: $(echo "$r" | tr '\n' ' ')"
  done
done
psql "$DB" -qc "DROP TABLE fitment_hash16"
