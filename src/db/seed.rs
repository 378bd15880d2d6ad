//! Loading the demo city into an empty database, in one transaction, and
//! bulk-loading generated reports for benchmarks.

use diesel::prelude::*;

use super::filing::numbers_after;
use super::schema::*;
use super::{write_transaction, DbConnection, DbError};
use crate::demo::DemoCity;

/// True when the city has no departments yet, i.e. nothing was ever loaded.
pub fn is_empty(conn: &mut DbConnection) -> Result<bool, DbError> {
    let count: i64 = departments::table.count().get_result(conn)?;
    Ok(count == 0)
}

/// Inserts the demo city unless the database already holds a city; returns
/// whether it did. Checking and loading share one write transaction, so two
/// instances starting together load it once.
pub fn load_if_empty(conn: &mut DbConnection, city: &DemoCity) -> Result<bool, DbError> {
    write_transaction(conn, |conn| {
        if let DbConnection::Postgres(pg) = conn {
            // Instances starting together: the first loads, the others
            // wait here and then find the city there.
            diesel::sql_query(format!(
                "SELECT pg_advisory_xact_lock({})",
                super::SETUP_LOCK
            ))
            .execute(pg)?;
        }
        if !is_empty(conn)? {
            return Ok(false);
        }
        insert_batches!(conn, calendars::table, &city.calendars);
        insert_batches!(conn, calendar_days::table, &city.calendar_days);
        insert_batches!(conn, sla_policies::table, &city.sla_policies);
        // One statement: both backends check the parent_id foreign key at
        // the end of the statement, so order within it does not matter.
        insert_batches!(conn, departments::table, &city.departments);
        insert_batches!(conn, categories::table, &city.categories);
        insert_batches!(conn, service_areas::table, &city.service_areas);
        insert_batches!(conn, service_area_routes::table, &city.service_area_routes);
        insert_batches!(conn, users::table, &city.users);
        insert_batches!(conn, api_keys::table, &city.api_keys);
        insert_batches!(conn, accounts::table, &city.accounts);
        // Duplicates point at earlier reports, so insertion order is enough.
        insert_batches!(conn, reports::table, &city.reports);
        insert_batches!(conn, report_events::table, &city.report_events);
        insert_batches!(conn, subscriptions::table, &city.subscriptions);
        insert_batches!(conn, report_pauses::table, &city.report_pauses);
        let last_number = city.reports.iter().map(|r| r.number).max().unwrap_or(0);
        numbers_after(conn, last_number)?;
        let now = city.reports.iter().map(|r| r.updated_at).max();
        super::ledger::append(conn, &city.ledger, now.unwrap_or_default())?;
        Ok(true)
    })
}

/// Bulk-loads reports with their history (for large generated datasets), in
/// one transaction, and moves the number counter past them.
pub fn insert_reports(
    conn: &mut DbConnection,
    rows: &[crate::db::rows::ReportRow],
    events: &[crate::db::rows::ReportEventRow],
) -> Result<(), DbError> {
    write_transaction(conn, |conn| {
        insert_batches!(conn, reports::table, rows);
        insert_batches!(conn, report_events::table, events);
        let last_number = rows.iter().map(|r| r.number).max().unwrap_or(0);
        numbers_after(conn, last_number)?;
        Ok(())
    })
}

/// Bulk-loads users (for large generated datasets), in one transaction.
pub fn insert_users(
    conn: &mut DbConnection,
    users: &[crate::db::rows::UserRow],
) -> Result<(), DbError> {
    write_transaction(conn, |conn| {
        insert_batches!(conn, users::table, users);
        Ok(())
    })
}
