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
use super::html::{error_page, report_link, say, LinkPage};
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
    /// For people, in the request's language
    message: String,
    #[schema(value_type = String)]
    #[serde(serialize_with = "crate::clock::utc")]
    expires_at: chrono::NaiveDateTime,
}

/// The answer to something held for its sender's confirmation.
pub fn held_view(message: String, expires_at: chrono::NaiveDateTime) -> HeldView {
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
    Ok(held_view(
        say(
            "проверьте почту: сообщение будет подано, когда вы подтвердите его по ссылке из нашего письма",
            "check your mailbox: the report is filed once you confirm it through the link in our email",
        ),
        expires_at,
    ))
}

fn held_id(state: &AppState, token: &str) -> Result<String, ApiError> {
    super::account::account_link(state, token, "confirm_report")
}

/// The page a confirmation link opens (following it changes nothing).
#[utoipa::path(
    tag = "reports",
    params(("token" = String, Path, description = "The signed token from the link")),
    responses(
        (status = 200, description = "The form", content_type = "text/html"),
        (status = 400, description = "The link is damaged or forged", content_type = "text/html"),
        (status = 409, description = "Used already, or expired", content_type = "text/html"),
    )
)]
#[get("/account/confirm_report/{token}")]
pub async fn confirm_page(state: web::Data<AppState>, token: web::Path<String>) -> HttpResponse {
    let id = match held_id(&state, &token) {
        Ok(id) => id,
        Err(e) => return error_page(&e),
    };
    let held = db(&state, move |conn| Ok(filing::held_report(conn, &id)?)).await;
    let filing::HeldReport {
        category,
        description,
    } = match held {
        Ok(Some(held)) => held,
        Ok(None) => return error_page(&gone()),
        Err(e) => return error_page(&e),
    };
    LinkPage {
        notes: category
            .map(|(ru, en)| {
                let en = crate::locale::pick("en", &ru, &en).to_string();
                say(format!("Категория: {ru}"), format!("Category: {en}"))
            })
            .into_iter()
            .collect(),
        quote: Some(description),
        said: vec![say(
            "Сообщение уйдёт в работу, как только вы его подтвердите.",
            "The report goes to the city once you confirm it.",
        )],
        button: Some(say("Подтвердить и отправить", "Confirm and send")),
        ..LinkPage::titled(say("Подтверждение сообщения", "Confirm your report"))
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
        Ok(number) => LinkPage {
            said: vec![say(
                format!(
                    "Сообщение № {number} зарегистрировано. Мы будем писать вам о каждом шаге."
                ),
                format!("Report № {number} is filed. We will email you at every step."),
            )],
            ..LinkPage::of_report(number)
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
    responses(
        (status = 200, description = "The form", content_type = "text/html"),
        (status = 400, description = "The link is damaged or forged", content_type = "text/html"),
        (status = 409, description = "Used already, or expired", content_type = "text/html"),
    )
)]
#[get("/account/confirm_support/{token}")]
pub async fn confirm_support_page(
    state: web::Data<AppState>,
    token: web::Path<String>,
) -> HttpResponse {
    let id = match held_support_id(&state, &token) {
        Ok(id) => id,
        Err(e) => return error_page(&e),
    };
    let report = db(&state, move |conn| {
        Ok(crate::app::reports::held_support_report(conn, &id)?)
    })
    .await;
    let (number, description, kind) = match report {
        Ok(Some(report)) => report,
        Ok(None) => return error_page(&gone()),
        Err(e) => return error_page(&e),
    };
    let (title, said) = match kind.as_str() {
        "follow" => (
            say("Подписка на обращение", "Follow the report"),
            say(
                "Вы будете получать письма о каждом шаге обращения; поддержкой это не считается.",
                "You will get an email at every step of the report; this does not count as support.",
            ),
        ),
        "update" => (
            say("Новость к обращению", "An update to the report"),
            say(
                "Ваша новость будет добавлена к обращению (если вы его заявитель или следите за ним).",
                "Your update is added to the report (if you filed it or follow it).",
            ),
        ),
        _ => (
            say("«У меня то же»", "“Me too”"),
            say(
                "Вы присоединитесь к сообщению и будете получать письма о каждом его шаге.",
                "You will join the report and get an email at every step.",
            ),
        ),
    };
    LinkPage {
        quote: Some(description),
        link: Some(report_link(number)),
        said: vec![said],
        button: Some(say("Подтвердить", "Confirm")),
        ..LinkPage::titled(title)
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
    use crate::app::reports::{Confirmed, Support};
    use crate::app::updates::Followed;
    use crate::reports::updates::UpdateState;
    let done = |number: i64, ru: String, en: String| {
        LinkPage {
            said: vec![say(ru, en)],
            ..LinkPage::of_report(number)
        }
        .respond(StatusCode::OK)
    };
    match joined {
        Ok((
            number,
            Confirmed::Supported(Support::Joined { .. } | Support::AlreadyFollowing { .. }),
        )) => done(
            number,
            format!("Вы присоединились к сообщению № {number}."),
            format!("You joined report № {number}."),
        ),
        Ok((number, Confirmed::Followed(Followed::Started { .. } | Followed::Already { .. }))) => {
            done(
                number,
                format!("Вы следите за сообщением № {number}: мы напишем о каждом его шаге."),
                format!("You follow report № {number}: we will email you at every step."),
            )
        }
        Ok((number, Confirmed::Updated(added))) if added.state == UpdateState::Waiting => done(
            number,
            "Новость получена; её опубликуют после проверки модератором.".into(),
            "Your update is in; it is published once a moderator has seen it.".into(),
        ),
        Ok((number, Confirmed::Updated(_))) => done(
            number,
            format!("Новость добавлена к сообщению № {number}."),
            format!("Your update is added to report № {number}."),
        ),
        Ok((number, Confirmed::Supported(Support::Closed { status }))) => {
            error_page(&ApiError::closed_to_joining(&number.to_string(), &status))
        }
        Ok((_, Confirmed::Supported(Support::NoSuchReport))) => error_page(&ApiError::NotFound(
            Text::new("этого сообщения больше нет", "the report no longer exists"),
        )),
        Err(e) => error_page(&e),
    }
}

async fn file_held(state: &web::Data<AppState>, token: &str) -> Result<i64, ApiError> {
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
            Ok(filed.report.number)
        }
        Err(e) => {
            db(state, move |conn| Ok(release_held(conn, &key)?)).await?;
            Err(e)
        }
    }
}

/// A link whose report or "me too" is gone (expired and forgotten).
fn gone() -> ApiError {
    ApiError::Conflict(Text::new(
        "срок ссылки истёк; отправьте снова",
        "the link has expired; send it again",
    ))
}
