//! What supervisors watch (the rules are `sla::watch`): open reports at
//! risk or past their deadline, escalations, a department's work queue,
//! when warnings and breaches were recorded, and how departments answer.

pub use crate::db::supervisor::{current_due, group_by, Counted, Watched};
pub use crate::sla::watch::{Risk, IN_HAND};

use chrono::NaiveDateTime;

use super::reports::{ReportFilter, ReportListing};
use crate::db::supervisor as supervisor_db;
use crate::db::{DbConnection, DbError};

/// Open reports under the filter at risk or breached, worst and oldest
/// first.
pub fn watched(conn: &mut DbConnection, filter: &ReportFilter) -> Result<Vec<Watched>, DbError> {
    supervisor_db::watched(conn, filter)
}

/// Open reports under the filter that went up an escalation level.
pub fn escalated(
    conn: &mut DbConnection,
    filter: &ReportFilter,
) -> Result<Vec<ReportListing>, DbError> {
    supervisor_db::escalated(conn, filter)
}

/// When each warning and breach under the filter was recorded since `since`.
pub fn marks_since(
    conn: &mut DbConnection,
    filter: &ReportFilter,
    since: NaiveDateTime,
) -> Result<Vec<(NaiveDateTime, Risk)>, DbError> {
    supervisor_db::marks_since(conn, filter, since)
}

/// A department's work list, soonest deadline first, at most `limit`.
pub fn queue(
    conn: &mut DbConnection,
    filter: &ReportFilter,
    limit: usize,
) -> Result<Vec<(ReportListing, Option<Risk>)>, DbError> {
    supervisor_db::queue(conn, filter, limit)
}

/// The outcomes of the reports under the filter (for the aggregates).
pub fn outcomes(conn: &mut DbConnection, filter: &ReportFilter) -> Result<Vec<Counted>, DbError> {
    supervisor_db::outcomes(conn, filter)
}

/// Per department code: answers whose photos were checked, and how many
/// of them had a flagged photo (reused, taken before the filing or far
/// away; `reports::evidence`).
pub fn flagged_answers(
    conn: &mut DbConnection,
) -> Result<std::collections::BTreeMap<String, (i64, i64)>, DbError> {
    crate::db::evidence::flagged_by_department(conn)
}
