//! Filing on PostgreSQL in as few round trips as it takes, each a statement
//! that stays prepared. A batch of filings costs three statements: the
//! duplicate candidates of all of them, the reporters (found or created),
//! and one statement that writes the reports, their first events, photos and
//! subscriptions and draws their numbers from the sequence. That last one is
//! atomic on its own, so no `BEGIN`/`COMMIT` trips are needed.
//!
//! Rows travel as JSON arrays, one parameter per table, and PostgreSQL maps
//! them onto the table by column name (`json_populate_recordset`): the
//! statement text is the same for one filing or sixty, so the server parses
//! and plans it once per connection, and it cannot drift from the schema.
//! (Diesel prepares `sql_query` text and multi-row `INSERT`s anew each time;
//! these statements are therefore written as query fragments with a fixed
//! query id, which diesel caches.)

use std::collections::HashMap;

use diesel::pg::Pg;
use diesel::prelude::*;
use diesel::query_builder::{AstPass, Query, QueryFragment, QueryId};
use diesel::sql_types::{Array, BigInt, Text};
use diesel::PgConnection;

use super::reports::FilingRows;
use super::rows::{ReportRow, UserRow};
use super::DbError;
use crate::reports::ReportStatus;

/// Implements what diesel needs to run a hand-written statement and keep it
/// prepared: a static query id (the text never changes) and its row type.
macro_rules! prepared {
    ($name:ident, $row:ty) => {
        impl QueryId for $name {
            type QueryId = $name;
            const HAS_STATIC_QUERY_ID: bool = true;
        }
        impl Query for $name {
            type SqlType = $row;
        }
        impl RunQueryDsl<PgConnection> for $name {}
    };
}

fn to_json<T: serde::Serialize>(rows: &[T]) -> Result<String, DbError> {
    serde_json::to_string(rows).map_err(|e| DbError::Corrupt(format!("rows do not serialise: {e}")))
}

/// Writes a batch in one statement: the reporters' accounts (`accounts`
/// holds a new row for each reporter, created only if their email has
/// none), then the rows, which name their reporter by email (in
/// `reporter_id`, `actor_id` and `user_id`) for the statement to put the
/// account id in its place. Each report's id and the number the sequence
/// gave it (the numbers in the rows are ignored).
///
/// A reporter whose account another writer is creating at the same moment
/// is not seen by this statement (its snapshot predates that commit): the
/// reporter's subscription then has no account, which its `NOT NULL`
/// refuses, so nothing is written; the statement is then run once more,
/// and the new run's snapshot sees the account, committed meanwhile.
pub fn insert(
    conn: &mut PgConnection,
    accounts: &[UserRow],
    rows: &FilingRows,
) -> Result<HashMap<String, i64>, DbError> {
    let statement = FilingStatement {
        accounts: to_json(accounts)?,
        emails: accounts.iter().map(|a| a.email.clone()).collect(),
        reports: to_json(&rows.reports)?,
        events: to_json(&rows.events)?,
        photos: to_json(&rows.photos)?,
        followers: to_json(&rows.followers)?,
        receipts: to_json(&rows.receipts)?,
    };
    let numbers: Vec<(String, i64)> = match statement.clone().load(conn) {
        Err(e) if is_account_race(&e) => statement.load(conn)?,
        other => other?,
    };
    if numbers.len() != rows.reports.len() {
        return Err(DbError::Corrupt(format!(
            "{} reports were written of {}",
            numbers.len(),
            rows.reports.len()
        )));
    }
    Ok(numbers.into_iter().collect())
}

/// Whether a filing statement failed because a reporter's account was being
/// created by another writer (see [`insert`]).
fn is_account_race(error: &diesel::result::Error) -> bool {
    use diesel::result::{DatabaseErrorKind, Error};
    matches!(error, Error::DatabaseError(DatabaseErrorKind::NotNullViolation, info)
        if info.table_name() == Some("subscriptions") && info.column_name() == Some("user_id"))
}

#[derive(Clone)]
struct FilingStatement {
    accounts: String,
    emails: Vec<String>,
    reports: String,
    events: String,
    photos: String,
    followers: String,
    receipts: String,
}

