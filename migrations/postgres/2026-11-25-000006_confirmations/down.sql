DROP TABLE pending_reports;
DROP INDEX reports_reporter_day;
