//! Signed webhooks as the Standard Webhooks specification (1.0) has them:
//! a subscription's secret is `whsec_` and the key in base64; a delivery
//! carries `webhook-id` (the same on every retry), `webhook-timestamp`
//! (Unix seconds) and `webhook-signature`, which is `v1,` and the base64
//! HMAC-SHA256 of `id.timestamp.body` under the key. While a secret is
//! being rotated, a delivery is signed with the new and the old one, the
//! signatures space-separated, so a receiver holding either verifies it.
//! And the events a subscription may ask for. Pure.

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use hmac::{Hmac, Mac};
use sha2::Sha256;

use crate::locale::Text;

const PREFIX: &str = "whsec_";
/// How far a delivery's timestamp may be from the receiver's clock.
pub const TOLERANCE_SECS: i64 = 5 * 60;

/// A subscription's signing key.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(Vec<u8>);

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret(…)")
    }
}

impl Secret {
    /// A key from 24 random bytes.
    pub fn from_bytes(bytes: [u8; 24]) -> Secret {
        Secret(bytes.to_vec())
    }

    /// Reads `whsec_<base64>`.
    pub fn parse(text: &str) -> Result<Secret, Text> {
        let bad = || {
            Text::new(
                "секрет должен выглядеть как whsec_ и ключ в base64",
                "a secret is whsec_ followed by the key in base64",
            )
        };
        let key = text.strip_prefix(PREFIX).ok_or_else(bad)?;
        let bytes = STANDARD.decode(key).map_err(|_| bad())?;
        if bytes.len() < 16 {
            return Err(Text::new(
                "ключ секрета короче 16 байт",
                "the secret's key is shorter than 16 bytes",
            ));
        }
        Ok(Secret(bytes))
    }

    /// `whsec_<base64>`, as the subscriber is shown it once.
    pub fn encode(&self) -> String {
        format!("{PREFIX}{}", STANDARD.encode(&self.0))
    }

    fn mac(&self, id: &str, timestamp: i64, body: &[u8]) -> Hmac<Sha256> {
        // HMAC takes a key of any length.
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(&self.0)
            .unwrap_or_else(|_| unreachable!("HMAC accepts every key length"));
        mac.update(id.as_bytes());
        mac.update(b".");
        mac.update(timestamp.to_string().as_bytes());
        mac.update(b".");
        mac.update(body);
        mac
    }

    /// `v1,<base64 signature>` of one delivery.
    pub fn sign(&self, id: &str, timestamp: i64, body: &[u8]) -> String {
        let tag = self.mac(id, timestamp, body).finalize().into_bytes();
        format!("v1,{}", STANDARD.encode(tag))
    }
}

/// The `webhook-signature` header: one signature per secret in use (the
/// current one first, then those still accepted while it rotates).
pub fn signature_header(secrets: &[Secret], id: &str, timestamp: i64, body: &[u8]) -> String {
    secrets
        .iter()
        .map(|s| s.sign(id, timestamp, body))
        .collect::<Vec<_>>()
        .join(" ")
}

/// Why a delivery does not verify.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unverified {
    /// The timestamp is too far from the receiver's clock (a replay?).
    Stale,
    /// No signature in the header is the key's.
    BadSignature,
}

/// Checks a delivery as a receiver holding `secret` does at `now` (Unix
/// seconds).
pub fn verify(
    secret: &Secret,
    (id, timestamp, header): (&str, i64, &str),
    body: &[u8],
    now: i64,
) -> Result<(), Unverified> {
    if (now - timestamp).abs() > TOLERANCE_SECS {
        return Err(Unverified::Stale);
    }
    let good = header
        .split(' ')
        .filter_map(|s| s.strip_prefix("v1,"))
        .filter_map(|s| STANDARD.decode(s).ok())
        .any(|tag| secret.mac(id, timestamp, body).verify_slice(&tag).is_ok());
    if good {
        Ok(())
    } else {
        Err(Unverified::BadSignature)
    }
}

/// What a subscription may hear of.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Event {
    Filed,
    Moved,
    Answered,
    Confirmed,
    Refuted,
    Breached,
    Escalated,
}

impl Event {
    pub const ALL: [Event; 7] = [
        Event::Filed,
        Event::Moved,
        Event::Answered,
        Event::Confirmed,
        Event::Refuted,
        Event::Breached,
        Event::Escalated,
    ];

