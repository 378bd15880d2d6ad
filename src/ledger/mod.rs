//! The resolution ledger: an append-only hash chain of what happened to the
//! city's answers (`resolved`, `confirmed`, `refuted`, `auto_confirmed`,
//! `reopened`, `closed`), and a Merkle tree over it (`merkle`). Pure: the
//! encoding, the hashes and the checks; `db::ledger` stores the entries.
//!
//! # Canonical encoding (version 1)
//!
//! An entry's hash is the lowercase hex SHA-256 of this UTF-8 text: the
//! line `gorod-ledger-v1`, then one line per field, in this order, each
//! `name=value` ending in a single `\n` (LF), with no other whitespace:
//!
//! | field | value |
//! |---|---|
//! | `seq` | the sequence number, decimal, from 1 |
//! | `report_id` | the report's id (a UUID, lowercase, hyphenated) |
//! | `report_number` | the report's public number, decimal |
//! | `kind` | one of the six kinds above |
//! | `actor` | `staff:<uuid>`, `resident:<pseudonym>` or `system` |
//! | `recorded_at` | UTC, `YYYY-MM-DDTHH:MM:SS.ffffffZ` (microseconds) |
//! | `answer_digest` | lowercase hex SHA-256 of the answer's UTF-8 text, or `-` |
//! | `photo_digests` | the photos' lowercase hex SHA-256 digests joined by `,`, or `-` |
//! | `prev_hash` | the previous entry's hash; 64 zeros for the first entry |
//!
//! Every value is ASCII with no line break, so the text is unambiguous.
//! The Merkle tree's leaf `i` is the 32 bytes of entry `i + 1`'s hash.

pub mod merkle;

use chrono::{NaiveDateTime, Timelike};
use sha2::{Digest, Sha256};

/// The hash before the first entry.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// What a ledger entry records.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Resolved,
    Confirmed,
    Refuted,
    AutoConfirmed,
    Reopened,
    Closed,
}

impl Kind {
    pub const ALL: [Kind; 6] = [
        Kind::Resolved,
        Kind::Confirmed,
        Kind::Refuted,
        Kind::AutoConfirmed,
        Kind::Reopened,
        Kind::Closed,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Resolved => "resolved",
            Kind::Confirmed => "confirmed",
            Kind::Refuted => "refuted",
            Kind::AutoConfirmed => "auto_confirmed",
            Kind::Reopened => "reopened",
            Kind::Closed => "closed",
        }
    }

    pub fn parse(text: &str) -> Option<Kind> {
        Kind::ALL.into_iter().find(|k| k.as_str() == text)
    }
}

/// One entry as stored, its hash included.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    pub seq: i64,
    pub report_id: String,
    pub report_number: i64,
    pub kind: String,
    pub actor: String,
    pub recorded_at: NaiveDateTime,
    pub answer_digest: Option<String>,
    pub photo_digests: Vec<String>,
    pub prev_hash: String,
    pub hash: String,
}

impl Entry {
    /// The canonical text the hash is taken over.
    pub fn canonical(&self) -> String {
        let optional = |v: &Option<String>| v.clone().unwrap_or_else(|| "-".into());
        let photos = if self.photo_digests.is_empty() {
            "-".to_string()
        } else {
            self.photo_digests.join(",")
        };
        format!(
            "gorod-ledger-v1\nseq={}\nreport_id={}\nreport_number={}\nkind={}\nactor={}\n\
             recorded_at={}\nanswer_digest={}\nphoto_digests={}\nprev_hash={}\n",
            self.seq,
            self.report_id,
            self.report_number,
            self.kind,
            self.actor,
            self.recorded_at.format("%Y-%m-%dT%H:%M:%S%.6fZ"),
            optional(&self.answer_digest),
            photos,
            self.prev_hash,
        )
    }

    /// The hash this entry should have.
    pub fn computed_hash(&self) -> String {
        hex(&Sha256::digest(self.canonical().as_bytes()))
    }

    /// The entry that follows `prev` (or starts the chain), hashed.
    pub fn next(prev: Option<&Entry>, mut draft: Entry) -> Entry {
        draft.seq = prev.map_or(1, |p| p.seq + 1);
        draft.prev_hash = prev.map_or_else(|| GENESIS.to_string(), |p| p.hash.clone());
        draft.recorded_at = draft
            .recorded_at
            .with_nanosecond(draft.recorded_at.nanosecond() / 1000 * 1000)
            .unwrap_or(draft.recorded_at);
        draft.hash = draft.computed_hash();
        draft
    }

    /// The Merkle leaf data: the hash's 32 bytes.
    pub fn leaf(&self) -> Option<merkle::Hash> {
        unhex(&self.hash)
    }
}

/// Lowercase hex SHA-256 of `bytes` (answer texts and photos).
pub fn digest(bytes: &[u8]) -> String {
    hex(&Sha256::digest(bytes))
}

pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

