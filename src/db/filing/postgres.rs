//! Filing on PostgreSQL in as few round trips as it takes, each a statement
//! that stays prepared. A batch of filings costs four statements: the
//! duplicate candidates of all of them, the reporters' users (found or
//! created), the report numbers from the sequence, and one statement that
//! writes the reports, their first events, photos, subscriptions and
//! receipts. That last one is atomic on its own, so no `BEGIN`/`COMMIT`
//! trips are needed; reporters are created before it, and a resident
//! created for a filing that then fails stays: it is that resident either
//! way, and their next filing finds them.
//!
//! Rows travel as JSON arrays, one parameter per table, and PostgreSQL maps
//! them onto the table by column name (`json_populate_recordset`): the
//! statement text is the same for one filing or sixty, so the server parses
//! and plans it once per connection, and it cannot drift from the schema.
//! The rows arrive complete (user ids and numbers in place), because
//! filling them in inside the statement (joins, JSON edits per row) cost
//! the server more than the two short statements that find them first.
//! (Diesel prepares `sql_query` text and multi-row `INSERT`s anew each time;
//! these statements are therefore written as query fragments with a fixed
//! query id, which diesel caches.)

use std::collections::HashMap;

use diesel::pg::Pg;
use diesel::prelude::*;
use diesel::query_builder::{AstPass, Query, QueryFragment, QueryId};
use diesel::sql_types::{Array, BigInt, Text};
use diesel::PgConnection;

use super::DbError;
use super::FilingRows;
use crate::db::rows::{ReportRow, UserRow};
use crate::reports::ReportStatus;

/// Implements what diesel needs to run a hand-written statement and keep it
/// prepared: a static query id (the text never changes) and, for one that
/// returns rows, their type.
macro_rules! prepared {
    ($name:ident) => {
        impl QueryId for $name {
            type QueryId = $name;
            const HAS_STATIC_QUERY_ID: bool = true;
        }
        impl RunQueryDsl<PgConnection> for $name {}
    };
    ($name:ident, $row:ty) => {
        prepared!($name);
        impl Query for $name {
            type SqlType = $row;
        }
    };
}

fn to_json<T: serde::Serialize>(rows: &[T]) -> Result<String, DbError> {
    serde_json::to_string(rows).map_err(|e| DbError::Corrupt(format!("rows do not serialise: {e}")))
}

/// The user id and language of each of these residents by email, creating
/// the users that do not exist yet.
///
/// A resident that another writer is creating at the same moment is not
/// seen by the statement (its snapshot predates that commit, and `ON
/// CONFLICT` skips the row): the statement then runs once more, and the new
/// run's snapshot sees the resident, committed meanwhile.
pub fn residents(
    conn: &mut PgConnection,
    reporters: &[UserRow],
) -> Result<HashMap<String, (String, String)>, DbError> {
    if reporters.is_empty() {
        return Ok(HashMap::new());
    }
    let statement = ResidentStatement {
        users: to_json(reporters)?,
        emails: reporters.iter().map(|a| a.email.clone()).collect(),
    };
    for _ in 0..2 {
        let rows: Vec<(String, String, String)> = statement.clone().load(conn)?;
        let found: HashMap<_, _> = rows
            .into_iter()
            .map(|(email, id, locale)| (email, (id, locale)))
            .collect();
        if reporters.iter().all(|r| found.contains_key(&r.email)) {
            return Ok(found);
        }
    }
    Err(DbError::Corrupt(
        "a reporter was neither found nor created".into(),
    ))
}

#[derive(Clone)]
struct ResidentStatement {
    users: String,
    emails: Vec<String>,
}

prepared!(ResidentStatement, (Text, Text, Text));

impl QueryFragment<Pg> for ResidentStatement {
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, Pg>) -> QueryResult<()> {
        out.push_sql("WITH created AS (INSERT INTO users SELECT * FROM json_populate_recordset(NULL::users, CAST(");
        out.push_bind_param::<Text, _>(&self.users)?;
        out.push_sql(
            " AS json)) ON CONFLICT (email) DO NOTHING RETURNING email, id, locale) \
             SELECT email, id, locale FROM created \
             UNION ALL SELECT email, id, locale FROM users WHERE email = ANY(",
        );
        out.push_bind_param::<Array<Text>, _>(&self.emails)?;
        out.push_sql(")");
        Ok(())
    }
}

/// `count` new report numbers, in order, from the sequence.
pub fn numbers(conn: &mut PgConnection, count: usize) -> Result<Vec<i64>, DbError> {
    let count = i64::try_from(count).unwrap_or(i64::MAX);
    Ok(NumberStatement { count }.load(conn)?)
}

struct NumberStatement {
    count: i64,
}

prepared!(NumberStatement, BigInt);

impl QueryFragment<Pg> for NumberStatement {
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, Pg>) -> QueryResult<()> {
        out.push_sql("SELECT nextval('report_numbers') FROM generate_series(1, ");
        out.push_bind_param::<BigInt, _>(&self.count)?;
        out.push_sql(") ORDER BY 1");
        Ok(())
    }
}

