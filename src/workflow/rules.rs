//! The transition table: one rule per action.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::ledger::Kind;
use crate::reports::ReportStatus::{self, *};

/// What an actor may ask the workflow to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    Accept,
    Reject,
    MarkDuplicate,
    Assign,
    Take,
    Pause,
    Resume,
    Answer,
    Return,
    Confirm,
    Refute,
    AutoConfirm,
    Close,
    Escalate,
}

impl Action {
    pub const ALL: [Action; 14] = [
        Action::Accept,
        Action::Reject,
        Action::MarkDuplicate,
        Action::Assign,
        Action::Take,
        Action::Pause,
        Action::Resume,
        Action::Answer,
        Action::Return,
        Action::Confirm,
        Action::Refute,
        Action::AutoConfirm,
        Action::Close,
        Action::Escalate,
    ];

    pub fn as_str(self) -> &'static str {
        rule(self).name
    }

    pub fn parse(text: &str) -> Option<Action> {
        Action::ALL.into_iter().find(|a| a.as_str() == text)
    }

    /// The move in words, as a refusal names it ("cannot be …").
    pub fn words(self) -> crate::locale::Text {
        let (ru, en) = match self {
            Action::Accept => ("принять в работу", "accepted"),
            Action::Reject => ("отклонить", "rejected"),
            Action::MarkDuplicate => ("отметить как повтор", "marked as a duplicate"),
            Action::Assign => ("передать", "reassigned"),
            Action::Take => ("взять в работу", "taken"),
            Action::Pause => ("приостановить", "paused"),
            Action::Resume => ("возобновить", "resumed"),
            Action::Answer => ("ответить", "answered"),
            Action::Return => (
                "вернуть как не относящееся к подразделению",
                "returned as misrouted",
            ),
            Action::Confirm | Action::AutoConfirm => ("подтвердить решение", "confirmed"),
            Action::Refute => ("опровергнуть решение", "refuted"),
            Action::Close => ("закрыть", "closed"),
            Action::Escalate => ("эскалировать", "escalated"),
        };
        crate::locale::Text::new(ru, en)
    }

    /// Whether staff send it through the actions endpoint (a resident's
    /// answer to an answer, and the scanner's confirmation, come otherwise).
    pub fn sent_by_staff(self) -> bool {
        !matches!(self, Action::Confirm | Action::Refute | Action::AutoConfirm)
    }
}

impl fmt::Display for Action {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Who may take an action (crew and supervisors within their scope).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Who {
    Reporter,
    Crew,
    Supervisor,
    Admin,
    System,
}

/// What a move does to the report's deadlines.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClockEffect {
    /// Nothing changes.
    None,
    /// Moderation is over; the answer clock (running since filing) goes on.
    Moderated,
    /// The department responded (the answer target of a category with a
    /// fix target is met by taking the report).
    Responded,
    /// The clock stops until the report is resumed.
    Pause,
    /// The clock runs again; deadlines move by the working time paused.
    Resume,
    /// Answered: the answer clock stops and the resident check begins.
    Answered,
    /// The report left the department's hands (returned, reassigned): the
    /// clock keeps running, it is the city's deadline, not the department's.
    Moved,
    /// A refuted answer: a new cycle with fresh deadlines from now.
    NewCycle,
    /// No deadline applies any more.
    Finished,
}

/// Who hears of a move.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Audience {
    /// The reporter and every follower (a public change).
    Residents,
    /// The department now responsible.
    Department,
    /// The crew member assigned.
    Assignee,
    /// The department's supervisors.
    Supervisors,
    /// The supervisors one level above the department's (the nearest
    /// department up the tree that has any).
    SupervisorsAbove,
    /// The supervisors at the top of the department tree (the city's).
    CitySupervisors,
}

/// One row of the table.
#[derive(Debug, PartialEq, Eq)]
pub struct Rule {
    pub action: Action,
    pub name: &'static str,
    pub from: &'static [ReportStatus],
    /// For `resume`, the status the report was paused in replaces this.
    pub to: ReportStatus,
    pub who: &'static [Who],
    /// The kind of the history event written.
    pub event: &'static str,
    /// Whether the event is shown in the public history.
    pub public: bool,
    pub clock: ClockEffect,
    pub notify: &'static [Audience],
    /// The resolution-ledger entries the move appends, in order.
    pub ledger: &'static [Kind],
}

use Audience::*;
use Who::{Admin, Crew, Reporter, Supervisor, System};

const STAFF: &[Who] = &[Crew, Supervisor, Admin];
const MODERATORS: &[Who] = &[Supervisor, Admin];
const WORKING: &[ReportStatus] = &[Assigned, InProgress, Reopened];

