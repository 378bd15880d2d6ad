//! Signed checkpoints of the ledger. A checkpoint states how many entries
//! the ledger had, the last one's hash, the Merkle root over all of them and
//! when, signed with the installation's Ed25519 key (RFC 8032). Anyone with
//! the public key can check that a later ledger still holds what was signed.
//!
//! # Signed text (version 1)
//!
//! The Ed25519 signature is over this UTF-8 text, each line ending in `\n`:
//!
//! ```text
//! gorod-checkpoint-v1
//! size=<entries covered, decimal>
//! head_hash=<hash of entry `size`, or 64 zeros when size is 0>
//! root_hash=<RFC 6962 Merkle root over the entries' hashes, lowercase hex>
//! signed_at=<UTC, YYYY-MM-DDTHH:MM:SS.ffffffZ>
//! ```
//!
//! Keys and signatures are written as lowercase hex (32 and 64 bytes).

use chrono::{NaiveDateTime, Timelike};
use ed25519_dalek::{Signature, Signer, SigningKey, Verifier, VerifyingKey};

use super::{decode_hex, hex, unhex};

/// One signed checkpoint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Checkpoint {
    pub size: i64,
    pub head_hash: String,
    pub root_hash: String,
    pub signed_at: NaiveDateTime,
    /// The signer's public key, hex.
    pub public_key: String,
    /// The Ed25519 signature over `message()`, hex.
    pub signature: String,
}

impl Checkpoint {
    /// The text the signature is over.
    pub fn message(&self) -> String {
        format!(
            "gorod-checkpoint-v1\nsize={}\nhead_hash={}\nroot_hash={}\nsigned_at={}\n",
            self.size,
            self.head_hash,
            self.root_hash,
            self.signed_at.format("%Y-%m-%dT%H:%M:%S%.6fZ")
        )
    }

    /// Whether the signature is the holder of `public_key`'s over this
    /// checkpoint; the reason when it is not.
    pub fn check_signature(&self) -> Result<(), String> {
        let key = unhex(&self.public_key)
            .and_then(|bytes| VerifyingKey::from_bytes(&bytes).ok())
            .ok_or("its public key is not an Ed25519 key")?;
        let signature: [u8; 64] = decode_hex(&self.signature)
            .and_then(|bytes| bytes.try_into().ok())
            .ok_or("its signature is not 64 bytes of hex")?;
        key.verify(
            self.message().as_bytes(),
            &Signature::from_bytes(&signature),
        )
        .map_err(|_| {
            "its signature does not verify: it was altered or not signed by its key".into()
        })
    }
}

/// A change of the signing key, signed by both keys: the old one hands the
/// ledger over after its checkpoint of `handover_size` entries, and the new
/// one accepts it. Anyone who trusts the old key can follow to the new.
///
/// Both signatures are over this text, each line ending in `\n`:
///
/// ```text
/// gorod-key-rotation-v1
/// old_key=<hex>
/// new_key=<hex>
/// handover_size=<decimal>
/// rotated_at=<UTC, YYYY-MM-DDTHH:MM:SS.ffffffZ>
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rotation {
    pub old_key: String,
    pub new_key: String,
    pub handover_size: i64,
    pub rotated_at: NaiveDateTime,
    pub old_signature: String,
    pub new_signature: String,
}

impl Rotation {
    /// The text both keys sign.
    pub fn message(&self) -> String {
        format!(
            "gorod-key-rotation-v1\nold_key={}\nnew_key={}\nhandover_size={}\nrotated_at={}\n",
            self.old_key,
            self.new_key,
            self.handover_size,
            self.rotated_at.format("%Y-%m-%dT%H:%M:%S%.6fZ")
        )
    }

    /// The rotation from `old` to `new`, signed by both.
    pub fn sign(
        old: &SigningKeys,
        new: &SigningKeys,
        handover_size: i64,
        at: NaiveDateTime,
    ) -> Rotation {
        let mut rotation = Rotation {
            old_key: old.public_hex(),
            new_key: new.public_hex(),
            handover_size,
            rotated_at: at
                .with_nanosecond(at.nanosecond() / 1000 * 1000)
                .unwrap_or(at),
            old_signature: String::new(),
            new_signature: String::new(),
        };
        let message = rotation.message();
        rotation.old_signature = hex(&old.key.sign(message.as_bytes()).to_bytes());
        rotation.new_signature = hex(&new.key.sign(message.as_bytes()).to_bytes());
        rotation
    }

    /// Whether both keys signed it; the reason when not.
    pub fn check(&self) -> Result<(), String> {
        let message = self.message();
        for (key, signature, which) in [
            (&self.old_key, &self.old_signature, "old"),
            (&self.new_key, &self.new_signature, "new"),
        ] {
            let verifying = unhex(key)
                .and_then(|bytes| VerifyingKey::from_bytes(&bytes).ok())
                .ok_or(format!("the {which} key is not an Ed25519 key"))?;
            let signature: [u8; 64] = decode_hex(signature)
                .and_then(|bytes| bytes.try_into().ok())
                .ok_or(format!(
                    "the {which} key's signature is not 64 bytes of hex"
                ))?;
            verifying
                .verify(message.as_bytes(), &Signature::from_bytes(&signature))
                .map_err(|_| format!("the {which} key's signature does not verify"))?;
        }
        Ok(())
    }
}

