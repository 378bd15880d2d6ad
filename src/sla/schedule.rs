//! Which clocks run on a report, when they run out, and the moments the SLA
//! scanner must act on: warnings, the breach and the escalation levels.
//!
//! * **moderation** runs while the report awaits moderation, from filing;
//! * **answer** runs from the start of the cycle (filing, or the last
//!   reopening) until the department answers (`resolved`); for a category
//!   whose policy has a fix target it ends earlier, when a crew takes the
//!   report (the department has responded), and
//! * **fix** runs from the start of the cycle until the answer;
//! * the **resident check** runs from the answer (calendar days).
//!
//! A stage's marks: a warning at each warning percentage of its budget, the
//! breach at 100 %, and escalation level *n* at the n-th escalation
//! percentage (level 1, the department's supervisors, at 100 % by default;
//! level 2, the city's supervisors, at 150 %). Below level 1 it is the crew's
//! (level 0).

use chrono::NaiveDateTime;

use super::calendar::{Interval, Target, WorkCalendar};
use crate::reports::ReportStatus;
use crate::workflow::Audience;

/// A category's SLA policy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Policy {
    pub moderation: Target,
    pub answer: Target,
    pub fix: Option<Target>,
    pub resident_check: Target,
    pub warn_percents: Vec<u32>,
    pub escalation_percents: Vec<u32>,
}

/// Percentages written as "70,90": each between 1 and 1000.
pub fn parse_percents(text: &str) -> Result<Vec<u32>, crate::locale::Text> {
    let mut list = text
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|s| match s.parse::<u32>() {
            Ok(n @ 1..=1000) => Ok(n),
            _ => Err(crate::locale::Text::new(
                format!("«{s}» — не процент от 1 до 1000"),
                format!("'{s}' is not a percentage between 1 and 1000"),
            )),
        })
        .collect::<Result<Vec<u32>, _>>()?;
    list.sort_unstable();
    list.dedup();
    Ok(list)
}

#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "snake_case")]
pub enum Stage {
    Moderation,
    Answer,
    Fix,
}

impl Stage {
    pub fn as_str(self) -> &'static str {
        match self {
            Stage::Moderation => "moderation",
            Stage::Answer => "answer",
            Stage::Fix => "fix",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Mark {
    Warning(u32),
    Breach,
    Escalation(u32),
}

impl Mark {
    pub fn code(self) -> String {
        match self {
            Mark::Warning(p) => format!("warning_{p}"),
            Mark::Breach => "breach".into(),
            Mark::Escalation(level) => format!("escalation_{level}"),
        }
    }

    /// The history event's kind.
    pub fn event(self) -> &'static str {
        match self {
            Mark::Warning(_) => "sla_warning",
            Mark::Breach => "sla_breached",
            Mark::Escalation(_) => "escalated",
        }
    }
}

/// Who hears of a recorded mark, and what it does (the history says it in
/// words: `reports::history`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Notice {
    pub audiences: &'static [Audience],
    /// Residents see breaches in the history; warnings and escalations are
    /// the city's own business.
    pub public: bool,
    /// The escalation level the report reaches (at least).
    pub escalation_level: Option<u32>,
}

/// The notice of a mark: warnings and breaches go to the crew and the
/// department, the first escalation to the department's supervisors, any
/// further one to the city's.
pub fn notice(mark: Mark) -> Notice {
    use Audience::{Assignee, CitySupervisors, Department, Supervisors};
    let (audiences, escalation_level): (&'static [Audience], _) = match mark {
        Mark::Warning(_) | Mark::Breach => (&[Assignee, Department], None),
        Mark::Escalation(level) => (
            if level == 1 {
                &[Supervisors]
            } else {
                &[CitySupervisors]
            },
            Some(level),
        ),
    };
    Notice {
        audiences,
        public: mark == Mark::Breach,
        escalation_level,
    }
}

/// What the clocks need to know of a report.
#[derive(Debug, Clone)]
pub struct Facts {
    pub status: ReportStatus,
    pub created_at: NaiveDateTime,
    pub cycle_started_at: NaiveDateTime,
    pub responded_at: Option<NaiveDateTime>,
    pub resolved_at: Option<NaiveDateTime>,
    /// The pauses of the current cycle.
    pub pauses: Vec<Interval>,
}

