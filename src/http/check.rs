//! Residents answer the city's answer: fixed (confirm) or not fixed (refute,
//! with a reason and optionally photos), within the check window. The
//! reporter's answer moves the report through the workflow; a follower's is
//! counted and shown beside it. A resident proves who they are with the
//! signed link from the answer email (`token`) or a bearer token.
//!
//! The link opens a small page (`GET /api/v1/check/{token}`: following a
//! link never changes anything, so mail scanners that fetch links are
//! harmless) whose form posts the answer back to the same address.

use crate::locale::Text;
use actix_web::http::StatusCode;
use actix_web::{get, post, web, HttpRequest, HttpResponse};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::body::{is_multipart, read_parts, read_submission, MAX_JSON_BYTES};
use super::error::ErrorBody;
use super::filing::{clean_photos, store_photos};
use super::html::{error_page, report_link, say, LinkPage};
use super::{auth, db, parse_json, read_body, ApiError, AppState};
use crate::app::filing::Upload;
use crate::app::moves;
use crate::app::reports as reading;
use crate::notify::links::CheckLink;
use crate::policy::{Permission, Target};
use crate::reports::rating::Rating;
use crate::routing::Departments;

/// A resident's answer to the city's answer.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CheckInput {
    /// The token of the link in the answer email (or send a resident's
    /// bearer token instead)
    pub token: Option<String>,
    /// true: it is fixed (confirm); false: it is not (refute)
    pub fixed: bool,
    /// What is still wrong (required to refute)
    pub reason: Option<String>,
    /// How the city's answer was, from 1 to 5 (optional)
    #[schema(minimum = 1, maximum = 5)]
    pub rating: Option<i64>,
    /// A comment on the rating (needs a rating; at most 1,000 characters)
    pub comment: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CheckedView {
    pub number: i64,
    /// `reporter`: the answer moved the report; `follower`: it was counted
    pub counted_as: &'static str,
    /// The report's status now
    pub status: String,
    /// Followers' answers to the current answer
    pub followers_fixed: i64,
    pub followers_not_fixed: i64,
}

/// Who answers, and about which answer cycle (from a link).
struct Resident {
    user_id: String,
    cycle: Option<i32>,
}

fn from_link(state: &AppState, token: &str) -> Result<CheckLink, ApiError> {
    state
        .signer
        .open_check(token)
        .map_err(|e| ApiError::invalid("token", e.text()))
}

async fn resident_of_link(state: &AppState, link: &CheckLink) -> Result<Resident, ApiError> {
    let email = link.email.clone();
    let user_id = db(state, move |conn| Ok(moves::user_at(conn, &email)?))
        .await?
        .ok_or_else(|| {
            ApiError::invalid(
                "token",
                Text::new(
                    "у адреса из ссылки больше нет учётной записи",
                    "the link's address has no account any more",
                ),
            )
        })?;
    Ok(Resident {
        user_id,
        cycle: Some(link.cycle),
    })
}

/// Records the answer and says what it did.
async fn answer(
    state: &web::Data<AppState>,
    report_id: String,
    resident: Resident,
    (fixed, reason, rating): (bool, Option<String>, Option<Rating>),
    uploads: Vec<Upload>,
) -> Result<CheckedView, ApiError> {
    let cleaned = clean_photos(state, uploads, |i| format!("photos[{i}]")).await?;
    let photos = store_photos(state, cleaned).await?;
    let app = state.services.clone();
    let tally = db(state, move |conn| {
        let asked = (resident.cycle, resident.user_id);
        Ok(moves::check_answer(
            &app,
            conn,
            &report_id,
            asked,
            (fixed, reason, rating),
            photos,
        )?)
    })
    .await?;
    Ok(CheckedView {
        number: tally.number,
        counted_as: tally.counted_as,
        status: tally.status.into(),
        followers_fixed: tally.followers_fixed,
        followers_not_fixed: tally.followers_not_fixed,
    })
}

