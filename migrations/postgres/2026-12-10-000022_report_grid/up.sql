-- Every report under its grid cell (0.01°), newest first: a small box's
-- newest reports are its few cells' newest (see reports::nearby). The
-- expression is the one db::reports writes in its queries: the planner
-- matches an index's expression only to the same expression.
-- The place, the status, the category and the id ride along, so that a
-- cell's reports are filtered (box, circle, status, category) and paged
-- from the index alone: at ten million reports a list filtered by status
-- and category walked whole cells through the table, half a second a page.
CREATE INDEX reports_cell ON reports (
    (floor((lat + 90.0::float8) * 100.0::float8)::bigint * 36001 + floor((lon + 180.0::float8) * 100.0::float8)::bigint),
    created_at,
    number
) INCLUDE (lat, lon, status, category_id, id);
