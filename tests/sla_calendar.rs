//! Deadline arithmetic: the documented examples on the Moscow production
//! calendar, daylight-saving changes, and 10,000+ generated cases checked
//! against a step-by-step model that walks the calendar in 15-minute steps.
// Test code: a panic is how it fails.
#![allow(clippy::unwrap_used)]

use std::collections::HashMap;

use chrono::{Datelike, NaiveDate, NaiveDateTime, NaiveTime, TimeDelta, Weekday};
use chrono_tz::Tz;
use gorod::sla::calendar::{Interval, Target, WorkCalendar};
use gorod::sla::{parse_weekdays, CalendarDay, DayKind};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

fn moscow() -> WorkCalendar {
    let file: serde_json::Value =
        serde_json::from_str(include_str!("../config/demo/calendar.json")).unwrap();
    let days: Vec<CalendarDay> = file["days"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| CalendarDay {
            day: d[0].as_str().unwrap().parse().unwrap(),
            kind: d[1].as_str().unwrap().parse().unwrap(),
            note: d[2].as_str().unwrap().into(),
        })
        .collect();
    WorkCalendar::new(
        chrono_tz::Europe::Moscow,
        parse_weekdays("6,7").unwrap(),
        NaiveTime::from_hms_opt(9, 0, 0).unwrap(),
        NaiveTime::from_hms_opt(18, 0, 0).unwrap(),
        &days,
    )
    .unwrap()
}

/// A UTC instant from a Moscow local time (UTC+3 all year).
fn msk(text: &str) -> NaiveDateTime {
    NaiveDateTime::parse_from_str(text, "%Y-%m-%d %H:%M").unwrap() - TimeDelta::hours(3)
}

#[test]
fn filed_friday_at_five_before_a_holiday_monday() {
    let calendar = moscow();
    let filed = msk("2026-02-20 17:00");
    assert_eq!(
        calendar.deadline(filed, Target::WorkingDays(1), &[]),
        Some(msk("2026-02-24 18:00")),
        "moderation: the first working day after the holiday"
    );
    assert_eq!(
        calendar.deadline(filed, Target::WorkingDays(8), &[]),
        Some(msk("2026-03-05 18:00")),
        "answer: eight working days after the filing day"
    );
    assert_eq!(
        calendar.budget(filed, Target::WorkingDays(8)),
        Some(TimeDelta::hours(73))
    );
    assert_eq!(
        calendar.deadline(filed, Target::CalendarDays(15), &[]),
        Some(msk("2026-03-07 17:00"))
    );
}

#[test]
fn the_new_year_holidays_and_a_shortened_working_saturday_count_as_the_calendar_says() {
    let calendar = moscow();
    // 1 November 2025 is a working Saturday, shortened (the eve of 3–4 November).
    let filed = msk("2025-10-31 12:00");
    assert_eq!(
        calendar.deadline(filed, Target::WorkingDays(1), &[]),
        Some(msk("2025-11-01 17:00"))
    );
    assert_eq!(
        calendar.deadline(filed, Target::WorkingDays(2), &[]),
        Some(msk("2025-11-05 18:00"))
    );
    // Filed on 30 December 2025: the holidays run to 11 January 2026.
    assert_eq!(
        calendar.deadline(msk("2025-12-30 10:00"), Target::WorkingDays(1), &[]),
        Some(msk("2026-01-12 18:00"))
    );
    // Working hours: 17:30 on a Friday plus 2 hours is 10:30 on Monday.
    assert_eq!(
        calendar.deadline(msk("2026-03-13 17:30"), Target::WorkingHours(2), &[]),
        Some(msk("2026-03-16 10:30"))
    );
}

#[test]
fn a_pause_moves_the_deadline_by_the_working_time_it_covered() {
    let calendar = moscow();
    let filed = msk("2026-02-20 17:00");
    // Paused from Wednesday 25 February 12:00 to Friday 27 February 12:00:
    // 6 + 9 + 3 = 18 working hours, two working days.
    let pause = Interval {
        from: msk("2026-02-25 12:00"),
        until: Some(msk("2026-02-27 12:00")),
    };
    assert_eq!(
        calendar.deadline(filed, Target::WorkingDays(8), &[pause]),
        Some(msk("2026-03-10 18:00")),
        "5 March plus two working days, skipping the 9 March day off"
    );
    let open = Interval {
        from: msk("2026-02-25 12:00"),
        until: None,
    };
    assert_eq!(
        calendar.deadline(filed, Target::WorkingDays(8), &[open]),
        None,
        "an open pause holds the clock"
    );
    assert_eq!(
        calendar.used(
            filed,
            msk("2026-02-27 12:00"),
            Target::WorkingDays(8),
            &[pause]
        ),
        TimeDelta::hours(1 + 9 + 3)
    );
    let (used, left) = calendar.working_days(
        filed,
        msk("2026-03-03 12:00"),
        Some(msk("2026-03-10 18:00")),
        &[pause],
    );
    assert_eq!(
        (used, left),
        (5, 5),
        "24, 25 (part-paused), 27 Feb, 2, 3 Mar used (26 Feb wholly paused); 3, 4, 5, 6, 10 Mar left"
    );
}

