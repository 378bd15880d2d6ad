//! Reports and their history: reading one, listing with filters, the map,
//! and a resident's support ("me too"). Filing writes through `filing`.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use std::collections::{BTreeSet, HashMap};

pub use super::grid::cell_sql;
use super::grid::in_cells;
use super::rows::{AttachmentRow, CategoryRow, DepartmentRow, ReportEventRow, ReportRow};
use super::schema::{
    attachments, categories, departments, report_events, reports, service_areas, subscriptions,
    users,
};
use super::{new_id, write_transaction, DbConnection, DbError};
use crate::reports::{nearby, ReportStatus, Reporter};

use super::filing::{resident_by_email, subscribe};
/// What joining a report ("me too") did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Support {
    /// The resident now follows the report; its support count rose.
    Joined {
        support_count: i32,
    },
    /// They already followed it (or filed it): nothing changed.
    AlreadyFollowing {
        support_count: i32,
    },
    /// The report is no longer open.
    Closed {
        status: String,
    },
    NoSuchReport,
}

/// A resident joins an open report, in a write transaction of its own.
/// A report's number and status, if it exists.
pub fn number_and_status(
    conn: &mut DbConnection,
    report_id: &str,
) -> Result<Option<(i64, String)>, DbError> {
    Ok(reports::table
        .find(report_id)
        .select((reports::number, reports::status))
        .first(conn)
        .optional()?)
}

pub fn support(
    conn: &mut DbConnection,
    now: NaiveDateTime,
    report_id: &str,
    resident: &Reporter,
) -> Result<Support, DbError> {
    write_transaction(conn, |conn| support_in(conn, now, report_id, resident))
}

fn support_in(
    conn: &mut DbConnection,
    now: NaiveDateTime,
    report_id: &str,
    resident: &Reporter,
) -> Result<Support, DbError> {
    let found = reports::table
        .find(report_id)
        .select((reports::status, reports::support_count))
        .first::<(String, i32)>(conn)
        .optional()?;
    let Some((status, support_count)) = found else {
        return Ok(Support::NoSuchReport);
    };
    if !status
        .parse::<ReportStatus>()
        .is_ok_and(ReportStatus::is_open)
    {
        return Ok(Support::Closed { status });
    }
    let user_id = resident_by_email(conn, now, resident)?;
    let held: Vec<(String, String)> = subscriptions::table
        .filter(subscriptions::report_id.eq(report_id))
        .filter(subscriptions::user_id.eq(&user_id))
        .select((subscriptions::id, subscriptions::kind))
        .load(conn)?;
    if held
        .iter()
        .any(|(_, kind)| kind == "reporter" || kind == "follower")
    {
        return Ok(Support::AlreadyFollowing { support_count });
    }
    // Someone who only followed supports now: their follow becomes a
    // supporter's.
    match held.iter().find(|(_, kind)| kind == "watcher") {
        Some((id, _)) => {
            diesel::update(subscriptions::table.find(id))
                .set((
                    subscriptions::kind.eq("follower"),
                    subscriptions::unsubscribed_at.eq(None::<NaiveDateTime>),
                ))
                .execute(conn)?;
        }
        None => subscribe(conn, now, report_id, &user_id, "follower")?,
    }
    diesel::update(reports::table.find(report_id))
        .set((
            reports::support_count.eq(reports::support_count + 1),
            reports::updated_at.eq(now),
        ))
        .execute(conn)?;
    diesel::insert_into(report_events::table)
        .values(ReportEventRow {
            id: new_id(),
            report_id: report_id.to_string(),
            actor_id: Some(user_id),
            actor_role: "resident".into(),
            kind: "supported".into(),
            from_status: Some(status.clone()),
            to_status: status,
            note: None,
            public: true,
            created_at: now,
            details: None,
        })
        .execute(conn)?;
    Ok(Support::Joined {
        support_count: support_count + 1,
    })
}

/// The photos these reports came with as addresses, in order.
pub fn media_links_of(
    conn: &mut DbConnection,
    ids: &[String],
) -> Result<Vec<super::rows::ReportMediaLinkRow>, DbError> {
    use super::schema::report_media_links;
    let mut links = Vec::new();
    for chunk in ids.chunks(1000) {
        links.extend(
            report_media_links::table
                .filter(report_media_links::report_id.eq_any(chunk))
                .order((report_media_links::report_id, report_media_links::position))
                .select(super::rows::ReportMediaLinkRow::as_select())
                .load(conn)?,
        );
    }
    Ok(links)
}

