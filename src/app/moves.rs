//! Moving a report through the workflow: staff moves, the reporter's
//! confirmation or refutation, a follower's answer, and the system's
//! auto-confirmations. One move is one write transaction: the report is
//! locked, whatever fell due before the move is recorded, `workflow`
//! decides the move and its effects, and the report, its history event,
//! the photos (already stored), the ledger entries and the messages are
//! written together.

use crate::locale::Text;
use chrono::NaiveDateTime;
use serde_json::json;

use super::clocks::{self, placement};
use crate::db::catalog::CatalogSnapshot;
use crate::db::filing::StoredPhoto;
use crate::db::rows::{AttachmentRow, ReportCheckRow, ReportEventRow, ReportRow};
use crate::db::{self, new_id, outbox, write_transaction, DbConnection, DbError};
use crate::ledger::{Author, Draft, Kind, Resolution};
use crate::notify::dates::{self, Clocks};
use crate::reports::evidence::PhotoCheck;
use crate::reports::history::Detail;
use crate::reports::rating::Rating;
use crate::reports::ReportStatus;
use crate::workflow::{self, Action, Actor, Audience, Command, Refusal, Role};

#[derive(Debug, thiserror::Error)]
pub enum MoveError {
    #[error("there is no report {0}")]
    NotFound(String),
    /// A field names something the city does not have.
    #[error(transparent)]
    Invalid(#[from] crate::reports::ValidationError),
    #[error(transparent)]
    Refused(#[from] Refusal),
    #[error(transparent)]
    Db(#[from] DbError),
}

/// A move as asked for.
pub struct Move<'a> {
    pub report_id: &'a str,
    pub action: Action,
    pub command: Command,
    pub actor: Actor,
    pub actor_id: Option<String>,
    /// What the history says of the move when the workflow says nothing
    /// (a back office's move).
    pub via: Option<Detail>,
    pub photos: Vec<StoredPhoto>,
    /// What was checked of the photos (`app::evidence`), one per photo, or
    /// none.
    pub checks: Vec<PhotoCheck>,
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

/// Applies one move.
pub fn apply(
    conn: &mut DbConnection,
    snapshot: &CatalogSnapshot,
    request: Move<'_>,
) -> Result<Moved, MoveError> {
    write_transaction(conn, |conn| apply_in(conn, snapshot, request))
}

/// Applies one move inside the caller's write transaction.
pub fn apply_in(
    conn: &mut DbConnection,
    snapshot: &CatalogSnapshot,
    request: Move<'_>,
) -> Result<Moved, MoveError> {
    {
        let mut report = db::workflow::lock_report(conn, request.report_id)?
            .ok_or_else(|| MoveError::NotFound(request.report_id.into()))?;
        let plan = db::workflow::plan_of(snapshot, &report)?;
        let departments = snapshot.map.departments();
        let pauses = db::workflow::pauses_of(conn, &report)?;
        let case = db::workflow::case_for_move(
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
        let now = request.now;
        // Whatever fell due before this move is recorded first.
        clocks::record_due_marks(conn, snapshot, std::slice::from_mut(&mut report), now)?;
        let effects = workflow::effects::effects(&transition, &case, &request.command, departments);
        let original = match effects.duplicate_of {
            Some(number) => Some(
                db::workflow::open_original(conn, number, &report.id)?.ok_or_else(|| {
                    Refusal::Missing {
                        field: "original",
                        message: Text::new(
                            format!("сообщение № {number} — не другое открытое сообщение"),
                            format!("report {number} is not another open report"),
                        ),
                    }
                })?,
            ),
            None => None,
        };
        let actor_id = request.actor_id.as_deref();
        db::workflow::record_effects(
            conn,
            &mut report,
            &effects,
            from,
            actor_id,
            original.as_ref(),
            now,
        )?;
        report.status = transition.to.as_str().into();
        report.updated_at = now;
        let reading = clocks::read(conn, &report, plan, now)?;
        db::workflow::store_clocks(&mut report, &reading, now);
        db::workflow::save_move(conn, &report)?;

        let event_id = new_id();
        let note = effects.note;
        let event = ReportEventRow {
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
            details: effects
                .detail
                .as_ref()
                .or(request.via.as_ref())
                .map(Detail::to_json),
        };
        let photos: Vec<AttachmentRow> = request
            .photos
            .iter()
            .enumerate()
            .map(|(i, p)| p.attachment(&report.id, &event_id, i, now))
            .collect();
        db::workflow::record_event(conn, &event, &photos)?;
        if !request.checks.is_empty() {
            db::evidence::record_checks(
                conn,
                &event_id,
                &report.id,
                report.department_id.as_deref(),
                &request.checks,
                now,
            )?;
        }
        if request.action == Action::Answer {
            let prints: Vec<(&str, &[u8])> = request
                .photos
                .iter()
                .map(|p| (p.hash.as_str(), p.print.as_slice()))
                .collect();
            db::evidence::record_prints(conn, report.number, &prints, now)?;
        }
        db::back_office::enqueue(conn, &[(&event.id, &report.id)], now)?;
        if event.public && event.note.is_some() {
            // The city's public words find the report too.
            db::search::enqueue(conn, std::slice::from_ref(&report.id))?;
        }
        let drafts = ledger_drafts(&report, &request, transition.rule.ledger);
        db::ledger::append(conn, &drafts, now)?;

        let staff = outbox::load_staff(conn, &[report.assignee_id.as_deref().unwrap_or("")])?;
        let mut people = Vec::new();
        for audience in transition.rule.notify {
            people.extend(match audience {
                Audience::Residents => outbox::residents(conn, &report.id)?,
                staff_audience => staff.of(placement(&report), *staff_audience, departments),
            });
        }
        let payload = json!({
            "report": report.number,
            "report_id": report.id,
            "cycle": report.cycle,
            "event": transition.rule.event,
            "status": report.status,
            "note": note,
            "date": dates::step_date(transition.rule.event, &Clocks {
                moderating: report.status == ReportStatus::Moderation.as_str(),
                moderation_due: report.moderation_due_at,
                responded: report.responded_at.is_some(),
                answer_due: report.answer_due_at,
                fix_due: report.fix_due_at,
                check_due: report.check_due_at,
                resume_on: effects.opens_pause.as_ref().map(|p| p.resume_on),
            }),
        });
        let messages = outbox::messages(&event_id, transition.rule.event, people, &payload, now);
        outbox::enqueue(conn, &messages)?;
        Ok(Moved {
            number: report.number,
            from,
            to: transition.to,
            event_id,
        })
    }
}

/// A staff member's move as asked for: the department to assign to named
/// by its code, the actor as the audit log records them.
pub struct StaffMove {
    pub report_id: String,
    pub action: Action,
    pub command: Command,
    /// The department's code (assign).
    pub department: Option<String>,
    pub actor: Actor,
    pub actor_id: String,
    pub audit: super::audit::Actor,
    pub photos: Vec<StoredPhoto>,
}

/// Applies a staff member's move with its photos' checks, then records it
/// in the audit log.
fn staff_move(
    app: &super::Services,
    conn: &mut DbConnection,
    asked: StaffMove,
    checks: Vec<PhotoCheck>,
) -> Result<Moved, MoveError> {
    let snapshot = app.catalog_snapshot(conn)?;
    let mut command = asked.command;
    if let Some(code) = asked.department.as_deref() {
        command.department = Some(snapshot.map.departments().id_of(code).ok_or_else(|| {
            crate::reports::ValidationError::unknown(
                "department",
                code,
                ("подразделение", "department"),
            )
        })?);
    }
    let action_name = asked.action.as_str();
    let moved = apply(
        conn,
        &snapshot,
        Move {
            report_id: &asked.report_id,
            action: asked.action,
            command,
            actor: asked.actor,
            actor_id: Some(asked.actor_id),
            via: None,
            photos: asked.photos,
            checks,
            now: app.clock.now(),
            refutation_limit: app.refutation_limit,
        },
    )?;
    audit_report(
        app,
        conn,
        &asked.audit,
        &format!("report.{action_name}"),
        &asked.report_id,
        (
            Some(json!({ "status": moved.from.as_str() })),
            Some(json!({ "status": moved.to.as_str(), "event_id": moved.event_id })),
        ),
    )?;
    Ok(moved)
}

/// Records a step on a report in the audit log.
fn audit_report(
    app: &super::Services,
    conn: &mut DbConnection,
    actor: &super::audit::Actor,
    action: &str,
    report_id: &str,
    (before, after): (Option<serde_json::Value>, Option<serde_json::Value>),
) -> Result<(), DbError> {
    super::audit::record(
        app,
        conn,
        actor,
        super::audit::Entry {
            action,
            object_type: "report",
            object_id: Some(report_id),
            before,
            after,
        },
    )
}

/// What a staff move came to.
#[derive(Debug, Clone)]
pub enum Outcome {
    Moved(Moved),
    /// An answer whose photos were flagged, in a category that holds such
    /// answers: nothing moved; it waits for a supervisor.
    Held(Held),
}

/// An answer held for a supervisor.
#[derive(Debug, Clone)]
pub struct Held {
    pub id: String,
    pub number: i64,
    pub status: ReportStatus,
    pub checks: Vec<PhotoCheck>,
}

/// A staff member's move. An answer's (or any move's) photos are checked
/// first (`app::evidence`); an answer with a flagged photo in a category
/// whose policy is `hold` is held for a supervisor instead of moving the
/// report, once the workflow would allow the move.
pub fn by_staff(
    app: &super::Services,
    conn: &mut DbConnection,
    asked: StaffMove,
) -> Result<Outcome, MoveError> {
    let (checks, facts) =
        super::evidence::check_photos(app, conn, &asked.report_id, &asked.photos)?;
    let policy = facts
        .as_ref()
        .and_then(|f| crate::reports::evidence::Policy::parse(&f.policy));
    let flagged = checks.iter().any(PhotoCheck::flagged);
    match facts {
        Some(facts)
            if asked.action == Action::Answer
                && flagged
                && policy == Some(crate::reports::evidence::Policy::Hold) =>
        {
            hold_answer(app, conn, asked, checks, facts).map(Outcome::Held)
        }
        _ => staff_move(app, conn, asked, checks).map(Outcome::Moved),
    }
}

/// Whether the workflow allows a move now, without making it.
fn permitted(
    conn: &mut DbConnection,
    snapshot: &CatalogSnapshot,
    asked: &StaffMove,
    refutation_limit: i32,
    now: NaiveDateTime,
) -> Result<ReportRow, MoveError> {
    let report = db::workflow::report(conn, &asked.report_id)?
        .ok_or_else(|| MoveError::NotFound(asked.report_id.clone()))?;
    let plan = db::workflow::plan_of(snapshot, &report)?;
    let pauses = db::workflow::pauses_of(conn, &report)?;
    let case = db::workflow::case_for_move(&report, plan, &pauses, now, refutation_limit)?;
    workflow::decide(
        &case,
        asked.action,
        &asked.command,
        &asked.actor,
        snapshot.map.departments(),
    )?;
    Ok(report)
}

fn hold_answer(
    app: &super::Services,
    conn: &mut DbConnection,
    asked: StaffMove,
    checks: Vec<PhotoCheck>,
    facts: db::evidence::ReportFacts,
) -> Result<Held, MoveError> {
    let now = app.clock.now();
    let snapshot = app.catalog_snapshot(conn)?;
    let report = permitted(conn, &snapshot, &asked, app.refutation_limit, now)?;
    let to_json = |value: serde_json::Result<String>| {
        value.map_err(|e| DbError::Corrupt(format!("a held answer: {e}")))
    };
    let row = db::evidence::HeldRow {
        id: new_id(),
        report_id: asked.report_id.clone(),
        cycle: facts.cycle,
        actor_id: asked.actor_id.clone(),
        actor_role: asked.actor.role.as_str().into(),
        answer: asked.command.answer.clone(),
        photos: to_json(serde_json::to_string(&asked.photos))?,
        checks: to_json(serde_json::to_string(&checks))?,
        created_at: now,
        decided_at: None,
        decided_by: None,
        decision: None,
        reason: None,
    };
    let reasons: Vec<&str> = checks.iter().flat_map(PhotoCheck::reasons).collect();
    write_transaction(conn, |conn| {
        db::evidence::hold(conn, &row)?;
        db::reports::add_note(
            conn,
            &row.report_id,
            (&row.actor_id, &row.actor_role),
            &format!(
                "Ответ задержан до решения руководителя: фото не прошли проверку ({r}). \
                 The answer is held for a supervisor: its photos were flagged ({r}).",
                r = reasons.join(", ")
            ),
            now,
        )?;
        audit_report(
            app,
            conn,
            &asked.audit,
            "report.answer_held",
            &asked.report_id,
            (None, Some(json!({ "held": row.id, "reasons": reasons }))),
        )?;
        Ok::<_, MoveError>(())
    })?;
    Ok(Held {
        id: row.id,
        number: report.number,
        status: report.status.parse().unwrap_or(ReportStatus::InProgress),
        checks,
    })
}

/// A supervisor's decision on a held answer.
pub struct HeldDecision<'a> {
    pub id: &'a str,
    pub approve: bool,
    pub reason: Option<String>,
    pub supervisor_id: String,
    pub audit: super::audit::Actor,
}

/// Approves a held answer (it goes out as its author sent it, with its
/// photos' checks) or rejects it (the report stays with the crew, the reason
/// in its staff history). `authorise` says whether the caller may decide for
/// the report's department. The answer's move, when approved.
pub fn decide_held<E: From<MoveError>>(
    app: &super::Services,
    conn: &mut DbConnection,
    decision: HeldDecision<'_>,
    authorise: impl FnOnce(crate::policy::Target, &crate::routing::Departments) -> Result<(), E>,
) -> Result<Option<Moved>, E> {
    let missing = || MoveError::NotFound(decision.id.to_string());
    let held = db::evidence::held(conn, decision.id)
        .map_err(MoveError::from)?
        .ok_or_else(missing)?;
    let (department, _) = db::reports::involvement(conn, &held.report_id, &decision.supervisor_id)
        .map_err(MoveError::from)?
        .ok_or_else(missing)?;
    let snapshot = app.catalog_snapshot(conn).map_err(MoveError::from)?;
    authorise(
        crate::policy::Target::Report {
            department: department.as_deref().and_then(|d| d.parse().ok()),
            involves_caller: false,
        },
        snapshot.map.departments(),
    )?;
    let decided_already = || {
        MoveError::Refused(Refusal::Closed(Text::new(
            "по этому ответу уже принято решение",
            "this answer has been decided already",
        )))
    };
    if held.decided_at.is_some() {
        return Err(decided_already().into());
    }
    let now = app.clock.now();
    let verdict = if decision.approve {
        "approved"
    } else {
        "rejected"
    };
    let outcome = (|| {
        let moved = if decision.approve {
            let HeldAnswer { photos, checks, .. } = HeldAnswer::of(&held)?;
            let role = Role::parse(&held.actor_role).unwrap_or(Role::Crew);
            let author_department = db::evidence::department_of(conn, &held.actor_id)?;
            Some(staff_move(
                app,
                conn,
                StaffMove {
                    report_id: held.report_id.clone(),
                    action: Action::Answer,
                    command: Command {
                        answer: held.answer.clone(),
                        photos: photos.len(),
                        ..Command::default()
                    },
                    department: None,
                    actor: Actor {
                        role,
                        department: author_department.and_then(|d| d.parse().ok()),
                        is_reporter: false,
                    },
                    actor_id: held.actor_id.clone(),
                    audit: decision.audit.clone(),
                    photos,
                },
                checks,
            )?)
        } else {
            None
        };
        if !db::evidence::decide(
            conn,
            &held.id,
            verdict,
            &decision.supervisor_id,
            decision.reason.as_deref(),
            now,
        )? {
            return Err(decided_already());
        }
        if !decision.approve {
            let reason = decision.reason.as_deref().unwrap_or("—");
            db::reports::add_note(
                conn,
                &held.report_id,
                (&decision.supervisor_id, "supervisor"),
                &format!(
                    "Задержанный ответ отклонён: {reason}. The held answer was rejected: {reason}."
                ),
                now,
            )?;
        }
        audit_report(
            app,
            conn,
            &decision.audit,
            &format!("report.answer_{verdict}"),
            &held.report_id,
            (
                Some(json!({ "held": held.id })),
                Some(json!({ "decision": verdict, "reason": decision.reason })),
            ),
        )?;
        Ok(moved)
    })();
    outcome.map_err(E::from)
}

/// An answer waiting for a supervisor, as its author sent it.
#[derive(Debug, Clone)]
pub struct HeldAnswer {
    pub id: String,
    pub report_id: String,
    pub author_id: String,
    pub answer: Option<String>,
    pub created_at: NaiveDateTime,
    pub photos: Vec<StoredPhoto>,
    pub checks: Vec<PhotoCheck>,
}

impl HeldAnswer {
    fn of(row: &db::evidence::HeldRow) -> Result<HeldAnswer, DbError> {
        let corrupt =
            |e: serde_json::Error| DbError::Corrupt(format!("held answer {}: {e}", row.id));
        Ok(HeldAnswer {
            id: row.id.clone(),
            report_id: row.report_id.clone(),
            author_id: row.actor_id.clone(),
            answer: row.answer.clone(),
            created_at: row.created_at,
            photos: serde_json::from_str(&row.photos).map_err(corrupt)?,
            checks: serde_json::from_str(&row.checks).map_err(corrupt)?,
        })
    }
}

/// Answers waiting for a supervisor: all, or a report's.
pub fn held_answers(
    conn: &mut DbConnection,
    report_id: Option<&str>,
) -> Result<Vec<HeldAnswer>, DbError> {
    db::evidence::waiting(conn, report_id)?
        .iter()
        .map(HeldAnswer::of)
        .collect()
}

/// One report of a bulk move: its id, its number if it exists, and what
/// came of the move.
pub type BulkOutcome = (String, Option<i64>, Result<Moved, MoveError>);

/// Moves each of `ids` as `template` says (its report id aside), each in a
/// move of its own: (id, the report's number if it exists, what came of
/// it), in the order asked. A move refused is named, never half done.
pub fn bulk(
    app: &super::Services,
    conn: &mut DbConnection,
    ids: &[String],
    template: &StaffMove,
) -> Result<Vec<BulkOutcome>, DbError> {
    let mut done = Vec::with_capacity(ids.len());
    for id in ids {
        let asked = StaffMove {
            report_id: id.clone(),
            action: template.action,
            command: template.command.clone(),
            department: template.department.clone(),
            actor: template.actor,
            actor_id: template.actor_id.clone(),
            audit: template.audit.clone(),
            photos: Vec::new(),
        };
        let outcome = match staff_move(app, conn, asked, Vec::new()) {
            Err(MoveError::Db(e)) => return Err(e),
            outcome => outcome,
        };
        let number = match &outcome {
            Ok(moved) => Some(moved.number),
            Err(_) => db::reports::number_and_status(conn, id)?.map(|(n, _)| n),
        };
        done.push((id.clone(), number, outcome));
    }
    Ok(done)
}

/// A note staff add to a report's history (no move), once `authorise`
/// allows it for the report's department; the new event's id.
pub fn add_note<E: From<MoveError>>(
    app: &super::Services,
    conn: &mut DbConnection,
    report_id: &str,
    author: (&str, &str),
    note: &str,
    authorise: impl FnOnce(crate::policy::Target, &crate::routing::Departments) -> Result<(), E>,
) -> Result<String, E> {
    let missing = || MoveError::NotFound(report_id.to_string());
    let (department, _) = db::reports::involvement(conn, report_id, author.0)
        .map_err(MoveError::from)?
        .ok_or_else(missing)?;
    let snapshot = app.catalog_snapshot(conn).map_err(MoveError::from)?;
    let target = crate::policy::Target::Report {
        department: department.as_deref().and_then(|d| d.parse().ok()),
        involves_caller: false,
    };
    authorise(target, snapshot.map.departments())?;
    let added = db::reports::add_note(conn, report_id, author, note, app.clock.now());
    Ok(added.map_err(MoveError::from)?.ok_or_else(missing)?)
}

/// A report as the workflow judges a move on it now (what the report
/// page offers), its current cycle's pauses given.
pub fn case_now(
    app: &super::Services,
    snapshot: &CatalogSnapshot,
    report: &ReportRow,
    pauses: &[crate::db::rows::ReportPauseRow],
) -> Result<workflow::Case, DbError> {
    let plan = db::workflow::plan_of(snapshot, report)?;
    db::workflow::case_for_move(report, plan, pauses, app.clock.now(), app.refutation_limit)
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
        evidence: crate::reports::evidence::canonical(&request.checks),
    }
    .drafts(kinds)
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
        let due = db::workflow::check_windows_closed(conn, now, AUTO_CONFIRM_BATCH)?;
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
                    via: None,
                    photos: Vec::new(),
                    checks: Vec::new(),
                    now,
                    refutation_limit: i32::MAX,
                },
            );
            match moved {
                Ok(_) => confirmed += 1,
                Err(MoveError::Refused(_) | MoveError::NotFound(_) | MoveError::Invalid(_)) => {}
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
    /// What was checked of them.
    pub checks: Vec<PhotoCheck>,
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
    let report = db::workflow::report(conn, check.report_id)?
        .ok_or_else(|| MoveError::NotFound(check.report_id.into()))?;
    if check.cycle.is_some_and(|c| c != report.cycle) {
        let number = report.number;
        return Err(Refusal::Closed(Text::new(
            format!("эта ссылка — к прежнему ответу на сообщение № {number}; с тех пор оно продвинулось дальше"),
            format!("this link is for an earlier answer to report {number}; the report has moved on since"),
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
                via: None,
                photos: check.photos,
                checks: check.checks,
                now: check.now,
                refutation_limit: check.refutation_limit,
            },
        )?;
        return Ok(Checked::Moved(moved));
    }
    if !db::workflow::follows(conn, &report.id, &check.user_id)? {
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
            message: Text::new(
                "фотографии принимаются только с опровержением заявителя",
                "only the reporter's refutation takes photos",
            ),
        }
        .into());
    }
    db::workflow::record_check(
        conn,
        &ReportCheckRow {
            report_id: report.id.clone(),
            cycle: report.cycle,
            user_id: check.user_id,
            fixed: check.fixed,
            reason: check.reason,
            created_at: check.now,
        },
    )?;
    Ok(Checked::Counted {
        number: report.number,
    })
}

