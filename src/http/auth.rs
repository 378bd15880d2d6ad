//! Who is calling, and whether they may do what they ask.
//!
//! A caller is anonymous, holds a bearer API token (`Authorization: Bearer
//! …`: integrations, scripts; stored as its SHA-256, scoped, revocable), or
//! has a session cookie (`gorod_session`, from logging in; the session is a
//! database row, found by the cookie's SHA-256). A cookie-authenticated
//! request that changes anything must also carry the session's CSRF token
//! (`X-CSRF-Token`) and must not come from another site (`Origin`,
//! `Sec-Fetch-Site`). Every handler asks [`Caller::require`], which asks the
//! policy table (`crate::policy`).

use crate::locale::Text;
use std::net::IpAddr;

use actix_web::cookie::{Cookie, SameSite};
use actix_web::http::{header, Method, StatusCode};
use actix_web::{web, HttpRequest};

use super::{db, ApiError, AppState};
use crate::access::api_key_digest;
use crate::policy::Role;
use crate::policy::{self, Permission, Principal, Target};
use crate::routing::Departments;

pub const SESSION_COOKIE: &str = "gorod_session";
pub const CSRF_HEADER: &str = "x-csrf-token";

/// How the caller proved who they are.
#[derive(Debug, Clone)]
pub enum Via {
    Anonymous,
    /// A bearer API token that may do `scopes` (`*`: all its holder may).
    Token {
        scopes: String,
    },
    Session(SessionRef),
}

/// The session behind a cookie.
#[derive(Debug, Clone)]
pub struct SessionRef {
    pub id_hash: String,
    pub csrf_key: String,
    /// A staff member who has given their password but not yet their
    /// second factor: only their own account's second-factor steps.
    pub second_factor_owed: bool,
}

#[derive(Debug, Clone)]
pub struct Caller {
    pub who: Principal,
    pub via: Via,
}

impl Caller {
    pub fn is_anonymous(&self) -> bool {
        self.who.user_id.is_none()
    }

    pub fn role(&self) -> Option<Role> {
        self.who.role
    }

    /// The caller's user id; 401 when anonymous.
    pub fn user_id(&self) -> Result<&str, ApiError> {
        self.who.user_id.as_deref().ok_or_else(|| {
            ApiError::Unauthorized(Text::new(
                "войдите или пришлите токен API",
                "log in, or send an API token",
            ))
        })
    }

    /// The CSRF token a session's forms send (`None` without a session).
    pub fn csrf_token(&self) -> Option<String> {
        match &self.via {
            Via::Session(s) => Some(crate::accounts::csrf_token(&s.csrf_key, &s.id_hash)),
            _ => None,
        }
    }

    /// The caller's role as the audit log names it.
    pub fn role_name(&self) -> &'static str {
        self.who.role.map_or("anonymous", Role::as_str)
    }

    /// The caller as the audit log records them.
    pub fn audit_actor(&self, state: &AppState, request: &HttpRequest) -> crate::app::audit::Actor {
        crate::app::audit::Actor {
            user_id: self.who.user_id.clone(),
            role: self.role_name().to_string(),
            ip: client_ip(state, request).map(|ip| ip.to_string()),
        }
    }

    /// Allowed by the policy, or the refusal: 401 for an anonymous caller
    /// (or one who owes a second factor), 403 for anyone else.
    pub fn require(
        &self,
        action: Permission,
        target: Target,
        departments: &Departments,
    ) -> Result<(), ApiError> {
        if let Via::Session(session) = &self.via {
            if session.second_factor_owed && action != Permission::ManageOwnAccount {
                return Err(ApiError::Refused {
                    status: StatusCode::UNAUTHORIZED,
                    code: "second_factor_required",
                    message: Text::new(
                        "сначала введите код из приложения-аутентификатора (POST /api/v1/account/totp/confirm)",
                        "enter the code of your authenticator app first (POST /api/v1/account/totp/confirm)",
                    ),
                });
            }
        }
        if let Via::Token { scopes } = &self.via {
            if scopes != "*" && !scopes.split([',', ' ']).any(|s| s == action.as_str()) {
                let action = action.as_str();
                return Err(ApiError::Forbidden(Text::new(
                    format!("этот токен API не для {action}"),
                    format!("this API token is not for {action}"),
                )));
            }
        }
        if policy::allows(&self.who, action, target, departments) {
            Ok(())
        } else if self.is_anonymous() {
            Err(ApiError::Unauthorized(Text::new(
                "войдите или пришлите токен API: Authorization: Bearer <токен>",
                "log in, or send an API token: Authorization: Bearer <token>",
            )))
        } else {
            Err(ApiError::Forbidden(Text::new(
                "у вашей роли нет на это права",
                format!("a {} may not do this here", self.role_name()),
            )))
        }
    }

    /// As [`Caller::require`], for an action on nothing in particular
    /// (staff with a department scope pass: their lists are narrowed to it).
    pub fn require_any(&self, action: Permission) -> Result<(), ApiError> {
        self.require(action, Target::Nothing, &Departments::default())
    }
}

