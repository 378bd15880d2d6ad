//! The grid of 0.01° cells as the database computes it ([`nearby`]'s
//! numbering, written out in SQL the way the `reports_cell`,
//! `reports_status_cell` and `reports_category_cell` indexes are built on
//! it): the lists, the map and duplicates read a small box cell by cell.
//!
//! [`nearby`]: crate::reports::nearby

use super::DbConnection;

/// The reports in these grid cells, as SQL on the cell expression the grid
/// indexes are built on (no cells: every report).
pub(crate) fn in_cells(
    conn: &DbConnection,
    cells: &[i64],
) -> diesel::expression::SqlLiteral<diesel::sql_types::Bool> {
    in_cells_by(cell_sql(conn), cells)
}

/// [`in_cells`] with the backend's cell expression given.
pub(crate) fn in_cells_by(
    cell: &str,
    cells: &[i64],
) -> diesel::expression::SqlLiteral<diesel::sql_types::Bool> {
    diesel::dsl::sql(&match cells {
        [] => "1 = 1".to_string(),
        [one] => format!("{cell} = {one}"),
        many => {
            let many: Vec<String> = many.iter().map(i64::to_string).collect();
            format!("{cell} IN ({})", many.join(", "))
        }
    })
}

/// The grid cell of a report's place, as the database computes it: the
/// same steps as [`grid_cell`](crate::reports::nearby::grid_cell), written
/// out the same way in the grid's indexes (`migrations/*/…_report_grid`,
/// `…_cell_indexes`), which a query uses only when its expression is the
/// index's own.
pub fn cell_sql(conn: &DbConnection) -> &'static str {
    match conn {
        DbConnection::Sqlite(_) => CELL_SQLITE,
        DbConnection::Postgres(_) => CELL_POSTGRES,
    }
}

/// [`cell_sql`] on SQLite.
pub(crate) const CELL_SQLITE: &str =
    "(CAST((lat + 90.0) * 100.0 AS INTEGER) * 36001 + CAST((lon + 180.0) * 100.0 AS INTEGER))";

/// [`cell_sql`] on PostgreSQL.
pub(crate) const CELL_POSTGRES: &str = "(floor((lat + 90.0::float8) * 100.0::float8)::bigint * 36001 + floor((lon + 180.0::float8) * 100.0::float8)::bigint)";