/// Confirm or refute the city's answer to a report: JSON, or multipart with
/// the JSON in a `check` part and photos in `photos` parts (a refutation's).
#[utoipa::path(
    tag = "reports",
    request_body(content = CheckInput, description = "The answer; multipart with a `check` part and `photos` parts also accepted"),
    params(("id" = String, Path, description = "The report's id")),
    responses(
        (status = 200, description = "Recorded", body = CheckedView),
        (status = 400, description = "A field is missing or wrong, or the link is damaged", body = ErrorBody),
        (status = 401, description = "Neither a link token nor a bearer token", body = ErrorBody),
        (status = 403, description = "Neither the reporter nor a follower", body = ErrorBody),
        (status = 404, description = "No such report", body = ErrorBody),
        (status = 409, description = "Not answered, the window closed, the link is for an earlier answer, or the refutation limit is reached", body = ErrorBody),
    )
)]
#[post("/reports/{id}/check")]
pub async fn check(
    state: web::Data<AppState>,
    request: HttpRequest,
    path: web::Path<String>,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let caller = auth::caller(&state, &request).await?;
    let report_id = path.into_inner();
    let (body, uploads) = read_submission(&state, &request, payload, "check").await?;
    let input: CheckInput = parse_json(&body)?;
    let resident = match input.token.as_deref() {
        Some(token) => {
            let link = from_link(&state, token)?;
            if link.report_id != report_id {
                return Err(ApiError::invalid(
                    "token",
                    Text::new(
                        "ссылка относится к другому сообщению",
                        "the link is for another report",
                    ),
                ));
            }
            resident_of_link(&state, &link).await?
        }
        None => {
            let user_id = caller.user_id()?.to_string();
            let key = report_id.clone();
            let (department, involved) = db(&state, {
                let user_id = user_id.clone();
                move |conn| {
                    reading::involvement(conn, &key, &user_id)?
                        .ok_or_else(|| ApiError::no_report(&key))
                }
            })
            .await?;
            caller.require(
                Permission::CheckAnswer,
                Target::Report {
                    department: department.as_deref().and_then(|d| d.parse().ok()),
                    involves_caller: involved,
                },
                &Departments::default(),
            )?;
            Resident {
                user_id,
                cycle: None,
            }
        }
    };
    let rating = Rating::parse(input.rating, input.comment.as_deref())?;
    let view = answer(
        &state,
        report_id,
        resident,
        (input.fixed, input.reason, rating),
        uploads,
    )
    .await?;
    Ok(HttpResponse::Ok().json(view))
}

#[derive(Debug, Deserialize)]
pub struct LinkQuery {
    answer: Option<String>,
}

/// The page a check link opens: a form to confirm or refute the answer.
#[utoipa::path(
    tag = "reports",
    params(
        ("token" = String, Path, description = "The signed token from the link"),
        ("answer" = Option<String>, Query, description = "fixed or not_fixed: which choice the form starts with"),
    ),
    responses(
        (status = 200, description = "The form", content_type = "text/html"),
        (status = 400, description = "The link is damaged or forged", content_type = "text/html"),
    )
)]
#[get("/check/{token}")]
pub async fn link_page(
    state: web::Data<AppState>,
    token: web::Path<String>,
    query: web::Query<LinkQuery>,
) -> HttpResponse {
    let link = match from_link(&state, &token) {
        Ok(link) => link,
        Err(e) => return error_page(&e),
    };
    let id = link.report_id.clone();
    let (number, answer) = match db(&state, move |conn| Ok(reading::find(conn, &id)?)).await {
        Ok(Some(detail)) => (
            detail.report.number,
            // The answer being checked: the latest.
            detail
                .events
                .iter()
                .rev()
                .find(|e| e.kind == "answered")
                .and_then(|e| e.note.clone()),
        ),
        Ok(None) => {
            return error_page(&ApiError::NotFound(Text::new(
                "сообщения больше нет",
                "the report is gone",
            )))
        }
        Err(e) => return error_page(&e),
    };
    LinkPage {
        said: answer
            .is_some()
            .then(|| say("Ответ города:", "The city's answer:"))
            .into_iter()
            .collect(),
        quote: answer,
        check_form: true,
        refuting: query.answer.as_deref() == Some("not_fixed"),
        link: Some(report_link(number)),
        ..LinkPage::titled(say(
            format!("Сообщение № {number}: проблема решена?"),
            format!("Report № {number}: is it fixed?"),
        ))
    }
    .respond(StatusCode::OK)
}

