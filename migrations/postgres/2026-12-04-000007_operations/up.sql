-- Running Gorod as a real installation: secrets that were rotated out and
-- are still accepted until a stated time, and leases that let one instance
-- of several run a job.

-- A secret (by the name it has in `secrets`) that was replaced: its old
-- value still checks what it signed until `accepted_until`.
CREATE TABLE retired_secrets (
    name TEXT NOT NULL,
    value TEXT NOT NULL,
    retired_at TIMESTAMP NOT NULL,
    accepted_until TIMESTAMP NOT NULL,
    PRIMARY KEY (name, retired_at)
);

-- Background jobs that must run once across instances: the instance that
-- holds a job's lease runs it until `until`, then anyone may take it.
CREATE TABLE job_leases (
    job TEXT PRIMARY KEY NOT NULL,
    holder TEXT NOT NULL,
    until TIMESTAMP NOT NULL
);

-- A client's Idempotency-Key on a filing: a retry with the same key gets
-- the first answer instead of filing again. Written in the filing's own
-- transaction (so a report never exists without its key), the answer as
-- sent added once it is made.
CREATE TABLE idempotency_keys (
    -- SHA-256 of the channel, the caller and the key
    key_hash TEXT PRIMARY KEY NOT NULL,
    -- SHA-256 of the request, so a key reused for another request is refused
    request_hash TEXT NOT NULL,
    report_id TEXT REFERENCES reports(id),
    status INTEGER,
    response TEXT,
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX idempotency_keys_created ON idempotency_keys (created_at);
