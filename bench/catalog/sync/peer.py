"""The peer of `nexus search reindex`: the same documents, read from the same PostgreSQL
catalog, sent by a straightforward script with the official Python client (meilisearch) and
psycopg into the same sink. One batch at a time, JSON, each task waited for (polling every
10 ms rather than the client's default 50, so the sink's instant tasks do not penalise it).

Usage: MASTER_DB_URL=postgres://... MEILI_URL=http://127.0.0.1:7799 python peer.py [batch]
"""

import os
import sys
import time

import meilisearch
import psycopg

BATCH = int(sys.argv[1]) if len(sys.argv) > 1 else 5000

SQL = """
SELECT p.id, p.number, p.number_norm, p.name, p.description, p.brand_id, b.name AS brand,
       p.category_id, c.name AS category, p.retail_price_cents,
       (SELECT string_agg(i.number_norm::text, ',') FROM catalog_interchange i
         WHERE i.part_id = p.id) AS numbers,
       (SELECT string_agg(f.vehicle_id::text, ',') FROM catalog_fitment f
         WHERE f.part_id = p.id) AS vehicles
FROM catalog_parts p JOIN catalog_brands b ON b.id = p.brand_id
LEFT JOIN catalog_categories c ON c.id = p.category_id
WHERE p.id > %s ORDER BY p.id LIMIT %s
"""


def main():
    started = time.monotonic()
    client = meilisearch.Client(os.environ["MEILI_URL"], os.environ.get("MEILI_MASTER_KEY"))
    uid = "py_parts_%d" % int(time.time())
    client.wait_for_task(client.create_index(uid, {"primaryKey": "id"}).task_uid, interval_in_ms=10)
    index = client.index(uid)
    task = index.update_settings({
        "searchableAttributes": ["number_norm", "numbers", "number", "name", "brand", "category", "description"],
        "filterableAttributes": ["vehicle_ids", "brand_id", "category_id"],
        "sortableAttributes": ["retail_price_cents", "id"],
    })
    client.wait_for_task(task.task_uid, interval_in_ms=10)
    sent = 0
    after = 0
    with psycopg.connect(os.environ["MASTER_DB_URL"]) as conn:
        while True:
            rows = conn.execute(SQL, (after, BATCH)).fetchall()
            if not rows:
                break
            docs = []
            for r in rows:
                (pid, number, norm, name, desc, brand_id, brand, cat_id, cat, price, nums, vehs) = r
                docs.append({
                    "id": pid, "number": number, "number_norm": norm, "name": name,
                    "description": desc, "brand_id": brand_id, "brand": brand,
                    "category_id": cat_id, "category": cat, "retail_price_cents": price,
                    "numbers": nums.split(",") if nums else [],
                    "vehicle_ids": [int(v) for v in vehs.split(",")] if vehs else [],
                })
            task = index.add_documents(docs, primary_key="id")
            client.wait_for_task(task.task_uid, interval_in_ms=10, timeout_in_ms=600_000)
            sent += len(docs)
            after = rows[-1][0]
    elapsed = time.monotonic() - started
    print("indexed %d parts in %.1f s: %.0f docs/s" % (sent, elapsed, sent / elapsed))


if __name__ == "__main__":
    main()
