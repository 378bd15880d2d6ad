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
use crate::ledger::checkpoint::Rotation;
use crate::ledger::merkle::Hash;
use crate::ledger::{note, tiles};

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

/// Brings the ledger's Merkle tiles up to its last entry (after an upgrade
/// from a version without them); how many entries they hold.
pub fn catch_up_tiles(conn: &mut DbConnection) -> Result<u64, DbError> {
    db::write_transaction(conn, |conn| {
        let size = ledger_db::head(conn)?.map_or(0, |h| h.seq);
        ledger_db::catch_up_tiles(conn, size)
    })
}

/// Up to `PAGE` entries after sequence number `after`, oldest first.
pub fn entries_after(conn: &mut DbConnection, after: i64) -> Result<Vec<Entry>, DbError> {
    ledger_db::entries_after(conn, after, PAGE)
}

/// The latest checkpoint as a C2SP signed note: its text under the log's
/// origin, the log's signature and every witness's cosignature of it.
/// Signed only when the stored checkpoint's own signature is a trusted
/// key's (a row written into the database by anyone else is not signed).
pub fn log_checkpoint(app: &Services, conn: &mut DbConnection) -> Result<String, Refused> {
    let nothing = || {
        Refused::NotFound(Text::new(
            "ещё не подписано ни одной контрольной точки",
            "no checkpoint has been signed yet",
        ))
    };
    let latest = ledger_db::checkpoint(conn, None)?.ok_or_else(nothing)?;
    let trusted =
        app.ledger_keys.trusted.contains(&latest.public_key) && latest.check_signature().is_ok();
    let root = crate::ledger::unhex(&latest.root_hash).filter(|_| trusted);
    let Some(root) = root else {
        return Err(Refused::Conflict(Text::new(
            "последняя контрольная точка подписана не ключом журнала",
            "the latest checkpoint is not signed by the ledger's key",
        )));
    };
    let text = note::checkpoint_text(&app.ledger_origin, latest.size as u64, &root);
    let signing = app.ledger_keys.signing.key();
    let mut out = format!("{text}\n");
    out.push_str(&note::sign(&text, &app.ledger_origin, signing).to_text());
    for cosignature in ledger_db::cosignatures(conn, latest.size)? {
        out.push_str(&cosignature.line);
        out.push('\n');
    }
    Ok(out)
}

/// The log's verifier key in C2SP form.
pub fn log_key(app: &Services) -> String {
    let public = app.ledger_keys.signing.key().verifying_key();
    note::verifier_key(&app.ledger_origin, public.as_bytes())
}

/// Every change of the signing key, oldest first.
pub fn rotations(conn: &mut DbConnection) -> Result<Vec<Rotation>, DbError> {
    ledger_db::rotations(conn)
}

/// A C2SP tile's bytes: the first `width` hashes of a hash tile, or an
/// entry bundle of `width` entries; `None` while the ledger has fewer.
pub fn tile(conn: &mut DbConnection, asked: tiles::Asked) -> Result<Option<Vec<u8>>, DbError> {
    match asked {
        tiles::Asked::Hashes { id, width } => {
            let loaded = ledger_db::load_tiles(conn, &[id])?;
            Ok(loaded
                .get(&id)
                .and_then(|hashes| hashes.get(..width as usize))
                .map(|hashes| hashes.concat()))
        }
        tiles::Asked::Entries { index, width } => {
            let first = (index * tiles::WIDTH) as i64;
            let entries = ledger_db::entries_after(conn, first, width as i64)?;
            let data: Option<Vec<Hash>> = entries.iter().map(Entry::leaf).collect();
            Ok(data
                .filter(|data| data.len() as u64 == width)
                .map(|data| tiles::bundle(&data)))
        }
    }
}

/// Takes a witness's cosignature of a signed checkpoint: the note as the
/// witness returned it, with its line among them. Only a configured
/// witness's line over a checkpoint this log signed counts; the number of
/// cosignatures kept.
pub fn add_cosignature(
    app: &Services,
    conn: &mut DbConnection,
    posted: &str,
    now: NaiveDateTime,
) -> Result<usize, Refused> {
    let invalid = |en: &str, ru: &str| {
        Refused::Invalid(crate::reports::ValidationError::new(
            "signed_note",
            Text::new(ru.to_string(), en.to_string()),
        ))
    };
    let posted = note::Note::parse(posted).ok_or_else(|| {
        invalid(
            "is not a signed note (a checkpoint, an empty line, signature lines)",
            "не подписанная записка C2SP (контрольная точка, пустая строка, строки подписей)",
        )
    })?;
    let head = note::Head::parse(&posted.text)
        .filter(|head| head.origin == app.ledger_origin)
        .ok_or_else(|| {
            invalid(
                "is not a checkpoint of this ledger",
                "не контрольная точка этого журнала",
            )
        })?;
    let ours = ledger_db::checkpoint(conn, Some(head.size as i64))?
        .filter(|c| crate::ledger::unhex(&c.root_hash) == Some(head.root))
        .ok_or_else(|| {
            Refused::Conflict(Text::new(
                "журнал не подписывал такой контрольной точки",
                "this ledger signed no such checkpoint",
            ))
        })?;
    let mut kept = 0;
    for witness in &app.ledger_witnesses {
        let Some(time) = posted.signed_by(witness) else {
            continue;
        };
        let id = witness.id();
        let Some(line) = posted
            .lines
            .iter()
            .find(|l| l.name == witness.name && l.id == id)
        else {
            continue;
        };
        let cosigned_at = chrono::DateTime::from_timestamp(time.min(i64::MAX as u64) as i64, 0)
            .map_or(now, |t| t.naive_utc());
        ledger_db::record_cosignature(
            conn,
            &ledger_db::Cosignature {
                size: ours.size,
                witness: witness.name.clone(),
                line: line.to_text().trim_end().to_string(),
                cosigned_at,
            },
            now,
        )?;
        kept += 1;
    }
    if kept == 0 {
        return Err(Refused::Forbidden(Text::new(
            "в заметке нет действительной подписи известного свидетеля",
            "the note carries no valid cosignature of a known witness",
        )));
    }
    Ok(kept)
}
