//! HTTP: routes, the error policy (`error`), JSON input parsing with field
//! names, and thin handlers that parse input into domain types, call the
//! domain and `db`, and shape the answer. Nothing here knows SQL.

pub mod access;
pub mod account;
pub mod admin;
pub mod alerts;
pub mod audit;
pub mod auth;
pub mod back_office;
pub mod body;
pub use body::{parse_json, read_body, MAX_JSON_DEPTH};
pub mod canned;
pub mod catalog;
pub mod check;
pub mod contract;
pub mod error;
pub mod evidence;
pub mod export;
pub mod feeds;
pub mod filing;
pub mod filters;
pub mod geodata;
pub mod health;
pub mod html;
pub mod i18n;
pub mod idempotency;
pub mod ledger;
pub mod mail;
pub mod map;
pub mod media;
pub mod metrics;
pub mod moderation;
pub mod open311;
pub mod open_data;
pub mod pages;
pub mod pending;
pub mod reports;
pub mod requests;
pub mod supervisor;
pub mod throttle;
pub mod updates;
pub mod workflow;

use crate::locale::Text;
use actix_web::{get, web, HttpResponse};

use crate::app::writer::FilingWriter;
pub use error::ApiError;
pub use metrics::Metrics;

/// What every handler may reach: the application's services (through
/// `Deref`, so `state.pool` reads as before) and what only HTTP needs.
pub struct AppState {
    pub services: std::sync::Arc<crate::app::Services>,
    /// Commits filings in groups (its checks live in `filing`).
    pub writer: FilingWriter<ApiError>,
    /// Open311 POSTs per key, counted here before they reach the database.
    pub open311_posts: crate::app::limits::Tally,
    pub sessions: SessionRules,
    /// Proxies whose `X-Forwarded-For` and `X-Request-Id` are believed.
    pub trusted_proxies: Vec<std::net::IpAddr>,
    pub web: crate::config::WebSettings,
    pub map: crate::config::MapSettings,
}

impl AsRef<crate::app::Services> for AppState {
    fn as_ref(&self) -> &crate::app::Services {
        &self.services
    }
}

impl crate::app::back_office::PublicReports for AppState {
    fn public_report(
        &self,
        conn: &mut crate::app::Connection,
        report_id: &str,
    ) -> Result<Option<serde_json::Value>, crate::app::DbError> {
        let read = crate::app::reports::read(&self.services, conn, report_id, |_, _| false)?;
        let Some(read) = read else { return Ok(None) };
        let view = reports::ReportView::new(
            self,
            read.detail,
            read.photos,
            read.clocks,
            (&read.names, &read.updates, read.edits, &read.photo_checks),
        )
        .map_err(|e| crate::app::DbError::Corrupt(e.to_string()))?;
        Ok(serde_json::to_value(view).ok())
    }
}

impl std::ops::Deref for AppState {
    type Target = crate::app::Services;

    fn deref(&self) -> &crate::app::Services {
        &self.services
    }
}

/// Session timeouts and the cookie's Secure flag.
#[derive(Debug, Clone, Copy)]
pub struct SessionRules {
    pub limits: crate::app::accounts::Limits,
    pub secure_cookies: bool,
}

/// The largest service-area import accepted (detailed district outlines of a
/// whole city fit well within it).
pub const MAX_AREAS_BYTES: usize = 16 << 20;

/// The JSON API's OpenAPI document: its paths and schemas are collected
/// from the handlers registered in `api_v1`, so it cannot drift from them.
#[derive(utoipa::OpenApi)]
#[openapi(
    info(title = "Gorod API", version = "1", description = "Civic issue reports: filing, routing, duplicates and the map."),
    modifiers(&BearerToken)
)]
pub struct ApiDoc;

struct BearerToken;

impl utoipa::Modify for BearerToken {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "token",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
    }
}

