//! The resolution ledger as stored. Entries are appended inside the
//! transaction of the workflow move they record; on PostgreSQL the append
//! first takes a transaction-level advisory lock, so that appends from any
//! number of instances queue for the head one at a time and make one
//! gapless chain (SQLite's write transaction is already the only writer).
//! Checkpoints are signed only over a ledger that verifies.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::rows::{LedgerCheckpointRow, LedgerEntryRow};
use super::schema::{ledger_checkpoints, ledger_entries};
use super::{outbox, DbConnection, DbError};
use crate::ledger::merkle::{self, Hash};
use crate::ledger::{self, Break, Checkpoint, Draft, Entry, Intact, Pseudonyms, SigningKeys};

/// The secret that makes residents' pseudonyms.
const PSEUDONYM_SECRET: &str = "ledger_pseudonym_key";
/// The signing key's seed when none is configured.
pub const SIGNING_SECRET: &str = "ledger_signing_key";
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

/// The checkpoint signing key: the configured seed (hex), or the one this
/// installation generated and stored on its first start.
pub fn signing_keys(
    conn: &mut DbConnection,
    configured: &str,
    now: NaiveDateTime,
) -> Result<SigningKeys, DbError> {
    let seed = match configured.trim() {
        "" => outbox::secret(conn, SIGNING_SECRET, SigningKeys::fresh_seed(), now)?,
        seed => seed.to_string(),
    };
    SigningKeys::from_hex(&seed).map_err(|e| DbError::Corrupt(format!("ledger.signing_key: {e}")))
}

/// The public keys of the signing keys this installation rotated out:
/// their checkpoints stay trusted.
pub fn retired_public_keys(conn: &mut DbConnection) -> Result<Vec<String>, DbError> {
    super::operations::retired(conn, SIGNING_SECRET)?
        .iter()
        .map(|old| {
            SigningKeys::from_hex(&old.value)
                .map(|k| k.public_hex())
                .map_err(|e| DbError::Corrupt(format!("a retired ledger key: {e}")))
        })
        .collect()
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
    Ok(entries)
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
    Ok(verifier.finish())
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

/// The Merkle leaf hashes of the first `size` entries.
fn leaves(conn: &mut DbConnection, size: i64) -> Result<Vec<Hash>, DbError> {
    let hashes: Vec<String> = ledger_entries::table
        .filter(ledger_entries::seq.le(size))
        .order(ledger_entries::seq)
        .select(ledger_entries::hash)
        .load(conn)?;
    hashes
        .iter()
        .map(|h| {
            ledger::unhex(h)
                .map(|bytes| merkle::leaf_hash(&bytes))
                .ok_or_else(|| DbError::Corrupt(format!("ledger hash '{h}' is not hex")))
        })
        .collect()
}

/// The audit paths of entries `seqs` in the tree of the first `size`
/// entries (each entry must be within it).
pub fn inclusion_proofs(
    conn: &mut DbConnection,
    size: i64,
    seqs: &[i64],
) -> Result<Vec<Vec<Hash>>, DbError> {
    let leaves = leaves(conn, size)?;
    seqs.iter()
        .map(|&seq| {
            usize::try_from(seq - 1)
                .ok()
                .and_then(|index| merkle::inclusion_proof(&leaves, index))
                .ok_or_else(|| DbError::Corrupt(format!("entry {seq} is not among {size}")))
        })
        .collect()
}

/// The consistency proof between the trees of the first `old_size` and
/// `new_size` entries.
pub fn consistency_proof(
    conn: &mut DbConnection,
    old_size: i64,
    new_size: i64,
) -> Result<Vec<Hash>, DbError> {
    let leaves = leaves(conn, new_size)?;
    usize::try_from(old_size)
        .ok()
        .and_then(|old| merkle::consistency_proof(&leaves, old))
        .ok_or_else(|| {
            DbError::Corrupt(format!(
                "no consistency proof from {old_size} to {new_size}"
            ))
        })
}
