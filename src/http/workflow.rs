//! Moving reports through the workflow (staff, by bearer token), and the
//! SLA scanner on demand (admin).

use crate::locale::Text;
use crate::reports::ValidationError;
use actix_web::{post, web, HttpRequest, HttpResponse};
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::body::read_submission;
use super::error::ErrorBody;
use super::filing::{clean_photos, store_photos};
use super::{auth, db, parse_json, ApiError, AppState};
use crate::app::moves::{self, MoveError, StaffMove};
use crate::reports::ReportStatus;
use crate::workflow::{Action, Actor, Command, PauseReason, Refusal, Role};

/// A move asked of the workflow. Which fields an action needs is in the
/// workflow table in docs/workflow.md.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ActionInput {
    /// accept, reject, mark_duplicate, assign, take, pause, resume, answer,
    /// return, close, escalate
    #[schema(schema_with = super::contract::staff_action)]
    pub action: String,
    /// Why (reject, return, escalate, and optionally pause)
    pub reason: Option<String>,
    /// The answer to the resident (answer)
    pub answer: Option<String>,
    /// waiting_for_resident, seasonal_work, third_party or procurement (pause)
    pub pause_reason: Option<String>,
    /// The date work is expected to resume, YYYY-MM-DD (pause)
    pub resume_on: Option<String>,
    /// A department code (assign)
    pub department: Option<String>,
    /// The original report's number (mark_duplicate)
    pub original: Option<i64>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct MovedView {
    pub number: i64,
    #[schema(value_type = String)]
    pub from: ReportStatus,
    #[schema(value_type = String)]
    pub status: ReportStatus,
    pub event_id: String,
}

impl From<MoveError> for ApiError {
    fn from(e: MoveError) -> Self {
        match e {
            MoveError::NotFound(id) => ApiError::no_report(id),
            MoveError::Refused(Refusal::Forbidden) => {
                ApiError::Forbidden(Refusal::Forbidden.text())
            }
            MoveError::Refused(refusal @ (Refusal::NotNow { .. } | Refusal::Closed(_))) => {
                ApiError::Conflict(refusal.text())
            }
            MoveError::Refused(Refusal::Missing { field, message }) => {
                ApiError::invalid(field, message)
            }
            MoveError::Invalid(e) => e.into(),
            MoveError::Db(e) => e.into(),
        }
    }
}

/// Moves a report: JSON, or multipart with the JSON in an `action` part and
/// photos in `photos` parts (an answer's photos).
#[utoipa::path(
    tag = "workflow",
    request_body(content = ActionInput, description = "The move; multipart with an `action` part and `photos` parts also accepted"),
    params(("id" = String, Path, description = "The report's id")),
    security(("token" = [])),
    responses(
        (status = 200, description = "Moved", body = MovedView),
        (status = 202, description = "An answer whose photos were flagged, held for a supervisor (the category's policy)", body = super::evidence::HeldAnswerView),
        (status = 400, description = "A field is missing or wrong", body = ErrorBody),
        (status = 401, description = "No valid token", body = ErrorBody),
        (status = 403, description = "Not yours to move", body = ErrorBody),
        (status = 404, description = "No such report", body = ErrorBody),
        (status = 409, description = "Not possible in the report's status", body = ErrorBody),
    )
)]
#[post("/reports/{id}/actions")]
pub async fn act(
    state: web::Data<AppState>,
    request: HttpRequest,
    path: web::Path<String>,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let staff = auth::authorize(&state, &request, crate::policy::Permission::MoveReport).await?;
    let (body, uploads) = read_submission(&state, &request, payload, "action").await?;
    let input: ActionInput = parse_json(&body)?;
    let asked = parse_move(input)?;
    let cleaned = clean_photos(&state, uploads, |i| format!("photos[{i}]")).await?;
    // Stored before the move's transaction (no write lock is held over an
    // upload); a refused move leaves only unlisted, content-addressed files.
    let photos = store_photos(&state, cleaned).await?;
    let actor = Actor {
        role: staff.role().unwrap_or(Role::Resident),
        department: staff.who.department,
        is_reporter: false,
    };
    let asked = StaffMove {
        report_id: path.into_inner(),
        action: asked.action,
        command: Command {
            photos: photos.len(),
            ..asked.command
        },
        department: asked.department,
        actor,
        actor_id: staff.user_id()?.to_string(),
        audit: staff.audit_actor(&state, &request),
        photos,
    };
    let app = state.clone();
    let done = db(&state, move |conn| Ok(moves::by_staff(&app, conn, asked)?)).await?;
    Ok(outcome(&state, done))
}

