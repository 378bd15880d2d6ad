//! The statistics' stored tallies (`sla::stats::Tally`): each report's part
//! (its outcome counted alone) and their sums per filing day and
//! department; which reports changed since a time; and the snapshots the
//! public page is served from.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{NaiveDate, NaiveDateTime};
use diesel::dsl::{count_star, max, min, sum};
use diesel::prelude::*;

use super::schema::{outcome_days, report_tallies, reports, sla_marks, stats_snapshots};
use super::{write_transaction, DbConnection, DbError};
use crate::sla::stats::Tally;

/// Ids (and rows) are taken this many at a time in `IN (…)` lists.
const CHUNK: usize = 500;

/// One report's part of its filing day's tally under its department
/// (its code, '' for none).
#[derive(Debug, Clone)]
pub struct ReportTally {
    pub report_id: String,
    pub day: NaiveDate,
    pub department: String,
    /// The report's outcome as a tally of one.
    pub tally: Tally,
}

#[derive(Insertable)]
#[diesel(table_name = report_tallies)]
struct ReportTallyRow<'a> {
    report_id: &'a str,
    day: NaiveDate,
    department: &'a str,
    answered: i32,
    overdue: i32,
    on_time: i32,
    reopened: i32,
    disputed: i32,
    ratings: i32,
    rating_sum: i32,
    answer_minutes: Option<i32>,
}

impl<'a> From<&'a ReportTally> for ReportTallyRow<'a> {
    fn from(r: &'a ReportTally) -> Self {
        let n = |v: u64| i32::try_from(v).unwrap_or(i32::MAX);
        ReportTallyRow {
            report_id: &r.report_id,
            day: r.day,
            department: &r.department,
            answered: n(r.tally.answered),
            overdue: n(r.tally.overdue),
            on_time: n(r.tally.on_time),
            reopened: n(r.tally.reopened),
            disputed: n(r.tally.disputed),
            ratings: n(r.tally.ratings),
            rating_sum: n(r.tally.rating_sum),
            answer_minutes: r
                .tally
                .answer_minutes
                .keys()
                .next()
                .map(|m| i32::try_from(*m).unwrap_or(i32::MAX)),
        }
    }
}

/// The numbers of the reports filed from `filed_from` on that changed (or
/// were given a deadline mark) at or after `since`.
pub fn changed_reports(
    conn: &mut DbConnection,
    filed_from: NaiveDateTime,
    since: NaiveDateTime,
) -> Result<Vec<i64>, DbError> {
    let mut numbers: BTreeSet<i64> = reports::table
        .filter(reports::updated_at.ge(since))
        .filter(reports::created_at.ge(filed_from))
        .select(reports::number)
        .load::<i64>(conn)?
        .into_iter()
        .collect();
    numbers.extend(
        sla_marks::table
            .inner_join(reports::table)
            .filter(sla_marks::recorded_at.ge(since))
            .filter(reports::created_at.ge(filed_from))
            .select(reports::number)
            .load::<i64>(conn)?,
    );
    Ok(numbers.into_iter().collect())
}

/// Stores these reports' parts anew and sums their days again from every
/// part of those days, in one transaction (a refresh that ran meanwhile
/// and wrote the same days is overwritten by sums that include its parts).
pub fn retally_reports(conn: &mut DbConnection, parts: &[ReportTally]) -> Result<(), DbError> {
    let days: Vec<NaiveDate> = parts
        .iter()
        .map(|p| p.day)
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    write_transaction(conn, |conn| {
        for chunk in parts.chunks(CHUNK) {
            let ids: Vec<&str> = chunk.iter().map(|p| p.report_id.as_str()).collect();
            diesel::delete(report_tallies::table.filter(report_tallies::report_id.eq_any(ids)))
                .execute(conn)?;
        }
        store_parts(conn, parts)?;
        let rows = summed_days(conn, &days)?;
        replace_days_in(conn, &days, &rows)
    })
}

