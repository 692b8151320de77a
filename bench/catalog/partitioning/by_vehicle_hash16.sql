\set v random(1, 4672)
SELECT DISTINCT part_id FROM fitment_hash16 WHERE vehicle_id = :v ORDER BY part_id;