/// The installation's signing key.
#[derive(Clone)]
pub struct SigningKeys {
    key: SigningKey,
}

impl std::fmt::Debug for SigningKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "SigningKeys({})", self.public_hex())
    }
}

impl SigningKeys {
    /// From a 32-byte secret seed written as 64 hex digits.
    pub fn from_hex(seed: &str) -> Result<SigningKeys, String> {
        let bytes =
            unhex(seed.trim()).ok_or("an Ed25519 secret key is 64 hex digits (32 bytes)")?;
        Ok(SigningKeys {
            key: SigningKey::from_bytes(&bytes),
        })
    }

    /// A fresh random seed, as 64 hex digits.
    pub fn fresh_seed() -> String {
        let bytes: [u8; 32] = rand::random();
        hex(&bytes)
    }

    /// The Ed25519 key itself.
    pub fn key(&self) -> &SigningKey {
        &self.key
    }

    /// The public key, hex.
    pub fn public_hex(&self) -> String {
        hex(self.key.verifying_key().as_bytes())
    }

    /// Signs a checkpoint of `size` entries (the time is kept to the
    /// microsecond, as it is written).
    pub fn sign(
        &self,
        size: i64,
        head_hash: &str,
        root_hash: &str,
        at: NaiveDateTime,
    ) -> Checkpoint {
        let mut checkpoint = Checkpoint {
            size,
            head_hash: head_hash.to_string(),
            root_hash: root_hash.to_string(),
            signed_at: at
                .with_nanosecond(at.nanosecond() / 1000 * 1000)
                .unwrap_or(at),
            public_key: self.public_hex(),
            signature: String::new(),
        };
        checkpoint.signature = hex(&self.key.sign(checkpoint.message().as_bytes()).to_bytes());
        checkpoint
    }
}

/// The key that signs this installation's checkpoints and every public key
/// whose checkpoints it trusts (the signing key's first).
#[derive(Debug, Clone)]
pub struct LedgerKeys {
    pub signing: SigningKeys,
    pub trusted: Vec<String>,
}

impl LedgerKeys {
    pub fn new(signing: SigningKeys, earlier: &[String]) -> LedgerKeys {
        let mut trusted = vec![signing.public_hex()];
        trusted.extend(earlier.iter().map(|k| k.trim().to_lowercase()));
        LedgerKeys { signing, trusted }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::NaiveDate;

    fn at() -> NaiveDateTime {
        NaiveDate::from_ymd_opt(2026, 11, 23)
            .unwrap()
            .and_hms_micro_opt(10, 0, 0, 5)
            .unwrap()
    }

    #[test]
    fn a_rotation_is_signed_by_both_keys() {
        let old = SigningKeys::from_hex(&SigningKeys::fresh_seed()).unwrap();
        let new = SigningKeys::from_hex(&SigningKeys::fresh_seed()).unwrap();
        let rotation = Rotation::sign(&old, &new, 40, at());
        assert_eq!(rotation.check(), Ok(()));
        let mut moved = rotation.clone();
        moved.handover_size = 41;
        assert!(moved.check().is_err());
        let mut forged = rotation;
        forged.new_key = old.public_hex();
        assert!(forged.check().is_err());
    }

    #[test]
    fn the_rfc_8032_test_key_derives_its_public_key() {
        // RFC 8032 §7.1, TEST 1.
        let keys = SigningKeys::from_hex(
            "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60",
        )
        .unwrap();
        assert_eq!(
            keys.public_hex(),
            "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a"
        );
    }

    #[test]
    fn a_signed_checkpoint_verifies_and_any_change_breaks_it() {
        let keys = SigningKeys::from_hex(&SigningKeys::fresh_seed()).unwrap();
        let signed = keys.sign(3, &"ab".repeat(32), &"cd".repeat(32), at());
        assert_eq!(
            signed.message(),
            format!(
                "gorod-checkpoint-v1\nsize=3\nhead_hash={}\nroot_hash={}\n\
                 signed_at=2026-11-23T10:00:00.000005Z\n",
                "ab".repeat(32),
                "cd".repeat(32)
            )
        );
        assert_eq!(signed.check_signature(), Ok(()));
        let mut grown = signed.clone();
        grown.size = 4;
        assert!(grown.check_signature().is_err());
        let mut other_key = signed.clone();
        other_key.public_key = SigningKeys::from_hex(&SigningKeys::fresh_seed())
            .unwrap()
            .public_hex();
        assert!(other_key.check_signature().is_err());
        let mut garbled = signed;
        garbled.signature = "zz".into();
        assert!(garbled.check_signature().is_err());
        assert!(SigningKeys::from_hex("short").is_err());
    }
}
