\set p random(1, 1500000)
SELECT vehicle_id, position, qty FROM fitment_hash16 WHERE part_id = :p;
