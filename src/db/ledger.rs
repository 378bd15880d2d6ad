//! The resolution ledger as stored. Entries are appended inside the
//! transaction of the workflow move they record; on PostgreSQL the append
//! first takes a transaction-level advisory lock, so that appends from any
//! number of instances queue for the head one at a time and make one
//! gapless chain (SQLite's write transaction is already the only writer).
//! Checkpoints are signed only over a ledger that verifies.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::rows::{LedgerCheckpointRow, LedgerEntryRow};
use super::schema::{
    ledger_checkpoints, ledger_cosignatures, ledger_entries, ledger_key_rotations, ledger_tiles,
};
use super::{outbox, DbConnection, DbError};
use crate::ledger::checkpoint::Rotation;
use crate::ledger::merkle::{self, Hash};
use crate::ledger::tiles::{self, Plan, TileId, Tiles};
use crate::ledger::{self, Break, Checkpoint, Draft, Entry, Intact, Pseudonyms, SigningKeys};
use std::cell::Cell;

/// The secret that makes residents' pseudonyms.
const PSEUDONYM_SECRET: &str = "ledger_pseudonym_key";
/// The name under which earlier versions kept the signing key's seed.
const SIGNING_SECRET: &str = "ledger_signing_key";
/// The advisory lock appends hold on PostgreSQL ("gorodlgr").
const APPEND_LOCK: i64 = 0x676f_726f_646c_6772;
/// Entries read at a time when walking the ledger.
pub const PAGE: i64 = 5_000;

impl From<LedgerEntryRow> for Entry {
    fn from(row: LedgerEntryRow) -> Entry {
        Entry {
            seq: row.seq,
            report_id: row.report_id,
            report_number: row.report_number,
            kind: row.kind,
            actor: row.actor,
            recorded_at: row.recorded_at,
            answer_digest: row.answer_digest,
            photo_digests: row
                .photo_digests
                .split(',')
                .filter(|d| !d.is_empty())
                .map(str::to_string)
                .collect(),
            prev_hash: row.prev_hash,
            hash: row.hash,
            evidence: row.evidence,
        }
    }
}

impl From<&Entry> for LedgerEntryRow {
    fn from(entry: &Entry) -> LedgerEntryRow {
        LedgerEntryRow {
            seq: entry.seq,
            report_id: entry.report_id.clone(),
            report_number: entry.report_number,
            kind: entry.kind.clone(),
            actor: entry.actor.clone(),
            recorded_at: entry.recorded_at,
            answer_digest: entry.answer_digest.clone(),
            photo_digests: entry.photo_digests.join(","),
            prev_hash: entry.prev_hash.clone(),
            hash: entry.hash.clone(),
            evidence: entry.evidence.clone(),
        }
    }
}

impl From<LedgerCheckpointRow> for Checkpoint {
    fn from(row: LedgerCheckpointRow) -> Checkpoint {
        Checkpoint {
            size: row.size,
            head_hash: row.head_hash,
            root_hash: row.root_hash,
            signed_at: row.signed_at,
            public_key: row.public_key,
            signature: row.signature,
        }
    }
}

/// The installation's pseudonym key, made on first use.
fn pseudonyms(conn: &mut DbConnection, now: NaiveDateTime) -> Result<Pseudonyms, DbError> {
    let key = outbox::secret(conn, PSEUDONYM_SECRET, SigningKeys::fresh_seed(), now)?;
    Ok(Pseudonyms::new(key.as_bytes()))
}

/// A signing key an earlier version kept in the database, with the public
/// keys of those it rotated out, taken out of it: the caller has written it
/// elsewhere before this transaction commits. `None` when there is none.
pub fn take_stored_key(conn: &mut DbConnection) -> Result<Option<(String, Vec<String>)>, DbError> {
    use super::schema::{retired_secrets, secrets};
    let Some(seed) = secrets::table
        .find(SIGNING_SECRET)
        .select(secrets::value)
        .first::<String>(conn)
        .optional()?
    else {
        return Ok(None);
    };
    let retired = super::operations::retired(conn, SIGNING_SECRET)?
        .iter()
        .map(|old| {
            SigningKeys::from_hex(&old.value)
                .map(|k| k.public_hex())
                .map_err(|e| DbError::Corrupt(format!("a retired ledger key: {e}")))
        })
        .collect::<Result<Vec<String>, DbError>>()?;
    diesel::delete(retired_secrets::table.filter(retired_secrets::name.eq(SIGNING_SECRET)))
        .execute(conn)?;
    diesel::delete(secrets::table.find(SIGNING_SECRET)).execute(conn)?;
    Ok(Some((seed, retired)))
}

