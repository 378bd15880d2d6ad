//! Rate limits: how many times something may happen in a window of time.
//! Windows are fixed (they start at multiples of their length since the
//! Unix epoch, or at the city's local midnight for daily limits), so that
//! every instance counting in the database agrees on which window a moment
//! belongs to and when it ends.

use chrono::{NaiveDateTime, TimeDelta, TimeZone};

use crate::locale::{Locale, Text};

/// A window of time: [start, end).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Window {
    pub start: NaiveDateTime,
    pub end: NaiveDateTime,
}

/// The window of `length` that holds `now` (UTC).
pub fn fixed(now: NaiveDateTime, length: TimeDelta) -> Window {
    let length_secs = length.num_seconds().max(1);
    let secs = now.and_utc().timestamp();
    let start_secs = secs - secs.rem_euclid(length_secs);
    let start = chrono::DateTime::from_timestamp(start_secs, 0).map_or(now, |t| t.naive_utc());
    Window {
        start,
        end: start + TimeDelta::seconds(length_secs),
    }
}

/// The emails that ask a person to confirm something: sent on a stranger's
/// word, so capped per address and day.
pub const CONFIRMATION_TEMPLATES: [&str; 8] = [
    "verify_email",
    "reset_password",
    "confirm_report",
    "confirm_support",
    "confirm_follow",
    "confirm_update",
    "confirm_alert",
    "account_exists",
];

/// The city's local day that holds `now` (UTC), in UTC.
pub fn local_day(now: NaiveDateTime, zone: chrono_tz::Tz) -> Window {
    let local = zone.from_utc_datetime(&now).date_naive();
    Window {
        start: local_midnight(local, zone),
        end: local_midnight(local + TimeDelta::days(1), zone),
    }
}

/// The moment (UTC) a local day begins in the city.
pub fn local_midnight(day: chrono::NaiveDate, zone: chrono_tz::Tz) -> NaiveDateTime {
    let midnight = day.and_hms_opt(0, 0, 0).unwrap_or_default();
    zone.from_local_datetime(&midnight)
        .earliest()
        .map_or(midnight, |t| t.naive_utc())
}

/// A refusal for a spent limit: what the limit is, and when (in the
/// city's time) the window ends.
pub fn come_back(what: Text, until: NaiveDateTime, zone: chrono_tz::Tz) -> Text {
    let local = zone.from_utc_datetime(&until).naive_local();
    Text::new(
        format!(
            "{}; попробуйте снова после {}",
            what.get(Locale::Ru),
            Locale::Ru.date_time(local)
        ),
        format!(
            "{}; try again after {}",
            what.en(),
            Locale::En.date_time(local)
        ),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::NaiveDate;

    fn at(h: u32, m: u32) -> NaiveDateTime {
        NaiveDate::from_ymd_opt(2026, 3, 2)
            .and_then(|d| d.and_hms_opt(h, m, 7))
            .expect("a time")
    }

    #[test]
    fn fixed_windows_start_on_multiples_of_their_length() {
        let w = fixed(at(10, 17), TimeDelta::minutes(15));
        assert_eq!(
            (w.start, w.end),
            (
                at(10, 15) - TimeDelta::seconds(7),
                at(10, 30) - TimeDelta::seconds(7)
            )
        );
    }

    #[test]
    fn a_moscow_day_starts_at_21_utc() {
        let w = local_day(at(22, 0), chrono_tz::Europe::Moscow);
        assert_eq!(w.start, at(21, 0) - TimeDelta::seconds(7));
        assert_eq!(w.end - w.start, TimeDelta::days(1));
        let before = local_day(at(20, 59), chrono_tz::Europe::Moscow);
        assert_eq!(before.end, w.start);
    }
}
