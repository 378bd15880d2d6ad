-- The resolution ledger is append-only: its entries and checkpoints are
-- never changed, deleted or truncated (verification still catches whoever
-- drops these triggers first). Residents' answers to the city's fix, beside
-- the reporter's, are kept per answer cycle.

CREATE FUNCTION gorod_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '% is append-only: rows are never changed or deleted', TG_TABLE_NAME;
END
$$;

CREATE TRIGGER ledger_entries_append_only BEFORE UPDATE OR DELETE ON ledger_entries
    FOR EACH ROW EXECUTE FUNCTION gorod_append_only();
CREATE TRIGGER ledger_entries_no_truncate BEFORE TRUNCATE ON ledger_entries
    FOR EACH STATEMENT EXECUTE FUNCTION gorod_append_only();

CREATE TABLE ledger_checkpoints (
    size BIGINT PRIMARY KEY NOT NULL,
    head_hash TEXT NOT NULL,
    root_hash TEXT NOT NULL,
    signed_at TIMESTAMP NOT NULL,
    public_key TEXT NOT NULL,
    signature TEXT NOT NULL
);

CREATE TRIGGER ledger_checkpoints_append_only BEFORE UPDATE OR DELETE ON ledger_checkpoints
    FOR EACH ROW EXECUTE FUNCTION gorod_append_only();
CREATE TRIGGER ledger_checkpoints_no_truncate BEFORE TRUNCATE ON ledger_checkpoints
    FOR EACH STATEMENT EXECUTE FUNCTION gorod_append_only();

CREATE TABLE report_checks (
    report_id TEXT NOT NULL REFERENCES reports(id),
    cycle INTEGER NOT NULL,
    user_id TEXT NOT NULL REFERENCES users(id),
    fixed BOOLEAN NOT NULL,
    reason TEXT,
    created_at TIMESTAMP NOT NULL,
    PRIMARY KEY (report_id, cycle, user_id)
);
