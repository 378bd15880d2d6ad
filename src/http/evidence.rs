//! What was checked of answers' photos, as the API shows it; answers held
//! for a supervisor (listed, approved or rejected); flagged answers per
//! department.

use actix_web::{get, post, web, HttpRequest, HttpResponse};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::error::ErrorBody;
use super::{auth, db, parse_json, ApiError, AppState};
use crate::app::moves::{self, HeldDecision};
use crate::locale::{Locale, Text};
use crate::policy::Permission;
use crate::reports::evidence::PhotoCheck;

/// What was checked of one photo.
#[derive(Debug, Serialize, ToSchema)]
pub struct PhotoCheckView {
    /// The photo's digest (`/media/<digest>.jpg`)
    pub photo: String,
    /// Whether it contradicts the report or is reused
    pub flagged: bool,
    /// `taken_before`, `far_away`, `copy_of_report_photo`, `copy_of_earlier_answer`
    pub reasons: Vec<&'static str>,
    /// `after`, `before` or `unknown` (the report's filing)
    pub taken: &'static str,
    #[schema(value_type = Option<String>)]
    #[serde(serialize_with = "crate::clock::utc_opt")]
    pub taken_at: Option<chrono::NaiveDateTime>,
    /// `near`, `far` or `unknown`
    pub place: &'static str,
    /// Metres from the report, when the photo said where it was taken
    pub distance_m: Option<f64>,
    /// The digest of the photo it copies
    pub copy_of: Option<String>,
    /// The report whose answer used the photo it copies
    pub copy_of_report: Option<i64>,
    /// What was checked, in plain words, in the request's language
    pub words: Vec<String>,
}

impl PhotoCheckView {
    pub fn of(
        check: &PhotoCheck,
        locale: Locale,
        local: &dyn Fn(chrono::NaiveDateTime) -> String,
    ) -> Self {
        PhotoCheckView {
            photo: check.digest.clone(),
            flagged: check.flagged(),
            reasons: check.reasons(),
            taken: check.taken.code(),
            taken_at: check.taken.at(),
            place: check.place.code(),
            distance_m: check.place.metres().map(f64::round),
            copy_of: check.copy.of().map(str::to_string),
            copy_of_report: check.copy.report(),
            words: check
                .words(local)
                .iter()
                .map(|t| t.get(locale).to_string())
                .collect(),
        }
    }
}

/// An answer held for a supervisor.
#[derive(Debug, Serialize, ToSchema)]
pub struct HeldAnswerView {
    /// The held answer's id (for its decision)
    pub held: String,
    pub number: i64,
    /// The report's status, unchanged
    pub status: String,
    pub checks: Vec<PhotoCheckView>,
}

/// The time as the city reads it.
pub fn local_time(state: &AppState) -> impl Fn(chrono::NaiveDateTime) -> String {
    let zone = state.time_zone;
    move |at| {
        use chrono::TimeZone;
        zone.from_utc_datetime(&at)
            .format("%d.%m.%Y %H:%M")
            .to_string()
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct WaitingHeldAnswerView {
    pub held: String,
    pub report_id: String,
    pub answer: Option<String>,
    pub author_id: String,
    #[schema(value_type = String)]
    #[serde(serialize_with = "crate::clock::utc")]
    pub created_at: chrono::NaiveDateTime,
    pub checks: Vec<PhotoCheckView>,
}

/// Answers held for a supervisor because their photos were flagged, oldest
/// first (those of the caller's departments).
#[utoipa::path(
    tag = "supervisor",
    security(("token" = [])),
    responses(
        (status = 200, description = "The held answers", body = [WaitingHeldAnswerView]),
        (status = 401, description = "Not logged in", body = ErrorBody),
        (status = 403, description = "Not a supervisor", body = ErrorBody),
    )
)]
#[get("/supervisor/held-answers")]
pub async fn held_answers(
    state: web::Data<AppState>,
    request: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    let caller = auth::caller(&state, &request).await?;
    caller.require_any(Permission::ApproveAnswers)?;
    let locale = super::requests::language();
    let local = local_time(&state);
    let rows = db(&state, |conn| Ok(moves::held_answers(conn, None)?)).await?;
    let views: Vec<WaitingHeldAnswerView> = rows
        .into_iter()
        .map(|held| WaitingHeldAnswerView {
            held: held.id,
            report_id: held.report_id,
            answer: held.answer,
            author_id: held.author_id,
            created_at: held.created_at,
            checks: held
                .checks
                .iter()
                .map(|c| PhotoCheckView::of(c, locale, &local))
                .collect(),
        })
        .collect();
    Ok(HttpResponse::Ok().json(views))
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct HeldDecisionInput {
    /// `approve` (the answer goes out as sent, its flags shown) or `reject`
    decision: String,
    /// Why (required to reject); kept in the report's staff history
    reason: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct HeldDecisionView {
    decision: &'static str,
    /// The report's status after the answer went out (approved)
    status: Option<String>,
    /// The answer's history event (approved)
    event_id: Option<String>,
}

/// A supervisor approves or rejects a held answer.
#[utoipa::path(
    tag = "supervisor",
    params(("id" = String, Path, description = "The held answer's id")),
    request_body = HeldDecisionInput,
    security(("token" = [])),
    responses(
        (status = 200, description = "Decided", body = HeldDecisionView),
        (status = 400, description = "A field is wrong", body = ErrorBody),
        (status = 401, description = "Not logged in", body = ErrorBody),
        (status = 403, description = "Not a supervisor of the report's department", body = ErrorBody),
        (status = 404, description = "No such held answer", body = ErrorBody),
        (status = 409, description = "Decided already, or the report moved on", body = ErrorBody),
    )
)]
#[post("/supervisor/held-answers/{id}/decision")]
pub async fn decide_held(
    state: web::Data<AppState>,
    request: HttpRequest,
    id: web::Path<String>,
    body: web::Bytes,
) -> Result<HttpResponse, ApiError> {
    let caller = auth::caller(&state, &request).await?;
    caller.require_any(Permission::ApproveAnswers)?;
    let input: HeldDecisionInput = parse_json(&body)?;
    let reason = input
        .reason
        .map(|r| r.trim().to_string())
        .filter(|r| !r.is_empty());
    let approve = match input.decision.as_str() {
        "approve" => true,
        "reject" if reason.is_some() => false,
        "reject" => {
            return Err(ApiError::invalid_as(
                "reason",
                "required",
                Text::new(
                    "обязательное поле: почему ответ отклонён",
                    "is required: why the answer is rejected",
                ),
            ))
        }
        other => {
            return Err(ApiError::invalid(
                "decision",
                Text::new(
                    format!("«{other}» — не решение: approve или reject"),
                    format!("'{other}' is not a decision: approve or reject"),
                ),
            ))
        }
    };
    let audit = caller.audit_actor(&state, &request);
    let supervisor_id = caller.user_id()?.to_string();
    let (app, id) = (state.services.clone(), id.into_inner());
    let moved = db(&state, move |conn| {
        moves::decide_held(
            &app,
            conn,
            HeldDecision {
                id: &id,
                approve,
                reason,
                supervisor_id,
                audit,
            },
            |target, departments| caller.require(Permission::ApproveAnswers, target, departments),
        )
    })
    .await?;
    Ok(HttpResponse::Ok().json(HeldDecisionView {
        decision: if approve { "approved" } else { "rejected" },
        status: moved.as_ref().map(|m| m.to.as_str().to_string()),
        event_id: moved.map(|m| m.event_id),
    }))
}
