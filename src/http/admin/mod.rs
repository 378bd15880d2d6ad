//! Administration of the city's catalogue.

use crate::locale::Text;
use crate::reports::ValidationError;
use actix_web::{delete, post, put, web, HttpRequest, HttpResponse};

use super::auth::Caller;
use super::error::ErrorBody;
use super::{audit, auth, db, parse_json, read_body, ApiError, AppState, MAX_AREAS_BYTES};
use crate::app::catalogue::{
    self, CalendarRow, CategoryChange, DepartmentChange, PolicyChange, Put,
};
use crate::policy::Permission;
use crate::routing;
use crate::sla::calendar::Target;
use crate::sla::schedule::{parse_percents, Policy};
use crate::sla::DayKind;

mod units;
pub use units::*;

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
    let caller = auth::authorize(&state, &request, Permission::ManageCatalog).await?;
    let body = read_body(payload, MAX_AREAS_BYTES).await?;
    let text = std::str::from_utf8(&body).map_err(|_| ApiError::not_utf8("body"))?;
    let drafts = routing::parse_areas(text).map_err(|e| ApiError::invalid(e.field, e.message))?;
    let app = state.services.clone();
    let summary = db(&state, move |conn| {
        Ok(catalogue::import_areas(&app, conn, &drafts)?)
    })
    .await?;
    let after = serde_json::to_value(&summary).ok();
    audit::record(
        &state,
        &request,
        &caller,
        "service_areas.import",
        ("service_areas", None),
        None,
        after,
    )
    .await?;
    Ok(HttpResponse::Ok().json(summary))
}

/// A target: a positive count of a unit.
#[derive(Debug, serde::Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TargetInput {
    /// working_days, working_hours or calendar_days
    #[schema(schema_with = crate::http::contract::target_unit)]
    unit: String,
    #[schema(minimum = 1)]
    value: i32,
}

/// An SLA policy's targets, replacing the current ones.
#[derive(Debug, serde::Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PolicyInput {
    /// Its name (required to create a policy)
    name: Option<String>,
    /// The code of its working calendar (required to create a policy)
    calendar: Option<String>,
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
                    Text::new(
                        format!("{p} вне пределов {}–{}", range.start(), range.end()),
                        format!("{p} is outside {}–{}", range.start(), range.end()),
                    ),
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
    let app = state.services.clone();
    let marks = db(state, move |conn| Ok(catalogue::recount(&app, conn)?)).await?;
    Ok(HttpResponse::Ok().json(RecountView {
        reports_recounted: marked,
        marks,
    }))
}

/// Create an SLA policy, or replace its targets (admins); the deadlines of
/// open reports of its categories are worked out again at once.
#[utoipa::path(
    tag = "admin",
    params(("code" = String, Path, description = "The policy's code")),
    request_body = PolicyInput,
    responses(
        (status = 200, description = "Changed", body = RecountView),
        (status = 201, description = "Created", body = RecountView),
        (status = 400, description = "A field is wrong (named); nothing changed", body = ErrorBody),
        (status = 401, description = "No valid API token", body = ErrorBody),
        (status = 403, description = "Not an admin", body = ErrorBody),
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
    let caller = auth::authorize(&state, &request, Permission::ManageCatalog).await?;
    let body = read_body(payload, 64 << 10).await?;
    let input = parse_json::<PolicyInput>(&body)?;
    let name = crate::reports::optional_text("name", input.name.clone(), 200)?;
    let calendar = input.calendar.clone();
    let policy = input.check()?;
    let code = code.into_inner();
    let change = PolicyChange {
        code: code.clone(),
        name,
        calendar,
        policy,
    };
    let app = state.services.clone();
    let Put {
        before,
        after,
        marked,
    } = db(&state, move |conn| {
        Ok(catalogue::put_policy(&app, conn, change)?)
    })
    .await?;
    let object = ("sla_policy", code);
    let created = audit_put(
        &state,
        (&request, &caller),
        object,
        as_json(&before),
        as_json(&after),
    )
    .await?;
    recounted(&state, created, marked).await
}

/// A working calendar's week, created or replaced by its code.
#[derive(Debug, serde::Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CalendarInput {
    #[schema(schema_with = crate::http::contract::short_text)]
    name: String,
    /// e.g. Europe/Moscow
    time_zone: String,
    /// ISO weekday numbers, 1 = Monday … 7 = Sunday
    #[schema(schema_with = crate::http::contract::weekdays)]
    weekly_days_off: Vec<u8>,
    /// HH:MM
    #[schema(schema_with = crate::http::contract::clock_time)]
    work_starts: String,
    /// HH:MM
    #[schema(schema_with = crate::http::contract::clock_time)]
    work_ends: String,
}

/// Create a working calendar or replace its week (admins); the deadlines of
/// open reports on it are worked out again. Dated exceptions are set one by
/// one below.
#[utoipa::path(
    tag = "admin",
    params(("code" = String, Path, description = "The calendar's code")),
    request_body = CalendarInput,
    security(("token" = [])),
    responses(
        (status = 200, description = "Replaced", body = RecountView),
        (status = 201, description = "Created", body = RecountView),
        (status = 400, description = "A field is wrong (named); nothing changed", body = ErrorBody),
        (status = 401, description = "Not logged in", body = ErrorBody),
        (status = 403, description = "Not an admin", body = ErrorBody),
    )
)]
#[put("/admin/calendars/{code}")]
pub async fn put_calendar(
    state: web::Data<AppState>,
    request: HttpRequest,
    code: web::Path<String>,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let caller = auth::authorize(&state, &request, Permission::ManageCatalog).await?;
    let code = code.into_inner();
    catalogue::check_code(&code)?;
    let input: CalendarInput = parse_json(&read_body(payload, 16 << 10).await?)?;
    let row = CalendarRow {
        id: String::new(),
        code: code.clone(),
        name: name("name", &input.name)?,
        time_zone: input.time_zone.trim().to_string(),
        weekly_days_off: input
            .weekly_days_off
            .iter()
            .map(u8::to_string)
            .collect::<Vec<_>>()
            .join(","),
        work_starts: input.work_starts.trim().to_string(),
        work_ends: input.work_ends.trim().to_string(),
    };
    let app = state.services.clone();
    let Put {
        before,
        after,
        marked,
    } = db(&state, move |conn| {
        Ok(catalogue::put_calendar(&app, conn, row)?)
    })
    .await?;
    let after = serde_json::to_value(&after).ok();
    let object = ("calendar", code);
    let created = audit_put(&state, (&request, &caller), object, as_json(&before), after).await?;
    recounted(&state, created, marked).await
}

