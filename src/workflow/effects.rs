//! What a decided move changes, as data: the report's fields, the pause it
//! opens or ends, the duplicate link and the note its history event
//! carries. The use case has `db/` write exactly this; nothing here knows
//! how a report is stored.

use chrono::NaiveDate;
use uuid::Uuid;

use super::{Action, Case, Command, PauseReason, Transition};
use crate::reports::history::Detail;
use crate::routing::Departments;

/// Who the report is assigned to after the move.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Assignee {
    Keep,
    /// Nobody: the department (or a supervisor) picks it up.
    Clear,
    /// The person acting.
    Actor,
}

/// A pause the move opens.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PauseStart {
    pub reason: PauseReason,
    pub resume_on: NaiveDate,
    /// The actor's words, kept with the pause.
    pub note: Option<String>,
}

/// The department responsible after the move.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Department {
    Keep,
    /// To this department (`None`: to nobody, when the city has no triage).
    Set(Option<Uuid>),
}

/// Everything a move changes besides the status.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Effects {
    /// Sets when the report was moderated.
    pub moderated: bool,
    pub department: Department,
    pub assignee: Assignee,
    /// Sets when the city first responded, unless it already had.
    pub responded: bool,
    /// Sets when the city answered.
    pub resolved: bool,
    /// A refutation: a new answer cycle starts now, with no response or
    /// answer in it yet.
    pub new_cycle: bool,
    /// Raises the escalation level by one.
    pub escalate: bool,
    pub opens_pause: Option<PauseStart>,
    /// Ends the open pause.
    pub ends_pause: bool,
    /// Makes the report a duplicate of the open report with this number,
    /// whose followers gain the reporter.
    pub duplicate_of: Option<i64>,
    /// The report leaves the city's hands for good.
    pub closes: bool,
    /// The history event's note: the person's own words.
    pub note: Option<String>,
    /// What else the event says (`reports::history` puts it in words).
    pub detail: Option<Detail>,
}

impl Effects {
    fn none(note: Option<String>) -> Effects {
        Effects {
            moderated: false,
            department: Department::Keep,
            assignee: Assignee::Keep,
            responded: false,
            resolved: false,
            new_cycle: false,
            escalate: false,
            opens_pause: None,
            ends_pause: false,
            duplicate_of: None,
            closes: false,
            note,
            detail: None,
        }
    }
}

/// What an allowed move changes (`transition` from `decide` for this case
/// and command).
pub fn effects(
    transition: &Transition,
    case: &Case,
    command: &Command,
    departments: &Departments,
) -> Effects {
    let said = command.reason.clone().or_else(|| command.answer.clone());
    let mut effects = Effects::none(said);
    match transition.action {
        Action::Accept => effects.moderated = true,
        Action::Assign => {
            effects.department = Department::Set(command.department);
            effects.assignee = Assignee::Clear;
            effects.detail = Some(Detail::Assigned {
                department: command
                    .department
                    .map_or("?", |d| departments.code(d))
                    .to_string(),
            });
        }
        Action::Return => {
            effects.department = Department::Set(departments.triage());
            effects.assignee = Assignee::Clear;
        }
        Action::Take => {
            effects.assignee = Assignee::Actor;
            effects.responded = true;
        }
        Action::Pause => {
            if let (Some(reason), Some(resume_on)) = (command.pause_reason, command.resume_on) {
                effects.detail = Some(Detail::Paused {
                    reason: reason.as_str().to_string(),
                    resume_on,
                });
                effects.opens_pause = Some(PauseStart {
                    reason,
                    resume_on,
                    note: command.reason.clone(),
                });
            }
        }
        Action::Resume => effects.ends_pause = true,
        Action::Answer => effects.resolved = true,
        Action::Refute => {
            effects.new_cycle = true;
            effects.escalate = true;
            if transition.to_supervisor {
                effects.assignee = Assignee::Clear;
                effects.detail = Some(Detail::ToSupervisor {
                    refutations: case.refutations + 1,
                });
            }
        }
        Action::MarkDuplicate => {
            let number = command.original.unwrap_or_default();
            effects.duplicate_of = Some(number);
            effects.detail = Some(Detail::Duplicate { of: number });
        }
        Action::Escalate => effects.escalate = true,
        Action::Reject | Action::Confirm | Action::AutoConfirm | Action::Close => {}
    }
    effects.closes =
        transition.rule.clock == super::ClockEffect::Finished && !transition.to.is_open();
    effects
}