/// Records a change of the signing key.
pub fn record_rotation(conn: &mut DbConnection, rotation: &Rotation) -> Result<(), DbError> {
    diesel::insert_into(ledger_key_rotations::table)
        .values((
            ledger_key_rotations::old_key.eq(&rotation.old_key),
            ledger_key_rotations::new_key.eq(&rotation.new_key),
            ledger_key_rotations::handover_size.eq(rotation.handover_size),
            ledger_key_rotations::rotated_at.eq(rotation.rotated_at),
            ledger_key_rotations::old_signature.eq(&rotation.old_signature),
            ledger_key_rotations::new_signature.eq(&rotation.new_signature),
        ))
        .execute(conn)?;
    Ok(())
}

/// Every change of the signing key, oldest first.
pub fn rotations(conn: &mut DbConnection) -> Result<Vec<Rotation>, DbError> {
    let rows: Vec<(String, String, i64, NaiveDateTime, String, String)> =
        ledger_key_rotations::table
            .order(ledger_key_rotations::rotated_at)
            .select((
                ledger_key_rotations::old_key,
                ledger_key_rotations::new_key,
                ledger_key_rotations::handover_size,
                ledger_key_rotations::rotated_at,
                ledger_key_rotations::old_signature,
                ledger_key_rotations::new_signature,
            ))
            .load(conn)?;
    Ok(rows
        .into_iter()
        .map(
            |(old_key, new_key, handover_size, rotated_at, old_signature, new_signature)| {
                Rotation {
                    old_key,
                    new_key,
                    handover_size,
                    rotated_at,
                    old_signature,
                    new_signature,
                }
            },
        )
        .collect())
}

/// A witness's cosignature of the checkpoint of `size` entries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cosignature {
    pub size: i64,
    pub witness: String,
    /// The signature line, as it is published.
    pub line: String,
    pub cosigned_at: NaiveDateTime,
}

/// Keeps a witness's cosignature (its latest for a checkpoint wins).
pub fn record_cosignature(
    conn: &mut DbConnection,
    cosignature: &Cosignature,
    now: NaiveDateTime,
) -> Result<(), DbError> {
    upsert!(
        conn,
        ledger_cosignatures::table,
        (
            ledger_cosignatures::size.eq(cosignature.size),
            ledger_cosignatures::witness.eq(&cosignature.witness),
            ledger_cosignatures::line.eq(&cosignature.line),
            ledger_cosignatures::cosigned_at.eq(cosignature.cosigned_at),
            ledger_cosignatures::received_at.eq(now),
        ),
        (ledger_cosignatures::size, ledger_cosignatures::witness),
        (
            ledger_cosignatures::line.eq(&cosignature.line),
            ledger_cosignatures::cosigned_at.eq(cosignature.cosigned_at),
            ledger_cosignatures::received_at.eq(now),
        )
    );
    Ok(())
}

/// The cosignatures of the checkpoint of `size` entries, by witness name.
pub fn cosignatures(conn: &mut DbConnection, size: i64) -> Result<Vec<Cosignature>, DbError> {
    let rows: Vec<(i64, String, String, NaiveDateTime)> = ledger_cosignatures::table
        .filter(ledger_cosignatures::size.eq(size))
        .order(ledger_cosignatures::witness)
        .select((
            ledger_cosignatures::size,
            ledger_cosignatures::witness,
            ledger_cosignatures::line,
            ledger_cosignatures::cosigned_at,
        ))
        .load(conn)?;
    Ok(rows
        .into_iter()
        .map(|(size, witness, line, cosigned_at)| Cosignature {
            size,
            witness,
            line,
            cosigned_at,
        })
        .collect())
}

/// The last entry.
pub fn head(conn: &mut DbConnection) -> Result<Option<Entry>, DbError> {
    Ok(ledger_entries::table
        .order(ledger_entries::seq.desc())
        .select(LedgerEntryRow::as_select())
        .first(conn)
        .optional()?
        .map(Entry::from))
}

