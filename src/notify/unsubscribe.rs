//! One-click unsubscribe links. A link carries who (the recipient's email)
//! and from what (one report, or everything), signed with HMAC-SHA-256 under
//! the instance's mail key, so that it works without logging in and cannot
//! be forged for someone else. Unsubscribing is a fact recorded once;
//! following a link again changes nothing.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use hmac::{Hmac, Mac};
use sha2::Sha256;

/// What an unsubscribe link stops.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OptOut {
    pub email: String,
    /// `None`: every message.
    pub report_id: Option<String>,
}

/// Signs and checks links with one key.
#[derive(Clone)]
pub struct Signer {
    key: Vec<u8>,
}

/// Why a link was refused.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum BadLink {
    #[error("the link is damaged: it is not one Gorod made")]
    Malformed,
    #[error("the link's signature does not match: it was altered or is not ours")]
    Forged,
}

impl Signer {
    pub fn new(key: &[u8]) -> Signer {
        Signer { key: key.to_vec() }
    }

    fn mac(&self, payload: &str) -> Hmac<Sha256> {
        // HMAC takes a key of any length.
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(&self.key)
            .unwrap_or_else(|_| unreachable!("HMAC accepts keys of every length"));
        mac.update(payload.as_bytes());
        mac
    }

    /// The token of a link: `payload.signature`, both base64url.
    pub fn token(&self, opt_out: &OptOut) -> String {
        let payload = format!(
            "{}\n{}",
            opt_out.report_id.as_deref().unwrap_or("*"),
            opt_out.email
        );
        let signature = self.mac(&payload).finalize().into_bytes();
        format!(
            "{}.{}",
            URL_SAFE_NO_PAD.encode(payload.as_bytes()),
            URL_SAFE_NO_PAD.encode(signature)
        )
    }

    /// What a token stops, if we signed it.
    pub fn check(&self, token: &str) -> Result<OptOut, BadLink> {
        let (payload, signature) = token.split_once('.').ok_or(BadLink::Malformed)?;
        let payload = URL_SAFE_NO_PAD
            .decode(payload)
            .ok()
            .and_then(|bytes| String::from_utf8(bytes).ok())
            .ok_or(BadLink::Malformed)?;
        let signature = URL_SAFE_NO_PAD
            .decode(signature)
            .map_err(|_| BadLink::Malformed)?;
        self.mac(&payload)
            .verify_slice(&signature)
            .map_err(|_| BadLink::Forged)?;
        let (scope, email) = payload.split_once('\n').ok_or(BadLink::Malformed)?;
        Ok(OptOut {
            email: email.to_string(),
            report_id: (scope != "*").then(|| scope.to_string()),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_signed_link_reads_back_and_an_altered_one_is_refused() {
        let signer = Signer::new(b"key");
        let opt_out = OptOut {
            email: "anna@example.ru".into(),
            report_id: Some("0190-report".into()),
        };
        let token = signer.token(&opt_out);
        assert_eq!(signer.check(&token), Ok(opt_out));
        let everything = OptOut {
            email: "anna@example.ru".into(),
            report_id: None,
        };
        assert_eq!(signer.check(&signer.token(&everything)), Ok(everything));
        // Someone else's address under the same signature.
        let (_, signature) = token.split_once('.').unwrap();
        let other = format!(
            "{}.{signature}",
            URL_SAFE_NO_PAD.encode("*\nboris@example.ru")
        );
        assert_eq!(signer.check(&other), Err(BadLink::Forged));
        assert_eq!(
            Signer::new(b"other key").check(&token),
            Err(BadLink::Forged)
        );
        assert_eq!(signer.check("nonsense"), Err(BadLink::Malformed));
    }
}
