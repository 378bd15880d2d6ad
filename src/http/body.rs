//! Reading request bodies and paging: a JSON body (within its size and
//! nesting limits), or a multipart one with its JSON part and photos, and
//! the page sizes lists share. Errors name the field or part at fault.

use std::collections::HashMap;

use actix_multipart::Multipart;
use actix_web::http::header;
use actix_web::{web, HttpRequest};
use futures_util::StreamExt;

use crate::app::filing::Upload;
use serde::de::DeserializeOwned;

use super::{ApiError, AppState};

/// The most rows a list gives at once, and how many when not asked.
pub const MAX_PER_PAGE: i64 = 200;
pub const DEFAULT_PER_PAGE: i64 = 50;

/// The largest JSON body a report may have (a 4,000-character description
/// in any script, answers and contact details fit well within it).
pub const MAX_JSON_BYTES: usize = 64 * 1024;

/// A JSON body, or a multipart body with the JSON in the part named
/// `json_part` and photos in `photos` parts.
pub async fn read_submission(
    state: &AppState,
    request: &HttpRequest,
    payload: web::Payload,
    json_part: &'static str,
) -> Result<(Vec<u8>, Vec<Upload>), ApiError> {
    if is_multipart(request) {
        let (mut texts, uploads) = read_parts(state, request, payload, &[json_part]).await?;
        let json = texts.remove(json_part).ok_or_else(|| {
            ApiError::invalid(
                json_part,
                format!("the multipart body has no '{json_part}' part"),
            )
        })?;
        Ok((json, uploads))
    } else {
        Ok((read_body(payload, MAX_JSON_BYTES).await?, Vec::new()))
    }
}

pub fn is_multipart(request: &HttpRequest) -> bool {
    request
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.to_ascii_lowercase().starts_with("multipart/form-data"))
}

/// Reads a multipart body: the text parts named in `fields` and up to
/// `max_photos` `photos` parts, each within its size limit; anything else is
/// refused by name.
pub async fn read_parts(
    state: &AppState,
    request: &HttpRequest,
    payload: web::Payload,
    fields: &[&'static str],
) -> Result<(HashMap<&'static str, Vec<u8>>, Vec<Upload>), ApiError> {
    let mut parts = Multipart::new(request.headers(), payload);
    let mut texts = HashMap::new();
    let mut uploads = Vec::new();
    while let Some(part) = parts.next().await {
        let mut part = part.map_err(|e| {
            ApiError::invalid("body", format!("the multipart body is malformed: {e}"))
        })?;
        let name = part
            .content_disposition()
            .and_then(|d| d.get_name())
            .unwrap_or("")
            .to_string();
        let text_field = fields.iter().find(|f| **f == name).copied();
        let (field, limit) = match (text_field, name.as_str()) {
            (Some(text), _) => (text.to_string(), MAX_JSON_BYTES),
            (None, "photos" | "photo") => {
                if uploads.len() >= state.max_photos {
                    return Err(ApiError::invalid(
                        format!("photos[{}]", uploads.len()),
                        format!("at most {} photos may come at once", state.max_photos),
                    ));
                }
                (
                    format!("photos[{}]", uploads.len()),
                    state.photo_limits.max_bytes,
                )
            }
            (None, other) => {
                let wanted: Vec<String> = fields.iter().map(|f| format!("'{f}'")).collect();
                return Err(ApiError::invalid(
                    if other.is_empty() { "body" } else { other },
                    format!(
                        "is not a part of this request: send {} and 'photos' (images)",
                        wanted.join(", ")
                    ),
                ));
            }
        };
        let content_type = part.content_type().map(|m| m.essence_str().to_string());
        let mut bytes = Vec::new();
        while let Some(chunk) = part.next().await {
            let chunk = chunk
                .map_err(|e| ApiError::invalid(field.clone(), format!("could not be read: {e}")))?;
            if bytes.len() + chunk.len() > limit {
                return Err(ApiError::invalid(
                    field,
                    format!("is larger than {limit} bytes"),
                ));
            }
            bytes.extend_from_slice(&chunk);
        }
        match text_field {
            Some(text) => {
                texts.insert(text, bytes);
            }
            None => uploads.push(Upload {
                bytes,
                content_type,
            }),
        }
    }
    Ok((texts, uploads))
}

/// Reads a body up to `limit` bytes; more is a 400 naming `body`.
pub async fn read_body(mut payload: web::Payload, limit: usize) -> Result<Vec<u8>, ApiError> {
    use futures_util::StreamExt;
    let mut body = Vec::new();
    while let Some(chunk) = payload.next().await {
        let chunk = chunk
            .map_err(|e| ApiError::invalid("body", format!("the body could not be read: {e}")))?;
        if body.len() + chunk.len() > limit {
            return Err(ApiError::invalid(
                "body",
                format!("the body is larger than {limit} bytes"),
            ));
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

/// The deepest nesting of arrays and objects a JSON body may have (no
/// request of this API needs more than four).
pub const MAX_JSON_DEPTH: usize = 32;

/// How deeply a JSON text nests arrays and objects (brackets inside
/// strings do not count).
fn json_depth(text: &[u8]) -> usize {
    let (mut depth, mut deepest, mut in_string, mut escaped) = (0usize, 0usize, false, false);
    for &b in text {
        if in_string {
            match (escaped, b) {
                (true, _) => escaped = false,
                (false, b'\\') => escaped = true,
                (false, b'"') => in_string = false,
                _ => {}
            }
            continue;
        }
        match b {
            b'"' => in_string = true,
            b'[' | b'{' => {
                depth += 1;
                deepest = deepest.max(depth);
            }
            b']' | b'}' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    deepest
}

/// Parses a JSON body into `T`, naming the offending field in the error:
/// `lat` for a wrong type, `reporter.email` for a missing nested field,
/// `body` when the text is not JSON at all.
pub fn parse_json<T: DeserializeOwned>(body: &[u8]) -> Result<T, ApiError> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Err(ApiError::Validation {
            code: "invalid_json",
            field: "body".into(),
            message: "the request body is empty; send a JSON object".into(),
        });
    }
    if json_depth(body) > MAX_JSON_DEPTH {
        return Err(ApiError::Validation {
            code: "invalid_json",
            field: "body".into(),
            message: format!("the JSON nests deeper than {MAX_JSON_DEPTH} levels"),
        });
    }
    // Syntax first, so that a broken body is reported as such rather than as
    // whatever type error the parser met before the break.
    let value: serde_json::Value =
        serde_json::from_slice(body).map_err(|e| ApiError::Validation {
            code: "invalid_json",
            field: "body".into(),
            message: format!("the request body is not valid JSON: {e}"),
        })?;
    if !value.is_object() {
        return Err(ApiError::Validation {
            code: "invalid_json",
            field: "body".into(),
            message: "the request body must be a JSON object".into(),
        });
    }
    serde_path_to_error::deserialize(value).map_err(
        |e: serde_path_to_error::Error<serde_json::Error>| {
            let path = e.path().to_string();
            let message = e.into_inner().to_string();
            // A missing field's path is its parent; name the field itself.
            let missing = message
                .strip_prefix("missing field `")
                .and_then(|rest| rest.split('`').next());
            let field = match (missing, path.as_str()) {
                (Some(name), ".") => name.to_string(),
                (Some(name), parent) => format!("{parent}.{name}"),
                (None, ".") => "body".to_string(),
                (None, path) => path.to_string(),
            };
            ApiError::invalid(field, message)
        },
    )
}
