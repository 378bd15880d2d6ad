//! The workflow: how a report moves from moderation to closure, who may move
//! it, what each move needs and what it causes. Pure: the caller says who is
//! acting and where the report stands; `decide` answers with the transition
//! or the reason it is refused.
//!
//! | action | from | to | who | needs |
//! |---|---|---|---|---|
//! | `accept` | moderation | assigned | supervisor, admin | — |
//! | `reject` | moderation | rejected | supervisor, admin | reason |
//! | `mark_duplicate` | moderation, assigned, returned | duplicate | supervisor, admin | the original's number |
//! | `assign` | assigned, returned, reopened | assigned | supervisor, admin | a department |
//! | `take` | assigned, reopened | in_progress | crew, supervisor, admin | — |
//! | `pause` | assigned, in_progress, reopened | paused | crew, supervisor, admin | a typed reason and the expected resume date |
//! | `resume` | paused | the status it was paused in | crew, supervisor, admin | — |
//! | `answer` | assigned, in_progress, reopened | resolved | crew, supervisor, admin | answer text; a photo when the category has a fix target |
//! | `return` | assigned, in_progress, reopened | returned (to triage) | crew, supervisor, admin | reason |
//! | `confirm` | resolved | confirmed | the reporter | — |
//! | `refute` | resolved | reopened | the reporter | reason |
//! | `auto_confirm` | resolved | confirmed | the system | — |
//! | `close` | confirmed | closed | supervisor, admin, the system | — |
//! | `escalate` | any status in the city's hands | the same, one escalation level up | supervisor, admin | reason; the supervisors above hear of it |
//!
//! Scope: crew act on their own department's reports, supervisors on their
//! department's and its children's, admins on all. Anyone else gets the same
//! refusal whatever the report's state, so a refusal never tells another
//! department anything about the report.

pub mod canned;
pub mod effects;
pub mod rules;

pub use rules::{Action, Audience, ClockEffect, Rule, Who, RULES};

use crate::locale::Text;
use chrono::{NaiveDate, NaiveDateTime};
use uuid::Uuid;

use crate::reports::ReportStatus;
use crate::routing::Departments;

/// Who acts: the policy's roles.
pub use crate::policy::Role;

/// Who is acting.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Actor {
    pub role: Role,
    pub department: Option<Uuid>,
    /// The resident who filed the report.
    pub is_reporter: bool,
}

/// Why a report was paused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PauseReason {
    WaitingForResident,
    SeasonalWork,
    ThirdParty,
    Procurement,
}

impl PauseReason {
    pub const ALL: [PauseReason; 4] = [
        PauseReason::WaitingForResident,
        PauseReason::SeasonalWork,
        PauseReason::ThirdParty,
        PauseReason::Procurement,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            PauseReason::WaitingForResident => "waiting_for_resident",
            PauseReason::SeasonalWork => "seasonal_work",
            PauseReason::ThirdParty => "third_party",
            PauseReason::Procurement => "procurement",
        }
    }

    pub fn parse(text: &str) -> Option<PauseReason> {
        PauseReason::ALL.into_iter().find(|r| r.as_str() == text)
    }
}

/// What the actor asks for, with whatever they sent along.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Command {
    pub reason: Option<String>,
    pub answer: Option<String>,
    pub photos: usize,
    pub pause_reason: Option<PauseReason>,
    pub resume_on: Option<NaiveDate>,
    pub department: Option<Uuid>,
    pub original: Option<i64>,
}

/// Where the report stands, as far as the workflow cares.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Case {
    pub status: ReportStatus,
    pub department: Option<Uuid>,
    /// The status a paused report returns to.
    pub paused_from: Option<ReportStatus>,
    /// Whether the category's SLA policy has a fix target (work on the
    /// ground, to be shown in a photo).
    pub fix_target: bool,
    /// Today in the city, for checking an expected resume date.
    pub today: NaiveDate,
    /// Now, for the resident-check window.
    pub now: NaiveDateTime,
    /// When the reporter's time to confirm or refute the answer ends.
    pub check_due_at: Option<NaiveDateTime>,
    /// How many times the reporter has refuted an answer, and how many times
    /// they may: the refutation that reaches the limit hands the report to a
    /// supervisor, whose answer can no longer be refuted.
    pub refutations: i32,
    pub refutation_limit: i32,
}

/// An allowed move.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Transition {
    pub action: Action,
    pub from: ReportStatus,
    pub to: ReportStatus,
    pub rule: &'static Rule,
    /// A refutation that reached the limit: a supervisor now answers.
    pub to_supervisor: bool,
}

