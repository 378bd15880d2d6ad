-- A moderator's edits: a report's description and address as published
-- are in `reports`; what they replaced is kept here, with who, when and
-- why. `field` is description, address, photo (`before` the attachment's
-- id) or reporter_name (hidden).
CREATE TABLE report_edits (
    id TEXT PRIMARY KEY NOT NULL,
    report_id TEXT NOT NULL REFERENCES reports (id),
    field TEXT NOT NULL,
    before TEXT,
    after TEXT,
    reason TEXT NOT NULL,
    actor_id TEXT REFERENCES users (id),
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX report_edits_by_report ON report_edits (report_id, created_at);

-- A photo hidden by a moderator is served to staff only.
ALTER TABLE attachments ADD COLUMN hidden_at TIMESTAMP;
ALTER TABLE attachments ADD COLUMN hidden_reason TEXT;
CREATE INDEX attachments_by_hash ON attachments (content_hash);

-- A resident who deleted their account: name, email and phone are gone;
-- their reports stay as the city's records.
ALTER TABLE users ADD COLUMN deleted_at TIMESTAMP;
