//! The web interface: pages rendered here (askama templates under
//! `templates/`, escaped by default) from the same data the JSON API serves,
//! in Russian or English (a switcher's cookie, else `Accept-Language`, else
//! Russian). Forms are plain HTML with labels; `web/static/gorod.js` sends
//! them to the JSON API (with the session's CSRF token) and shows each error
//! next to the field the API names. The map is Leaflet with its clustering
//! plugin and the chart is Chart.js, both from the npm registry, copied into
//! `web.vendor_dir` by `scripts/build-web` and served at `/vendor/`.
//!
//! | page | who | what |
//! |---|---|---|
//! | `/` | everyone | the map of reports, with filters |
//! | `/new` | everyone | file a report |
//! | `/reports/{number}` | everyone | a report; its check for its residents, its moves for staff |
//! | `/my` | residents | the reports they filed or follow |
//! | `/settings` | anyone logged in | mail language and notifications, password |
//! | `/login`, `/register`, `/reset` | everyone | accounts |
//! | `/queue` | staff | their departments' open reports, nearest deadline first |
//! | `/dashboard` | staff | the SLA dashboard |
//! | `/stats` | everyone | how each department answers; the ledger |

pub mod i18n;

use std::collections::BTreeMap;

use actix_web::http::header;
use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse, ResponseError};
use askama::Template;
use chrono::{NaiveDateTime, TimeDelta};
use serde::Deserialize;

use super::auth::{self, Caller};
use super::reports::{view_and_row, ReportView};
use super::{db, ApiError, AppState};
use crate::db::catalog::Snapshot;
use crate::db::reports::{ReportFilter, ReportListing};
use crate::db::supervisor::{self as supervisor_db, Risk};
use crate::locale::Locale;
use crate::policy::Action;
use crate::reports::questions::{Datatype, Question};
use crate::workflow::{self, Actor, Role};
use i18n::Texts;

/// The cookie the language switcher sets.
pub const LANG_COOKIE: &str = "gorod_lang";

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/", web::get().to(map_page))
        .route("/new", web::get().to(file_page))
        .route("/reports/{number}", web::get().to(report_page))
        .route("/my", web::get().to(my_page))
        .route("/settings", web::get().to(settings_page))
        .route("/login", web::get().to(login_page))
        .route("/register", web::get().to(register_page))
        .route("/reset", web::get().to(reset_page))
        .route("/queue", web::get().to(queue_page))
        .route("/dashboard", web::get().to(dashboard_page))
        .route("/stats", web::get().to(stats_page))
        .route("/lang/{code}", web::get().to(switch_language))
        .route("/static/{name}", web::get().to(static_file))
        .route("/vendor/{path:.*}", web::get().to(vendor_file));
}

/// The logged-in person, for the header.
pub struct NavUser {
    pub email: String,
    pub role: Role,
}

/// What every page knows: the language, who is looking, the CSRF token
/// their forms send, and the city's time zone for the times shown.
pub struct Ctx {
    pub t: &'static Texts,
    pub user: Option<NavUser>,
    pub csrf: Option<String>,
    /// This page's address, for the language switcher to come back to.
    pub here: String,
    time_zone: chrono_tz::Tz,
}

impl Ctx {
    /// A time in the city's zone, as people read it.
    pub fn time(&self, at: impl Value<NaiveDateTime>) -> String {
        at.get()
            .and_utc()
            .with_timezone(&self.time_zone)
            .format("%d.%m.%Y %H:%M")
            .to_string()
    }

    pub fn opt_time(&self, at: impl Value<Option<NaiveDateTime>>) -> String {
        at.get().map_or_else(|| "—".into(), |t| self.time(t))
    }

