//! What a workflow move reads and writes: the report locked for change,
//! its pauses and recorded marks, the move's changes (`workflow::Effects`)
//! written onto it, the resident checks. What a move does is decided by
//! `workflow`; which transaction holds what by `app::moves`.

use std::collections::HashSet;

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::catalog::CatalogSnapshot;
use super::rows::{ReportCheckRow, ReportPauseRow, ReportRow, SubscriptionRow};
use super::schema::{report_checks, report_pauses, reports, sla_marks, subscriptions};
use super::{new_id, DbConnection, DbError};
use crate::reports::ReportStatus;
use crate::sla::calendar::Interval;
use crate::sla::schedule::{ClockReading, Facts, Stage};
use crate::sla::SlaPlan;
use crate::workflow::effects::{Assignee, Department, Effects};
use crate::workflow::Case;

/// Reads a report for change: locked until the transaction ends.
pub fn lock_report(conn: &mut DbConnection, id: &str) -> Result<Option<ReportRow>, DbError> {
    let query = reports::table.find(id.to_string());
    Ok(match conn {
        DbConnection::Postgres(c) => query
            .select(ReportRow::as_select())
            .for_update()
            .first(c)
            .optional()?,
        // SQLite's write transaction already holds the only write lock.
        DbConnection::Sqlite(c) => query.select(ReportRow::as_select()).first(c).optional()?,
    })
}

/// The pauses of a report's current cycle.
pub fn pauses_of(
    conn: &mut DbConnection,
    report: &ReportRow,
) -> Result<Vec<ReportPauseRow>, DbError> {
    Ok(report_pauses::table
        .filter(report_pauses::report_id.eq(&report.id))
        .filter(report_pauses::cycle.eq(report.cycle))
        .order(report_pauses::started_at)
        .select(ReportPauseRow::as_select())
        .load(conn)?)
}

/// Every pause of a report, oldest first.
pub fn all_pauses(
    conn: &mut DbConnection,
    report_id: &str,
) -> Result<Vec<ReportPauseRow>, DbError> {
    Ok(report_pauses::table
        .filter(report_pauses::report_id.eq(report_id))
        .order(report_pauses::started_at)
        .select(ReportPauseRow::as_select())
        .load(conn)?)
}

/// What the clocks need of a stored report.
pub fn deadline_facts(report: &ReportRow, pauses: &[ReportPauseRow]) -> Result<Facts, DbError> {
    Ok(Facts {
        status: report
            .status
            .parse()
            .map_err(|e| DbError::Corrupt(format!("report {}: {e}", report.number)))?,
        created_at: report.created_at,
        cycle_started_at: report.cycle_started_at.unwrap_or(report.created_at),
        responded_at: report.responded_at,
        resolved_at: report.resolved_at,
        pauses: pauses
            .iter()
            .map(|p| Interval {
                from: p.started_at,
                until: p.ended_at,
            })
            .collect(),
    })
}

/// The marks already recorded for the report's current cycle.
pub fn recorded_marks(
    conn: &mut DbConnection,
    report: &ReportRow,
) -> Result<HashSet<(String, String)>, DbError> {
    Ok(sla_marks::table
        .filter(sla_marks::report_id.eq(&report.id))
        .filter(sla_marks::cycle.eq(report.cycle))
        .select((sla_marks::stage, sla_marks::mark))
        .load::<(String, String)>(conn)?
        .into_iter()
        .collect())
}

/// Stores the deadlines of the running clocks (a stage that has ended
/// keeps its last deadline, for the statistics), and when to look again: at
/// once when marks are already due.
pub fn store_clocks(report: &mut ReportRow, look: &ClockReading, now: NaiveDateTime) {
    let runs = |stage| look.running.contains(&stage);
    if runs(Stage::Moderation) {
        report.moderation_due_at = look.due.moderation;
    }
    if runs(Stage::Answer) {
        report.answer_due_at = look.due.answer;
    }
    if runs(Stage::Fix) {
        report.fix_due_at = look.due.fix;
    }
    report.check_due_at = look.due.resident_check;
    report.next_sla_at = if look.marks.is_empty() {
        look.next
    } else {
        Some(now)
    };
}

/// The assignments of a report's deadlines, escalation level and next look,
/// for an UPDATE's `set` (alone, or beside a move's other changes).
macro_rules! clock_changes {
    ($report:expr) => {
        (
            reports::escalation_level.eq($report.escalation_level),
            reports::moderation_due_at.eq($report.moderation_due_at),
            reports::answer_due_at.eq($report.answer_due_at),
            reports::fix_due_at.eq($report.fix_due_at),
            reports::check_due_at.eq($report.check_due_at),
            reports::next_sla_at.eq($report.next_sla_at),
        )
    };
}

/// Writes a report's deadlines, escalation level and next look.
pub fn save_clocks(conn: &mut DbConnection, report: &ReportRow) -> Result<(), DbError> {
    diesel::update(reports::table.find(&report.id))
        .set(clock_changes!(report))
        .execute(conn)?;
    Ok(())
}

