//! Accounts over HTTP: registration, address verification, login (with a
//! TOTP code for staff), logout, the caller's own account, password change
//! and reset, second-factor enrolment.
//!
//! - Registering and asking for a password reset always answer 202 and say
//!   the same thing, so neither tells anyone which addresses have accounts.
//! - Logging in starts a new session (a new id, whatever cookie came with
//!   the request is ended) and sets it as an `HttpOnly`, `SameSite=Lax`
//!   cookie; the answer carries the session's CSRF token for the requests
//!   that change something.
//! - Staff must use a second factor. One who has not enrolled yet logs in
//!   to a session that can only enrol (`POST /account/totp`, then
//!   `/account/totp/confirm` with the first code); one who has sends the
//!   current code with the password.
//! - Logging out, changing or resetting the password, and an admin
//!   disabling the account end every session of the account at once.
//! - Failed logins are counted per account and per client address; from
//!   the third, each failure is answered after a doubling pause, and past
//!   the limit the login waits for the window to end (429). Registrations
//!   and reset requests are counted per client address.

use crate::locale::Text;
use actix_web::http::StatusCode;
use actix_web::{get, post, put, web, HttpRequest, HttpResponse};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::auth::{self, Caller, Via};
use super::error::ErrorBody;
use super::html::{error_page, say, LinkPage};
use super::{db, parse_json, read_body, throttle, ApiError, AppState};
use crate::accounts::{self, totp, NewPassword};
use crate::app::accounts::{self as account, Login, MailSettings, NewLogin};
use crate::limits;
use crate::locale::Locale;
use crate::notify::links::AccountLink;
use crate::policy::Permission;
use crate::policy::Role;
use crate::reports::EmailAddress;

mod second_factor;
pub use second_factor::*;

mod password;
pub use password::*;

const MAX_BODY: usize = 16 * 1024;

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RegisterInput {
    #[schema(schema_with = super::contract::email)]
    email: String,
    /// 10 to 128 characters, not the email
    #[schema(schema_with = super::contract::new_password)]
    password: String,
    name: Option<String>,
    /// ru or en (default: the request's Accept-Language, else ru)
    #[schema(schema_with = super::contract::locale_or_null)]
    locale: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Accepted {
    message: &'static str,
}

pub(super) fn password(text: &str, email: &str, field: &str) -> Result<NewPassword, ApiError> {
    NewPassword::parse(text, email).map_err(|e| ApiError::invalid(field, e.text()))
}

/// The language asked for (`locale`), or `default`.
pub(super) fn locale(code: Option<&str>, default: Locale) -> Result<Locale, ApiError> {
    match code {
        None => Ok(default),
        Some(code) => Locale::exact(code).ok_or_else(|| {
            ApiError::invalid(
                "locale",
                Text::new(
                    format!("«{code}» — не ru и не en"),
                    format!("'{code}' is not ru or en"),
                ),
            )
        }),
    }
}

/// Hashes on the blocking pool: Argon2id takes tens of milliseconds.
pub(super) async fn hashed(new: NewPassword) -> Result<String, ApiError> {
    web::block(move || new.hash())
        .await
        .map_err(|e| ApiError::Internal(Box::new(e)))
}

async fn verified(given: String, stored: String) -> Result<bool, ApiError> {
    web::block(move || accounts::verify_password(&given, &stored))
        .await
        .map_err(|e| ApiError::Internal(Box::new(e)))
}

/// Counts an account request (registration, reset) of the client's address.
async fn spend_account_request(state: &AppState, request: &HttpRequest) -> Result<(), ApiError> {
    let ip = auth::client_ip(state, request).map_or("unknown".into(), |ip| ip.to_string());
    let window = limits::fixed(state.clock.now(), chrono::TimeDelta::hours(1));
    throttle::spend(
        state,
        format!("account-ip:{ip}"),
        state.limits.account_requests_per_ip_hour,
        window,
        Text::new(
            "слишком много запросов об учётных записях с этого адреса",
            "too many account requests from this address",
        ),
    )
    .await
}

/// Register a resident account.
///
/// The address must be verified through the emailed link before the
/// account can log in. The answer is the same whether or not the address
/// already has an account (its owner gets an email saying so).
#[utoipa::path(
    tag = "account",
    request_body = RegisterInput,
    responses(
        (status = 202, description = "A verification link was emailed", body = Accepted),
        (status = 400, description = "A field is wrong", body = ErrorBody),
        (status = 429, description = "Too many requests from this address", body = ErrorBody),
    )
)]
#[post("/account/register")]
pub async fn register(
    state: web::Data<AppState>,
    request: HttpRequest,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let input: RegisterInput = parse_json(&read_body(payload, MAX_BODY).await?)?;
    let email = EmailAddress::parse("email", &input.email)?;
    let new = password(&input.password, email.as_str(), "password")?;
    let name = crate::reports::optional_text("name", input.name, 200)?;
    let default = super::accept_language(&request).unwrap_or(Locale::Ru);
    let locale = locale(input.locale.as_deref(), default)?;
    spend_account_request(&state, &request).await?;
    let hash = hashed(new).await?;
    let now = state.clock.now();
    let app = state.services.clone();
    db(&state, move |conn| {
        Ok(account::register(
            &app,
            conn,
            &email,
            name.as_deref(),
            locale,
            &hash,
            now,
        )?)
    })
    .await?;
    Ok(HttpResponse::Accepted().json(Accepted {
        message: "check your mailbox: the link in our email completes the registration",
    }))
}

