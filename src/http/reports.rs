//! Filing, reading and listing reports. Public output never carries a
//! reporter's email or phone; their name only when they chose to show it.

use actix_web::http::{header, StatusCode};
use actix_web::{get, post, web, HttpRequest, HttpResponse};
use chrono::NaiveDateTime;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::accept_language;
use super::auth::{self, Caller};
use super::body::{read_submission, DEFAULT_PER_PAGE, MAX_PER_PAGE};
use super::error::ErrorBody;
use super::filing;
use super::filters::{non_empty, parse_count, FilterParams};
use super::idempotency::{self, Earlier, Idempotency};
use super::pending;
use super::{db, parse_json, ApiError, AppState};
use crate::app::filing::Channel;
use crate::db::filing::{FiledReport, Nearby};
use crate::db::reports::{ReportDetail, ReportListing, Support};
use crate::db::rows::{AttachmentRow, ReportPauseRow, ReportRow};
use crate::db::workflow as workflow_db;
use crate::db::{catalog, reports as report_db};
use crate::media::Variant;
use crate::policy::Role;
use crate::policy::{Permission, Target};
use crate::reports::{Location, NewReport, ReportInput, ReportStatus, Reporter, ReporterInput};
use crate::sla::schedule;

/// A report as filed through the JSON API (its shape is checked against
/// `ReportInput`, the type that really parses it, by a test).
#[derive(Serialize, ToSchema)]
#[schema(example = json!({
    "category": "pothole", "lat": 55.77, "lon": 37.605,
    "description": "Глубокая яма у перехода", "address": "ул. Тверская, 12",
    "answers": {"size": "medium"},
    "reporter": {"email": "anna@example.ru", "name": "Анна", "phone": "+7 495 000-00-00", "show_name": false}
}))]
pub struct ReportInputDoc {
    /// A category code from GET /api/v1/categories
    category: String,
    lat: f64,
    lon: f64,
    /// At most 4,000 characters
    description: String,
    address: Option<String>,
    /// Answers to the category's questions, by question code
    #[schema(value_type = Object)]
    answers: Option<serde_json::Value>,
    reporter: ResidentDoc,
}

/// A resident's contact details; never shown publicly (the name only with
/// `show_name`).
#[derive(Serialize, ToSchema)]
pub struct ResidentDoc {
    email: String,
    name: Option<String>,
    phone: Option<String>,
    show_name: Option<bool>,
    /// `ru` or `en`: the language of the emails about this report when the
    /// resident has no account yet (default: the request's Accept-Language,
    /// else Russian)
    locale: Option<String>,
}

/// The outcome of "me too".
#[derive(Serialize, ToSchema)]
pub struct SupportView {
    joined: bool,
    support_count: i32,
}

#[derive(Serialize, ToSchema)]
struct FiledView {
    id: String,
    number: i64,
    #[schema(value_type = String)]
    status: ReportStatus,
    url: String,
    duplicate_candidates: Vec<CandidateView>,
}

#[derive(Serialize, ToSchema)]
struct CandidateView {
    id: String,
    number: i64,
    status: String,
    description: String,
    distance_m: f64,
    support_count: i32,
    url: String,
}

impl CandidateView {
    fn new(state: &AppState, n: Nearby) -> CandidateView {
        CandidateView {
            url: format!("{}/api/v1/reports/{}", state.public_url, n.report.id),
            id: n.report.id,
            number: n.report.number,
            status: n.report.status,
            description: n.report.description,
            distance_m: (n.distance_m * 10.0).round() / 10.0,
            support_count: n.report.support_count,
        }
    }
}