fn parse_role(role: &str) -> Option<Role> {
    Role::parse(role).filter(|r| *r != Role::System)
}

fn principal(user_id: String, role: &str, department: Option<String>) -> Principal {
    Principal {
        role: parse_role(role),
        user_id: Some(user_id),
        department: department.as_deref().and_then(|d| d.parse().ok()),
    }
}

/// The request's bearer token, if it sends one.
fn bearer(request: &HttpRequest) -> Option<Result<String, ApiError>> {
    let value = request.headers().get(header::AUTHORIZATION)?;
    let token = value
        .to_str()
        .ok()
        .and_then(|v| {
            v.strip_prefix("Bearer ")
                .or_else(|| v.strip_prefix("bearer "))
        })
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .map(str::to_string)
        .ok_or_else(|| {
            ApiError::Unauthorized(Text::new(
                "пришлите токен API: Authorization: Bearer <токен>",
                "send an API token: Authorization: Bearer <token>",
            ))
        });
    Some(token)
}

/// Who is calling. A bad bearer token is a 401; a cookie whose session has
/// ended counts as no cookie. A cookie-authenticated request that changes
/// something is refused (403) without its CSRF token or from another site.
pub async fn caller(
    state: &web::Data<AppState>,
    request: &HttpRequest,
) -> Result<Caller, ApiError> {
    if let Some(token) = bearer(request) {
        let digest = api_key_digest(&token?);
        let holder = db(state, move |conn| {
            Ok(crate::app::accounts::token_holder(conn, &digest)?)
        })
        .await?
        .ok_or_else(|| {
            ApiError::Unauthorized(Text::new(
                "токен API недействителен",
                "the API token is not valid",
            ))
        })?;
        return Ok(Caller {
            who: principal(holder.user_id, &holder.role, holder.department_id),
            via: Via::Token {
                scopes: holder.scopes,
            },
        });
    }
    let anonymous = Caller {
        who: Principal::default(),
        via: Via::Anonymous,
    };
    let Some(cookie) = request.cookie(SESSION_COOKIE) else {
        return Ok(anonymous);
    };
    let id_hash = crate::accounts::secret_digest(cookie.value());
    let (app, limits, key) = (state.clone(), state.sessions.limits, id_hash.clone());
    let Some(session) = db(state, move |conn| {
        Ok(crate::app::accounts::session(&app, conn, &key, limits)?)
    })
    .await?
    else {
        return Ok(anonymous);
    };
    super::requests::account_language(crate::locale::Locale::parse(&session.locale));
    let session_ref = SessionRef {
        id_hash,
        csrf_key: session.csrf_key,
        second_factor_owed: session.stage != "full",
    };
    if changes_state(request.method()) {
        check_csrf(state, request, &session_ref)?;
    }
    Ok(Caller {
        who: principal(session.user_id, &session.role, session.department_id),
        via: Via::Session(session_ref),
    })
}

/// The caller, if the policy lets them do `action` on nothing in
/// particular (see [`Caller::require_any`]).
pub async fn authorize(
    state: &web::Data<AppState>,
    request: &HttpRequest,
    action: Permission,
) -> Result<Caller, ApiError> {
    let caller = caller(state, request).await?;
    caller.require_any(action)?;
    Ok(caller)
}

fn changes_state(method: &Method) -> bool {
    !matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS)
}

fn csrf_refused(message: Text) -> ApiError {
    ApiError::Refused {
        status: StatusCode::FORBIDDEN,
        code: "csrf",
        message,
    }
}

