//! What the SLA clocks read and write: due reports leased for a scan, their
//! pauses and recorded marks, the marks written; and the city's policies
//! and calendars changed (read as plans by `catalog`).

use std::collections::{HashMap, HashSet};

use diesel::prelude::*;

use super::rows::{CalendarDayRow, CalendarRow, SlaPolicyRow};
use super::schema::{calendar_days, calendars, sla_policies};
use super::{write_transaction, DbConnection, DbError};
use crate::sla::calendar::Target;
use crate::sla::schedule::Policy;

/// Reports whose `next_sla_at` has come (at most `limit`, the earliest
/// first). On PostgreSQL they are leased with `FOR UPDATE SKIP LOCKED`
/// until the transaction ends, so several instances share the work.
pub fn lease_due(
    conn: &mut DbConnection,
    now: chrono::NaiveDateTime,
    limit: i64,
) -> Result<Vec<super::rows::ReportRow>, DbError> {
    use super::rows::ReportRow;
    use super::schema::reports;
    let due = || {
        reports::table
            .filter(reports::next_sla_at.le(now))
            .order(reports::next_sla_at)
            .limit(limit)
    };
    Ok(match conn {
        DbConnection::Postgres(c) => due()
            .select(ReportRow::as_select())
            .for_update()
            .skip_locked()
            .load(c)?,
        DbConnection::Sqlite(c) => due().select(ReportRow::as_select()).load(c)?,
    })
}

/// A recorded mark: (report id, cycle, stage, mark code).
pub type MarkKey = (String, i32, String, String);

/// What the clocks of some reports need besides the reports.
#[derive(Debug, Default)]
pub struct ClockInputs {
    /// Every pause by report, oldest first.
    pub pauses: HashMap<String, Vec<super::rows::ReportPauseRow>>,
    /// The marks already recorded.
    pub recorded: HashSet<MarkKey>,
}

/// The pauses and recorded marks of these reports.
pub fn clock_inputs(conn: &mut DbConnection, ids: &[&str]) -> Result<ClockInputs, DbError> {
    use super::rows::ReportPauseRow;
    use super::schema::{report_pauses, sla_marks};
    let mut pauses: HashMap<String, Vec<ReportPauseRow>> = HashMap::new();
    let mut recorded = HashSet::new();
    for chunk in ids.chunks(1000) {
        for pause in report_pauses::table
            .filter(report_pauses::report_id.eq_any(chunk))
            .order(report_pauses::started_at)
            .select(ReportPauseRow::as_select())
            .load(conn)?
        {
            pauses
                .entry(pause.report_id.clone())
                .or_default()
                .push(pause);
        }
        recorded.extend(
            sla_marks::table
                .filter(sla_marks::report_id.eq_any(chunk))
                .select((
                    sla_marks::report_id,
                    sla_marks::cycle,
                    sla_marks::stage,
                    sla_marks::mark,
                ))
                .load::<MarkKey>(conn)?,
        );
    }
    Ok(ClockInputs { pauses, recorded })
}

/// Writes marks with their history events. The primary key refuses a
/// second copy of a mark; the caller holds the reports locked, so no one
/// else records theirs meanwhile.
pub fn record_marks(
    conn: &mut DbConnection,
    marks: &[super::rows::SlaMarkRow],
    events: &[super::rows::ReportEventRow],
) -> Result<(), DbError> {
    use super::schema::{report_events, sla_marks};
    insert_batches!(conn, sla_marks::table, marks);
    insert_batches!(conn, report_events::table, events);
    Ok(())
}

/// Open reports whose clocks a catalogue change may move: the scanner looks
/// at them again at `now` and works their deadlines out anew.
fn recount(
    conn: &mut DbConnection,
    policy_ids: &[String],
    now: chrono::NaiveDateTime,
) -> Result<usize, DbError> {
    use super::schema::{categories, reports};
    let statuses: Vec<&str> = super::supervisor::IN_HAND
        .iter()
        .map(|s| s.as_str())
        .chain(["resolved"])
        .collect();
    let category_ids: Vec<String> = categories::table
        .filter(categories::sla_policy_id.eq_any(policy_ids))
        .select(categories::id)
        .load(conn)?;
    Ok(diesel::update(
        reports::table
            .filter(reports::category_id.eq_any(&category_ids))
            .filter(reports::status.eq_any(&statuses)),
    )
    .set(reports::next_sla_at.eq(Some(now)))
    .execute(conn)?)
}

fn joined(list: &[u32]) -> String {
    list.iter()
        .map(u32::to_string)
        .collect::<Vec<_>>()
        .join(",")
}

fn target_value(t: Target) -> i32 {
    i32::try_from(t.value()).unwrap_or(i32::MAX)
}

