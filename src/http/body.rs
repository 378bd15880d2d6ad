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
use crate::locale::Text;
use crate::reports::ValidationError;

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
        let json = texts
            .remove(json_part)
            .ok_or_else(|| ApiError::from(ValidationError::required(json_part)))?;
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
            log::info!("a malformed multipart body: {e}");
            ApiError::invalid(
                "body",
                Text::new(
                    "запрос multipart/form-data повреждён",
                    "the multipart body is malformed",
                ),
            )
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
                        Text::new(
                            format!(
                                "за раз можно прислать не больше {} фотографий",
                                state.max_photos
                            ),
                            format!("at most {} photos may come at once", state.max_photos),
                        ),
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
                    Text::new(
                        format!(
                            "в этом запросе нет такой части: пришлите {} и «photos» (изображения)",
                            wanted.join(", ")
                        ),
                        format!(
                            "is not a part of this request: send {} and 'photos' (images)",
                            wanted.join(", ")
                        ),
                    ),
                ));
            }
        };
        let content_type = part.content_type().map(|m| m.essence_str().to_string());
        let mut bytes = Vec::new();
        while let Some(chunk) = part.next().await {
            let chunk = chunk.map_err(|e| unreadable(&field, e))?;
            if bytes.len() + chunk.len() > limit {
                return Err(too_large(&field, limit));
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
        let chunk = chunk.map_err(|e| unreadable("body", e))?;
        if body.len() + chunk.len() > limit {
            return Err(too_large("body", limit));
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

fn unreadable(field: &str, e: impl std::fmt::Display) -> ApiError {
    log::info!("{field} could not be read: {e}");
    ApiError::invalid(
        field,
        Text::new(
            "не удалось прочитать: соединение прервалось",
            "could not be read: the connection broke off",
        ),
    )
}

fn too_large(field: &str, limit: usize) -> ApiError {
    ApiError::invalid_as(
        field,
        "too_large",
        Text::new(
            format!("больше {limit} байт"),
            format!("is larger than {limit} bytes"),
        ),
    )
}

/// A text holding U+0000 is refused where it arrives: PostgreSQL cannot
/// store it, and no person types it.
fn zero_character(field: impl Into<String>) -> ApiError {
    ApiError::invalid_as(
        field,
        "zero_character",
        Text::new(
            "содержит нулевой символ (U+0000), его нельзя сохранить",
            "contains a zero character (U+0000), which cannot be stored",
        ),
    )
}

/// The path (`reporter.email`, `photos[1]`) of the first string, or key,
/// in a JSON value that holds U+0000.
fn zero_character_at(value: &serde_json::Value, path: &str) -> Option<String> {
    use serde_json::Value;
    let inner = |name: String, v: &Value| zero_character_at(v, &name);
    match value {
        Value::String(s) if s.contains('\0') => Some(path_or_body(path)),
        Value::Array(items) => items
            .iter()
            .enumerate()
            .find_map(|(i, v)| inner(format!("{}[{i}]", path_or_body(path)), v)),
        Value::Object(fields) => fields.iter().find_map(|(k, v)| {
            let name = if path.is_empty() {
                k.clone()
            } else {
                format!("{path}.{k}")
            };
            if k.contains('\0') {
                Some(path_or_body(path))
            } else {
                inner(name, v)
            }
        }),
        _ => None,
    }
}

fn path_or_body(path: &str) -> String {
    if path.is_empty() {
        "body".into()
    } else {
        path.to_string()
    }
}

/// Middleware: a request whose address holds an encoded U+0000 (`%00`) is
/// refused before any handler reads it, naming the query parameter (or
/// `path`): an error page for a browser, else the JSON error.
pub async fn refuse_zero_characters(
    req: actix_web::dev::ServiceRequest,
    next: actix_web::middleware::Next<impl actix_web::body::MessageBody>,
) -> Result<
    actix_web::dev::ServiceResponse<actix_web::body::EitherBody<impl actix_web::body::MessageBody>>,
    actix_web::Error,
> {
    let field = if req.path().contains("%00") {
        Some("path".to_string())
    } else {
        req.query_string()
            .split('&')
            .find(|pair| pair.contains("%00"))
            .map(|pair| pair.split('=').next().unwrap_or_default().to_string())
    };
    match field {
        Some(field) => {
            let error = zero_character(field);
            let browser = req
                .headers()
                .get(header::ACCEPT)
                .and_then(|a| a.to_str().ok())
                .is_some_and(|a| a.contains("text/html"));
            let refused = if browser {
                super::html::error_page(&error)
            } else {
                actix_web::ResponseError::error_response(&error)
            };
            Ok(req.into_response(refused).map_into_right_body())
        }
        None => Ok(next.call(req).await?.map_into_left_body()),
    }
}

fn invalid_json(ru: impl Into<String>, en: impl Into<String>) -> ApiError {
    ApiError::invalid_as("body", "invalid_json", Text::new(ru, en))
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
        return Err(invalid_json(
            "запрос пуст; пришлите объект JSON",
            "the request body is empty; send a JSON object",
        ));
    }
    if json_depth(body) > MAX_JSON_DEPTH {
        return Err(invalid_json(
            format!("вложенность JSON глубже {MAX_JSON_DEPTH} уровней"),
            format!("the JSON nests deeper than {MAX_JSON_DEPTH} levels"),
        ));
    }
    // Syntax first, so that a broken body is reported as such rather than as
    // whatever type error the parser met before the break.
    let value: serde_json::Value = serde_json::from_slice(body).map_err(|e| {
        let (line, column) = (e.line(), e.column());
        invalid_json(
            format!("запрос — не JSON (ошибка в строке {line}, позиции {column})"),
            format!(
                "the request body is not valid JSON (the error is at line {line}, column {column})"
            ),
        )
    })?;
    if let Some(field) = zero_character_at(&value, "") {
        return Err(zero_character(field));
    }
    if !value.is_object() {
        return Err(invalid_json(
            "запрос должен быть объектом JSON",
            "the request body must be a JSON object",
        ));
    }
    serde_path_to_error::deserialize(value).map_err(
        |e: serde_path_to_error::Error<serde_json::Error>| {
            let path = e.path().to_string();
            let message = e.into_inner().to_string();
            // A missing field's path is its parent; name the field itself.
            let missing = quoted_after(&message, "missing field `");
            let field = match (missing, path.as_str()) {
                (Some(name), ".") => name.to_string(),
                (Some(name), parent) => format!("{parent}.{name}"),
                (None, ".") => "body".to_string(),
                (None, path) => path.to_string(),
            };
            match missing {
                Some(_) => ValidationError::required(field).into(),
                None => {
                    let (code, text) = parser_problem(&message);
                    ApiError::invalid_as(field, code, text)
                }
            }
        },
    )
}

/// What a JSON parser's complaint means, in words a person reads (its own
/// text names Rust types): the value has the wrong type, is not one of the
/// allowed values, or is not a field of the request.
pub fn parser_problem(message: &str) -> (&'static str, Text) {
    if message.starts_with("unknown field") {
        return (
            "unknown_field",
            Text::new(
                "в этом запросе нет такого поля",
                "is not a field of this request",
            ),
        );
    }
    if let Some(given) = quoted_after(message, "unknown variant `") {
        let allowed: Vec<&str> = message
            .split_once("expected ")
            .map(|(_, list)| list)
            .unwrap_or_default()
            .split('`')
            .skip(1)
            .step_by(2)
            .collect();
        let allowed = allowed.join(", ");
        return (
            "not_allowed",
            Text::new(
                format!("«{given}» — не одно из значений: {allowed}"),
                format!("'{given}' is not one of: {allowed}"),
            ),
        );
    }
    let expected = message
        .rsplit_once("expected ")
        .map(|(_, e)| e.split(" at line").next().unwrap_or(e))
        .unwrap_or_default();
    let (ru, en) = if [
        "f64", "f32", "i64", "i32", "u64", "u32", "u16", "u8", "a number",
    ]
    .iter()
    .any(|t| expected.contains(t))
    {
        ("ожидается число", "must be a number")
    } else if expected.contains("bool") {
        ("ожидается true или false", "must be true or false")
    } else if expected.contains("string") || expected.contains("str") {
        ("ожидается строка", "must be a string")
    } else if expected.contains("sequence") {
        ("ожидается список", "must be a list")
    } else if expected.contains("map") || expected.contains("struct") {
        ("ожидается объект", "must be an object")
    } else {
        ("неверный тип или значение", "has the wrong type or value")
    };
    ("wrong_type", Text::new(ru, en))
}

/// Query strings that do not parse (a parameter given twice, a number that
/// overflows) are answered like every other bad input: the JSON error shape,
/// naming the parameter when the parser does, in the request's language.
pub fn query_config() -> web::QueryConfig {
    web::QueryConfig::default().error_handler(|e, _| {
        let message = match &e {
            actix_web::error::QueryPayloadError::Deserialize(e) => e.to_string(),
            other => other.to_string(),
        };
        extractor_error("query", &message).into()
    })
}

/// Path segments that do not parse, answered as [`query_config`] does.
pub fn path_config() -> web::PathConfig {
    web::PathConfig::default().error_handler(|e, _| extractor_error("path", &e.to_string()).into())
}

/// The name a serde message quotes right after `prefix`: `email` in
/// `` missing field `email` ``.
fn quoted_after<'a>(message: &'a str, prefix: &str) -> Option<&'a str> {
    message
        .strip_prefix(prefix)
        .and_then(|rest| rest.split('`').next())
}

fn extractor_error(whole: &str, message: &str) -> ApiError {
    if let Some(field) = quoted_after(message, "duplicate field `") {
        return ApiError::invalid_as(
            field,
            "repeated",
            Text::new("задан дважды", "is given twice"),
        );
    }
    if let Some(field) = quoted_after(message, "missing field `") {
        return ValidationError::required(field).into();
    }
    if message.contains("invalid digit") || message.contains("number too large") {
        return ApiError::invalid_as(
            whole,
            "not_a_number",
            Text::new(
                "один из параметров — не целое число или слишком велик",
                "one of the parameters is not a whole number or is too large",
            ),
        );
    }
    let (code, text) = parser_problem(message);
    ApiError::invalid_as(whole, code, text)
}
