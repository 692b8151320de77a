\set v random(1, 4672)
SELECT DISTINCT part_id FROM catalog_fitment WHERE vehicle_id = :v ORDER BY part_id;
