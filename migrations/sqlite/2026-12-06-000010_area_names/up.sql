-- Service areas are named in English too, for the English pages.
ALTER TABLE service_areas ADD COLUMN name_en TEXT;