#[test]
fn daylight_saving_changes_move_local_hours_not_the_count() {
    let all_week = |tz: Tz, starts: u32, ends: u32| {
        WorkCalendar::new(
            tz,
            Vec::new(),
            NaiveTime::from_hms_opt(starts, 0, 0).unwrap(),
            NaiveTime::from_hms_opt(ends, 0, 0).unwrap(),
            &[],
        )
        .unwrap()
    };
    let utc = |text: &str| NaiveDateTime::parse_from_str(text, "%Y-%m-%d %H:%M").unwrap();
    // New York springs forward at 02:00 on 8 March 2026: that day's hours
    // 00:00–23:00 are 22 hours long.
    let ny = all_week(chrono_tz::America::New_York, 0, 23);
    let day = NaiveDate::from_ymd_opt(2026, 3, 8).unwrap();
    let (start, end) = ny.period(day).unwrap();
    assert_eq!(
        (start, end),
        (utc("2026-03-08 05:00"), utc("2026-03-09 03:00"))
    );
    assert_eq!(ny.working_time(start, end, &[]), TimeDelta::hours(22));
    // A working day that starts at the skipped 02:00 starts at the jump.
    let early = all_week(chrono_tz::America::New_York, 2, 12);
    assert_eq!(early.period(day).unwrap().0, utc("2026-03-08 07:00"));
    // Berlin falls back at 03:00 on 25 October 2026: 02:00 happens twice,
    // and the first one counts.
    let berlin = all_week(chrono_tz::Europe::Berlin, 2, 12);
    let day = NaiveDate::from_ymd_opt(2026, 10, 25).unwrap();
    assert_eq!(
        berlin.period(day).unwrap(),
        (utc("2026-10-25 00:00"), utc("2026-10-25 11:00"))
    );
}

// ---- the step-by-step model ----

const STEP: TimeDelta = TimeDelta::minutes(15);

struct Model {
    days_off: Vec<Weekday>,
    starts: NaiveTime,
    ends: NaiveTime,
    exceptions: HashMap<NaiveDate, DayKind>,
    calendar: WorkCalendar,
}

impl Model {
    fn working(&self, day: NaiveDate) -> bool {
        match self.exceptions.get(&day) {
            Some(k) => matches!(k, DayKind::Working | DayKind::Shortened),
            None => !self.days_off.contains(&day.weekday()),
        }
    }

    /// The day's working hours, as the module doc defines them.
    fn hours(&self, day: NaiveDate) -> Option<(NaiveDateTime, NaiveDateTime)> {
        if !self.working(day) {
            return None;
        }
        let mut ends = self.ends;
        if self.exceptions.get(&day) == Some(&DayKind::Shortened) {
            ends -= TimeDelta::hours(1);
        }
        let (s, e) = (
            self.calendar.instant(day, self.starts),
            self.calendar.instant(day, ends),
        );
        (s < e).then_some((s, e))
    }

    fn paused(block: NaiveDateTime, pauses: &[Interval]) -> bool {
        pauses
            .iter()
            .any(|p| p.from <= block && p.until.is_none_or(|u| block < u))
    }

    /// Walks the days from `from` in 15-minute steps, counting working,
    /// unpaused steps until `budget` is used; the end of the last step.
    fn advance(
        &self,
        from: NaiveDateTime,
        budget: TimeDelta,
        pauses: &[Interval],
    ) -> NaiveDateTime {
        if budget <= TimeDelta::zero() {
            return from;
        }
        let mut used = TimeDelta::zero();
        let mut day = self.calendar.local_date(from) - TimeDelta::days(1);
        loop {
            if let Some((s, e)) = self.hours(day) {
                let mut block = s;
                while block < e {
                    if block >= from && !Self::paused(block, pauses) {
                        used += STEP;
                        if used == budget {
                            return block + STEP;
                        }
                    }
                    block += STEP;
                }
            }
            day += TimeDelta::days(1);
        }
    }

