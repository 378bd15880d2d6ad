//! Working time: when a city department works, and deadline arithmetic over
//! it. Pure: instants are UTC `NaiveDateTime`s, the calendar converts them to
//! and from the city's local time, and "now" is always passed in.
//!
//! # How a deadline is counted
//!
//! * A **working day** is a local date that is not a weekly day off (Saturday
//!   and Sunday by default) and not a public holiday or a day off moved by
//!   decree — or a weekend day declared working. Its **working hours** run from
//!   `work_starts` to `work_ends` local time (09:00–18:00 by default); on a
//!   **shortened** pre-holiday day they end one hour earlier.
//! * A target of **N working days** counted from a moment (filing, acceptance,
//!   a reopening) ends at the close of the N-th working day *after the local
//!   date of that moment*: the day of the moment itself never counts, whatever
//!   the hour. Example, on the Moscow production calendar: a report filed on
//!   Friday 20 February 2026 at 17:00 (Monday 23 February is Defender of the
//!   Fatherland Day, a public holiday) counts Tuesday 24 February as its first
//!   working day. Its 1-working-day moderation target ends on Tuesday
//!   24 February at 18:00; its 8-working-day answer target (24, 25, 26, 27
//!   February, 2, 3, 4, 5 March) on Thursday 5 March 2026 at 18:00.
//! * That span has a **budget** of working time: the working hours between
//!   the moment and the nominal end (the rest of the filing day's hours, if it
//!   was filed during them, plus N full days: 1 + 8 × 9 = 73 hours in the
//!   example). The deadline is where the budget
//!   runs out, so a **pause** — the clock stopped while waiting for the
//!   resident, for seasonal work, for a third party or for procurement —
//!   pushes it later by exactly the working time the pause covered, and
//!   never earlier.
//! * A target of **N working hours** is a budget of N hours of working time,
//!   starting at the moment (outside working hours it starts at the next
//!   opening).
//! * A target of **N calendar days** (the resident's 15 days to check an
//!   answer) ends N × 24 hours after the moment, plus the length of any pause.
//! * Warnings fire when the given percentage of the budget is used (70 % and
//!   90 % by default); the breach is the deadline itself.
//! * Local times that a daylight-saving change skips are taken as the instant
//!   the clocks jump; local times it repeats, as their first occurrence.

use crate::locale::Text;
use std::collections::HashMap;

use chrono::offset::LocalResult;
use chrono::{Datelike, NaiveDate, NaiveDateTime, NaiveTime, TimeDelta, TimeZone, Weekday};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};

use super::{CalendarDay, DayKind};

/// How much earlier a shortened pre-holiday day ends.
pub const SHORTENED_BY: TimeDelta = TimeDelta::hours(1);

/// How far ahead any deadline may lie; arithmetic beyond it gives up.
const HORIZON_DAYS: i64 = 3 * 366;

/// A stretch of time, `until` exclusive; an open pause has no end yet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Interval {
    pub from: NaiveDateTime,
    pub until: Option<NaiveDateTime>,
}

/// A target for one stage of a report's life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "unit", content = "value", rename_all = "snake_case")]
pub enum Target {
    WorkingDays(u32),
    WorkingHours(u32),
    CalendarDays(u32),
}

impl Target {
    /// Reads `unit` ('working_days', 'working_hours' or 'calendar_days') and
    /// a positive count.
    pub fn parse(unit: &str, value: i32) -> Result<Target, Text> {
        let n = u32::try_from(value)
            .ok()
            .filter(|n| *n > 0)
            .ok_or_else(|| {
                Text::new(
                    format!("{value} — не положительное число {unit}"),
                    format!("{value} is not a positive number of {unit}"),
                )
            })?;
        match unit {
            "working_days" => Ok(Target::WorkingDays(n)),
            "working_hours" => Ok(Target::WorkingHours(n)),
            "calendar_days" => Ok(Target::CalendarDays(n)),
            other => Err(Text::new(
                format!("«{other}» — не единица; используйте working_days, working_hours или calendar_days"),
                format!("'{other}' is not a unit; use working_days, working_hours or calendar_days"),
            )),
        }
    }

    pub fn unit(self) -> &'static str {
        match self {
            Target::WorkingDays(_) => "working_days",
            Target::WorkingHours(_) => "working_hours",
            Target::CalendarDays(_) => "calendar_days",
        }
    }

    pub fn value(self) -> u32 {
        match self {
            Target::WorkingDays(n) | Target::WorkingHours(n) | Target::CalendarDays(n) => n,
        }
    }
}

/// A department's working calendar.
#[derive(Debug, Clone)]
pub struct WorkCalendar {
    time_zone: Tz,
    days_off: Vec<Weekday>,
    work_starts: NaiveTime,
    work_ends: NaiveTime,
    exceptions: HashMap<NaiveDate, DayKind>,
}

