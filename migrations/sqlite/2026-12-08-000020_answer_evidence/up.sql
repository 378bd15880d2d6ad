-- What was checked of each photo an answer (or a refutation) carried: when
-- and where it was taken against the report, and whether it is a near copy
-- of the report's own photo or of an earlier answer's.
CREATE TABLE photo_checks (
    event_id TEXT NOT NULL REFERENCES report_events (id),
    digest TEXT NOT NULL,
    report_id TEXT NOT NULL REFERENCES reports (id),
    department_id TEXT,
    position INTEGER NOT NULL,
    taken TEXT NOT NULL CHECK (taken IN ('after', 'before', 'unknown')),
    taken_at TIMESTAMP,
    place TEXT NOT NULL CHECK (place IN ('near', 'far', 'unknown')),
    distance_m DOUBLE PRECISION,
    copy_of TEXT,
    copy_report BIGINT,
    flagged BOOLEAN NOT NULL,
    created_at TIMESTAMP NOT NULL,
    PRIMARY KEY (event_id, digest)
);
CREATE INDEX photo_checks_report ON photo_checks (report_id);
CREATE INDEX photo_checks_flagged ON photo_checks (department_id) WHERE flagged;

-- The perceptual hash of every photo an answer used, so that a later answer
-- reusing one anywhere in the city is found.
CREATE TABLE answer_prints (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    digest TEXT NOT NULL,
    report_number BIGINT NOT NULL,
    print BLOB NOT NULL,
    created_at TIMESTAMP NOT NULL
);

-- Answers whose photos were flagged, in categories that hold them until a
-- supervisor approves (the answer then goes out) or rejects them.
CREATE TABLE held_answers (
    id TEXT PRIMARY KEY NOT NULL,
    report_id TEXT NOT NULL REFERENCES reports (id),
    cycle INTEGER NOT NULL,
    actor_id TEXT NOT NULL REFERENCES users (id),
    actor_role TEXT NOT NULL,
    answer TEXT,
    photos TEXT NOT NULL,
    checks TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    decided_at TIMESTAMP,
    decided_by TEXT REFERENCES users (id),
    decision TEXT CHECK (decision IN ('approved', 'rejected')),
    reason TEXT
);
CREATE INDEX held_answers_waiting ON held_answers (created_at) WHERE decided_at IS NULL;

-- What a category does with an answer whose photos are flagged: publish it
-- with the flag, or hold it for a supervisor.
ALTER TABLE categories ADD COLUMN evidence_policy TEXT NOT NULL DEFAULT 'flag'
    CHECK (evidence_policy IN ('flag', 'hold'));

-- A resolution's photo checks, in its ledger entry (hashed as version 2).
ALTER TABLE ledger_entries ADD COLUMN evidence TEXT;