    /// The event's type in a delivery: `report.filed`.
    pub fn as_str(self) -> &'static str {
        match self {
            Event::Filed => "report.filed",
            Event::Moved => "report.moved",
            Event::Answered => "report.answered",
            Event::Confirmed => "report.confirmed",
            Event::Refuted => "report.refuted",
            Event::Breached => "report.breached",
            Event::Escalated => "report.escalated",
        }
    }

    /// The short name: `answered`.
    pub fn name(self) -> &'static str {
        let full = self.as_str();
        full.strip_prefix("report.").unwrap_or(full)
    }

    /// What a report event (its kind in the history) is to a subscriber:
    /// filing, an answer, a resident's (or the system's) confirmation, a
    /// refutation, a breached deadline and an escalation (a supervisor's
    /// or the scanner's) have their own events; every other move is
    /// `moved`; notes, support and warnings are none.
    pub fn of_kind(kind: &str) -> Option<Event> {
        Some(match kind {
            "filed" => Event::Filed,
            "answered" => Event::Answered,
            "confirmed" | "auto_confirmed" => Event::Confirmed,
            "refuted" => Event::Refuted,
            "sla_breached" => Event::Breached,
            "escalated" | "escalated_by_supervisor" => Event::Escalated,
            "accepted" | "rejected" | "marked_duplicate" | "assigned" | "taken" | "paused"
            | "resumed" | "returned" | "closed" => Event::Moved,
            _ => return None,
        })
    }

    /// By its short name (`answered`) or its type (`report.answered`).
    pub fn parse(text: &str) -> Result<Event, Text> {
        let name = text.trim();
        Event::ALL
            .into_iter()
            .find(|e| e.as_str() == name || e.as_str().strip_prefix("report.") == Some(name))
            .ok_or_else(|| {
                let known: Vec<&str> = Event::ALL
                    .iter()
                    .filter_map(|e| e.as_str().strip_prefix("report."))
                    .collect();
                Text::new(
                    format!("«{name}» — не событие; события: {}", known.join(", ")),
                    format!("'{name}' is not an event; the events: {}", known.join(", ")),
                )
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_move_is_an_event_and_notes_are_none() {
        for action in crate::workflow::Action::ALL {
            let kind = crate::workflow::rules::rule(action).event;
            assert!(Event::of_kind(kind).is_some(), "{kind}");
        }
        assert_eq!(Event::of_kind("filed"), Some(Event::Filed));
        assert_eq!(Event::of_kind("auto_confirmed"), Some(Event::Confirmed));
        assert_eq!(Event::of_kind("sla_breached"), Some(Event::Breached));
        assert_eq!(Event::of_kind("escalated"), Some(Event::Escalated));
        assert_eq!(Event::of_kind("note"), None);
        assert_eq!(Event::of_kind("supported"), None);
        assert_eq!(Event::of_kind("sla_warning"), None);
        assert_eq!(Event::Answered.name(), "answered");
    }

    // The specification's own test vector.
    const SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
    const ID: &str = "msg_p5jXN8AQM9LWM0D4loKWxJek";
    const AT: i64 = 1_614_265_330;
    const BODY: &[u8] = br#"{"test": 2432232314}"#;

    #[test]
    fn the_specifications_vector_signs_and_verifies() {
        let secret = Secret::parse(SECRET).unwrap();
        let signed = secret.sign(ID, AT, BODY);
        assert_eq!(signed, "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
        assert_eq!(verify(&secret, (ID, AT, &signed), BODY, AT + 10), Ok(()));
        assert_eq!(secret.encode(), SECRET);
    }

    #[test]
    fn a_changed_body_an_old_delivery_or_another_key_fail() {
        let secret = Secret::parse(SECRET).unwrap();
        let signed = secret.sign(ID, AT, BODY);
        assert_eq!(
            verify(&secret, (ID, AT, &signed), br#"{"test": 1}"#, AT),
            Err(Unverified::BadSignature)
        );
        assert_eq!(
            verify(&secret, (ID, AT, &signed), BODY, AT + TOLERANCE_SECS + 1),
            Err(Unverified::Stale)
        );
        let other = Secret::from_bytes([7; 24]);
        assert_eq!(
            verify(&other, (ID, AT, &signed), BODY, AT),
            Err(Unverified::BadSignature)
        );
        assert!(Secret::parse("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw").is_err());
        assert!(Secret::parse("whsec_!!!").is_err());
        assert!(Secret::parse("whsec_AAAA").is_err());
    }

    #[test]
    fn while_rotating_either_key_verifies() {
        let (new, old) = (Secret::from_bytes([1; 24]), Secret::parse(SECRET).unwrap());
        let header = signature_header(&[new.clone(), old.clone()], ID, AT, BODY);
        assert_eq!(header.split(' ').count(), 2);
        assert_eq!(verify(&new, (ID, AT, &header), BODY, AT), Ok(()));
        assert_eq!(verify(&old, (ID, AT, &header), BODY, AT), Ok(()));
    }

    #[test]
    fn events_read_by_either_name() {
        assert_eq!(Event::parse("answered"), Ok(Event::Answered));
        assert_eq!(Event::parse("report.breached"), Ok(Event::Breached));
        assert!(Event::parse("deleted")
            .unwrap_err()
            .en()
            .contains("filed, moved"));
    }
}