/// The answer to a staff move: 200 moved, or 202 held for a supervisor.
pub fn outcome(state: &AppState, outcome: moves::Outcome) -> HttpResponse {
    match outcome {
        moves::Outcome::Moved(moved) => HttpResponse::Ok().json(MovedView {
            number: moved.number,
            from: moved.from,
            status: moved.to,
            event_id: moved.event_id,
        }),
        moves::Outcome::Held(held) => {
            let locale = super::requests::language();
            let local = super::evidence::local_time(state);
            HttpResponse::Accepted().json(super::evidence::HeldAnswerView {
                held: held.id,
                number: held.number,
                status: held.status.as_str().into(),
                checks: held
                    .checks
                    .iter()
                    .map(|c| super::evidence::PhotoCheckView::of(c, locale, &local))
                    .collect(),
            })
        }
    }
}

/// A staff move as asked for, checked: the action, what it carries, the
/// department to assign to (by code).
struct AskedMove {
    action: Action,
    command: Command,
    department: Option<String>,
}

fn parse_move(input: ActionInput) -> Result<AskedMove, ApiError> {
    let action = Action::parse(&input.action)
        .filter(|a| a.sent_by_staff())
        .ok_or_else(|| {
            ApiError::invalid(
                "action",
                Text::new(
                    format!(
                        "«{}» — не действие сотрудника; возможны accept, reject, mark_duplicate, assign, take, pause, resume, answer, return, close, escalate",
                        input.action
                    ),
                    format!(
                        "'{}' is not a staff action; use accept, reject, mark_duplicate, assign, take, pause, resume, answer, return, close or escalate",
                        input.action
                    ),
                ),
            )
        })?;
    let pause_reason = input
        .pause_reason
        .as_deref()
        .map(|r| {
            PauseReason::parse(r).ok_or_else(|| {
                ApiError::invalid(
                    "pause_reason",
                    Text::new(
                        format!("«{r}» — не waiting_for_resident, seasonal_work, third_party или procurement"),
                        format!("'{r}' is not one of waiting_for_resident, seasonal_work, third_party, procurement"),
                    ),
                )
            })
        })
        .transpose()?;
    let resume_on = input
        .resume_on
        .as_deref()
        .map(|d| {
            NaiveDate::parse_from_str(d, "%Y-%m-%d")
                .map_err(|_| ApiError::from(ValidationError::not_a_date("resume_on", d)))
        })
        .transpose()?;
    Ok(AskedMove {
        action,
        command: Command {
            reason: input.reason,
            answer: input.answer,
            photos: 0,
            pause_reason,
            resume_on,
            department: None,
            original: input.original,
        },
        department: input.department,
    })
}

/// Several reports to move the same way.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BulkInput {
    /// The reports' ids (1–500)
    #[schema(min_items = 1, max_items = 500)]
    pub reports: Vec<String>,
    /// accept, assign, take, return, pause (or any staff move without photos)
    #[schema(schema_with = super::contract::staff_action)]
    pub action: String,
    pub reason: Option<String>,
    pub answer: Option<String>,
    pub pause_reason: Option<String>,
    pub resume_on: Option<String>,
    pub department: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct BulkMovedView {
    pub id: String,
    pub number: i64,
    #[schema(value_type = String)]
    pub status: ReportStatus,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct BulkRefusedView {
    pub id: String,
    /// Null when there is no such report
    pub number: Option<i64>,
    /// The error code the single move would have answered
    pub code: &'static str,
    /// Why, in the request's language
    pub message: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct BulkView {
    pub moved: Vec<BulkMovedView>,
    pub refused: Vec<BulkRefusedView>,
}

/// Moves several reports the same way: each one a move of its own
/// (checked, audited, emailed, in the ledger where it applies), and a
/// summary of which moved and why the others did not.
#[utoipa::path(
    tag = "workflow",
    request_body = BulkInput,
    security(("token" = [])),
    responses(
        (status = 200, description = "What moved and what did not, and why", body = BulkView),
        (status = 400, description = "A field is missing or wrong; nothing moved", body = ErrorBody),
        (status = 401, description = "No valid token", body = ErrorBody),
        (status = 403, description = "Not staff", body = ErrorBody),
    )
)]
#[post("/reports/bulk-actions")]
pub async fn bulk(
    state: web::Data<AppState>,
    request: HttpRequest,
    body: web::Bytes,
) -> Result<HttpResponse, ApiError> {
    let staff = auth::authorize(&state, &request, crate::policy::Permission::MoveReport).await?;
    let input: BulkInput = parse_json(&body)?;
    if input.reports.is_empty() || input.reports.len() > MAX_BULK {
        return Err(ApiError::invalid_as(
            "reports",
            "out_of_range",
            Text::new(
                format!("от 1 до {MAX_BULK} сообщений за раз"),
                format!("from 1 to {MAX_BULK} reports at a time"),
            ),
        ));
    }
    let ids = input.reports.clone();
    let asked = parse_move(ActionInput {
        action: input.action,
        reason: input.reason,
        answer: input.answer,
        pause_reason: input.pause_reason,
        resume_on: input.resume_on,
        department: input.department,
        original: None,
    })?;
    let locale = super::accept_language(&request).unwrap_or(crate::locale::Locale::Ru);
    let template = StaffMove {
        report_id: String::new(),
        action: asked.action,
        command: asked.command,
        department: asked.department,
        actor: Actor {
            role: staff.role().unwrap_or(Role::Resident),
            department: staff.who.department,
            is_reporter: false,
        },
        actor_id: staff.user_id()?.to_string(),
        audit: staff.audit_actor(&state, &request),
        photos: Vec::new(),
    };
    let app = state.clone();
    let done = db(&state, move |conn| {
        Ok(moves::bulk(&app, conn, &ids, &template)?)
    })
    .await?;
    let mut view = BulkView {
        moved: Vec::new(),
        refused: Vec::new(),
    };
    for (id, number, outcome) in done {
        match outcome {
            Ok(moved) => view.moved.push(BulkMovedView {
                id,
                number: moved.number,
                status: moved.to,
            }),
            Err(e) => {
                let e = ApiError::from(e);
                view.refused.push(BulkRefusedView {
                    id,
                    number,
                    code: e.code(),
                    message: e.message(locale),
                });
            }
        }
    }
    Ok(HttpResponse::Ok().json(view))
}