/// The form's answer (multipart with photos, or URL-encoded).
async fn read_form(
    state: &AppState,
    request: &HttpRequest,
    payload: web::Payload,
) -> Result<((bool, Option<String>, Option<Rating>), Vec<Upload>), ApiError> {
    #[derive(Default, Deserialize)]
    struct Form {
        answer: Option<String>,
        reason: Option<String>,
        rating: Option<String>,
        comment: Option<String>,
    }
    let (form, uploads) = if is_multipart(request) {
        let fields = ["answer", "reason", "rating", "comment"];
        let (mut texts, uploads) = read_parts(state, request, payload, &fields).await?;
        let mut text = |field: &str| {
            texts
                .remove(field)
                .map(|b| String::from_utf8(b).map_err(|_| ApiError::not_utf8(field)))
                .transpose()
        };
        let form = Form {
            answer: text("answer")?,
            reason: text("reason")?,
            rating: text("rating")?,
            comment: text("comment")?,
        };
        (form, uploads)
    } else {
        let body = read_body(payload, MAX_JSON_BYTES).await?;
        let form: Form = serde_urlencoded::from_bytes(&body)
            .map_err(|_| ApiError::invalid("body", Text::new("это не форма", "is not a form")))?;
        (form, Vec::new())
    };
    let Form {
        answer,
        reason,
        rating,
        comment,
    } = form;
    let stars = match rating.as_deref().map(str::trim).filter(|r| !r.is_empty()) {
        None => None,
        Some(r) => Some(
            r.parse::<i64>()
                .map_err(|_| crate::reports::ValidationError::not_a_number("rating", r))?,
        ),
    };
    let rating = Rating::parse(stars, comment.as_deref())?;
    let fixed = match answer.as_deref() {
        Some("fixed") => true,
        Some("not_fixed") => false,
        _ => {
            return Err(ApiError::invalid(
                "answer",
                Text::new("выберите fixed или not_fixed", "choose fixed or not_fixed"),
            ))
        }
    };
    Ok((
        (fixed, reason.filter(|r| !r.trim().is_empty()), rating),
        uploads,
    ))
}

/// The link page's form, posted: records the answer and says so.
#[utoipa::path(
    tag = "reports",
    params(("token" = String, Path, description = "The signed token from the link")),
    responses(
        (status = 200, description = "Recorded", content_type = "text/html"),
        (status = 400, description = "A field is missing or wrong", content_type = "text/html"),
        (status = 409, description = "Not possible now", content_type = "text/html"),
    )
)]
#[post("/check/{token}")]
pub async fn link_answer(
    state: web::Data<AppState>,
    request: HttpRequest,
    token: web::Path<String>,
    payload: web::Payload,
) -> HttpResponse {
    let outcome = async {
        let link = from_link(&state, &token)?;
        let (said, uploads) = read_form(&state, &request, payload).await?;
        let resident = resident_of_link(&state, &link).await?;
        answer(&state, link.report_id, resident, said, uploads).await
    }
    .await;
    match outcome {
        Ok(view) => {
            let said = match (view.counted_as, view.status.as_str()) {
                ("reporter", "confirmed") => say(
                    "Вы подтвердили решение. Спасибо!",
                    "You confirmed the fix. Thank you!",
                ),
                ("reporter", _) => say(
                    "Сообщение открыто снова, с новым сроком.",
                    "The report is open again, with a new deadline.",
                ),
                _ => say("Ваш ответ учтён.", "Your answer is counted."),
            };
            LinkPage {
                said: vec![said],
                ..LinkPage::of_report(view.number)
            }
            .respond(StatusCode::OK)
        }
        Err(e) => error_page(&e),
    }
}