    /// A question's prompt in the page's language.
    pub fn prompt<'a>(&self, q: &'a Question) -> &'a str {
        match (&q.description_en, self.t.lang) {
            (Some(en), "en") if !en.is_empty() => en,
            _ => &q.description,
        }
    }

    /// Which input a question takes: choice, choices, number, datetime,
    /// text or line.
    pub fn kind(&self, q: &Question) -> &'static str {
        match q.datatype {
            Datatype::Singlevaluelist => "choice",
            Datatype::Multivaluelist => "choices",
            Datatype::Number => "number",
            Datatype::Datetime => "datetime",
            Datatype::Text => "text",
            Datatype::String => "line",
        }
    }

    /// The name in the page's language.
    pub fn name<'a>(&self, ru: &'a str, en: &'a str) -> &'a str {
        pick(self.t.lang, ru, en)
    }

    pub fn is_staff(&self) -> bool {
        self.user
            .as_ref()
            .is_some_and(|u| matches!(u.role, Role::Crew | Role::Supervisor | Role::Admin))
    }

    /// The switcher's link to this page in `code`.
    pub fn switch_to(&self, code: &str) -> String {
        format!("/lang/{code}?back={}", urlencode(&self.here))
    }

    /// A percentage, or a dash when there is nothing to count.
    pub fn percent(&self, value: impl Value<Option<f64>>) -> String {
        value
            .get()
            .map_or_else(|| "—".into(), |v| format!("{v:.1} %"))
    }

    pub fn hours(&self, value: impl Value<Option<f64>>) -> String {
        value
            .get()
            .map_or_else(|| "—".into(), |v| format!("{v:.1}"))
    }
}

/// A value a template hands over as it has it: itself, or behind one or
/// two references (askama's loops and `if let` give references).
pub trait Value<T: Copy> {
    fn get(&self) -> T;
}

impl<T: Copy> Value<T> for T {
    fn get(&self) -> T {
        *self
    }
}

impl<T: Copy> Value<T> for &T {
    fn get(&self) -> T {
        **self
    }
}

impl<T: Copy> Value<T> for &&T {
    fn get(&self) -> T {
        ***self
    }
}

/// The English name on English pages (when there is one), else the
/// Russian.
pub fn pick<'a>(lang: &str, ru: &'a str, en: &'a str) -> &'a str {
    if lang == "en" && !en.is_empty() {
        en
    } else {
        ru
    }
}

fn urlencode(text: &str) -> String {
    serde_urlencoded::to_string([("", text)])
        .map(|s| s.trim_start_matches('=').to_string())
        .unwrap_or_default()
}

/// The page's language: the switcher's cookie, else `Accept-Language`,
/// else Russian.
fn language(request: &HttpRequest) -> Locale {
    request
        .cookie(LANG_COOKIE)
        .and_then(|c| Locale::exact(c.value()))
        .or_else(|| super::accept_language(request))
        .unwrap_or(Locale::Ru)
}

/// Who is looking and how the page speaks to them.
async fn context(
    state: &web::Data<AppState>,
    request: &HttpRequest,
) -> Result<(Caller, Ctx), PageError> {
    let caller = auth::caller(state, request).await?;
    let csrf = caller.csrf_token();
    let user = match (caller.who.user_id.clone(), caller.role()) {
        (Some(id), Some(role)) => db(state, move |conn| {
            Ok(crate::db::accounts::login_by_id(conn, &id)?)
        })
        .await?
        .map(|login| NavUser {
            email: login.email,
            role,
        }),
        _ => None,
    };
    let here = match request.query_string() {
        "" => request.path().to_string(),
        q => format!("{}?{q}", request.path()),
    };
    Ok((
        caller,
        Ctx {
            t: i18n::texts(language(request)),
            user,
            csrf,
            here,
            time_zone: state.time_zone,
        },
    ))
}

/// A page that could not be shown: the login page for a page that needs a
/// login, else the bilingual error page.
#[derive(Debug)]
pub enum PageError {
    LogIn(String),
    Api(ApiError),
}

impl std::fmt::Display for PageError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            PageError::LogIn(next) => write!(f, "log in to see {next}"),
            PageError::Api(e) => e.fmt(f),
        }
    }
}

impl<E: Into<ApiError>> From<E> for PageError {
    fn from(e: E) -> PageError {
        PageError::Api(e.into())
    }
}

impl ResponseError for PageError {
    fn status_code(&self) -> StatusCode {
        match self {
            PageError::LogIn(_) => StatusCode::SEE_OTHER,
            PageError::Api(e) => e.status_code(),
        }
    }

    fn error_response(&self) -> HttpResponse {
        match self {
            PageError::LogIn(next) => HttpResponse::SeeOther()
                .insert_header((header::LOCATION, format!("/login?next={}", urlencode(next))))
                .finish(),
            PageError::Api(ApiError::Unauthorized(_)) => HttpResponse::SeeOther()
                .insert_header((header::LOCATION, "/login"))
                .finish(),
            PageError::Api(e) => super::html::error_page(e),
        }
    }
}

type Page = Result<HttpResponse, PageError>;

fn html(page: &impl Template) -> Page {
    let body = page.render().map_err(|e| ApiError::Internal(Box::new(e)))?;
    Ok(HttpResponse::Ok()
        .content_type("text/html; charset=utf-8")
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .body(body))
}

