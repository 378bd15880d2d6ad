//! Applying workflow moves: in one write transaction the report is read
//! (locked on PostgreSQL), the move decided by `workflow::decide`, the report
//! updated, the history event, pause, photos and notifications written, and
//! the clocks recomputed.

use std::collections::HashSet;

use chrono::NaiveDateTime;
use diesel::prelude::*;
use serde_json::json;

use super::catalog::CatalogSnapshot;
use super::reports::StoredPhoto;
use super::rows::{
    AttachmentRow, ReportCheckRow, ReportEventRow, ReportPauseRow, ReportRow, SubscriptionRow,
};
use super::schema::{
    attachments, report_checks, report_events, report_pauses, reports, sla_marks, subscriptions,
};
use super::{new_id, outbox, write_transaction, DbConnection, DbError};
use crate::ledger::{Author, Draft, Kind, Resolution};
use crate::reports::ReportStatus;
use crate::sla::calendar::Interval;
use crate::sla::schedule::{self, ClockReading, Facts, Mark, Stage};
use crate::sla::SlaPlan;
use crate::workflow::{self, Action, Actor, Audience, Case, ClockEffect, Command, Refusal, Role};

#[derive(Debug, thiserror::Error)]
pub enum MoveError {
    #[error("there is no report {0}")]
    NotFound(String),
    #[error(transparent)]
    Refused(#[from] Refusal),
    #[error(transparent)]
    Db(#[from] DbError),
}

impl From<diesel::result::Error> for MoveError {
    fn from(e: diesel::result::Error) -> Self {
        MoveError::Db(e.into())
    }
}

/// A move as asked for.
pub struct Move<'a> {
    pub report_id: &'a str,
    pub action: Action,
    pub command: Command,
    pub actor: Actor,
    pub actor_id: Option<String>,
    pub photos: Vec<StoredPhoto>,
    pub now: NaiveDateTime,
    /// How many answers a reporter may refute (`workflow.refutation_limit`).
    pub refutation_limit: i32,
}

/// What a move did.
#[derive(Debug, Clone)]
pub struct Moved {
    pub number: i64,
    pub from: ReportStatus,
    pub to: ReportStatus,
    pub event_id: String,
}

/// Reads a report for change: locked until the transaction ends.
fn lock_report(conn: &mut DbConnection, id: &str) -> QueryResult<Option<ReportRow>> {
    let query = reports::table.find(id.to_string());
    match conn {
        DbConnection::Postgres(c) => query
            .select(ReportRow::as_select())
            .for_update()
            .first(c)
            .optional(),
        // SQLite's write transaction already holds the only write lock.
        DbConnection::Sqlite(c) => query.select(ReportRow::as_select()).first(c).optional(),
    }
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
pub fn facts(report: &ReportRow, pauses: &[ReportPauseRow]) -> Result<Facts, DbError> {
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

/// The clocks of a stored report at `now`.
pub fn look_at(
    conn: &mut DbConnection,
    report: &ReportRow,
    plan: &SlaPlan,
    now: NaiveDateTime,
) -> Result<ClockReading, DbError> {
    let pauses = pauses_of(conn, report)?;
    let recorded = recorded_marks(conn, report)?;
    let facts = facts(report, &pauses)?;
    Ok(schedule::clocks_at(
        &plan.policy,
        &plan.calendar,
        &facts,
        now,
        |stage: Stage, mark: Mark| recorded.contains(&(stage.as_str().to_string(), mark.code())),
    ))
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

/// Applies one move.
pub fn apply(
    conn: &mut DbConnection,
    snapshot: &CatalogSnapshot,
    request: Move<'_>,
) -> Result<Moved, MoveError> {
    write_transaction(conn, |conn| {
        let mut report = lock_report(conn, request.report_id)?
            .ok_or_else(|| MoveError::NotFound(request.report_id.into()))?;
        let plan = plan_of(snapshot, &report)?;
        let departments = snapshot.map.departments();
        let pauses = pauses_of(conn, &report)?;
        let open_pause = pauses.iter().find(|p| p.ended_at.is_none());
        let case = case_for_move(
            &report,
            plan,
            &pauses,
            request.now,
            request.refutation_limit,
        )?;
        let from = case.status;
        let transition = workflow::decide(
            &case,
            request.action,
            &request.command,
            &request.actor,
            departments,
        )?;
        // Whatever fell due before this move is recorded first.
        super::sla::record_due_marks(
            conn,
            snapshot,
            std::slice::from_mut(&mut report),
            request.now,
        )?;
        let now = request.now;
        let event_id = new_id();
        let mut note = request
            .command
            .reason
            .clone()
            .or_else(|| request.command.answer.clone());

        match request.action {
            Action::Accept => report.moderated_at = Some(now),
            Action::Assign => {
                report.department_id = request.command.department.map(|d| d.to_string());
                report.assignee_id = None;
                note = Some(format!(
                    "assigned to {}",
                    request
                        .command
                        .department
                        .map_or("?", |d| departments.code(d))
                ));
            }
            Action::Return => {
                report.department_id = departments.triage().map(|d| d.to_string());
                report.assignee_id = None;
            }
            Action::Take => {
                report.assignee_id = request.actor_id.clone();
                report.responded_at = report.responded_at.or(Some(now));
            }
            Action::Pause => {
                let (Some(reason), Some(resume_on)) =
                    (request.command.pause_reason, request.command.resume_on)
                else {
                    return Err(
                        DbError::Corrupt("a pause was decided without its reason".into()).into(),
                    );
                };
                diesel::insert_into(report_pauses::table)
                    .values(ReportPauseRow {
                        id: new_id(),
                        report_id: report.id.clone(),
                        cycle: report.cycle,
                        from_status: from.as_str().into(),
                        reason: reason.as_str().into(),
                        note: request.command.reason.clone(),
                        resume_on,
                        started_at: now,
                        ended_at: None,
                        started_by: request.actor_id.clone(),
                    })
                    .execute(conn)?;
                note = Some(match &request.command.reason {
                    Some(text) => format!("{}, until {resume_on}: {text}", reason.as_str()),
                    None => format!("{}, until {resume_on}", reason.as_str()),
                });
            }
            Action::Resume => {
                if let Some(pause) = open_pause {
                    diesel::update(report_pauses::table.find(&pause.id))
                        .set(report_pauses::ended_at.eq(Some(now)))
                        .execute(conn)?;
                }
            }
            Action::Answer => report.resolved_at = Some(now),
            Action::Refute => {
                report.cycle += 1;
                report.cycle_started_at = Some(now);
                report.responded_at = None;
                report.resolved_at = None;
                report.escalation_level += 1;
                if transition.to_supervisor {
                    report.assignee_id = None;
                    note = Some(format!(
                        "{} (refuted {} times, the most allowed: a supervisor answers now)",
                        note.unwrap_or_default(),
                        report.cycle
                    ));
                }
            }
            Action::MarkDuplicate => {
                let number = request.command.original.unwrap_or_default();
                let original = reports::table
                    .filter(reports::number.eq(number))
                    .select(ReportRow::as_select())
                    .first(conn)
                    .optional()?
                    .filter(|o| o.id != report.id)
                    .filter(|o| o.status.parse().is_ok_and(|s: ReportStatus| s.is_open()))
                    .ok_or_else(|| Refusal::Missing {
                        field: "original",
                        message: format!("report {number} is not another open report"),
                    })?;
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
                note = Some(format!("duplicate of report {number}"));
            }
            Action::Escalate => report.escalation_level += 1,
            Action::Reject | Action::Confirm | Action::AutoConfirm | Action::Close => {}
        }
        if transition.rule.clock == ClockEffect::Finished && !transition.to.is_open() {
            report.closed_at = Some(now);
        }
        report.status = transition.to.as_str().into();
        report.updated_at = now;
        let look = look_at(conn, &report, plan, now)?;
        store_clocks(&mut report, &look, now);
        // The move's changes and the clocks it set, in one UPDATE.
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
        diesel::insert_into(report_events::table)
            .values(ReportEventRow {
                id: event_id.clone(),
                report_id: report.id.clone(),
                actor_id: request.actor_id.clone(),
                actor_role: request.actor.role.as_str().into(),
                kind: transition.rule.event.into(),
                from_status: Some(from.as_str().into()),
                to_status: transition.to.as_str().into(),
                note: note.clone(),
                public: transition.rule.public,
                created_at: now,
            })
            .execute(conn)?;
        let photos: Vec<AttachmentRow> = request
            .photos
            .iter()
            .enumerate()
            .map(|(i, p)| p.attachment(&report.id, &event_id, i, now))
            .collect();
        insert_batches!(conn, attachments::table, &photos);
        let drafts = ledger_drafts(&report, &request, transition.rule.ledger);
        super::ledger::append(conn, &drafts, now)?;
        let staff = outbox::People::load(conn, &[report.assignee_id.as_deref().unwrap_or("")])?;
        let mut people = Vec::new();
        for audience in transition.rule.notify {
            people.extend(match audience {
                Audience::Residents => outbox::residents(conn, &report)?,
                staff_audience => staff.of(&report, *staff_audience, departments),
            });
        }
        let payload = json!({
            "report": report.number,
            "report_id": report.id,
            "cycle": report.cycle,
            "event": transition.rule.event,
            "status": report.status,
            "note": note,
            "answer_due_at": report.answer_due_at,
        });
        let messages = outbox::messages(&event_id, transition.rule.event, people, &payload, now);
        outbox::enqueue(conn, &messages)?;
        Ok(Moved {
            number: report.number,
            from,
            to: transition.to,
            event_id,
        })
    })
}

/// The ledger entries of a move.
fn ledger_drafts(report: &ReportRow, request: &Move<'_>, kinds: &[Kind]) -> Vec<Draft> {
    let author = match (request.actor.role, &request.actor_id) {
        (Role::System, _) | (_, None) => Author::System,
        (Role::Resident, Some(id)) => Author::Resident(id.clone()),
        (_, Some(id)) => Author::Staff(id.clone()),
    };
    Resolution {
        report_id: report.id.clone(),
        report_number: report.number,
        author,
        at: request.now,
        text: (request.command.answer.clone()).or_else(|| request.command.reason.clone()),
        photo_digests: request.photos.iter().map(|p| p.hash.clone()).collect(),
    }
    .drafts(kinds)
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

/// Reports auto-confirmed per batch.
const AUTO_CONFIRM_BATCH: i64 = 500;

/// Confirms every answer whose check window closed without the reporter's
/// word, one report per transaction; how many. A report the reporter (or
/// another instance) got to first is passed over.
pub fn auto_confirm_due(
    conn: &mut DbConnection,
    snapshot: &CatalogSnapshot,
    now: NaiveDateTime,
) -> Result<usize, DbError> {
    let mut confirmed = 0;
    loop {
        let due: Vec<String> = reports::table
            .filter(reports::check_due_at.lt(now))
            .filter(reports::status.eq(ReportStatus::Resolved.as_str()))
            .order(reports::check_due_at)
            .limit(AUTO_CONFIRM_BATCH)
            .select(reports::id)
            .load(conn)?;
        for id in &due {
            let moved = apply(
                conn,
                snapshot,
                Move {
                    report_id: id,
                    action: Action::AutoConfirm,
                    command: Command::default(),
                    actor: Actor {
                        role: Role::System,
                        department: None,
                        is_reporter: false,
                    },
                    actor_id: None,
                    photos: Vec::new(),
                    now,
                    refutation_limit: i32::MAX,
                },
            );
            match moved {
                Ok(_) => confirmed += 1,
                Err(MoveError::Refused(_) | MoveError::NotFound(_)) => {}
                Err(MoveError::Db(e)) => return Err(e),
            }
        }
        if (due.len() as i64) < AUTO_CONFIRM_BATCH {
            return Ok(confirmed);
        }
    }
}

/// A resident's answer to the city's answer.
pub struct ResidentCheck<'a> {
    pub report_id: &'a str,
    /// The answer cycle the resident was asked about (from a link); a link
    /// from an earlier answer is refused.
    pub cycle: Option<i32>,
    pub user_id: String,
    pub fixed: bool,
    pub reason: Option<String>,
    /// A refutation's photos (the reporter's only).
    pub photos: Vec<StoredPhoto>,
    pub now: NaiveDateTime,
    pub refutation_limit: i32,
}

/// What a resident's answer did.
#[derive(Debug, Clone)]
pub enum Checked {
    /// The reporter's answer moved the report.
    Moved(Moved),
    /// A follower's answer, counted (their latest answer per cycle counts).
    Counted { number: i64 },
}

/// Records a resident's answer: the reporter's confirms or refutes the
/// answer through the workflow; a follower's is counted.
pub fn resident_check(
    conn: &mut DbConnection,
    snapshot: &CatalogSnapshot,
    check: ResidentCheck<'_>,
) -> Result<Checked, MoveError> {
    let report: ReportRow = reports::table
        .find(check.report_id)
        .select(ReportRow::as_select())
        .first(conn)
        .optional()?
        .ok_or_else(|| MoveError::NotFound(check.report_id.into()))?;
    if check.cycle.is_some_and(|c| c != report.cycle) {
        return Err(Refusal::Closed(format!(
            "this link is for an earlier answer to report {}; the report has moved on since",
            report.number
        ))
        .into());
    }
    if report.reporter_id.as_deref() == Some(check.user_id.as_str()) {
        let moved = apply(
            conn,
            snapshot,
            Move {
                report_id: check.report_id,
                action: if check.fixed {
                    Action::Confirm
                } else {
                    Action::Refute
                },
                command: Command {
                    reason: check.reason,
                    photos: check.photos.len(),
                    ..Command::default()
                },
                actor: Actor {
                    role: Role::Resident,
                    department: None,
                    is_reporter: true,
                },
                actor_id: Some(check.user_id),
                photos: check.photos,
                now: check.now,
                refutation_limit: check.refutation_limit,
            },
        )?;
        return Ok(Checked::Moved(moved));
    }
    let follows: i64 = subscriptions::table
        .filter(subscriptions::report_id.eq(&report.id))
        .filter(subscriptions::user_id.eq(&check.user_id))
        .filter(subscriptions::kind.eq("follower"))
        .count()
        .get_result(conn)?;
    if follows == 0 {
        return Err(Refusal::Forbidden.into());
    }
    let status: ReportStatus = report
        .status
        .parse()
        .map_err(|e| DbError::Corrupt(format!("report {}: {e}", report.number)))?;
    if status != ReportStatus::Resolved {
        return Err(Refusal::NotNow {
            status,
            action: Action::Confirm,
        }
        .into());
    }
    workflow::check_open(report.check_due_at, check.now)?;
    if !check.photos.is_empty() {
        return Err(Refusal::Missing {
            field: "photos",
            message: "only the reporter's refutation takes photos".into(),
        }
        .into());
    }
    let row = ReportCheckRow {
        report_id: report.id.clone(),
        cycle: report.cycle,
        user_id: check.user_id,
        fixed: check.fixed,
        reason: check.reason,
        created_at: check.now,
    };
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
    upsert!(conn, report_checks::table, &row, key, latest);
    Ok(Checked::Counted {
        number: report.number,
    })
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
