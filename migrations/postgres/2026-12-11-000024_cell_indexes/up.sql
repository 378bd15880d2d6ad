-- The open reports in a few grid cells (the map's viewport, a report's
-- neighbourhood) are read from indexes that lead with what they are looked
-- up by and then the cell, carrying what the read needs, so that neither
-- reads the table. The expression is db::reports' `cell_sql` (the planner
-- matches an index's expression only to the same expression).
--
-- The map: each open status's reports in each cell, by latitude, with what
-- a map point shows. Replaces (status, lat, lon), which walked a latitude
-- band the width of the city and read every match from the table.
DROP INDEX reports_status;
CREATE INDEX reports_status_cell ON reports (
    status,
    (floor((lat + 90.0::float8) * 100.0::float8)::bigint * 36001 + floor((lon + 180.0::float8) * 100.0::float8)::bigint),
    lat,
    lon
) INCLUDE (created_at, number, category_id, id);
-- Duplicates: a category's reports in the cells around a point, with their
-- status, so that only open ones near it are read from the table. Replaces
-- (category_id, lat, lon), which walked the category's latitude band.
DROP INDEX reports_category;
CREATE INDEX reports_category_cell ON reports (
    category_id,
    (floor((lat + 90.0::float8) * 100.0::float8)::bigint * 36001 + floor((lon + 180.0::float8) * 100.0::float8)::bigint),
    lat,
    lon
) INCLUDE (status);
-- A resident's reports are read through (reporter_id, created_at).
DROP INDEX reports_reporter;