impl WorkCalendar {
    /// A calendar; working hours must leave time on a shortened day.
    pub fn new(
        time_zone: Tz,
        days_off: Vec<Weekday>,
        work_starts: NaiveTime,
        work_ends: NaiveTime,
        days: &[CalendarDay],
    ) -> Result<WorkCalendar, Text> {
        if work_ends - SHORTENED_BY <= work_starts {
            return Err(Text::new(
                format!("рабочие часы {work_starts}–{work_ends} не оставляют времени в сокращённый день"),
                format!("working hours {work_starts}–{work_ends} leave no time on a shortened day"),
            ));
        }
        if days_off.len() >= 7 {
            return Err(Text::new(
                "в неделе нужен хотя бы один рабочий день",
                "a week needs at least one working day",
            ));
        }
        Ok(WorkCalendar {
            time_zone,
            days_off,
            work_starts,
            work_ends,
            exceptions: days.iter().map(|d| (d.day, d.kind)).collect(),
        })
    }

    pub fn time_zone(&self) -> Tz {
        self.time_zone
    }

    pub fn is_working_day(&self, day: NaiveDate) -> bool {
        match self.exceptions.get(&day) {
            Some(kind) => kind.is_working(),
            None => !self.days_off.contains(&day.weekday()),
        }
    }

    /// The local date of an instant.
    pub fn local_date(&self, at: NaiveDateTime) -> NaiveDate {
        self.time_zone.from_utc_datetime(&at).date_naive()
    }

    /// The instant of a local date and time (see the module doc for times a
    /// daylight-saving change skips or repeats).
    pub fn instant(&self, day: NaiveDate, time: NaiveTime) -> NaiveDateTime {
        let mut local = day.and_time(time);
        // A skipped time becomes the first valid time after it: the jump.
        for _ in 0..=24 * 60 {
            match self.time_zone.from_local_datetime(&local) {
                LocalResult::Single(t) => return t.naive_utc(),
                LocalResult::Ambiguous(first, _) => return first.naive_utc(),
                LocalResult::None => local += TimeDelta::minutes(1),
            }
        }
        // No zone skips a whole day and more; fall back to the offset of the day before.
        let offset = self
            .time_zone
            .offset_from_local_datetime(&(day.and_time(time) - TimeDelta::days(1)))
            .earliest()
            .map(|o| chrono::Offset::fix(&o).local_minus_utc())
            .unwrap_or(0);
        day.and_time(time) - TimeDelta::seconds(offset.into())
    }

    /// A working day's hours as UTC instants `[start, end)`; `None` on a day
    /// off.
    pub fn period(&self, day: NaiveDate) -> Option<(NaiveDateTime, NaiveDateTime)> {
        if !self.is_working_day(day) {
            return None;
        }
        let ends = match self.exceptions.get(&day) {
            Some(DayKind::Shortened) => self.work_ends - SHORTENED_BY,
            _ => self.work_ends,
        };
        let (start, end) = (self.instant(day, self.work_starts), self.instant(day, ends));
        (start < end).then_some((start, end))
    }

