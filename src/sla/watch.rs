//! What supervisors watch, as rules: which reports are in the city's hands,
//! which deadline a report is working towards, and when it is **at risk**
//! (a recorded warning) or **breached** (a recorded breach of a stage still
//! relevant: the moderation stage only while in moderation). Escalations
//! follow breaches and add nothing. `db::supervisor` finds the reports;
//! these rules say what they mean.

use chrono::NaiveDateTime;

use super::schedule::Stage;
use crate::reports::ReportStatus;

/// Statuses in which a report is in the city's hands.
pub const IN_HAND: [ReportStatus; 6] = [
    ReportStatus::Moderation,
    ReportStatus::Assigned,
    ReportStatus::InProgress,
    ReportStatus::Paused,
    ReportStatus::Returned,
    ReportStatus::Reopened,
];

/// How far a report is from keeping its deadline (worse sorts later).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Risk {
    AtRisk,
    Breached,
}

impl Risk {
    pub fn as_str(self) -> &'static str {
        match self {
            Risk::AtRisk => "at_risk",
            Risk::Breached => "breached",
        }
    }

    /// The risk an SLA mark records: a warning puts a report at risk, the
    /// breach breaches it; escalations follow breaches and add nothing.
    pub fn of_mark(mark: &str) -> Option<Risk> {
        match mark {
            "breach" => Some(Risk::Breached),
            m if m.starts_with("warning_") => Some(Risk::AtRisk),
            _ => None,
        }
    }
}

/// Whether a mark of `stage` still says something about a report in
/// `status`: moderation's marks are history once moderation is over.
pub fn stage_still_relevant(stage: &str, status: &str) -> bool {
    stage != "moderation" || status == ReportStatus::Moderation.as_str()
}

/// The deadline of the stage a report is in: moderation's while in
/// moderation; the answer's until the department has responded (the fix
/// target, where the policy has one, runs beside it); after that the fix
/// target's, or the answer's when the policy has none.
pub fn current_due(
    status: &str,
    responded: bool,
    moderation_due: Option<NaiveDateTime>,
    fix_due: Option<NaiveDateTime>,
    answer_due: Option<NaiveDateTime>,
) -> Option<NaiveDateTime> {
    current_stage(status, responded, moderation_due, fix_due, answer_due).map(|(_, at)| at)
}

/// The stage a report is in and its deadline (as `current_due`).
pub fn current_stage(
    status: &str,
    responded: bool,
    moderation_due: Option<NaiveDateTime>,
    fix_due: Option<NaiveDateTime>,
    answer_due: Option<NaiveDateTime>,
) -> Option<(Stage, NaiveDateTime)> {
    let answer = answer_due.map(|at| (Stage::Answer, at));
    let fix = fix_due.map(|at| (Stage::Fix, at));
    if status == ReportStatus::Moderation.as_str() {
        moderation_due.map(|at| (Stage::Moderation, at))
    } else if responded {
        fix.or(answer)
    } else {
        answer.or(fix)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn warnings_put_at_risk_breaches_breach_and_escalations_add_nothing() {
        assert_eq!(Risk::of_mark("warning_75"), Some(Risk::AtRisk));
        assert_eq!(Risk::of_mark("breach"), Some(Risk::Breached));
        assert_eq!(Risk::of_mark("escalation_1"), None);
        assert!(Risk::Breached > Risk::AtRisk);
    }

    #[test]
    fn moderation_marks_lapse_with_moderation_and_the_answer_comes_before_the_fix() {
        assert!(stage_still_relevant("moderation", "moderation"));
        assert!(!stage_still_relevant("moderation", "assigned"));
        assert!(stage_still_relevant("answer", "assigned"));
        let at =
            |d| chrono::NaiveDate::from_ymd_opt(2026, 3, d).and_then(|d| d.and_hms_opt(9, 0, 0));
        assert_eq!(current_due("moderation", false, at(1), at(9), at(5)), at(1));
        // Not yet responded: the answer's deadline, though a fix target runs.
        assert_eq!(current_due("assigned", false, at(1), at(9), at(5)), at(5));
        assert_eq!(current_due("in_progress", true, at(1), at(9), at(5)), at(9));
        assert_eq!(current_due("in_progress", true, at(1), None, at(5)), at(5));
    }
}
