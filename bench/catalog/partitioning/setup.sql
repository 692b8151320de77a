-- A copy of catalog_fitment hash-partitioned by part_id into 16 partitions, as the seed had it,
-- beside the plain table, to compare the two reads the catalog makes.
DROP TABLE IF EXISTS fitment_hash16;
CREATE TABLE fitment_hash16 (LIKE catalog_fitment INCLUDING DEFAULTS) PARTITION BY HASH (part_id);
DO $$ BEGIN FOR i IN 0..15 LOOP
  EXECUTE format('CREATE TABLE fitment_hash16_%s PARTITION OF fitment_hash16 FOR VALUES WITH (MODULUS 16, REMAINDER %s)', i, i);
END LOOP; END $$;
INSERT INTO fitment_hash16 SELECT * FROM catalog_fitment;
ALTER TABLE fitment_hash16 ADD PRIMARY KEY (part_id, vehicle_id, position);
CREATE INDEX ON fitment_hash16 (vehicle_id, part_id);
VACUUM ANALYZE fitment_hash16;
