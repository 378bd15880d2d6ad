//! Checkpoints as C2SP signed notes, so that tools and witnesses of the
//! transparency-log ecosystem check the ledger without Gorod's code:
//! `tlog-checkpoint` (the note's text), `signed-note` (its Ed25519
//! signature lines and keys) and `tlog-cosignature` (a witness's timestamped
//! cosignature). Pure.
//!
//! A checkpoint of `size` entries with Merkle root `root` is the text
//!
//! ```text
//! <origin>
//! <size>
//! <base64 root>
//! ```
//!
//! then an empty line and one line `— <key name> <base64(key ID || signature)>`
//! per signature: the log's (its key name is the origin), then each
//! witness's. The log's key is published as a verifier key
//! `<origin>+<key ID hex>+<base64(0x01 || public key)>`.

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use ed25519_dalek::{Signature, Signer, SigningKey, Verifier, VerifyingKey};
use sha2::{Digest, Sha256};

use super::merkle::Hash;

/// The signature type of an Ed25519 note signature.
const ED25519: u8 = 0x01;
/// The signature type of an Ed25519 `cosignature/v1`.
const COSIGNATURE: u8 = 0x04;
/// What starts a signature line.
const DASH: &str = "\u{2014} ";

/// A key's 4-byte ID: the start of SHA-256(name, newline, type, key).
pub fn key_id(name: &str, kind: u8, public: &[u8; 32]) -> [u8; 4] {
    let mut hasher = Sha256::new();
    hasher.update(name.as_bytes());
    hasher.update(b"\n");
    hasher.update([kind]);
    hasher.update(public);
    let digest = hasher.finalize();
    [digest[0], digest[1], digest[2], digest[3]]
}

/// A signed-note verifier key for an Ed25519 note signer.
pub fn verifier_key(name: &str, public: &[u8; 32]) -> String {
    vkey(name, ED25519, public)
}

/// A verifier key for an Ed25519 cosigner (a witness).
pub fn cosigner_key(name: &str, public: &[u8; 32]) -> String {
    vkey(name, COSIGNATURE, public)
}

fn vkey(name: &str, kind: u8, public: &[u8; 32]) -> String {
    let mut material = vec![kind];
    material.extend_from_slice(public);
    format!(
        "{name}+{}+{}",
        super::hex(&key_id(name, kind, public)),
        STANDARD.encode(material)
    )
}

/// A verifier key read back: its name, type and public key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifierKey {
    pub name: String,
    kind: u8,
    pub public: [u8; 32],
}

impl VerifierKey {
    /// Reads `<name>+<hex key ID>+<base64 type and key>`; the reason when it
    /// is not one.
    pub fn parse(text: &str) -> Result<VerifierKey, String> {
        // The name has no '+'; the base64 key may.
        let mut parts = text.trim().splitn(3, '+');
        let (Some(name), Some(id), Some(material)) = (parts.next(), parts.next(), parts.next())
        else {
            return Err("a verifier key is <name>+<key ID>+<key>".into());
        };
        if name.is_empty() || name.contains(char::is_whitespace) {
            return Err("a key name is not empty and has no spaces".into());
        }
        let bytes = STANDARD
            .decode(material)
            .map_err(|_| "its key is not base64".to_string())?;
        let (&kind, key) = bytes.split_first().ok_or("its key is empty")?;
        if kind != ED25519 && kind != COSIGNATURE {
            return Err(format!(
                "key type {kind} is not Ed25519 (1) or a cosigner's (4)"
            ));
        }
        let public: [u8; 32] = key
            .try_into()
            .map_err(|_| "an Ed25519 key is 32 bytes".to_string())?;
        let key = VerifierKey {
            name: name.to_string(),
            kind,
            public,
        };
        if super::hex(&key.id()) != id.to_lowercase() {
            return Err("its key ID does not match its name and key".into());
        }
        Ok(key)
    }

