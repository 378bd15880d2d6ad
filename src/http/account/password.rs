//! Changing a password, and resetting a forgotten one by an emailed link.

use super::*;
use crate::locale::Text;

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PasswordInput {
    current_password: String,
    /// 10 to 128 characters, not the email
    #[schema(schema_with = super::super::contract::new_password)]
    new_password: String,
}

/// Change the password: every session of the account ends, and this
/// device gets a new one.
#[utoipa::path(
    tag = "account",
    request_body = PasswordInput,
    responses(
        (status = 200, description = "Changed; a new session cookie is set", body = SessionView),
        (status = 400, description = "The new password is not good enough", body = ErrorBody),
        (status = 401, description = "The current password is wrong", body = ErrorBody),
        (status = 403, description = "The CSRF token is missing or wrong", body = ErrorBody),
        (status = 429, description = "Too many failed attempts", body = ErrorBody),
    )
)]
#[post("/account/password")]
pub async fn change_password(
    state: web::Data<AppState>,
    request: HttpRequest,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let (caller, login) = own_account(&state, &request).await?;
    let input: PasswordInput = parse_json(&read_body(payload, MAX_BODY).await?)?;
    let new = password(&input.new_password, &login.email, "new_password")?;
    let keys = LoginKeys::new(&state, &request, &login.email);
    keys.refuse_if_spent(&state).await?;
    let stored = login.password_hash.clone().unwrap_or_default();
    if !verified(input.current_password, stored).await? {
        let wrong = ApiError::invalid("current_password", Text::new("неверен", "is wrong"));
        return Err(keys.failed(&state, wrong).await);
    }
    let hash = hashed(new).await?;
    let (app, user_id) = (state.services.clone(), login.user_id.clone());
    db(&state, move |conn| {
        Ok(account::set_password(&app, conn, &user_id, &hash)?)
    })
    .await?;
    let full = match &caller.via {
        Via::Session(s) => !s.second_factor_owed,
        _ => true,
    };
    start_session(&state, &request, login, full).await
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ResetRequestInput {
    #[schema(schema_with = super::super::contract::email)]
    email: String,
}

/// Ask for a password-reset link (valid for an hour, once). The answer is
/// the same whether or not the address has an account.
#[utoipa::path(
    tag = "account",
    request_body = ResetRequestInput,
    responses(
        (status = 202, description = "If the address has an account, a link was emailed", body = Accepted),
        (status = 400, description = "Not an email address", body = ErrorBody),
        (status = 429, description = "Too many requests from this address", body = ErrorBody),
    )
)]
#[post("/account/password-reset")]
pub async fn request_reset(
    state: web::Data<AppState>,
    request: HttpRequest,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let input: ResetRequestInput = parse_json(&read_body(payload, MAX_BODY).await?)?;
    let email = EmailAddress::parse("email", &input.email)?;
    spend_account_request(&state, &request).await?;
    let now = state.clock.now();
    let app = state.services.clone();
    db(&state, move |conn| {
        Ok(account::request_password_reset(&app, conn, &email, now)?)
    })
    .await?;
    Ok(HttpResponse::Accepted().json(Accepted {
        message: "if this address has an account, a link to set a new password is on its way",
    }))
}

