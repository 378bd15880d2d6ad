//! Rate limits as handlers use them: counters in the database
//! (`db::limits`), so that every instance counts the same hits, and a 429
//! that says when to come back.

use std::collections::HashMap;
use std::sync::Mutex;

use chrono::NaiveDateTime;

use super::{db, ApiError, AppState};
use crate::db::limits;
use crate::db::{DbConnection, DbError};
use crate::limits::Window;

/// The 429 for a limit whose window ends at `window.end`.
pub fn too_many(state: &AppState, what: &str, window: Window) -> ApiError {
    let now = state.clock.now();
    ApiError::TooMany {
        message: format!(
            "{what}; try again after {} UTC",
            window.end.format("%Y-%m-%d %H:%M:%S")
        ),
        retry_at: window.end,
        retry_after: window.end - now,
    }
}

/// Counts one hit of `key`; refused (429) when it is past `max` in the
/// window.
pub async fn spend(
    state: &AppState,
    key: String,
    max: i64,
    window: Window,
    what: &str,
) -> Result<(), ApiError> {
    let hits = db(state, move |conn| {
        Ok(limits::hit(conn, &key, window.start)?)
    })
    .await?;
    if hits > max {
        return Err(too_many(state, what, window));
    }
    Ok(())
}

/// Refused (429) when `key` already has `max` hits in the window; counts
/// nothing (failures are counted by [`count`]).
pub async fn refuse_if_spent(
    state: &AppState,
    keys: Vec<(String, i64)>,
    window: Window,
    what: &str,
) -> Result<(), ApiError> {
    let spent = db(state, move |conn| {
        for (key, max) in &keys {
            if limits::hits(conn, key, window.start)? >= *max {
                return Ok(true);
            }
        }
        Ok(false)
    })
    .await?;
    if spent {
        return Err(too_many(state, what, window));
    }
    Ok(())
}

/// Counts one hit of each key; the most hits any of them has now.
pub async fn count(state: &AppState, keys: Vec<String>, window: Window) -> Result<i64, ApiError> {
    db(state, move |conn| {
        let mut most = 0;
        for key in &keys {
            most = most.max(limits::hit(conn, key, window.start)?);
        }
        Ok(most)
    })
    .await
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
