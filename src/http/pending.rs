//! Reports filed without an account (and without an API token) wait for
//! their filer's confirmation: the report is checked in full (category,
//! answers, place, photos, the daily limit), held, and a link is emailed;
//! following it shows a page whose button files the report as any other
//! is filed. Until then it is published nowhere and routed nowhere; after
//! `accounts.confirm_within_hours` the link stops working.

use crate::locale::Text;
use actix_web::http::StatusCode;
use actix_web::{get, post, web, HttpResponse};
use serde::Serialize;
use utoipa::ToSchema;

use super::filing::file_photos;
use super::html::{error_page, LinkPage};
use super::{db, parse_json, ApiError, AppState};
use crate::app::filing::{self, Channel, Photos};
use crate::app::filing::{claim_held, release_held, settle_held};
use crate::app::reports::StoredPhoto;
use crate::locale::Locale;
use crate::media::CleanPhoto;
use crate::reports::{NewReport, ReportInput};

/// The answer to a held filing.
#[derive(Debug, Serialize, ToSchema)]
pub struct HeldView {
    /// awaiting_confirmation
    status: &'static str,
    message: &'static str,
    #[schema(value_type = String)]
    expires_at: chrono::NaiveDateTime,
}

/// The answer to something held for its sender's confirmation.
pub fn held_view(message: &'static str, expires_at: chrono::NaiveDateTime) -> HeldView {
    HeldView {
        status: "awaiting_confirmation",
        message,
        expires_at,
    }
}

/// Checks a report as filing would, keeps it and its photos, and emails
/// the link that confirms it.
pub async fn hold(
    state: &web::Data<AppState>,
    body: Vec<u8>,
    report: NewReport,
    photos: Vec<CleanPhoto>,
    lasts: chrono::TimeDelta,
) -> Result<HeldView, ApiError> {
    let text = String::from_utf8(body).map_err(|_| ApiError::not_utf8("body"))?;
    let now = state.clock.now();
    let app = state.clone();
    let expires_at = db(state, move |conn| {
        Ok(filing::hold(&app, conn, text, report, photos, lasts, now)?)
    })
    .await?;
    Ok(HeldView {
        status: "awaiting_confirmation",
        message: "check your mailbox: the report is filed once you confirm it through the link in our email",
        expires_at,
    })
}

fn held_id(state: &AppState, token: &str) -> Result<String, ApiError> {
    super::account::account_link(state, token, "confirm_report")
}

/// The page a confirmation link opens (following it changes nothing).
#[utoipa::path(
    tag = "reports",
    params(("token" = String, Path, description = "The signed token from the link")),
    responses((status = 200, description = "The form", content_type = "text/html"))
)]
#[get("/account/confirm_report/{token}")]
pub async fn confirm_page(state: web::Data<AppState>, token: web::Path<String>) -> HttpResponse {
    if let Err(e) = held_id(&state, &token) {
        return error_page(&e);
    }
    LinkPage {
        button: Some("Подтвердить и отправить / Confirm and send".into()),
        ..LinkPage::titled("Подтверждение обращения / Confirm your report")
    }
    .respond(StatusCode::OK)
}

/// File a held report (the link's form, posted).
#[utoipa::path(
    tag = "reports",
    params(("token" = String, Path, description = "The signed token from the link")),
    responses(
        (status = 201, description = "Filed", content_type = "text/html"),
        (status = 400, description = "The link is damaged", content_type = "text/html"),
        (status = 409, description = "Confirmed already, or expired", content_type = "text/html"),
    )
)]
#[post("/account/confirm_report/{token}")]
pub async fn confirm(state: web::Data<AppState>, token: web::Path<String>) -> HttpResponse {
    match file_held(&state, &token).await {
        Ok((number, url)) => LinkPage {
            said: vec![format!(
                "Обращение № {number} зарегистрировано. / Report No. {number} is filed."
            )],
            link: Some(url),
            ..LinkPage::titled(format!("№ {number}"))
        }
        .respond(StatusCode::CREATED),
        Err(e) => error_page(&e),
    }
}

fn held_support_id(state: &AppState, token: &str) -> Result<String, ApiError> {
    super::account::account_link(state, token, "confirm_support")
}

