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
//! An entry that records the checks of its photos (an answer or a
//! refutation with photos, `reports::evidence`) is hashed as version 2: the
//! line `gorod-ledger-v2`, the same fields, and `evidence=<checks>` just
//! before `prev_hash`.
//!
//! Every value is ASCII with no line break, so the text is unambiguous.
//! The Merkle tree's leaf `i` is the 32 bytes of entry `i + 1`'s hash.

pub mod checkpoint;
pub mod merkle;
pub mod note;
pub mod tiles;

pub use checkpoint::{Checkpoint, LedgerKeys, SigningKeys};

use chrono::{NaiveDateTime, Timelike};
use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};

mod verify;
pub use verify::*;

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
    /// The photos' checks (version 2), when the move carried photos.
    pub evidence: Option<String>,
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
        let (version, evidence) = match &self.evidence {
            Some(checks) => (2, format!("evidence={checks}\n")),
            None => (1, String::new()),
        };
        format!(
            "gorod-ledger-v{version}\nseq={}\nreport_id={}\nreport_number={}\nkind={}\nactor={}\n\
             recorded_at={}\nanswer_digest={}\nphoto_digests={}\n{evidence}prev_hash={}\n",
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
    data_encoding::HEXLOWER.encode(bytes)
}

/// 32 bytes from 64 hex digits.
pub fn unhex(text: &str) -> Option<merkle::Hash> {
    decode_hex(text)?.try_into().ok()
}

/// Bytes from hex digits (an even number of them).
pub fn decode_hex(text: &str) -> Option<Vec<u8>> {
    data_encoding::HEXLOWER_PERMISSIVE
        .decode(text.as_bytes())
        .ok()
}

/// Who caused an entry, before residents are made pseudonymous.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Author {
    /// A staff member, by user id.
    Staff(String),
    /// A resident, by user id: written as a pseudonym.
    Resident(String),
    System,
}

/// An entry to be appended: what happened, before it is numbered and linked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Draft {
    pub report_id: String,
    pub report_number: i64,
    pub kind: Kind,
    pub author: Author,
    pub at: NaiveDateTime,
    /// The answer (or the refutation's reason), digested.
    pub text: Option<String>,
    /// The photos' SHA-256 digests, hex.
    pub photo_digests: Vec<String>,
    /// The photos' checks, when there were photos.
    pub evidence: Option<String>,
}

/// One move as the ledger sees it, before it becomes entries.
#[derive(Debug, Clone)]
pub struct Resolution {
    pub report_id: String,
    pub report_number: i64,
    pub author: Author,
    pub at: NaiveDateTime,
    /// The answer, or the refutation's reason.
    pub text: Option<String>,
    pub photo_digests: Vec<String>,
    /// The photos' checks (`reports::evidence::canonical`).
    pub evidence: Option<String>,
}

impl Resolution {
    /// The entries of the move's `kinds`: the answer and the refutation
    /// carry the text and photos; a reopening is the system's doing.
    pub fn drafts(&self, kinds: &[Kind]) -> Vec<Draft> {
        kinds
            .iter()
            .map(|&kind| {
                let (author, text, photo_digests, evidence) = match kind {
                    Kind::Reopened => (Author::System, None, Vec::new(), None),
                    Kind::Resolved | Kind::Refuted => (
                        self.author.clone(),
                        self.text.clone(),
                        self.photo_digests.clone(),
                        self.evidence.clone(),
                    ),
                    _ => (self.author.clone(), None, Vec::new(), None),
                };
                Draft {
                    report_id: self.report_id.clone(),
                    report_number: self.report_number,
                    kind,
                    author,
                    at: self.at,
                    text,
                    photo_digests,
                    evidence,
                }
            })
            .collect()
    }
}

/// Residents' pseudonyms: HMAC-SHA-256 of the user id under the
/// installation's secret key, the first 16 bytes in hex. Stable (the same
/// resident is the same pseudonym everywhere in the ledger), with nothing
/// personal in it, and unlinkable to the account without the key.
#[derive(Clone)]
pub struct Pseudonyms {
    key: Vec<u8>,
}

impl Pseudonyms {
    pub fn new(key: &[u8]) -> Pseudonyms {
        Pseudonyms { key: key.to_vec() }
    }

    /// The `actor` field for an author.
    pub fn actor(&self, author: &Author) -> String {
        match author {
            Author::Staff(id) => format!("staff:{id}"),
            Author::System => "system".into(),
            Author::Resident(id) => {
                let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(&self.key)
                    .unwrap_or_else(|_| unreachable!("HMAC accepts keys of every length"));
                mac.update(id.as_bytes());
                format!("resident:{}", hex(&mac.finalize().into_bytes()[..16]))
            }
        }
    }
}