/// File a report.
///
/// A JSON body, or `multipart/form-data` with the JSON in a part named
/// `report` and photos (JPEG, PNG, WebP) in parts named `photos`. The answer
/// lists open reports of the same category nearby as duplicate candidates.
#[utoipa::path(
    tag = "reports",
    request_body(content = ReportInputDoc, description = "The report; or multipart/form-data with parts 'report' (this JSON) and 'photos'"),
    responses(
        (status = 201, description = "Filed", body = FiledView),
        (status = 202, description = "Held until the filer confirms it through the emailed link (filed without logging in)", body = pending::HeldView),
        (status = 400, description = "A field is wrong; nothing was written", body = ErrorBody),
        (status = 403, description = "A cookie session without its CSRF token", body = ErrorBody),
        (status = 429, description = "The resident's reports of the day are used up; retry_at says when", body = ErrorBody),
    )
)]
#[post("/reports")]
pub async fn create(
    state: web::Data<AppState>,
    request: HttpRequest,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let caller = auth::authorize(&state, &request, Permission::FileReport).await?;
    let (body, uploads) = read_submission(&state, &request, payload, "report").await?;
    let parts: Vec<&[u8]> = std::iter::once(body.as_slice())
        .chain(uploads.iter().map(|u| u.bytes.as_slice()))
        .collect();
    let who = caller.who.user_id.as_deref().unwrap_or("anonymous");
    let key = Idempotency::of(&request, "api", who, &parts)?;
    if let Some(key) = &key {
        if let Some(answer) = earlier_answer(&state, key).await? {
            return Ok(answer);
        }
    }
    let input: ReportInput = parse_json(&body)?;
    let report = NewReport::parse(input)?.in_language(accept_language(&request));
    if caller.role() == Some(Role::Resident) {
        own_address(&state, &caller, &report).await?;
    }
    if let (true, Some(lasts)) = (caller.is_anonymous(), state.confirm_anonymous) {
        let photos = filing::clean_photos(&state, uploads, |i| format!("photos[{i}]")).await?;
        let held = pending::hold(&state, body, report, photos, lasts).await?;
        return answer(&state, key.as_ref(), StatusCode::ACCEPTED, &held, None).await;
    }
    let mut channel = Channel::api();
    channel.idempotency = key.as_ref().map(Idempotency::record);
    let filed = match filing::file(&state, report, uploads, channel).await {
        Ok(filed) => filed,
        Err(e) => {
            // The same key filed by a request that committed first.
            if let Some(key) = &key {
                if let Some(answer) = earlier_answer(&state, key).await? {
                    return Ok(answer);
                }
            }
            return Err(e);
        }
    };
    let candidates = filed
        .candidates
        .into_iter()
        .map(|n| CandidateView::new(&state, n))
        .collect();
    let view = filed_view(&state, filed.report, candidates);
    let location = view.url.clone();
    answer(
        &state,
        key.as_ref(),
        StatusCode::CREATED,
        &view,
        Some(location),
    )
    .await
}

fn filed_view(state: &AppState, report: FiledReport, candidates: Vec<CandidateView>) -> FiledView {
    FiledView {
        url: format!("{}/api/v1/reports/{}", state.public_url, report.id),
        id: report.id,
        number: report.number,
        status: report.status,
        duplicate_candidates: candidates,
    }
}

/// A filing's answer, kept for its idempotency key.
async fn answer(
    state: &AppState,
    key: Option<&Idempotency>,
    status: StatusCode,
    view: &impl Serialize,
    location: Option<String>,
) -> Result<HttpResponse, ApiError> {
    let body = serde_json::to_string(view).map_err(|e| ApiError::Internal(Box::new(e)))?;
    if let Some(key) = key {
        idempotency::remember(state, key, status, &body).await;
    }
    let mut response = HttpResponse::build(status);
    if let Some(location) = location {
        response.insert_header((header::LOCATION, location));
    }
    Ok(response.content_type("application/json").body(body))
}

