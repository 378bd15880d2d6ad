DROP TABLE report_checks;
DROP TRIGGER ledger_checkpoints_no_delete;
DROP TRIGGER ledger_checkpoints_no_update;
DROP TABLE ledger_checkpoints;
DROP TRIGGER ledger_entries_no_delete;
DROP TRIGGER ledger_entries_no_update;
