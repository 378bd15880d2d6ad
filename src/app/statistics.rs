//! The public statistics (each department's aggregates over the last year,
//! the page residents compare departments on), served from maintained
//! tallies rather than worked out from every report at each request.
//!
//! Each report's outcome is stored as its part of its filing day's tally
//! (`sla::stats::Tally`, stored by `db::tallies`), and each day's parts
//! are summed per department. A refresh works out anew the reports changed
//! since the last one (a report's `updated_at`, or a deadline mark
//! recorded) and sums their days again from the stored parts — so its cost
//! follows what changed, not how many reports were filed those days — then
//! sums the year's tallies and stores the result as the snapshot the page
//! shows. The first refresh works out every report, a month of filing
//! days at a time. The scanner's housekeeping refreshes
//! after every pass (`sla.scan_interval_secs`), and so does an admin's
//! `POST /api/v1/admin/sla/scan`; the page is therefore at most one pass
//! old. A day is the UTC date of filing, and the year the 365 days up to
//! today. Times to answer are tallied to the minute, so the median is
//! exact to the minute. A refresh looks back [`MARGIN`] before the last
//! one, for writes that committed late with earlier times.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{NaiveDate, NaiveDateTime, NaiveTime, TimeDelta};
use serde::{Deserialize, Serialize};

use super::reports::ReportFilter;
use crate::db::tallies::ReportTally;
use crate::db::{self, DbConnection, DbError};
use crate::sla::stats::{Aggregate, Tally};

/// How many days back the public statistics count.
pub const PUBLIC_DAYS: i64 = 365;
/// How far before the last refresh a refresh looks for changes.
pub const MARGIN: TimeDelta = TimeDelta::minutes(10);
/// The most days whose reports one read takes in.
const WINDOW_DAYS: i64 = 31;
/// The most changed reports one refresh transaction works out.
const REPORTS_AT_ONCE: usize = 2_000;
/// The public snapshot's name.
const PUBLIC: &str = "public";

/// What the public statistics page shows.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PublicStats {
    pub refreshed_at: NaiveDateTime,
    pub total: Aggregate,
    /// By department code.
    pub departments: Vec<DepartmentStats>,
}

/// One department's line.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DepartmentStats {
    pub code: String,
    pub numbers: Aggregate,
    /// Answers whose photos were checked, and those with a flagged photo.
    pub photos: (i64, i64),
}

/// The public statistics as last refreshed. Before the first refresh they
/// are worked out from the year's reports, without writing (the page may
/// read from a replica).
pub fn public(conn: &mut DbConnection, now: NaiveDateTime) -> Result<PublicStats, DbError> {
    if let Some(stats) = db::tallies::snapshot(conn, PUBLIC)?
        .and_then(|(_, body)| serde_json::from_str::<PublicStats>(&body).ok())
    {
        return Ok(stats);
    }
    let filter = ReportFilter {
        created_from: Some(year_from(now).and_time(NaiveTime::MIN)),
        ..ReportFilter::default()
    };
    let tallies = db::supervisor::outcomes(conn, &filter)?
        .into_iter()
        .map(|counted| {
            (
                counted.department.unwrap_or_default(),
                Tally::of(std::slice::from_ref(&counted.outcome)),
            )
        });
    summed(conn, tallies, now)
}

/// Works out anew the year's reports changed since the last refresh (every
/// report of the year, the first time), sums the year's tallies and stores
/// them as the page's snapshot.
pub fn refresh(conn: &mut DbConnection, now: NaiveDateTime) -> Result<PublicStats, DbError> {
    let first_day = year_from(now);
    match db::tallies::snapshot(conn, PUBLIC)? {
        Some((at, _)) => {
            let filed_from = first_day.and_time(NaiveTime::MIN);
            let changed = db::tallies::changed_reports(conn, filed_from, at.min(now) - MARGIN)?;
            for numbers in changed.chunks(REPORTS_AT_ONCE) {
                let filter = ReportFilter {
                    numbers: numbers.to_vec(),
                    ..ReportFilter::default()
                };
                let parts = parts_of(db::supervisor::outcomes(conn, &filter)?);
                db::tallies::retally_reports(conn, &parts)?;
            }
        }
        None => {
            let days = db::tallies::days_from(conn, first_day)?;
            retally(conn, &days)?;
        }
    }
    let tallies = db::tallies::since(conn, first_day)?;
    let stats = summed(conn, tallies, now)?;
    let body = serde_json::to_string(&stats)
        .map_err(|e| DbError::Corrupt(format!("the statistics do not serialise: {e}")))?;
    db::tallies::store_snapshot(conn, PUBLIC, now, &body)?;
    Ok(stats)
}

/// Each report's outcome as its part of its filing day's tally.
fn parts_of(counted: Vec<db::supervisor::Counted>) -> Vec<ReportTally> {
    counted
        .into_iter()
        .map(|c| ReportTally {
            day: c.outcome.filed_at.date(),
            department: c.department.unwrap_or_default(),
            tally: Tally::of(std::slice::from_ref(&c.outcome)),
            report_id: c.report_id,
        })
        .collect()
}

/// The first day the public statistics count.
fn year_from(now: NaiveDateTime) -> NaiveDate {
    (now - TimeDelta::days(PUBLIC_DAYS)).date()
}

/// The year's tallies (by department code, '' for none) summed into the
/// page's lines, with each department's photo checks.
fn summed(
    conn: &mut DbConnection,
    tallies: impl IntoIterator<Item = (String, Tally)>,
    now: NaiveDateTime,
) -> Result<PublicStats, DbError> {
    let mut total = Tally::default();
    let mut by_department: BTreeMap<String, Tally> = BTreeMap::new();
    for (department, tally) in tallies {
        total.add(&tally);
        if !department.is_empty() {
            by_department.entry(department).or_default().add(&tally);
        }
    }
    let flagged = db::evidence::flagged_by_department(conn)?;
    Ok(PublicStats {
        refreshed_at: now,
        total: total.aggregate(),
        departments: by_department
            .into_iter()
            .map(|(code, tally)| DepartmentStats {
                photos: flagged.get(&code).copied().unwrap_or_default(),
                numbers: tally.aggregate(),
                code,
            })
            .collect(),
    })
}

/// Works out the tallies of `days` from their reports, a window of days
/// at a time (every day of a window is tallied anew).
fn retally(conn: &mut DbConnection, days: &BTreeSet<NaiveDate>) -> Result<(), DbError> {
    let mut days = days.iter().copied().peekable();
    while let Some(first) = days.next() {
        let mut last = first;
        while let Some(&next) = days.peek() {
            if (next - first).num_days() >= WINDOW_DAYS {
                break;
            }
            last = next;
            days.next();
        }
        let start = first.and_time(NaiveTime::MIN);
        let filter = ReportFilter {
            created_from: Some(start),
            created_before: Some(last.and_time(NaiveTime::MIN) + TimeDelta::days(1)),
            ..ReportFilter::default()
        };
        let parts = parts_of(db::supervisor::outcomes(conn, &filter)?);
        let mut tallies: BTreeMap<(NaiveDate, String), Tally> = BTreeMap::new();
        for part in &parts {
            tallies
                .entry((part.day, part.department.clone()))
                .or_default()
                .add(&part.tally);
        }
        let window: Vec<NaiveDate> = first.iter_days().take_while(|d| *d <= last).collect();
        let rows: Vec<(NaiveDate, String, Tally)> = tallies
            .into_iter()
            .map(|((day, department), tally)| (day, department, tally))
            .collect();
        db::tallies::replace_whole_days(conn, &window, &parts, &rows)?;
    }
    Ok(())
}
