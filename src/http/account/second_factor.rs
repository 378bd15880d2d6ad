//! The second factor (TOTP enrolment and its first code) and the account's mail settings.

use super::*;
use crate::locale::Text;

#[derive(Debug, Serialize, ToSchema)]
pub struct TotpSecretView {
    /// Base32; type it into the authenticator app, or use the URI
    secret: String,
    otpauth_uri: String,
}

/// Start enrolling a second factor: a new TOTP secret for the
/// authenticator app. It counts once the first code is confirmed.
#[utoipa::path(
    tag = "account",
    responses(
        (status = 200, description = "The secret", body = TotpSecretView),
        (status = 401, description = "Not logged in", body = ErrorBody),
        (status = 409, description = "A second factor is enrolled already", body = ErrorBody),
    )
)]
#[post("/account/totp")]
pub async fn totp_enrol(
    state: web::Data<AppState>,
    request: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    let (_, login) = own_account(&state, &request).await?;
    if login.totp_enrolled_at.is_some() {
        return Err(ApiError::Conflict(Text::new(
            "второй фактор уже подключён",
            "a second factor is enrolled already",
        )));
    }
    let secret = totp::new_secret();
    let uri = totp::provisioning_uri(&state.city_name, &login.email, &secret);
    let (app, user_id, kept) = (
        state.services.clone(),
        login.user_id.clone(),
        secret.clone(),
    );
    db(&state, move |conn| {
        Ok(account::set_totp_secret(&app, conn, &user_id, &kept)?)
    })
    .await?;
    Ok(HttpResponse::Ok().json(TotpSecretView {
        secret,
        otpauth_uri: uri,
    }))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TotpCodeInput {
    /// The six digits the app shows
    #[schema(pattern = "^[0-9]{6}$")]
    code: String,
}

/// Confirm the second factor with the app's current code: it is enrolled,
/// and a session that owed it becomes a full one.
#[utoipa::path(
    tag = "account",
    request_body = TotpCodeInput,
    responses(
        (status = 200, description = "Enrolled", body = SessionView),
        (status = 400, description = "The code is wrong or was used", body = ErrorBody),
        (status = 409, description = "No secret to confirm: POST /account/totp first", body = ErrorBody),
        (status = 401, description = "Not logged in", body = ErrorBody),
    )
)]
#[post("/account/totp/confirm")]
pub async fn totp_confirm(
    state: web::Data<AppState>,
    request: HttpRequest,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let (caller, login) = own_account(&state, &request).await?;
    let input: TotpCodeInput = parse_json(&read_body(payload, MAX_BODY).await?)?;
    let secret = login.totp_secret.clone().ok_or_else(|| {
        ApiError::Conflict(Text::new(
            "нечего подтверждать: сначала POST /api/v1/account/totp",
            "no secret to confirm: POST /api/v1/account/totp first",
        ))
    })?;
    if !use_code(&state, &login, &secret, &input.code).await? {
        return Err(ApiError::invalid(
            "code",
            Text::new(
                "неверен или уже использован",
                "is wrong or was used already",
            ),
        ));
    }
    let csrf = match &caller.via {
        Via::Session(s) => {
            let id_hash = s.id_hash.clone();
            db(&state, move |conn| {
                Ok(account::complete_session(conn, &id_hash)?)
            })
            .await?;
            Some(accounts::csrf_token(&s.csrf_key, &s.id_hash))
        }
        _ => None,
    };
    let mut login = login;
    login.totp_enrolled_at = Some(login.totp_enrolled_at.unwrap_or(state.clock.now()));
    Ok(HttpResponse::Ok().json(session_view(&state, &login, false, csrf).await?))
}

/// A resident's mail settings.
#[derive(Debug, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SettingsInput {
    /// ru or en: the language of messages (and of the pages, once logged in)
    #[schema(schema_with = super::super::contract::locale)]
    locale: String,
    /// false: no messages at all (as the "unsubscribe from everything" link)
    email_notifications: bool,
}

/// The account's mail settings.
#[utoipa::path(
    tag = "account",
    responses(
        (status = 200, description = "The settings", body = SettingsInput),
        (status = 401, description = "Not logged in", body = ErrorBody),
    )
)]
#[get("/account/settings")]
pub async fn settings(
    state: web::Data<AppState>,
    request: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    let (_, login) = own_account(&state, &request).await?;
    let found = db(&state, move |conn| {
        Ok(account::mail_settings(conn, &login.user_id)?)
    })
    .await?
    .ok_or_else(|| {
        ApiError::NotFound(Text::new(
            "у этого пользователя нет учётной записи",
            "this user has no account",
        ))
    })?;
    Ok(HttpResponse::Ok().json(SettingsInput {
        locale: found.locale,
        email_notifications: found.email_notifications,
    }))
}

/// Change the account's mail settings: the language of messages, and
/// whether any are sent. From the next queued message on.
#[utoipa::path(
    tag = "account",
    request_body = SettingsInput,
    responses(
        (status = 200, description = "Changed", body = SettingsInput),
        (status = 400, description = "A field is wrong", body = ErrorBody),
        (status = 401, description = "Not logged in", body = ErrorBody),
        (status = 403, description = "The CSRF token is missing or wrong", body = ErrorBody),
    )
)]
#[put("/account/settings")]
pub async fn change_settings(
    state: web::Data<AppState>,
    request: HttpRequest,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let (_, login) = own_account(&state, &request).await?;
    let input: SettingsInput = parse_json(&read_body(payload, MAX_BODY).await?)?;
    let chosen = MailSettings {
        locale: locale(Some(&input.locale), Locale::Ru)?.code().to_string(),
        email_notifications: input.email_notifications,
    };
    let app = state.services.clone();
    db(&state, move |conn| {
        Ok(account::set_mail_settings(
            &app,
            conn,
            &login.user_id,
            &chosen,
        )?)
    })
    .await?;
    let chosen = locale(Some(&input.locale), Locale::Ru)?;
    // The site speaks the chosen language from now on, on this device.
    Ok(HttpResponse::Ok()
        .cookie(crate::http::requests::language_cookie(chosen))
        .json(input))
}
