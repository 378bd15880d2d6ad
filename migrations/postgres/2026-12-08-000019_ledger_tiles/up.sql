-- The ledger's Merkle tree as C2SP tlog-tiles of height 8: tile (level, idx)
-- holds the 32-byte hashes of the complete nodes at height 8 × level from
-- number 256 × idx on, at most 256. Only the rightmost tile of each level
-- changes, as entries are appended; proofs read a few tiles instead of every
-- entry. Derived from ledger_entries, and rebuilt from them when behind.
CREATE TABLE ledger_tiles (
    level INTEGER NOT NULL,
    idx BIGINT NOT NULL,
    hashes BYTEA NOT NULL,
    PRIMARY KEY (level, idx)
);

-- Witnesses' cosignatures (C2SP tlog-cosignature) of signed checkpoints: the
-- signature line each witness posted, checked against its configured key.
CREATE TABLE ledger_cosignatures (
    size BIGINT NOT NULL REFERENCES ledger_checkpoints (size),
    witness TEXT NOT NULL,
    line TEXT NOT NULL,
    cosigned_at TIMESTAMP NOT NULL,
    received_at TIMESTAMP NOT NULL,
    PRIMARY KEY (size, witness)
);

-- Each change of the checkpoint signing key: the last checkpoint the old
-- key signed, and a statement of the change signed by both keys, so that
-- anyone trusting the old key can follow to the new one.
CREATE TABLE ledger_key_rotations (
    old_key TEXT PRIMARY KEY NOT NULL,
    new_key TEXT NOT NULL,
    handover_size BIGINT NOT NULL,
    rotated_at TIMESTAMP NOT NULL,
    old_signature TEXT NOT NULL,
    new_signature TEXT NOT NULL
);
CREATE TRIGGER ledger_key_rotations_append_only BEFORE UPDATE OR DELETE ON ledger_key_rotations
    FOR EACH ROW EXECUTE FUNCTION gorod_append_only();
