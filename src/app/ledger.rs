//! Reading the resolution ledger: its signed checkpoints, a report's (or
//! one) entry with its inclusion proofs, consistency between two
//! checkpoints, the whole chain's verification and its export page by
//! page. Signing a checkpoint is a job (`app::jobs::checkpoint`).

pub use crate::db::ledger::{CheckpointError, PAGE};
pub use crate::ledger::{Break, Checkpoint, Entry, Intact, LedgerKeys};

use crate::locale::Text;
use chrono::NaiveDateTime;

use super::{Refused, Services};
use crate::db::{self, ledger as ledger_db, DbConnection, DbError};
use crate::ledger::merkle::Hash;

/// Every signed checkpoint, oldest first.
pub fn checkpoints(conn: &mut DbConnection) -> Result<Vec<Checkpoint>, DbError> {
    ledger_db::checkpoints(conn)
}

/// The checkpoint of `size` entries, or the latest.
pub fn checkpoint(
    conn: &mut DbConnection,
    size: Option<i64>,
) -> Result<Option<Checkpoint>, DbError> {
    ledger_db::checkpoint(conn, size)
}

/// Which entries to prove.
#[derive(Debug, Clone, Copy)]
pub enum Proving {
    /// Every entry of the report with this number.
    Report(i64),
    /// The entry with this sequence number.
    Seq(i64),
}

/// The entries asked for that the checkpoint of `covered` entries holds,
/// each with its inclusion proof.
pub fn proofs(
    conn: &mut DbConnection,
    which: Proving,
    covered: i64,
) -> Result<(Vec<Entry>, Vec<Vec<Hash>>), Refused> {
    let entries: Vec<Entry> = match which {
        Proving::Report(number) => {
            let id = db::reports::id_of_number(conn, number)?.ok_or_else(|| {
                Refused::NotFound(Text::new(
                    format!("нет обращения № {number}"),
                    format!("there is no report {number}"),
                ))
            })?;
            ledger_db::entries_of(conn, &id)?
        }
        Proving::Seq(seq) => ledger_db::entries_after(conn, seq - 1, 1)?
            .into_iter()
            .filter(|e| e.seq == seq)
            .collect(),
    };
    let entries: Vec<Entry> = entries.into_iter().filter(|e| e.seq <= covered).collect();
    let seqs: Vec<i64> = entries.iter().map(|e| e.seq).collect();
    let proofs = ledger_db::inclusion_proofs(conn, covered, &seqs)?;
    Ok((entries, proofs))
}

/// The proof that the first `from` entries are the start of the first
/// `to` (RFC 6962).
pub fn consistency_proof(
    conn: &mut DbConnection,
    from: i64,
    to: i64,
) -> Result<Vec<Hash>, DbError> {
    ledger_db::consistency_proof(conn, from, to)
}

/// Checks the whole chain and every checkpoint against the trusted keys.
pub fn verify(app: &Services, conn: &mut DbConnection) -> Result<Result<Intact, Break>, DbError> {
    verify_with(conn, &app.ledger_keys)
}

/// Checks the whole chain and every checkpoint against these keys' trusted
/// ones (the operator's `gorod ledger verify`).
pub fn verify_with(
    conn: &mut DbConnection,
    keys: &LedgerKeys,
) -> Result<Result<Intact, Break>, DbError> {
    ledger_db::verify(conn, &keys.trusted)
}

/// Signs a checkpoint of the whole ledger now, once it verifies (the
/// operator's `gorod ledger checkpoint`); one of the same size already
/// signed is given back as it is.
pub fn sign_now(
    conn: &mut DbConnection,
    keys: &LedgerKeys,
    now: NaiveDateTime,
) -> Result<Checkpoint, CheckpointError> {
    ledger_db::sign_checkpoint(conn, &keys.signing, &keys.trusted, now)
}

/// Up to `PAGE` entries after sequence number `after`, oldest first.
pub fn entries_after(conn: &mut DbConnection, after: i64) -> Result<Vec<Entry>, DbError> {
    ledger_db::entries_after(conn, after, PAGE)
}