/// Appends entries after the head, inside the caller's write transaction.
pub fn append(
    conn: &mut DbConnection,
    drafts: &[Draft],
    now: NaiveDateTime,
) -> Result<Vec<Entry>, DbError> {
    if drafts.is_empty() {
        return Ok(Vec::new());
    }
    if let DbConnection::Postgres(pg) = conn {
        diesel::sql_query(format!("SELECT pg_advisory_xact_lock({APPEND_LOCK})")).execute(pg)?;
    }
    let pseudonyms = pseudonyms(conn, now)?;
    let head = head(conn)?;
    let entries = ledger::chain(head.as_ref(), drafts, &pseudonyms);
    let rows: Vec<LedgerEntryRow> = entries.iter().map(LedgerEntryRow::from).collect();
    insert_batches!(conn, ledger_entries::table, &rows);
    let size = head.map_or(0, |h| h.seq);
    let grown = catch_up_tiles(conn, size)?;
    extend_tiles(
        conn,
        grown,
        &leaf_hashes(entries.iter().map(|e| e.hash.as_str()))?,
    )?;
    Ok(entries)
}

thread_local! {
    /// Tiles read on this thread (what a proof costs, counted per thread so
    /// that concurrent readers do not blur the count).
    static TILES_READ: Cell<u64> = const { Cell::new(0) };
}

/// How many tiles this thread has read.
pub fn tiles_read() -> u64 {
    TILES_READ.with(Cell::get)
}

/// The Merkle leaf hashes of entries given by their hashes.
fn leaf_hashes<'a>(hashes: impl Iterator<Item = &'a str>) -> Result<Vec<Hash>, DbError> {
    hashes
        .map(|h| {
            ledger::unhex(h)
                .map(|bytes| merkle::leaf_hash(&bytes))
                .ok_or_else(|| DbError::Corrupt(format!("ledger hash '{h}' is not hex")))
        })
        .collect()
}

/// How many leaves the stored tiles hold.
fn tiles_size(conn: &mut DbConnection) -> Result<u64, DbError> {
    let last: Option<(i64, Vec<u8>)> = ledger_tiles::table
        .filter(ledger_tiles::level.eq(0))
        .order(ledger_tiles::idx.desc())
        .select((ledger_tiles::idx, ledger_tiles::hashes))
        .first(conn)
        .optional()?;
    Ok(last.map_or(0, |(idx, hashes)| {
        idx as u64 * tiles::WIDTH + (hashes.len() / 32) as u64
    }))
}

/// The stored tiles with these ids (those there are), counted as read.
pub fn load_tiles(conn: &mut DbConnection, ids: &[TileId]) -> Result<Tiles, DbError> {
    if ids.is_empty() {
        return Ok(Tiles::new());
    }
    let mut query = ledger_tiles::table.into_boxed();
    for id in ids {
        query = query.or_filter(
            ledger_tiles::level
                .eq(id.level as i32)
                .and(ledger_tiles::idx.eq(id.index as i64)),
        );
    }
    let rows: Vec<(i32, i64, Vec<u8>)> = query
        .select((ledger_tiles::level, ledger_tiles::idx, ledger_tiles::hashes))
        .load(conn)?;
    TILES_READ.with(|read| read.set(read.get() + rows.len() as u64));
    rows.into_iter()
        .map(|(level, idx, bytes)| {
            let hashes = bytes
                .chunks(32)
                .map(|chunk| chunk.try_into())
                .collect::<Result<Vec<Hash>, _>>()
                .map_err(|_| DbError::Corrupt(format!("ledger tile {level}/{idx} is cut short")))?;
            Ok((
                TileId {
                    level: level as u32,
                    index: idx as u64,
                },
                hashes,
            ))
        })
        .collect()
}

/// Appends leaf hashes to the tiles of a tree of `size` leaves.
fn extend_tiles(conn: &mut DbConnection, size: u64, leaves: &[Hash]) -> Result<(), DbError> {
    if leaves.is_empty() {
        return Ok(());
    }
    let edge: Vec<TileId> = tiles::edge(size).into_iter().map(|(id, _)| id).collect();
    let loaded = load_tiles(conn, &edge)?;
    let changed = tiles::grow(size, loaded, leaves).map_err(|id| {
        DbError::Corrupt(format!(
            "ledger tile {}/{} does not fit {size} entries",
            id.level, id.index
        ))
    })?;
    for (id, hashes) in changed {
        let bytes: Vec<u8> = hashes.concat();
        upsert!(
            conn,
            ledger_tiles::table,
            (
                ledger_tiles::level.eq(id.level as i32),
                ledger_tiles::idx.eq(id.index as i64),
                ledger_tiles::hashes.eq(&bytes),
            ),
            (ledger_tiles::level, ledger_tiles::idx),
            ledger_tiles::hashes.eq(&bytes)
        );
    }
    Ok(())
}