pub static RULES: [Rule; 14] = [
    Rule {
        action: Action::Accept,
        name: "accept",
        from: &[Moderation],
        to: Assigned,
        who: MODERATORS,
        event: "accepted",
        public: true,
        clock: ClockEffect::Moderated,
        notify: &[Residents, Department],
        ledger: &[],
    },
    Rule {
        action: Action::Reject,
        name: "reject",
        from: &[Moderation],
        to: Rejected,
        who: MODERATORS,
        event: "rejected",
        public: true,
        clock: ClockEffect::Finished,
        notify: &[Residents],
        ledger: &[],
    },
    Rule {
        action: Action::MarkDuplicate,
        name: "mark_duplicate",
        from: &[Moderation, Assigned, Returned],
        to: Duplicate,
        who: MODERATORS,
        event: "marked_duplicate",
        public: true,
        clock: ClockEffect::Finished,
        notify: &[Residents],
        ledger: &[],
    },
    Rule {
        action: Action::Assign,
        name: "assign",
        from: &[Assigned, Returned, Reopened],
        to: Assigned,
        who: MODERATORS,
        event: "assigned",
        public: true,
        clock: ClockEffect::Moved,
        notify: &[Residents, Department],
        ledger: &[],
    },
    Rule {
        action: Action::Take,
        name: "take",
        from: &[Assigned, Reopened],
        to: InProgress,
        who: STAFF,
        event: "taken",
        public: true,
        clock: ClockEffect::Responded,
        notify: &[Residents, Assignee],
        ledger: &[],
    },
    Rule {
        action: Action::Pause,
        name: "pause",
        from: WORKING,
        to: Paused,
        who: STAFF,
        event: "paused",
        public: true,
        clock: ClockEffect::Pause,
        notify: &[Residents, Supervisors],
        ledger: &[],
    },
    Rule {
        action: Action::Resume,
        name: "resume",
        from: &[Paused],
        to: Assigned,
        who: STAFF,
        event: "resumed",
        public: true,
        clock: ClockEffect::Resume,
        notify: &[Residents],
        ledger: &[],
    },
    Rule {
        action: Action::Answer,
        name: "answer",
        from: WORKING,
        to: Resolved,
        who: STAFF,
        event: "answered",
        public: true,
        clock: ClockEffect::Answered,
        notify: &[Residents],
        ledger: &[Kind::Resolved],
    },
    Rule {
        action: Action::Return,
        name: "return",
        from: WORKING,
        to: Returned,
        who: STAFF,
        event: "returned",
        public: true,
        clock: ClockEffect::Moved,
        notify: &[Department, Supervisors],
        ledger: &[],
    },
    Rule {
        action: Action::Confirm,
        name: "confirm",
        from: &[Resolved],
        to: Confirmed,
        who: &[Reporter],
        event: "confirmed",
        public: true,
        clock: ClockEffect::Finished,
        notify: &[Residents, Department],
        ledger: &[Kind::Confirmed],
    },
    Rule {
        action: Action::Refute,
        name: "refute",
        from: &[Resolved],
        to: Reopened,
        who: &[Reporter],
        event: "refuted",
        public: true,
        clock: ClockEffect::NewCycle,
        notify: &[Residents, Department, Assignee, Supervisors],
        ledger: &[Kind::Refuted, Kind::Reopened],
    },
    Rule {
        action: Action::AutoConfirm,
        name: "auto_confirm",
        from: &[Resolved],
        to: Confirmed,
        who: &[System],
        event: "auto_confirmed",
        public: true,
        clock: ClockEffect::Finished,
        notify: &[Residents],
        ledger: &[Kind::AutoConfirmed],
    },
    Rule {
        action: Action::Close,
        name: "close",
        from: &[Confirmed],
        to: Closed,
        who: &[Supervisor, Admin, System],
        event: "closed",
        public: true,
        clock: ClockEffect::Finished,
        notify: &[Residents],
        ledger: &[Kind::Closed],
    },
    Rule {
        action: Action::Escalate,
        name: "escalate",
        from: &[Moderation, Assigned, InProgress, Paused, Returned, Reopened],
        // The report stays in its status; it goes one level up.
        to: Assigned,
        who: MODERATORS,
        event: "escalated_by_supervisor",
        public: false,
        clock: ClockEffect::None,
        notify: &[SupervisorsAbove],
        ledger: &[],
    },
];

/// The rule of an action (`RULES` is in the order of `Action`, checked by a
/// test).
pub fn rule(action: Action) -> &'static Rule {
    &RULES[action as usize]
}
