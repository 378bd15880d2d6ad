//! SLA policies and working-day calendars: the vocabulary the city's
//! deadlines are counted in. A calendar has weekly days off, and dated
//! exceptions: public holidays, days off moved by decree, weekend days declared
//! working days, and shortened pre-holiday days.

pub mod calendar;
pub mod schedule;
pub mod stats;
pub mod watch;

use std::fmt;
use std::str::FromStr;

use chrono::{NaiveDate, Weekday};
use serde::{Deserialize, Serialize};

/// A category's policy with the calendar its targets are counted in.
#[derive(Debug, Clone)]
pub struct SlaPlan {
    pub policy_code: String,
    pub policy: schedule::Policy,
    pub calendar: calendar::WorkCalendar,
}

/// How a dated calendar entry changes an ordinary day.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DayKind {
    /// A public holiday: no work.
    Holiday,
    /// A weekday made a day off (a holiday moved by decree).
    DayOff,
    /// A weekend day declared a working day.
    Working,
    /// A working day one hour shorter (the eve of a holiday).
    Shortened,
}

impl DayKind {
    pub fn as_str(self) -> &'static str {
        match self {
            DayKind::Holiday => "holiday",
            DayKind::DayOff => "day_off",
            DayKind::Working => "working",
            DayKind::Shortened => "shortened",
        }
    }

    pub fn is_working(self) -> bool {
        matches!(self, DayKind::Working | DayKind::Shortened)
    }
}

impl fmt::Display for DayKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for DayKind {
    type Err = crate::locale::Text;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        [
            DayKind::Holiday,
            DayKind::DayOff,
            DayKind::Working,
            DayKind::Shortened,
        ]
        .into_iter()
        .find(|k| k.as_str() == s)
        .ok_or_else(|| {
            crate::locale::Text::new(
                format!("«{s}» — не вид дня календаря (holiday, day_off, working, shortened)"),
                format!("'{s}' is not a calendar day kind (holiday, day_off, working, shortened)"),
            )
        })
    }
}

/// A dated exception to the weekly pattern.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CalendarDay {
    pub day: NaiveDate,
    pub kind: DayKind,
    pub note: String,
}

/// Weekly days off written as ISO weekday numbers, e.g. "6,7".
pub fn parse_weekdays(text: &str) -> Result<Vec<Weekday>, crate::locale::Text> {
    text.split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|s| match s.parse::<u8>() {
            Ok(n @ 1..=7) => Ok(Weekday::try_from(n - 1).unwrap_or(Weekday::Mon)),
            _ => Err(crate::locale::Text::new(
                format!("«{s}» — не номер дня недели по ISO (1 — понедельник … 7 — воскресенье)"),
                format!("'{s}' is not an ISO weekday number (1 = Monday … 7 = Sunday)"),
            )),
        })
        .collect()
}

/// Whether `day` is a working day under the weekly pattern and exceptions.
pub fn is_working_day(day: NaiveDate, days_off: &[Weekday], exceptions: &[CalendarDay]) -> bool {
    use chrono::Datelike;
    match exceptions.iter().find(|e| e.day == day) {
        Some(e) => e.kind.is_working(),
        None => !days_off.contains(&day.weekday()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_declared_working_saturday_and_a_moved_day_off_override_the_week() {
        let days_off = parse_weekdays("6,7").unwrap();
        let d = |s: &str| NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap();
        let exceptions = vec![
            CalendarDay {
                day: d("2025-11-01"),
                kind: DayKind::Working,
                note: String::new(),
            },
            CalendarDay {
                day: d("2025-11-03"),
                kind: DayKind::DayOff,
                note: String::new(),
            },
        ];
        assert!(is_working_day(d("2025-11-01"), &days_off, &exceptions));
        assert!(!is_working_day(d("2025-11-02"), &days_off, &exceptions));
        assert!(!is_working_day(d("2025-11-03"), &days_off, &exceptions));
        assert!(is_working_day(d("2025-11-05"), &days_off, &exceptions));
        assert!(parse_weekdays("6,8").is_err());
    }
}
