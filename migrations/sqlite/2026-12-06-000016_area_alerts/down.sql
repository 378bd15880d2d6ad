DROP INDEX reports_moderated;
DROP TABLE alert_matches;
DROP TABLE area_alerts;