/// Everything under `/api/v1`, registered through utoipa so that each route
/// is in the OpenAPI document. Order matters: `/reports/nearby` before
/// `/reports/{id}`.
pub fn api_v1(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(account::register)
        .service(account::verify_page)
        .service(account::verify)
        .service(account::log_in)
        .service(account::me)
        .service(account::log_out)
        .service(account::change_password)
        .service(account::delete_account)
        .service(account::request_reset)
        .service(account::reset_page)
        .service(account::reset)
        .service(account::totp_enrol)
        .service(account::totp_confirm)
        .service(account::settings)
        .service(account::change_settings)
        .service(pending::confirm_page)
        .service(pending::confirm)
        .service(pending::confirm_support_page)
        .service(pending::confirm_support)
        .service(alerts::subscribe)
        .service(alerts::confirm_page)
        .service(alerts::confirm)
        .service(alerts::unsubscribe_page)
        .service(alerts::unsubscribe)
        .service(audit::list)
        .service(reports::create)
        .service(reports::list)
        .service(reports::nearby)
        .service(reports::search)
        .service(reports::show)
        .service(reports::support)
        .service(updates::follow)
        .service(updates::unfollow)
        .service(updates::add)
        .service(updates::waiting)
        .service(updates::decide)
        .service(moderation::edit)
        .service(moderation::hide_name)
        .service(map::map)
        .service(geodata::geocode)
        .service(geodata::reverse)
        .service(geodata::near)
        .service(catalog::categories)
        .service(catalog::departments)
        .service(admin::import_service_areas)
        .service(admin::update_policy)
        .service(admin::put_calendar)
        .service(admin::put_calendar_day)
        .service(admin::delete_calendar_day)
        .service(admin::put_department)
        .service(admin::put_category)
        .service(admin::put_category_group)
        .service(access::list_staff)
        .service(access::create_staff)
        .service(access::set_role)
        .service(access::disable)
        .service(access::enable)
        .service(access::list_keys)
        .service(access::create_key)
        .service(access::revoke_key)
        .service(workflow::act)
        .service(workflow::bulk)
        .service(canned::list)
        .service(canned::create)
        .service(canned::replace)
        .service(canned::remove)
        .service(workflow::note)
        .service(workflow::scan)
        .service(supervisor::watch)
        .service(supervisor::stats)
        .service(mail::unsubscribe_page)
        .service(mail::unsubscribe_one_click)
        .service(mail::list_outbox)
        .service(mail::requeue)
        .service(mail::queue_digest)
        .service(back_office::put_department_endpoint)
        .service(back_office::put_category_endpoint)
        .service(back_office::list_endpoints)
        .service(back_office::delete_endpoint)
        .service(back_office::create_webhook)
        .service(back_office::list_webhooks)
        .service(back_office::rotate_webhook)
        .service(back_office::delete_webhook)
        .service(back_office::list_deliveries)
        .service(back_office::requeue_delivery)
        .service(back_office::report_back_office)
        .service(back_office::office_link_page)
        .service(back_office::office_answer)
        .service(check::check)
        .service(check::link_page)
        .service(check::link_answer)
        .service(evidence::held_answers)
        .service(evidence::decide_held)
        .service(ledger::key)
        .service(ledger::checkpoints)
        .service(ledger::latest_checkpoint)
        .service(ledger::sign)
        .service(ledger::inclusion)
        .service(ledger::consistency)
        .service(ledger::verify)
        .service(ledger::export)
        .service(ledger::log_checkpoint)
        .service(ledger::log_tile)
        .service(ledger::log_cosignature)
        .service(openapi_json);
}

/// This API's OpenAPI 3 document.
#[utoipa::path(tag = "meta", responses((status = 200, description = "The OpenAPI document", body = Object)))]
#[get("/openapi.json")]
async fn openapi_json(doc: web::Data<utoipa::openapi::OpenApi>) -> HttpResponse {
    HttpResponse::Ok().json(doc.get_ref())
}

