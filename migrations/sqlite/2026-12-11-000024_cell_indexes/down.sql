DROP INDEX reports_status_cell;
DROP INDEX reports_category_cell;
CREATE INDEX reports_status ON reports (status, lat, lon);
CREATE INDEX reports_category ON reports (category_id, lat, lon);
CREATE INDEX reports_reporter ON reports (reporter_id);