/// Writes a batch of filings' rows in one statement. A receipt to someone
/// who wants no mail at all is left out.
pub fn insert(conn: &mut PgConnection, rows: &FilingRows) -> Result<(), DbError> {
    FilingStatement {
        reports: to_json(&rows.reports)?,
        events: to_json(&rows.events)?,
        photos: to_json(&rows.photos)?,
        followers: to_json(&rows.followers)?,
        receipts: to_json(&rows.receipts)?,
        keys: to_json(&rows.idempotency_keys)?,
        pending: to_json(&rows.pending)?,
        objects: to_json(&rows.objects)?,
        links: to_json(&rows.media_links)?,
    }
    .execute(conn)?;
    Ok(())
}

struct FilingStatement {
    reports: String,
    events: String,
    photos: String,
    followers: String,
    receipts: String,
    keys: String,
    pending: String,
    objects: String,
    links: String,
}

prepared!(FilingStatement);

impl QueryFragment<Pg> for FilingStatement {
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, Pg>) -> QueryResult<()> {
        let tables = [
            ("reports", &self.reports),
            ("report_events", &self.events),
            ("attachments", &self.photos),
            ("subscriptions", &self.followers),
            ("idempotency_keys", &self.keys),
            ("search_pending", &self.pending),
            ("report_objects", &self.objects),
            ("report_media_links", &self.links),
        ];
        for (n, (table, rows)) in tables.into_iter().enumerate() {
            out.push_sql(if n == 0 { "WITH " } else { ", " });
            out.push_sql(&format!(
                "new_{table} AS (INSERT INTO {table} SELECT * FROM json_populate_recordset(NULL::{table}, CAST("
            ));
            out.push_bind_param::<Text, _>(rows)?;
            out.push_sql(" AS json)))");
        }
        out.push_sql(
            " INSERT INTO outbox SELECT * FROM json_populate_recordset(NULL::outbox, CAST(",
        );
        out.push_bind_param::<Text, _>(&self.receipts)?;
        out.push_sql(
            " AS json)) AS o WHERE NOT EXISTS (SELECT 1 FROM mail_opt_outs \
             WHERE mail_opt_outs.email = o.recipient AND mail_opt_outs.scope = '*')",
        );
        Ok(())
    }
}

/// Where duplicate candidates are looked for: a category and a box.
#[derive(serde::Serialize)]
pub struct CandidateBox<'a> {
    pub category_id: &'a str,
    /// The grid cells the box spans (`reports_category_cell`).
    pub cells: Vec<i64>,
    pub min_lat: f64,
    pub max_lat: f64,
    pub min_lon: f64,
    pub max_lon: f64,
}

/// The newest `scan` open reports in each box, in one statement; a report
/// found by several boxes comes once.
pub fn candidates(
    conn: &mut PgConnection,
    boxes: &[CandidateBox],
    scan: i64,
) -> Result<Vec<ReportRow>, DbError> {
    let statement = CandidateStatement {
        boxes: to_json(boxes)?,
        done: ReportStatus::DONE.map(|s| s.as_str().to_string()).to_vec(),
        scan,
        columns: ReportRow::as_select(),
    };
    Ok(statement.load(conn)?)
}

struct CandidateStatement {
    boxes: String,
    done: Vec<String>,
    scan: i64,
    columns: diesel::dsl::AsSelect<ReportRow, Pg>,
}

type ReportSqlType = diesel::dsl::SqlTypeOf<diesel::dsl::AsSelect<ReportRow, Pg>>;

prepared!(CandidateStatement, ReportSqlType);

impl QueryFragment<Pg> for CandidateStatement {
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, Pg>) -> QueryResult<()> {
        out.push_sql("SELECT ");
        self.columns.walk_ast(out.reborrow())?;
        out.push_sql(" FROM reports WHERE reports.id IN (SELECT c.id FROM json_to_recordset(CAST(");
        out.push_bind_param::<Text, _>(&self.boxes)?;
        out.push_sql(
            " AS json)) AS b(category_id text, cells bigint[], min_lat float8, max_lat float8, \
             min_lon float8, max_lon float8) \
             CROSS JOIN LATERAL (SELECT r.id FROM reports r \
             WHERE r.category_id = b.category_id AND ",
        );
        out.push_sql(super::super::grid::CELL_POSTGRES);
        out.push_sql(
            " = ANY(b.cells) \
             AND r.lat BETWEEN b.min_lat AND b.max_lat AND r.lon BETWEEN b.min_lon AND b.max_lon \
             AND r.status <> ALL(",
        );
        out.push_bind_param::<Array<Text>, _>(&self.done)?;
        out.push_sql(") ORDER BY r.created_at DESC LIMIT ");
        out.push_bind_param::<BigInt, _>(&self.scan)?;
        out.push_sql(") AS c)");
        Ok(())
    }
}
