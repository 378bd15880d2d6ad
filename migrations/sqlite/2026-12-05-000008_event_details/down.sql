ALTER TABLE report_events DROP COLUMN details;
