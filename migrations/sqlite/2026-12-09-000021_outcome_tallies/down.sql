DROP INDEX sla_marks_recorded;
DROP TABLE stats_snapshots;
DROP TABLE outcome_days;