/// The photos of a report, in order: every one, or (`everything` false)
/// those the public sees.
pub fn photos(
    conn: &mut DbConnection,
    report_id: &str,
    everything: bool,
) -> Result<Vec<AttachmentRow>, DbError> {
    let rows: Vec<AttachmentRow> = attachments::table
        .filter(attachments::report_id.eq(report_id))
        .order(attachments::position)
        .select(AttachmentRow::as_select())
        .load(conn)?;
    if everything {
        return Ok(rows);
    }
    public_only(conn, &[report_id.to_string()], rows)
}

/// Drops the photos a moderator hid and those of history events the
/// public does not see (an update waiting for a moderator, or hidden).
fn public_only(
    conn: &mut DbConnection,
    ids: &[String],
    rows: Vec<AttachmentRow>,
) -> Result<Vec<AttachmentRow>, DbError> {
    let rows: Vec<AttachmentRow> = rows.into_iter().filter(|a| a.hidden_at.is_none()).collect();
    if rows.iter().all(|a| a.event_id.is_none()) {
        return Ok(rows);
    }
    let mut unseen = std::collections::HashSet::new();
    for chunk in ids.chunks(1000) {
        unseen.extend(
            report_events::table
                .filter(report_events::report_id.eq_any(chunk))
                .filter(report_events::public.eq(false))
                .select(report_events::id)
                .load::<String>(conn)?,
        );
    }
    Ok(rows
        .into_iter()
        .filter(|a| a.event_id.as_ref().is_none_or(|e| !unseen.contains(e)))
        .collect())
}

/// One report with everything its public page shows.
pub struct ReportDetail {
    pub report: ReportRow,
    pub category: CategoryRow,
    pub department: Option<DepartmentRow>,
    pub service_area: Option<String>,
    /// Its name in English, when the city gave one.
    pub service_area_en: Option<String>,
    pub reporter_name: Option<String>,
    pub events: Vec<ReportEventRow>,
    /// The city object it is about, if one was picked.
    pub object: Option<crate::db::rows::CityObjectRow>,
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
            (service_areas::name, service_areas::name_en).nullable(),
        ))
        .first::<(
            ReportRow,
            CategoryRow,
            Option<DepartmentRow>,
            Option<(String, Option<String>)>,
        )>(conn)
        .optional()?;
    let Some((report, category, department, area)) = found else {
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
        service_area: area.as_ref().map(|(name, _)| name.clone()),
        service_area_en: area.and_then(|(_, en)| en),
        reporter_name,
        events,
        object: super::geodata::object_of(conn, id)?,
    }))
}

/// Filters for report lists; every part optional, combined with AND. An empty
/// list means "any".
#[derive(Debug, Clone, Default)]
pub struct ReportFilter {
    /// Public numbers; when given, the other filters still apply.
    pub numbers: Vec<i64>,
    pub statuses: Vec<ReportStatus>,
    pub category_ids: Vec<String>,
    pub department_ids: Vec<String>,
    /// Districts (service areas) by id.
    pub service_area_ids: Vec<String>,
    /// (min_lon, min_lat, max_lon, max_lat)
    pub bbox: Option<(f64, f64, f64, f64)>,
    /// (lat, lon, radius in metres)
    pub near: Option<(f64, f64, f64)>,
    pub created_from: Option<NaiveDateTime>,
    pub created_before: Option<NaiveDateTime>,
    pub updated_from: Option<NaiveDateTime>,
    pub updated_before: Option<NaiveDateTime>,
}

/// A report in a list, with its category and department.
pub struct ReportListing {
    pub report: ReportRow,
    pub category: CategoryRow,
    pub department: Option<DepartmentRow>,
    /// The city object it is about, if one was picked.
    pub object: Option<crate::db::rows::CityObjectRow>,
}

type Backend = <DbConnection as diesel::Connection>::Backend;

