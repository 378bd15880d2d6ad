-- Every report under its grid cell (0.01°), newest first: a small box's
-- newest reports are its few cells' newest (see reports::nearby). The
-- expression is the one db::reports writes in its queries: the planner
-- matches an index's expression only to the same expression.
CREATE INDEX reports_cell ON reports (
    (floor((lat + 90.0::float8) * 100.0::float8)::bigint * 36001 + floor((lon + 180.0::float8) * 100.0::float8)::bigint),
    created_at,
    number
);