/// A resident's answer as it stands once recorded: the report's number,
/// whether it counted as the reporter's or a follower's, the status now
/// and the followers' answers to the current answer so far.
pub struct CheckTally {
    pub number: i64,
    pub counted_as: &'static str,
    pub status: &'static str,
    pub followers_fixed: i64,
    pub followers_not_fixed: i64,
}

/// Records a resident's answer (see [`resident_check`]) with their rating
/// of the answer, if they gave one, and counts where the residents' check
/// stands.
pub fn check_answer(
    app: &super::Services,
    conn: &mut DbConnection,
    report_id: &str,
    asked: (Option<i32>, String),
    (fixed, reason, rating): (bool, Option<String>, Option<Rating>),
    photos: Vec<StoredPhoto>,
) -> Result<CheckTally, MoveError> {
    let snapshot = app.catalog_snapshot(conn)?;
    let (cycle, user_id) = asked;
    let now = app.clock.now();
    // The answer rated is the one being checked: the cycle before a
    // refutation opens the next.
    let rated_cycle = db::reports::cycle_of(conn, report_id)?;
    let rater = user_id.clone();
    let (checks, _) = super::evidence::check_photos(app, conn, report_id, &photos)?;
    let checked = resident_check(
        conn,
        &snapshot,
        ResidentCheck {
            report_id,
            cycle,
            user_id,
            fixed,
            reason,
            photos,
            checks,
            now,
            refutation_limit: app.refutation_limit,
        },
    )?;
    if let Some(rating) = &rating {
        db::workflow::record_rating(conn, (report_id, rated_cycle, &rater), rating, now)?;
    }
    let (number, counted_as, status) = match checked {
        Checked::Moved(moved) => (moved.number, "reporter", moved.to.as_str()),
        Checked::Counted { number } => (number, "follower", "resolved"),
    };
    let cycle = db::reports::cycle_of(conn, report_id)?;
    let (followers_fixed, followers_not_fixed) =
        db::workflow::check_counts(conn, report_id, cycle)?;
    Ok(CheckTally {
        number,
        counted_as,
        status,
        followers_fixed,
        followers_not_fixed,
    })
}

/// The user with an account at a check link's address.
pub fn user_at(conn: &mut DbConnection, email: &str) -> Result<Option<String>, DbError> {
    db::access::user_by_email(conn, email)
}