/// The answer an earlier filing with the same idempotency key got (rebuilt
/// from its report when it was never sent), if there was one.
async fn earlier_answer(
    state: &AppState,
    key: &Idempotency,
) -> Result<Option<HttpResponse>, ApiError> {
    match idempotency::earlier(state, key).await? {
        Earlier::None => Ok(None),
        Earlier::Answer { status, body } => {
            Ok(Some(idempotency::replay(status, body, "application/json")))
        }
        Earlier::Filed { report_id } => {
            let found = db(state, move |conn| {
                Ok(crate::db::reports::find(conn, &report_id)?)
            })
            .await?;
            let Some(detail) = found else { return Ok(None) };
            let report = FiledReport {
                id: detail.report.id,
                number: detail.report.number,
                status: ReportStatus::Moderation,
            };
            let view = filed_view(state, report, Vec::new());
            let body = serde_json::to_string(&view).map_err(|e| ApiError::Internal(Box::new(e)))?;
            Ok(Some(idempotency::replay(201, body, "application/json")))
        }
    }
}

/// A logged-in resident files as themselves.
async fn own_address(
    state: &AppState,
    caller: &Caller,
    report: &NewReport,
) -> Result<(), ApiError> {
    let user_id = caller.user_id()?.to_string();
    let own = db(state, move |conn| {
        Ok(crate::db::accounts::login_by_id(conn, &user_id)?.map(|l| l.email))
    })
    .await?;
    match (&report.reporter, own) {
        (Some(reporter), Some(own)) if reporter.email.as_str() != own => Err(ApiError::invalid(
            "reporter.email",
            format!("you are logged in as {own}: file as yourself"),
        )),
        _ => Ok(()),
    }
}

#[derive(Deserialize)]
pub struct NearbyQuery {
    lat: Option<String>,
    lon: Option<String>,
    category: Option<String>,
}

/// Open reports of a category near a point, nearest first: ask before filing.
#[utoipa::path(
    tag = "reports",
    params(
        ("lat" = f64, Query, description = "Latitude"),
        ("lon" = f64, Query, description = "Longitude"),
        ("category" = String, Query, description = "Category code"),
    ),
    responses(
        (status = 200, description = "Candidates within the category's duplicate radius", body = Vec<CandidateView>),
        (status = 400, description = "A parameter is wrong", body = ErrorBody),
    )
)]
#[get("/reports/nearby")]
pub async fn nearby(
    state: web::Data<AppState>,
    query: web::Query<NearbyQuery>,
) -> Result<HttpResponse, ApiError> {
    let query = query.into_inner();
    let number = |field: &str, value: Option<String>| {
        let text = non_empty(value).ok_or_else(|| ApiError::invalid(field, "is required"))?;
        text.parse::<f64>()
            .map_err(|_| ApiError::invalid(field, format!("'{text}' is not a number")))
    };
    let location = Location::parse(number("lat", query.lat)?, number("lon", query.lon)?)?;
    let code =
        non_empty(query.category).ok_or_else(|| ApiError::invalid("category", "is required"))?;
    let found = db(&state, move |conn| {
        let category = catalog::category_for_filing(conn, &code)?.ok_or_else(|| {
            ApiError::invalid(
                "category",
                format!("'{code}' is not a category of this city"),
            )
        })?;
        let probe = crate::db::filing::Probe {
            category_id: category.routing.id.to_string(),
            lat: location.lat(),
            lon: location.lon(),
            radius_m: category.duplicate_radius_m,
        };
        Ok(crate::db::filing::nearby_open(conn, &probe)?)
    })
    .await?;
    let views: Vec<CandidateView> = found
        .into_iter()
        .map(|n| CandidateView::new(&state, n))
        .collect();
    Ok(HttpResponse::Ok().json(views))
}