/// The one-time token a signed account link names, for `purpose`.
pub(super) fn account_link(
    state: &AppState,
    token: &str,
    purpose: &str,
) -> Result<String, ApiError> {
    match state.signer.open_account(token) {
        Ok(AccountLink {
            purpose: p,
            token_id,
        }) if p == purpose => Ok(token_id),
        Ok(_) => Err(ApiError::invalid(
            "token",
            Text::new(
                "ссылка предназначена для другого",
                "the link is for something else",
            ),
        )),
        Err(e) => Err(ApiError::invalid("token", e.text())),
    }
}

fn gone() -> ApiError {
    ApiError::Conflict(Text::new(
        "ссылкой уже воспользовались или её срок истёк; запросите новую",
        "the link was used already or has expired; ask for a new one",
    ))
}

/// The page an address-verification link opens (following it changes
/// nothing; the button does).
#[utoipa::path(
    tag = "account",
    params(("token" = String, Path, description = "The signed token from the link")),
    responses(
        (status = 200, description = "The form", content_type = "text/html"),
        (status = 400, description = "The link is damaged or forged", content_type = "text/html"),
        (status = 409, description = "Used already, or expired", content_type = "text/html"),
    )
)]
#[get("/account/verify_email/{token}")]
pub async fn verify_page(state: web::Data<AppState>, token: web::Path<String>) -> HttpResponse {
    if let Err(e) = account_link(&state, &token, "verify_email") {
        return error_page(&e);
    }
    LinkPage {
        said: vec![say(
            "Нажмите кнопку, чтобы подтвердить адрес эл. почты.",
            "Press the button to confirm your email address.",
        )],
        button: Some(say("Подтвердить", "Confirm")),
        ..LinkPage::titled(say("Подтверждение адреса", "Confirm your address"))
    }
    .respond(StatusCode::OK)
}

