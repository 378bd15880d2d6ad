//! Credentials that stand for a caller: API keys for Open311 apps and
//! integrations. Keys are long random strings, so a plain SHA-256 digest is
//! enough to store them safely (a slow password hash buys nothing against an
//! attacker who cannot guess the key); only the digest is ever stored.

use sha2::{Digest, Sha256};

/// The stored form of an API key: lowercase hex SHA-256.
pub fn api_key_digest(key: &str) -> String {
    data_encoding::HEXLOWER.encode(&Sha256::digest(key.as_bytes()))
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_digest_is_sha256_hex() {
        assert_eq!(
            super::api_key_digest("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }
}