/// "Me too": a resident joins an open report.
///
/// The resident follows the report and its support count rises, once per
/// resident; joining again changes nothing.
#[utoipa::path(
    tag = "reports",
    params(("id" = String, Path, description = "The report's id")),
    request_body(content = ResidentDoc),
    responses(
        (status = 201, description = "Joined", body = SupportView),
        (status = 200, description = "Already following: nothing changed", body = SupportView),
        (status = 400, description = "A field is wrong", body = ErrorBody),
        (status = 404, description = "No such report", body = ErrorBody),
        (status = 409, description = "The report is no longer open", body = ErrorBody),
    )
)]
#[post("/reports/{id}/support")]
pub async fn support(
    state: web::Data<AppState>,
    request: HttpRequest,
    id: web::Path<String>,
    body: web::Bytes,
) -> Result<HttpResponse, ApiError> {
    auth::authorize(&state, &request, Permission::FileReport).await?;
    let id = report_id(&id)?;
    let input: ReporterInput = parse_json(&body)?;
    let resident = Reporter::parse(input, "")?;
    let now = state.clock.now();
    let key = id.clone();
    let outcome = db(&state, move |conn| {
        Ok(report_db::support(conn, now, &key, &resident)?)
    })
    .await?;
    match outcome {
        Support::Joined { support_count } => Ok(HttpResponse::Created().json(SupportView {
            joined: true,
            support_count,
        })),
        Support::AlreadyFollowing { support_count } => Ok(HttpResponse::Ok().json(SupportView {
            joined: false,
            support_count,
        })),
        Support::Closed { status } => Err(ApiError::Conflict(format!(
            "report {id} is {status}; only open reports can be joined"
        ))),
        Support::NoSuchReport => Err(no_such_report(&id)),
    }
}

fn no_such_report(id: &str) -> ApiError {
    ApiError::NotFound(format!("there is no report with id '{id}'"))
}

/// Ids are UUIDs; anything else cannot name a report.
fn report_id(id: &str) -> Result<String, ApiError> {
    uuid::Uuid::parse_str(id)
        .map(|u| u.to_string())
        .map_err(|_| no_such_report(id))
}

impl Names {
    /// The English name for `en` (when there is one), else the Russian.
    pub fn pick(&self, lang: &str) -> &str {
        crate::locale::pick(lang, &self.ru, &self.en)
    }
}

#[derive(Serialize, ToSchema)]
pub(crate) struct Names {
    pub(crate) ru: String,
    pub(crate) en: String,
}

#[derive(Serialize, ToSchema)]
pub(crate) struct DepartmentRef {
    pub(crate) code: String,
    pub(crate) name: Names,
}

#[derive(Serialize, ToSchema)]
pub(crate) struct CategoryRef {
    pub(crate) code: String,
    pub(crate) name: Names,
}

#[derive(Serialize, ToSchema)]
pub(crate) struct HistoryEntry {
    /// The event's id (photos attached to it name it)
    pub(crate) id: String,
    pub(crate) at: NaiveDateTime,
    pub(crate) kind: String,
    pub(crate) actor_role: String,
    pub(crate) from_status: Option<String>,
    pub(crate) to_status: String,
    pub(crate) note: Option<String>,
    /// Staff-only history (shown to staff whose scope holds the report)
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub(crate) internal: bool,
}

/// A report's clocks, worked out at the time of the request.
struct Clocks {
    standing: Option<schedule::Standing>,
    pauses: Vec<ReportPauseRow>,
    /// Followers' answers to the current answer: (fixed, not fixed).
    checks: (i64, i64),
    ledger: Vec<crate::ledger::Entry>,
    /// Whether the caller sees the internal history too (the policy's
    /// `ReadInternal` for this report).
    internal_history: bool,
}

/// The residents' check of the city's answer.
#[derive(Serialize, ToSchema)]
pub struct CheckView {
    /// Until when the reporter may confirm or refute the current answer
    pub(crate) window_closes_at: Option<NaiveDateTime>,
    /// Answers refuted so far, and how many may be
    pub(crate) refutations: i32,
    pub(crate) refutation_limit: i32,
    /// Followers' answers to the current answer
    pub(crate) followers_fixed: i64,
    pub(crate) followers_not_fixed: i64,
}

