//! Filing, reading and listing reports. Public output never carries a
//! reporter's email or phone; their name only when they chose to show it.

use crate::reports::ValidationError;
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
use crate::app::reports::{
    self as reading, AttachmentRow, Clocks, FiledReport, HeldSupport, Nearby, ReportDetail,
    ReportListing, ReportPauseRow, ReportRow, Support,
};
use crate::media::Variant;
use crate::policy::Permission;
use crate::policy::Role;
use crate::reports::{NewReport, ReportInput, ReportStatus, Reporter, ReporterInput};

mod views;
pub use views::*;

/// A report as filed through the JSON API (its shape is checked against
/// `ReportInput`, the type that really parses it, by a test).
#[derive(Serialize, ToSchema)]
#[schema(example = json!({
    "category": "pothole", "lat": 55.77, "lon": 37.605,
    "description": "Глубокая яма у перехода", "address": "ул. Тверская, 12",
    "answers": {"size": "medium"},
    "reporter": {"email": "anna@example.ru", "name": "Анна", "phone": "+7 495 000-00-00", "show_name": false},
    "object": null
}))]
pub struct ReportInputDoc {
    /// A category code from GET /api/v1/categories
    category: String,
    #[schema(minimum = -90, maximum = 90)]
    lat: f64,
    #[schema(minimum = -180, maximum = 180)]
    lon: f64,
    /// At most 4,000 characters
    #[schema(schema_with = super::contract::long_text)]
    description: String,
    address: Option<String>,
    /// Answers to the category's questions, by question code
    #[schema(value_type = Object)]
    answers: Option<serde_json::Value>,
    /// Who files it (a logged-in resident may leave it out)
    reporter: Option<ResidentDoc>,
    /// The id of a city object of one of the category's object types, from
    /// GET /api/v1/objects near the point (it may route the report)
    object: Option<String>,
}

