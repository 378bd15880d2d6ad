//! Time-based one-time passwords (RFC 6238 over RFC 4226's HOTP): what an
//! authenticator app shows, from a shared secret and the time.

use hmac::{Hmac, Mac};
use rand::RngCore;
use sha1::Sha1;

/// Seconds per step.
pub const STEP: i64 = 30;
/// Digits per code.
pub const DIGITS: u32 = 6;

/// A new shared secret: 20 random bytes, in base32 as apps take it.
pub fn new_secret() -> String {
    let mut bytes = [0u8; 20];
    rand::rng().fill_bytes(&mut bytes);
    base32(&bytes)
}

/// The `otpauth://` address an authenticator app reads (usually as a QR code).
pub fn provisioning_uri(issuer: &str, account: &str, secret: &str) -> String {
    let label = format!("{}:{}", encode(issuer), encode(account));
    format!(
        "otpauth://totp/{label}?secret={secret}&issuer={}&algorithm=SHA1&digits={DIGITS}&period={STEP}",
        encode(issuer)
    )
}

/// The step a Unix time falls in.
pub fn step_at(unix_seconds: i64) -> i64 {
    unix_seconds.div_euclid(STEP)
}

/// The code for one step; `None` if the secret is not base32.
pub fn code(secret: &str, step: i64) -> Option<String> {
    let key = unbase32(secret)?;
    let mut mac = Hmac::<Sha1>::new_from_slice(&key).ok()?;
    mac.update(&step.to_be_bytes());
    let digest = mac.finalize().into_bytes();
    let offset = usize::from(digest[19] & 0x0f);
    let word = u32::from_be_bytes([
        digest[offset] & 0x7f,
        digest[offset + 1],
        digest[offset + 2],
        digest[offset + 3],
    ]);
    Some(format!(
        "{:0width$}",
        word % 10u32.pow(DIGITS),
        width = DIGITS as usize
    ))
}

/// The step whose code `given` is, among the step of `unix_seconds` and the
/// ones on either side, and later than `last_used` (a code is good once).
pub fn accept(secret: &str, given: &str, unix_seconds: i64, last_used: Option<i64>) -> Option<i64> {
    let given = given.trim();
    if given.len() != DIGITS as usize || !given.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let now = step_at(unix_seconds);
    (now - 1..=now + 1)
        .filter(|step| last_used.is_none_or(|last| *step > last))
        .find(|&step| code(secret, step).is_some_and(|c| constant_time_eq(&c, given)))
}

fn constant_time_eq(a: &str, b: &str) -> bool {
    use subtle::ConstantTimeEq;
    a.as_bytes().ct_eq(b.as_bytes()).into()
}

fn base32(bytes: &[u8]) -> String {
    data_encoding::BASE32_NOPAD.encode(bytes)
}

/// A secret as authenticator apps show it: any case, with spaces or `=`
/// padding.
fn unbase32(text: &str) -> Option<Vec<u8>> {
    let plain: String = text
        .chars()
        .filter(|c| !matches!(c, '=' | ' '))
        .map(|c| c.to_ascii_uppercase())
        .collect();
    data_encoding::BASE32_NOPAD
        .decode(plain.as_bytes())
        .ok()
        .filter(|bytes| !bytes.is_empty())
}

/// What an `otpauth://` label may carry as it is (RFC 3986's unreserved
/// characters and `@`); everything else is percent-encoded.
const LABEL: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~')
    .remove(b'@');

fn encode(text: &str) -> String {
    percent_encoding::utf8_percent_encode(text, LABEL).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 6238 appendix B's SHA-1 key, "12345678901234567890".
    const RFC_SECRET: &str = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ";

    #[test]
    fn the_rfc_6238_test_vectors_give_their_codes() {
        // Appendix B lists 8 digits; these are their last 6.
        for (time, expected) in [
            (59, "287082"),
            (1_111_111_109, "081804"),
            (1_111_111_111, "050471"),
            (1_234_567_890, "005924"),
            (2_000_000_000, "279037"),
            (20_000_000_000, "353130"),
        ] {
            assert_eq!(code(RFC_SECRET, step_at(time)).unwrap(), expected, "{time}");
        }
    }

    #[test]
    fn a_code_is_accepted_within_one_step_and_only_once() {
        let t = 1_234_567_890;
        let now = code(RFC_SECRET, step_at(t)).unwrap();
        let step = accept(RFC_SECRET, &now, t, None).unwrap();
        assert_eq!(step, step_at(t));
        assert_eq!(accept(RFC_SECRET, &now, t, Some(step)), None, "replayed");
        assert!(accept(RFC_SECRET, &now, t + STEP, None).is_some(), "drift");
        assert_eq!(
            accept(RFC_SECRET, &now, t + 3 * STEP, None),
            None,
            "too late"
        );
        assert_eq!(accept(RFC_SECRET, "12345", t, None), None);
        assert_eq!(accept(RFC_SECRET, "abcdef", t, None), None);
    }

    #[test]
    fn base32_round_trips_and_secrets_have_160_bits() {
        assert_eq!(base32(b"12345678901234567890"), RFC_SECRET);
        assert_eq!(unbase32(RFC_SECRET).unwrap(), b"12345678901234567890");
        let secret = new_secret();
        assert_eq!(unbase32(&secret).unwrap().len(), 20);
        assert!(provisioning_uri("Gorod", "crew@example.ru", &secret)
            .starts_with("otpauth://totp/Gorod:crew@example.ru?secret="));
    }
}