/// The public face of one report.
#[derive(Serialize, ToSchema)]
pub(crate) struct ReportView {
    pub(crate) id: String,
    pub(crate) number: i64,
    pub(crate) status: String,
    pub(crate) category: CategoryRef,
    pub(crate) lat: f64,
    pub(crate) lon: f64,
    pub(crate) address: Option<String>,
    pub(crate) description: String,
    pub(crate) service_area: Option<String>,
    pub(crate) department: Option<DepartmentRef>,
    pub(crate) reporter_name: Option<String>,
    #[schema(value_type = Object)]
    pub(crate) answers: serde_json::Value,
    pub(crate) photos: Vec<PhotoView>,
    pub(crate) support_count: i32,
    pub(crate) duplicate_of: Option<String>,
    pub(crate) created_at: NaiveDateTime,
    pub(crate) updated_at: NaiveDateTime,
    pub(crate) moderation_due_at: Option<NaiveDateTime>,
    pub(crate) answer_due_at: Option<NaiveDateTime>,
    pub(crate) resolved_at: Option<NaiveDateTime>,
    pub(crate) closed_at: Option<NaiveDateTime>,
    /// The current stage and its deadline; null once no clock runs.
    pub(crate) deadline: Option<DeadlineView>,
    /// Every pause, with its reason.
    pub(crate) pauses: Vec<PauseView>,
    pub(crate) history: Vec<HistoryEntry>,
    pub(crate) check: CheckView,
    /// The report's entries in the resolution ledger
    pub(crate) ledger: Vec<super::ledger::EntryView>,
}

/// Where a report stands against its deadline. Deadlines are counted as the
/// docs/deadlines.md says.
#[derive(Serialize, ToSchema)]
pub struct DeadlineView {
    /// moderation, answer, fix or resident_check
    pub(crate) stage: &'static str,
    /// e.g. {"unit": "working_days", "value": 8}
    #[schema(value_type = Object)]
    pub(crate) target: crate::sla::calendar::Target,
    pub(crate) started_at: NaiveDateTime,
    /// null while the report is paused
    pub(crate) deadline: Option<NaiveDateTime>,
    /// Working days (calendar days for the resident check) used so far
    pub(crate) days_used: u32,
    /// Working days (calendar days for the resident check) left
    pub(crate) days_left: u32,
    pub(crate) breached: bool,
    pub(crate) paused: bool,
    /// 0 from filing; one more after each refuted answer
    pub(crate) cycle: i32,
    /// 0: the crew; 1: the department's supervisors; 2: the city's
    pub(crate) escalation_level: i32,
}

#[derive(Serialize, ToSchema)]
pub struct PauseView {
    /// waiting_for_resident, seasonal_work, third_party or procurement
    pub(crate) reason: String,
    pub(crate) note: Option<String>,
    /// The date work is expected to resume
    pub(crate) resume_on: chrono::NaiveDate,
    pub(crate) started_at: NaiveDateTime,
    /// null while paused
    pub(crate) ended_at: Option<NaiveDateTime>,
}

#[derive(Serialize, ToSchema)]
pub struct PhotoView {
    pub url: String,
    /// The history event the photo came with (an answer, a refutation);
    /// null for the report's own photos
    pub event_id: Option<String>,
    pub thumbnail_url: String,
    pub width: i32,
    pub height: i32,
}

impl PhotoView {
    pub fn new(state: &AppState, photo: &AttachmentRow) -> PhotoView {
        PhotoView {
            url: state.photo_url(&photo.content_hash, Variant::Full),
            event_id: photo.event_id.clone(),
            thumbnail_url: state.photo_url(&photo.content_hash, Variant::Thumbnail),
            width: photo.width,
            height: photo.height,
        }
    }
}