/// One running clock.
#[derive(Debug, Clone, PartialEq)]
pub struct StageClock {
    pub stage: Stage,
    pub started_at: NaiveDateTime,
    pub target: Target,
    /// `None` while an open pause holds it.
    pub deadline: Option<NaiveDateTime>,
    pub marks: Vec<(Mark, Option<NaiveDateTime>)>,
}

/// The deadlines to store on the report.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Due {
    pub moderation: Option<NaiveDateTime>,
    pub answer: Option<NaiveDateTime>,
    pub fix: Option<NaiveDateTime>,
    pub resident_check: Option<NaiveDateTime>,
}

fn in_hand(status: ReportStatus) -> bool {
    status.is_open() && status != ReportStatus::Resolved
}

/// The clocks running on a report.
pub fn running(policy: &Policy, calendar: &WorkCalendar, facts: &Facts) -> Vec<StageClock> {
    let mut stages = Vec::new();
    if facts.status == ReportStatus::Moderation {
        stages.push((
            Stage::Moderation,
            facts.created_at,
            policy.moderation,
            &[][..],
        ));
    }
    if in_hand(facts.status) {
        let start = facts.cycle_started_at;
        if policy.fix.is_none() || facts.responded_at.is_none() {
            stages.push((Stage::Answer, start, policy.answer, &facts.pauses[..]));
        }
        if let Some(fix) = policy.fix {
            stages.push((Stage::Fix, start, fix, &facts.pauses[..]));
        }
    }
    stages
        .into_iter()
        .map(|(stage, started_at, target, pauses)| {
            let budget = calendar.budget(started_at, target);
            let at = |percent| {
                budget.and_then(|b| calendar.point_within(started_at, target, b, percent, pauses))
            };
            let deadline = at(100);
            let mut marks: Vec<(Mark, Option<NaiveDateTime>)> = policy
                .warn_percents
                .iter()
                .filter(|p| **p < 100)
                .map(|p| (Mark::Warning(*p), at(*p)))
                .collect();
            marks.push((Mark::Breach, deadline));
            for (i, p) in policy.escalation_percents.iter().enumerate() {
                marks.push((Mark::Escalation(i as u32 + 1), at(*p)));
            }
            StageClock {
                stage,
                started_at,
                target,
                deadline,
                marks,
            }
        })
        .collect()
}

/// The deadlines of the running clocks, and the resident check's.
pub fn due(policy: &Policy, calendar: &WorkCalendar, facts: &Facts) -> Due {
    due_of(&running(policy, calendar, facts), policy, calendar, facts)
}

/// The deadlines, given the running clocks.
fn due_of(clocks: &[StageClock], policy: &Policy, calendar: &WorkCalendar, facts: &Facts) -> Due {
    let mut due = Due::default();
    for clock in clocks {
        match clock.stage {
            Stage::Moderation => due.moderation = clock.deadline,
            Stage::Answer => due.answer = clock.deadline,
            Stage::Fix => due.fix = clock.deadline,
        }
    }
    if facts.status == ReportStatus::Resolved {
        due.resident_check = facts
            .resolved_at
            .and_then(|at| calendar.deadline(at, policy.resident_check, &[]));
    }
    due
}

/// The marks due by `now` that `recorded` does not hold yet, in time order,
/// and the next moment a mark falls due after `now`.
pub fn marks_due(
    clocks: &[StageClock],
    now: NaiveDateTime,
    recorded: impl Fn(Stage, Mark) -> bool,
) -> (Vec<(Stage, Mark, NaiveDateTime)>, Option<NaiveDateTime>) {
    let mut due = Vec::new();
    let mut next: Option<NaiveDateTime> = None;
    for clock in clocks {
        for (mark, at) in &clock.marks {
            let Some(at) = *at else { continue };
            if recorded(clock.stage, *mark) {
                continue;
            }
            if at <= now {
                due.push((clock.stage, *mark, at));
            } else {
                next = Some(next.map_or(at, |n| n.min(at)));
            }
        }
    }
    due.sort_by_key(|(stage, mark, at)| (*at, *stage, *mark));
    (due, next)
}

