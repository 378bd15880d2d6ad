//! Administration of the city's catalogue.

use actix_web::{delete, post, put, web, HttpRequest, HttpResponse};

use super::error::ErrorBody;
use super::{auth, db, parse_json, read_body, ApiError, AppState, MAX_AREAS_BYTES};
use crate::db::catalog::{self, ImportFailure};
use crate::routing;
use crate::sla::calendar::Target;
use crate::sla::schedule::{parse_percents, Policy};
use crate::sla::DayKind;

/// Import service areas (admins).
///
/// A GeoJSON FeatureCollection whose features carry `code`, `name`, optional
/// `serves` (department codes present in the area) and optional `overrides`
/// (`{category: department}`). Areas are created or replaced by code, all or
/// none; routing uses them at once.
#[utoipa::path(
    tag = "admin",
    request_body(content = Object, content_type = "application/geo+json", description = "A FeatureCollection"),
    responses(
        (status = 200, description = "What was created and updated", body = Object),
        (status = 400, description = "A feature is wrong (named); nothing changed", body = ErrorBody),
        (status = 401, description = "No valid API token", body = ErrorBody),
        (status = 403, description = "Not an admin", body = ErrorBody),
    ),
    security(("token" = []))
)]
#[post("/admin/service-areas")]
pub async fn import_service_areas(
    state: web::Data<AppState>,
    request: HttpRequest,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    auth::admin(&state, &request).await?;
    let body = read_body(payload, MAX_AREAS_BYTES).await?;
    let text =
        std::str::from_utf8(&body).map_err(|_| ApiError::invalid("body", "is not UTF-8 text"))?;
    let drafts = routing::parse_areas(text).map_err(|e| ApiError::invalid(e.field, e.message))?;
    let summary = db(&state, move |conn| {
        catalog::import_areas(conn, &drafts).map_err(|e| match e {
            ImportFailure::Invalid(e) => ApiError::invalid(e.field, e.message),
            ImportFailure::Db(e) => e.into(),
        })
    })
    .await?;
    state.catalog.invalidate();
    Ok(HttpResponse::Ok().json(summary))
}

/// A target: a positive count of a unit.
#[derive(Debug, serde::Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TargetInput {
    /// working_days, working_hours or calendar_days
    unit: String,
    value: i32,
}

/// An SLA policy's targets, replacing the current ones.
#[derive(Debug, serde::Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PolicyInput {
    moderation: TargetInput,
    answer: TargetInput,
    /// A fix target (work on the ground), or null
    fix: Option<TargetInput>,
    /// Calendar days the resident has to check an answer
    resident_check_days: i32,
    /// Percentages of a target at which warnings go out, each below 100
    warn_percents: Vec<u32>,
    /// Percentages at which escalation levels 1, 2, … are reached, from 100 up
    escalation_percents: Vec<u32>,
}

impl PolicyInput {
    fn check(self) -> Result<Policy, ApiError> {
        let target = |field: &str, t: &TargetInput| {
            Target::parse(&t.unit, t.value).map_err(|e| ApiError::invalid(field, e))
        };
        let percents = |field: &str, list: &[u32], range: std::ops::RangeInclusive<u32>| {
            let text = list
                .iter()
                .map(u32::to_string)
                .collect::<Vec<_>>()
                .join(",");
            let parsed = parse_percents(&text).map_err(|e| ApiError::invalid(field, e))?;
            match parsed.iter().find(|p| !range.contains(p)) {
                Some(p) => Err(ApiError::invalid(
                    field,
                    format!("{p} is outside {}–{}", range.start(), range.end()),
                )),
                None => Ok(parsed),
            }
        };
        Ok(Policy {
            moderation: target("moderation", &self.moderation)?,
            answer: target("answer", &self.answer)?,
            fix: self.fix.as_ref().map(|f| target("fix", f)).transpose()?,
            resident_check: Target::parse("calendar_days", self.resident_check_days)
                .map_err(|e| ApiError::invalid("resident_check_days", e))?,
            warn_percents: percents("warn_percents", &self.warn_percents, 1..=99)?,
            escalation_percents: percents(
                "escalation_percents",
                &self.escalation_percents,
                100..=1000,
            )?,
        })
    }
}

#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
pub struct RecountView {
    /// Open reports whose deadlines were worked out again
    reports_recounted: usize,
    /// Warnings, breaches and escalations the new deadlines brought due
    marks: usize,
}

/// After a catalogue change: every instance rebuilds its snapshot; this one
/// at once, and its scanner recounts the marked reports now.
async fn recount(state: &web::Data<AppState>, marked: usize) -> Result<HttpResponse, ApiError> {
    state.catalog.invalidate();
    let now = state.clock.now();
    let app = state.clone();
    let summary = db(state, move |conn| {
        let snapshot = app.catalog_snapshot(conn)?;
        Ok(crate::db::sla::scan(conn, &snapshot, now)?)
    })
    .await?;
    Ok(HttpResponse::Ok().json(RecountView {
        reports_recounted: marked,
        marks: summary.marks,
    }))
}