/// Staff only: anyone else is sent to log in.
fn staff_only(ctx: &Ctx) -> Result<(), PageError> {
    if ctx.is_staff() {
        Ok(())
    } else {
        Err(PageError::LogIn(ctx.here.clone()))
    }
}

/// A category as the pages list it.
pub struct CategoryItem {
    pub code: String,
    pub name_ru: String,
    pub name_en: String,
    pub questions: Vec<Question>,
}

impl CategoryItem {
    pub fn name(&self, t: &Texts) -> &str {
        pick(t.lang, &self.name_ru, &self.name_en)
    }
}

/// The active categories, in the catalogue's order.
fn categories(conn: &mut crate::db::DbConnection) -> Result<Vec<CategoryItem>, ApiError> {
    let listed = crate::db::catalog::list_categories(conn)?;
    Ok(listed
        .into_iter()
        .map(|c| {
            let questions = serde_json::from_str(&c.category.attributes).unwrap_or_default();
            CategoryItem {
                code: c.category.code,
                name_ru: c.category.name_ru,
                name_en: c.category.name_en,
                questions,
            }
        })
        .collect())
}

/// Where the map opens: around every service area.
fn city_bounds(snapshot: &Snapshot) -> [[f64; 2]; 2] {
    let boxes: Vec<_> = snapshot
        .map
        .areas()
        .iter()
        .map(|a| a.shape.bounding_box())
        .collect();
    if boxes.is_empty() {
        return [[55.55, 37.35], [55.95, 37.85]];
    }
    let fold = |f: fn(f64, f64) -> f64, pick: fn(&(f64, f64, f64, f64)) -> f64, start: f64| {
        boxes.iter().map(pick).fold(start, f)
    };
    [
        [
            fold(f64::min, |b| b.0, f64::INFINITY),
            fold(f64::min, |b| b.1, f64::INFINITY),
        ],
        [
            fold(f64::max, |b| b.2, f64::NEG_INFINITY),
            fold(f64::max, |b| b.3, f64::NEG_INFINITY),
        ],
    ]
}

/// What the map script needs, as JSON in the page.
#[derive(serde::Serialize)]
pub struct MapSetup {
    tile_url: String,
    attribution: String,
    bounds: [[f64; 2]; 2],
}

fn map_setup(state: &AppState, snapshot: &Snapshot) -> MapSetup {
    MapSetup {
        tile_url: state.web.tile_url.clone(),
        attribution: state.web.tile_attribution.clone(),
        bounds: city_bounds(snapshot),
    }
}

#[derive(Template)]
#[template(path = "map.html")]
pub struct MapPage {
    ctx: Ctx,
    setup: MapSetup,
    categories: Vec<CategoryItem>,
    statuses: Vec<&'static str>,
}

/// The map's setup and the categories, for the pages with a map.
async fn map_and_categories(
    state: &web::Data<AppState>,
) -> Result<(MapSetup, Vec<CategoryItem>), ApiError> {
    let app = state.clone();
    db(state, move |conn| {
        let snapshot = app.catalog_snapshot(conn)?;
        Ok((map_setup(&app, &snapshot), categories(conn)?))
    })
    .await
}

async fn map_page(state: web::Data<AppState>, request: HttpRequest) -> Page {
    let (_, ctx) = context(&state, &request).await?;
    let (setup, categories) = map_and_categories(&state).await?;
    html(&MapPage {
        ctx,
        setup,
        categories,
        statuses: crate::reports::ReportStatus::ALL
            .iter()
            .map(|s| s.as_str())
            .collect(),
    })
}

#[derive(Template)]
#[template(path = "file.html")]
pub struct FilePage {
    ctx: Ctx,
    setup: MapSetup,
    categories: Vec<CategoryItem>,
}

async fn file_page(state: web::Data<AppState>, request: HttpRequest) -> Page {
    let (_, ctx) = context(&state, &request).await?;
    let (setup, categories) = map_and_categories(&state).await?;
    html(&FilePage {
        ctx,
        setup,
        categories,
    })
}

/// A department as a choice in a form.
pub struct DepartmentItem {
    pub code: String,
    pub name_ru: String,
    pub name_en: String,
}

impl DepartmentItem {
    pub fn name(&self, t: &Texts) -> &str {
        pick(t.lang, &self.name_ru, &self.name_en)
    }
}

