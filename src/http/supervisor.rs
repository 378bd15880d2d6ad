//! The supervisor view: open reports at risk or past their deadline, and
//! how departments answer. Staff see their own scope: crew their
//! department, supervisors their department and the ones below it, admins
//! everything.

use crate::locale::Text;
use crate::reports::ValidationError;
use std::collections::BTreeMap;

use actix_web::{get, web, HttpRequest, HttpResponse};
use chrono::NaiveDateTime;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use super::error::ErrorBody;
use super::export::{csv_response, inert, wants_csv};
use super::filters::non_empty;
use super::{auth, db, ApiError, AppState};
use crate::app::catalogue::CatalogSnapshot;
use crate::app::reports::ReportFilter;
use crate::app::supervision::{self as supervision, group_by, Risk, Watched};
use crate::policy::{self, Permission, Principal};
use crate::sla::stats::{aggregate, Aggregate};

/// What the supervisor's views are narrowed to, and how they are sent.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ScopeQuery {
    /// A department code: it and the departments below it
    department: Option<String>,
    /// A category code
    category: Option<String>,
    /// A district (service area) code
    district: Option<String>,
    /// json (default) or csv
    #[param(schema_with = super::contract::table_format)]
    format: Option<String>,
    /// Filed at or after (YYYY-MM-DD), for the aggregates
    #[param(schema_with = super::contract::query_date)]
    from: Option<String>,
    /// Filed before (YYYY-MM-DD), for the aggregates
    #[param(schema_with = super::contract::query_date)]
    to: Option<String>,
}

/// The watch list's own filter.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct RiskQuery {
    /// at_risk or breached (both when absent)
    #[param(schema_with = super::contract::risk)]
    risk: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
pub struct WatchQuery {
    #[serde(flatten)]
    scope: ScopeQuery,
    #[serde(flatten)]
    risk: RiskQuery,
}

/// The `risk` filter: at_risk, breached, or both when absent.
pub(crate) fn parse_risk(risk: Option<String>) -> Result<Option<Risk>, ApiError> {
    match non_empty(risk).as_deref() {
        None => Ok(None),
        Some("at_risk") => Ok(Some(Risk::AtRisk)),
        Some("breached") => Ok(Some(Risk::Breached)),
        Some(other) => Err(ApiError::invalid(
            "risk",
            Text::new(
                format!("«{other}» — не at_risk и не breached"),
                format!("'{other}' is not at_risk or breached"),
            ),
        )),
    }
}

impl ScopeQuery {
    /// A query narrowed to a department, category and district.
    pub fn narrowed(
        department: Option<String>,
        category: Option<String>,
        district: Option<String>,
    ) -> ScopeQuery {
        ScopeQuery {
            department,
            category,
            district,
            ..ScopeQuery::default()
        }
    }
}

/// The reports a staff member may watch, narrowed by the query: a filter
/// with the department, category and district ids.
pub(crate) fn scope_filter(
    snapshot: &CatalogSnapshot,
    who: &Principal,
    query: &ScopeQuery,
) -> Result<ReportFilter, ApiError> {
    let tree = snapshot.map.departments();
    let scope = policy::departments_in_scope(who, Permission::WatchSla, tree);
    let mut departments = scope.clone();
    if let Some(code) = non_empty(query.department.clone()) {
        let id = tree.id_of(&code).ok_or_else(|| {
            ApiError::from(ValidationError::unknown(
                "department",
                &code,
                ("подразделение", "department"),
            ))
        })?;
        let wanted = tree.subtree(id);
        departments = Some(match scope {
            None => wanted,
            Some(scope) => {
                let inside: Vec<Uuid> = wanted.into_iter().filter(|d| scope.contains(d)).collect();
                if inside.is_empty() {
                    return Err(ApiError::Forbidden(Text::new(
                        format!("подразделение «{code}» вне того, что вам доступно"),
                        format!("department '{code}' is outside what you may see"),
                    )));
                }
                inside
            }
        });
    }
    let mut filter = ReportFilter {
        department_ids: departments
            .unwrap_or_default()
            .iter()
            .map(Uuid::to_string)
            .collect(),
        ..ReportFilter::default()
    };
    if let Some(code) = non_empty(query.category.clone()) {
        let category = snapshot.categories.get(&code).ok_or_else(|| {
            ApiError::from(ValidationError::unknown(
                "category",
                &code,
                ("категория", "category"),
            ))
        })?;
        filter.category_ids = vec![category.routing.id.to_string()];
    }
    if let Some(code) = non_empty(query.district.clone()) {
        let area = snapshot
            .map
            .areas()
            .iter()
            .find(|a| a.code == code)
            .ok_or_else(|| {
                ApiError::from(ValidationError::unknown(
                    "district",
                    &code,
                    ("район", "district"),
                ))
            })?;
        filter.service_area_ids = vec![area.id.to_string()];
    }
    let day = |field: &'static str, value: &Option<String>| {
        non_empty(value.clone())
            .map(|d| {
                chrono::NaiveDate::parse_from_str(&d, "%Y-%m-%d")
                    .map(|d| d.and_hms_opt(0, 0, 0).unwrap_or_default())
                    .map_err(|_| ApiError::from(ValidationError::not_a_date(field, &d)))
            })
            .transpose()
    };
    filter.created_from = day("from", &query.from)?;
    filter.created_before = day("to", &query.to)?;
    Ok(filter)
}

