//! Signed links in messages, which work without logging in and cannot be
//! forged for someone else: each carries its purpose and its fields, signed
//! with HMAC-SHA-256 under the installation's mail key.
//!
//! - **Unsubscribe**: who (the recipient's email) and from what (one report,
//!   or everything). Unsubscribing is a fact recorded once; following a
//!   link again changes nothing.
//! - **Check**: the resident's answer to the city's answer: which report,
//!   which answer cycle (a link from an earlier answer is refused) and whose
//!   (the recipient's email: the reporter's answer moves the workflow, a
//!   follower's is counted).
//! - **Account**: a one-time token of an account email (verify the address,
//!   reset the password), by its id; the database says whether it is still
//!   good.

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

/// A link to confirm or refute an answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckLink {
    pub report_id: String,
    pub cycle: i32,
    pub email: String,
}

/// A mail-only department's link to a report handed to it: a page where
/// it answers, pauses or returns the report without an account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OfficeLink {
    pub report_id: String,
    /// The department's mail endpoint.
    pub endpoint_id: String,
}

/// A link from an account email: which one-time token, for what
/// (`verify_email`, `reset_password`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccountLink {
    pub purpose: String,
    pub token_id: String,
}

/// Signs links with the installation's key and checks them with it, or
/// with a key rotated out less than its grace period ago.
#[derive(Clone)]
pub struct Signer {
    key: Vec<u8>,
    earlier: Vec<(Vec<u8>, chrono::NaiveDateTime)>,
    clock: Option<std::sync::Arc<dyn crate::clock::Clock>>,
}

fn mac_with(key: &[u8], payload: &str) -> Hmac<Sha256> {
    // HMAC takes a key of any length.
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(key)
        .unwrap_or_else(|_| unreachable!("HMAC accepts keys of every length"));
    mac.update(payload.as_bytes());
    mac
}

/// Why a link was refused.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum BadLink {
    #[error("the link is damaged: it is not one Gorod made")]
    Malformed,
    #[error("the link's signature does not match: it was altered or is not ours")]
    Forged,
}

impl BadLink {
    /// Why, in each language.
    pub fn text(&self) -> crate::locale::Text {
        match self {
            BadLink::Malformed => crate::locale::Text::new(
                "ссылка повреждена: её сделал не Gorod",
                "the link is damaged: it is not one Gorod made",
            ),
            BadLink::Forged => crate::locale::Text::new(
                "подпись ссылки не совпадает: её изменили или она не наша",
                "the link's signature does not match: it was altered or is not ours",
            ),
        }
    }
}

impl Signer {
    pub fn new(key: &[u8]) -> Signer {
        Signer {
            key: key.to_vec(),
            earlier: Vec::new(),
            clock: None,
        }
    }

    /// A signer that also accepts links signed with `earlier` keys, each
    /// until its time (UTC) by `clock`.
    pub fn with_earlier(
        key: &[u8],
        earlier: Vec<(Vec<u8>, chrono::NaiveDateTime)>,
        clock: std::sync::Arc<dyn crate::clock::Clock>,
    ) -> Signer {
        Signer {
            key: key.to_vec(),
            earlier,
            clock: Some(clock),
        }
    }

    fn mac(&self, payload: &str) -> Hmac<Sha256> {
        mac_with(&self.key, payload)
    }

    /// Whether `signature` is ours over `payload`, by the current key or
    /// one still in its grace period.
    fn verifies(&self, payload: &str, signature: &[u8]) -> bool {
        if self.mac(payload).verify_slice(signature).is_ok() {
            return true;
        }
        let Some(now) = self.clock.as_ref().map(|c| c.now()) else {
            return false;
        };
        self.earlier.iter().any(|(key, until)| {
            *until > now && mac_with(key, payload).verify_slice(signature).is_ok()
        })
    }

    /// The token of a link: `payload.signature`, both base64url; the
    /// payload is the purpose and the fields, one per line.
    fn sign(&self, purpose: &str, fields: &[&str]) -> String {
        let payload = std::iter::once(purpose)
            .chain(fields.iter().copied())
            .collect::<Vec<_>>()
            .join("\n");
        let signature = self.mac(&payload).finalize().into_bytes();
        format!(
            "{}.{}",
            URL_SAFE_NO_PAD.encode(payload.as_bytes()),
            URL_SAFE_NO_PAD.encode(signature)
        )
    }

