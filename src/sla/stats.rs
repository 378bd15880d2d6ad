//! Supervisor aggregates: on-time share, median time to answer, and the
//! shares reopened and disputed.
//!
//! * a report is **answered** once it has had an answer;
//! * it was answered **on time** when its first cycle recorded no breach of
//!   the answer (or fix) deadline — a breach is recorded by the scanner, or
//!   at the latest by the answer itself;
//! * it is **overdue** when it is still in the city's hands, unanswered,
//!   with such a breach recorded: it is late already, whatever comes;
//! * the **on-time share** is over the reports whose outcome is known, the
//!   answered and the overdue (an open report not yet due is not counted
//!   either way); a share over fewer than [`SMALL_SAMPLE`] reports is
//!   marked as a small sample, which says little;
//! * **time to answer** runs from filing to the first answer;
//! * **reopened**: its answer was refuted and a new cycle began;
//!   **disputed**: its reporter refuted an answer (so far the same reports;
//!   a report refuted past the limit goes to a supervisor without reopening);
//! * **rating**: the average of the residents' ratings of the answers (1 to
//!   5; the reporter's and each follower's latest per answer), with how
//!   many there are.

use chrono::{NaiveDateTime, TimeDelta};
use serde::Serialize;

/// What the aggregates need of one report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcome {
    pub filed_at: NaiveDateTime,
    pub first_answer_at: Option<NaiveDateTime>,
    pub breached_in_first_cycle: bool,
    /// Still in the city's hands (not answered, rejected or merged).
    pub in_hand: bool,
    pub reopened: bool,
    pub disputed: bool,
    /// Residents' ratings of its answers (1 to 5).
    pub ratings: Vec<u8>,
}

impl Outcome {
    /// Unanswered, in hand, and past its first deadline.
    pub fn overdue(&self) -> bool {
        self.first_answer_at.is_none() && self.in_hand && self.breached_in_first_cycle
    }
}

/// Fewer reports than this make a share a small sample.
pub const SMALL_SAMPLE: usize = 20;

#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct Aggregate {
    pub reports: usize,
    pub answered: usize,
    /// Open reports past their deadline, not answered: late already
    pub overdue: usize,
    /// The reports the on-time share is over: the answered and the overdue
    pub sample: usize,
    /// Of the sample, the share answered on time (null when the sample is
    /// empty); the overdue count as late
    pub on_time_percent: Option<f64>,
    /// The sample is under 20 reports: the on-time share says little
    pub small_sample: bool,
    pub median_hours_to_answer: Option<f64>,
    pub reopened_percent: Option<f64>,
    pub disputed_percent: Option<f64>,
    /// How many ratings residents gave the answers
    pub ratings: usize,
    /// Their average, 1 to 5 (null without any)
    pub average_rating: Option<f64>,
}

fn percent(part: usize, whole: usize) -> Option<f64> {
    (whole > 0).then(|| (part as f64 * 1000.0 / whole as f64).round() / 10.0)
}

pub fn aggregate(outcomes: &[Outcome]) -> Aggregate {
    let answered: Vec<&Outcome> = outcomes
        .iter()
        .filter(|o| o.first_answer_at.is_some())
        .collect();
    let mut hours: Vec<TimeDelta> = answered
        .iter()
        .filter_map(|o| o.first_answer_at.map(|a| a - o.filed_at))
        .collect();
    hours.sort();
    let median = match hours.len() {
        0 => None,
        n if n % 2 == 1 => Some(hours[n / 2]),
        n => Some((hours[n / 2 - 1] + hours[n / 2]) / 2),
    };
    let count = |f: fn(&Outcome) -> bool| answered.iter().filter(|o| f(o)).count();
    let overdue = outcomes.iter().filter(|o| o.overdue()).count();
    let sample = answered.len() + overdue;
    let ratings: Vec<u8> = outcomes
        .iter()
        .flat_map(|o| o.ratings.iter().copied())
        .collect();
    Aggregate {
        ratings: ratings.len(),
        average_rating: crate::reports::rating::average(&ratings),
        reports: outcomes.len(),
        answered: answered.len(),
        overdue,
        sample,
        on_time_percent: percent(count(|o| !o.breached_in_first_cycle), sample),
        small_sample: sample < SMALL_SAMPLE,
        median_hours_to_answer: median.map(|m| (m.num_seconds() as f64 / 360.0).round() / 10.0),
        reopened_percent: percent(count(|o| o.reopened), answered.len()),
        disputed_percent: percent(count(|o| o.disputed), answered.len()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shares_and_the_median_over_answered_reports_only() {
        let t = |h: i64| NaiveDateTime::default() + TimeDelta::hours(h);
        let outcome = |answer: Option<i64>, late: bool, reopened: bool| Outcome {
            filed_at: t(0),
            first_answer_at: answer.map(t),
            breached_in_first_cycle: late,
            in_hand: answer.is_none(),
            reopened,
            disputed: reopened,
            ratings: Vec::new(),
        };
        let all = [
            outcome(Some(10), false, false),
            outcome(Some(30), true, true),
            outcome(Some(20), false, false),
            outcome(Some(50), true, false),
            outcome(None, true, false),
            outcome(None, false, false),
        ];
        let a = aggregate(&all);
        assert_eq!((a.reports, a.answered, a.overdue, a.sample), (6, 4, 1, 5));
        // 2 of the 4 answered on time; the overdue one is late already.
        assert_eq!(a.on_time_percent, Some(40.0));
        assert!(a.small_sample);
        assert_eq!(a.median_hours_to_answer, Some(25.0));
        assert_eq!(a.reopened_percent, Some(25.0));
        let many: Vec<Outcome> = (0..SMALL_SAMPLE as i64)
            .map(|h| outcome(Some(h), false, false))
            .collect();
        assert!(!aggregate(&many).small_sample);
        assert_eq!(aggregate(&[]).on_time_percent, None);
    }
}