/// Brings the tiles up to the first `size` entries (after a migration, or
/// entries written without them); the tiles' size afterwards.
pub fn catch_up_tiles(conn: &mut DbConnection, size: i64) -> Result<u64, DbError> {
    let mut covered = tiles_size(conn)?;
    let size = size.max(0) as u64;
    if covered > size {
        return Err(DbError::Corrupt(format!(
            "the ledger's tiles hold {covered} entries, more than the {size} there are"
        )));
    }
    while covered < size {
        let hashes: Vec<String> = ledger_entries::table
            .filter(ledger_entries::seq.gt(covered as i64))
            .filter(ledger_entries::seq.le(size as i64))
            .order(ledger_entries::seq)
            .limit(PAGE)
            .select(ledger_entries::hash)
            .load(conn)?;
        if hashes.is_empty() {
            return Err(DbError::Corrupt(format!(
                "ledger entry {} is missing",
                covered + 1
            )));
        }
        let leaves = leaf_hashes(hashes.iter().map(String::as_str))?;
        extend_tiles(conn, covered, &leaves)?;
        covered += leaves.len() as u64;
    }
    Ok(covered)
}

/// The hashes of the proofs `plans` ask for, each from the tiles it reads
/// (all read in one query).
fn proved(conn: &mut DbConnection, plans: &[Plan]) -> Result<Vec<Vec<Hash>>, DbError> {
    let mut ids: Vec<TileId> = plans.iter().flat_map(Plan::tiles).collect();
    ids.sort();
    ids.dedup();
    let tiles = load_tiles(conn, &ids)?;
    plans
        .iter()
        .map(|plan| {
            plan.hashes(&tiles).map_err(|id| {
                DbError::Corrupt(format!(
                    "ledger tile {}/{} is missing or short",
                    id.level, id.index
                ))
            })
        })
        .collect()
}

/// The Merkle root of the first `size` entries, from the tiles.
pub fn root_at(conn: &mut DbConnection, size: i64) -> Result<Hash, DbError> {
    if size <= 0 {
        return Ok(merkle::empty_root());
    }
    let mut hashes = proved(conn, &[Plan::root(size as u64)])?;
    hashes
        .pop()
        .and_then(|mut h| h.pop())
        .ok_or_else(|| DbError::Corrupt("no root".into()))
}

/// Up to `limit` entries after `after`, in sequence order.
pub fn entries_after(
    conn: &mut DbConnection,
    after: i64,
    limit: i64,
) -> Result<Vec<Entry>, DbError> {
    Ok(ledger_entries::table
        .filter(ledger_entries::seq.gt(after))
        .order(ledger_entries::seq)
        .limit(limit)
        .select(LedgerEntryRow::as_select())
        .load(conn)?
        .into_iter()
        .map(Entry::from)
        .collect())
}

/// A report's entries, in sequence order.
pub fn entries_of(conn: &mut DbConnection, report_id: &str) -> Result<Vec<Entry>, DbError> {
    Ok(ledger_entries::table
        .filter(ledger_entries::report_id.eq(report_id))
        .order(ledger_entries::seq)
        .select(LedgerEntryRow::as_select())
        .load(conn)?
        .into_iter()
        .map(Entry::from)
        .collect())
}

/// Every checkpoint, smallest first.
pub fn checkpoints(conn: &mut DbConnection) -> Result<Vec<Checkpoint>, DbError> {
    Ok(ledger_checkpoints::table
        .order(ledger_checkpoints::size)
        .select(LedgerCheckpointRow::as_select())
        .load(conn)?
        .into_iter()
        .map(Checkpoint::from)
        .collect())
}

/// The checkpoint of `size` entries, or the latest one.
pub fn checkpoint(
    conn: &mut DbConnection,
    size: Option<i64>,
) -> Result<Option<Checkpoint>, DbError> {
    let query = ledger_checkpoints::table
        .order(ledger_checkpoints::size.desc())
        .select(LedgerCheckpointRow::as_select())
        .into_boxed();
    let query = match size {
        Some(size) => query.filter(ledger_checkpoints::size.eq(size)),
        None => query,
    };
    Ok(query.first(conn).optional()?.map(Checkpoint::from))
}