impl ReportView {
    fn new(
        state: &AppState,
        d: ReportDetail,
        photos: Vec<AttachmentRow>,
        clocks: Clocks,
    ) -> Result<ReportView, ApiError> {
        let r = d.report;
        let paused = clocks.pauses.iter().any(|p| p.ended_at.is_none());
        let deadline = clocks.standing.map(|s| DeadlineView {
            stage: s.stage,
            target: s.target,
            started_at: s.started_at,
            deadline: s.deadline,
            days_used: s.days_used,
            days_left: s.days_left,
            breached: s.breached,
            paused,
            cycle: r.cycle,
            escalation_level: r.escalation_level,
        });
        let pauses = clocks
            .pauses
            .into_iter()
            .map(|p| PauseView {
                reason: p.reason,
                note: p.note,
                resume_on: p.resume_on,
                started_at: p.started_at,
                ended_at: p.ended_at,
            })
            .collect();
        let check = CheckView {
            window_closes_at: r.check_due_at,
            refutations: r.cycle,
            refutation_limit: state.refutation_limit,
            followers_fixed: clocks.checks.0,
            followers_not_fixed: clocks.checks.1,
        };
        let answers = serde_json::from_str(&r.answers)
            .map_err(|e| ApiError::Internal(format!("report {} answers: {e}", r.number).into()))?;
        Ok(ReportView {
            id: r.id,
            number: r.number,
            status: r.status,
            category: CategoryRef {
                code: d.category.code,
                name: Names {
                    ru: d.category.name_ru,
                    en: d.category.name_en,
                },
            },
            lat: r.lat,
            lon: r.lon,
            address: r.address,
            description: r.description,
            service_area: d.service_area,
            department: d.department.map(|dep| DepartmentRef {
                code: dep.code,
                name: Names {
                    ru: dep.name_ru,
                    en: dep.name_en,
                },
            }),
            reporter_name: d.reporter_name,
            answers,
            photos: photos.iter().map(|p| PhotoView::new(state, p)).collect(),
            support_count: r.support_count,
            duplicate_of: r.duplicate_of,
            created_at: r.created_at,
            updated_at: r.updated_at,
            moderation_due_at: r.moderation_due_at,
            answer_due_at: r.answer_due_at,
            resolved_at: r.resolved_at,
            closed_at: r.closed_at,
            deadline,
            pauses,
            history: d
                .events
                .into_iter()
                .filter(|e| e.public || clocks.internal_history)
                .map(|e| HistoryEntry {
                    id: e.id,
                    internal: !e.public,
                    at: e.created_at,
                    kind: e.kind,
                    actor_role: e.actor_role,
                    from_status: e.from_status,
                    to_status: e.to_status,
                    note: e.note,
                })
                .collect(),
            check,
            ledger: clocks.ledger.into_iter().map(Into::into).collect(),
        })
    }
}

/// One report with its public history, answers and photos.
#[utoipa::path(
    tag = "reports",
    params(("id" = String, Path, description = "The report's id")),
    responses(
        (status = 200, description = "The report", body = ReportView),
        (status = 404, description = "No such report", body = ErrorBody),
    )
)]
#[get("/reports/{id}")]
pub async fn show(
    state: web::Data<AppState>,
    request: HttpRequest,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let caller = auth::authorize(&state, &request, Permission::ReadPublic).await?;
    let view = view_of(&state, &request, &caller, report_id(&id)?)
        .await?
        .ok_or_else(|| no_such_report(&id))?;
    Ok(HttpResponse::Ok().json(view))
}

/// One report as `caller` may see it (`None`: no such report).
pub(crate) async fn view_of(
    state: &web::Data<AppState>,
    request: &HttpRequest,
    caller: &Caller,
    key: String,
) -> Result<Option<ReportView>, ApiError> {
    Ok(view_and_row(state, request, caller, key)
        .await?
        .map(|(view, _, _)| view))
}

