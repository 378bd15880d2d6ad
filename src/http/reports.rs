//! Filing, reading and listing reports. Public output never carries a
//! reporter's email or phone; their name only when they chose to show it.

use actix_web::{web, HttpResponse};
use chrono::NaiveDateTime;
use serde::{Deserialize, Serialize};

use super::{db, parse_json, ApiError, AppState};
use crate::db::reports::{ReportDetail, ReportFilter, ReportListing};
use crate::db::{catalog, reports as report_db, write_transaction};
use crate::reports::{NewReport, ReportInput, ReportStatus};
use crate::routing;

pub const MAX_PER_PAGE: i64 = 200;
pub const DEFAULT_PER_PAGE: i64 = 50;

#[derive(Serialize)]
struct Filed {
    id: String,
    number: i64,
    status: ReportStatus,
    url: String,
}

pub async fn create(
    state: web::Data<AppState>,
    body: web::Bytes,
) -> Result<HttpResponse, ApiError> {
    let input: ReportInput = parse_json(&body)?;
    let report = NewReport::parse(input)?;
    let now = state.clock.now();
    let filed = db(&state, move |conn| {
        write_transaction(conn, |conn| {
            let category =
                catalog::category_routing(conn, &report.category_code)?.ok_or_else(|| {
                    ApiError::invalid(
                        "category",
                        format!(
                        "'{}' is not a category of this city; GET /api/v1/categories lists them",
                        report.category_code
                    ),
                    )
                })?;
            let (lat, lon) = (report.location.lat(), report.location.lon());
            let areas = catalog::service_areas_around(conn, lat, lon)?;
            let area = routing::area_containing(&areas, lat, lon).ok_or_else(|| {
                ApiError::invalid(
                    "location",
                    format!("the point ({lat}, {lon}) is outside the city's service areas"),
                )
            })?;
            let decision = routing::route(&category, area);
            Ok(report_db::insert_new(
                conn,
                now,
                &report,
                &category.id.to_string(),
                &decision,
            )?)
        })
    })
    .await?;
    let url = format!("{}/api/v1/reports/{}", state.public_url, filed.id);
    Ok(HttpResponse::Created()
        .insert_header(("Location", url.clone()))
        .json(Filed {
            id: filed.id,
            number: filed.number,
            status: filed.status,
            url,
        }))
}

#[derive(Serialize)]
struct Names {
    ru: String,
    en: String,
}

#[derive(Serialize)]
struct DepartmentRef {
    code: String,
    name: Names,
}

#[derive(Serialize)]
struct CategoryRef {
    code: String,
    name: Names,
}

#[derive(Serialize)]
struct HistoryEntry {
    at: NaiveDateTime,
    kind: String,
    actor_role: String,
    from_status: Option<String>,
    to_status: String,
    note: Option<String>,
}

/// The public face of one report.
#[derive(Serialize)]
struct ReportView {
    id: String,
    number: i64,
    status: String,
    category: CategoryRef,
    lat: f64,
    lon: f64,
    address: Option<String>,
    description: String,
    service_area: Option<String>,
    department: Option<DepartmentRef>,
    reporter_name: Option<String>,
    duplicate_of: Option<String>,
    created_at: NaiveDateTime,
    updated_at: NaiveDateTime,
    moderation_due_at: Option<NaiveDateTime>,
    answer_due_at: Option<NaiveDateTime>,
    resolved_at: Option<NaiveDateTime>,
    closed_at: Option<NaiveDateTime>,
    history: Vec<HistoryEntry>,
}

impl From<ReportDetail> for ReportView {
    fn from(d: ReportDetail) -> ReportView {
        let r = d.report;
        ReportView {
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
            duplicate_of: r.duplicate_of,
            created_at: r.created_at,
            updated_at: r.updated_at,
            moderation_due_at: r.moderation_due_at,
            answer_due_at: r.answer_due_at,
            resolved_at: r.resolved_at,
            closed_at: r.closed_at,
            history: d
                .events
                .into_iter()
                .filter(|e| e.public)
                .map(|e| HistoryEntry {
                    at: e.created_at,
                    kind: e.kind,
                    actor_role: e.actor_role,
                    from_status: e.from_status,
                    to_status: e.to_status,
                    note: e.note,
                })
                .collect(),
        }
    }
}

