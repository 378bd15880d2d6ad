//! Area alerts over the API and their links (`app::alerts`): subscribing
//! (always confirmed through an emailed link), the confirmation link's page
//! and form, and the page and form that end an alert, linked from each of
//! its emails.

use actix_web::http::StatusCode;
use actix_web::{get, post, web, HttpRequest, HttpResponse};
use serde::Deserialize;
use utoipa::ToSchema;

use super::auth;
use super::error::ErrorBody;
use super::html::{error_page, say, LinkPage};
use super::pending::{held_view, HeldView};
use super::{db, parse_json, ApiError, AppState};
use crate::app::alerts::{self, AlertError, Described, Wanted};
use crate::locale::{Locale, Text};
use crate::policy::Permission;
use crate::reports::alerts::{Frequency, Place};
use crate::reports::{parse_locale, EmailAddress, ValidationError};

impl From<AlertError> for ApiError {
    fn from(e: AlertError) -> ApiError {
        match e {
            AlertError::Refused(e) => e.into(),
            AlertError::TooMany(e) => e.into(),
        }
    }
}

/// A subscription as sent.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({
    "email": "anna@example.ru", "lat": 55.7601, "lon": 37.6186, "radius_m": 500,
    "categories": ["pothole"], "frequency": "daily"
}))]
pub struct AlertInput {
    /// Where the alerts go; the subscription starts once the link emailed
    /// there is followed
    #[schema(schema_with = super::contract::email)]
    pub email: String,
    /// A district's code (GET /api/v1/service-areas), or leave it out and
    /// give a point
    pub area: Option<String>,
    #[schema(minimum = -90, maximum = 90)]
    pub lat: Option<f64>,
    #[schema(minimum = -180, maximum = 180)]
    pub lon: Option<f64>,
    /// Around the point, in metres (default 500)
    #[schema(minimum = 50, maximum = 5000)]
    pub radius_m: Option<f64>,
    /// Category codes; left out or empty: every category
    pub categories: Option<Vec<String>>,
    /// `instant` (an email per report, the default) or `daily` (one a day)
    #[schema(schema_with = super::contract::alert_frequency)]
    pub frequency: Option<String>,
    #[schema(schema_with = super::contract::locale_or_null)]
    pub locale: Option<String>,
}

impl AlertInput {
    fn parse(self) -> Result<Wanted, ValidationError> {
        let email = EmailAddress::parse("email", &self.email);
        let place = Place::parse(self.area, (self.lat, self.lon), self.radius_m);
        let frequency = Frequency::parse(self.frequency.as_deref());
        let locale = self
            .locale
            .map(|code| parse_locale("locale", &code))
            .transpose();
        match (email, place, frequency, locale) {
            (Ok(email), Ok(place), Ok(frequency), Ok(locale)) => Ok(Wanted {
                email,
                locale: locale.unwrap_or_else(super::requests::language),
                place,
                categories: self.categories.unwrap_or_default(),
                frequency,
            }),
            (email, place, frequency, locale) => {
                ValidationError::all(
                    [email.err(), place.err(), frequency.err(), locale.err()]
                        .into_iter()
                        .flatten()
                        .collect(),
                )?;
                unreachable!("one of the four failed")
            }
        }
    }
}

/// Subscribe an email address to new reports in a district or around a
/// point, of every category or some, at once or in a daily digest.
///
/// Always confirmed: the subscription starts when the link emailed to the
/// address is followed, so nobody can sign a stranger up. Each alert email
/// carries a link that ends it.
#[utoipa::path(
    tag = "reports",
    request_body = AlertInput,
    responses(
        (status = 202, description = "Waiting for the address's confirmation", body = HeldView),
        (status = 400, description = "A field is wrong (named)", body = ErrorBody),
        (status = 429, description = "The address had its confirmation emails of the day", body = ErrorBody),
    )
)]
#[post("/alerts")]
pub async fn subscribe(
    state: web::Data<AppState>,
    request: HttpRequest,
    body: web::Bytes,
) -> Result<HttpResponse, ApiError> {
    // Anyone may ask; a session's request carries its CSRF token.
    auth::authorize(&state, &request, Permission::FileReport).await?;
    let input: AlertInput = parse_json(&body)?;
    let wanted = input.parse()?;
    let app = state.services.clone();
    let expires_at = db(&state, move |conn| {
        Ok(alerts::subscribe(&app, conn, wanted)?)
    })
    .await?;
    Ok(HttpResponse::Accepted().json(held_view(
        say(
            "проверьте почту: уведомления начнут приходить, когда вы подтвердите подписку по ссылке из нашего письма",
            "check your mailbox: alerts start once you confirm through the link in our email",
        ),
        expires_at,
    )))
}

/// The alert a link names, in words.
async fn described(
    state: &web::Data<AppState>,
    token: &str,
    purpose: &str,
) -> Result<(String, Described), ApiError> {
    let id = super::account::account_link(state, token, purpose)?;
    let (app, key) = (state.services.clone(), id.clone());
    let described = db(state, move |conn| Ok(alerts::describe(&app, conn, &key)?))
        .await?
        .ok_or_else(|| {
            ApiError::NotFound(Text::new(
                "такой подписки нет",
                "there is no such subscription",
            ))
        })?;
    Ok((id, described))
}