/// The plan of a report's category.
pub fn plan_of<'a>(
    snapshot: &'a CatalogSnapshot,
    report: &ReportRow,
) -> Result<&'a SlaPlan, DbError> {
    let id = uuid::Uuid::parse_str(&report.category_id).ok();
    snapshot
        .categories
        .values()
        .find(|c| Some(c.routing.id) == id)
        .map(|c| c.sla.as_ref())
        .ok_or_else(|| DbError::Corrupt(format!("report {} has no active category", report.number)))
}

/// Where a report stands, as the workflow judges it (`pauses`: its current
/// cycle's).
pub fn case_for_move(
    report: &ReportRow,
    plan: &SlaPlan,
    pauses: &[ReportPauseRow],
    now: NaiveDateTime,
    refutation_limit: i32,
) -> Result<Case, DbError> {
    let open_pause = pauses.iter().find(|p| p.ended_at.is_none());
    Ok(Case {
        status: report
            .status
            .parse()
            .map_err(|e| DbError::Corrupt(format!("report {}: {e}", report.number)))?,
        department: report.department_id.as_deref().and_then(|d| d.parse().ok()),
        paused_from: open_pause.and_then(|p| p.from_status.parse().ok()),
        fix_target: plan.policy.fix.is_some(),
        today: plan.calendar.local_date(now),
        now,
        check_due_at: report.check_due_at,
        // Only a refutation starts a new cycle.
        refutations: report.cycle,
        refutation_limit,
    })
}

/// Another open report by its number, which a report may duplicate.
pub fn open_original(
    conn: &mut DbConnection,
    number: i64,
    not_id: &str,
) -> Result<Option<ReportRow>, DbError> {
    Ok(reports::table
        .filter(reports::number.eq(number))
        .select(ReportRow::as_select())
        .first(conn)
        .optional()?
        .filter(|o| o.id != not_id)
        .filter(|o| o.status.parse().is_ok_and(|s: ReportStatus| s.is_open())))
}

/// Writes a move's effects: onto `report` (saved by `save_move` once its
/// clocks are worked out) and into the pauses and, for a duplicate, the
/// original's followers and support count.
pub fn record_effects(
    conn: &mut DbConnection,
    report: &mut ReportRow,
    effects: &Effects,
    from: ReportStatus,
    actor_id: Option<&str>,
    original: Option<&ReportRow>,
    now: NaiveDateTime,
) -> Result<(), DbError> {
    if effects.moderated {
        report.moderated_at = Some(now);
    }
    if let Department::Set(department) = effects.department {
        report.department_id = department.map(|d| d.to_string());
    }
    match effects.assignee {
        Assignee::Keep => {}
        Assignee::Clear => report.assignee_id = None,
        Assignee::Actor => report.assignee_id = actor_id.map(str::to_string),
    }
    if effects.responded {
        report.responded_at = report.responded_at.or(Some(now));
    }
    if effects.resolved {
        report.resolved_at = Some(now);
    }
    if effects.new_cycle {
        report.cycle += 1;
        report.cycle_started_at = Some(now);
        report.responded_at = None;
        report.resolved_at = None;
    }
    if effects.escalate {
        report.escalation_level += 1;
    }
    if effects.closes {
        report.closed_at = Some(now);
    }
    if let Some(pause) = &effects.opens_pause {
        diesel::insert_into(report_pauses::table)
            .values(ReportPauseRow {
                id: new_id(),
                report_id: report.id.clone(),
                cycle: report.cycle,
                from_status: from.as_str().into(),
                reason: pause.reason.as_str().into(),
                note: pause.note.clone(),
                resume_on: pause.resume_on,
                started_at: now,
                ended_at: None,
                started_by: actor_id.map(str::to_string),
            })
            .execute(conn)?;
    }
    if effects.ends_pause {
        diesel::update(
            report_pauses::table
                .filter(report_pauses::report_id.eq(&report.id))
                .filter(report_pauses::ended_at.is_null()),
        )
        .set(report_pauses::ended_at.eq(Some(now)))
        .execute(conn)?;
    }
    if let Some(original) = original {
        report.duplicate_of = Some(original.id.clone());
        // The original's followers gain the reporter.
        if let Some(reporter) = &report.reporter_id {
            let joined = insert_or_ignore!(
                conn,
                subscriptions::table,
                follower(&original.id, reporter, now)
            );
            if joined > 0 {
                diesel::update(reports::table.find(&original.id))
                    .set(reports::support_count.eq(reports::support_count + 1))
                    .execute(conn)?;
            }
        }
    }
    Ok(())
}