    pub fn id(&self) -> [u8; 4] {
        key_id(&self.name, self.kind, &self.public)
    }

    pub fn is_cosigner(&self) -> bool {
        self.kind == COSIGNATURE
    }

    /// The key as text.
    pub fn to_text(&self) -> String {
        vkey(&self.name, self.kind, &self.public)
    }
}

/// The text of a checkpoint.
pub fn checkpoint_text(origin: &str, size: u64, root: &Hash) -> String {
    format!("{origin}\n{size}\n{}\n", STANDARD.encode(root))
}

/// A checkpoint's text read back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Head {
    pub origin: String,
    pub size: u64,
    pub root: Hash,
}

impl Head {
    pub fn parse(text: &str) -> Option<Head> {
        let mut lines = text.split('\n');
        let origin = lines.next().filter(|o| !o.is_empty())?;
        let size = lines.next()?;
        if size.is_empty()
            || !size.bytes().all(|b| b.is_ascii_digit())
            || (size.len() > 1 && size.starts_with('0'))
        {
            return None;
        }
        let root: Hash = STANDARD.decode(lines.next()?).ok()?.try_into().ok()?;
        Some(Head {
            origin: origin.to_string(),
            size: size.parse().ok()?,
            root,
        })
    }

    pub fn text(&self) -> String {
        checkpoint_text(&self.origin, self.size, &self.root)
    }
}

/// A signature line: the signer's name, key ID and signature bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Line {
    pub name: String,
    pub id: [u8; 4],
    pub signature: Vec<u8>,
}

impl Line {
    pub fn to_text(&self) -> String {
        let mut bytes = self.id.to_vec();
        bytes.extend_from_slice(&self.signature);
        format!("{DASH}{} {}\n", self.name, STANDARD.encode(bytes))
    }

    fn parse(line: &str) -> Option<Line> {
        let (name, encoded) = line.strip_prefix(DASH)?.split_once(' ')?;
        let bytes = STANDARD.decode(encoded).ok()?;
        (bytes.len() > 4 && !name.is_empty()).then(|| Line {
            name: name.to_string(),
            id: [bytes[0], bytes[1], bytes[2], bytes[3]],
            signature: bytes[4..].to_vec(),
        })
    }
}

/// A signed note: its text (ending in a newline) and its signature lines.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Note {
    pub text: String,
    pub lines: Vec<Line>,
}

impl Note {
    /// Reads a signed note; `None` when it is not one.
    pub fn parse(note: &str) -> Option<Note> {
        let (text, signatures) = note.rsplit_once("\n\n")?;
        let lines = signatures
            .strip_suffix('\n')?
            .split('\n')
            .map(Line::parse)
            .collect::<Option<Vec<Line>>>()?;
        (!lines.is_empty()).then(|| Note {
            text: format!("{text}\n"),
            lines,
        })
    }

    pub fn to_text(&self) -> String {
        let mut out = format!("{}\n", self.text);
        for line in &self.lines {
            out.push_str(&line.to_text());
        }
        out
    }

    /// Whether a line of `key`'s, with its ID, signs this note (a note key)
    /// or cosigns it (a cosigner key); a cosignature's time when it does.
    pub fn signed_by(&self, key: &VerifierKey) -> Option<u64> {
        let verifying = VerifyingKey::from_bytes(&key.public).ok()?;
        let id = key.id();
        self.lines
            .iter()
            .filter(|line| line.name == key.name && line.id == id)
            .find_map(|line| {
                if key.is_cosigner() {
                    let (time, signature) = line.signature.split_at_checked(8)?;
                    let time = u64::from_be_bytes(time.try_into().ok()?);
                    let signature = Signature::from_slice(signature).ok()?;
                    verifying
                        .verify(cosigned(&self.text, time).as_bytes(), &signature)
                        .ok()
                        .map(|_| time)
                } else {
                    let signature = Signature::from_slice(&line.signature).ok()?;
                    verifying
                        .verify(self.text.as_bytes(), &signature)
                        .ok()
                        .map(|_| 0)
                }
            })
    }
}

