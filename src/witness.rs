//! `gorod witness`: anyone (a newspaper, a university, another city) follows
//! a Gorod ledger from outside and vouches for it. Each round the witness
//! reads the ledger's latest C2SP checkpoint, checks the log's signature,
//! and checks that the tree it shows extends the last one this witness saw
//! (a consistency proof built from the ledger's public tiles, never taken
//! from the log ready-made). Only then does it cosign the checkpoint
//! (C2SP `tlog-cosignature`) and post the cosignature back, and the log
//! publishes it with the checkpoint.
//!
//! A history rewritten since the witness last looked (entries removed or
//! replaced, even with every hash and checkpoint recomputed and re-signed)
//! cannot be consistent with what it saw: the witness refuses to cosign,
//! says so, and keeps refusing.
//!
//! Its state is a small text file: the log's verifier key and the last
//! checkpoint it cosigned. A change of the log's key is followed when the
//! ledger publishes a rotation both keys signed.

use std::path::{Path, PathBuf};

use ed25519_dalek::SigningKey;

use crate::ledger::checkpoint::Rotation;
use crate::ledger::merkle::{self, Hash};
use crate::ledger::note::{self, Head, Note, VerifierKey};
use crate::ledger::tiles::{self, Plan, Tiles};
use crate::ledger::SigningKeys;

/// Where the log's C2SP files are, below its address.
const LOG_PATH: &str = "/api/v1/ledger/log";

/// A witness's settings.
#[derive(Debug, Clone)]
pub struct Witness {
    /// The witness's name in its cosignatures (a schema-less URL).
    pub name: String,
    pub key: SigningKey,
    /// The Gorod instance's address.
    pub log_url: String,
    pub state_file: PathBuf,
}

/// What a round found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Round {
    /// The checkpoint extends the last one seen; cosigned and posted.
    Cosigned { size: u64 },
    /// The same checkpoint as last time; cosigned again.
    Unchanged { size: u64 },
    /// The log contradicts what this witness saw: nothing was cosigned.
    Rewritten(String),
}

/// What the witness remembers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct State {
    pub log_key: VerifierKey,
    pub seen: Option<Head>,
}

impl State {
    fn parse(text: &str) -> Result<State, String> {
        let mut log_key = None;
        let mut seen = None;
        for line in text.lines() {
            match line.split_once(' ') {
                Some(("log_key", key)) => log_key = Some(VerifierKey::parse(key)?),
                Some(("seen", head)) => {
                    seen = Some(
                        Head::parse(&head.replace(' ', "\n"))
                            .ok_or("the seen checkpoint does not read")?,
                    )
                }
                _ => {}
            }
        }
        Ok(State {
            log_key: log_key.ok_or("it names no log key")?,
            seen,
        })
    }

    fn text(&self) -> String {
        let mut out = format!("log_key {}\n", self.log_key.to_text());
        if let Some(head) = &self.seen {
            out.push_str(&format!(
                "seen {}\n",
                head.text().trim_end().replace('\n', " ")
            ));
        }
        out
    }
}

/// The witness's key from its key file (a 64-hex-digit seed), made when the
/// file does not exist; its verifier key for the log's `ledger.witnesses`.
pub fn init(name: &str, key_file: &Path) -> Result<(SigningKey, String), String> {
    let seed = match std::fs::read_to_string(key_file) {
        Ok(text) => text.trim().to_string(),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            let seed = SigningKeys::fresh_seed();
            write_private(key_file, &format!("{seed}\n"))?;
            seed
        }
        Err(e) => return Err(format!("{}: {e}", key_file.display())),
    };
    let key = SigningKeys::from_hex(&seed)
        .map_err(|e| format!("{}: {e}", key_file.display()))?
        .key()
        .clone();
    let vkey = note::cosigner_key(name, key.verifying_key().as_bytes());
    Ok((key, vkey))
}