/// Saves a moved report: its status, the fields the move changed and the
/// clocks it set, in one UPDATE.
pub fn save_move(conn: &mut DbConnection, report: &ReportRow) -> Result<(), DbError> {
    diesel::update(reports::table.find(&report.id))
        .set((
            (
                reports::status.eq(&report.status),
                reports::updated_at.eq(report.updated_at),
                reports::department_id.eq(&report.department_id),
                reports::assignee_id.eq(&report.assignee_id),
                reports::duplicate_of.eq(&report.duplicate_of),
                reports::moderated_at.eq(report.moderated_at),
                reports::responded_at.eq(report.responded_at),
                reports::resolved_at.eq(report.resolved_at),
                reports::closed_at.eq(report.closed_at),
                reports::cycle.eq(report.cycle),
                reports::cycle_started_at.eq(report.cycle_started_at),
            ),
            clock_changes!(report),
        ))
        .execute(conn)?;
    Ok(())
}

fn follower(report_id: &str, user_id: &str, now: NaiveDateTime) -> SubscriptionRow {
    SubscriptionRow {
        id: new_id(),
        report_id: report_id.to_string(),
        user_id: user_id.to_string(),
        kind: "follower".into(),
        created_at: now,
        unsubscribed_at: None,
    }
}

/// Reports whose resident-check window closed without the reporter's word
/// (at most `limit`, the longest-waiting first).
pub fn check_windows_closed(
    conn: &mut DbConnection,
    now: NaiveDateTime,
    limit: i64,
) -> Result<Vec<String>, DbError> {
    Ok(reports::table
        .filter(reports::check_due_at.lt(now))
        .filter(reports::status.eq(ReportStatus::Resolved.as_str()))
        .order(reports::check_due_at)
        .limit(limit)
        .select(reports::id)
        .load(conn)?)
}

/// A report as it stands (unlocked).
pub fn report(conn: &mut DbConnection, id: &str) -> Result<Option<ReportRow>, DbError> {
    Ok(reports::table
        .find(id)
        .select(ReportRow::as_select())
        .first(conn)
        .optional()?)
}

/// Whether someone follows a report.
pub fn follows(conn: &mut DbConnection, report_id: &str, user_id: &str) -> Result<bool, DbError> {
    let follows: i64 = subscriptions::table
        .filter(subscriptions::report_id.eq(report_id))
        .filter(subscriptions::user_id.eq(user_id))
        .filter(subscriptions::kind.eq("follower"))
        .count()
        .get_result(conn)?;
    Ok(follows > 0)
}

/// Records a follower's answer to the current answer; their latest per
/// cycle counts.
pub fn record_check(conn: &mut DbConnection, row: &ReportCheckRow) -> Result<(), DbError> {
    let key = (
        report_checks::report_id,
        report_checks::cycle,
        report_checks::user_id,
    );
    let latest = (
        report_checks::fixed.eq(row.fixed),
        report_checks::reason.eq(row.reason.clone()),
        report_checks::created_at.eq(row.created_at),
    );
    upsert!(conn, report_checks::table, row, key, latest);
    Ok(())
}

/// Records a resident's rating of the answer of `cycle`, beside the
/// report's department; their latest per cycle counts.
pub fn record_rating(
    conn: &mut DbConnection,
    (report_id, cycle, user_id): (&str, i32, &str),
    rating: &crate::reports::rating::Rating,
    now: NaiveDateTime,
) -> Result<(), DbError> {
    use super::schema::ratings;
    let department: Option<String> = reports::table
        .find(report_id)
        .select(reports::department_id)
        .first(conn)?;
    let row = (
        ratings::report_id.eq(report_id),
        ratings::cycle.eq(cycle),
        ratings::user_id.eq(user_id),
        ratings::department_id.eq(department.clone()),
        ratings::rating.eq(i32::from(rating.stars())),
        ratings::comment.eq(rating.comment()),
        ratings::created_at.eq(now),
    );
    let key = (ratings::report_id, ratings::cycle, ratings::user_id);
    let latest = (
        ratings::department_id.eq(department),
        ratings::rating.eq(i32::from(rating.stars())),
        ratings::comment.eq(rating.comment()),
        ratings::created_at.eq(now),
    );
    upsert!(conn, ratings::table, row, key, latest);
    Ok(())
}

/// Followers' answers to a report's current answer: (fixed, not fixed).
pub fn check_counts(
    conn: &mut DbConnection,
    report_id: &str,
    cycle: i32,
) -> Result<(i64, i64), DbError> {
    let answers: Vec<bool> = report_checks::table
        .filter(report_checks::report_id.eq(report_id))
        .filter(report_checks::cycle.eq(cycle))
        .select(report_checks::fixed)
        .load(conn)?;
    let fixed = answers.iter().filter(|f| **f).count() as i64;
    Ok((fixed, answers.len() as i64 - fixed))
}

/// Writes a move's history event with the photos sent along.
pub fn record_event(
    conn: &mut DbConnection,
    event: &super::rows::ReportEventRow,
    photos: &[super::rows::AttachmentRow],
) -> Result<(), DbError> {
    use super::schema::{attachments, report_events};
    diesel::insert_into(report_events::table)
        .values(event)
        .execute(conn)?;
    insert_batches!(conn, attachments::table, photos);
    Ok(())
}