/// One report as `caller` may see it, with its row and its current
/// cycle's pauses (what the workflow judges a move by).
pub(crate) async fn view_and_row(
    state: &web::Data<AppState>,
    request: &HttpRequest,
    caller: &Caller,
    key: String,
) -> Result<Option<(ReportView, ReportRow, Vec<ReportPauseRow>)>, ApiError> {
    let now = state.clock.now();
    let app = state.clone();
    let caller = caller.clone();
    let found = super::read(state, request, move |conn| {
        let Some(detail) = report_db::find(conn, &key)? else {
            return Ok(None);
        };
        let photos = report_db::photos(conn, &key)?;
        let snapshot = app.catalog_snapshot(conn)?;
        let plan = workflow_db::plan_of(&snapshot, &detail.report)?;
        let all_pauses = workflow_db::all_pauses(conn, &detail.report.id)?;
        let current: Vec<_> = all_pauses
            .iter()
            .filter(|p| p.cycle == detail.report.cycle)
            .cloned()
            .collect();
        let facts = workflow_db::facts(&detail.report, &current)?;
        let clocks = Clocks {
            standing: schedule::standing(&plan.policy, &plan.calendar, &facts, now),
            pauses: all_pauses,
            checks: workflow_db::check_counts(conn, &key, detail.report.cycle)?,
            ledger: crate::db::ledger::entries_of(conn, &key)?,
            internal_history: caller
                .require(
                    Permission::ReadInternal,
                    Target::Report {
                        department: detail
                            .report
                            .department_id
                            .as_deref()
                            .and_then(|d| d.parse().ok()),
                        involves_caller: false,
                    },
                    snapshot.map.departments(),
                )
                .is_ok(),
        };
        Ok(Some((detail, photos, clocks, current)))
    })
    .await?;
    found
        .map(|(detail, photos, clocks, current)| {
            let row = detail.report.clone();
            ReportView::new(state, detail, photos, clocks).map(|view| (view, row, current))
        })
        .transpose()
}

#[derive(Deserialize)]
pub struct ListQuery {
    #[serde(flatten)]
    filter: FilterParams,
    page: Option<String>,
    per_page: Option<String>,
}

#[derive(Serialize, ToSchema)]
struct ReportSummary {
    id: String,
    number: i64,
    status: String,
    category: String,
    department: Option<String>,
    lat: f64,
    lon: f64,
    address: Option<String>,
    description: String,
    created_at: NaiveDateTime,
    updated_at: NaiveDateTime,
    answer_due_at: Option<NaiveDateTime>,
}

impl From<ReportListing> for ReportSummary {
    fn from(l: ReportListing) -> ReportSummary {
        let r = l.report;
        ReportSummary {
            id: r.id,
            number: r.number,
            status: r.status,
            category: l.category.code,
            department: l.department.map(|d| d.code),
            lat: r.lat,
            lon: r.lon,
            address: r.address,
            description: r.description,
            created_at: r.created_at,
            updated_at: r.updated_at,
            answer_due_at: r.answer_due_at,
        }
    }
}

#[derive(Serialize, ToSchema)]
struct ReportPage {
    total: i64,
    page: i64,
    per_page: i64,
    reports: Vec<ReportSummary>,
}

/// A page of reports, newest first, with the total.
#[utoipa::path(
    tag = "reports",
    params(
        FilterParams,
        ("page" = Option<i64>, Query, description = "From 1"),
        ("per_page" = Option<i64>, Query, description = "1 to 200, default 50"),
    ),
    responses(
        (status = 200, description = "The page", body = ReportPage),
        (status = 400, description = "A parameter is wrong", body = ErrorBody),
    )
)]
#[get("/reports")]
pub async fn list(
    state: web::Data<AppState>,
    request: HttpRequest,
    query: web::Query<ListQuery>,
) -> Result<HttpResponse, ApiError> {
    let query = query.into_inner();
    let page = parse_count("page", query.page, 1, i64::MAX / MAX_PER_PAGE)?;
    let per_page = parse_count("per_page", query.per_page, DEFAULT_PER_PAGE, MAX_PER_PAGE)?;
    let params = query.filter;
    let (total, reports) = super::read(&state, &request, move |conn| {
        let filter = params.into_filter(conn)?;
        Ok(report_db::list(conn, &filter, page, per_page)?)
    })
    .await?;
    Ok(HttpResponse::Ok().json(ReportPage {
        total,
        page,
        per_page,
        reports: reports.into_iter().map(ReportSummary::from).collect(),
    }))
}
