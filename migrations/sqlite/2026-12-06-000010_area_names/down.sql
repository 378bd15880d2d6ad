ALTER TABLE service_areas DROP COLUMN name_en;
