ALTER TABLE users DROP COLUMN deleted_at;
DROP INDEX attachments_by_hash;
ALTER TABLE attachments DROP COLUMN hidden_reason;
ALTER TABLE attachments DROP COLUMN hidden_at;
DROP TABLE report_edits;