/// The page a password-reset link opens: a form for the new password.
#[utoipa::path(
    tag = "account",
    params(("token" = String, Path, description = "The signed token from the link")),
    responses(
        (status = 200, description = "The form", content_type = "text/html"),
        (status = 400, description = "The link is damaged or forged", content_type = "text/html"),
        (status = 409, description = "Used already, or expired", content_type = "text/html"),
    )
)]
#[get("/account/reset_password/{token}")]
pub async fn reset_page(state: web::Data<AppState>, token: web::Path<String>) -> HttpResponse {
    if let Err(e) = account_link(&state, &token, "reset_password") {
        return error_page(&e);
    }
    LinkPage {
        password_form: true,
        ..LinkPage::titled(say("Новый пароль", "New password"))
    }
    .respond(StatusCode::OK)
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct ResetInput {
    /// 10 to 128 characters, not the email
    #[schema(schema_with = super::super::contract::new_password)]
    password: String,
}

/// Set the new password (the link's form, posted, or JSON): the address
/// counts as verified and every session of the account ends.
#[utoipa::path(
    tag = "account",
    params(("token" = String, Path, description = "The signed token from the link")),
    request_body(content = ResetInput, description = "A form (password=…) or JSON"),
    responses(
        (status = 200, description = "Changed", content_type = "text/html"),
        (status = 400, description = "The password is not good enough, or the link is damaged", content_type = "text/html"),
        (status = 409, description = "Used already or expired", content_type = "text/html"),
    )
)]
#[post("/account/reset_password/{token}")]
pub async fn reset(
    state: web::Data<AppState>,
    request: HttpRequest,
    token: web::Path<String>,
    payload: web::Payload,
) -> HttpResponse {
    let outcome = async {
        let token_id = account_link(&state, &token, "reset_password")?;
        let body = read_body(payload, MAX_BODY).await?;
        let input: ResetInput = if crate::http::body::is_multipart(&request) {
            return Err(ApiError::invalid(
                "body",
                Text::new("пришлите форму или JSON", "send a form or JSON"),
            ));
        } else if body.trim_ascii_start().starts_with(b"{") {
            parse_json(&body)?
        } else {
            serde_urlencoded::from_bytes(&body).map_err(|_| {
                ApiError::from(crate::reports::ValidationError::required("password"))
            })?
        };
        let (app, id) = (state.services.clone(), token_id.clone());
        let email = db(&state, move |conn| {
            Ok(account::reset_token_email(&app, conn, &id)?)
        })
        .await?
        .ok_or_else(gone)?;
        let hash = hashed(password(&input.password, &email, "password")?).await?;
        let app = state.services.clone();
        db(&state, move |conn| {
            Ok(account::reset_password(&app, conn, &token_id, &hash)?)
        })
        .await?
        .ok_or_else(gone)
    }
    .await;
    match outcome {
        Ok(_) => LinkPage {
            said: vec![say(
                "Войдите с новым паролем.",
                "Log in with the new password.",
            )],
            link: Some(("/login".into(), say("Войти", "Log in"))),
            ..LinkPage::titled(say("Пароль изменён", "Password changed"))
        }
        .respond(StatusCode::OK),
        Err(e) => error_page(&e),
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DeleteInput {
    /// The account's password, to be sure it is its owner
    password: String,
}

/// Delete one's own account (residents): name, email and phone are gone
/// everywhere; the reports stay as the city's records, without them; every
/// session ends.
#[utoipa::path(
    tag = "account",
    request_body = DeleteInput,
    responses(
        (status = 200, description = "Deleted; the session cookie is cleared", body = Object),
        (status = 400, description = "The password is wrong", body = ErrorBody),
        (status = 401, description = "Not logged in", body = ErrorBody),
        (status = 403, description = "Staff accounts are closed by an admin, or the CSRF token is wrong", body = ErrorBody),
        (status = 429, description = "Too many failed attempts", body = ErrorBody),
    )
)]
#[post("/account/delete")]
pub async fn delete_account(
    state: web::Data<AppState>,
    request: HttpRequest,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let (caller, login) = own_account(&state, &request).await?;
    if caller.role() != Some(crate::policy::Role::Resident) {
        return Err(ApiError::Forbidden(Text::new(
            "учётные записи сотрудников закрывает администратор",
            "staff accounts are closed by an admin",
        )));
    }
    let input: DeleteInput = parse_json(&read_body(payload, MAX_BODY).await?)?;
    let keys = LoginKeys::new(&state, &request, &login.email);
    keys.refuse_if_spent(&state).await?;
    let stored = login.password_hash.clone().unwrap_or_default();
    if !verified(input.password, stored).await? {
        let wrong = ApiError::invalid("password", Text::new("неверен", "is wrong"));
        return Err(keys.failed(&state, wrong).await);
    }
    let (app, user_id) = (state.services.clone(), login.user_id.clone());
    db(&state, move |conn| {
        Ok(crate::app::moderation::delete_account(
            &app, conn, &user_id,
        )?)
    })
    .await?;
    Ok(HttpResponse::Ok()
        .cookie(auth::session_cookie(&state, None))
        .json(serde_json::json!({ "deleted": true })))
}