#[derive(Debug, Serialize, ToSchema)]
pub struct WatchedView {
    id: String,
    number: i64,
    status: String,
    /// at_risk or breached
    risk: &'static str,
    /// The stage of the worst mark: moderation, answer or fix
    stage: String,
    category: String,
    department: Option<String>,
    district: Option<String>,
    /// The deadline of that stage
    #[serde(serialize_with = "crate::clock::utc_opt")]
    deadline: Option<NaiveDateTime>,
    escalation_level: i32,
    #[serde(serialize_with = "crate::clock::utc")]
    created_at: NaiveDateTime,
    url: String,
}

#[derive(Debug, Default, Serialize, ToSchema)]
pub struct RiskCounts {
    at_risk: usize,
    breached: usize,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct WatchView {
    by_department: BTreeMap<String, RiskCounts>,
    by_category: BTreeMap<String, RiskCounts>,
    by_district: BTreeMap<String, RiskCounts>,
    reports: Vec<WatchedView>,
}

fn view(state: &AppState, w: Watched) -> WatchedView {
    let r = w.report;
    let deadline = match w.stage.as_str() {
        "moderation" => r.moderation_due_at,
        "fix" => r.fix_due_at,
        _ => r.answer_due_at,
    };
    WatchedView {
        url: format!("{}/api/v1/reports/{}", state.public_url, r.id),
        id: r.id,
        number: r.number,
        status: r.status,
        risk: w.risk.as_str(),
        stage: w.stage,
        category: w.category,
        department: w.department,
        district: w.district,
        deadline,
        escalation_level: r.escalation_level,
        created_at: r.created_at,
    }
}

/// The watch list's rows as CSV cells.
fn watched_rows(rows: &[WatchedView]) -> impl Iterator<Item = Vec<String>> + '_ {
    let time = |t: Option<NaiveDateTime>| {
        t.map(|t| t.format("%Y-%m-%dT%H:%M:%SZ").to_string())
            .unwrap_or_default()
    };
    rows.iter().map(move |r| {
        vec![
            r.number.to_string(),
            r.status.clone(),
            r.risk.to_string(),
            r.stage.clone(),
            inert(r.category.clone()),
            inert(r.department.clone().unwrap_or_default()),
            inert(r.district.clone().unwrap_or_default()),
            time(r.deadline),
            r.escalation_level.to_string(),
            time(Some(r.created_at)),
            r.url.clone(),
        ]
    })
}

const WATCHED_HEADER: [&str; 11] = [
    "number",
    "status",
    "risk",
    "stage",
    "category",
    "department",
    "district",
    "deadline",
    "escalation_level",
    "created_at",
    "url",
];