/// A dated calendar exception.
#[derive(Debug, serde::Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CalendarDayInput {
    /// holiday, day_off, working or shortened
    #[schema(schema_with = crate::http::contract::day_kind)]
    kind: String,
    note: Option<String>,
}

fn calendar_day(path: &(String, String)) -> Result<chrono::NaiveDate, ApiError> {
    chrono::NaiveDate::parse_from_str(&path.1, "%Y-%m-%d")
        .map_err(|_| ApiError::from(ValidationError::not_a_date("day", &path.1)))
}

async fn change_day(
    state: &web::Data<AppState>,
    (request, caller): (&HttpRequest, &Caller),
    calendar: String,
    day: chrono::NaiveDate,
    entry: Option<(DayKind, String)>,
) -> Result<HttpResponse, ApiError> {
    let (app, code) = (state.services.clone(), calendar.clone());
    let Put {
        before,
        after,
        marked,
    } = db(state, move |conn| {
        Ok(catalogue::set_calendar_day(&app, conn, &code, day, entry)?)
    })
    .await?;
    audit::record(
        state,
        request,
        caller,
        "calendar_day.set",
        ("calendar_day", Some(format!("{calendar}/{day}"))),
        as_json(&before),
        as_json(&after),
    )
    .await?;
    recount(state, marked).await
}

/// A row as the audit log keeps it (`None`: there was none).
pub(super) fn as_json<T: serde::Serialize>(row: &Option<T>) -> Option<serde_json::Value> {
    row.as_ref().and_then(|r| serde_json::to_value(r).ok())
}

/// Declare a day a holiday, a day off, a working day or a shortened day in
/// a calendar (admins); deadlines of open reports are worked out again.
#[utoipa::path(
    tag = "admin",
    params(
        ("code" = String, Path, description = "The calendar's code"),
        ("day" = String, Path, format = Date, description = "YYYY-MM-DD"),
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
    let caller = auth::authorize(&state, &request, Permission::ManageCatalog).await?;
    let day = calendar_day(&path)?;
    let body = read_body(payload, 16 << 10).await?;
    let input: CalendarDayInput = parse_json(&body)?;
    let kind: DayKind = input
        .kind
        .parse()
        .map_err(|e| ApiError::invalid("kind", e))?;
    let note = input.note.unwrap_or_default();
    change_day(
        &state,
        (&request, &caller),
        path.into_inner().0,
        day,
        Some((kind, note)),
    )
    .await
}

/// Remove a dated exception from a calendar (admins).
#[utoipa::path(
    tag = "admin",
    params(
        ("code" = String, Path, description = "The calendar's code"),
        ("day" = String, Path, format = Date, description = "YYYY-MM-DD"),
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
    let caller = auth::authorize(&state, &request, Permission::ManageCatalog).await?;
    let day = calendar_day(&path)?;
    change_day(&state, (&request, &caller), path.into_inner().0, day, None).await
}

/// Records a create-or-replace by code in the audit log (`kind.create` or
/// `kind.update`); whether it created.
async fn audit_put(
    state: &web::Data<AppState>,
    (request, caller): (&HttpRequest, &Caller),
    (kind, code): (&'static str, String),
    before: Option<serde_json::Value>,
    after: Option<serde_json::Value>,
) -> Result<bool, ApiError> {
    let created = before.is_none();
    let action = format!("{kind}.{}", if created { "create" } else { "update" });
    audit::record(
        state,
        request,
        caller,
        action,
        (kind, Some(code)),
        before,
        after,
    )
    .await?;
    Ok(created)
}

/// The answer to a changed SLA policy or calendar: a new one (no report
/// uses it yet) is 201, a changed one recounts the open reports on it.
async fn recounted(
    state: &web::Data<AppState>,
    created: bool,
    marked: usize,
) -> Result<HttpResponse, ApiError> {
    if !created {
        return recount(state, marked).await;
    }
    state.catalog.invalidate();
    Ok(HttpResponse::Created().json(RecountView {
        reports_recounted: 0,
        marks: 0,
    }))
}

/// The answer to a create-or-replace of a department or category, once the
/// caches are told and the audit log has it: 201 with the row, or 200.
async fn put_answer<T: serde::Serialize>(
    state: &web::Data<AppState>,
    who: (&HttpRequest, &Caller),
    object: (&'static str, String),
    before: Option<T>,
    after: Option<T>,
) -> Result<HttpResponse, ApiError> {
    let after = serde_json::to_value(&after).ok();
    let created = audit_put(state, who, object, as_json(&before), after.clone()).await?;
    Ok(if created {
        HttpResponse::Created().json(after)
    } else {
        HttpResponse::Ok().json(after)
    })
}

fn name(field: &str, text: &str) -> Result<String, ApiError> {
    crate::reports::optional_text(field, Some(text.to_string()), 200)?
        .ok_or_else(|| ValidationError::required(field).into())
}