/// Creates a policy with these targets on the calendar with this id.
pub fn create_policy(
    conn: &mut DbConnection,
    code: &str,
    name: &str,
    calendar_id: &str,
    policy: &Policy,
) -> Result<(), DbError> {
    write_transaction(conn, |conn| {
        diesel::insert_into(sla_policies::table)
            .values(SlaPolicyRow {
                id: super::new_id(),
                code: code.to_string(),
                name: name.to_string(),
                calendar_id: calendar_id.to_string(),
                moderation_days: target_value(policy.moderation),
                answer_days: target_value(policy.answer),
                fix_days: policy.fix.map(target_value),
                resident_check_days: target_value(policy.resident_check),
                warn_percents: joined(&policy.warn_percents),
                moderation_unit: policy.moderation.unit().to_string(),
                answer_unit: policy.answer.unit().to_string(),
                fix_unit: policy.fix.map_or("working_days", Target::unit).to_string(),
                escalation_percents: joined(&policy.escalation_percents),
            })
            .execute(conn)?;
        super::catalog::bump_catalog_version(conn)
    })
}

/// Replaces a policy's targets; `None` when there is no such policy, else
/// how many open reports will have their deadlines worked out again.
pub fn update_policy(
    conn: &mut DbConnection,
    code: &str,
    policy: &Policy,
    now: chrono::NaiveDateTime,
) -> Result<Option<usize>, DbError> {
    write_transaction(conn, |conn| {
        let Some(id) = sla_policies::table
            .filter(sla_policies::code.eq(code))
            .select(sla_policies::id)
            .first::<String>(conn)
            .optional()?
        else {
            return Ok(None);
        };
        diesel::update(sla_policies::table.find(&id))
            .set((
                sla_policies::moderation_unit.eq(policy.moderation.unit()),
                sla_policies::moderation_days.eq(target_value(policy.moderation)),
                sla_policies::answer_unit.eq(policy.answer.unit()),
                sla_policies::answer_days.eq(target_value(policy.answer)),
                sla_policies::fix_unit.eq(policy.fix.map_or("working_days", Target::unit)),
                sla_policies::fix_days.eq(policy.fix.map(target_value)),
                sla_policies::resident_check_days.eq(target_value(policy.resident_check)),
                sla_policies::warn_percents.eq(joined(&policy.warn_percents)),
                sla_policies::escalation_percents.eq(joined(&policy.escalation_percents)),
            ))
            .execute(conn)?;
        super::catalog::bump_catalog_version(conn)?;
        Ok(Some(recount(conn, &[id], now)?))
    })
}

/// The calendar with this code.
pub fn calendar(conn: &mut DbConnection, code: &str) -> Result<Option<CalendarRow>, DbError> {
    Ok(calendars::table
        .filter(calendars::code.eq(code))
        .select(CalendarRow::as_select())
        .first(conn)
        .optional()?)
}

/// Creates a calendar or replaces its week (by id); how many open reports
/// will have their deadlines worked out again.
pub fn put_calendar(
    conn: &mut DbConnection,
    row: &CalendarRow,
    exists: bool,
    now: chrono::NaiveDateTime,
) -> Result<usize, DbError> {
    write_transaction(conn, |conn| {
        if !exists {
            diesel::insert_into(calendars::table)
                .values(row)
                .execute(conn)?;
            super::catalog::bump_catalog_version(conn)?;
            return Ok(0);
        }
        diesel::update(calendars::table.find(&row.id))
            .set((
                calendars::name.eq(&row.name),
                calendars::time_zone.eq(&row.time_zone),
                calendars::weekly_days_off.eq(&row.weekly_days_off),
                calendars::work_starts.eq(&row.work_starts),
                calendars::work_ends.eq(&row.work_ends),
            ))
            .execute(conn)?;
        super::catalog::bump_catalog_version(conn)?;
        let policies: Vec<String> = sla_policies::table
            .filter(sla_policies::calendar_id.eq(&row.id))
            .select(sla_policies::id)
            .load(conn)?;
        recount(conn, &policies, now)
    })
}

/// Sets (or with `None` removes) a dated exception in a calendar; `None`
/// when there is no such calendar, else how many open reports will have
/// their deadlines worked out again.
pub fn set_calendar_day(
    conn: &mut DbConnection,
    calendar_code: &str,
    day: chrono::NaiveDate,
    entry: Option<(crate::sla::DayKind, String)>,
    now: chrono::NaiveDateTime,
) -> Result<Option<usize>, DbError> {
    write_transaction(conn, |conn| {
        let Some(id) = calendars::table
            .filter(calendars::code.eq(calendar_code))
            .select(calendars::id)
            .first::<String>(conn)
            .optional()?
        else {
            return Ok(None);
        };
        diesel::delete(calendar_days::table.find((&id, day))).execute(conn)?;
        if let Some((kind, note)) = entry {
            diesel::insert_into(calendar_days::table)
                .values(CalendarDayRow {
                    calendar_id: id.clone(),
                    day,
                    kind: kind.as_str().into(),
                    note,
                })
                .execute(conn)?;
        }
        super::catalog::bump_catalog_version(conn)?;
        let policies: Vec<String> = sla_policies::table
            .filter(sla_policies::calendar_id.eq(&id))
            .select(sla_policies::id)
            .load(conn)?;
        Ok(Some(recount(conn, &policies, now)?))
    })
}