prepared!(FilingStatement, (Text, BigInt));

impl QueryFragment<Pg> for FilingStatement {
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, Pg>) -> QueryResult<()> {
        out.push_sql("WITH wanted AS (SELECT * FROM json_populate_recordset(NULL::users, CAST(");
        out.push_bind_param::<Text, _>(&self.accounts)?;
        out.push_sql(
            " AS json))), created AS (INSERT INTO users SELECT * FROM wanted \
             ON CONFLICT (email) DO NOTHING RETURNING email, id, locale), \
             who AS (SELECT email, id, locale FROM created \
             UNION ALL SELECT email, id, locale FROM users WHERE email = ANY(",
        );
        // The emails again, as an array: an index lookup each, where a join
        // with the rows would be planned as a scan of every account.
        out.push_bind_param::<Array<Text>, _>(&self.emails)?;
        // The numbers are drawn as the reports are written.
        out.push_sql(")), filed AS (");
        insert_naming_reporters(
            &mut out,
            "reports",
            "reporter_id",
            &self.reports,
            ", 'number', nextval('report_numbers')",
        )?;
        out.push_sql(" RETURNING id, number), events AS (");
        insert_naming_reporters(&mut out, "report_events", "actor_id", &self.events, "")?;
        out.push_sql(
            "), photos AS (INSERT INTO attachments SELECT * \
             FROM json_populate_recordset(NULL::attachments, CAST(",
        );
        out.push_bind_param::<Text, _>(&self.photos)?;
        out.push_sql(" AS json))), followers AS (");
        insert_naming_reporters(&mut out, "subscriptions", "user_id", &self.followers, "")?;
        // Each receipt gets its report's number and its reader's language,
        // unless the reader wants no mail at all.
        out.push_sql(
            "), receipts AS (INSERT INTO outbox SELECT o.* \
             FROM jsonb_array_elements(CAST(",
        );
        out.push_bind_param::<Text, _>(&self.receipts)?;
        out.push_sql(
            " AS jsonb)) AS given(row) \
             JOIN filed ON filed.id = CAST(given.row->>'payload' AS jsonb)->>'report_id' \
             LEFT JOIN who ON who.email = given.row->>'recipient', \
             LATERAL jsonb_populate_record(NULL::outbox, given.row || jsonb_build_object(\
             'locale', COALESCE(who.locale, given.row->>'locale'), \
             'payload', CAST(CAST(given.row->>'payload' AS jsonb) \
             || jsonb_build_object('report', filed.number) AS text))) AS o \
             WHERE NOT EXISTS (SELECT 1 FROM mail_opt_outs \
             WHERE mail_opt_outs.email = given.row->>'recipient' AND mail_opt_outs.scope = '*')) \
             SELECT id, number FROM filed",
        );
        Ok(())
    }
}

/// `INSERT INTO {table}` the rows of the JSON array `rows`, with the account
/// id of the email in `column` put in its place (from `who`), and the pairs
/// of `more` (`, 'column', value…`) set too.
fn insert_naming_reporters<'b>(
    out: &mut AstPass<'_, 'b, Pg>,
    table: &str,
    column: &str,
    rows: &'b String,
    more: &str,
) -> QueryResult<()> {
    out.push_sql(&format!(
        "INSERT INTO {table} SELECT r.* FROM jsonb_array_elements(CAST("
    ));
    out.push_bind_param::<Text, _>(rows)?;
    out.push_sql(&format!(
        " AS jsonb)) AS given(row) LEFT JOIN who ON who.email = given.row->>'{column}', \
         LATERAL jsonb_populate_record(NULL::{table}, \
         given.row || jsonb_build_object('{column}', who.id{more})) AS r"
    ));
    Ok(())
}

/// Where duplicate candidates are looked for: a category and a box.
#[derive(serde::Serialize)]
pub struct CandidateBox<'a> {
    pub category_id: &'a str,
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
            " AS json)) AS b(category_id text, min_lat float8, max_lat float8, \
             min_lon float8, max_lon float8) \
             CROSS JOIN LATERAL (SELECT r.id FROM reports r \
             WHERE r.category_id = b.category_id \
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