fn write_private(path: &Path, text: &str) -> Result<(), String> {
    crate::app::signing_key::write_private(path, text, true)
        .map(|_| ())
        .map_err(|e| format!("{}: {e}", path.display()))
}

impl Witness {
    fn agent() -> ureq::Agent {
        ureq::Agent::config_builder()
            .timeout_global(Some(std::time::Duration::from_secs(30)))
            .user_agent("Gorod witness")
            .build()
            .into()
    }

    fn url(&self, path: &str) -> String {
        format!("{}{LOG_PATH}/{path}", self.log_url.trim_end_matches('/'))
    }

    /// The state, or a new one trusting `log_key` (required the first time).
    pub fn state(&self, log_key: Option<&str>) -> Result<State, String> {
        match std::fs::read_to_string(&self.state_file) {
            Ok(text) => {
                let state = State::parse(&text)
                    .map_err(|e| format!("{}: {e}", self.state_file.display()))?;
                match log_key.map(VerifierKey::parse).transpose()? {
                    Some(given) if given != state.log_key && state.seen.is_some() => Err(format!(
                        "{} follows the log key {}, not {}",
                        self.state_file.display(),
                        state.log_key.to_text(),
                        given.to_text()
                    )),
                    _ => Ok(state),
                }
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(State {
                log_key: VerifierKey::parse(
                    log_key.ok_or("the first round needs --log-key: the ledger's note_key")?,
                )?,
                seen: None,
            }),
            Err(e) => Err(format!("{}: {e}", self.state_file.display())),
        }
    }

    /// One round: read, check, cosign, post. `Err` is a failure to talk to
    /// the log (tried again next round), never a verdict.
    pub fn round(&self, state: &mut State, now_secs: u64) -> Result<Round, String> {
        let agent = Self::agent();
        let text = get_text(&agent, &self.url("checkpoint"))?;
        let note = Note::parse(&text).ok_or("the log's checkpoint is not a signed note")?;
        let head = Head::parse(&note.text).ok_or("the log's checkpoint does not read")?;
        if head.origin != state.log_key.name {
            return Ok(Round::Rewritten(format!(
                "the checkpoint is for '{}', not '{}'",
                head.origin, state.log_key.name
            )));
        }
        if note.signed_by(&state.log_key).is_none() {
            match self.follow_rotation(&agent, state, &note)? {
                Some(key) => state.log_key = key,
                None => {
                    return Ok(Round::Rewritten(
                        "the checkpoint is not signed by the log's key, and no rotation \
                         signed by that key names the one that signed it"
                            .into(),
                    ))
                }
            }
        }
        let outcome = match &state.seen {
            None => Round::Cosigned { size: head.size },
            Some(seen) if head.size < seen.size => {
                return Ok(Round::Rewritten(format!(
                    "the ledger shrank: this witness saw {} entries, it now shows {}",
                    seen.size, head.size
                )))
            }
            Some(seen) if head.size == seen.size => {
                if head.root != seen.root {
                    return Ok(Round::Rewritten(format!(
                        "two different trees of {} entries",
                        head.size
                    )));
                }
                Round::Unchanged { size: head.size }
            }
            Some(seen) => {
                if !self.consistent(&agent, seen, &head)? {
                    return Ok(Round::Rewritten(format!(
                        "the tree of {} entries does not extend the tree of {} this witness \
                         saw: entries it covered were changed or removed",
                        head.size, seen.size
                    )));
                }
                Round::Cosigned { size: head.size }
            }
        };
        state.seen = Some(head);
        write_private(&self.state_file, &state.text())?;
        let line = note::cosign(&note.text, &self.name, &self.key, now_secs);
        let mut cosigned = note.clone();
        cosigned.lines.retain(|l| l.name != self.name);
        cosigned.lines.push(line);
        post_text(&agent, &self.url("cosignature"), &cosigned.to_text())?;
        Ok(outcome)
    }

    /// Whether the tiles the log serves prove `new` extends `old`.
    fn consistent(&self, agent: &ureq::Agent, old: &Head, new: &Head) -> Result<bool, String> {
        let Some(plan) = Plan::consistency(old.size, new.size) else {
            return Ok(false);
        };
        let mut fetched = Tiles::new();
        for id in plan.tiles() {
            let width = tiles::width_at(id, new.size);
            let bytes = get_bytes(agent, &self.url(&tiles::path(id, width)))?;
            let hashes: Option<Vec<Hash>> = bytes
                .chunks(32)
                .map(|chunk| chunk.try_into().ok())
                .collect();
            match hashes {
                Some(hashes) if hashes.len() as u64 == width => {
                    fetched.insert(id, hashes);
                }
                _ => return Ok(false),
            }
        }
        let Ok(proof) = plan.hashes(&fetched) else {
            return Ok(false);
        };
        Ok(merkle::verify_consistency(
            old.size, new.size, &old.root, &new.root, &proof,
        ))
    }

    /// The log's new key, when a rotation signed by the key this witness
    /// trusts hands over to the key that signed `note`.
    fn follow_rotation(
        &self,
        agent: &ureq::Agent,
        state: &State,
        note: &Note,
    ) -> Result<Option<VerifierKey>, String> {
        let url = format!("{}/api/v1/ledger/key", self.log_url.trim_end_matches('/'));
        let key: serde_json::Value =
            serde_json::from_str(&get_text(agent, &url)?).map_err(|e| e.to_string())?;
        let mut current = state.log_key.clone();
        let rotations: Vec<Rotation> = key["rotations"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|r| {
                Some(Rotation {
                    old_key: r["old_key"].as_str()?.into(),
                    new_key: r["new_key"].as_str()?.into(),
                    handover_size: r["handover_size"].as_i64()?,
                    rotated_at: chrono::NaiveDateTime::parse_from_str(
                        r["rotated_at"].as_str()?,
                        "%Y-%m-%dT%H:%M:%S%.fZ",
                    )
                    .ok()?,
                    old_signature: r["old_signature"].as_str()?.into(),
                    new_signature: r["new_signature"].as_str()?.into(),
                })
            })
            .collect();
        // Follow the chain of rotations from the trusted key.
        while let Some(next) = rotations
            .iter()
            .find(|r| r.old_key == crate::ledger::hex(&current.public) && r.check().is_ok())
        {
            let public = crate::ledger::unhex(&next.new_key).ok_or("a rotation's key is bad")?;
            current = VerifierKey::parse(&note::verifier_key(&current.name, &public))?;
            if note.signed_by(&current).is_some() {
                return Ok(Some(current));
            }
        }
        Ok(None)
    }
}

fn get_text(agent: &ureq::Agent, url: &str) -> Result<String, String> {
    agent
        .get(url)
        .call()
        .map_err(|e| format!("{url}: {e}"))?
        .body_mut()
        .read_to_string()
        .map_err(|e| format!("{url}: {e}"))
}

fn get_bytes(agent: &ureq::Agent, url: &str) -> Result<Vec<u8>, String> {
    agent
        .get(url)
        .call()
        .map_err(|e| format!("{url}: {e}"))?
        .body_mut()
        .read_to_vec()
        .map_err(|e| format!("{url}: {e}"))
}

fn post_text(agent: &ureq::Agent, url: &str, text: &str) -> Result<(), String> {
    agent
        .post(url)
        .content_type("text/plain; charset=utf-8")
        .send(text)
        .map(|_| ())
        .map_err(|e| format!("{url}: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_state_reads_back() {
        let key = VerifierKey::parse(&note::verifier_key("city.example/ledger", &[3; 32])).unwrap();
        let state = State {
            log_key: key,
            seen: Some(Head {
                origin: "city.example/ledger".into(),
                size: 42,
                root: [9; 32],
            }),
        };
        assert_eq!(State::parse(&state.text()).unwrap(), state);
    }
}
