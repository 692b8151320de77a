-- A synthetic catalog for the sync benchmark, on a migrated, empty PostgreSQL platform
-- database: psql "$MASTER_DB_URL" -v n=200000 -f gen.sql
-- Per part: 8 fitment rows and 2 interchange numbers, like a mid-size aftermarket catalog.
\set ON_ERROR_STOP on
BEGIN;
INSERT INTO catalog_brands (name) SELECT 'Marca ' || g FROM generate_series(1, 50) g;
INSERT INTO catalog_categories (name) SELECT 'Categoría ' || g FROM generate_series(1, 30) g;
INSERT INTO catalog_makes (name) SELECT 'Armadora ' || g FROM generate_series(1, 40) g;
INSERT INTO catalog_models (make_id, name)
  SELECT 1 + (g % 40), 'Modelo ' || g FROM generate_series(1, 400) g;
INSERT INTO catalog_vehicles (year, make_id, model_id, liters_x10)
  SELECT 1990 + (g % 35), m.make_id, m.id, 10 + (g % 40)
  FROM generate_series(1, 5000) g JOIN catalog_models m ON m.id = 1 + (g % 400);
INSERT INTO catalog_parts (brand_id, number, number_norm, name, description, category_id,
                           retail_price_cents, created_at, updated_at)
  SELECT 1 + (g % 50), 'NX-' || g, 'NX' || g,
         (ARRAY['Balata delantera cerámica', 'Amortiguador trasero', 'Bujía de iridio',
                'Filtro de aceite', 'Bomba de agua'])[1 + g % 5] || ' ' || g,
         'Pieza de prueba número ' || g || ' para el banco de sincronización',
         1 + (g % 30), 10000 + g % 90000, now(), now()
  FROM generate_series(1, :n) g;
INSERT INTO catalog_fitment (part_id, vehicle_id, position, qty)
  SELECT p.id, 1 + ((p.id * 7 + k * 131) % 5000), '', 1
  FROM catalog_parts p, generate_series(0, 7) k;
INSERT INTO catalog_interchange (part_id, kind, brand, number, number_norm)
  SELECT p.id, 'oe', 'OEM', 'OE-' || p.id || '-' || k, 'OE' || p.id || k
  FROM catalog_parts p, generate_series(1, 2) k;
COMMIT;
ANALYZE;
