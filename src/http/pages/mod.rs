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
//! | `/objects/{id}` | everyone | a city object and its reports |
//! | `/search` | everyone | reports by words (staff: also by number and email, within their scope) |

mod admin;
mod places;
mod resident;
mod staff;
mod stats;

use crate::locale::Text;
use std::collections::BTreeMap;

use actix_web::http::header;
use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse, ResponseError};
use askama::Template;
use chrono::{NaiveDateTime, TimeDelta};
use serde::Deserialize;

use super::auth::{self, Caller};
use super::i18n::Texts;
use super::reports::{view_and_row, ReportView};
use super::{db, ApiError, AppState};
use crate::app::catalogue::CatalogSnapshot;
use crate::app::reports::ReportListing;
use crate::app::supervision::{self, Risk};
use crate::locale::Locale;
use crate::policy::Permission;
use crate::reports::questions::Question;
use crate::workflow::{self, Actor};

pub use super::requests::LANG_COOKIE;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/", web::get().to(resident::map_page))
        .route("/new", web::get().to(resident::file_page))
        .route("/reports/{number}", web::get().to(resident::report_page))
        .route("/my", web::get().to(resident::my_page))
        .route("/settings", web::get().to(resident::settings_page))
        .route("/login", web::get().to(resident::login_page))
        .route("/register", web::get().to(resident::register_page))
        .route("/reset", web::get().to(resident::reset_page))
        .route("/queue", web::get().to(staff::queue_page))
        .route("/dashboard", web::get().to(staff::dashboard_page))
        .route("/stats", web::get().to(stats::stats_page))
        .route("/open-data", web::get().to(stats::open_data_page))
        .route("/alerts", web::get().to(resident::alerts_page))
        .route("/objects/{id}", web::get().to(places::object_page))
        .route("/search", web::get().to(places::search_page))
        .route("/admin/audit", web::get().to(admin::audit_page))
        .route("/admin/catalogue", web::get().to(admin::catalogue_page))
        .route("/admin/canned", web::get().to(admin::canned_page))
        .route("/lang/{code}", web::get().to(switch_language))
        .route("/static/{name}", web::get().to(static_file))
        .route("/vendor/{path:.*}", web::get().to(vendor_file));
}

pub use super::html::{urlencode, Ctx, NavUser, Value};

pub use crate::locale::pick;

/// Who is looking and how the page speaks to them.
async fn context(
    state: &web::Data<AppState>,
    request: &HttpRequest,
) -> Result<(Caller, Ctx), PageError> {
    let caller = auth::caller(state, request).await?;
    let csrf = caller.csrf_token();
    let user = match (caller.who.user_id.clone(), caller.role()) {
        (Some(id), Some(role)) => db(state, move |conn| {
            Ok(crate::app::accounts::by_id(conn, &id)?)
        })
        .await?
        .map(|login| NavUser {
            email: login.email,
            role,
        }),
        _ => None,
    };
    // The language is known now that the caller is: `?lang=`, the
    // switcher's cookie, the account's language, `Accept-Language`, Russian.
    Ok((caller, Ctx::new(user, csrf, state.time_zone)))
}

/// A page that could not be shown: the login page for a page that needs a
/// login, else the error page in the request's language.
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
    /// The code of the group it is listed under.
    pub group: String,
    pub name_ru: String,
    pub name_en: String,
    pub questions: Vec<Question>,
}

impl CategoryItem {
    pub fn name(&self, t: &Texts) -> &str {
        pick(t.lang, &self.name_ru, &self.name_en)
    }
}

/// A group of categories as the filing form lists it.
pub struct CategoryGroup {
    pub code: String,
    pub name_ru: String,
    pub name_en: String,
    /// Its categories: code and names.
    pub members: Vec<(String, String, String)>,
}

impl CategoryGroup {
    pub fn name(&self, t: &Texts) -> &str {
        pick(t.lang, &self.name_ru, &self.name_en)
    }
}

/// The categories under their groups: named groups in their order, then
/// any group without a name (under its code); categories keep their order
/// within a group.
fn grouped(
    categories: &[CategoryItem],
    named: Vec<crate::app::catalogue::CategoryGroupRow>,
) -> Vec<CategoryGroup> {
    let mut groups: Vec<CategoryGroup> = named
        .into_iter()
        .map(|g| CategoryGroup {
            code: g.code,
            name_ru: g.name_ru,
            name_en: g.name_en,
            members: Vec::new(),
        })
        .collect();
    for c in categories {
        let at = match groups.iter().position(|g| g.code == c.group) {
            Some(at) => at,
            None => {
                groups.push(CategoryGroup {
                    code: c.group.clone(),
                    name_ru: c.group.clone(),
                    name_en: c.group.clone(),
                    members: Vec::new(),
                });
                groups.len() - 1
            }
        };
        groups[at]
            .members
            .push((c.code.clone(), c.name_ru.clone(), c.name_en.clone()));
    }
    groups.retain(|g| !g.members.is_empty());
    groups
}

