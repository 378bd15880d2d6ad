DROP INDEX reports_check_due;
DROP TABLE report_reminders;
DROP TABLE secrets;
DROP TABLE mail_opt_outs;