/// A resident's contact details; never shown publicly (the name only with
/// `show_name`).
#[derive(Serialize, ToSchema)]
pub struct ResidentDoc {
    /// Required unless a resident is logged in (their account's address is
    /// used, and another is refused)
    #[schema(schema_with = super::contract::email_or_null)]
    email: Option<String>,
    name: Option<String>,
    phone: Option<String>,
    show_name: Option<bool>,
    /// `ru` or `en`: the language of the emails about this report when the
    /// resident has no account yet (default: the request's Accept-Language,
    /// else Russian)
    #[schema(schema_with = super::contract::locale_or_null)]
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
    lat: f64,
    lon: f64,
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
            lat: n.report.lat,
            lon: n.report.lon,
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
    let account = match caller.role() {
        Some(Role::Resident) => own_address(&state, &caller).await?,
        _ => None,
    };
    let (code, raw) = (input.category.clone(), input.answers.clone());
    let report = match NewReport::parse_by(input, account.as_deref()) {
        Ok(report) => report.in_language(accept_language(&request)),
        Err(mut wrong) => {
            // The answers' errors too, so the form shows them all at once.
            let app = state.services.clone();
            let more = db(&state, move |conn| {
                Ok(crate::app::filing::answer_problems(&app, conn, &code, raw)?)
            })
            .await?;
            wrong.more.extend(more);
            return Err(wrong.into());
        }
    };
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
            let found = db(state, move |conn| Ok(reading::find(conn, &report_id)?)).await?;
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

/// The address of the logged-in resident's account: they file as
/// themselves.
async fn own_address(state: &AppState, caller: &Caller) -> Result<Option<String>, ApiError> {
    let user_id = caller.user_id()?.to_string();
    db(state, move |conn| {
        Ok(crate::app::accounts::by_id(conn, &user_id)?.map(|l| l.email))
    })
    .await
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
        ("category" = String, Query, pattern = "\\S", description = "Category code"),
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
    let location = super::geodata::point(query.lat, query.lon)?;
    let code = non_empty(query.category).ok_or_else(|| ValidationError::required("category"))?;
    let found = db(&state, move |conn| {
        Ok(reading::nearby(conn, &code, location)?)
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
/// resident; joining again changes nothing. A logged-in resident joins as
/// themselves (the email may be left out). Sent without logging in (and
/// without an API token), it waits for its sender to confirm it through an
/// emailed link, as an anonymous filing does: 202.
#[utoipa::path(
    tag = "reports",
    params(("id" = String, Path, description = "The report's id")),
    request_body(content = ResidentDoc),
    responses(
        (status = 201, description = "Joined", body = SupportView),
        (status = 200, description = "Already following: nothing changed", body = SupportView),
        (status = 202, description = "Waiting for the sender's confirmation by email", body = pending::HeldView),
        (status = 429, description = "The address had its confirmation emails of the day", body = ErrorBody),
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
    let caller = auth::authorize(&state, &request, Permission::FileReport).await?;
    let id = report_id(&id)?;
    let input: ReporterInput = parse_json(&body)?;
    let account = match caller.role() {
        Some(Role::Resident) => own_address(&state, &caller).await?,
        _ => None,
    };
    let mut resident = Reporter::parse_by(input, "", account.as_deref())?;
    resident.locale = resident.locale.or(accept_language(&request));
    if let (true, Some(lasts)) = (caller.is_anonymous(), state.confirm_anonymous) {
        let (app, key) = (state.services.clone(), id.clone());
        let held = db(&state, move |conn| {
            Ok(reading::hold_support(
                &app,
                conn,
                &key,
                &resident,
                lasts,
                reading::Held::Support,
            )?)
        })
        .await?;
        return match held {
            HeldSupport::Waiting { expires_at } => Ok(HttpResponse::Accepted().json(
                pending::held_view(
                    super::html::say(
                        "проверьте почту: ваше «у меня то же» засчитается, когда вы подтвердите его по ссылке из нашего письма",
                        "check your mailbox: your \"me too\" counts once you confirm it through the link in our email",
                    ),
                    expires_at,
                ),
            )),
            HeldSupport::Closed { status } => Err(closed_to_joining(&id, &status)),
            HeldSupport::NoSuchReport => Err(no_such_report(&id)),
        };
    }
    let (app, key) = (state.services.clone(), id.clone());
    let outcome = db(&state, move |conn| {
        Ok(reading::support(&app, conn, &key, &resident)?)
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
        Support::Closed { status } => Err(closed_to_joining(&id, &status)),
        Support::NoSuchReport => Err(no_such_report(&id)),
    }
}

fn closed_to_joining(id: &str, status: &str) -> ApiError {
    ApiError::closed_to_joining(id, status)
}

fn no_such_report(id: &str) -> ApiError {
    ApiError::no_report(id)
}

/// Ids are UUIDs; anything else cannot name a report.
pub(super) fn report_id(id: &str) -> Result<String, ApiError> {
    uuid::Uuid::parse_str(id)
        .map(|u| u.to_string())
        .map_err(|_| no_such_report(id))
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
    let caller = caller.clone();
    viewed(state, request, key, move |target, departments| {
        caller
            .require(Permission::ReadInternal, target, departments)
            .is_ok()
    })
    .await
}

/// A report as the public sees it, whoever asks (the feeds).
pub(crate) async fn public_view(
    state: &web::Data<AppState>,
    request: &HttpRequest,
    key: String,
) -> Result<Option<ReportView>, ApiError> {
    Ok(viewed(state, request, key, |_, _| false)
        .await?
        .map(|(view, _, _)| view))
}

async fn viewed(
    state: &web::Data<AppState>,
    request: &HttpRequest,
    key: String,
    sees_internal: impl FnOnce(crate::policy::Target, &crate::routing::Departments) -> bool
        + Send
        + 'static,
) -> Result<Option<(ReportView, ReportRow, Vec<ReportPauseRow>)>, ApiError> {
    let app = state.services.clone();
    let found = super::read(state, request, move |conn| {
        Ok(reading::read(&app, conn, &key, sees_internal)?)
    })
    .await?;
    found
        .map(|read| {
            let row = read.detail.report.clone();
            let current = read.current_pauses;
            ReportView::new(
                state,
                read.detail,
                read.photos,
                read.clocks,
                (&read.names, &read.updates, read.edits, &read.photo_checks),
            )
            .map(|view| (view, row, current))
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
    #[serde(serialize_with = "crate::clock::utc")]
    created_at: NaiveDateTime,
    #[serde(serialize_with = "crate::clock::utc")]
    updated_at: NaiveDateTime,
    #[serde(serialize_with = "crate::clock::utc_opt")]
    answer_due_at: Option<NaiveDateTime>,
    /// The deadline of the stage the report is in (none once it is done)
    #[serde(serialize_with = "crate::clock::utc_opt")]
    due_at: Option<NaiveDateTime>,
}

impl From<ReportListing> for ReportSummary {
    fn from(l: ReportListing) -> ReportSummary {
        let r = l.report;
        let due_at = crate::app::supervision::current_due(&r);
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
            due_at,
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
        ("page" = Option<i64>, Query, minimum = 1, maximum = 46116860184273879_i64, description = "From 1"),
        ("per_page" = Option<i64>, Query, minimum = 1, maximum = 200, description = "1 to 200, default 50"),
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
    let (wanted, page, per_page) = query.into_inner().read()?;
    let (total, reports) = super::read(&state, &request, move |conn| {
        Ok(reading::page(conn, wanted, page, per_page)?)
    })
    .await?;
    Ok(ReportPage::answer(total, (page, per_page), reports))
}

impl ListQuery {
    /// The filter, the page and its size, each bad one named.
    fn read(self) -> Result<(reading::Wanted, i64, i64), ApiError> {
        let page = parse_count("page", self.page, 1, i64::MAX / MAX_PER_PAGE)?;
        let per_page = parse_count("per_page", self.per_page, DEFAULT_PER_PAGE, MAX_PER_PAGE)?;
        Ok((self.filter.into_wanted()?, page, per_page))
    }
}

impl ReportPage {
    fn answer(
        total: i64,
        (page, per_page): (i64, i64),
        reports: Vec<ReportListing>,
    ) -> HttpResponse {
        HttpResponse::Ok().json(ReportPage {
            total,
            page,
            per_page,
            reports: reports.into_iter().map(ReportSummary::from).collect(),
        })
    }
}

#[derive(Deserialize)]
pub struct SearchQuery {
    q: Option<String>,
    #[serde(flatten)]
    list: ListQuery,
}

/// Search reports by their words, best first.
///
/// The query's words are matched in any grammatical form (Russian and
/// English stemming) against a report's description, the city's public
/// answers and its address; a report has every word, and ranks by where
/// they are. The public finds published reports. Staff (with their token
/// or session) find any report in their scope, also by number (`123`) and
/// by a reporter's email address. The list's filters apply as well.
#[utoipa::path(
    tag = "reports",
    params(
        ("q" = String, Query, pattern = "\\S", description = "Words, a report number or (staff) an email address"),
        FilterParams,
        ("page" = Option<i64>, Query, minimum = 1, maximum = 46116860184273879_i64, description = "From 1"),
        ("per_page" = Option<i64>, Query, minimum = 1, maximum = 200, description = "1 to 200, default 50"),
    ),
    responses(
        (status = 200, description = "The page of matches, best first", body = ReportPage),
        (status = 400, description = "A parameter is wrong", body = ErrorBody),
    )
)]
#[get("/reports/search")]
pub async fn search(
    state: web::Data<AppState>,
    request: HttpRequest,
    query: web::Query<SearchQuery>,
) -> Result<HttpResponse, ApiError> {
    let query = query.into_inner();
    let text = non_empty(query.q).ok_or_else(|| ValidationError::required("q"))?;
    let (wanted, page, per_page) = query.list.read()?;
    let who = auth::caller(&state, &request).await?.who;
    let app = state.services.clone();
    let (total, reports) = db(&state, move |conn| {
        let asked = crate::app::search::Asked {
            text,
            wanted,
            page,
            per_page,
        };
        Ok(crate::app::search::find(&app, conn, &who, asked)?)
    })
    .await?;
    Ok(ReportPage::answer(total, (page, per_page), reports))
}