fn departments(conn: &mut crate::db::DbConnection) -> Result<Vec<DepartmentItem>, ApiError> {
    Ok(crate::db::catalog::list_departments(conn)?
        .into_iter()
        .map(|d| DepartmentItem {
            code: d.code,
            name_ru: d.name_ru,
            name_en: d.name_en,
        })
        .collect())
}

#[derive(Template)]
#[template(path = "report.html")]
pub struct ReportPage {
    ctx: Ctx,
    report: ReportView,
    /// The workflow moves this person may make now.
    actions: Vec<&'static str>,
    /// Whether they may add an internal note.
    may_note: bool,
    /// Whether they filed or follow it.
    involved: bool,
    departments: Vec<DepartmentItem>,
    /// The answers to the category's questions: prompt and answer, as read.
    details: Vec<(String, String)>,
    pause_reasons: Vec<&'static str>,
    /// Today in the city, the earliest expected resume date.
    tomorrow: String,
}

impl ReportPage {
    /// The photos that came with a history event.
    pub fn photos_of(&self, event_id: &str) -> Vec<&super::reports::PhotoView> {
        self.report
            .photos
            .iter()
            .filter(|p| p.event_id.as_deref() == Some(event_id))
            .collect()
    }

    /// The photos the report was filed with.
    pub fn own_photos(&self) -> Vec<&super::reports::PhotoView> {
        let filed = self
            .report
            .history
            .iter()
            .find(|e| e.kind == "filed")
            .map(|e| e.id.as_str());
        self.report
            .photos
            .iter()
            .filter(|p| p.event_id.is_none() || p.event_id.as_deref() == filed)
            .collect()
    }

    pub fn offers(&self, action: &str) -> bool {
        self.actions.contains(&action)
    }

    /// The moves staff make with a form of their own (the resident's
    /// check has its own).
    pub fn staff_actions(&self) -> Vec<&'static str> {
        self.actions
            .iter()
            .copied()
            .filter(|a| !matches!(*a, "confirm" | "refute"))
            .collect()
    }

    /// The answer of the current cycle: the latest `answered` event.
    pub(crate) fn answer(&self) -> Option<&super::reports::HistoryEntry> {
        self.report
            .history
            .iter()
            .rev()
            .find(|e| e.to_status == "resolved")
    }

    /// Whether the report is open for "me too".
    pub fn joinable(&self) -> bool {
        supervisor_db::IN_HAND
            .iter()
            .any(|s| s.as_str() == self.report.status)
    }
}

async fn report_page(
    state: web::Data<AppState>,
    request: HttpRequest,
    number: web::Path<String>,
) -> Page {
    let (caller, ctx) = context(&state, &request).await?;
    let missing = format!("there is no report № {number}");
    let not_found = move || ApiError::NotFound(missing.clone());
    let n: i64 = number.trim().parse().map_err(|_| not_found())?;
    let id = super::read(&state, &request, move |conn| {
        Ok(crate::db::reports::id_of_number(conn, n)?)
    })
    .await?
    .ok_or_else(&not_found)?;
    let (report, row, pauses) = view_and_row(&state, &request, &caller, id)
        .await?
        .ok_or_else(&not_found)?;
    let app = state.clone();
    let who = caller.clone();
    let now = state.clock.now();
    let report_code = report.category.code.clone();
    let (actions, involved, may_note, departments, questions, today) = db(&state, move |conn| {
        let snapshot = app.catalog_snapshot(conn)?;
        let plan = crate::db::workflow::plan_of(&snapshot, &row)?;
        let case = crate::db::workflow::case_of(&row, plan, &pauses, now, app.refutation_limit)?;
        let involved = match who.who.user_id.as_deref() {
            Some(user) => crate::db::reports::involvement(conn, &row.id, user)?
                .is_some_and(|(_, involved)| involved),
            None => false,
        };
        let questions = snapshot
            .categories
            .get(&report_code)
            .map(|c| c.questions.clone())
            .unwrap_or_default();
        let tree = snapshot.map.departments();
        let department = row.department_id.as_deref().and_then(|d| d.parse().ok());
        // A staff session still owing its second factor may do nothing yet.
        let actions = match who.role() {
            Some(role) if who.require_any(Action::ReadPublic).is_ok() => {
                let actor = Actor {
                    role,
                    department: who.who.department,
                    is_reporter: involved,
                };
                workflow::available(&case, &actor, tree)
            }
            _ => Vec::new(),
        };
        let may_note = who
            .require(
                Action::MoveReport,
                crate::policy::Target::Report {
                    department,
                    involves_caller: false,
                },
                tree,
            )
            .is_ok();
        // The departments to reassign to, only for whoever may.
        let departments = if actions.contains(&workflow::Action::Assign) {
            departments(conn)?
        } else {
            Vec::new()
        };
        Ok((
            actions,
            involved,
            may_note,
            departments,
            questions,
            case.today,
        ))
    })
    .await?;
    let details = details(&ctx, &questions, &report.answers);
    html(&ReportPage {
        ctx,
        report,
        actions: actions.into_iter().map(|a| a.as_str()).collect(),
        may_note,
        involved,
        departments,
        details,
        pause_reasons: workflow::PauseReason::ALL
            .iter()
            .map(|r| r.as_str())
            .collect(),
        tomorrow: (today + TimeDelta::days(1)).format("%Y-%m-%d").to_string(),
    })
}