/// Walks the whole ledger and its checkpoints. The outer error is the
/// database's; the inner one is the ledger's first break.
pub fn verify(
    conn: &mut DbConnection,
    trusted_keys: &[String],
) -> Result<Result<Intact, Break>, DbError> {
    let mut verifier = match ledger::Verifier::new(checkpoints(conn)?, trusted_keys) {
        Ok(v) => v,
        Err(broken) => return Ok(Err(broken)),
    };
    let mut after = 0;
    loop {
        let page = entries_after(conn, after, PAGE)?;
        let Some(last) = page.last() else { break };
        after = last.seq;
        for entry in page {
            if let Err(broken) = verifier.push(entry) {
                return Ok(Err(broken));
            }
        }
    }
    let intact = match verifier.finish() {
        Ok(intact) => intact,
        broken => return Ok(broken),
    };
    // The tiles proofs are made from must hold the same tree (tiles behind
    // the entries catch up at the next append or start).
    let held = tiles_size(conn)?;
    if held > intact.entries as u64
        || (held == intact.entries as u64
            && root_at(conn, intact.entries).map(|r| ledger::hex(&r)).ok()
                != Some(intact.root_hash.clone()))
    {
        return Ok(Err(Break {
            seq: intact.entries.max(1),
            problem: "the stored Merkle tiles do not hold the tree of the entries, so \
                      proofs made from them would not verify"
                .into(),
        }));
    }
    Ok(Ok(intact))
}

/// Why no checkpoint was signed.
#[derive(Debug, thiserror::Error)]
pub enum CheckpointError {
    #[error("the ledger does not verify, so it is not signed: {0}")]
    Broken(#[from] Break),
    #[error(transparent)]
    Db(#[from] DbError),
}

impl From<diesel::result::Error> for CheckpointError {
    fn from(e: diesel::result::Error) -> Self {
        CheckpointError::Db(e.into())
    }
}

/// Signs a checkpoint of the whole ledger as it stands, once it verifies;
/// returns it (the existing one when the ledger has not grown since).
pub fn sign_checkpoint(
    conn: &mut DbConnection,
    keys: &SigningKeys,
    trusted_keys: &[String],
    now: NaiveDateTime,
) -> Result<Checkpoint, CheckpointError> {
    let intact = verify(conn, trusted_keys)??;
    if let Some(existing) = checkpoint(conn, Some(intact.entries))? {
        return Ok(existing);
    }
    let signed = keys.sign(intact.entries, &intact.head_hash, &intact.root_hash, now);
    insert_or_ignore!(
        conn,
        ledger_checkpoints::table,
        LedgerCheckpointRow {
            size: signed.size,
            head_hash: signed.head_hash.clone(),
            root_hash: signed.root_hash.clone(),
            signed_at: signed.signed_at,
            public_key: signed.public_key.clone(),
            signature: signed.signature.clone(),
        }
    );
    // Another instance may have signed the same size a moment earlier.
    Ok(checkpoint(conn, Some(signed.size))?.unwrap_or(signed))
}

/// Signs a checkpoint when the ledger has grown since the last one and the
/// last one is at least `interval` old; the new checkpoint, if any.
pub fn checkpoint_if_due(
    conn: &mut DbConnection,
    keys: &SigningKeys,
    trusted_keys: &[String],
    now: NaiveDateTime,
    interval: chrono::TimeDelta,
) -> Result<Option<Checkpoint>, CheckpointError> {
    let size = head(conn)?.map_or(0, |h| h.seq);
    let latest = checkpoint(conn, None)?;
    let due = match &latest {
        None => size > 0,
        Some(c) => size > c.size && now - c.signed_at >= interval,
    };
    if !due {
        return Ok(None);
    }
    sign_checkpoint(conn, keys, trusted_keys, now).map(Some)
}

/// The audit paths of entries `seqs` in the tree of the first `size`
/// entries (each entry must be within it), from the stored tiles.
pub fn inclusion_proofs(
    conn: &mut DbConnection,
    size: i64,
    seqs: &[i64],
) -> Result<Vec<Vec<Hash>>, DbError> {
    let plans = seqs
        .iter()
        .map(|&seq| {
            u64::try_from(seq - 1)
                .ok()
                .and_then(|index| Plan::inclusion(index, size.max(0) as u64))
                .ok_or_else(|| DbError::Corrupt(format!("entry {seq} is not among {size}")))
        })
        .collect::<Result<Vec<Plan>, DbError>>()?;
    proved(conn, &plans)
}

/// The consistency proof between the trees of the first `old_size` and
/// `new_size` entries, from the stored tiles.
pub fn consistency_proof(
    conn: &mut DbConnection,
    old_size: i64,
    new_size: i64,
) -> Result<Vec<Hash>, DbError> {
    let plan = u64::try_from(old_size)
        .ok()
        .zip(u64::try_from(new_size).ok())
        .and_then(|(old, new)| Plan::consistency(old, new))
        .ok_or_else(|| {
            DbError::Corrupt(format!(
                "no consistency proof from {old_size} to {new_size}"
            ))
        })?;
    Ok(proved(conn, &[plan])?.pop().unwrap_or_default())
}
