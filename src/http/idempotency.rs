//! `Idempotency-Key` on the filing POSTs (the JSON API and Open311): a
//! client whose connection dropped after the server committed cannot tell
//! whether its report exists; retrying with the same key returns the first
//! answer (with `Idempotent-Replayed: true`) instead of filing twice.
//!
//! The key is kept per channel and caller (an API key, an account, or
//! anonymous), hashed; the request's hash beside it, so a key reused for a
//! different request is refused (422 `idempotency_key_reused`). A filing
//! writes its key in the same transaction as the report, so a committed
//! report always has its key, even when the handler never got to answer;
//! the answer as sent is added right after. A retry that finds the report
//! but no answer gets the answer rebuilt from the report. Keys are kept
//! for a day (`IDEMPOTENCY_KEPT`). A held filing (anonymous, awaiting its
//! emailed confirmation) keeps its answer once it is held.

use crate::locale::Text;
use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse};
use sha2::{Digest, Sha256};

use super::{db, ApiError, AppState};
use crate::app::idempotency::{self as kept_answers, Answer};

pub const HEADER: &str = "Idempotency-Key";
/// How long an answer is kept for its key.
pub use crate::app::jobs::IDEMPOTENCY_KEPT;

/// A request's key, hashed with who sent it and where.
#[derive(Debug, Clone)]
pub struct Idempotency {
    pub key_hash: String,
    pub request_hash: String,
}

impl Idempotency {
    /// The key as a filing writes it: (key hash, request hash).
    pub fn record(&self) -> (String, String) {
        (self.key_hash.clone(), self.request_hash.clone())
    }
}

fn hex_digest(parts: &[&[u8]]) -> String {
    let mut hasher = Sha256::new();
    for part in parts {
        // Lengths first, so that parts cannot run into each other.
        hasher.update((part.len() as u64).to_be_bytes());
        hasher.update(part);
    }
    data_encoding::HEXLOWER.encode(&hasher.finalize())
}

impl Idempotency {
    /// The request's key, if it sent one: 1 to 255 visible ASCII
    /// characters. `channel` and `caller` scope it; `parts` are what the
    /// request asks for (its body, its photos).
    pub fn of(
        request: &HttpRequest,
        channel: &str,
        caller: &str,
        parts: &[&[u8]],
    ) -> Result<Option<Idempotency>, ApiError> {
        let Some(value) = request.headers().get(HEADER) else {
            return Ok(None);
        };
        let key = value
            .to_str()
            .ok()
            .filter(|k| !k.is_empty() && k.len() <= 255 && k.bytes().all(|b| b.is_ascii_graphic()))
            .ok_or_else(|| {
                ApiError::invalid(
                    HEADER,
                    Text::new(
                        "должен состоять из 1–255 видимых символов ASCII, например UUID",
                        "is 1 to 255 visible ASCII characters, e.g. a UUID",
                    ),
                )
            })?;
        Ok(Some(Idempotency {
            key_hash: hex_digest(&[channel.as_bytes(), caller.as_bytes(), key.as_bytes()]),
            request_hash: hex_digest(parts),
        }))
    }
}

/// What an earlier request with the same key left.
pub enum Earlier {
    None,
    /// The answer it was sent.
    Answer {
        status: u16,
        body: String,
    },
    /// The report it filed, whose answer was never made.
    Filed {
        report_id: String,
    },
}

/// Looks for an earlier request with this key; a different request with
/// the same key is refused.
pub async fn earlier(state: &AppState, key: &Idempotency) -> Result<Earlier, ApiError> {
    let key_hash = key.key_hash.clone();
    let Some(kept) = db(state, move |conn| Ok(kept_answers::kept(conn, &key_hash)?)).await? else {
        return Ok(Earlier::None);
    };
    if kept.request_hash != key.request_hash {
        return Err(ApiError::Refused {
            status: StatusCode::UNPROCESSABLE_ENTITY,
            code: "idempotency_key_reused",
            message: Text::new(
                format!("{HEADER}: этот ключ уже использован для другого запроса; для нового запроса нужен новый ключ"),
                format!("{HEADER}: this key was used for a different request; use a new key for a new request"),
            ),
        });
    }
    Ok(match (kept.status, kept.response, kept.report_id) {
        (Some(status), Some(body), _) => Earlier::Answer {
            status: u16::try_from(status).unwrap_or(200),
            body,
        },
        (_, _, Some(report_id)) => Earlier::Filed { report_id },
        // A held filing whose answer was never kept: nothing to replay.
        _ => Earlier::None,
    })
}

/// Keeps the answer sent for this key (best effort: the report and its key
/// are committed already, and a retry rebuilds the answer without it).
pub async fn remember(state: &AppState, key: &Idempotency, status: StatusCode, body: &str) {
    let (app, key, body) = (state.services.clone(), key.clone(), body.to_string());
    let kept = db(state, move |conn| {
        let answer = Answer {
            key_hash: &key.key_hash,
            request_hash: &key.request_hash,
            status: i32::from(status.as_u16()),
            body: &body,
        };
        Ok(kept_answers::keep(&app, conn, answer)?)
    })
    .await;
    if let Err(e) = kept {
        log::warn!("the answer to an idempotent request was not kept: {e}");
    }
}

/// The earlier answer again.
pub fn replay(status: u16, body: String, content_type: &str) -> HttpResponse {
    HttpResponse::build(StatusCode::from_u16(status).unwrap_or(StatusCode::OK))
        .content_type(content_type)
        .insert_header(("Idempotent-Replayed", "true"))
        .body(body)
}
