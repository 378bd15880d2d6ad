//! Accounts: passwords, second factors and the secrets that stand for a
//! logged-in person. Pure rules, no database or web.
//!
//! - Passwords are hashed with Argon2id at OWASP's minimum parameters
//!   ([`PASSWORD_PARAMS`]: 19 MiB, 2 passes, 1 lane) into a PHC string that
//!   carries its own parameters and salt, so raising them later leaves old
//!   hashes verifiable. A password is 10 to 128 characters and is not the
//!   account's email.
//! - Staff log in with a TOTP code as well (RFC 6238: HMAC-SHA1, 30-second
//!   steps, 6 digits, the step before and after accepted for clock drift,
//!   each step used once).
//! - Session ids, one-time email tokens and API tokens are 32 random bytes
//!   (URL-safe base64); only their SHA-256 is stored.

pub mod totp;

use argon2::password_hash::phc::PasswordHash;
use argon2::password_hash::{PasswordHasher, PasswordVerifier};
use argon2::{Algorithm, Argon2, Params, Version};
use base64::Engine;
use hmac::Mac;
use rand::RngCore;

/// How long an emailed address-verification link works.
pub const VERIFY_EMAIL_FOR: chrono::TimeDelta = chrono::TimeDelta::hours(48);
/// How long an emailed password-reset link works.
pub const RESET_PASSWORD_FOR: chrono::TimeDelta = chrono::TimeDelta::hours(1);

/// Argon2id memory (KiB), passes and lanes: OWASP's minimum configuration.
pub const PASSWORD_PARAMS: (u32, u32, u32) = (19_456, 2, 1);

/// Shortest and longest password accepted, in characters.
pub const PASSWORD_LENGTH: (usize, usize) = (10, 128);

/// Why a password is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PasswordProblem {
    #[error("must be at least {} characters", PASSWORD_LENGTH.0)]
    TooShort,
    #[error("must be at most {} characters", PASSWORD_LENGTH.1)]
    TooLong,
    #[error("must not be the email address")]
    IsTheEmail,
}

impl PasswordProblem {
    /// Why, in each language.
    pub fn text(&self) -> crate::locale::Text {
        let (least, most) = PASSWORD_LENGTH;
        match self {
            PasswordProblem::TooShort => crate::locale::Text::new(
                format!("нужно не меньше {least} символов"),
                format!("must be at least {least} characters"),
            ),
            PasswordProblem::TooLong => crate::locale::Text::new(
                format!("можно не больше {most} символов"),
                format!("must be at most {most} characters"),
            ),
            PasswordProblem::IsTheEmail => crate::locale::Text::new(
                "не должен совпадать с адресом эл. почты",
                "must not be the email address",
            ),
        }
    }
}

/// A password good enough to be set.
pub struct NewPassword(String);

impl NewPassword {
    pub fn parse(text: &str, email: &str) -> Result<NewPassword, PasswordProblem> {
        let length = text.chars().count();
        if length < PASSWORD_LENGTH.0 {
            return Err(PasswordProblem::TooShort);
        }
        if length > PASSWORD_LENGTH.1 {
            return Err(PasswordProblem::TooLong);
        }
        if text.trim().eq_ignore_ascii_case(email.trim()) {
            return Err(PasswordProblem::IsTheEmail);
        }
        Ok(NewPassword(text.to_string()))
    }

    /// The PHC string to store (`$argon2id$v=19$m=19456,t=2,p=1$…`).
    pub fn hash(&self) -> String {
        hash_password(&self.0)
    }
}

fn hasher() -> Argon2<'static> {
    let (memory, passes, lanes) = PASSWORD_PARAMS;
    // The parameters are constants within Argon2's limits.
    let params = Params::new(memory, passes, lanes, None).unwrap_or_default();
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

fn hash_password(password: &str) -> String {
    match hasher().hash_password(password.as_bytes()) {
        Ok(hash) => hash.to_string(),
        // Only a failing system random source gets here; a hash that
        // matches nothing locks the account rather than weakening it.
        Err(_) => "!".into(),
    }
}

