DELETE FROM counters WHERE name IN ('search_backfill_below', 'geodata_version');
DROP TABLE search_pending;
DROP TABLE search_docs;
DROP TABLE search_terms;
DROP TABLE report_objects;
ALTER TABLE categories DROP COLUMN object_types;
DROP TABLE city_objects;
DROP TABLE addresses;