/// Everything the clocks say about a report at `now`.
#[derive(Debug, Clone, PartialEq)]
pub struct ClockReading {
    /// The stages whose clocks run now.
    pub running: Vec<Stage>,
    pub due: Due,
    /// Marks due by now and not yet recorded, in time order.
    pub marks: Vec<(Stage, Mark, NaiveDateTime)>,
    /// When to look again; `None` when no clock runs (or all are paused).
    pub next: Option<NaiveDateTime>,
}

pub fn clocks_at(
    policy: &Policy,
    calendar: &WorkCalendar,
    facts: &Facts,
    now: NaiveDateTime,
    recorded: impl Fn(Stage, Mark) -> bool,
) -> ClockReading {
    let clocks = running(policy, calendar, facts);
    let (marks, next) = marks_due(&clocks, now, recorded);
    ClockReading {
        running: clocks.iter().map(|c| c.stage).collect(),
        due: due_of(&clocks, policy, calendar, facts),
        marks,
        next,
    }
}

/// Where a report stands against its current deadline, for the public.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Standing {
    /// moderation, answer, fix or resident_check
    pub stage: &'static str,
    pub target: Target,
    pub started_at: NaiveDateTime,
    /// `None` while paused.
    pub deadline: Option<NaiveDateTime>,
    /// Working days (calendar days for the resident check) used and left;
    /// while paused, left is what will be left when work resumes (0 for a
    /// target in hours).
    pub days_used: u32,
    pub days_left: u32,
    pub breached: bool,
}

/// The current stage: the first clock running (moderation, answer, fix),
/// or the resident check of an answered report.
pub fn standing(
    policy: &Policy,
    calendar: &WorkCalendar,
    facts: &Facts,
    now: NaiveDateTime,
) -> Option<Standing> {
    if let Some(clock) = running(policy, calendar, facts).into_iter().next() {
        let pauses: &[Interval] = match clock.stage {
            Stage::Moderation => &[],
            _ => &facts.pauses,
        };
        let (days_used, mut days_left) =
            calendar.working_days(clock.started_at, now, clock.deadline, pauses);
        if clock.deadline.is_none() {
            // Paused: what will be left when work resumes.
            days_left = match clock.target {
                Target::WorkingDays(n) | Target::CalendarDays(n) => n.saturating_sub(days_used),
                Target::WorkingHours(_) => 0,
            };
        }
        return Some(Standing {
            stage: clock.stage.as_str(),
            target: clock.target,
            started_at: clock.started_at,
            deadline: clock.deadline,
            days_used,
            days_left,
            breached: clock.deadline.is_some_and(|d| d < now),
        });
    }
    let resolved = facts
        .resolved_at
        .filter(|_| facts.status == ReportStatus::Resolved)?;
    let deadline = calendar.deadline(resolved, policy.resident_check, &[]);
    let days = |span: chrono::TimeDelta| u32::try_from(span.num_days().max(0)).unwrap_or(0);
    Some(Standing {
        stage: "resident_check",
        target: policy.resident_check,
        started_at: resolved,
        deadline,
        days_used: days(now - resolved),
        days_left: deadline.map_or(0, |d| days(d - now + chrono::TimeDelta::hours(23))),
        breached: false,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::workflow::Audience::*;

    #[test]
    fn warnings_and_breaches_go_to_the_crew_escalations_up_the_tree() {
        let warning = notice(Mark::Warning(75));
        assert_eq!(warning.audiences, &[Assignee, Department]);
        assert!(!warning.public);

        let breach = notice(Mark::Breach);
        assert!(breach.public, "residents see a missed deadline");
        assert_eq!(breach.escalation_level, None);

        let first = notice(Mark::Escalation(1));
        assert_eq!(first.audiences, &[Supervisors]);
        assert_eq!(first.escalation_level, Some(1));
        let second = notice(Mark::Escalation(2));
        assert_eq!(second.audiences, &[CitySupervisors]);
        assert!(!second.public);
    }
}