pub async fn show(
    state: web::Data<AppState>,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id = id.into_inner();
    let missing = || ApiError::NotFound(format!("there is no report with id '{id}'"));
    // Ids are UUIDs; anything else cannot name a report.
    let Ok(uuid) = uuid::Uuid::parse_str(&id) else {
        return Err(missing());
    };
    let key = uuid.to_string();
    let found = db(&state, move |conn| Ok(report_db::find(conn, &key)?)).await?;
    let detail = found.ok_or_else(missing)?;
    Ok(HttpResponse::Ok().json(ReportView::from(detail)))
}

#[derive(Deserialize)]
pub struct ListQuery {
    status: Option<String>,
    category: Option<String>,
    bbox: Option<String>,
    page: Option<String>,
    per_page: Option<String>,
}

#[derive(Serialize)]
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
            category: l.category_code,
            department: l.department_code,
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

#[derive(Serialize)]
struct ReportPage {
    total: i64,
    page: i64,
    per_page: i64,
    reports: Vec<ReportSummary>,
}

pub async fn list(
    state: web::Data<AppState>,
    query: web::Query<ListQuery>,
) -> Result<HttpResponse, ApiError> {
    let query = query.into_inner();
    let status = non_empty(query.status)
        .map(|s| s.parse::<ReportStatus>())
        .transpose()
        .map_err(|e| ApiError::invalid("status", e.to_string()))?;
    let bbox = non_empty(query.bbox).map(|b| parse_bbox(&b)).transpose()?;
    let page = parse_count("page", query.page, 1, i64::MAX / MAX_PER_PAGE)?;
    let per_page = parse_count("per_page", query.per_page, DEFAULT_PER_PAGE, MAX_PER_PAGE)?;
    let category = non_empty(query.category);
    let (total, reports) = db(&state, move |conn| {
        let category_id = match category {
            Some(code) => Some(catalog::category_id(conn, &code)?.ok_or_else(|| {
                ApiError::invalid(
                    "category",
                    format!("'{code}' is not a category of this city"),
                )
            })?),
            None => None,
        };
        let filter = ReportFilter {
            status,
            category_id,
            bbox,
        };
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

fn non_empty(value: Option<String>) -> Option<String> {
    value
        .map(|v| v.trim().to_string())
        .filter(|v| !v.is_empty())
}

fn parse_count(
    field: &str,
    value: Option<String>,
    default: i64,
    max: i64,
) -> Result<i64, ApiError> {
    let Some(text) = non_empty(value) else {
        return Ok(default);
    };
    match text.parse::<i64>() {
        Ok(n) if (1..=max).contains(&n) => Ok(n),
        _ => Err(ApiError::invalid(
            field,
            format!("must be a whole number from 1 to {max}, got '{text}'"),
        )),
    }
}

/// `min_lon,min_lat,max_lon,max_lat` in degrees.
fn parse_bbox(text: &str) -> Result<(f64, f64, f64, f64), ApiError> {
    let invalid = |why: &str| {
        ApiError::invalid(
            "bbox",
            format!("must be min_lon,min_lat,max_lon,max_lat in degrees ({why}), got '{text}'"),
        )
    };
    let numbers = text
        .split(',')
        .map(|n| n.trim().parse::<f64>())
        .collect::<Result<Vec<_>, _>>()
        .map_err(|_| invalid("four numbers"))?;
    let [min_lon, min_lat, max_lon, max_lat] = numbers[..] else {
        return Err(invalid("four numbers"));
    };
    let lon_ok = |v: f64| v.is_finite() && (-180.0..=180.0).contains(&v);
    let lat_ok = |v: f64| v.is_finite() && (-90.0..=90.0).contains(&v);
    if !(lon_ok(min_lon) && lon_ok(max_lon) && lat_ok(min_lat) && lat_ok(max_lat)) {
        return Err(invalid("longitudes within ±180, latitudes within ±90"));
    }
    if min_lon > max_lon || min_lat > max_lat {
        return Err(invalid("each minimum no larger than its maximum"));
    }
    Ok((min_lon, min_lat, max_lon, max_lat))
}
