//! Answers kept for idempotency keys: a client that retries a request
//! whose answer it never got gets the same answer, and no second report.

pub use crate::db::operations::KeptAnswer;

use super::Services;
use crate::db::{operations, DbConnection, DbError};

/// What was kept for a key (by digest).
pub fn kept(conn: &mut DbConnection, key_hash: &str) -> Result<Option<KeptAnswer>, DbError> {
    operations::kept_answer(conn, key_hash)
}

/// An answer sent for a key and request.
pub struct Answer<'a> {
    pub key_hash: &'a str,
    pub request_hash: &'a str,
    pub status: i32,
    pub body: &'a str,
}

/// Keeps the answer sent for a key; false when another request with the
/// same key kept its own first.
pub fn keep(app: &Services, conn: &mut DbConnection, answer: Answer<'_>) -> Result<bool, DbError> {
    operations::keep_answer(
        conn,
        answer.key_hash,
        answer.request_hash,
        answer.status,
        answer.body,
        app.clock.now(),
    )
}