/// Everything outside `/api/v1`.
pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.configure(pages::routes)
        .route("/healthz", web::get().to(health::healthz))
        .route("/readyz", web::get().to(health::readyz))
        .route("/metrics", web::get().to(metrics::render))
        .route("/media/{name}", web::get().to(media::serve))
        .route("/feeds/reports.atom", web::get().to(feeds::reports))
        .route("/reports/{number}/feed.atom", web::get().to(feeds::report))
        .route("/open-data/reports.csv", web::get().to(open_data::csv))
        .route(
            "/open-data/reports.geojson",
            web::get().to(open_data::geojson),
        )
        .route(
            "/open-data/daily/reports.csv",
            web::get().to(open_data::daily_csv),
        )
        .route(
            "/open-data/daily/reports.geojson",
            web::get().to(open_data::daily_geojson),
        )
        .service(
            web::scope("/open311/v2")
                .route(
                    "/services/{name}",
                    web::get().to(open311::service_definition),
                )
                .route("/requests/{name}", web::get().to(open311::request))
                .route("/tokens/{name}", web::get().to(open311::token))
                .route("/{name}", web::get().to(open311::get_resource))
                .route("/{name}", web::post().to(open311::post_resource))
                .default_service(web::to(open311::not_found)),
        )
        .default_service(web::to(not_found));
}

/// Nothing here: a page in the site's layout for a browser, the JSON error
/// for everyone else (and for anything under `/api/`).
async fn not_found(request: actix_web::HttpRequest) -> HttpResponse {
    use actix_web::ResponseError;
    let error = ApiError::NotFound(Text::new(
        "по этому адресу ничего нет",
        "there is nothing at this address",
    ));
    let browser = request
        .headers()
        .get(actix_web::http::header::ACCEPT)
        .and_then(|a| a.to_str().ok())
        .is_some_and(|a| a.contains("text/html"));
    if browser && !request.path().starts_with("/api/") {
        return html::error_page(&error);
    }
    match allowed_methods(&request) {
        Some(allow) => {
            let mut answer = ApiError::MethodNotAllowed(Text::new(
                format!("по этому адресу можно только {allow}"),
                format!("this address takes only {allow}"),
            ))
            .error_response();
            if let Ok(value) = actix_web::http::header::HeaderValue::from_str(&allow) {
                answer
                    .headers_mut()
                    .insert(actix_web::http::header::ALLOW, value);
            }
            answer
        }
        None => error.error_response(),
    }
}

/// The methods the API document declares for the request's path when the
/// request used another one (a 405 names them in `Allow`).
fn allowed_methods(request: &actix_web::HttpRequest) -> Option<String> {
    let api = request.app_data::<web::Data<utoipa::openapi::OpenApi>>()?;
    let asked: Vec<&str> = request.path().trim_end_matches('/').split('/').collect();
    let item = api.paths.paths.iter().find_map(|(template, item)| {
        let parts: Vec<&str> = template.split('/').collect();
        let fits = parts.len() == asked.len()
            && parts
                .iter()
                .zip(&asked)
                .all(|(p, a)| (p.starts_with('{') && !a.is_empty()) || p == a);
        fits.then_some(item)
    })?;
    let methods: Vec<&str> = [
        ("GET", item.get.is_some()),
        ("HEAD", item.get.is_some()),
        ("POST", item.post.is_some()),
        ("PUT", item.put.is_some()),
        ("DELETE", item.delete.is_some()),
        ("PATCH", item.patch.is_some()),
    ]
    .into_iter()
    .filter_map(|(name, declared)| declared.then_some(name))
    .collect();
    (!methods.is_empty() && !methods.contains(&request.method().as_str()))
        .then(|| methods.join(", "))
}

/// The language the request's `Accept-Language` prefers, if Gorod speaks it.
pub fn accept_language(request: &actix_web::HttpRequest) -> Option<crate::locale::Locale> {
    request
        .headers()
        .get(actix_web::http::header::ACCEPT_LANGUAGE)
        .and_then(|v| v.to_str().ok())
        .and_then(crate::locale::Locale::from_accept_language)
}