/// Replace an SLA policy's targets (admins); the deadlines of open reports
/// of its categories are worked out again at once.
#[utoipa::path(
    tag = "admin",
    params(("code" = String, Path, description = "The policy's code")),
    request_body = PolicyInput,
    responses(
        (status = 200, description = "Changed", body = RecountView),
        (status = 400, description = "A field is wrong (named); nothing changed", body = ErrorBody),
        (status = 401, description = "No valid API token", body = ErrorBody),
        (status = 403, description = "Not an admin", body = ErrorBody),
        (status = 404, description = "No such policy", body = ErrorBody),
    ),
    security(("token" = []))
)]
#[put("/admin/sla-policies/{code}")]
pub async fn update_policy(
    state: web::Data<AppState>,
    request: HttpRequest,
    code: web::Path<String>,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    auth::admin(&state, &request).await?;
    let body = read_body(payload, 64 << 10).await?;
    let policy = parse_json::<PolicyInput>(&body)?.check()?;
    let now = state.clock.now();
    let code = code.into_inner();
    let marked = db(&state, move |conn| {
        crate::db::sla::update_policy(conn, &code, &policy, now)?
            .ok_or_else(|| ApiError::NotFound(format!("there is no SLA policy '{code}'")))
    })
    .await?;
    recount(&state, marked).await
}

/// A dated calendar exception.
#[derive(Debug, serde::Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CalendarDayInput {
    /// holiday, day_off, working or shortened
    kind: String,
    note: Option<String>,
}

fn calendar_day(path: &(String, String)) -> Result<chrono::NaiveDate, ApiError> {
    chrono::NaiveDate::parse_from_str(&path.1, "%Y-%m-%d")
        .map_err(|_| ApiError::invalid("day", format!("'{}' is not a date (YYYY-MM-DD)", path.1)))
}

async fn change_day(
    state: &web::Data<AppState>,
    calendar: String,
    day: chrono::NaiveDate,
    entry: Option<(DayKind, String)>,
) -> Result<HttpResponse, ApiError> {
    let now = state.clock.now();
    let marked = db(state, move |conn| {
        crate::db::sla::set_calendar_day(conn, &calendar, day, entry, now)?
            .ok_or_else(|| ApiError::NotFound(format!("there is no calendar '{calendar}'")))
    })
    .await?;
    recount(state, marked).await
}

/// Declare a day a holiday, a day off, a working day or a shortened day in
/// a calendar (admins); deadlines of open reports are worked out again.
#[utoipa::path(
    tag = "admin",
    params(
        ("code" = String, Path, description = "The calendar's code"),
        ("day" = String, Path, description = "YYYY-MM-DD"),
    ),
    request_body = CalendarDayInput,
    responses(
        (status = 200, description = "Changed", body = RecountView),
        (status = 400, description = "A field is wrong (named); nothing changed", body = ErrorBody),
        (status = 401, description = "No valid API token", body = ErrorBody),
        (status = 403, description = "Not an admin", body = ErrorBody),
        (status = 404, description = "No such calendar", body = ErrorBody),
    ),
    security(("token" = []))
)]
#[put("/admin/calendars/{code}/days/{day}")]
pub async fn put_calendar_day(
    state: web::Data<AppState>,
    request: HttpRequest,
    path: web::Path<(String, String)>,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    auth::admin(&state, &request).await?;
    let day = calendar_day(&path)?;
    let body = read_body(payload, 16 << 10).await?;
    let input: CalendarDayInput = parse_json(&body)?;
    let kind: DayKind = input
        .kind
        .parse()
        .map_err(|e: String| ApiError::invalid("kind", e))?;
    let note = input.note.unwrap_or_default();
    change_day(&state, path.into_inner().0, day, Some((kind, note))).await
}

/// Remove a dated exception from a calendar (admins).
#[utoipa::path(
    tag = "admin",
    params(
        ("code" = String, Path, description = "The calendar's code"),
        ("day" = String, Path, description = "YYYY-MM-DD"),
    ),
    responses(
        (status = 200, description = "Removed (or there was none)", body = RecountView),
        (status = 400, description = "The day is not a date", body = ErrorBody),
        (status = 401, description = "No valid API token", body = ErrorBody),
        (status = 403, description = "Not an admin", body = ErrorBody),
        (status = 404, description = "No such calendar", body = ErrorBody),
    ),
    security(("token" = []))
)]
#[delete("/admin/calendars/{code}/days/{day}")]
pub async fn delete_calendar_day(
    state: web::Data<AppState>,
    request: HttpRequest,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, ApiError> {
    auth::admin(&state, &request).await?;
    let day = calendar_day(&path)?;
    change_day(&state, path.into_inner().0, day, None).await
}
