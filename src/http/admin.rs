//! Administration of the city's catalogue.

use actix_web::{delete, post, put, web, HttpRequest, HttpResponse};

use super::auth::Caller;
use super::error::ErrorBody;
use super::{audit, auth, db, parse_json, read_body, ApiError, AppState, MAX_AREAS_BYTES};
use crate::db::admin as admin_db;
use crate::db::catalog::{self, ImportFailure};
use crate::policy::Permission;
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
    let caller = auth::authorize(&state, &request, Permission::ManageCatalog).await?;
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
    unit: String,
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
        Ok(crate::app::clocks::scan(conn, &snapshot, now)?)
    })
    .await?;
    Ok(HttpResponse::Ok().json(RecountView {
        reports_recounted: marked,
        marks: summary.marks,
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
    let now = state.clock.now();
    let code = code.into_inner();
    let key = code.clone();
    let (marked, before, after) = db(&state, move |conn| {
        let before = admin_db::sla_policy(conn, &key)?;
        let marked = match &before {
            Some(_) => crate::db::sla::update_policy(conn, &key, &policy, now)?.unwrap_or(0),
            None => {
                catalog_code(&key)?;
                let name = name
                    .ok_or_else(|| ApiError::invalid("name", "is required to create a policy"))?;
                let calendar = calendar.ok_or_else(|| {
                    ApiError::invalid("calendar", "is required to create a policy")
                })?;
                let calendar_id = admin_db::calendar_id(conn, &calendar)?.ok_or_else(|| {
                    ApiError::invalid("calendar", format!("'{calendar}' is not a calendar"))
                })?;
                crate::db::sla::create_policy(conn, &key, &name, &calendar_id, &policy)?;
                0
            }
        };
        Ok((marked, before, admin_db::sla_policy(conn, &key)?))
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
    name: String,
    /// e.g. Europe/Moscow
    time_zone: String,
    /// ISO weekday numbers, 1 = Monday … 7 = Sunday
    weekly_days_off: Vec<u8>,
    /// HH:MM
    work_starts: String,
    /// HH:MM
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
    catalog_code(&code)?;
    let input: CalendarInput = parse_json(&read_body(payload, 16 << 10).await?)?;
    let mut row = crate::db::rows::CalendarRow {
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
    // The checks the deadlines' arithmetic makes, each naming its field.
    if row.time_zone.parse::<chrono_tz::Tz>().is_err() {
        return Err(ApiError::invalid(
            "time_zone",
            format!(
                "'{}' is not a time zone name like Europe/Moscow",
                row.time_zone
            ),
        ));
    }
    crate::sla::parse_weekdays(&row.weekly_days_off)
        .map_err(|e| ApiError::invalid("weekly_days_off", e))?;
    for (field, time) in [
        ("work_starts", &row.work_starts),
        ("work_ends", &row.work_ends),
    ] {
        chrono::NaiveTime::parse_from_str(time, "%H:%M")
            .map_err(|_| ApiError::invalid(field, format!("'{time}' is not a time (HH:MM)")))?;
    }
    crate::db::catalog::work_calendar(&row, &[]).map_err(|e| ApiError::invalid("work_ends", e))?;
    let now = state.clock.now();
    let key = code.clone();
    let (marked, before, after) = db(&state, move |conn| {
        let before = crate::db::sla::calendar(conn, &key)?;
        row.id = before
            .as_ref()
            .map_or_else(crate::db::new_id, |b| b.id.clone());
        let marked = crate::db::sla::put_calendar(conn, &row, before.is_some(), now)?;
        Ok((marked, before, row))
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
    kind: String,
    note: Option<String>,
}

fn calendar_day(path: &(String, String)) -> Result<chrono::NaiveDate, ApiError> {
    chrono::NaiveDate::parse_from_str(&path.1, "%Y-%m-%d")
        .map_err(|_| ApiError::invalid("day", format!("'{}' is not a date (YYYY-MM-DD)", path.1)))
}

async fn change_day(
    state: &web::Data<AppState>,
    (request, caller): (&HttpRequest, &Caller),
    calendar: String,
    day: chrono::NaiveDate,
    entry: Option<(DayKind, String)>,
) -> Result<HttpResponse, ApiError> {
    let now = state.clock.now();
    let code = calendar.clone();
    let (marked, before, after) = db(state, move |conn| {
        let before = admin_db::calendar_day(conn, &code, day)?;
        let marked = crate::db::sla::set_calendar_day(conn, &code, day, entry, now)?
            .ok_or_else(|| ApiError::NotFound(format!("there is no calendar '{code}'")))?;
        Ok((marked, before, admin_db::calendar_day(conn, &code, day)?))
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
    let caller = auth::authorize(&state, &request, Permission::ManageCatalog).await?;
    let day = calendar_day(&path)?;
    let body = read_body(payload, 16 << 10).await?;
    let input: CalendarDayInput = parse_json(&body)?;
    let kind: DayKind = input
        .kind
        .parse()
        .map_err(|e: String| ApiError::invalid("kind", e))?;
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
    after: T,
) -> Result<HttpResponse, ApiError> {
    state.catalog.invalidate();
    let after = serde_json::to_value(&after).ok();
    let created = audit_put(state, who, object, as_json(&before), after.clone()).await?;
    Ok(if created {
        HttpResponse::Created().json(after)
    } else {
        HttpResponse::Ok().json(after)
    })
}

/// A code as the catalogue spells them: 1–64 lowercase letters, digits, `_`
/// or `-`.
fn catalog_code(code: &str) -> Result<(), ApiError> {
    let good = !code.is_empty()
        && code.len() <= 64
        && code
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b'-');
    if good {
        Ok(())
    } else {
        Err(ApiError::invalid(
            "code",
            format!("'{code}' is not a code: 1–64 lowercase letters, digits, _ or -"),
        ))
    }
}

fn name(field: &str, text: &str) -> Result<String, ApiError> {
    crate::reports::optional_text(field, Some(text.to_string()), 200)?
        .ok_or_else(|| ApiError::invalid(field, "is required"))
}

/// A department, created or replaced by its code.
#[derive(Debug, serde::Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DepartmentInput {
    name_ru: String,
    name_en: String,
    /// The code of the department above it
    parent: Option<String>,
    /// Where its mail goes
    email: Option<String>,
    /// The code of its working calendar
    calendar: String,
}

/// Create or replace a department (admins); routing uses it at once.
#[utoipa::path(
    tag = "admin",
    params(("code" = String, Path, description = "The department's code")),
    request_body = DepartmentInput,
    security(("token" = [])),
    responses(
        (status = 200, description = "Replaced", body = Object),
        (status = 201, description = "Created", body = Object),
        (status = 400, description = "A field is wrong (named); nothing changed", body = ErrorBody),
        (status = 401, description = "Not logged in", body = ErrorBody),
        (status = 403, description = "Not an admin", body = ErrorBody),
    )
)]
#[put("/admin/departments/{code}")]
pub async fn put_department(
    state: web::Data<AppState>,
    request: HttpRequest,
    code: web::Path<String>,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let caller = auth::authorize(&state, &request, Permission::ManageCatalog).await?;
    let code = code.into_inner();
    catalog_code(&code)?;
    let input: DepartmentInput = parse_json(&read_body(payload, 16 << 10).await?)?;
    let (name_ru, name_en) = (
        name("name_ru", &input.name_ru)?,
        name("name_en", &input.name_en)?,
    );
    let email = match input
        .email
        .as_deref()
        .map(str::trim)
        .filter(|e| !e.is_empty())
    {
        Some(e) => Some(
            crate::reports::EmailAddress::parse("email", e)?
                .as_str()
                .to_string(),
        ),
        None => None,
    };
    let now = state.clock.now();
    let app = state.clone();
    let key = code.clone();
    let (before, after) = db(&state, move |conn| {
        let snapshot = app.catalog_snapshot(conn)?;
        let tree = snapshot.map.departments();
        let before = admin_db::department(conn, &key)?;
        let parent_id = match input.parent.as_deref().filter(|p| !p.is_empty()) {
            None => None,
            Some(parent) => {
                let id = tree.id_of(parent).ok_or_else(|| {
                    ApiError::invalid("parent", format!("'{parent}' is not a department"))
                })?;
                let own = before.as_ref().and_then(|b| b.id.parse().ok());
                if own.is_some_and(|own| tree.depth_below(id, own).is_some()) {
                    return Err(ApiError::invalid(
                        "parent",
                        format!(
                            "'{parent}' is '{key}' or below it: departments cannot form a loop"
                        ),
                    ));
                }
                Some(id.to_string())
            }
        };
        let calendar_id = admin_db::calendar_id(conn, &input.calendar)?.ok_or_else(|| {
            ApiError::invalid(
                "calendar",
                format!("'{}' is not a calendar", input.calendar),
            )
        })?;
        let row = crate::db::rows::DepartmentRow {
            id: before
                .as_ref()
                .map_or_else(crate::db::new_id, |b| b.id.clone()),
            code: key.clone(),
            name_ru,
            name_en,
            parent_id,
            email,
            calendar_id,
            is_triage: before.as_ref().is_some_and(|b| b.is_triage),
            created_at: before.as_ref().map_or(now, |b| b.created_at),
        };
        admin_db::put_department(conn, &row, before.is_some())?;
        Ok((before, row))
    })
    .await?;
    put_answer(
        &state,
        (&request, &caller),
        ("department", code),
        before,
        after,
    )
    .await
}

/// A category, created or replaced by its code.
#[derive(Debug, serde::Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CategoryInput {
    /// The group it is listed under
    group: String,
    name_ru: String,
    name_en: String,
    description_ru: Option<String>,
    description_en: Option<String>,
    /// The questions residents answer (Open311 attributes), default none
    #[schema(value_type = Option<Vec<Object>>)]
    questions: Option<serde_json::Value>,
    /// The department its reports go to where no service area says otherwise
    default_department: Option<String>,
    /// The code of its SLA policy
    sla_policy: String,
    /// Metres within which open reports are offered as duplicates (1–1000, default 50)
    duplicate_radius_m: Option<f64>,
    /// Whether residents can file it (default true)
    active: Option<bool>,
    sort_order: Option<i32>,
}

/// Create or replace a category (admins); filing uses it at once.
#[utoipa::path(
    tag = "admin",
    params(("code" = String, Path, description = "The category's code")),
    request_body = CategoryInput,
    security(("token" = [])),
    responses(
        (status = 200, description = "Replaced", body = Object),
        (status = 201, description = "Created", body = Object),
        (status = 400, description = "A field is wrong (named); nothing changed", body = ErrorBody),
        (status = 401, description = "Not logged in", body = ErrorBody),
        (status = 403, description = "Not an admin", body = ErrorBody),
    )
)]
#[put("/admin/categories/{code}")]
pub async fn put_category(
    state: web::Data<AppState>,
    request: HttpRequest,
    code: web::Path<String>,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    use crate::reports::questions::{check_questions, Question};
    let caller = auth::authorize(&state, &request, Permission::ManageCatalog).await?;
    let code = code.into_inner();
    catalog_code(&code)?;
    let input: CategoryInput = parse_json(&read_body(payload, 64 << 10).await?)?;
    let (name_ru, name_en) = (
        name("name_ru", &input.name_ru)?,
        name("name_en", &input.name_en)?,
    );
    let group = name("group", &input.group)?;
    let questions: Vec<Question> = match input.questions {
        None | Some(serde_json::Value::Null) => Vec::new(),
        Some(value) => serde_json::from_value(value)
            .map_err(|e| ApiError::invalid("questions", e.to_string()))?,
    };
    check_questions(&questions).map_err(|e| ApiError::invalid("questions", e))?;
    let attributes = serde_json::to_string(&questions)
        .map_err(|e| ApiError::invalid("questions", e.to_string()))?;
    let radius = input.duplicate_radius_m.unwrap_or(50.0);
    if !(1.0..=1000.0).contains(&radius) {
        return Err(ApiError::invalid(
            "duplicate_radius_m",
            "must be from 1 to 1000",
        ));
    }
    let app = state.clone();
    let key = code.clone();
    let (before, after) = db(&state, move |conn| {
        let snapshot = app.catalog_snapshot(conn)?;
        let default_department_id = match input
            .default_department
            .as_deref()
            .filter(|d| !d.is_empty())
        {
            None => None,
            Some(d) => Some(
                snapshot
                    .map
                    .departments()
                    .id_of(d)
                    .ok_or_else(|| {
                        ApiError::invalid(
                            "default_department",
                            format!("'{d}' is not a department"),
                        )
                    })?
                    .to_string(),
            ),
        };
        let policy = admin_db::sla_policy(conn, &input.sla_policy)?.ok_or_else(|| {
            ApiError::invalid(
                "sla_policy",
                format!("'{}' is not an SLA policy", input.sla_policy),
            )
        })?;
        let before = admin_db::category(conn, &key)?;
        let row = crate::db::rows::CategoryRow {
            id: before
                .as_ref()
                .map_or_else(crate::db::new_id, |b| b.id.clone()),
            code: key.clone(),
            group_code: group,
            name_ru,
            name_en,
            description_ru: input.description_ru.unwrap_or_default(),
            description_en: input.description_en.unwrap_or_default(),
            attributes,
            default_department_id,
            sla_policy_id: policy.id,
            duplicate_radius_m: radius,
            active: input.active.unwrap_or(true),
            sort_order: input.sort_order.unwrap_or(0),
        };
        admin_db::put_category(conn, &row, before.is_some())?;
        Ok((before, row))
    })
    .await?;
    put_answer(
        &state,
        (&request, &caller),
        ("category", code),
        before,
        after,
    )
    .await
}