/// The page a "me too" confirmation link opens (following it changes
/// nothing: mail scanners follow links).
#[utoipa::path(
    tag = "reports",
    params(("token" = String, Path, description = "The signed token from the link")),
    responses((status = 200, description = "The form", content_type = "text/html"))
)]
#[get("/account/confirm_support/{token}")]
pub async fn confirm_support_page(
    state: web::Data<AppState>,
    token: web::Path<String>,
) -> HttpResponse {
    if let Err(e) = held_support_id(&state, &token) {
        return error_page(&e);
    }
    LinkPage {
        said: vec![
            "Вы присоединитесь к обращению и будете получать новости о нём. / You will join the report and hear about every change.".into(),
        ],
        button: Some("Подтвердить / Confirm".into()),
        ..LinkPage::titled("«У меня то же» / “Me too”")
    }
    .respond(StatusCode::OK)
}

/// Apply a held "me too" (the link's form, posted).
#[utoipa::path(
    tag = "reports",
    params(("token" = String, Path, description = "The signed token from the link")),
    responses(
        (status = 200, description = "Joined", content_type = "text/html"),
        (status = 400, description = "The link is damaged", content_type = "text/html"),
        (status = 409, description = "Confirmed already, expired, or the report closed", content_type = "text/html"),
    )
)]
#[post("/account/confirm_support/{token}")]
pub async fn confirm_support(state: web::Data<AppState>, token: web::Path<String>) -> HttpResponse {
    let joined = async {
        let id = held_support_id(&state, &token)?;
        let app = state.services.clone();
        db(&state, move |conn| {
            Ok(crate::app::reports::confirm_support(&app, conn, &id)?)
        })
        .await?
        .ok_or_else(|| {
            ApiError::Conflict(Text::new(
                "это уже подтверждено, или срок ссылки истёк",
                "this was confirmed already, or the link has expired",
            ))
        })
    }
    .await;
    use crate::app::reports::Support;
    match joined {
        Ok((number, Support::Joined { .. } | Support::AlreadyFollowing { .. })) => LinkPage {
            said: vec![format!(
                "Вы присоединились к обращению № {number}. / You joined report No. {number}."
            )],
            link: Some(format!("{}/reports/{number}", state.public_url)),
            ..LinkPage::titled(format!("№ {number}"))
        }
        .respond(StatusCode::OK),
        Ok((number, Support::Closed { status })) => {
            error_page(&ApiError::closed_to_joining(&number.to_string(), &status))
        }
        Ok((_, Support::NoSuchReport)) => error_page(&ApiError::NotFound(Text::new(
            "этого сообщения больше нет",
            "the report no longer exists",
        ))),
        Err(e) => error_page(&e),
    }
}

async fn file_held(state: &web::Data<AppState>, token: &str) -> Result<(i64, String), ApiError> {
    let id = held_id(state, token)?;
    let (app, key) = (state.services.clone(), id.clone());
    let held = db(state, move |conn| Ok(claim_held(&app, conn, &key)?))
        .await?
        .ok_or_else(|| {
            ApiError::Conflict(Text::new(
                "сообщение уже подтверждено, или срок ссылки истёк",
                "the report was confirmed already, or the link has expired",
            ))
        })?;
    let filed = async {
        let input: ReportInput = parse_json(held.report.as_bytes())?;
        let report = NewReport::parse(input)?.in_language(Locale::exact(&held.locale));
        let photos: Vec<StoredPhoto> =
            serde_json::from_str(&held.photos).map_err(|e| ApiError::Internal(Box::new(e)))?;
        file_photos(
            state,
            move |_, _| Ok(report),
            Photos::Stored(photos),
            Channel::api(),
        )
        .await
    }
    .await;
    let key = id.clone();
    match filed {
        Ok(filed) => {
            let report_id = filed.report.id.clone();
            db(state, move |conn| Ok(settle_held(conn, &key, &report_id)?)).await?;
            let url = format!("{}/api/v1/reports/{}", state.public_url, filed.report.id);
            Ok((filed.report.number, url))
        }
        Err(e) => {
            db(state, move |conn| Ok(release_held(conn, &key)?)).await?;
            Err(e)
        }
    }
}