/// A cookie-authenticated change must come from this site and carry the
/// session's CSRF token.
fn check_csrf(
    state: &AppState,
    request: &HttpRequest,
    session: &SessionRef,
) -> Result<(), ApiError> {
    let header_text = |name: &str| {
        request
            .headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string)
    };
    if let Some(site) = header_text("sec-fetch-site") {
        if !matches!(site.as_str(), "same-origin" | "none") {
            return Err(csrf_refused(Text::new(
                "запрос с другого сайта не может ничего здесь менять",
                "a request from another site may not change anything here",
            )));
        }
    }
    if let Some(origin) = header_text("origin") {
        let info = request.connection_info();
        let own = format!("{}://{}", info.scheme(), info.host());
        if origin != own && origin != origin_of(&state.public_url) {
            return Err(csrf_refused(Text::new(
                format!("запрос с {origin} не может ничего здесь менять"),
                format!("a request from {origin} may not change anything here"),
            )));
        }
    }
    let token = header_text(CSRF_HEADER).unwrap_or_default();
    if crate::accounts::csrf_token_matches(&session.csrf_key, &session.id_hash, &token) {
        Ok(())
    } else {
        Err(csrf_refused(Text::new(
            "пришлите CSRF-токен сеанса в X-CSRF-Token (его даёт GET /api/v1/account/me)",
            "send the session's CSRF token in X-CSRF-Token (GET /api/v1/account/me gives it)",
        )))
    }
}

/// `scheme://host[:port]` of a URL.
fn origin_of(url: &str) -> &str {
    let after_scheme = url.find("://").map_or(0, |i| i + 3);
    match url[after_scheme..].find('/') {
        Some(slash) => &url[..after_scheme + slash],
        None => url,
    }
}

/// The session cookie for a new session (`value` is the secret), or the
/// one that removes it (`None`).
pub fn session_cookie(state: &AppState, value: Option<&str>) -> Cookie<'static> {
    let mut cookie = Cookie::build(SESSION_COOKIE, value.unwrap_or("").to_string())
        .path("/")
        .http_only(true)
        .same_site(SameSite::Lax)
        .secure(state.sessions.secure_cookies)
        .finish();
    match value {
        Some(_) => cookie.set_max_age(actix_web::cookie::time::Duration::seconds(
            state.sessions.limits.absolute.num_seconds(),
        )),
        None => cookie.make_removal(),
    }
    cookie
}

/// The client's address: the peer's, or, when the peer is a trusted proxy,
/// the last address in `X-Forwarded-For` that is not one.
pub fn client_ip(state: &AppState, request: &HttpRequest) -> Option<IpAddr> {
    let peer = request.peer_addr()?.ip();
    let forwarded = request
        .headers()
        .get_all("x-forwarded-for")
        .filter_map(|v| v.to_str().ok());
    Some(client_address(peer, forwarded, &state.trusted_proxies))
}

/// The client behind `peer`: itself unless it is a trusted proxy, else the
/// nearest untrusted hop `X-Forwarded-For` names (hops further out could be
/// made up by the client).
fn client_address<'a>(
    peer: IpAddr,
    forwarded: impl Iterator<Item = &'a str>,
    trusted: &[IpAddr],
) -> IpAddr {
    if !trusted.contains(&peer) {
        return peer;
    }
    let hops: Vec<IpAddr> = forwarded
        .flat_map(|v| v.split(','))
        .filter_map(|a| a.trim().parse::<IpAddr>().ok())
        .collect();
    hops.into_iter()
        .rev()
        .find(|a| !trusted.contains(a))
        .unwrap_or(peer)
}

#[cfg(test)]
mod tests {
    use std::net::IpAddr;

    #[test]
    fn the_client_is_the_peer_unless_the_peer_is_a_trusted_proxy() {
        let ip = |s: &str| s.parse::<IpAddr>().unwrap();
        let proxy = [ip("10.0.0.2")];
        let forwarded = ["198.51.100.7, 203.0.113.9"];
        // An untrusted peer's header is ignored.
        assert_eq!(
            super::client_address(ip("192.0.2.1"), forwarded.into_iter(), &proxy),
            ip("192.0.2.1")
        );
        // Behind the proxy: the nearest hop it saw, not what the client wrote.
        assert_eq!(
            super::client_address(ip("10.0.0.2"), forwarded.into_iter(), &proxy),
            ip("203.0.113.9")
        );
        assert_eq!(
            super::client_address(ip("10.0.0.2"), [].into_iter(), &proxy),
            ip("10.0.0.2")
        );
    }
    #[test]
    fn the_origin_of_a_url() {
        assert_eq!(
            super::origin_of("https://gorod.example/x/y"),
            "https://gorod.example"
        );
        assert_eq!(
            super::origin_of("http://127.0.0.1:8080"),
            "http://127.0.0.1:8080"
        );
    }
}
