//! Verifying a ledger: the chain's links and hashes entry by entry, and every checkpoint's root and signature against the trusted keys.

use super::*;

/// The first thing wrong with a ledger.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("ledger entry {seq}: {problem}")]
pub struct Break {
    /// The sequence number of the first bad entry (where the entry at a
    /// position is missing, the number that should be there).
    pub seq: i64,
    pub problem: String,
}

/// What an intact ledger holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Intact {
    pub entries: i64,
    pub checkpoints: usize,
    /// The last entry's hash (64 zeros when there is none).
    pub head_hash: String,
    /// The Merkle root over every entry, hex.
    pub root_hash: String,
}

/// Checks a ledger entry by entry, in sequence order: each one's number,
/// link and hash, and, at each checkpoint's size, the head hash and Merkle
/// root it signed. Checkpoints are checked before any entry: each must be
/// signed by a trusted key, and they must grow in size and time.
pub struct Verifier {
    prev: Option<Entry>,
    tree: merkle::Accumulator,
    /// Checkpoints still to reach, largest first.
    pending: Vec<Checkpoint>,
    checkpoints: usize,
}

impl Verifier {
    /// A verifier of a ledger with these checkpoints, which must be signed
    /// by one of `trusted_keys` (hex).
    pub fn new(
        mut checkpoints: Vec<Checkpoint>,
        trusted_keys: &[String],
    ) -> Result<Verifier, Break> {
        checkpoints.sort_by_key(|c| c.size);
        let mut last: Option<&Checkpoint> = None;
        for c in &checkpoints {
            let fail = |problem: String| Break {
                seq: c.size.max(1),
                problem: format!(
                    "the checkpoint of {} entries signed at {}: {problem}",
                    c.size, c.signed_at
                ),
            };
            if !trusted_keys.contains(&c.public_key) {
                return Err(fail(format!(
                    "it is signed by key {}, not by this installation's",
                    c.public_key
                )));
            }
            c.check_signature().map_err(fail)?;
            if last.is_some_and(|l| l.signed_at > c.signed_at) {
                return Err(fail(
                    "it is older than a checkpoint of fewer entries".into(),
                ));
            }
            last = Some(c);
        }
        let count = checkpoints.len();
        checkpoints.reverse();
        Ok(Verifier {
            prev: None,
            tree: merkle::Accumulator::default(),
            pending: checkpoints,
            checkpoints: count,
        })
    }

    fn expected_seq(&self) -> i64 {
        self.prev.as_ref().map_or(1, |p| p.seq + 1)
    }

    /// Checks the next entry.
    pub fn push(&mut self, entry: Entry) -> Result<(), Break> {
        let expected_seq = self.expected_seq();
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
        let expected_prev = self.prev.as_ref().map_or(GENESIS, |p| p.hash.as_str());
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
        let leaf = entry
            .leaf()
            .ok_or_else(|| fail("its hash is not 64 hex digits".into()))?;
        self.tree.push(merkle::leaf_hash(&leaf));
        self.prev = Some(entry);
        self.reach_checkpoints()
    }

    /// Compares the checkpoints of the current size with the ledger so far.
    fn reach_checkpoints(&mut self) -> Result<(), Break> {
        let size = self.expected_seq() - 1;
        while let Some(c) = self.pending.last().filter(|c| c.size == size) {
            let head = self.prev.as_ref().map_or(GENESIS, |p| p.hash.as_str());
            let root = hex(&self.tree.root());
            if c.head_hash != head || c.root_hash != root {
                return Err(Break {
                    seq: size.max(1),
                    problem: format!(
                        "the entries up to {size} are not the ones the checkpoint signed at {} covers: entries were rewritten",
                        c.signed_at
                    ),
                });
            }
            self.pending.pop();
        }
        Ok(())
    }

    /// Ends the walk: every checkpoint must have been reached.
    pub fn finish(mut self) -> Result<Intact, Break> {
        self.reach_checkpoints()?;
        let entries = self.expected_seq() - 1;
        if let Some(c) = self.pending.pop() {
            return Err(Break {
                seq: entries + 1,
                problem: format!(
                    "missing: the ledger ends at {entries} entries, but the checkpoint signed at {} covers {}",
                    c.signed_at, c.size
                ),
            });
        }
        Ok(Intact {
            entries,
            checkpoints: self.checkpoints,
            head_hash: self
                .prev
                .as_ref()
                .map_or_else(|| GENESIS.to_string(), |p| p.hash.clone()),
            root_hash: hex(&self.tree.root()),
        })
    }
}

/// Walks entries in sequence order and checks each one's number, link and
/// hash; returns how many there were, or the first break.
pub fn verify_chain(entries: impl IntoIterator<Item = Entry>) -> Result<i64, Break> {
    let mut verifier = Verifier::new(Vec::new(), &[])?;
    for entry in entries {
        verifier.push(entry)?;
    }
    Ok(verifier.finish()?.entries)
}