    fn deadline(&self, from: NaiveDateTime, target: Target, pauses: &[Interval]) -> NaiveDateTime {
        let budget = match target {
            Target::WorkingDays(n) => {
                let mut day = self.calendar.local_date(from);
                let mut counted = 0;
                let end = loop {
                    day += TimeDelta::days(1);
                    if let Some((_, e)) = self.hours(day) {
                        counted += 1;
                        if counted == n {
                            break e;
                        }
                    }
                };
                // The working steps between `from` and that end.
                let mut budget = TimeDelta::zero();
                let mut d = self.calendar.local_date(from) - TimeDelta::days(1);
                while d <= day {
                    if let Some((s, e)) = self.hours(d) {
                        let mut block = s;
                        while block < e {
                            if block >= from && block < end {
                                budget += STEP;
                            }
                            block += STEP;
                        }
                    }
                    d += TimeDelta::days(1);
                }
                budget
            }
            Target::WorkingHours(n) => TimeDelta::hours(n.into()),
            Target::CalendarDays(_) => unreachable!("not generated"),
        };
        self.advance(from, budget, pauses)
    }
}

const ZONES: [Tz; 7] = [
    chrono_tz::Europe::Moscow,
    chrono_tz::America::New_York,
    chrono_tz::Europe::Berlin,
    chrono_tz::Europe::London,
    chrono_tz::Australia::Sydney,
    chrono_tz::America::Santiago,
    chrono_tz::Asia::Tehran,
];

fn generated_case(rng: &mut StdRng) -> (Model, NaiveDateTime, Target, Vec<Interval>) {
    let tz = ZONES[rng.random_range(0..ZONES.len())];
    let days_off: Vec<Weekday> = match rng.random_range(0..4) {
        0 => vec![Weekday::Sat, Weekday::Sun],
        1 => vec![Weekday::Sun],
        2 => vec![Weekday::Fri, Weekday::Sat],
        _ => Vec::new(),
    };
    let starts = NaiveTime::from_hms_opt(rng.random_range(0..=10), 0, 0).unwrap();
    let ends = NaiveTime::from_hms_opt(rng.random_range(13..=23), 0, 0).unwrap();
    // Dates around the daylight-saving changes of both hemispheres.
    let base = [
        NaiveDate::from_ymd_opt(2026, 3, 1).unwrap(),
        NaiveDate::from_ymd_opt(2026, 3, 24).unwrap(),
        NaiveDate::from_ymd_opt(2026, 10, 20).unwrap(),
        NaiveDate::from_ymd_opt(2026, 3, 30).unwrap(),
        NaiveDate::from_ymd_opt(2025, 12, 25).unwrap(),
    ][rng.random_range(0..5)];
    let kinds = [
        DayKind::Holiday,
        DayKind::DayOff,
        DayKind::Working,
        DayKind::Shortened,
    ];
    let days: Vec<CalendarDay> = (0..rng.random_range(0..12))
        .map(|_| CalendarDay {
            day: base + TimeDelta::days(rng.random_range(0..40)),
            kind: kinds[rng.random_range(0..4)],
            note: String::new(),
        })
        .collect();
    let calendar = WorkCalendar::new(tz, days_off.clone(), starts, ends, &days).unwrap();
    let start = base.and_hms_opt(0, 0, 0).unwrap() + STEP * rng.random_range(0..(14 * 24 * 4));
    let target = if rng.random_bool(0.6) {
        Target::WorkingDays(rng.random_range(1..=10))
    } else {
        Target::WorkingHours(rng.random_range(1..=60))
    };
    let pauses: Vec<Interval> = (0..rng.random_range(0..=3))
        .map(|_| {
            let from = start + STEP * rng.random_range(-96..(20 * 96));
            Interval {
                from,
                until: Some(from + STEP * rng.random_range(1..(5 * 96))),
            }
        })
        .collect();
    let model = Model {
        days_off,
        starts,
        ends,
        // Later entries for the same day win, as in the calendar.
        exceptions: days.iter().map(|d| (d.day, d.kind)).collect(),
        calendar,
    };
    (model, start, target, pauses)
}

#[test]
fn ten_thousand_generated_deadlines_match_the_step_by_step_model() {
    let mut rng = StdRng::seed_from_u64(20261122);
    let mut mismatches = Vec::new();
    for case in 0..10_000 {
        let (model, start, target, pauses) = generated_case(&mut rng);
        let fast = model.calendar.deadline(start, target, &pauses);
        let slow = model.deadline(start, target, &pauses);
        if fast != Some(slow) {
            mismatches.push(format!(
                "case {case}: {:?} from {start} with {pauses:?}: {fast:?} ≠ {slow}",
                target
            ));
        }
        // Pausing never shortens a deadline.
        let unpaused = model.calendar.deadline(start, target, &[]).unwrap();
        assert!(
            slow >= unpaused,
            "case {case}: a pause shortened the deadline"
        );
        // The budget used at the deadline is the whole budget.
        let budget = model.calendar.budget(start, target).unwrap();
        assert_eq!(
            model.calendar.used(start, slow, target, &pauses),
            budget,
            "case {case}"
        );
    }
    assert!(
        mismatches.is_empty(),
        "{} mismatches, the first: {}",
        mismatches.len(),
        mismatches[0]
    );
}
