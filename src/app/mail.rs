//! The mail a resident stops and the mail operators look after: an
//! unsubscribe link's opt-out (from one report, or from everything), the
//! outbox by status, and a dead letter put back in the queue. Sending is a
//! job (`app::dispatch`).

pub use crate::db::rows::OutboxRow;

use super::Services;
use crate::db::{outbox, DbConnection, DbError};

/// No more mail to `email` about `report_id` (`None`: about anything).
/// Opting out again changes nothing.
pub fn opt_out(
    app: &Services,
    conn: &mut DbConnection,
    email: &str,
    report_id: Option<&str>,
) -> Result<(), DbError> {
    outbox::opt_out(conn, email, report_id, app.clock.now())
}

/// Up to `limit` messages in a status (pending, sent, dead), newest first.
pub fn list(conn: &mut DbConnection, status: &str, limit: i64) -> Result<Vec<OutboxRow>, DbError> {
    outbox::list(conn, status, limit)
}

/// Puts a dead letter back in the queue, due now; false when there is no
/// dead letter with that id.
pub fn requeue(app: &Services, conn: &mut DbConnection, id: &str) -> Result<bool, DbError> {
    outbox::requeue(conn, id, app.clock.now())
}