pub fn unhex(text: &str) -> Option<merkle::Hash> {
    if text.len() != 64 || !text.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    let bytes: Vec<u8> = (0..64)
        .step_by(2)
        .map(|i| u8::from_str_radix(&text[i..i + 2], 16))
        .collect::<Result<_, _>>()
        .ok()?;
    bytes.try_into().ok()
}

/// The first thing wrong with a chain.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("ledger entry {seq}: {problem}")]
pub struct Break {
    /// The sequence number of the first bad entry (where the entry at a
    /// position is missing, the number that should be there).
    pub seq: i64,
    pub problem: String,
}

/// Walks entries in sequence order and checks each one's number, link and
/// hash; returns how many there were, or the first break.
pub fn verify_chain<'a>(entries: impl IntoIterator<Item = &'a Entry>) -> Result<i64, Break> {
    let mut prev: Option<&Entry> = None;
    let mut count = 0;
    for entry in entries {
        let expected_seq = prev.map_or(1, |p| p.seq + 1);
        let fail = |problem: String| Break {
            seq: expected_seq,
            problem,
        };
        if entry.seq != expected_seq {
            return Err(fail(format!(
                "expected sequence number {expected_seq}, found {}: an entry is missing or out of order",
                entry.seq
            )));
        }
        let expected_prev = prev.map_or(GENESIS, |p| p.hash.as_str());
        if entry.prev_hash != expected_prev {
            return Err(fail(
                "its previous hash is not the previous entry's hash".into(),
            ));
        }
        if Kind::parse(&entry.kind).is_none() {
            return Err(fail(format!("'{}' is not a ledger kind", entry.kind)));
        }
        if entry.computed_hash() != entry.hash {
            return Err(fail(
                "its hash does not match its contents: the entry was altered".into(),
            ));
        }
        prev = Some(entry);
        count += 1;
    }
    Ok(count)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::NaiveDate;

    fn draft(n: i64, kind: Kind) -> Entry {
        Entry {
            seq: 0,
            report_id: format!("00000000-0000-4000-8000-{n:012}"),
            report_number: 1000 + n,
            kind: kind.as_str().into(),
            actor: "system".into(),
            recorded_at: NaiveDate::from_ymd_opt(2026, 3, 5)
                .unwrap()
                .and_hms_micro_opt(9, 0, 0, 123_456)
                .unwrap(),
            answer_digest: (kind == Kind::Resolved).then(|| digest("Яма заделана".as_bytes())),
            photo_digests: vec![digest(b"photo")],
            prev_hash: String::new(),
            hash: String::new(),
        }
    }

    fn chain(n: i64) -> Vec<Entry> {
        let mut entries: Vec<Entry> = Vec::new();
        for i in 0..n {
            let kind = Kind::ALL[(i as usize) % Kind::ALL.len()];
            entries.push(Entry::next(entries.last(), draft(i, kind)));
        }
        entries
    }

    #[test]
    fn the_canonical_text_is_as_documented() {
        let first = Entry::next(None, draft(7, Kind::Resolved));
        assert_eq!(
            first.canonical(),
            format!(
                "gorod-ledger-v1\nseq=1\nreport_id=00000000-0000-4000-8000-000000000007\n\
                 report_number=1007\nkind=resolved\nactor=system\n\
                 recorded_at=2026-03-05T09:00:00.123456Z\nanswer_digest={}\nphoto_digests={}\n\
                 prev_hash={GENESIS}\n",
                digest("Яма заделана".as_bytes()),
                digest(b"photo")
            )
        );
        assert_eq!(first.hash, digest(first.canonical().as_bytes()));
    }

    #[test]
    fn an_untouched_chain_verifies() {
        assert_eq!(verify_chain(&chain(20)), Ok(20));
        assert_eq!(verify_chain(&[]), Ok(0));
    }

    #[test]
    fn edits_deletions_reorderings_and_insertions_are_found() {
        let entries = chain(10);
        let first_break = |entries: &[Entry]| verify_chain(entries).unwrap_err().seq;

        let mut edited = entries.clone();
        edited[4].actor = "staff:someone-else".into();
        assert_eq!(first_break(&edited), 5);

        let mut deleted = entries.clone();
        deleted.remove(6);
        assert_eq!(first_break(&deleted), 7);

        let mut swapped = entries.clone();
        swapped.swap(2, 3);
        assert_eq!(first_break(&swapped), 3);

        let mut inserted = entries.clone();
        let forged = Entry::next(Some(&entries[3]), draft(99, Kind::Closed));
        inserted.insert(4, forged);
        assert_eq!(
            first_break(&inserted),
            6,
            "the entry after the forgery no longer links"
        );

        // Rehashing an edited entry does not help: the next one breaks.
        let mut rehashed = entries.clone();
        rehashed[4].actor = "system".into();
        rehashed[4].kind = "closed".into();
        rehashed[4].hash = rehashed[4].computed_hash();
        assert_eq!(first_break(&rehashed), 6);
    }
}
