//! SLA policies and calendars as the clocks use them.

use std::collections::HashMap;
use std::sync::Arc;

use chrono::NaiveTime;
use diesel::prelude::*;

use super::rows::{CalendarDayRow, CalendarRow, SlaPolicyRow};
use super::schema::{calendar_days, calendars, sla_policies};
use super::{outbox, write_transaction, DbConnection, DbError};
use crate::sla::calendar::{Target, WorkCalendar};
use crate::sla::schedule::{parse_percents, Policy};
use crate::sla::{parse_weekdays, CalendarDay, SlaPlan};

/// Every policy with its calendar, by policy id.
pub fn load_plans(conn: &mut DbConnection) -> Result<HashMap<String, Arc<SlaPlan>>, DbError> {
    let policies = sla_policies::table
        .select(SlaPolicyRow::as_select())
        .load(conn)?;
    let calendars: HashMap<String, CalendarRow> = calendars::table
        .select(CalendarRow::as_select())
        .load(conn)?
        .into_iter()
        .map(|c| (c.id.clone(), c))
        .collect();
    let mut days: HashMap<String, Vec<CalendarDay>> = HashMap::new();
    for d in calendar_days::table
        .select(CalendarDayRow::as_select())
        .load(conn)?
    {
        let kind = d.kind.parse().map_err(DbError::Corrupt)?;
        days.entry(d.calendar_id).or_default().push(CalendarDay {
            day: d.day,
            kind,
            note: d.note,
        });
    }
    policies
        .into_iter()
        .map(|p| {
            let calendar = calendars
                .get(&p.calendar_id)
                .ok_or_else(|| DbError::Corrupt(format!("policy '{}' has no calendar", p.code)))?;
            let plan = SlaPlan {
                policy_code: p.code.clone(),
                policy: policy(&p).map_err(|e| corrupt("policy", &p.code, e))?,
                calendar: work_calendar(calendar, days.get(&calendar.id).map_or(&[], |d| d))
                    .map_err(|e| corrupt("calendar", &calendar.code, e))?,
            };
            Ok((p.id, Arc::new(plan)))
        })
        .collect()
}

fn corrupt(what: &str, code: &str, e: String) -> DbError {
    DbError::Corrupt(format!("{what} '{code}': {e}"))
}

pub fn policy(p: &SlaPolicyRow) -> Result<Policy, String> {
    Ok(Policy {
        moderation: Target::parse(&p.moderation_unit, p.moderation_days)?,
        answer: Target::parse(&p.answer_unit, p.answer_days)?,
        fix: p
            .fix_days
            .map(|n| Target::parse(&p.fix_unit, n))
            .transpose()?,
        resident_check: Target::parse("calendar_days", p.resident_check_days)?,
        warn_percents: parse_percents(&p.warn_percents)?,
        escalation_percents: parse_percents(&p.escalation_percents)?,
    })
}

pub fn work_calendar(c: &CalendarRow, days: &[CalendarDay]) -> Result<WorkCalendar, String> {
    let time = |t: &str| {
        NaiveTime::parse_from_str(t, "%H:%M").map_err(|_| format!("'{t}' is not a time (HH:MM)"))
    };
    let zone = c
        .time_zone
        .parse()
        .map_err(|_| format!("'{}' is not a time zone", c.time_zone))?;
    WorkCalendar::new(
        zone,
        parse_weekdays(&c.weekly_days_off)?,
        time(&c.work_starts)?,
        time(&c.work_ends)?,
        days,
    )
}

/// What one scanner pass did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ScanSummary {
    /// Reports whose clocks were looked at.
    pub looked_at: usize,
    /// Warnings, breaches and escalations recorded.
    pub marks: usize,
}

/// Reports taken per transaction.
pub const SCAN_BATCH: i64 = 500;

/// One pass of the SLA scanner: every report whose `next_sla_at` has come
/// gets its due warnings, breach and escalations recorded — each once, as
/// `sla_marks` holds — with a history event and notifications, and its
/// deadlines and next look worked out again. On PostgreSQL each batch is
/// leased with `FOR UPDATE SKIP LOCKED`, so several instances share the work.
pub fn scan(
    conn: &mut DbConnection,
    snapshot: &super::catalog::Snapshot,
    now: chrono::NaiveDateTime,
) -> Result<ScanSummary, DbError> {
    let mut summary = ScanSummary::default();
    loop {
        let (looked_at, marks) = write_transaction(conn, |conn| scan_batch(conn, snapshot, now))?;
        summary.looked_at += looked_at;
        summary.marks += marks;
        if looked_at < SCAN_BATCH as usize {
            return Ok(summary);
        }
    }
}

