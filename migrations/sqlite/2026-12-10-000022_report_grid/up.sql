-- Every report under its grid cell (0.01°), newest first: a small box's
-- newest reports are its few cells' newest (see reports::nearby). The
-- expression is the one db::reports writes in its queries, character for
-- character: SQLite uses the index only for that same expression.
-- The place, the status, the category and the id ride along, so that a
-- cell's reports are filtered (box, circle, status, category) and paged
-- from the index alone: at ten million reports a list filtered by status
-- and category walked whole cells through the table, half a second a page.
CREATE INDEX reports_cell ON reports (
    (CAST((lat + 90.0) * 100.0 AS INTEGER) * 36001 + CAST((lon + 180.0) * 100.0 AS INTEGER)),
    created_at,
    number,
    lat,
    lon,
    status,
    category_id,
    id
);