/// Open reports at risk or past a deadline, with counts per department,
/// category and district; `format=csv` exports the list.
#[utoipa::path(
    tag = "supervisor",
    params(ScopeQuery, RiskQuery),
    security(("token" = [])),
    responses(
        (status = 200, description = "The watch list (JSON, or CSV with format=csv)", content(
            (WatchView = "application/json"),
            (String = "text/csv"),
        )),
        (status = 400, description = "A filter is wrong", body = ErrorBody),
        (status = 401, description = "No valid token", body = ErrorBody),
        (status = 403, description = "Outside your scope", body = ErrorBody),
    )
)]
#[get("/supervisor/reports")]
pub async fn watch(
    state: web::Data<AppState>,
    request: HttpRequest,
    query: web::Query<WatchQuery>,
) -> Result<HttpResponse, ApiError> {
    let staff = auth::authorize(&state, &request, Permission::WatchSla).await?;
    let WatchQuery { scope: query, risk } = query.into_inner();
    let risk = parse_risk(risk.risk)?;
    let csv = wants_csv(query.format.clone())?;
    let app = state.clone();
    let watched = db(&state, move |conn| {
        let snapshot = app.catalog_snapshot(conn)?;
        let filter = scope_filter(&snapshot, &staff.who, &query)?;
        Ok(supervision::watched(conn, &filter)?)
    })
    .await?;
    let mut counts = WatchView {
        by_department: BTreeMap::new(),
        by_category: BTreeMap::new(),
        by_district: BTreeMap::new(),
        reports: Vec::new(),
    };
    for w in watched
        .into_iter()
        .filter(|w| risk.is_none_or(|r| r == w.risk))
    {
        let keys = [
            (&mut counts.by_department, w.department.clone()),
            (&mut counts.by_category, Some(w.category.clone())),
            (&mut counts.by_district, w.district.clone()),
        ];
        for (map, key) in keys {
            let entry = map.entry(key.unwrap_or_else(|| "none".into())).or_default();
            match w.risk {
                Risk::AtRisk => entry.at_risk += 1,
                Risk::Breached => entry.breached += 1,
            }
        }
        counts.reports.push(view(&state, w));
    }
    if csv {
        return csv_response(
            "at-risk.csv",
            &WATCHED_HEADER,
            watched_rows(&counts.reports),
        );
    }
    Ok(HttpResponse::Ok().json(counts))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct StatsView {
    total: Aggregate,
    by_department: BTreeMap<String, Aggregate>,
    by_category: BTreeMap<String, Aggregate>,
    /// Per department (of those above), over all time: answers whose
    /// photos were checked, and those with a flagged photo
    photo_checks: BTreeMap<String, PhotoChecksView>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PhotoChecksView {
    answers_checked: i64,
    answers_flagged: i64,
}

/// How reports were answered: on-time %, median hours to answer, reopened
/// and disputed %, over the reports filed in the period, in total and per
/// department and category (definitions in docs/deadlines.md); open
/// reports past their deadline count as late; `format=csv` exports them.
#[utoipa::path(
    tag = "supervisor",
    params(ScopeQuery),
    security(("token" = [])),
    responses(
        (status = 200, description = "The aggregates (JSON, or CSV with format=csv)", content(
            (StatsView = "application/json"),
            (String = "text/csv"),
        )),
        (status = 400, description = "A filter is wrong", body = ErrorBody),
        (status = 401, description = "No valid token", body = ErrorBody),
        (status = 403, description = "Outside your scope", body = ErrorBody),
    )
)]
#[get("/supervisor/stats")]
pub async fn stats(
    state: web::Data<AppState>,
    request: HttpRequest,
    query: web::Query<ScopeQuery>,
) -> Result<HttpResponse, ApiError> {
    let staff = auth::authorize(&state, &request, Permission::WatchSla).await?;
    let query = query.into_inner();
    let csv = wants_csv(query.format.clone())?;
    let app = state.clone();
    let counted = db(&state, move |conn| {
        let snapshot = app.catalog_snapshot(conn)?;
        let filter = scope_filter(&snapshot, &staff.who, &query)?;
        Ok((
            supervision::outcomes(conn, &filter)?,
            supervision::flagged_answers(conn)?,
        ))
    })
    .await?;
    let (counted, flagged) = counted;
    let all: Vec<_> = counted.iter().map(|c| c.outcome.clone()).collect();
    let summarise = |groups: BTreeMap<String, Vec<crate::sla::stats::Outcome>>| {
        groups
            .into_iter()
            .map(|(k, v)| (k, aggregate(&v)))
            .collect()
    };
    let by_department: BTreeMap<String, Aggregate> =
        summarise(group_by(&counted, |c| c.department.clone()));
    let photo_checks = flagged
        .into_iter()
        .filter(|(code, _)| by_department.contains_key(code))
        .map(|(code, (checked, flagged))| {
            (
                code,
                PhotoChecksView {
                    answers_checked: checked,
                    answers_flagged: flagged,
                },
            )
        })
        .collect();
    let view = StatsView {
        total: aggregate(&all),
        by_department,
        by_category: summarise(group_by(&counted, |c| Some(c.category.clone()))),
        photo_checks,
    };
    if csv {
        return csv_response("statistics.csv", &STATS_HEADER, stats_rows(&view));
    }
    Ok(HttpResponse::Ok().json(view))
}

const STATS_HEADER: [&str; 13] = [
    "group",
    "code",
    "reports",
    "answered",
    "overdue",
    "sample",
    "on_time_percent",
    "small_sample",
    "median_hours_to_answer",
    "reopened_percent",
    "disputed_percent",
    "ratings",
    "average_rating",
];

/// The aggregates as CSV rows: the total, then per department and category.
fn stats_rows(view: &StatsView) -> Vec<Vec<String>> {
    let number = |n: Option<f64>| n.map(|n| n.to_string()).unwrap_or_default();
    let row = |group: &str, code: &str, a: &Aggregate| {
        vec![
            group.to_string(),
            inert(code.to_string()),
            a.reports.to_string(),
            a.answered.to_string(),
            a.overdue.to_string(),
            a.sample.to_string(),
            number(a.on_time_percent),
            a.small_sample.to_string(),
            number(a.median_hours_to_answer),
            number(a.reopened_percent),
            number(a.disputed_percent),
            a.ratings.to_string(),
            number(a.average_rating),
        ]
    };
    let mut rows = vec![row("total", "", &view.total)];
    for (group, map) in [
        ("department", &view.by_department),
        ("category", &view.by_category),
    ] {
        rows.extend(map.iter().map(|(code, a)| row(group, code, a)));
    }
    rows
}