/// A report's answers as people read them: each question's prompt, and
/// the chosen values' names.
fn details(
    ctx: &Ctx,
    questions: &[Question],
    answers: &serde_json::Value,
) -> Vec<(String, String)> {
    let Some(answers) = answers.as_object() else {
        return Vec::new();
    };
    answers
        .iter()
        .map(|(code, value)| {
            let question = questions.iter().find(|q| &q.code == code);
            let name = |v: &serde_json::Value| {
                let text = v.as_str().map_or_else(|| v.to_string(), str::to_string);
                question
                    .and_then(|q| q.values.iter().find(|c| c.key == text))
                    .map_or(text, |c| c.name.clone())
            };
            let shown = match value {
                serde_json::Value::Array(items) => {
                    items.iter().map(name).collect::<Vec<_>>().join(", ")
                }
                other => name(other),
            };
            let prompt = question.map_or(code.as_str(), |q| ctx.prompt(q));
            (prompt.to_string(), shown)
        })
        .collect()
}

/// A report in a table.
pub struct Row {
    pub number: i64,
    pub status: String,
    pub category_ru: String,
    pub category_en: String,
    pub department_ru: String,
    pub department_en: String,
    pub address: String,
    pub deadline: Option<NaiveDateTime>,
    /// ok, at_risk or breached
    pub risk: &'static str,
    pub escalation_level: i32,
}

impl Row {
    pub fn category(&self, t: &Texts) -> &str {
        pick(t.lang, &self.category_ru, &self.category_en)
    }

    pub fn department(&self, t: &Texts) -> &str {
        pick(t.lang, &self.department_ru, &self.department_en)
    }

    /// A report named by its category's and department's (ru, en) names.
    fn of(
        r: crate::db::rows::ReportRow,
        (category_ru, category_en): (String, String),
        (department_ru, department_en): (String, String),
        risk: Option<Risk>,
    ) -> Row {
        Row {
            number: r.number,
            deadline: supervisor_db::current_due(&r),
            status: r.status,
            category_ru,
            category_en,
            department_ru,
            department_en,
            address: r.address.unwrap_or_default(),
            risk: risk.map_or("ok", Risk::as_str),
            escalation_level: r.escalation_level,
        }
    }

    fn new(listing: ReportListing, risk: Option<Risk>) -> Row {
        let department = listing
            .department
            .map(|d| (d.name_ru, d.name_en))
            .unwrap_or_default();
        let category = (listing.category.name_ru, listing.category.name_en);
        Row::of(listing.report, category, department, risk)
    }

    /// A watched report, named from the catalogue.
    fn watched(
        w: supervisor_db::Watched,
        categories: &[CategoryItem],
        departments: &[DepartmentItem],
    ) -> Row {
        let category = categories
            .iter()
            .find(|c| c.code == w.category)
            .map_or((w.category.clone(), w.category.clone()), |c| {
                (c.name_ru.clone(), c.name_en.clone())
            });
        let department = departments
            .iter()
            .find(|d| Some(&d.code) == w.department.as_ref())
            .map(|d| (d.name_ru.clone(), d.name_en.clone()))
            .unwrap_or_default();
        Row::of(w.report, category, department, Some(w.risk))
    }
}

#[derive(Template)]
#[template(path = "my.html")]
pub struct MyPage {
    ctx: Ctx,
    rows: Vec<Row>,
}

