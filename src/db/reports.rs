//! Reports and their history: filing, reading one, and listing with filters.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::rows::{
    CategoryRow, DepartmentRow, ReportEventRow, ReportRow, SubscriptionRow, UserRow,
};
use super::schema::{
    categories, counters, departments, report_events, reports, service_areas, subscriptions, users,
};
use super::{new_id, DbConnection, DbError};
use crate::reports::{NewReport, ReportStatus};
use crate::routing::RoutingDecision;

pub const REPORT_NUMBER_COUNTER: &str = "report_number";

/// What filing returns to the resident.
#[derive(Debug, Clone)]
pub struct FiledReport {
    pub id: String,
    pub number: i64,
    pub status: ReportStatus,
}

/// Files a validated, routed report: the reporter (found or created as a
/// resident), the report, its first history event and the reporter's
/// subscription. Call inside a write transaction.
pub fn insert_new(
    conn: &mut DbConnection,
    now: NaiveDateTime,
    report: &NewReport,
    category_id: &str,
    decision: &RoutingDecision,
) -> Result<FiledReport, DbError> {
    let reporter_id = resident_by_email(conn, now, report)?;
    let number = next_number(conn)?;
    let status = ReportStatus::Moderation;
    let row = ReportRow {
        id: new_id(),
        number,
        category_id: category_id.to_string(),
        lat: report.location.lat(),
        lon: report.location.lon(),
        address: report.address.clone(),
        description: report.description.as_str().to_string(),
        status: status.as_str().to_string(),
        service_area_id: Some(decision.service_area_id.to_string()),
        department_id: Some(decision.department_id.to_string()),
        routing_rule: decision.rule.clone(),
        assignee_id: None,
        reporter_id: Some(reporter_id.clone()),
        reporter_name_public: report.reporter.show_name,
        duplicate_of: None,
        created_at: now,
        updated_at: now,
        moderation_due_at: None,
        answer_due_at: None,
        resolved_at: None,
        closed_at: None,
    };
    diesel::insert_into(reports::table)
        .values(&row)
        .execute(conn)?;
    let event = ReportEventRow {
        id: new_id(),
        report_id: row.id.clone(),
        actor_id: Some(reporter_id.clone()),
        actor_role: "resident".into(),
        kind: "filed".into(),
        from_status: None,
        to_status: status.as_str().into(),
        note: Some(format!("Routed: {}", decision.rule)),
        public: true,
        created_at: now,
    };
    diesel::insert_into(report_events::table)
        .values(&event)
        .execute(conn)?;
    let subscription = SubscriptionRow {
        id: new_id(),
        report_id: row.id.clone(),
        user_id: reporter_id,
        kind: "reporter".into(),
        created_at: now,
        unsubscribed_at: None,
    };
    diesel::insert_into(subscriptions::table)
        .values(&subscription)
        .execute(conn)?;
    Ok(FiledReport {
        id: row.id,
        number,
        status,
    })
}

/// The next public report number. Inside the write transaction the counter
/// row stays locked until commit, so numbers never repeat.
fn next_number(conn: &mut DbConnection) -> Result<i64, DbError> {
    let counter = counters::table.find(REPORT_NUMBER_COUNTER);
    diesel::update(counter)
        .set(counters::value.eq(counters::value + 1))
        .execute(conn)?;
    Ok(counter.select(counters::value).first(conn)?)
}

fn resident_by_email(
    conn: &mut DbConnection,
    now: NaiveDateTime,
    report: &NewReport,
) -> Result<String, DbError> {
    let email = report.reporter.email.as_str();
    let existing = users::table
        .filter(users::email.eq(email))
        .select(users::id)
        .first::<String>(conn)
        .optional()?;
    if let Some(id) = existing {
        return Ok(id);
    }
    let user = UserRow {
        id: new_id(),
        email: email.to_string(),
        name: report.reporter.name.clone(),
        role: "resident".into(),
        department_id: None,
        locale: "ru".into(),
        created_at: now,
    };
    diesel::insert_into(users::table)
        .values(&user)
        .execute(conn)?;
    Ok(user.id)
}

