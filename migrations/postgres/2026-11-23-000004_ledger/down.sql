DROP TABLE report_checks;
DROP TABLE ledger_checkpoints;
DROP TRIGGER ledger_entries_no_truncate ON ledger_entries;
DROP TRIGGER ledger_entries_append_only ON ledger_entries;
DROP FUNCTION gorod_append_only();
