//! Loading a city's catalogue and people into an empty database (the demo
//! city, `app::demo`, whose reports then go through filing and the
//! workflow), and bulk-loading generated reports for benchmarks.

use diesel::prelude::*;

use super::filing::numbers_after;
use super::rows::*;
use super::schema::*;
use super::{write_transaction, DbConnection, DbError};

/// A city's catalogue, staff, residents and keys, ready to insert.
#[derive(Debug, Default)]
pub struct CityRows {
    pub calendars: Vec<CalendarRow>,
    pub calendar_days: Vec<CalendarDayRow>,
    pub sla_policies: Vec<SlaPolicyRow>,
    pub departments: Vec<DepartmentRow>,
    pub category_groups: Vec<CategoryGroupRow>,
    pub categories: Vec<CategoryRow>,
    pub service_areas: Vec<ServiceAreaRow>,
    pub service_area_routes: Vec<ServiceAreaRouteRow>,
    pub users: Vec<UserRow>,
    pub api_keys: Vec<ApiKeyRow>,
    pub accounts: Vec<AccountRow>,
}

/// True when the city has no departments yet, i.e. nothing was ever loaded.
pub fn is_empty(conn: &mut DbConnection) -> Result<bool, DbError> {
    let count: i64 = departments::table.count().get_result(conn)?;
    Ok(count == 0)
}

/// Within a write transaction: instances starting together on PostgreSQL
/// wait here for the first to finish loading (SQLite's write lock does
/// the same already).
pub fn wait_for_setup(conn: &mut DbConnection) -> Result<(), DbError> {
    if let DbConnection::Postgres(pg) = conn {
        diesel::sql_query(format!(
            "SELECT pg_advisory_xact_lock({})",
            super::SETUP_LOCK
        ))
        .execute(pg)?;
    }
    Ok(())
}

/// Inserts a city's rows (in the caller's transaction).
pub fn insert_city(conn: &mut DbConnection, city: &CityRows) -> Result<(), DbError> {
    insert_batches!(conn, calendars::table, &city.calendars);
    insert_batches!(conn, calendar_days::table, &city.calendar_days);
    insert_batches!(conn, sla_policies::table, &city.sla_policies);
    // One statement: both backends check the parent_id foreign key at the
    // end of the statement, so order within it does not matter.
    insert_batches!(conn, departments::table, &city.departments);
    insert_batches!(conn, category_groups::table, &city.category_groups);
    insert_batches!(conn, categories::table, &city.categories);
    insert_batches!(conn, service_areas::table, &city.service_areas);
    insert_batches!(conn, service_area_routes::table, &city.service_area_routes);
    insert_batches!(conn, users::table, &city.users);
    insert_batches!(conn, api_keys::table, &city.api_keys);
    insert_batches!(conn, accounts::table, &city.accounts);
    Ok(())
}

/// Bulk-loads reports with their history (for large generated datasets), in
/// one transaction, and moves the number counter past them.
pub fn insert_reports(
    conn: &mut DbConnection,
    rows: &[ReportRow],
    events: &[ReportEventRow],
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
pub fn insert_users(conn: &mut DbConnection, users: &[UserRow]) -> Result<(), DbError> {
    write_transaction(conn, |conn| {
        insert_batches!(conn, users::table, users);
        Ok(())
    })
}

/// Bulk-loads search terms (for large generated datasets), in one
/// transaction.
pub fn insert_search_terms(
    conn: &mut DbConnection,
    terms: &[super::rows::SearchTermRow],
) -> Result<(), DbError> {
    write_transaction(conn, |conn| {
        insert_batches!(conn, super::schema::search_terms::table, terms);
        let docs = super::search::docs_of(terms);
        insert_batches!(conn, super::schema::search_docs::table, &docs);
        Ok(())
    })
}

/// Bulk-loads registry addresses (for large generated registries), in one
/// transaction; the registry's version moves so every instance rebuilds.
pub fn insert_addresses(
    conn: &mut DbConnection,
    addresses: &[super::rows::AddressRow],
) -> Result<(), DbError> {
    write_transaction(conn, |conn| {
        insert_batches!(conn, super::schema::addresses::table, addresses);
        super::geodata::bump_version(conn)
    })
}