pub(crate) fn filtered(filter: &ReportFilter) -> reports::BoxedQuery<'static, Backend> {
    let mut query = reports::table.into_boxed();
    if !filter.numbers.is_empty() {
        query = query.filter(reports::number.eq_any(filter.numbers.clone()));
    }
    if !filter.statuses.is_empty() {
        // Written into the text rather than bound, so that the planner sees
        // which statuses are asked for and the statement is planned afresh
        // each time: a generic plan, blind to both the statuses and the
        // box's size, would walk the location index over closed reports too
        // (five times the work on a city map). The codes are Gorod's own.
        let statuses: Vec<String> = filter
            .statuses
            .iter()
            .map(|s| format!("'{}'", s.as_str()))
            .collect();
        query = query.filter(diesel::dsl::sql::<diesel::sql_types::Bool>(&format!(
            "reports.status IN ({})",
            statuses.join(", ")
        )));
    }
    if !filter.category_ids.is_empty() {
        query = query.filter(reports::category_id.eq_any(filter.category_ids.clone()));
    }
    if !filter.department_ids.is_empty() {
        query = query.filter(reports::department_id.eq_any(filter.department_ids.clone()));
    }
    if !filter.service_area_ids.is_empty() {
        query = query.filter(reports::service_area_id.eq_any(filter.service_area_ids.clone()));
    }
    let near_box = filter
        .near
        .map(|(lat, lon, radius)| nearby::bounding_box(lat, lon, radius))
        .map(|(min_lat, min_lon, max_lat, max_lon)| (min_lon, min_lat, max_lon, max_lat));
    for (min_lon, min_lat, max_lon, max_lat) in filter.bbox.into_iter().chain(near_box) {
        query = query
            .filter(reports::lat.between(min_lat, max_lat))
            .filter(reports::lon.between(min_lon, max_lon));
    }
    if let Some(from) = filter.created_from {
        query = query.filter(reports::created_at.ge(from));
    }
    if let Some(before) = filter.created_before {
        query = query.filter(reports::created_at.lt(before));
    }
    if let Some(from) = filter.updated_from {
        query = query.filter(reports::updated_at.ge(from));
    }
    if let Some(before) = filter.updated_before {
        query = query.filter(reports::updated_at.lt(before));
    }
    query
}

/// Those of these reports the filter keeps (a circle as its box).
pub fn among(
    conn: &mut DbConnection,
    filter: &ReportFilter,
    ids: &[String],
) -> Result<Vec<String>, DbError> {
    let mut kept = Vec::new();
    for chunk in ids.chunks(5000) {
        kept.extend(
            filtered(filter)
                .filter(reports::id.eq_any(chunk.to_vec()))
                .select(reports::id)
                .load::<String>(conn)?,
        );
    }
    Ok(kept)
}

/// A page of reports, newest first, and how many match in all.
pub fn list(
    conn: &mut DbConnection,
    filter: &ReportFilter,
    page: i64,
    per_page: i64,
) -> Result<(i64, Vec<ReportListing>), DbError> {
    let (total, ids) = page_ids(conn, filter, page, per_page, true)?;
    Ok((total.unwrap_or_default(), listings(conn, &ids)?))
}

/// A page of reports, newest first, without counting every match (Open311,
/// whose lists carry no total).
pub fn page_of(
    conn: &mut DbConnection,
    filter: &ReportFilter,
    page: i64,
    per_page: i64,
) -> Result<Vec<ReportListing>, DbError> {
    let (_, ids) = page_ids(conn, filter, page, per_page, false)?;
    listings(conn, &ids)
}

/// The ids of a page of reports, newest first: the list's own read, without
/// the count, the listings or their shaping (the benchmark's baseline).
pub fn newest_ids(
    conn: &mut DbConnection,
    filter: &ReportFilter,
    page: i64,
    per_page: i64,
) -> Result<Vec<String>, DbError> {
    Ok(page_ids(conn, filter, page, per_page, false)?.1)
}

