DROP TABLE ledger_key_rotations;
DROP TABLE ledger_cosignatures;
DROP TABLE ledger_tiles;
