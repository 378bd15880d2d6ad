-- Confirmation emails are counted per address and day (`limits.
-- confirmations_per_address_per_day`).
CREATE INDEX outbox_recipient ON outbox (recipient, created_at);

-- A "me too" sent without logging in waits for its sender to confirm it by
-- the emailed link, as a report filed that way does.
CREATE TABLE pending_supports (
    id TEXT PRIMARY KEY NOT NULL,
    report_id TEXT NOT NULL REFERENCES reports (id),
    email TEXT NOT NULL,
    name TEXT,
    locale TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    expires_at TIMESTAMP NOT NULL,
    confirmed_at TIMESTAMP
);
