//! The statistics' stored tallies (`sla::stats::Tally`) per filing day and
//! department, which days changed since a time, and the snapshots the
//! public page is served from.

use std::collections::BTreeSet;

use chrono::{NaiveDate, NaiveDateTime};
use diesel::dsl::{max, min};
use diesel::prelude::*;

use super::schema::{outcome_days, reports, sla_marks, stats_snapshots};
use super::{write_transaction, DbConnection, DbError};
use crate::sla::stats::Tally;

/// The filing days of the reports changed (or given a deadline mark) at or
/// after `since`.
pub fn changed_days(
    conn: &mut DbConnection,
    since: NaiveDateTime,
) -> Result<BTreeSet<NaiveDate>, DbError> {
    let mut filed: Vec<NaiveDateTime> = reports::table
        .filter(reports::updated_at.ge(since))
        .select(reports::created_at)
        .load(conn)?;
    filed.extend(
        sla_marks::table
            .inner_join(reports::table)
            .filter(sla_marks::recorded_at.ge(since))
            .select(reports::created_at)
            .load::<NaiveDateTime>(conn)?,
    );
    Ok(filed.into_iter().map(|at| at.date()).collect())
}

/// Every day from the first report's filing to the last's.
pub fn all_days(conn: &mut DbConnection) -> Result<BTreeSet<NaiveDate>, DbError> {
    let (first, last): (Option<NaiveDateTime>, Option<NaiveDateTime>) = reports::table
        .select((min(reports::created_at), max(reports::created_at)))
        .first(conn)?;
    let (Some(first), Some(last)) = (first, last) else {
        return Ok(BTreeSet::new());
    };
    Ok(first
        .date()
        .iter_days()
        .take_while(|d| *d <= last.date())
        .collect())
}

/// Replaces the tallies of `days` with `rows` (day, department code or '',
/// tally), in one transaction.
pub fn replace_days(
    conn: &mut DbConnection,
    days: &[NaiveDate],
    rows: &[(NaiveDate, String, Tally)],
) -> Result<(), DbError> {
    let signed = |n: u64| i64::try_from(n).unwrap_or(i64::MAX);
    write_transaction(conn, |conn| {
        for chunk in days.chunks(500) {
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
    })
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
