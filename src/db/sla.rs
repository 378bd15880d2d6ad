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
    snapshot: &super::catalog::CatalogSnapshot,
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
    snapshot: &super::catalog::CatalogSnapshot,
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
    let mut batch = batch;
    let marks = record_due_marks(conn, snapshot, &mut batch, now)?;
    Ok((batch.len(), marks))
}

/// Records the due marks of reports (locked by the caller: the scanner's
/// batch, or the report a move is about to change) and stores their clocks;
/// returns how many marks were new. Each mark gets its history event and its
/// messages; what is read and written is read and written once for the
/// whole batch, except each report's own clocks.
pub fn record_due_marks(
    conn: &mut DbConnection,
    snapshot: &super::catalog::CatalogSnapshot,
    reports: &mut [super::rows::ReportRow],
    now: chrono::NaiveDateTime,
) -> Result<usize, DbError> {
    use super::rows::{ReportEventRow, ReportPauseRow, SlaMarkRow};
    use super::schema::{report_events, report_pauses, sla_marks};
    use super::workflow::{facts, plan_of, save_clocks, store_clocks};
    use crate::sla::schedule::{self, level_name, Mark};
    use crate::workflow::Audience;
    use std::collections::HashSet;

    if reports.is_empty() {
        return Ok(0);
    }
    let ids: Vec<&str> = reports.iter().map(|r| r.id.as_str()).collect();
    let mut pauses: HashMap<String, Vec<ReportPauseRow>> = HashMap::new();
    let mut recorded: HashSet<(String, i32, String, String)> = HashSet::new();
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
                .load::<(String, i32, String, String)>(conn)?,
        );
    }
    let assignees: Vec<&str> = reports
        .iter()
        .filter_map(|r| r.assignee_id.as_deref())
        .collect();
    let people = outbox::People::load(conn, &assignees)?;
    let tree = snapshot.map.departments();
    let (mut marks, mut events, mut messages) = (Vec::new(), Vec::new(), Vec::new());
    for report in reports.iter_mut() {
        let plan = plan_of(snapshot, report)?;
        let cycle_pauses: Vec<ReportPauseRow> = pauses
            .get(&report.id)
            .map(|all| {
                all.iter()
                    .filter(|p| p.cycle == report.cycle)
                    .cloned()
                    .collect()
            })
            .unwrap_or_default();
        let look = schedule::clocks_at(
            &plan.policy,
            &plan.calendar,
            &facts(report, &cycle_pauses)?,
            now,
            |stage, mark| {
                let key = (
                    report.id.clone(),
                    report.cycle,
                    stage.as_str().to_string(),
                    mark.code(),
                );
                recorded.contains(&key)
            },
        );
        for (stage, mark, due_at) in &look.marks {
            marks.push(SlaMarkRow {
                report_id: report.id.clone(),
                cycle: report.cycle,
                stage: stage.as_str().into(),
                mark: mark.code(),
                due_at: *due_at,
                recorded_at: now,
            });
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
            let recipients = match mark {
                Mark::Warning(_) | Mark::Breach => {
                    let mut to = people.of(report, Audience::Assignee, tree);
                    to.extend(people.of(report, Audience::Department, tree));
                    to
                }
                Mark::Escalation(1) => people.of(report, Audience::Supervisors, tree),
                Mark::Escalation(_) => {
                    people.supervisors(report.department_id.as_deref(), tree, true)
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
            messages.extend(outbox::messages(
                &event_id,
                mark.event(),
                recipients,
                &payload,
                now,
            ));
            events.push(ReportEventRow {
                id: event_id,
                report_id: report.id.clone(),
                actor_id: None,
                actor_role: "system".into(),
                kind: mark.event().into(),
                from_status: Some(report.status.clone()),
                to_status: report.status.clone(),
                note: Some(note),
                public: matches!(mark, Mark::Breach),
                created_at: now,
            });
        }
        store_clocks(report, &look, now);
        report.next_sla_at = look.next;
    }
    // The reports are locked, so no one else records their marks meanwhile;
    // the primary key would refuse a second copy all the same.
    insert_batches!(conn, sla_marks::table, &marks);
    insert_batches!(conn, report_events::table, &events);
    outbox::enqueue(conn, &messages)?;
    for report in reports.iter() {
        save_clocks(conn, report)?;
    }
    Ok(marks.len())
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
