//! The audit log: what staff and admins did, with what it looked like
//! before and after, recorded once it is done; read by admins.

pub use crate::db::audit::{Actor, AuditFilter, AuditRow, Entry};

use super::Services;
use crate::db::audit as audit_db;
use crate::db::{DbConnection, DbError};

/// Records what `actor` did, now.
pub fn record(
    app: &Services,
    conn: &mut DbConnection,
    actor: &Actor,
    entry: Entry<'_>,
) -> Result<(), DbError> {
    audit_db::record(conn, actor, entry, app.clock.now())
}

/// A page of the log, newest first, with how many entries match.
pub fn list(
    conn: &mut DbConnection,
    filter: &AuditFilter,
    page: i64,
    per_page: i64,
) -> Result<(i64, Vec<AuditRow>), DbError> {
    audit_db::list(conn, filter, page, per_page)
}
