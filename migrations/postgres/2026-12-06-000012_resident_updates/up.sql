-- Residents' updates to an open report. An update is a history event of
-- kind `update` (its words in the note, its photos as attachments); this
-- table keeps where it stands: `waiting` for a moderator (categories with
-- `updates_moderated`), `published`, or `hidden` by staff with a reason.
-- Only a published update's event is public.
CREATE TABLE report_updates (
    event_id TEXT PRIMARY KEY NOT NULL REFERENCES report_events (id),
    report_id TEXT NOT NULL REFERENCES reports (id),
    author_id TEXT NOT NULL REFERENCES users (id),
    state TEXT NOT NULL,
    reason TEXT,
    decided_by TEXT REFERENCES users (id),
    decided_at TIMESTAMP,
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX report_updates_by_state ON report_updates (state, created_at);
CREATE INDEX report_updates_by_author ON report_updates (author_id, created_at);

ALTER TABLE categories ADD COLUMN updates_moderated BOOLEAN NOT NULL DEFAULT FALSE;

-- What a resident sent without logging in waits for their link: a "me
-- too" (`support`), a follow (`follow`) or an update (`update`, its text
-- and stored photos as JSON in `payload`).
ALTER TABLE pending_supports ADD COLUMN kind TEXT NOT NULL DEFAULT 'support';
ALTER TABLE pending_supports ADD COLUMN payload TEXT;

-- Following without supporting: a `watcher` subscription (a supporter's
-- is `follower`).
ALTER TABLE subscriptions DROP CONSTRAINT subscriptions_kind_check;
ALTER TABLE subscriptions ADD CONSTRAINT subscriptions_kind_check
    CHECK (kind IN ('reporter', 'follower', 'watcher', 'staff'));
