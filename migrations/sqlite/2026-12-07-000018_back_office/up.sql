-- A back office that speaks Open311 GeoReport v2: a department's, or a
-- category's (which wins). services, attributes and statuses are JSON
-- objects (category code to service code, question code to attribute
-- code, the endpoint's status to a move); pull is how its changes are read.
CREATE TABLE endpoints (
    id TEXT PRIMARY KEY NOT NULL,
    department_id TEXT REFERENCES departments (id),
    category_id TEXT REFERENCES categories (id),
    url TEXT NOT NULL,
    api_key TEXT NOT NULL,
    jurisdiction TEXT,
    services TEXT NOT NULL,
    attributes TEXT NOT NULL,
    statuses TEXT NOT NULL,
    pull TEXT NOT NULL CHECK (pull IN ('requests', 'updates', 'none')),
    withdraw BOOLEAN NOT NULL,
    pulled_at TIMESTAMP,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    CHECK ((department_id IS NULL) <> (category_id IS NULL))
);
CREATE UNIQUE INDEX endpoints_department ON endpoints (department_id);
CREATE UNIQUE INDEX endpoints_category ON endpoints (category_id);

-- A report handed to a back office: its id or token there.
CREATE TABLE handovers (
    report_id TEXT PRIMARY KEY NOT NULL REFERENCES reports (id),
    endpoint_id TEXT NOT NULL REFERENCES endpoints (id),
    external_id TEXT,
    token TEXT,
    state TEXT NOT NULL CHECK (state IN ('queued', 'sent', 'withdrawn')),
    note TEXT,
    created_at TIMESTAMP NOT NULL,
    sent_at TIMESTAMP
);
CREATE INDEX handovers_external ON handovers (endpoint_id, external_id);

-- Outgoing HTTP: reports to back offices and webhook deliveries. dedupe
-- makes each one once (a report to an endpoint; an event to a webhook).
CREATE TABLE deliveries (
    id TEXT PRIMARY KEY NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('open311', 'withdraw', 'webhook')),
    target_id TEXT NOT NULL,
    report_id TEXT NOT NULL REFERENCES reports (id),
    dedupe TEXT NOT NULL,
    event_type TEXT NOT NULL,
    payload TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('pending', 'sent', 'dead')),
    attempts INTEGER NOT NULL,
    next_attempt_at TIMESTAMP NOT NULL,
    lease_until TIMESTAMP,
    last_error TEXT,
    created_at TIMESTAMP NOT NULL,
    sent_at TIMESTAMP
);
CREATE UNIQUE INDEX deliveries_once ON deliveries (dedupe);
CREATE INDEX deliveries_due ON deliveries (status, next_attempt_at);

-- Webhook subscriptions: events are short names, comma-separated; a
-- rotated secret keeps signing beside the new one until previous_until.
CREATE TABLE webhooks (
    id TEXT PRIMARY KEY NOT NULL,
    url TEXT NOT NULL,
    events TEXT NOT NULL,
    category_id TEXT REFERENCES categories (id),
    department_id TEXT REFERENCES departments (id),
    secret TEXT NOT NULL,
    previous_secret TEXT,
    previous_until TIMESTAMP,
    created_at TIMESTAMP NOT NULL,
    deleted_at TIMESTAMP
);

-- Report events waiting to be matched to webhooks and back offices,
-- written in the event's own transaction.
CREATE TABLE hook_pending (
    event_id TEXT PRIMARY KEY NOT NULL,
    report_id TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL
);

-- What back offices said (pulled, pushed, or answered through a mailed
-- link), each once per scope (endpoint:ID for what was pulled,
-- department:ID for what a department's key pushed, mail:ID for a mailed
-- link's answers), and what came of it.
CREATE TABLE back_office_updates (
    scope TEXT NOT NULL,
    update_id TEXT NOT NULL,
    report_id TEXT REFERENCES reports (id),
    source TEXT NOT NULL CHECK (source IN ('pull', 'push', 'mail')),
    status TEXT NOT NULL,
    notes TEXT,
    outcome TEXT NOT NULL CHECK (outcome IN ('applied', 'refused', 'ignored')),
    reason TEXT,
    event_id TEXT,
    received_at TIMESTAMP NOT NULL,
    PRIMARY KEY (scope, update_id)
);
CREATE INDEX back_office_updates_report ON back_office_updates (report_id, received_at);

-- Back offices push their updates with keys of their own (kind
-- back_office, scopes: the department's id). SQLite changes a CHECK by
-- rebuilding the table.
CREATE TABLE api_keys_new (
    id TEXT PRIMARY KEY NOT NULL,
    -- SHA-256 of the key, hex; the key itself is never stored
    key_hash TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('open311', 'api', 'back_office')),
    user_id TEXT REFERENCES users(id),
    created_at TIMESTAMP NOT NULL,
    revoked_at TIMESTAMP,
    scopes TEXT NOT NULL DEFAULT '*'
);
INSERT INTO api_keys_new (id, key_hash, name, kind, user_id, created_at, revoked_at, scopes)
    SELECT id, key_hash, name, kind, user_id, created_at, revoked_at, scopes FROM api_keys;
DROP TABLE api_keys;
ALTER TABLE api_keys_new RENAME TO api_keys;

-- Photos a report came with as addresses (Open311 media_url, e.g. from a
-- city handing its reports over), kept as given and shown as links.
CREATE TABLE report_media_links (
    report_id TEXT NOT NULL REFERENCES reports (id),
    position INTEGER NOT NULL,
    url TEXT NOT NULL,
    PRIMARY KEY (report_id, position)
);