async fn my_page(state: web::Data<AppState>, request: HttpRequest) -> Page {
    let (caller, ctx) = context(&state, &request).await?;
    let Some(user) = caller.who.user_id.clone() else {
        return Err(PageError::LogIn(ctx.here));
    };
    let rows = db(&state, move |conn| {
        Ok(crate::db::reports::of_resident(conn, &user, 200)?)
    })
    .await?
    .into_iter()
    .map(|l| Row::new(l, None))
    .collect();
    html(&MyPage { ctx, rows })
}

#[derive(Template)]
#[template(path = "settings.html")]
pub struct SettingsPage {
    ctx: Ctx,
    settings: crate::db::accounts::MailSettings,
}

async fn settings_page(state: web::Data<AppState>, request: HttpRequest) -> Page {
    let (caller, ctx) = context(&state, &request).await?;
    let Some(user) = caller.who.user_id.clone() else {
        return Err(PageError::LogIn(ctx.here));
    };
    let settings = db(&state, move |conn| {
        Ok(crate::db::accounts::mail_settings(conn, &user)?)
    })
    .await?
    .ok_or_else(|| ApiError::NotFound("this user has no account".into()))?;
    html(&SettingsPage { ctx, settings })
}

/// Where to go after logging in: a path on this site only.
#[derive(Deserialize)]
pub struct Next {
    next: Option<String>,
}

#[derive(Template)]
#[template(path = "login.html")]
pub struct LoginPage {
    ctx: Ctx,
    next: String,
}

async fn login_page(
    state: web::Data<AppState>,
    request: HttpRequest,
    query: web::Query<Next>,
) -> Page {
    let (_, ctx) = context(&state, &request).await?;
    let next = local_path(query.next.clone());
    html(&LoginPage { ctx, next })
}

#[derive(Template)]
#[template(path = "register.html")]
pub struct RegisterPage {
    ctx: Ctx,
}

async fn register_page(state: web::Data<AppState>, request: HttpRequest) -> Page {
    let (_, ctx) = context(&state, &request).await?;
    html(&RegisterPage { ctx })
}

#[derive(Template)]
#[template(path = "reset.html")]
pub struct ResetPage {
    ctx: Ctx,
}

async fn reset_page(state: web::Data<AppState>, request: HttpRequest) -> Page {
    let (_, ctx) = context(&state, &request).await?;
    html(&ResetPage { ctx })
}

#[derive(Template)]
#[template(path = "queue.html")]
pub struct QueuePage {
    ctx: Ctx,
    rows: Vec<Row>,
}

async fn queue_page(state: web::Data<AppState>, request: HttpRequest) -> Page {
    let (caller, ctx) = context(&state, &request).await?;
    staff_only(&ctx)?;
    let app = state.clone();
    let rows = db(&state, move |conn| {
        let snapshot = app.catalog_snapshot(conn)?;
        let filter = super::supervisor::scope_filter(
            &snapshot,
            &caller.who,
            &super::supervisor::WatchQuery::default(),
        )?;
        Ok(supervisor_db::queue(conn, &filter, 300)?)
    })
    .await?
    .into_iter()
    .map(|(l, risk)| Row::new(l, risk))
    .collect();
    html(&QueuePage { ctx, rows })
}

/// The dashboard's filters, as the page's form sends them.
#[derive(Deserialize, Clone, Default)]
pub struct DashboardQuery {
    department: Option<String>,
    category: Option<String>,
    district: Option<String>,
    risk: Option<String>,
}

/// One day of the chart.
#[derive(serde::Serialize)]
pub struct TrendDay {
    day: String,
    at_risk: usize,
    breached: usize,
}

#[derive(Template)]
#[template(path = "dashboard.html")]
pub struct DashboardPage {
    ctx: Ctx,
    query: DashboardQuery,
    /// The same list as CSV, from the JSON API.
    csv_url: String,
    by_department: BTreeMap<String, (usize, usize)>,
    by_category: BTreeMap<String, (usize, usize)>,
    watched: Vec<Row>,
    escalated: Vec<Row>,
    trend: Vec<TrendDay>,
    departments: Vec<DepartmentItem>,
    categories: Vec<CategoryItem>,
    districts: Vec<(String, String)>,
}

impl DashboardPage {
    pub fn chosen(&self, value: &Option<String>, code: &str) -> bool {
        value.as_deref() == Some(code)
    }
}

/// How many days the dashboard's chart covers.
const TREND_DAYS: i64 = 30;

