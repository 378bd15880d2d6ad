//! The staff's pages: the crew's queue and the supervisors' dashboard.

use super::*;

#[derive(Template)]
#[template(path = "queue.html")]
pub struct QueuePage {
    ctx: Ctx,
    rows: Vec<Row>,
    /// For a bulk assignment.
    departments: Vec<DepartmentItem>,
}

pub(super) async fn queue_page(state: web::Data<AppState>, request: HttpRequest) -> Page {
    let (caller, ctx) = context(&state, &request).await?;
    staff_only(&ctx)?;
    let app = state.clone();
    let actor = caller.role().map(|role| workflow::Actor {
        role,
        department: caller.who.department,
        is_reporter: false,
    });
    let (queued, departments) = db(&state, move |conn| {
        let snapshot = app.catalog_snapshot(conn)?;
        let filter = crate::http::supervisor::scope_filter(
            &snapshot,
            &caller.who,
            &crate::http::supervisor::ScopeQuery::default(),
        )?;
        Ok((supervision::queue(conn, &filter, 300)?, departments(conn)?))
    })
    .await?;
    let mut rows = queued
        .into_iter()
        .map(|(l, risk)| Row::new(l, risk))
        .collect::<Vec<_>>();
    // Beside each report, the moves that need only a click.
    for row in &mut rows {
        if let (Some(actor), Ok(status)) = (&actor, row.status.parse()) {
            row.moves = workflow::quick_moves(status, actor)
                .into_iter()
                .map(|a| a.as_str())
                .collect();
        }
    }
    html(&QueuePage {
        ctx,
        rows,
        departments,
    })
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
    /// How the reports in view did against their deadlines.
    total: crate::sla::stats::Aggregate,
    departments: Vec<DepartmentItem>,
    categories: Vec<CategoryItem>,
    /// Code, Russian name, English name.
    districts: Vec<(String, String, String)>,
}

impl DashboardPage {
    pub fn chosen(&self, value: &Option<String>, code: &str) -> bool {
        value.as_deref() == Some(code)
    }
}

/// How many days the dashboard's chart covers.
const TREND_DAYS: i64 = 30;

pub(super) async fn dashboard_page(
    state: web::Data<AppState>,
    request: HttpRequest,
    query: web::Query<DashboardQuery>,
) -> Page {
    let (caller, ctx) = context(&state, &request).await?;
    staff_only(&ctx)?;
    let query = query.into_inner();
    let risk = crate::http::supervisor::parse_risk(query.risk.clone())?;
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
    let (watched, escalated, marks, outcomes, departments, categories, districts) =
        db(&state, move |conn| {
            let snapshot = app.catalog_snapshot(conn)?;
            let filter = crate::http::supervisor::scope_filter(
                &snapshot,
                &caller.who,
                &crate::http::supervisor::ScopeQuery::narrowed(
                    asked.department,
                    asked.category,
                    asked.district,
                ),
            )?;
            let districts = area_choices(&snapshot);
            Ok((
                supervision::watched(conn, &filter)?,
                supervision::escalated(conn, &filter)?,
                supervision::marks_since(conn, &filter, since)?,
                supervision::outcomes(conn, &filter)?,
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
        total: crate::sla::stats::aggregate(
            &outcomes.into_iter().map(|c| c.outcome).collect::<Vec<_>>(),
        ),
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