    /// The `count` fields of a token we signed for `purpose`.
    fn open(&self, purpose: &str, count: usize, token: &str) -> Result<Vec<String>, BadLink> {
        let (payload, signature) = token.split_once('.').ok_or(BadLink::Malformed)?;
        let payload = URL_SAFE_NO_PAD
            .decode(payload)
            .ok()
            .and_then(|bytes| String::from_utf8(bytes).ok())
            .ok_or(BadLink::Malformed)?;
        let signature = URL_SAFE_NO_PAD
            .decode(signature)
            .map_err(|_| BadLink::Malformed)?;
        if !self.verifies(&payload, &signature) {
            return Err(BadLink::Forged);
        }
        let mut fields = payload.splitn(count + 1, '\n');
        if fields.next() != Some(purpose) {
            return Err(BadLink::Malformed);
        }
        let fields: Vec<String> = fields.map(str::to_string).collect();
        if fields.len() != count {
            return Err(BadLink::Malformed);
        }
        Ok(fields)
    }

    /// The token of an unsubscribe link.
    pub fn token(&self, opt_out: &OptOut) -> String {
        self.sign(
            "unsubscribe",
            &[opt_out.report_id.as_deref().unwrap_or("*"), &opt_out.email],
        )
    }

    /// What an unsubscribe token stops, if we signed it.
    pub fn check(&self, token: &str) -> Result<OptOut, BadLink> {
        let fields = self.open("unsubscribe", 2, token)?;
        Ok(OptOut {
            email: fields[1].clone(),
            report_id: (fields[0] != "*").then(|| fields[0].clone()),
        })
    }

    /// The token of a check link.
    pub fn check_token(&self, link: &CheckLink) -> String {
        self.sign(
            "check",
            &[&link.report_id, &link.cycle.to_string(), &link.email],
        )
    }

    /// The token of an account link.
    pub fn account_token(&self, link: &AccountLink) -> String {
        self.sign("account", &[&link.purpose, &link.token_id])
    }

    /// Which one-time token an account link names, if we signed it.
    pub fn open_account(&self, token: &str) -> Result<AccountLink, BadLink> {
        let fields = self.open("account", 2, token)?;
        Ok(AccountLink {
            purpose: fields[0].clone(),
            token_id: fields[1].clone(),
        })
    }

    /// The token of a mail-only department's link.
    pub fn office_token(&self, link: &OfficeLink) -> String {
        self.sign("office", &[&link.report_id, &link.endpoint_id])
    }

    /// Which report and department an office token names, if we signed it.
    pub fn open_office(&self, token: &str) -> Result<OfficeLink, BadLink> {
        let fields = self.open("office", 2, token)?;
        Ok(OfficeLink {
            report_id: fields[0].clone(),
            endpoint_id: fields[1].clone(),
        })
    }

    /// Whose answer to which report a check token carries, if we signed it.
    pub fn open_check(&self, token: &str) -> Result<CheckLink, BadLink> {
        let fields = self.open("check", 3, token)?;
        Ok(CheckLink {
            report_id: fields[0].clone(),
            cycle: fields[1].parse().map_err(|_| BadLink::Malformed)?,
            email: fields[2].clone(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_office_link_reads_back_and_is_no_check_link() {
        let signer = Signer::new(b"key");
        let link = OfficeLink {
            report_id: "0190-report".into(),
            endpoint_id: "0190-endpoint".into(),
        };
        let token = signer.office_token(&link);
        assert_eq!(signer.open_office(&token), Ok(link));
        assert!(signer.open_check(&token).is_err());
        assert!(Signer::new(b"other").open_office(&token).is_err());
    }

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
            URL_SAFE_NO_PAD.encode("unsubscribe\n*\nboris@example.ru")
        );
        assert_eq!(signer.check(&other), Err(BadLink::Forged));
        assert_eq!(
            Signer::new(b"other key").check(&token),
            Err(BadLink::Forged)
        );
        assert_eq!(signer.check("nonsense"), Err(BadLink::Malformed));
    }

    #[test]
    fn a_check_link_is_not_an_unsubscribe_link_nor_the_reverse() {
        let signer = Signer::new(b"key");
        let link = CheckLink {
            report_id: "0190-report".into(),
            cycle: 2,
            email: "anna@example.ru".into(),
        };
        let token = signer.check_token(&link);
        assert_eq!(signer.open_check(&token), Ok(link));
        assert_eq!(signer.check(&token), Err(BadLink::Malformed));
        let unsubscribe = signer.token(&OptOut {
            email: "anna@example.ru".into(),
            report_id: None,
        });
        assert_eq!(signer.open_check(&unsubscribe), Err(BadLink::Malformed));
    }
}