/// Why a move is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    #[error("you may not act on this report")]
    Forbidden,
    #[error("a report that is {status} cannot be given '{action}'")]
    NotNow {
        status: ReportStatus,
        action: Action,
    },
    /// The move is not possible any more (a window closed, a limit was
    /// reached).
    #[error("{0}")]
    Closed(Text),
    #[error("{field}: {message}")]
    Missing { field: &'static str, message: Text },
}

impl Refusal {
    /// Why, in each language (a `Missing` field's problem without its
    /// name).
    pub fn text(&self) -> Text {
        match self {
            Refusal::Forbidden => Text::new(
                "вы не можете действовать по этому сообщению",
                "you may not act on this report",
            ),
            Refusal::NotNow { status, action } => {
                let (status, action) = (status.words(), action.words());
                Text::new(
                    format!(
                        "сообщение в статусе «{}» сейчас нельзя {}",
                        status.get(crate::locale::Locale::Ru),
                        action.get(crate::locale::Locale::Ru)
                    ),
                    format!(
                        "a report that is {} cannot be {} now",
                        status.en(),
                        action.en()
                    ),
                )
            }
            Refusal::Closed(text) | Refusal::Missing { message: text, .. } => text.clone(),
        }
    }
}

/// Whether `actor` acts within their scope on a report of `department`.
/// The reach is the policy's (`policy::Permission::MoveReport`).
pub fn in_scope(actor: &Actor, department: Option<Uuid>, departments: &Departments) -> bool {
    use crate::policy::{reaches, scope, Permission};
    reaches(
        scope(Some(actor.role), Permission::MoveReport),
        actor.department,
        department,
        departments,
    )
}

fn allowed(who: &[Who], actor: &Actor, scoped: bool) -> bool {
    who.iter().any(|w| match w {
        Who::Reporter => actor.role == Role::Resident && actor.is_reporter,
        Who::Crew => actor.role == Role::Crew && scoped,
        Who::Supervisor => actor.role == Role::Supervisor && scoped,
        Who::Admin => actor.role == Role::Admin,
        Who::System => actor.role == Role::System,
    })
}

/// Decides one attempted move.
pub fn decide(
    case: &Case,
    action: Action,
    command: &Command,
    actor: &Actor,
    departments: &Departments,
) -> Result<Transition, Refusal> {
    let rule = rules::rule(action);
    let scoped = in_scope(actor, case.department, departments);
    if !allowed(rule.who, actor, scoped) {
        return Err(Refusal::Forbidden);
    }
    if !rule.from.contains(&case.status) {
        return Err(Refusal::NotNow {
            status: case.status,
            action,
        });
    }
    check_limits(case, action, actor)?;
    check_needs(case, action, command, departments)?;
    let to = match action {
        Action::Resume => case.paused_from.unwrap_or(ReportStatus::Assigned),
        Action::Escalate => case.status,
        _ => rule.to,
    };
    Ok(Transition {
        action,
        from: case.status,
        to,
        rule,
        to_supervisor: action == Action::Refute && case.refutations + 1 >= case.refutation_limit,
    })
}

/// The moves `actor` may make on the report now, in the table's order: the
/// buttons a page offers. Each still goes through [`decide`] with what the
/// person fills in (a reason, an answer, a department).
pub fn available(case: &Case, actor: &Actor, departments: &Departments) -> Vec<Action> {
    let scoped = in_scope(actor, case.department, departments);
    Action::ALL
        .into_iter()
        .filter(|&action| {
            let rule = rules::rule(action);
            !rule.who.iter().all(|w| *w == Who::System)
                && allowed(rule.who, actor, scoped)
                && rule.from.contains(&case.status)
                && check_limits(case, action, actor).is_ok()
        })
        .collect()
}

/// The moves that need nothing but a click (accept, take, resume) that a
/// staff member may make on a report of `status` in their scope: what the
/// queue offers beside each report.
pub fn quick_moves(status: ReportStatus, actor: &Actor) -> Vec<Action> {
    [Action::Accept, Action::Take, Action::Resume]
        .into_iter()
        .filter(|&action| {
            let rule = rules::rule(action);
            rule.from.contains(&status) && allowed(rule.who, actor, true)
        })
        .collect()
}

