//! Rate limits: counters in the database (`db::limits`), so that every
//! instance counts the same hits; windows from `crate::limits`. Callers
//! say what a refusal looks like to their client.

use std::collections::HashMap;
use std::sync::Mutex;

use chrono::NaiveDateTime;

use crate::db::limits;
use crate::db::{DbConnection, DbError};
use crate::limits::Window;

/// Whether another confirmation email may go to `email` today: each
/// address gets at most `limits.confirmations_per_address_per_day`.
pub fn confirmation_allowed(
    services: &super::Services,
    conn: &mut DbConnection,
    email: &str,
    now: NaiveDateTime,
) -> Result<bool, DbError> {
    let today = crate::limits::local_day(now, services.time_zone);
    let sent = crate::db::outbox::confirmations_since(conn, email, today.start)?;
    Ok(sent < services.limits.confirmations_per_address_per_day)
}

/// Counts one hit of `key`; whether it is past `max` in the window.
pub fn spend(
    conn: &mut DbConnection,
    key: &str,
    max: i64,
    window: Window,
) -> Result<bool, DbError> {
    Ok(limits::hit(conn, key, window.start)? > max)
}

/// Whether any key already has its `max` hits in the window (counts
/// nothing: failures are counted by [`count`]).
pub fn spent(
    conn: &mut DbConnection,
    keys: &[(String, i64)],
    window: Window,
) -> Result<bool, DbError> {
    for (key, max) in keys {
        if limits::hits(conn, key, window.start)? >= *max {
            return Ok(true);
        }
    }
    Ok(false)
}

/// Counts one hit of each key; the most hits any of them has now.
pub fn count(conn: &mut DbConnection, keys: &[String], window: Window) -> Result<i64, DbError> {
    let mut most = 0;
    for key in keys {
        most = most.max(limits::hit(conn, key, window.start)?);
    }
    Ok(most)
}

/// Forgets a key's hits in the window (a successful login clears its
/// account's failures).
pub fn clear(conn: &mut DbConnection, key: &str, window: Window) -> Result<(), DbError> {
    limits::clear(conn, key, window.start)
}

/// Hits counted in this instance before they reach the database, for
/// limits hit thousands of times a minute (an Open311 key): one write per
/// [`Tally::FLUSH_EVERY`] hits instead of one per hit on the same row, and
/// a write per hit once the count nears the limit, so that instances
/// together never let more than the limit through by more than their
/// unwritten hits far from it.
#[derive(Default)]
pub struct Tally {
    /// key → (window start, hits not yet written, the total last read back)
    counts: Mutex<HashMap<String, (NaiveDateTime, i64, i64)>>,
}

impl Tally {
    pub const FLUSH_EVERY: i64 = 16;

    /// Counts a hit of `key` in `window`; whether it is past `max`.
    pub fn hit(
        &self,
        conn: &mut DbConnection,
        key: &str,
        window: Window,
        max: i64,
    ) -> Result<bool, DbError> {
        let mut counts = self.counts.lock().unwrap_or_else(|e| e.into_inner());
        counts.retain(|_, (start, _, _)| *start >= window.start);
        let (start, unwritten, total) =
            counts
                .entry(key.to_string())
                .or_insert((window.start, 0, 0));
        if *start != window.start {
            (*start, *unwritten, *total) = (window.start, 0, 0);
        }
        *unwritten += 1;
        if *unwritten >= Self::FLUSH_EVERY || *total + *unwritten > max - Self::FLUSH_EVERY {
            *total = limits::add(conn, key, window.start, *unwritten)?;
            *unwritten = 0;
        }
        Ok(*total + *unwritten > max)
    }
}