/// Security headers on every answer: nothing from other origins runs or
/// frames this site, types are not sniffed, links carry no referrer (some
/// addresses hold a signed token).
pub fn security_headers() -> actix_web::middleware::DefaultHeaders {
    actix_web::middleware::DefaultHeaders::new()
        .add((
            "Content-Security-Policy",
            "default-src 'self'; img-src 'self' data: https:; object-src 'none'; \
             base-uri 'self'; form-action 'self'; frame-ancestors 'none'",
        ))
        .add(("X-Content-Type-Options", "nosniff"))
        .add(("X-Frame-Options", "DENY"))
        .add(("Referrer-Policy", "no-referrer"))
        .add(("Cross-Origin-Opener-Policy", "same-origin"))
        .add((
            "Permissions-Policy",
            "geolocation=(self), camera=(), microphone=()",
        ))
}

/// A cookie set on every successful write (for a few seconds): its holder
/// reads from the primary, so the page they land on shows what they wrote
/// even before the replica has it.
pub const WROTE_COOKIE: &str = "gorod_wrote";
pub const WROTE_SECS: i64 = 15;

/// Whether this request must read from the primary: it carries a session
/// or a token (staff and residents look at their own work), or its sender
/// wrote something moments ago.
fn reads_own_writes(request: &actix_web::HttpRequest) -> bool {
    request
        .headers()
        .contains_key(actix_web::http::header::AUTHORIZATION)
        || request.cookie(auth::SESSION_COOKIE).is_some()
        || request.cookie(WROTE_COOKIE).is_some()
}

/// Runs a public read: on the replica when there is one serving and the
/// caller needs nothing it may lack (see [`reads_own_writes`]), else on
/// the primary.
pub async fn read<T, F>(
    state: &AppState,
    request: &actix_web::HttpRequest,
    work: F,
) -> Result<T, ApiError>
where
    F: FnOnce(&mut crate::app::Connection) -> Result<T, ApiError> + Send + 'static,
    T: Send + 'static,
{
    if reads_own_writes(request) {
        return db(state, work).await;
    }
    public_read(state, work).await
}

/// Runs a read anyone may make and nobody needs fresher than the replica
/// keeps it (Open311's GETs, which carry no session): on the replica when
/// one is serving, else on the primary.
pub async fn public_read<T, F>(state: &AppState, work: F) -> Result<T, ApiError>
where
    F: FnOnce(&mut crate::app::Connection) -> Result<T, ApiError> + Send + 'static,
    T: Send + 'static,
{
    crate::app::run(state.reads.pool(), work).await
}

/// Middleware: a successful write marks its sender for [`read`] (a short
/// cookie), when a replica is configured.
pub async fn mark_writers(
    req: actix_web::dev::ServiceRequest,
    next: actix_web::middleware::Next<impl actix_web::body::MessageBody>,
) -> Result<actix_web::dev::ServiceResponse<impl actix_web::body::MessageBody>, actix_web::Error> {
    let writes = !matches!(
        *req.method(),
        actix_web::http::Method::GET | actix_web::http::Method::HEAD
    );
    let replicated = req
        .app_data::<web::Data<AppState>>()
        .is_some_and(|s| s.reads.has_replica());
    let mut response = next.call(req).await?;
    if writes && replicated && response.status().is_success() {
        let cookie = actix_web::cookie::Cookie::build(WROTE_COOKIE, "1")
            .path("/")
            .http_only(true)
            .same_site(actix_web::cookie::SameSite::Lax)
            .max_age(actix_web::cookie::time::Duration::seconds(WROTE_SECS))
            .finish();
        let _ = response.response_mut().add_cookie(&cookie);
    }
    Ok(response)
}

/// Runs database work for a handler.
pub async fn db<T, F>(state: &AppState, work: F) -> Result<T, ApiError>
where
    F: FnOnce(&mut crate::app::Connection) -> Result<T, ApiError> + Send + 'static,
    T: Send + 'static,
{
    crate::app::run(&state.pool, work).await
}
