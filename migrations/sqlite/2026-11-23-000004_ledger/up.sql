-- The resolution ledger is append-only: its entries and checkpoints are
-- never changed or deleted (verification still catches whoever drops these
-- triggers first). Residents' answers to the city's fix, beside the
-- reporter's, are kept per answer cycle.

CREATE TRIGGER ledger_entries_no_update BEFORE UPDATE ON ledger_entries
BEGIN SELECT RAISE(ABORT, 'ledger_entries is append-only: an entry is never changed'); END;
CREATE TRIGGER ledger_entries_no_delete BEFORE DELETE ON ledger_entries
BEGIN SELECT RAISE(ABORT, 'ledger_entries is append-only: an entry is never deleted'); END;

CREATE TABLE ledger_checkpoints (
    size BIGINT PRIMARY KEY NOT NULL,
    head_hash TEXT NOT NULL,
    root_hash TEXT NOT NULL,
    signed_at TIMESTAMP NOT NULL,
    public_key TEXT NOT NULL,
    signature TEXT NOT NULL
);

CREATE TRIGGER ledger_checkpoints_no_update BEFORE UPDATE ON ledger_checkpoints
BEGIN SELECT RAISE(ABORT, 'ledger_checkpoints is append-only: a checkpoint is never changed'); END;
CREATE TRIGGER ledger_checkpoints_no_delete BEFORE DELETE ON ledger_checkpoints
BEGIN SELECT RAISE(ABORT, 'ledger_checkpoints is append-only: a checkpoint is never deleted'); END;

CREATE TABLE report_checks (
    report_id TEXT NOT NULL REFERENCES reports(id),
    cycle INTEGER NOT NULL,
    user_id TEXT NOT NULL REFERENCES users(id),
    fixed BOOLEAN NOT NULL,
    reason TEXT,
    created_at TIMESTAMP NOT NULL,
    PRIMARY KEY (report_id, cycle, user_id)
);
