//! Rate limits as handlers use them (the counting is `app::limits`): a 429
//! that says when to come back.

use super::{db, ApiError, AppState};
use crate::app::limits;
use crate::limits::Window;
use crate::locale::Text;

/// The 429 for a limit whose window ends at `window.end`.
pub fn too_many(state: &AppState, what: Text, window: Window) -> ApiError {
    let now = state.clock.now();
    ApiError::TooMany {
        message: crate::limits::come_back(what, window.end, state.services.time_zone),
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
    what: Text,
) -> Result<(), ApiError> {
    if db(state, move |conn| {
        Ok(limits::spend(conn, &key, max, window)?)
    })
    .await?
    {
        return Err(too_many(state, what, window));
    }
    Ok(())
}

/// Refused (429) when a key already has its `max` hits in the window;
/// counts nothing (failures are counted by [`count`]).
pub async fn refuse_if_spent(
    state: &AppState,
    keys: Vec<(String, i64)>,
    window: Window,
    what: Text,
) -> Result<(), ApiError> {
    if db(state, move |conn| Ok(limits::spent(conn, &keys, window)?)).await? {
        return Err(too_many(state, what, window));
    }
    Ok(())
}

/// Counts one hit of each key; the most hits any of them has now.
pub async fn count(state: &AppState, keys: Vec<String>, window: Window) -> Result<i64, ApiError> {
    db(state, move |conn| Ok(limits::count(conn, &keys, window)?)).await
}