async fn dashboard_page(
    state: web::Data<AppState>,
    request: HttpRequest,
    query: web::Query<DashboardQuery>,
) -> Page {
    let (caller, ctx) = context(&state, &request).await?;
    staff_only(&ctx)?;
    let query = query.into_inner();
    let risk = super::supervisor::parse_risk(query.risk.clone())?;
    let csv_url = format!(
        "/api/v1/supervisor/reports?{}",
        serde_urlencoded::to_string([
            ("format", Some("csv".to_string())),
            ("department", query.department.clone()),
            ("category", query.category.clone()),
            ("district", query.district.clone()),
            ("risk", query.risk.clone()),
        ])
        .unwrap_or_default()
    );
    let app = state.clone();
    let asked = query.clone();
    let now = state.clock.now();
    let since = now - TimeDelta::days(TREND_DAYS);
    let (watched, escalated, marks, departments, categories, districts) = db(&state, move |conn| {
        let snapshot = app.catalog_snapshot(conn)?;
        let filter = super::supervisor::scope_filter(
            &snapshot,
            &caller.who,
            &super::supervisor::WatchQuery::narrowed(
                asked.department,
                asked.category,
                asked.district,
            ),
        )?;
        let districts = snapshot
            .map
            .areas()
            .iter()
            .map(|a| (a.code.clone(), a.name.clone()))
            .collect();
        Ok((
            supervisor_db::watched(conn, &filter)?,
            supervisor_db::escalated(conn, &filter)?,
            supervisor_db::marks_since(conn, &filter, since)?,
            departments(conn)?,
            categories(conn)?,
            districts,
        ))
    })
    .await?;
    let mut by_department: BTreeMap<String, (usize, usize)> = BTreeMap::new();
    let mut by_category: BTreeMap<String, (usize, usize)> = BTreeMap::new();
    let mut rows = Vec::new();
    for w in watched
        .into_iter()
        .filter(|w| risk.is_none_or(|r| r == w.risk))
    {
        let department = departments
            .iter()
            .find(|d| Some(&d.code) == w.department.as_ref())
            .map_or("—", |d| ctx.name(&d.name_ru, &d.name_en));
        let category = categories
            .iter()
            .find(|c| c.code == w.category)
            .map_or("—", |c| ctx.name(&c.name_ru, &c.name_en));
        for (map, key) in [
            (&mut by_department, department),
            (&mut by_category, category),
        ] {
            let entry = map.entry(key.to_string()).or_default();
            match w.risk {
                Risk::AtRisk => entry.0 += 1,
                Risk::Breached => entry.1 += 1,
            }
        }
        rows.push(Row::watched(w, &categories, &departments));
    }
    html(&DashboardPage {
        trend: trend(&ctx, &marks, now),
        ctx,
        query,
        csv_url,
        by_department,
        by_category,
        watched: rows,
        escalated: escalated.into_iter().map(|l| Row::new(l, None)).collect(),
        departments,
        categories,
        districts,
    })
}

/// Warnings and breaches recorded per local day, the last `TREND_DAYS`.
fn trend(ctx: &Ctx, marks: &[(NaiveDateTime, Risk)], now: NaiveDateTime) -> Vec<TrendDay> {
    let day = |t: &NaiveDateTime| t.and_utc().with_timezone(&ctx.time_zone).date_naive();
    let today = day(&now);
    (0..TREND_DAYS)
        .rev()
        .map(|back| {
            let d = today - TimeDelta::days(back);
            let count = |risk: Risk| {
                marks
                    .iter()
                    .filter(|(at, r)| *r == risk && day(at) == d)
                    .count()
            };
            TrendDay {
                day: d.format("%d.%m").to_string(),
                at_risk: count(Risk::AtRisk),
                breached: count(Risk::Breached),
            }
        })
        .collect()
}

/// A line of the public statistics.
pub struct StatsLine {
    pub name_ru: String,
    pub name_en: String,
    pub numbers: crate::sla::stats::Aggregate,
}

impl StatsLine {
    pub fn name(&self, t: &Texts) -> &str {
        pick(t.lang, &self.name_ru, &self.name_en)
    }
}

#[derive(Template)]
#[template(path = "stats.html")]
pub struct StatsPage {
    ctx: Ctx,
    total: crate::sla::stats::Aggregate,
    lines: Vec<StatsLine>,
}

/// How many days back the public statistics count.
const STATS_DAYS: i64 = 365;