/// The ids of a page of reports, newest first, and (when `count`) how many
/// match in all. A small box (or circle) is read cell by cell of the grid
/// ([`nearby::grid_cells`]); a circle is exact only in Rust.
fn page_ids(
    conn: &mut DbConnection,
    filter: &ReportFilter,
    page: i64,
    per_page: i64,
    count: bool,
) -> Result<(Option<i64>, Vec<String>), DbError> {
    let offset = usize::try_from((page - 1).saturating_mul(per_page)).unwrap_or(usize::MAX);
    let wanted = offset.saturating_add(usize::try_from(per_page).unwrap_or(0));
    let inside = |(_, _, _, lat, lon): &Candidate| match filter.near {
        Some((clat, clon, radius)) => nearby::distance_m(clat, clon, *lat, *lon) <= radius,
        None => true,
    };
    let cells = grid_cells_of(filter, nearby::GRID_MAX_CELLS);
    // Counted over the box's cells where it has few (from the grid's
    // index alone), else by the filter's own indexes.
    let counted_cells = cells.as_deref().unwrap_or_default();
    let total = match (count, filter.near) {
        (false, _) => None,
        (true, None) => {
            let query = filtered(filter)
                .filter(in_cells(conn, counted_cells))
                .count();
            Some(query.get_result(conn)?)
        }
        (true, Some(_)) => {
            let query = candidates(filter, None).filter(in_cells(conn, counted_cells));
            Some(query.load(conn)?.iter().filter(|c| inside(c)).count() as i64)
        }
    };
    let newest = match cells {
        Some(cells) => newest_in_cells(conn, filter, &cells, wanted, inside)?,
        // A circle's box is read whole and the circle kept here.
        None if filter.near.is_some() => candidates(filter, None)
            .load(conn)?
            .into_iter()
            .filter(|c| inside(c))
            .take(wanted)
            .map(|(id, ..)| id)
            .collect(),
        None => filtered(filter)
            .order((reports::created_at.desc(), reports::number.desc()))
            .limit(i64::try_from(wanted).unwrap_or(i64::MAX))
            .select(reports::id)
            .load(conn)?,
    };
    Ok((total, newest.into_iter().skip(offset).collect()))
}

/// The filter's reports as a list's read sees them, newest first (at most
/// `limit`).
fn candidates(
    filter: &ReportFilter,
    limit: Option<usize>,
) -> reports::BoxedQuery<'static, Backend, CandidateColumns> {
    let query = filtered(filter)
        .order((reports::created_at.desc(), reports::number.desc()))
        .select(CANDIDATE);
    match limit {
        Some(limit) => query.limit(i64::try_from(limit).unwrap_or(i64::MAX)),
        None => query,
    }
}

type CandidateColumns = (
    diesel::sql_types::Text,
    diesel::sql_types::Timestamp,
    diesel::sql_types::BigInt,
    diesel::sql_types::Double,
    diesel::sql_types::Double,
);

const CANDIDATE: (
    reports::id,
    reports::created_at,
    reports::number,
    reports::lat,
    reports::lon,
) = (
    reports::id,
    reports::created_at,
    reports::number,
    reports::lat,
    reports::lon,
);

/// A report as a list's read sees it: id, filing time, number, place.
type Candidate = (String, NaiveDateTime, i64, f64, f64);

/// The grid cells a filter's box or circle spans, when at most
/// `max_cells` (and no list of numbers picks the reports instead).
fn grid_cells_of(filter: &ReportFilter, max_cells: usize) -> Option<Vec<i64>> {
    if !filter.numbers.is_empty() {
        return None;
    }
    let near_box = filter
        .near
        .map(|(lat, lon, radius)| nearby::bounding_box(lat, lon, radius));
    let boxed = filter
        .bbox
        .map(|(min_lon, min_lat, max_lon, max_lat)| (min_lat, min_lon, max_lat, max_lon));
    // With both, the circle's box is the smaller read (both are applied).
    nearby::grid_cells(near_box.or(boxed)?, max_cells)
}