/// What a cosigner signs: `cosignature/v1`, the time, then the note's text.
fn cosigned(text: &str, time: u64) -> String {
    format!("cosignature/v1\ntime {time}\n{text}")
}

/// The log's signature line over a note's text.
pub fn sign(text: &str, name: &str, key: &SigningKey) -> Line {
    Line {
        name: name.to_string(),
        id: key_id(name, ED25519, key.verifying_key().as_bytes()),
        signature: key.sign(text.as_bytes()).to_bytes().to_vec(),
    }
}

/// A cosigner's timestamped signature line over a note's text.
pub fn cosign(text: &str, name: &str, key: &SigningKey, time: u64) -> Line {
    let mut signature = time.to_be_bytes().to_vec();
    signature.extend_from_slice(&key.sign(cosigned(text, time).as_bytes()).to_bytes());
    Line {
        name: name.to_string(),
        id: key_id(name, COSIGNATURE, key.verifying_key().as_bytes()),
        signature,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(seed: u8) -> SigningKey {
        SigningKey::from_bytes(&[seed; 32])
    }

    #[test]
    fn a_signed_and_cosigned_checkpoint_reads_back_and_verifies() {
        let text = checkpoint_text("city.example/ledger", 12, &[7; 32]);
        let log = key(1);
        let witness = key(2);
        let note = Note {
            text: text.clone(),
            lines: vec![
                sign(&text, "city.example/ledger", &log),
                cosign(&text, "paper.example/w", &witness, 1_700_000_000),
            ],
        };
        let read = Note::parse(&note.to_text()).unwrap();
        assert_eq!(read, note);
        assert_eq!(Head::parse(&read.text).unwrap().size, 12);
        let log_key = VerifierKey::parse(&verifier_key(
            "city.example/ledger",
            log.verifying_key().as_bytes(),
        ))
        .unwrap();
        let witness_key = VerifierKey::parse(&cosigner_key(
            "paper.example/w",
            witness.verifying_key().as_bytes(),
        ))
        .unwrap();
        assert_eq!(read.signed_by(&log_key), Some(0));
        assert_eq!(read.signed_by(&witness_key), Some(1_700_000_000));
        let mut altered = read.clone();
        altered.text = checkpoint_text("city.example/ledger", 13, &[7; 32]);
        assert_eq!(altered.signed_by(&log_key), None);
        assert_eq!(altered.signed_by(&witness_key), None);
        assert!(VerifierKey::parse("name+00000000+AQ==").is_err());
        assert!(Note::parse(&text).is_none());
    }

    #[test]
    fn the_cosignature_example_of_the_specification_reads() {
        let note = "example.com/behind-the-sofa\n20852163\n\
                    CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n\n\
                    \u{2014} example.com/behind-the-sofa Az3grlgtzPICa5OS8npVmf1Myq/5IZniMp+ZJurmRDeOoRDe4URYN7u5/Zhcyv2q1gGzGku9nTo+zyWE+xeMcTOAYQ8=\n\
                    \u{2014} witness.example.com/w1 jWbPPwAAAABkGFDLEZMHwSRaJNiIDoe9DYn/zXcrtPHeolMI5OWXEhZCB9dlrDJsX3b2oyin1nPZqhf5nNo0xUe+mbIUBkBIfZ+qnA==\n";
        let read = Note::parse(note).unwrap();
        assert_eq!(read.to_text(), note);
        let head = Head::parse(&read.text).unwrap();
        assert_eq!(head.size, 20_852_163);
        assert_eq!(head.text(), read.text);
        // The witness's line: a timestamp, then 64 bytes of signature.
        assert_eq!(read.lines[1].signature.len(), 8 + 64);
        assert_eq!(
            u64::from_be_bytes(read.lines[1].signature[..8].try_into().unwrap()),
            1_679_315_147
        );
    }
}