/// The most reports one bulk action moves.
const MAX_BULK: usize = 500;

#[derive(Debug, Serialize, ToSchema)]
pub struct ScanView {
    /// Reports whose clocks were looked at
    pub looked_at: usize,
    /// Warnings, breaches and escalations recorded
    pub marks: usize,
    /// Reporters reminded to confirm or refute an answer
    pub reminders: usize,
    /// Answers confirmed because their check window closed unanswered
    pub auto_confirmed: usize,
}

/// Runs one pass of the SLA scanner now (it also runs in the background),
/// and refreshes the public statistics.
#[utoipa::path(
    tag = "admin",
    security(("token" = [])),
    responses(
        (status = 200, description = "The pass is done", body = ScanView),
        (status = 401, description = "No valid token", body = ErrorBody),
        (status = 403, description = "Not an admin", body = ErrorBody),
    )
)]
#[post("/admin/sla/scan")]
pub async fn scan(
    state: web::Data<AppState>,
    request: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    let caller = auth::authorize(&state, &request, crate::policy::Permission::Operate).await?;
    let now = state.clock.now();
    let app = state.clone();
    let scanned = db(&state, move |conn| {
        let scanned = crate::app::jobs::scan(&app, conn, now)?;
        crate::app::statistics::refresh(conn, now)?;
        Ok(scanned)
    })
    .await?;
    let view = ScanView {
        looked_at: scanned.summary.looked_at,
        marks: scanned.summary.marks,
        reminders: scanned.reminders,
        auto_confirmed: scanned.auto_confirmed,
    };
    let after = serde_json::to_value(&view).ok();
    super::audit::record(
        &state,
        &request,
        &caller,
        "sla.scan",
        ("sla_scan", None),
        None,
        after,
    )
    .await?;
    Ok(HttpResponse::Ok().json(view))
}

/// An internal note.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NoteInput {
    /// At most 4,000 characters
    #[schema(schema_with = super::contract::long_text)]
    pub note: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct NoteView {
    pub event_id: String,
}

/// Add an internal note to a report (staff whose scope holds it); only
/// such staff see it in the report's history.
#[utoipa::path(
    tag = "workflow",
    request_body = NoteInput,
    params(("id" = String, Path, description = "The report's id")),
    security(("token" = [])),
    responses(
        (status = 201, description = "Added", body = NoteView),
        (status = 400, description = "The note is empty or too long", body = ErrorBody),
        (status = 401, description = "Not logged in", body = ErrorBody),
        (status = 403, description = "Not yours to annotate", body = ErrorBody),
        (status = 404, description = "No such report", body = ErrorBody),
    )
)]
#[post("/reports/{id}/notes")]
pub async fn note(
    state: web::Data<AppState>,
    request: HttpRequest,
    path: web::Path<String>,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let caller = auth::caller(&state, &request).await?;
    // Who asks is settled before what they sent is read.
    let user_id = caller.user_id()?.to_string();
    let report_id = path.into_inner();
    let input: NoteInput = parse_json(&super::read_body(payload, 64 << 10).await?)?;
    let note = crate::reports::optional_text("note", Some(input.note), 4000)?
        .ok_or_else(|| ValidationError::required("note"))?;
    let role = caller.role_name();
    let app = state.clone();
    let (key, who) = (report_id.clone(), caller.clone());
    let event_id = db(&state, move |conn| {
        moves::add_note(
            &app,
            conn,
            &key,
            (&user_id, role),
            &note,
            |target, departments| {
                who.require(crate::policy::Permission::MoveReport, target, departments)
            },
        )
    })
    .await?;
    let after = Some(serde_json::json!({ "event_id": event_id }));
    super::audit::record(
        &state,
        &request,
        &caller,
        "report.note",
        ("report", Some(report_id)),
        None,
        after,
    )
    .await?;
    Ok(HttpResponse::Created().json(NoteView { event_id }))
}