/// The entries `drafts` become after `head`, in order, numbered and linked.
pub fn chain(head: Option<&Entry>, drafts: &[Draft], pseudonyms: &Pseudonyms) -> Vec<Entry> {
    let mut entries: Vec<Entry> = Vec::with_capacity(drafts.len());
    for draft in drafts {
        let prev = entries.last().or(head);
        let entry = Entry::next(
            prev,
            Entry {
                seq: 0,
                report_id: draft.report_id.clone(),
                report_number: draft.report_number,
                kind: draft.kind.as_str().into(),
                actor: pseudonyms.actor(&draft.author),
                recorded_at: draft.at,
                answer_digest: draft.text.as_deref().map(|t| digest(t.as_bytes())),
                photo_digests: draft.photo_digests.clone(),
                prev_hash: String::new(),
                hash: String::new(),
                evidence: draft.evidence.clone(),
            },
        );
        entries.push(entry);
    }
    entries
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
            evidence: None,
        }
    }

    #[test]
    fn an_entry_with_photo_checks_is_hashed_as_version_2() {
        let plain = Entry::next(None, draft(1, Kind::Resolved));
        assert!(plain.canonical().starts_with("gorod-ledger-v1\n"));
        let mut checked = draft(1, Kind::Resolved);
        checked.evidence = Some("ab:taken=after,place=near,copy=new".into());
        let checked = Entry::next(None, checked);
        let text = checked.canonical();
        assert!(text.starts_with("gorod-ledger-v2\n"), "{text}");
        assert!(
            text.ends_with(&format!(
                "evidence=ab:taken=after,place=near,copy=new\nprev_hash={}\n",
                GENESIS
            )),
            "{text}"
        );
        assert_ne!(plain.hash, checked.hash);
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
        assert_eq!(verify_chain(chain(20)), Ok(20));
        assert_eq!(verify_chain(Vec::new()), Ok(0));
    }

    #[test]
    fn edits_deletions_reorderings_and_insertions_are_found() {
        let entries = chain(10);
        let first_break = |entries: &[Entry]| verify_chain(entries.to_vec()).unwrap_err().seq;

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

    fn signed(keys: &SigningKeys, entries: &[Entry]) -> Checkpoint {
        let mut tree = merkle::Accumulator::default();
        for e in entries {
            tree.push(merkle::leaf_hash(&e.leaf().unwrap()));
        }
        let head = entries.last().map_or(GENESIS, |e| e.hash.as_str());
        keys.sign(
            entries.len() as i64,
            head,
            &hex(&tree.root()),
            entries
                .len()
                .try_into()
                .map(|n: i64| draft(n, Kind::Closed).recorded_at)
                .unwrap(),
        )
    }

    fn verify(
        entries: &[Entry],
        checkpoints: Vec<Checkpoint>,
        trusted: &[String],
    ) -> Result<Intact, Break> {
        let mut verifier = Verifier::new(checkpoints, trusted)?;
        for e in entries {
            verifier.push(e.clone())?;
        }
        verifier.finish()
    }

    #[test]
    fn checkpoints_catch_a_rewritten_chain_and_a_truncated_one() {
        let keys = SigningKeys::from_hex(&SigningKeys::fresh_seed()).unwrap();
        let trusted = [keys.public_hex()];
        let entries = chain(12);
        let checkpoints = vec![signed(&keys, &entries[..5]), signed(&keys, &entries)];
        let intact = verify(&entries, checkpoints.clone(), &trusted).unwrap();
        assert_eq!((intact.entries, intact.checkpoints), (12, 2));
        assert_eq!(intact.head_hash, entries[11].hash);
        assert_eq!(intact.root_hash, checkpoints[1].root_hash);

        // The whole chain rebuilt from entry 3 on: every link holds, the
        // first checkpoint after the change does not.
        let mut rewritten: Vec<Entry> = entries[..2].to_vec();
        for (i, e) in entries[2..].iter().enumerate() {
            let mut forged = e.clone();
            if i == 0 {
                forged.actor = "staff:someone-else".into();
            }
            rewritten.push(Entry::next(rewritten.last(), forged));
        }
        assert_eq!(verify_chain(rewritten.clone()), Ok(12));
        assert_eq!(
            verify(&rewritten, checkpoints.clone(), &trusted)
                .unwrap_err()
                .seq,
            5
        );

        // The last entries removed: the chain is whole, the checkpoint names
        // the first missing one.
        let err = verify(&entries[..9], checkpoints.clone(), &trusted).unwrap_err();
        assert_eq!(err.seq, 10);
        assert!(err.problem.contains("missing"), "{}", err.problem);

        // A checkpoint by another key is not trusted, however well signed.
        let other = SigningKeys::from_hex(&SigningKeys::fresh_seed()).unwrap();
        let err = verify(&entries, vec![signed(&other, &entries)], &trusted).unwrap_err();
        assert!(
            err.problem.contains("not by this installation"),
            "{}",
            err.problem
        );
    }

    #[test]
    fn residents_are_pseudonyms_and_staff_are_ids() {
        let pseudonyms = Pseudonyms::new(b"key");
        let anna = pseudonyms.actor(&Author::Resident("anna-id".into()));
        assert!(anna.starts_with("resident:") && anna.len() == "resident:".len() + 32);
        assert!(!anna.contains("anna"));
        assert_eq!(anna, pseudonyms.actor(&Author::Resident("anna-id".into())));
        assert_ne!(
            anna,
            Pseudonyms::new(b"other").actor(&Author::Resident("anna-id".into()))
        );
        assert_eq!(pseudonyms.actor(&Author::Staff("s1".into())), "staff:s1");
        assert_eq!(pseudonyms.actor(&Author::System), "system");
    }
}
