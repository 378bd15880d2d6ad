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

use std::collections::BTreeMap;

use chrono::NaiveDateTime;
use serde::{Deserialize, Serialize};

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

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
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

fn percent(part: u64, whole: u64) -> Option<f64> {
    (whole > 0).then(|| (part as f64 * 1000.0 / whole as f64).round() / 10.0)
}

pub fn aggregate(outcomes: &[Outcome]) -> Aggregate {
    Tally::of(outcomes).aggregate()
}

/// The additive summary of some outcomes: tallies add up, so that a year's
/// statistics are the sum of its days' tallies (kept per filing day and
/// department) instead of a pass over every report. Times to answer are
/// kept to the minute, as how many answers took each number of minutes.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Tally {
    pub reports: u64,
    pub answered: u64,
    pub overdue: u64,
    /// Answered with no breach recorded in the first cycle.
    pub on_time: u64,
    /// Answered, then reopened.
    pub reopened: u64,
    /// Answered, then refuted.
    pub disputed: u64,
    pub ratings: u64,
    pub rating_sum: u64,
    /// Minutes from filing to the first answer → how many answers took them.
    pub answer_minutes: BTreeMap<u32, u64>,
}

impl Tally {
    pub fn of(outcomes: &[Outcome]) -> Tally {
        let mut tally = Tally::default();
        for o in outcomes {
            tally.count(o);
        }
        tally
    }

    /// Counts one more report.
    pub fn count(&mut self, o: &Outcome) {
        self.reports += 1;
        self.overdue += u64::from(o.overdue());
        self.ratings += o.ratings.len() as u64;
        self.rating_sum += o.ratings.iter().map(|r| u64::from(*r)).sum::<u64>();
        let Some(answer) = o.first_answer_at else {
            return;
        };
        self.answered += 1;
        self.on_time += u64::from(!o.breached_in_first_cycle);
        self.reopened += u64::from(o.reopened);
        self.disputed += u64::from(o.disputed);
        let minutes = u32::try_from((answer - o.filed_at).num_minutes().max(0)).unwrap_or(u32::MAX);
        *self.answer_minutes.entry(minutes).or_default() += 1;
    }

    /// Adds another tally to this one.
    pub fn add(&mut self, other: &Tally) {
        self.reports += other.reports;
        self.answered += other.answered;
        self.overdue += other.overdue;
        self.on_time += other.on_time;
        self.reopened += other.reopened;
        self.disputed += other.disputed;
        self.ratings += other.ratings;
        self.rating_sum += other.rating_sum;
        for (minutes, n) in &other.answer_minutes {
            *self.answer_minutes.entry(*minutes).or_default() += n;
        }
    }

    /// The `k`-th time to answer in minutes, counting from 0 in order.
    fn nth_minutes(&self, k: u64) -> Option<u32> {
        let mut seen = 0;
        self.answer_minutes.iter().find_map(|(minutes, n)| {
            seen += n;
            (k < seen).then_some(*minutes)
        })
    }

    pub fn aggregate(&self) -> Aggregate {
        let n = self.answered;
        let median = match n {
            0 => None,
            n if n % 2 == 1 => self.nth_minutes(n / 2).map(f64::from),
            n => self
                .nth_minutes(n / 2 - 1)
                .zip(self.nth_minutes(n / 2))
                .map(|(a, b)| (f64::from(a) + f64::from(b)) / 2.0),
        };
        let sample = self.answered + self.overdue;
        let count = |n: u64| usize::try_from(n).unwrap_or(usize::MAX);
        Aggregate {
            ratings: count(self.ratings),
            average_rating: crate::reports::rating::average_of(self.rating_sum, self.ratings),
            reports: count(self.reports),
            answered: count(self.answered),
            overdue: count(self.overdue),
            sample: count(sample),
            on_time_percent: percent(self.on_time, sample),
            small_sample: sample < SMALL_SAMPLE as u64,
            median_hours_to_answer: median.map(|m| (m / 6.0).round() / 10.0),
            reopened_percent: percent(self.reopened, n),
            disputed_percent: percent(self.disputed, n),
        }
    }

    /// The times to answer as stored: `minutes:count` pairs by commas.
    pub fn minutes_text(&self) -> String {
        self.answer_minutes
            .iter()
            .map(|(m, n)| format!("{m}:{n}"))
            .collect::<Vec<_>>()
            .join(",")
    }

    /// Reads [`Tally::minutes_text`] back; `None` when it is not that.
    pub fn parse_minutes(text: &str) -> Option<BTreeMap<u32, u64>> {
        let mut out = BTreeMap::new();
        for pair in text.split(',').filter(|p| !p.is_empty()) {
            let (m, n) = pair.split_once(':')?;
            out.insert(m.parse().ok()?, n.parse().ok()?);
        }
        Some(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeDelta;

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

    #[test]
    fn tallies_of_parts_add_up_to_the_whole() {
        let t = |m: i64| NaiveDateTime::default() + TimeDelta::minutes(m);
        let outcomes: Vec<Outcome> = (0..57)
            .map(|i| Outcome {
                filed_at: t(i * 7),
                first_answer_at: (i % 4 != 0).then(|| t(i * 7 + 60 * (i % 13) + i)),
                breached_in_first_cycle: i % 5 == 0,
                in_hand: i % 4 == 0,
                reopened: i % 6 == 0,
                disputed: i % 9 == 0,
                ratings: (0..(i % 3) as u8).map(|r| 1 + (r + i as u8) % 5).collect(),
            })
            .collect();
        let mut summed = Tally::default();
        for part in outcomes.chunks(10) {
            let tally = Tally::of(part);
            let stored = Tally::parse_minutes(&tally.minutes_text()).unwrap();
            assert_eq!(stored, tally.answer_minutes);
            summed.add(&tally);
        }
        assert_eq!(summed, Tally::of(&outcomes));
        let a = summed.aggregate();
        // The exact median, from every time to answer.
        let mut minutes: Vec<i64> = outcomes
            .iter()
            .filter_map(|o| o.first_answer_at.map(|at| (at - o.filed_at).num_minutes()))
            .collect();
        minutes.sort();
        let n = minutes.len();
        let median = (minutes[n / 2 - 1] + minutes[n / 2]) as f64 / 2.0;
        assert_eq!(n % 2, 0);
        assert_eq!(
            a.median_hours_to_answer,
            Some((median / 6.0).round() / 10.0)
        );
        assert_eq!(a.answered, n);
        assert_eq!(Tally::parse_minutes("5:x"), None);
    }
}