/// Whether `password` matches the stored PHC string (with the parameters
/// the string names).
pub fn verify_password(password: &str, stored: &str) -> bool {
    PasswordHash::new(stored)
        .map(|hash| hasher().verify_password(password.as_bytes(), &hash).is_ok())
        .unwrap_or(false)
}

/// A hash to verify against when the account does not exist, so that a
/// login for an unknown email costs as much as one for a known email.
pub fn decoy_hash() -> &'static str {
    static DECOY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    DECOY.get_or_init(|| hash_password("decoy password that matches nothing"))
}

/// A fresh secret for a session id, an emailed token or an API token.
pub fn new_secret() -> String {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

/// A session's CSRF token: HMAC-SHA-256 of the session's id hash under the
/// session's own CSRF key, so it is worth nothing for any other session and
/// cannot be made without the server's record of this one.
pub fn csrf_token(csrf_key: &str, session_id_hash: &str) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD
        .encode(csrf_mac(csrf_key, session_id_hash).finalize().into_bytes())
}

/// Whether `given` is this session's CSRF token (compared in constant time).
pub fn csrf_token_matches(csrf_key: &str, session_id_hash: &str, given: &str) -> bool {
    match base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(given.trim()) {
        Ok(bytes) => csrf_mac(csrf_key, session_id_hash)
            .verify_slice(&bytes)
            .is_ok(),
        Err(_) => false,
    }
}

fn csrf_mac(csrf_key: &str, session_id_hash: &str) -> hmac::Hmac<sha2::Sha256> {
    let mut mac = <hmac::Hmac<sha2::Sha256> as Mac>::new_from_slice(csrf_key.as_bytes())
        .unwrap_or_else(|_| unreachable!("HMAC accepts keys of every length"));
    mac.update(b"csrf\n");
    mac.update(session_id_hash.as_bytes());
    mac
}

/// The stored form of a secret: lowercase hex SHA-256.
pub fn secret_digest(secret: &str) -> String {
    crate::access::api_key_digest(secret)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_csrf_token_is_bound_to_its_session() {
        let token = csrf_token("key", "session-a");
        assert!(csrf_token_matches("key", "session-a", &token));
        assert!(!csrf_token_matches("key", "session-b", &token));
        assert!(!csrf_token_matches("other key", "session-a", &token));
        assert!(!csrf_token_matches("key", "session-a", "not base64 !"));
    }

    #[test]
    fn a_password_hash_is_argon2id_with_the_owasp_parameters_and_verifies() {
        let password = NewPassword::parse("correct horse battery", "a@example.ru").unwrap();
        let stored = password.hash();
        assert!(
            stored.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"),
            "{stored}"
        );
        assert!(verify_password("correct horse battery", &stored));
        assert!(!verify_password("correct horse batterY", &stored));
        assert!(!verify_password("correct horse battery", "not a hash"));
        assert!(!verify_password("anything", decoy_hash()));
    }

    #[test]
    fn passwords_are_checked_for_length_and_the_email() {
        assert_eq!(
            NewPassword::parse("short", "a@b.ru").err(),
            Some(PasswordProblem::TooShort)
        );
        assert_eq!(
            NewPassword::parse(&"x".repeat(129), "a@b.ru").err(),
            Some(PasswordProblem::TooLong)
        );
        assert_eq!(
            NewPassword::parse("Resident@Example.ru", "resident@example.ru").err(),
            Some(PasswordProblem::IsTheEmail)
        );
        // Length is counted in characters, not bytes.
        assert!(NewPassword::parse("пароль-ёжик", "a@b.ru").is_ok());
    }

    #[test]
    fn secrets_are_random_and_stored_as_digests() {
        let (a, b) = (new_secret(), new_secret());
        assert_ne!(a, b);
        assert_eq!(a.len(), 43);
        assert_eq!(secret_digest(&a).len(), 64);
        assert_ne!(secret_digest(&a), a);
    }
}