/// Whether residents may still answer the city's answer: until the check
/// window closes (after that the scanner confirms it).
pub fn check_open(check_due_at: Option<NaiveDateTime>, now: NaiveDateTime) -> Result<(), Refusal> {
    match check_due_at {
        Some(due) if now > due => Err(Refusal::Closed(Text::new(
            "время подтвердить или опровергнуть ответ закончилось; решение считается подтверждённым",
            "the time to confirm or refute the answer has ended; the fix counts as confirmed",
        ))),
        _ => Ok(()),
    }
}

/// The resident check's window and the refutation limit.
fn check_limits(case: &Case, action: Action, actor: &Actor) -> Result<(), Refusal> {
    let limit_reached = case.refutations >= case.refutation_limit;
    match action {
        Action::Confirm | Action::Refute => check_open(case.check_due_at, case.now)?,
        Action::Answer if limit_reached && actor.role == Role::Crew => {
            let n = case.refutations;
            return Err(Refusal::Closed(Text::new(
                format!("заявитель опроверг ответ столько раз, сколько можно ({n}): на это сообщение отвечает руководитель"),
                format!("the reporter refuted {n} answers, the most allowed: a supervisor answers this report"),
            )));
        }
        _ => {}
    }
    if action == Action::Refute && limit_reached {
        let n = case.refutations;
        return Err(Refusal::Closed(Text::new(
            format!("ответ опровергали столько раз, сколько можно ({n}): ответ руководителя остаётся в силе; подтвердите его или дождитесь конца срока проверки"),
            format!("the answer was refuted {n} times, the most allowed: the supervisor's answer stands; confirm it or let the window close"),
        )));
    }
    Ok(())
}

fn text_given(text: &Option<String>) -> bool {
    text.as_deref().is_some_and(|t| !t.trim().is_empty())
}

/// The longest reason or answer accepted.
pub const MAX_TEXT_CHARS: usize = 4000;

fn check_needs(
    case: &Case,
    action: Action,
    command: &Command,
    departments: &Departments,
) -> Result<(), Refusal> {
    let missing = |field: &'static str, (ru, en): (&str, &str)| {
        Err(Refusal::Missing {
            field,
            message: Text::new(ru, en),
        })
    };
    for (field, text) in [("reason", &command.reason), ("answer", &command.answer)] {
        if text
            .as_deref()
            .is_some_and(|t| t.chars().count() > MAX_TEXT_CHARS)
        {
            return missing(
                field,
                ("длиннее 4000 символов", "is longer than 4000 characters"),
            );
        }
    }
    match action {
        Action::Reject | Action::Return | Action::Refute | Action::Escalate
            if !text_given(&command.reason) =>
        {
            missing("reason", ("обязательное поле: объясните причину", "is required: say why"))
        }
        Action::Answer if !text_given(&command.answer) => {
            missing(
                "answer",
                (
                    "обязательное поле: расскажите жителю, что сделано",
                    "is required: tell the resident what was done",
                ),
            )
        }
        Action::Answer if case.fix_target && command.photos == 0 => missing(
            "photos",
            (
                "для этой категории нужна хотя бы одна фотография работы",
                "at least one photo of the work is required for this category",
            ),
        ),
        Action::Pause if command.pause_reason.is_none() => missing(
            "pause_reason",
            (
                "обязательное поле: waiting_for_resident, seasonal_work, third_party или procurement",
                "is required: waiting_for_resident, seasonal_work, third_party or procurement",
            ),
        ),
        Action::Pause => match command.resume_on {
            None => missing(
                "resume_on",
                (
                    "обязательное поле: дата, когда работа возобновится",
                    "is required: the date work is expected to resume",
                ),
            ),
            Some(day) if day <= case.today => missing(
                "resume_on",
                ("должна быть позже сегодняшнего дня", "must be a date after today"),
            ),
            Some(_) => Ok(()),
        },
        Action::Assign => match command.department {
            None => missing(
                "department",
                (
                    "обязательное поле: подразделение, которому назначить",
                    "is required: the department to assign to",
                ),
            ),
            Some(d) if !departments.contains(d) => missing(
                "department",
                (
                    "не подразделение этого города",
                    "is not a department of this city",
                ),
            ),
            Some(d) if Some(d) == departments.triage() => missing(
                "department",
                (
                    "это подразделение модерации; назначьте подразделению, которое делает работу",
                    "is the triage department; assign to a department that does the work",
                ),
            ),
            Some(_) => Ok(()),
        },
        Action::MarkDuplicate if command.original.is_none() => {
            missing(
                "original",
                (
                    "обязательное поле: номер исходного сообщения",
                    "is required: the number of the original report",
                ),
            )
        }
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests;