/// Replaces every part of these whole days, and the days' sums, with the
/// given parts and sums, in one transaction.
pub fn replace_whole_days(
    conn: &mut DbConnection,
    days: &[NaiveDate],
    parts: &[ReportTally],
    rows: &[(NaiveDate, String, Tally)],
) -> Result<(), DbError> {
    write_transaction(conn, |conn| {
        for chunk in days.chunks(CHUNK) {
            diesel::delete(report_tallies::table.filter(report_tallies::day.eq_any(chunk)))
                .execute(conn)?;
        }
        store_parts(conn, parts)?;
        replace_days_in(conn, days, rows)
    })
}

fn store_parts(conn: &mut DbConnection, parts: &[ReportTally]) -> Result<(), DbError> {
    let rows: Vec<ReportTallyRow> = parts.iter().map(ReportTallyRow::from).collect();
    insert_batches!(conn, report_tallies::table, &rows);
    Ok(())
}

/// These days' sums of their reports' parts, by department.
fn summed_days(
    conn: &mut DbConnection,
    days: &[NaiveDate],
) -> Result<Vec<(NaiveDate, String, Tally)>, DbError> {
    type Sum = Option<i64>;
    /// Day, department, reports, then the sums in `Tally`'s order.
    type Sums = (NaiveDate, String, i64, Sum, Sum, Sum, Sum, Sum, Sum, Sum);
    let mut tallies: BTreeMap<(NaiveDate, String), Tally> = BTreeMap::new();
    let count = |n: Option<i64>| u64::try_from(n.unwrap_or_default()).unwrap_or_default();
    for chunk in days.chunks(CHUNK) {
        let sums: Vec<Sums> = report_tallies::table
            .filter(report_tallies::day.eq_any(chunk))
            .group_by((report_tallies::day, report_tallies::department))
            .select((
                report_tallies::day,
                report_tallies::department,
                count_star(),
                sum(report_tallies::answered),
                sum(report_tallies::overdue),
                sum(report_tallies::on_time),
                sum(report_tallies::reopened),
                sum(report_tallies::disputed),
                sum(report_tallies::ratings),
                sum(report_tallies::rating_sum),
            ))
            .load(conn)?;
        for (
            day,
            department,
            reports,
            answered,
            overdue,
            on_time,
            reopened,
            disputed,
            ratings,
            rating_sum,
        ) in sums
        {
            tallies.insert(
                (day, department),
                Tally {
                    reports: count(Some(reports)),
                    answered: count(answered),
                    overdue: count(overdue),
                    on_time: count(on_time),
                    reopened: count(reopened),
                    disputed: count(disputed),
                    ratings: count(ratings),
                    rating_sum: count(rating_sum),
                    answer_minutes: BTreeMap::new(),
                },
            );
        }
        let minutes: Vec<(NaiveDate, String, Option<i32>, i64)> = report_tallies::table
            .filter(report_tallies::day.eq_any(chunk))
            .filter(report_tallies::answer_minutes.is_not_null())
            .group_by((
                report_tallies::day,
                report_tallies::department,
                report_tallies::answer_minutes,
            ))
            .select((
                report_tallies::day,
                report_tallies::department,
                report_tallies::answer_minutes,
                count_star(),
            ))
            .load(conn)?;
        for (day, department, m, n) in minutes {
            let (Some(m), Some(tally)) = (m, tallies.get_mut(&(day, department))) else {
                continue;
            };
            tally
                .answer_minutes
                .insert(u32::try_from(m).unwrap_or_default(), count(Some(n)));
        }
    }
    Ok(tallies
        .into_iter()
        .map(|((day, department), tally)| (day, department, tally))
        .collect())
}

/// Every day from `from` (or the first report's filing, if later) to the
/// last report's filing.
pub fn days_from(conn: &mut DbConnection, from: NaiveDate) -> Result<BTreeSet<NaiveDate>, DbError> {
    let (first, last): (Option<NaiveDateTime>, Option<NaiveDateTime>) = reports::table
        .select((min(reports::created_at), max(reports::created_at)))
        .first(conn)?;
    let (Some(first), Some(last)) = (first, last) else {
        return Ok(BTreeSet::new());
    };
    Ok(first
        .date()
        .max(from)
        .iter_days()
        .take_while(|d| *d <= last.date())
        .collect())
}