    /// The working hours from `from` on, in order, without the pauses.
    fn open_stretches<'a>(
        &'a self,
        from: NaiveDateTime,
        pauses: &'a [Interval],
    ) -> impl Iterator<Item = (NaiveDateTime, NaiveDateTime)> + 'a {
        let first = self.local_date(from) - TimeDelta::days(1);
        (0..HORIZON_DAYS)
            .filter_map(move |i| self.period(first + TimeDelta::days(i)))
            .filter_map(move |(start, end)| {
                let start = start.max(from);
                (start < end).then_some((start, end))
            })
            .flat_map(move |stretch| without_pauses(stretch, pauses))
    }

    /// Working time in `[from, to)`, outside the pauses.
    pub fn working_time(
        &self,
        from: NaiveDateTime,
        to: NaiveDateTime,
        pauses: &[Interval],
    ) -> TimeDelta {
        let mut total = TimeDelta::zero();
        for (start, end) in self.open_stretches(from, pauses) {
            if start >= to {
                break;
            }
            total += end.min(to) - start;
        }
        total
    }

    /// The instant at which `budget` of working time outside the pauses has
    /// passed since `from`; `None` while an open pause holds the clock
    /// before that.
    pub fn advance(
        &self,
        from: NaiveDateTime,
        budget: TimeDelta,
        pauses: &[Interval],
    ) -> Option<NaiveDateTime> {
        let mut left = budget;
        if left <= TimeDelta::zero() {
            return Some(from);
        }
        for (start, end) in self.open_stretches(from, pauses) {
            if left <= end - start {
                return Some(start + left);
            }
            left -= end - start;
        }
        None
    }

    /// The close of the N-th working day after the local date of `from`.
    pub fn nominal_end(&self, from: NaiveDateTime, working_days: u32) -> Option<NaiveDateTime> {
        let day = self.local_date(from);
        (1..HORIZON_DAYS)
            .filter_map(|i| self.period(day + TimeDelta::days(i)))
            .nth(working_days.checked_sub(1)? as usize)
            .map(|(_, end)| end)
    }

    /// The working time (wall time for calendar days) a target allows,
    /// counted from `from`.
    pub fn budget(&self, from: NaiveDateTime, target: Target) -> Option<TimeDelta> {
        match target {
            Target::WorkingDays(n) => {
                Some(self.working_time(from, self.nominal_end(from, n)?, &[]))
            }
            Target::WorkingHours(n) => Some(TimeDelta::hours(n.into())),
            Target::CalendarDays(n) => Some(TimeDelta::days(n.into())),
        }
    }

    /// When `percent` of the target counted from `from` is used, given the
    /// pauses; `None` while an open pause holds the clock first.
    pub fn point(
        &self,
        from: NaiveDateTime,
        target: Target,
        percent: u32,
        pauses: &[Interval],
    ) -> Option<NaiveDateTime> {
        self.point_within(from, target, self.budget(from, target)?, percent, pauses)
    }

    /// As [`WorkCalendar::point`], with the target's budget from `from`
    /// already counted, for several points of one target.
    pub fn point_within(
        &self,
        from: NaiveDateTime,
        target: Target,
        budget: TimeDelta,
        percent: u32,
        pauses: &[Interval],
    ) -> Option<NaiveDateTime> {
        let part = TimeDelta::microseconds(
            (budget.num_microseconds()? as i128 * percent as i128 / 100) as i64,
        );
        match target {
            Target::CalendarDays(_) => wall_advance(from, part, pauses),
            _ => self.advance(from, part, pauses),
        }
    }

    /// The deadline of a target counted from `from`, given the pauses.
    pub fn deadline(
        &self,
        from: NaiveDateTime,
        target: Target,
        pauses: &[Interval],
    ) -> Option<NaiveDateTime> {
        self.point(from, target, 100, pauses)
    }

    /// The budget used by `now`: working time (wall time for calendar days)
    /// since `from`, outside the pauses.
    pub fn used(
        &self,
        from: NaiveDateTime,
        now: NaiveDateTime,
        target: Target,
        pauses: &[Interval],
    ) -> TimeDelta {
        match target {
            Target::CalendarDays(_) => {
                let whole = (now - from).max(TimeDelta::zero());
                whole - paused_between(from, now, pauses)
            }
            _ => self.working_time(from, now, pauses),
        }
    }

    /// Working days counted so far and still left before a deadline: a
    /// working day is used once its hours have begun (and not wholly paused);
    /// it is left while its hours have not ended, up to the deadline's day.
    pub fn working_days(
        &self,
        from: NaiveDateTime,
        now: NaiveDateTime,
        deadline: Option<NaiveDateTime>,
        pauses: &[Interval],
    ) -> (u32, u32) {
        let first = self.local_date(from) + TimeDelta::days(1);
        let today = self.local_date(now);
        let mut used = 0;
        let mut day = first;
        while day <= today {
            if let Some((start, end)) = self.period(day) {
                let paused = without_pauses((start, end), pauses).next().is_none();
                if start <= now && !paused {
                    used += 1;
                }
            }
            day += TimeDelta::days(1);
        }
        let mut left = 0;
        if let Some(deadline) = deadline {
            let last = self.local_date(deadline);
            let mut day = today.max(first);
            while day <= last {
                if matches!(self.period(day), Some((_, end)) if end > now) {
                    left += 1;
                }
                day += TimeDelta::days(1);
            }
        }
        (used, left)
    }
}

/// `from` plus `span` of wall time, skipping the pauses.
fn wall_advance(
    from: NaiveDateTime,
    span: TimeDelta,
    pauses: &[Interval],
) -> Option<NaiveDateTime> {
    let far = from + TimeDelta::days(HORIZON_DAYS);
    let mut left = span;
    for (start, end) in without_pauses((from, far), pauses) {
        if left <= end - start {
            return Some(start + left);
        }
        left -= end - start;
    }
    None
}

/// Wall time covered by pauses within `[from, to)`.
fn paused_between(from: NaiveDateTime, to: NaiveDateTime, pauses: &[Interval]) -> TimeDelta {
    if to <= from {
        return TimeDelta::zero();
    }
    let open: TimeDelta = without_pauses((from, to), pauses).map(|(s, e)| e - s).sum();
    (to - from) - open
}

/// The parts of `[start, end)` that no pause covers, in order.
fn without_pauses(
    (start, end): (NaiveDateTime, NaiveDateTime),
    pauses: &[Interval],
) -> impl Iterator<Item = (NaiveDateTime, NaiveDateTime)> {
    let mut covering: Vec<(NaiveDateTime, Option<NaiveDateTime>)> = pauses
        .iter()
        .filter(|p| p.from < end && p.until.is_none_or(|u| u > start))
        .map(|p| (p.from, p.until))
        .collect();
    covering.sort();
    let mut parts = Vec::new();
    let mut cursor = start;
    for (from, until) in covering {
        if from > cursor {
            parts.push((cursor, from.min(end)));
        }
        match until {
            Some(until) => cursor = cursor.max(until),
            None => {
                cursor = end;
                break;
            }
        }
        if cursor >= end {
            break;
        }
    }
    if cursor < end {
        parts.push((cursor, end));
    }
    parts.into_iter()
}