/// The ids of the `wanted` newest reports under the filter that are
/// `inside` (the circle), read from each cell newest first and merged.
/// A cell's read stops at `wanted` rows; when some of those fall outside
/// the circle, a cell whose read was full and reaches past the merged
/// page's last report is read again, twice as far.
fn newest_in_cells(
    conn: &mut DbConnection,
    filter: &ReportFilter,
    cells: &[i64],
    wanted: usize,
    inside: impl Fn(&Candidate) -> bool,
) -> Result<Vec<String>, DbError> {
    if wanted == 0 {
        return Ok(Vec::new());
    }
    let mut depth = wanted;
    loop {
        let mut all: Vec<Candidate> = Vec::new();
        let mut full: Vec<(NaiveDateTime, i64)> = Vec::new();
        for c in cells {
            let rows: Vec<Candidate> = candidates(filter, Some(depth))
                .filter(in_cells(conn, std::slice::from_ref(c)))
                .load(conn)?;
            if rows.len() == depth {
                if let Some((_, at, number, ..)) = rows.last() {
                    full.push((*at, *number));
                }
            }
            all.extend(rows.into_iter().filter(&inside));
        }
        all.sort_by_key(|(_, at, number, ..)| std::cmp::Reverse((*at, *number)));
        all.truncate(wanted);
        // Complete when no full cell may hold a report newer than the
        // page's last: the page is full and each full read reached past it.
        let last = all.last().map(|(_, at, number, ..)| (*at, *number));
        let complete = full.is_empty()
            || (all.len() == wanted && full.iter().all(|reached| Some(*reached) <= last));
        if complete || depth >= usize::MAX / 2 {
            return Ok(all.into_iter().map(|(id, ..)| id).collect());
        }
        depth *= 2;
    }
}

/// Up to `limit` reports, the most recently changed first (the feeds). A
/// circle is exact: the box's most recent `limit * 20` are looked at.
pub fn recently_updated(
    conn: &mut DbConnection,
    filter: &ReportFilter,
    limit: i64,
) -> Result<Vec<ReportListing>, DbError> {
    let ids: Vec<String> = match filter.near {
        Some((lat, lon, radius)) => {
            let candidates: Vec<(String, f64, f64)> = filtered(filter)
                .order((reports::updated_at.desc(), reports::number.desc()))
                .limit(limit.saturating_mul(20))
                .select((reports::id, reports::lat, reports::lon))
                .load(conn)?;
            candidates
                .into_iter()
                .filter(|(_, rlat, rlon)| nearby::distance_m(lat, lon, *rlat, *rlon) <= radius)
                .map(|(id, _, _)| id)
                .take(usize::try_from(limit).unwrap_or(0))
                .collect()
        }
        None => filtered(filter)
            .order((reports::updated_at.desc(), reports::number.desc()))
            .limit(limit)
            .select(reports::id)
            .load(conn)?,
    };
    listings(conn, &ids)
}

/// The listings of these reports, in the order of `ids`.
pub fn listings(conn: &mut DbConnection, ids: &[String]) -> Result<Vec<ReportListing>, DbError> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let rows = reports::table
        .filter(reports::id.eq_any(ids))
        .select(ReportRow::as_select())
        .load::<ReportRow>(conn)?;
    // A page's reports share a few categories and departments: each is read
    // once, not once a report through a join.
    let category_ids: BTreeSet<&str> = rows.iter().map(|r| r.category_id.as_str()).collect();
    let department_ids: BTreeSet<&str> = rows
        .iter()
        .filter_map(|r| r.department_id.as_deref())
        .collect();
    let categories: HashMap<String, CategoryRow> = categories::table
        .filter(categories::id.eq_any(&category_ids))
        .select(CategoryRow::as_select())
        .load::<CategoryRow>(conn)?
        .into_iter()
        .map(|c| (c.id.clone(), c))
        .collect();
    let departments: HashMap<String, DepartmentRow> = if department_ids.is_empty() {
        HashMap::new()
    } else {
        departments::table
            .filter(departments::id.eq_any(&department_ids))
            .select(DepartmentRow::as_select())
            .load::<DepartmentRow>(conn)?
            .into_iter()
            .map(|d| (d.id.clone(), d))
            .collect()
    };
    let mut objects = super::geodata::objects_of(conn, ids)?;
    let mut by_id: HashMap<String, ReportListing> = rows
        .into_iter()
        .filter_map(|report| {
            let category = categories.get(&report.category_id)?.clone();
            let department = report
                .department_id
                .as_ref()
                .and_then(|d| departments.get(d))
                .cloned();
            Some((
                report.id.clone(),
                ReportListing {
                    object: objects.remove(&report.id),
                    report,
                    category,
                    department,
                },
            ))
        })
        .collect();
    Ok(ids.iter().filter_map(|id| by_id.remove(id)).collect())
}