async fn stats_page(state: web::Data<AppState>, request: HttpRequest) -> Page {
    let (_, ctx) = context(&state, &request).await?;
    let since = state.clock.now() - TimeDelta::days(STATS_DAYS);
    let (counted, names) = super::read(&state, &request, move |conn| {
        let filter = ReportFilter {
            created_from: Some(since),
            ..ReportFilter::default()
        };
        Ok((supervisor_db::outcomes(conn, &filter)?, departments(conn)?))
    })
    .await?;
    use crate::sla::stats::aggregate;
    let all: Vec<_> = counted.iter().map(|c| c.outcome.clone()).collect();
    let lines = supervisor_db::group_by(&counted, |c| c.department.clone())
        .into_iter()
        .map(|(code, outcomes)| {
            let named = names.iter().find(|d| d.code == code);
            StatsLine {
                name_ru: named.map_or(code.clone(), |d| d.name_ru.clone()),
                name_en: named.map_or(code.clone(), |d| d.name_en.clone()),
                numbers: aggregate(&outcomes),
            }
        })
        .collect();
    html(&StatsPage {
        ctx,
        total: aggregate(&all),
        lines,
    })
}

/// A path on this site to go on to (anything else, and nothing, is `/`).
fn local_path(path: Option<String>) -> String {
    path.filter(|p| p.starts_with('/') && !p.starts_with("//") && !p.contains('\\'))
        .unwrap_or_else(|| "/".into())
}

#[derive(Deserialize)]
pub struct Back {
    back: Option<String>,
}

/// The language switcher: remembers the choice in a cookie (a year) and goes
/// back to the page.
async fn switch_language(code: web::Path<String>, query: web::Query<Back>) -> HttpResponse {
    let locale = Locale::exact(&code).unwrap_or(Locale::Ru);
    let back = local_path(query.back.clone());
    HttpResponse::SeeOther()
        .insert_header((header::LOCATION, back))
        .cookie(
            actix_web::cookie::Cookie::build(LANG_COOKIE, locale.code())
                .path("/")
                .max_age(actix_web::cookie::time::Duration::days(365))
                .same_site(actix_web::cookie::SameSite::Lax)
                .finish(),
        )
        .finish()
}

/// The pages' own script and style, compiled into the binary.
const STATIC: &[(&str, &str, &str)] = &[
    (
        "gorod.css",
        "text/css; charset=utf-8",
        include_str!("../../../web/static/gorod.css"),
    ),
    (
        "gorod.js",
        "text/javascript; charset=utf-8",
        include_str!("../../../web/static/gorod.js"),
    ),
    (
        "map.js",
        "text/javascript; charset=utf-8",
        include_str!("../../../web/static/map.js"),
    ),
    (
        "file.js",
        "text/javascript; charset=utf-8",
        include_str!("../../../web/static/file.js"),
    ),
    (
        "dashboard.js",
        "text/javascript; charset=utf-8",
        include_str!("../../../web/static/dashboard.js"),
    ),
];

async fn static_file(name: web::Path<String>) -> Result<HttpResponse, ApiError> {
    let (_, mime, body) = STATIC
        .iter()
        .find(|(n, _, _)| *n == name.as_str())
        .ok_or_else(|| ApiError::NotFound(format!("there is no /static/{name}")))?;
    Ok(HttpResponse::Ok()
        .content_type(*mime)
        .insert_header((header::CACHE_CONTROL, "no-cache"))
        .body(*body))
}

/// A file of the front-end libraries. Only plain names below the folder are
/// served (letters, digits, `-`, `_`, `.`; at most two folders deep; no
/// name starting with a dot).
async fn vendor_file(
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let missing = || ApiError::NotFound(format!("there is no /vendor/{path}"));
    let plain = |part: &str| {
        !part.is_empty()
            && !part.starts_with('.')
            && part
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
    };
    let parts: Vec<&str> = path.split('/').collect();
    if parts.len() > 3 || !parts.iter().all(|p| plain(p)) {
        return Err(missing());
    }
    let file = state.web.vendor_dir.join(path.as_str());
    let mime = match file.extension().and_then(|e| e.to_str()) {
        Some("js") => "text/javascript; charset=utf-8",
        Some("css") => "text/css; charset=utf-8",
        Some("png") => "image/png",
        _ => return Err(missing()),
    };
    let body = web::block(move || std::fs::read(file))
        .await
        .map_err(|e| ApiError::Internal(Box::new(e)))?
        .map_err(|_| missing())?;
    Ok(HttpResponse::Ok()
        .content_type(mime)
        .insert_header((header::CACHE_CONTROL, "public, max-age=86400"))
        .body(body))
}
