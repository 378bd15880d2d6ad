//! Rate-limit counters, shared by every instance: hits of a key (e.g.
//! `login-ip:203.0.113.7`) in a window starting at `window_start`.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use diesel::upsert::excluded;

use super::schema::rate_counters;
use super::{DbConnection, DbError};

/// Hits of `key` in the window so far.
pub fn hits(
    conn: &mut DbConnection,
    key: &str,
    window_start: NaiveDateTime,
) -> Result<i64, DbError> {
    let hits: Option<i32> = rate_counters::table
        .find((key, window_start))
        .select(rate_counters::hits)
        .first(conn)
        .optional()?;
    Ok(hits.map_or(0, i64::from))
}

/// Counts one more hit of `key` (atomically, whichever instance counts);
/// the hits so far, this one included.
pub fn hit(
    conn: &mut DbConnection,
    key: &str,
    window_start: NaiveDateTime,
) -> Result<i64, DbError> {
    add(conn, key, window_start, 1)
}

/// Counts `n` more hits of `key` at once; the hits so far.
pub fn add(
    conn: &mut DbConnection,
    key: &str,
    window_start: NaiveDateTime,
    n: i64,
) -> Result<i64, DbError> {
    let n = i32::try_from(n).unwrap_or(i32::MAX);
    upsert!(
        conn,
        rate_counters::table,
        (
            rate_counters::key.eq(key),
            rate_counters::window_start.eq(window_start),
            rate_counters::hits.eq(n),
        ),
        (rate_counters::key, rate_counters::window_start),
        rate_counters::hits.eq(rate_counters::hits + excluded(rate_counters::hits))
    );
    hits(conn, key, window_start)
}

/// Forgets a key's hits in a window (a successful login clears its
/// account's failures).
pub fn clear(
    conn: &mut DbConnection,
    key: &str,
    window_start: NaiveDateTime,
) -> Result<(), DbError> {
    diesel::delete(rate_counters::table.find((key, window_start))).execute(conn)?;
    Ok(())
}

/// Drops the counters of windows that started before `before`.
pub fn forget_before(conn: &mut DbConnection, before: NaiveDateTime) -> Result<usize, DbError> {
    Ok(
        diesel::delete(rate_counters::table.filter(rate_counters::window_start.lt(before)))
            .execute(conn)?,
    )
}