/// What an alert covers, as a link's page lists it.
fn notes(d: &Described) -> Vec<String> {
    let lang = super::requests::language();
    let categories = if d.categories.is_empty() {
        say("все", "all")
    } else {
        d.categories
            .iter()
            .map(|c| c.get(lang).to_string())
            .collect::<Vec<_>>()
            .join(", ")
    };
    vec![
        say(
            format!("Место: {}", d.place.get(Locale::Ru)),
            format!("Place: {}", d.place.en()),
        ),
        say(
            format!("Категории: {categories}"),
            format!("Categories: {categories}"),
        ),
        match d.frequency {
            Frequency::Instant => say(
                "Письмо о каждом новом обращении",
                "An email for each new report",
            ),
            Frequency::Daily => say("Одно письмо в день", "One email a day"),
        },
    ]
}

fn title() -> String {
    say("Уведомления о новых обращениях", "Alerts of new reports")
}

/// The page a subscription's confirmation link opens (following it
/// changes nothing: mail scanners follow links).
#[utoipa::path(
    tag = "reports",
    params(("token" = String, Path, description = "The signed token from the link")),
    responses(
        (status = 200, description = "The form", content_type = "text/html"),
        (status = 400, description = "The link is damaged or forged", content_type = "text/html"),
        (status = 404, description = "No such subscription", content_type = "text/html"),
    )
)]
#[get("/account/confirm_alert/{token}")]
pub async fn confirm_page(state: web::Data<AppState>, token: web::Path<String>) -> HttpResponse {
    match described(&state, &token, "confirm_alert").await {
        Ok((_, d)) => LinkPage {
            notes: notes(&d),
            said: vec![say(
                "Подтвердите, и мы начнём присылать письма о новых обращениях в этом месте.",
                "Confirm, and we will start emailing you about new reports in this place.",
            )],
            button: Some(say("Подтвердить подписку", "Confirm the alert")),
            ..LinkPage::titled(title())
        }
        .respond(StatusCode::OK),
        Err(e) => error_page(&e),
    }
}

/// Start a subscription (its confirmation link's form, posted).
#[utoipa::path(
    tag = "reports",
    params(("token" = String, Path, description = "The signed token from the link")),
    responses(
        (status = 200, description = "Subscribed", content_type = "text/html"),
        (status = 400, description = "The link is damaged", content_type = "text/html"),
        (status = 404, description = "No such subscription", content_type = "text/html"),
        (status = 409, description = "Confirmed already, ended, or the link expired", content_type = "text/html"),
    )
)]
#[post("/account/confirm_alert/{token}")]
pub async fn confirm(state: web::Data<AppState>, token: web::Path<String>) -> HttpResponse {
    let confirmed = async {
        let (id, d) = described(&state, &token, "confirm_alert").await?;
        let app = state.services.clone();
        if db(&state, move |conn| Ok(alerts::confirm(&app, conn, &id)?)).await? {
            return Ok(d);
        }
        Err(ApiError::Conflict(Text::new(
            "подписка уже подтверждена или отменена, или срок ссылки истёк",
            "the alert was confirmed or ended already, or the link has expired",
        )))
    }
    .await;
    match confirmed {
        Ok(d) => LinkPage {
            notes: notes(&d),
            said: vec![say(
                "Подписка подтверждена. В каждом письме есть ссылка, чтобы отписаться.",
                "Your alert is on. Every email carries a link to stop it.",
            )],
            ..LinkPage::titled(title())
        }
        .respond(StatusCode::OK),
        Err(e) => error_page(&e),
    }
}

/// The page an alert email's "stop" link opens (following it changes
/// nothing: mail scanners follow links).
#[utoipa::path(
    tag = "reports",
    params(("token" = String, Path, description = "The signed token from the link")),
    responses(
        (status = 200, description = "The form", content_type = "text/html"),
        (status = 400, description = "The link is damaged or forged", content_type = "text/html"),
        (status = 404, description = "No such subscription", content_type = "text/html"),
    )
)]
#[get("/account/alert_unsubscribe/{token}")]
pub async fn unsubscribe_page(
    state: web::Data<AppState>,
    token: web::Path<String>,
) -> HttpResponse {
    match described(&state, &token, "alert_unsubscribe").await {
        Ok((_, d)) if d.ended => ended(&d),
        Ok((_, d)) => LinkPage {
            notes: notes(&d),
            button: Some(say("Отписаться", "Stop these alerts")),
            ..LinkPage::titled(title())
        }
        .respond(StatusCode::OK),
        Err(e) => error_page(&e),
    }
}

fn ended(d: &Described) -> HttpResponse {
    LinkPage {
        notes: notes(d),
        said: vec![say(
            "Вы отписались: писем об этом месте больше не будет.",
            "You are unsubscribed: no more emails about this place.",
        )],
        ..LinkPage::titled(title())
    }
    .respond(StatusCode::OK)
}

/// End an alert (its emails' link's form, posted; also the one-click
/// `List-Unsubscribe-Post` target). Ending it again changes nothing.
#[utoipa::path(
    tag = "reports",
    params(("token" = String, Path, description = "The signed token from the link")),
    responses(
        (status = 200, description = "Ended", content_type = "text/html"),
        (status = 400, description = "The link is damaged", content_type = "text/html"),
        (status = 404, description = "No such subscription", content_type = "text/html"),
    )
)]
#[post("/account/alert_unsubscribe/{token}")]
pub async fn unsubscribe(state: web::Data<AppState>, token: web::Path<String>) -> HttpResponse {
    let ended_now = async {
        let (id, d) = described(&state, &token, "alert_unsubscribe").await?;
        let app = state.services.clone();
        db(&state, move |conn| {
            Ok(alerts::unsubscribe(&app, conn, &id)?)
        })
        .await?;
        Ok::<_, ApiError>(d)
    }
    .await;
    match ended_now {
        Ok(d) => ended(&d),
        Err(e) => error_page(&e),
    }
}
