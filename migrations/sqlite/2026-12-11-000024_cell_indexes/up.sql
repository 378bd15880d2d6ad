-- The open reports in a few grid cells (the map's viewport, a report's
-- neighbourhood) are read from indexes that lead with what they are looked
-- up by and then the cell, carrying what the read needs, so that neither
-- reads the table. The expression is db::reports' `cell_sql`, character for
-- character (SQLite matches an index's expression only to the same text).
--
-- The map: each open status's reports in each cell, by latitude, with what
-- a map point shows. Replaces (status, lat, lon), which walked a latitude
-- band the width of the city and read every match from the table.
DROP INDEX reports_status;
CREATE INDEX reports_status_cell ON reports (
    status,
    (CAST((lat + 90.0) * 100.0 AS INTEGER) * 36001 + CAST((lon + 180.0) * 100.0 AS INTEGER)),
    lat,
    lon,
    created_at,
    number,
    category_id,
    id
);
-- Duplicates: a category's reports in the cells around a point, with their
-- status, so that only open ones near it are read from the table. Replaces
-- (category_id, lat, lon), which walked the category's latitude band.
DROP INDEX reports_category;
CREATE INDEX reports_category_cell ON reports (
    category_id,
    (CAST((lat + 90.0) * 100.0 AS INTEGER) * 36001 + CAST((lon + 180.0) * 100.0 AS INTEGER)),
    lat,
    lon,
    status
);
-- A resident's reports are read through (reporter_id, created_at).
DROP INDEX reports_reporter;