fn scan_batch(
    conn: &mut DbConnection,
    snapshot: &super::catalog::Snapshot,
    now: chrono::NaiveDateTime,
) -> Result<(usize, usize), DbError> {
    use super::rows::ReportRow;
    use super::schema::reports;
    let due = || {
        reports::table
            .filter(reports::next_sla_at.le(now))
            .order(reports::next_sla_at)
            .limit(SCAN_BATCH)
    };
    let batch: Vec<ReportRow> = match conn {
        DbConnection::Postgres(c) => due()
            .select(ReportRow::as_select())
            .for_update()
            .skip_locked()
            .load(c)?,
        DbConnection::Sqlite(c) => due().select(ReportRow::as_select()).load(c)?,
    };
    let mut marks = 0;
    for mut report in batch.iter().cloned() {
        marks += look_again(conn, snapshot, &mut report, now)?;
    }
    Ok((batch.len(), marks))
}

/// Records a report's due marks and stores its clocks; returns how many
/// marks were new. The scanner calls it, and so does every move before it
/// changes the report, so a deadline missed between passes is on record.
pub fn look_again(
    conn: &mut DbConnection,
    snapshot: &super::catalog::Snapshot,
    report: &mut super::rows::ReportRow,
    now: chrono::NaiveDateTime,
) -> Result<usize, DbError> {
    use super::rows::{ReportEventRow, SlaMarkRow};
    use super::schema::{report_events, sla_marks};
    use super::workflow::{look_at, plan_of, save_clocks, store_clocks};
    use crate::sla::schedule::{level_name, Mark};
    use crate::workflow::Audience;

    let plan = plan_of(snapshot, report)?;
    let look = look_at(conn, report, plan, now)?;
    let mut recorded = 0;
    for (stage, mark, due_at) in &look.marks {
        let row = SlaMarkRow {
            report_id: report.id.clone(),
            cycle: report.cycle,
            stage: stage.as_str().into(),
            mark: mark.code(),
            due_at: *due_at,
            recorded_at: now,
        };
        let inserted = insert_or_ignore!(conn, sla_marks::table, &row);
        if inserted == 0 {
            continue; // another scanner recorded it
        }
        recorded += 1;
        let note = match mark {
            Mark::Warning(p) => format!("{p}% of the {} target used", stage.as_str()),
            Mark::Breach => format!("the {} deadline passed at {due_at}", stage.as_str()),
            Mark::Escalation(level) => {
                report.escalation_level = report.escalation_level.max(*level as i32);
                format!(
                    "{} overdue: escalated to level {level}, {}",
                    stage.as_str(),
                    level_name(*level)
                )
            }
        };
        let event_id = super::new_id();
        diesel::insert_into(report_events::table)
            .values(ReportEventRow {
                id: event_id.clone(),
                report_id: report.id.clone(),
                actor_id: None,
                actor_role: "system".into(),
                kind: mark.event().into(),
                from_status: Some(report.status.clone()),
                to_status: report.status.clone(),
                note: Some(note.clone()),
                public: matches!(mark, Mark::Breach),
                created_at: now,
            })
            .execute(conn)?;
        let tree = snapshot.map.departments();
        let people = match mark {
            Mark::Warning(_) | Mark::Breach => {
                let mut people = outbox::recipients(conn, report, Audience::Assignee, tree)?;
                people.extend(outbox::recipients(
                    conn,
                    report,
                    Audience::Department,
                    tree,
                )?);
                people
            }
            Mark::Escalation(1) => outbox::recipients(conn, report, Audience::Supervisors, tree)?,
            Mark::Escalation(_) => {
                outbox::supervisors(conn, report.department_id.as_deref(), tree, true)?
            }
        };
        let payload = serde_json::json!({
            "report": report.number,
            "event": mark.event(),
            "stage": stage.as_str(),
            "mark": mark.code(),
            "due_at": due_at,
            "note": note,
        });
        outbox::enqueue(conn, &event_id, mark.event(), people, &payload, now)?;
    }
    store_clocks(report, &look, now);
    report.next_sla_at = look.next;
    save_clocks(conn, report)?;
    Ok(recorded)
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

/// Replaces a policy's targets; `None` when there is no such policy, else
/// how many open reports will have their deadlines worked out again.
pub fn update_policy(
    conn: &mut DbConnection,
    code: &str,
    policy: &Policy,
    now: chrono::NaiveDateTime,
) -> Result<Option<usize>, DbError> {
    let join = |list: &[u32]| {
        list.iter()
            .map(u32::to_string)
            .collect::<Vec<_>>()
            .join(",")
    };
    let value = |t: Target| i32::try_from(t.value()).unwrap_or(i32::MAX);
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
                sla_policies::moderation_days.eq(value(policy.moderation)),
                sla_policies::answer_unit.eq(policy.answer.unit()),
                sla_policies::answer_days.eq(value(policy.answer)),
                sla_policies::fix_unit.eq(policy.fix.map_or("working_days", Target::unit)),
                sla_policies::fix_days.eq(policy.fix.map(value)),
                sla_policies::resident_check_days.eq(value(policy.resident_check)),
                sla_policies::warn_percents.eq(join(&policy.warn_percents)),
                sla_policies::escalation_percents.eq(join(&policy.escalation_percents)),
            ))
            .execute(conn)?;
        super::catalog::bump_catalog_version(conn)?;
        Ok(Some(recount(conn, &[id], now)?))
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
