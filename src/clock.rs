//! Time is injected: every timestamp the city records comes from a `Clock`,
//! never from the database's `now()`, so deadline tests are exact and instant.
//! Times are UTC `NaiveDateTime`s truncated to microseconds, the precision both
//! SQLite and PostgreSQL keep.

use std::sync::{Arc, Mutex};

use chrono::{DurationRound, NaiveDateTime, TimeDelta, Utc};

pub trait Clock: Send + Sync {
    fn now(&self) -> NaiveDateTime;
}

/// The wall clock.
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> NaiveDateTime {
        truncate(Utc::now().naive_utc())
    }
}

/// A clock that stands still until told to move; for tests and replays.
#[derive(Debug, Clone)]
pub struct SettableClock {
    now: Arc<Mutex<NaiveDateTime>>,
}

impl SettableClock {
    pub fn new(start: NaiveDateTime) -> SettableClock {
        SettableClock {
            now: Arc::new(Mutex::new(truncate(start))),
        }
    }

    pub fn set(&self, to: NaiveDateTime) {
        *self.lock() = truncate(to);
    }

    pub fn advance(&self, by: TimeDelta) {
        let mut now = self.lock();
        *now = truncate(*now + by);
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, NaiveDateTime> {
        // A poisoned lock still holds a valid time.
        self.now.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl Clock for SettableClock {
    fn now(&self) -> NaiveDateTime {
        *self.lock()
    }
}

fn truncate(t: NaiveDateTime) -> NaiveDateTime {
    t.duration_trunc(TimeDelta::microseconds(1)).unwrap_or(t)
}
/// Serialises a UTC time as RFC 3339 with its offset (`…Z`), as the API
/// documents its `date-time`s: `#[serde(serialize_with = "crate::clock::utc")]`.
pub fn utc<S: serde::Serializer>(at: &NaiveDateTime, s: S) -> Result<S::Ok, S::Error> {
    s.collect_str(
        &at.and_utc()
            .to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true),
    )
}

/// [`utc`] for a time that may be absent.
pub fn utc_opt<S: serde::Serializer>(at: &Option<NaiveDateTime>, s: S) -> Result<S::Ok, S::Error> {
    match at {
        Some(at) => utc(at, s),
        None => s.serialize_none(),
    }
}