/// Replaces the tallies of `days` with `rows` (day, department code or '',
/// tally), inside the caller's transaction.
fn replace_days_in(
    conn: &mut DbConnection,
    days: &[NaiveDate],
    rows: &[(NaiveDate, String, Tally)],
) -> Result<(), DbError> {
    let signed = |n: u64| i64::try_from(n).unwrap_or(i64::MAX);
    for chunk in days.chunks(CHUNK) {
        diesel::delete(outcome_days::table.filter(outcome_days::day.eq_any(chunk)))
            .execute(conn)?;
    }
    for (day, department, t) in rows {
        let values = (
            outcome_days::reports.eq(signed(t.reports)),
            outcome_days::answered.eq(signed(t.answered)),
            outcome_days::overdue.eq(signed(t.overdue)),
            outcome_days::on_time.eq(signed(t.on_time)),
            outcome_days::reopened.eq(signed(t.reopened)),
            outcome_days::disputed.eq(signed(t.disputed)),
            outcome_days::ratings.eq(signed(t.ratings)),
            outcome_days::rating_sum.eq(signed(t.rating_sum)),
            outcome_days::answer_minutes.eq(t.minutes_text()),
        );
        // Another refresh may have written the day meanwhile: the
        // later one's tally stands.
        upsert!(
            conn,
            outcome_days::table,
            (
                outcome_days::day.eq(day),
                outcome_days::department.eq(department),
                values.clone(),
            ),
            (outcome_days::day, outcome_days::department),
            values
        );
    }
    Ok(())
}

/// The tallies of the days from `from` on, by department code ('' for
/// none).
pub fn since(conn: &mut DbConnection, from: NaiveDate) -> Result<Vec<(String, Tally)>, DbError> {
    type Stored = (String, i64, i64, i64, i64, i64, i64, i64, i64, String);
    let rows: Vec<Stored> = outcome_days::table
        .filter(outcome_days::day.ge(from))
        .select((
            outcome_days::department,
            outcome_days::reports,
            outcome_days::answered,
            outcome_days::overdue,
            outcome_days::on_time,
            outcome_days::reopened,
            outcome_days::disputed,
            outcome_days::ratings,
            outcome_days::rating_sum,
            outcome_days::answer_minutes,
        ))
        .load(conn)?;
    let count = |n: i64| u64::try_from(n).unwrap_or_default();
    rows.into_iter()
        .map(|r| {
            let answer_minutes = Tally::parse_minutes(&r.9).ok_or_else(|| {
                DbError::Corrupt(format!("the tallied times to answer '{}' are garbled", r.9))
            })?;
            Ok((
                r.0,
                Tally {
                    reports: count(r.1),
                    answered: count(r.2),
                    overdue: count(r.3),
                    on_time: count(r.4),
                    reopened: count(r.5),
                    disputed: count(r.6),
                    ratings: count(r.7),
                    rating_sum: count(r.8),
                    answer_minutes,
                },
            ))
        })
        .collect()
}

/// A stored snapshot: when it was worked out, and its body.
pub fn snapshot(
    conn: &mut DbConnection,
    name: &str,
) -> Result<Option<(NaiveDateTime, String)>, DbError> {
    Ok(stats_snapshots::table
        .find(name)
        .select((stats_snapshots::refreshed_at, stats_snapshots::body))
        .first(conn)
        .optional()?)
}

/// Stores a snapshot worked out from what was there at `refreshed_at`.
pub fn store_snapshot(
    conn: &mut DbConnection,
    name: &str,
    refreshed_at: NaiveDateTime,
    body: &str,
) -> Result<(), DbError> {
    let set = (
        stats_snapshots::refreshed_at.eq(refreshed_at),
        stats_snapshots::body.eq(body),
    );
    upsert!(
        conn,
        stats_snapshots::table,
        (stats_snapshots::name.eq(name), set),
        stats_snapshots::name,
        set
    );
    Ok(())
}