/// Verify the address (the link's form, posted).
#[utoipa::path(
    tag = "account",
    params(("token" = String, Path, description = "The signed token from the link")),
    responses(
        (status = 200, description = "Verified", content_type = "text/html"),
        (status = 400, description = "The link is damaged", content_type = "text/html"),
        (status = 409, description = "Used already or expired", content_type = "text/html"),
    )
)]
#[post("/account/verify_email/{token}")]
pub async fn verify(state: web::Data<AppState>, token: web::Path<String>) -> HttpResponse {
    let outcome = async {
        let token_id = account_link(&state, &token, "verify_email")?;
        let app = state.services.clone();
        let good = db(&state, move |conn| {
            Ok(account::verify_email(&app, conn, &token_id)?)
        })
        .await?;
        if good {
            Ok(())
        } else {
            Err(gone())
        }
    }
    .await;
    match outcome {
        Ok(()) => LinkPage {
            said: vec![say("Теперь можно войти.", "You can log in now.")],
            link: Some(("/login".into(), say("Войти", "Log in"))),
            ..LinkPage::titled(say("Адрес подтверждён", "Address confirmed"))
        }
        .respond(StatusCode::OK),
        Err(e) => error_page(&e),
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LoginInput {
    #[schema(schema_with = super::contract::email)]
    email: String,
    password: String,
    /// The authenticator app's current code (staff who have enrolled)
    totp: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SessionView {
    user_id: String,
    email: String,
    role: String,
    /// The department's code (staff)
    department: Option<String>,
    email_verified: bool,
    totp_enrolled: bool,
    /// Staff who must enrol a second factor before anything else
    second_factor_pending: bool,
    /// Send it as X-CSRF-Token with every request that changes something
    /// (cookie sessions only)
    #[serde(skip_serializing_if = "Option::is_none")]
    csrf_token: Option<String>,
}

/// The failure counters of a login.
struct LoginKeys {
    account: String,
    ip: String,
    window: limits::Window,
}

impl LoginKeys {
    fn new(state: &AppState, request: &HttpRequest, email: &str) -> LoginKeys {
        let ip = auth::client_ip(state, request).map_or("unknown".into(), |ip| ip.to_string());
        LoginKeys {
            account: format!("login:{email}"),
            ip: format!("login-ip:{ip}"),
            window: limits::fixed(
                state.clock.now(),
                chrono::TimeDelta::minutes(state.limits.login_window_minutes.max(1)),
            ),
        }
    }

    async fn refuse_if_spent(&self, state: &AppState) -> Result<(), ApiError> {
        throttle::refuse_if_spent(
            state,
            vec![
                (
                    self.account.clone(),
                    state.limits.login_failures_per_account,
                ),
                (self.ip.clone(), state.limits.login_failures_per_ip),
            ],
            self.window,
            Text::new(
                "слишком много неудачных попыток входа",
                "too many failed logins",
            ),
        )
        .await
    }

    /// Counts a failure and answers it after a pause that doubles with
    /// each failure past the second (0.25 s, 0.5 s, 1 s … at most 4 s), so
    /// guessing slows down well before the limit refuses it outright.
    async fn failed(&self, state: &AppState, error: ApiError) -> ApiError {
        let keys = vec![self.account.clone(), self.ip.clone()];
        match throttle::count(state, keys, self.window).await {
            Ok(failures) => {
                if failures > 2 {
                    let doublings = u32::try_from(failures - 3).unwrap_or(u32::MAX).min(4);
                    let pause = std::time::Duration::from_millis(250) * 2u32.pow(doublings);
                    actix_web::rt::time::sleep(pause).await;
                }
                error
            }
            Err(e) => e,
        }
    }
}

fn wrong_login() -> ApiError {
    ApiError::Unauthorized(Text::new(
        "неверный адрес эл. почты или пароль",
        "the email or the password is wrong",
    ))
}

/// Log in: starts a session and sets its cookie.
#[utoipa::path(
    tag = "account",
    request_body = LoginInput,
    responses(
        (status = 200, description = "Logged in (the cookie is set)", body = SessionView),
        (status = 400, description = "A field is wrong", body = ErrorBody),
        (status = 401, description = "Wrong email, password or code; or the code is missing (code totp_required)", body = ErrorBody),
        (status = 403, description = "The address is not verified, or the account is disabled", body = ErrorBody),
        (status = 429, description = "Too many failed logins for the account or from the address", body = ErrorBody),
    )
)]
#[post("/account/login")]
pub async fn log_in(
    state: web::Data<AppState>,
    request: HttpRequest,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let input: LoginInput = parse_json(&read_body(payload, MAX_BODY).await?)?;
    let email = EmailAddress::parse("email", &input.email)?;
    let keys = LoginKeys::new(&state, &request, email.as_str());
    keys.refuse_if_spent(&state).await?;
    let address = email.clone();
    let found = db(&state, move |conn| Ok(account::by_email(conn, &address)?)).await?;
    let stored = found
        .as_ref()
        .and_then(|l| l.password_hash.clone())
        .unwrap_or_else(|| accounts::decoy_hash().to_string());
    let matches = verified(input.password, stored).await?;
    let login = match found {
        Some(login) if matches => login,
        _ => return Err(keys.failed(&state, wrong_login()).await),
    };
    if login.disabled_at.is_some() {
        return Err(ApiError::Refused {
            status: StatusCode::FORBIDDEN,
            code: "account_disabled",
            message: Text::new("эта учётная запись отключена", "this account is disabled"),
        });
    }
    if login.email_verified_at.is_none() {
        return Err(ApiError::Refused {
            status: StatusCode::FORBIDDEN,
            code: "email_not_verified",
            message: Text::new(
                "сначала подтвердите адрес: перейдите по ссылке из нашего письма",
                "confirm your address first: follow the link in our email",
            ),
        });
    }
    let staff = Role::parse(&login.role).is_some_and(|r| r != Role::Resident);
    let full = match (&login.totp_secret, login.totp_enrolled_at) {
        (Some(secret), Some(_)) => {
            let Some(code) = input.totp.as_deref().filter(|c| !c.trim().is_empty()) else {
                return Err(ApiError::Refused {
                    status: StatusCode::UNAUTHORIZED,
                    code: "totp_required",
                    message: Text::new(
                        "totp: пришлите текущий код из приложения-аутентификатора",
                        "totp: send the current code of your authenticator app",
                    ),
                });
            };
            if !use_code(&state, &login, secret, code).await? {
                return Err(keys
                    .failed(
                        &state,
                        ApiError::Unauthorized(Text::new(
                            "totp: код неверен или уже использован",
                            "totp: the code is wrong or was used already",
                        )),
                    )
                    .await);
            }
            true
        }
        // Residents may enrol a second factor; staff must.
        _ => !staff,
    };
    let window = keys.window;
    let account_key = keys.account.clone();
    db(&state, move |conn| {
        Ok(crate::app::limits::clear(conn, &account_key, window)?)
    })
    .await?;
    start_session(&state, &request, login, full).await
}

/// Checks a TOTP code and uses up its step.
async fn use_code(
    state: &AppState,
    login: &Login,
    secret: &str,
    code: &str,
) -> Result<bool, ApiError> {
    let now = state.clock.now();
    let Some(step) = totp::accept(
        secret,
        code,
        now.and_utc().timestamp(),
        login.totp_last_step,
    ) else {
        return Ok(false);
    };
    let (app, user_id) = (state.services.clone(), login.user_id.clone());
    db(state, move |conn| {
        Ok(account::use_totp_step(&app, conn, &user_id, step)?)
    })
    .await
}

/// Starts a session for `login` (ending the one the request came with) and
/// answers with it and its cookie.
async fn start_session(
    state: &web::Data<AppState>,
    request: &HttpRequest,
    login: Login,
    full: bool,
) -> Result<HttpResponse, ApiError> {
    let secret = accounts::new_secret();
    let id_hash = accounts::secret_digest(&secret);
    let csrf_key = accounts::new_secret();
    let previous = request
        .cookie(auth::SESSION_COOKIE)
        .map(|c| accounts::secret_digest(c.value()));
    let new = NewLogin {
        user_id: login.user_id.clone(),
        id_hash: id_hash.clone(),
        csrf_key: csrf_key.clone(),
        full,
        ip: auth::client_ip(state, request).map(|ip| ip.to_string()),
        previous,
    };
    let (app, limits) = (state.services.clone(), state.sessions.limits);
    db(state, move |conn| {
        Ok(account::start_session(&app, conn, &new, limits)?)
    })
    .await?;
    let view = session_view(
        state,
        &login,
        !full,
        Some(accounts::csrf_token(&csrf_key, &id_hash)),
    )
    .await?;
    Ok(HttpResponse::Ok()
        .cookie(auth::session_cookie(state, Some(&secret)))
        .cookie(super::requests::language_cookie(Locale::parse(
            &login.locale,
        )))
        .json(view))
}

async fn session_view(
    state: &web::Data<AppState>,
    login: &Login,
    second_factor_pending: bool,
    csrf_token: Option<String>,
) -> Result<SessionView, ApiError> {
    let app = state.clone();
    let department_id = login.department_id.clone();
    let department = db(state, move |conn| {
        Ok(account::department_code(
            &app,
            conn,
            department_id.as_deref(),
        )?)
    })
    .await?;
    Ok(SessionView {
        user_id: login.user_id.clone(),
        email: login.email.clone(),
        role: login.role.clone(),
        department,
        email_verified: login.email_verified_at.is_some(),
        totp_enrolled: login.totp_enrolled_at.is_some(),
        second_factor_pending,
        csrf_token,
    })
}

/// The caller with an account, for the account's own steps.
async fn own_account(
    state: &web::Data<AppState>,
    request: &HttpRequest,
) -> Result<(Caller, Login), ApiError> {
    let caller = auth::authorize(state, request, Permission::ManageOwnAccount).await?;
    let user_id = caller.user_id()?.to_string();
    let login = db(state, move |conn| Ok(account::by_id(conn, &user_id)?))
        .await?
        .ok_or_else(|| {
            ApiError::NotFound(Text::new(
                "у этого пользователя нет учётной записи",
                "this user has no account",
            ))
        })?;
    Ok((caller, login))
}

/// The caller's account, with the session's CSRF token.
#[utoipa::path(
    tag = "account",
    responses(
        (status = 200, description = "The account", body = SessionView),
        (status = 401, description = "Not logged in", body = ErrorBody),
    )
)]
#[get("/account/me")]
pub async fn me(
    state: web::Data<AppState>,
    request: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    let (caller, login) = own_account(&state, &request).await?;
    let pending = matches!(&caller.via, Via::Session(s) if s.second_factor_owed);
    let csrf = caller.csrf_token();
    Ok(HttpResponse::Ok().json(session_view(&state, &login, pending, csrf).await?))
}

/// Log out: ends every session of the account, on every device.
#[utoipa::path(
    tag = "account",
    responses(
        (status = 204, description = "Logged out everywhere"),
        (status = 401, description = "Not logged in", body = ErrorBody),
        (status = 403, description = "The CSRF token is missing or wrong", body = ErrorBody),
    )
)]
#[post("/account/logout")]
pub async fn log_out(
    state: web::Data<AppState>,
    request: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    let caller = auth::authorize(&state, &request, Permission::ManageOwnAccount).await?;
    let user_id = caller.user_id()?.to_string();
    let app = state.services.clone();
    db(&state, move |conn| {
        Ok(account::end_sessions(&app, conn, &user_id)?)
    })
    .await?;
    Ok(HttpResponse::NoContent()
        .cookie(auth::session_cookie(&state, None))
        .finish())
}
