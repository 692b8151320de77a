\set p random(1, 1500000)
SELECT vehicle_id, position, qty FROM catalog_fitment WHERE part_id = :p;