/// The reports a resident filed or follows, newest first (at most `limit`).
pub fn of_resident(
    conn: &mut DbConnection,
    user_id: &str,
    limit: i64,
) -> Result<Vec<ReportListing>, DbError> {
    let followed = subscriptions::table
        .filter(subscriptions::user_id.eq(user_id.to_string()))
        .filter(subscriptions::kind.ne("staff"))
        .select(subscriptions::report_id);
    let ids: Vec<String> = reports::table
        .filter(
            reports::reporter_id
                .eq(user_id)
                .or(reports::id.nullable().eq_any(followed.nullable())),
        )
        .order((reports::created_at.desc(), reports::number.desc()))
        .limit(limit)
        .select(reports::id)
        .load(conn)?;
    listings(conn, &ids)
}

/// The first photo of each of these reports, by report id.
pub fn first_photos(
    conn: &mut DbConnection,
    ids: &[String],
) -> Result<HashMap<String, AttachmentRow>, DbError> {
    let rows = attachments::table
        .filter(attachments::report_id.eq_any(ids))
        .filter(attachments::event_id.is_null())
        .filter(attachments::hidden_at.is_null())
        .filter(attachments::position.eq(0))
        .select(AttachmentRow::as_select())
        .load::<AttachmentRow>(conn)?;
    Ok(rows.into_iter().map(|a| (a.report_id.clone(), a)).collect())
}

/// The public history of these reports, oldest first.
pub fn public_events(
    conn: &mut DbConnection,
    ids: &[String],
) -> Result<Vec<ReportEventRow>, DbError> {
    Ok(report_events::table
        .filter(report_events::report_id.eq_any(ids))
        .filter(report_events::public.eq(true))
        .order((report_events::created_at, report_events::id))
        .select(ReportEventRow::as_select())
        .load(conn)?)
}

/// The note of each report's latest public change of status (the newest
/// public event that moved it to another status, or filed it), for those
/// whose change has a note: one short read back through each report's
/// history from its newest event.
pub fn status_notes(
    conn: &mut DbConnection,
    ids: &[String],
) -> Result<HashMap<String, String>, DbError> {
    if ids.is_empty() {
        return Ok(HashMap::new());
    }
    let latest = report_events::table
        .filter(report_events::report_id.eq(reports::id))
        .filter(report_events::public.eq(true))
        .filter(
            report_events::from_status
                .is_null()
                .or(report_events::from_status.ne(report_events::to_status.nullable())),
        )
        .order((report_events::created_at.desc(), report_events::id.desc()))
        .select(report_events::note)
        .limit(1)
        .single_value();
    Ok(reports::table
        .filter(reports::id.eq_any(ids))
        .select((reports::id, latest))
        .load::<(String, Option<String>)>(conn)?
        .into_iter()
        .filter_map(|(id, note)| Some((id, note?)))
        .collect())
}

/// Public history events in a time window, oldest first, with their
/// report's number; at most `limit`.
pub fn events_between(
    conn: &mut DbConnection,
    from: NaiveDateTime,
    before: NaiveDateTime,
    limit: i64,
) -> Result<Vec<(ReportEventRow, i64)>, DbError> {
    Ok(report_events::table
        .inner_join(reports::table)
        .filter(report_events::public.eq(true))
        .filter(report_events::created_at.ge(from))
        .filter(report_events::created_at.lt(before))
        .order((report_events::created_at, report_events::id))
        .limit(limit)
        .select((ReportEventRow::as_select(), reports::number))
        .load(conn)?)
}

/// Every photo of these reports the public sees, in order.
pub fn photos_of(conn: &mut DbConnection, ids: &[String]) -> Result<Vec<AttachmentRow>, DbError> {
    let rows = attachments::table
        .filter(attachments::report_id.eq_any(ids))
        .order((attachments::report_id, attachments::position))
        .select(AttachmentRow::as_select())
        .load(conn)?;
    public_only(conn, ids, rows)
}

/// What the map shows of a report.
#[derive(Debug, Clone)]
pub struct MapPoint {
    pub id: String,
    pub number: i64,
    pub status: String,
    pub category_id: String,
    pub lat: f64,
    pub lon: f64,
}

