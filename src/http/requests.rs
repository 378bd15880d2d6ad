//! Every request gets an id: the `X-Request-Id` a trusted proxy set, or a
//! fresh one. It is sent back in the `X-Request-Id` header and in every
//! error body, and it is on each log line written while the request is
//! handled (the log format reads it from a task-local). One line per
//! request says what was asked and how it went.
//!
//! Nothing secret reaches the log: the line names the route's pattern
//! (`/api/v1/unsubscribe/{token}`), never the path as sent (signed links
//! carry their tokens in it) nor the query (where an Open311 client may put
//! its `api_key`); headers (cookies, tokens) are never written.
//!
//! Each request also knows its language, for the messages of its errors:
//! `?lang=`, else the site's language cookie, else the logged-in account's
//! language, else `Accept-Language`, else Russian.

use std::cell::Cell;
use std::time::Instant;

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{HeaderName, HeaderValue};
use actix_web::middleware::Next;
use actix_web::web;

use super::AppState;
use crate::locale::Locale;

pub const HEADER: &str = "x-request-id";

/// The cookie the site's language switcher sets.
pub const LANG_COOKIE: &str = "gorod_lang";

tokio::task_local! {
    static REQUEST_ID: String;
    static LANGUAGE: Language;
}

/// What a request says of its language, strongest first: `?lang=`, the
/// language chosen on the site (its cookie), the logged-in account's, then
/// `Accept-Language`; Russian, the city's language, when none says.
struct Language {
    /// The address asked for, for a page's language switcher (a cheap
    /// clone; made a string only when a page needs it).
    uri: actix_web::http::Uri,
    asked: Option<Locale>,
    account: Cell<Option<Locale>>,
    header: Option<Locale>,
}

/// The cookie that keeps a language chosen on the site (the switcher, the
/// account's settings, logging in) for a year.
pub fn language_cookie(locale: Locale) -> actix_web::cookie::Cookie<'static> {
    actix_web::cookie::Cookie::build(LANG_COOKIE, locale.code())
        .path("/")
        .max_age(actix_web::cookie::time::Duration::days(365))
        .same_site(actix_web::cookie::SameSite::Lax)
        .finish()
}

/// The language of the request being handled on this task: the one its
/// error messages are in.
pub fn language() -> Locale {
    LANGUAGE
        .try_with(|l| l.asked.or(l.account.get()).or(l.header))
        .ok()
        .flatten()
        .unwrap_or(Locale::Ru)
}

/// The path and query of the request being handled ("/" off a request).
pub fn here() -> String {
    LANGUAGE
        .try_with(|l| l.uri.path_and_query().map(ToString::to_string))
        .ok()
        .flatten()
        .unwrap_or_else(|| "/".to_string())
}

/// The logged-in account's language, once the request's caller is known.
pub fn account_language(locale: Locale) {
    let _ = LANGUAGE.try_with(|l| l.account.set(Some(locale)));
}

fn asked_language(req: &ServiceRequest) -> Option<Locale> {
    // Language codes are plain ASCII: no decoding, no allocation on every
    // request.
    req.query_string()
        .split('&')
        .find_map(|pair| pair.strip_prefix("lang="))
        .and_then(Locale::exact)
        .or_else(|| {
            req.cookie(LANG_COOKIE)
                .and_then(|c| Locale::exact(c.value()))
        })
}

/// The id of the request being handled on this task, if any.
pub fn current() -> Option<String> {
    REQUEST_ID.try_with(Clone::clone).ok()
}

/// A proxy's id is taken as it is when it is short and plain.
fn acceptable(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= 128
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_.:".contains(&b))
}

/// Middleware: names the request, logs it once done.
pub async fn identify(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let from_proxy = req
        .app_data::<web::Data<AppState>>()
        .zip(req.peer_addr())
        .is_some_and(|(state, peer)| state.trusted_proxies.contains(&peer.ip()));
    let id = req
        .headers()
        .get(HEADER)
        .and_then(|v| v.to_str().ok())
        .filter(|id| from_proxy && acceptable(id))
        .map(str::to_string)
        .unwrap_or_else(|| uuid::Uuid::now_v7().simple().to_string());
    let method = req.method().to_string();
    let route = req
        .match_pattern()
        .unwrap_or_else(|| "(no route)".to_string());
    let language = Language {
        uri: req.uri().clone(),
        asked: asked_language(&req),
        account: Cell::new(None),
        header: super::accept_language(req.request()),
    };
    let started = Instant::now();
    let mut response = REQUEST_ID
        .scope(id.clone(), LANGUAGE.scope(language, next.call(req)))
        .await?;
    if let Ok(value) = HeaderValue::from_str(&id) {
        response
            .headers_mut()
            .insert(HeaderName::from_static(HEADER), value);
    }
    REQUEST_ID.sync_scope(id, || {
        log::info!(
            target: "gorod::request",
            "{method} {route} {} {:.1}ms",
            response.status().as_u16(),
            started.elapsed().as_secs_f64() * 1000.0
        )
    });
    Ok(response)
}

#[cfg(test)]
mod tests {
    #[test]
    fn only_plain_short_ids_are_taken_from_a_proxy() {
        assert!(super::acceptable("9f1c-22ab.lb1:7"));
        assert!(!super::acceptable(""));
        assert!(!super::acceptable("a b"));
        assert!(!super::acceptable("x\ny"));
        assert!(!super::acceptable(&"a".repeat(129)));
    }
}