/// The active categories, in the catalogue's order.
fn categories(conn: &mut crate::app::Connection) -> Result<Vec<CategoryItem>, ApiError> {
    let listed = crate::app::catalogue::categories(conn)?;
    Ok(listed
        .into_iter()
        .map(|c| {
            let questions = serde_json::from_str(&c.category.attributes).unwrap_or_default();
            CategoryItem {
                code: c.category.code,
                group: c.category.group_code,
                name_ru: c.category.name_ru,
                name_en: c.category.name_en,
                questions,
            }
        })
        .collect())
}

/// The categories and the districts, for the pages that offer both.
async fn categories_and_areas(
    state: &web::Data<AppState>,
    request: &HttpRequest,
) -> Result<(Vec<CategoryItem>, Vec<(String, String, String)>), ApiError> {
    let app = state.clone();
    crate::http::read(state, request, move |conn| {
        let snapshot = app.catalog_snapshot(conn)?;
        Ok((categories(conn)?, area_choices(&snapshot)))
    })
    .await
}

/// The districts to choose from: code, name in Russian and in English.
fn area_choices(snapshot: &CatalogSnapshot) -> Vec<(String, String, String)> {
    snapshot
        .map
        .areas()
        .iter()
        .map(|a| {
            (
                a.code.clone(),
                a.name.clone(),
                area_name_en(snapshot, &a.code),
            )
        })
        .collect()
}

/// A district's English name (empty when it has none: pages fall back to
/// the Russian one).
fn area_name_en(snapshot: &CatalogSnapshot, code: &str) -> String {
    snapshot
        .names
        .areas
        .get(code)
        .map(|(_, en)| en.clone())
        .unwrap_or_default()
}

/// Where the map opens: around every service area.
fn city_bounds(snapshot: &CatalogSnapshot) -> [[f64; 2]; 2] {
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
    max_zoom: u8,
    bounds: [[f64; 2]; 2],
}

fn map_setup(state: &AppState, snapshot: &CatalogSnapshot) -> MapSetup {
    MapSetup::around(state, city_bounds(snapshot))
}

impl MapSetup {
    /// A map of `bounds` with the configured tiles.
    fn around(state: &AppState, bounds: [[f64; 2]; 2]) -> MapSetup {
        MapSetup {
            tile_url: state.map.tile_url.clone(),
            attribution: state.map.attribution.clone(),
            max_zoom: state.map.max_zoom,
            bounds,
        }
    }
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

fn departments(conn: &mut crate::app::Connection) -> Result<Vec<DepartmentItem>, ApiError> {
    Ok(crate::app::catalogue::departments(conn)?
        .into_iter()
        .map(|d| DepartmentItem {
            code: d.code,
            name_ru: d.name_ru,
            name_en: d.name_en,
        })
        .collect())
}

/// A report in a table.
pub struct Row {
    pub id: String,
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
    /// One-click moves offered beside it (the queue's).
    pub moves: Vec<&'static str>,
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
        r: crate::app::reports::ReportRow,
        (category_ru, category_en): (String, String),
        (department_ru, department_en): (String, String),
        risk: Option<Risk>,
    ) -> Row {
        Row {
            deadline: supervision::current_due(&r),
            id: r.id,
            number: r.number,
            status: r.status,
            category_ru,
            category_en,
            department_ru,
            department_en,
            address: r.address.unwrap_or_default(),
            risk: risk.map_or("ok", Risk::as_str),
            escalation_level: r.escalation_level,
            moves: Vec::new(),
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
        w: supervision::Watched,
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
        .cookie(super::requests::language_cookie(locale))
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
        "place.js",
        "text/javascript; charset=utf-8",
        include_str!("../../../web/static/place.js"),
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
        .ok_or_else(|| {
            ApiError::NotFound(Text::new(
                format!("нет /static/{name}"),
                format!("there is no /static/{name}"),
            ))
        })?;
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
    let missing = || {
        ApiError::NotFound(Text::new(
            format!("нет /vendor/{path}"),
            format!("there is no /vendor/{path}"),
        ))
    };
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