/// The reports matching `filter`, as map points, newest first: at most
/// `limit` of them (when more match, any `limit`). A box of a few grid
/// cells is read over its cells, from the `reports_status_cell` index
/// alone when the filter names statuses.
pub fn map_points(
    conn: &mut DbConnection,
    filter: &ReportFilter,
    limit: i64,
) -> Result<Vec<MapPoint>, DbError> {
    let query = filtered(filter).limit(limit).select((
        reports::id,
        reports::number,
        reports::status,
        reports::category_id,
        reports::lat,
        reports::lon,
        reports::created_at,
    ));
    type Point = (String, i64, String, String, f64, f64, NaiveDateTime);
    let rows: Vec<Point> = match grid_cells_of(filter, nearby::GRID_MAX_CELLS_AT_ONCE) {
        // Read in the index's order and sorted here: past `limit` the map
        // shows nothing, so which `limit` are read does not matter.
        Some(cells) => {
            let mut rows: Vec<Point> = query.filter(in_cells(conn, &cells)).load(conn)?;
            rows.sort_by_key(|p| std::cmp::Reverse((p.6, p.1)));
            rows
        }
        None => query
            .order((reports::created_at.desc(), reports::number.desc()))
            .load(conn)?,
    };
    Ok(rows
        .into_iter()
        .map(|(id, number, status, category_id, lat, lon, _)| MapPoint {
            id,
            number,
            status,
            category_id,
            lat,
            lon,
        })
        .collect())
}

/// The id of the report with this public number.
pub fn id_of_number(conn: &mut DbConnection, number: i64) -> Result<Option<String>, DbError> {
    Ok(reports::table
        .filter(reports::number.eq(number))
        .select(reports::id)
        .first(conn)
        .optional()?)
}

/// A report's current answer cycle.
pub fn cycle_of(conn: &mut DbConnection, id: &str) -> Result<i32, DbError> {
    Ok(reports::table.find(id).select(reports::cycle).first(conn)?)
}

/// A report's department, and whether `user_id` filed or follows it
/// (`None`: no such report).
pub fn involvement(
    conn: &mut DbConnection,
    report_id: &str,
    user_id: &str,
) -> Result<Option<(Option<String>, bool)>, DbError> {
    let Some((department, reporter)) = reports::table
        .find(report_id)
        .select((reports::department_id, reports::reporter_id))
        .first::<(Option<String>, Option<String>)>(conn)
        .optional()?
    else {
        return Ok(None);
    };
    if reporter.as_deref() == Some(user_id) {
        return Ok(Some((department, true)));
    }
    let follows: i64 = subscriptions::table
        .filter(subscriptions::report_id.eq(report_id))
        .filter(subscriptions::user_id.eq(user_id))
        .count()
        .get_result(conn)?;
    Ok(Some((department, follows > 0)))
}

/// How many reports the resident with this email filed since `since`.
pub fn filed_since(
    conn: &mut DbConnection,
    email: &str,
    since: NaiveDateTime,
) -> Result<i64, DbError> {
    Ok(reports::table
        .inner_join(users::table.on(reports::reporter_id.eq(users::id.nullable())))
        .filter(users::email.eq(email))
        .filter(reports::created_at.ge(since))
        .count()
        .get_result(conn)?)
}

/// Adds a staff member's internal note to a report's history (seen only
/// by staff whose scope holds the report); the event's id.
pub fn add_note(
    conn: &mut DbConnection,
    report_id: &str,
    (actor_id, actor_role): (&str, &str),
    note: &str,
    now: NaiveDateTime,
) -> Result<Option<String>, DbError> {
    let Some(status) = reports::table
        .find(report_id)
        .select(reports::status)
        .first::<String>(conn)
        .optional()?
    else {
        return Ok(None);
    };
    let id = new_id();
    diesel::insert_into(report_events::table)
        .values(ReportEventRow {
            id: id.clone(),
            report_id: report_id.to_string(),
            actor_id: Some(actor_id.to_string()),
            actor_role: actor_role.to_string(),
            kind: "note".into(),
            from_status: Some(status.clone()),
            to_status: status,
            note: Some(note.to_string()),
            public: false,
            created_at: now,
            details: None,
        })
        .execute(conn)?;
    Ok(Some(id))
}