/// One report with everything its public page shows.
pub struct ReportDetail {
    pub report: ReportRow,
    pub category: CategoryRow,
    pub department: Option<DepartmentRow>,
    pub service_area: Option<String>,
    pub reporter_name: Option<String>,
    pub events: Vec<ReportEventRow>,
}

pub fn find(conn: &mut DbConnection, id: &str) -> Result<Option<ReportDetail>, DbError> {
    let found = reports::table
        .inner_join(categories::table)
        .left_join(departments::table)
        .left_join(service_areas::table)
        .filter(reports::id.eq(id))
        .select((
            ReportRow::as_select(),
            CategoryRow::as_select(),
            Option::<DepartmentRow>::as_select(),
            service_areas::name.nullable(),
        ))
        .first::<(
            ReportRow,
            CategoryRow,
            Option<DepartmentRow>,
            Option<String>,
        )>(conn)
        .optional()?;
    let Some((report, category, department, service_area)) = found else {
        return Ok(None);
    };
    let reporter_name = match &report.reporter_id {
        Some(reporter) if report.reporter_name_public => users::table
            .find(reporter)
            .select(users::name)
            .first::<Option<String>>(conn)
            .optional()?
            .flatten(),
        _ => None,
    };
    let events = report_events::table
        .filter(report_events::report_id.eq(id))
        .order((report_events::created_at, report_events::id))
        .select(ReportEventRow::as_select())
        .load(conn)?;
    Ok(Some(ReportDetail {
        report,
        category,
        department,
        service_area,
        reporter_name,
        events,
    }))
}

/// Filters for the report list; all optional, combined with AND.
#[derive(Debug, Clone, Default)]
pub struct ReportFilter {
    pub status: Option<ReportStatus>,
    pub category_id: Option<String>,
    /// (min_lon, min_lat, max_lon, max_lat)
    pub bbox: Option<(f64, f64, f64, f64)>,
}

/// A report in a list, with the codes of its category and department.
pub struct ReportListing {
    pub report: ReportRow,
    pub category_code: String,
    pub department_code: Option<String>,
}

type Backend = <DbConnection as diesel::Connection>::Backend;

fn filtered(filter: &ReportFilter) -> reports::BoxedQuery<'static, Backend> {
    let mut query = reports::table.into_boxed();
    if let Some(status) = filter.status {
        query = query.filter(reports::status.eq(status.as_str()));
    }
    if let Some(category) = &filter.category_id {
        query = query.filter(reports::category_id.eq(category.clone()));
    }
    if let Some((min_lon, min_lat, max_lon, max_lat)) = filter.bbox {
        query = query
            .filter(reports::lat.between(min_lat, max_lat))
            .filter(reports::lon.between(min_lon, max_lon));
    }
    query
}

/// A page of reports, newest first, and how many match in all.
pub fn list(
    conn: &mut DbConnection,
    filter: &ReportFilter,
    page: i64,
    per_page: i64,
) -> Result<(i64, Vec<ReportListing>), DbError> {
    let total: i64 = filtered(filter).count().get_result(conn)?;
    let ids: Vec<String> = filtered(filter)
        .order((reports::created_at.desc(), reports::number.desc()))
        .offset((page - 1) * per_page)
        .limit(per_page)
        .select(reports::id)
        .load(conn)?;
    let mut rows = reports::table
        .inner_join(categories::table)
        .left_join(departments::table)
        .filter(reports::id.eq_any(&ids))
        .select((
            ReportRow::as_select(),
            categories::code,
            departments::code.nullable(),
        ))
        .load::<(ReportRow, String, Option<String>)>(conn)?;
    rows.sort_by_key(|(r, _, _)| ids.iter().position(|id| *id == r.id));
    Ok((
        total,
        rows.into_iter()
            .map(|(report, category_code, department_code)| ReportListing {
                report,
                category_code,
                department_code,
            })
            .collect(),
    ))
}

pub fn count(conn: &mut DbConnection) -> Result<i64, DbError> {
    Ok(reports::table.count().get_result(conn)?)
}
