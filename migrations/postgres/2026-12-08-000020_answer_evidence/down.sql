ALTER TABLE ledger_entries DROP COLUMN evidence;
ALTER TABLE categories DROP COLUMN evidence_policy;
DROP TABLE held_answers;
DROP TABLE answer_prints;
DROP TABLE photo_checks;
