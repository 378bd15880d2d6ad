//! Reports filed without an account, held until their filer confirms them
//! by the emailed link. A held report is in no list, on no map and routed
//! nowhere; confirming files it as any report is filed.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use serde_json::json;

use super::outbox::send_account_message;
use super::schema::{pending_reports, pending_supports};
use super::{write_transaction, DbConnection, DbError};

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = pending_reports)]
pub struct PendingRow {
    pub id: String,
    pub email: String,
    pub locale: String,
    /// The report as filed (its JSON body).
    pub report: String,
    /// Its cleaned, stored photos (JSON).
    pub photos: String,
    pub created_at: NaiveDateTime,
    pub expires_at: NaiveDateTime,
    pub confirmed_at: Option<NaiveDateTime>,
    pub report_id: Option<String>,
}

/// A held report, whatever its state.
pub fn held(conn: &mut DbConnection, id: &str) -> Result<Option<PendingRow>, DbError> {
    Ok(pending_reports::table
        .find(id)
        .select(PendingRow::as_select())
        .first(conn)
        .optional()?)
}

/// The report a held "me too" (follow, update) is for and what it is,
/// whatever its state.
pub fn supported_report(
    conn: &mut DbConnection,
    id: &str,
) -> Result<Option<(String, String)>, DbError> {
    Ok(pending_supports::table
        .find(id)
        .select((pending_supports::report_id, pending_supports::kind))
        .first(conn)
        .optional()?)
}

/// Holds a report and emails its filer the link that confirms it.
pub fn hold(conn: &mut DbConnection, row: &PendingRow) -> Result<(), DbError> {
    write_transaction(conn, |conn| {
        diesel::insert_into(pending_reports::table)
            .values(row)
            .execute(conn)?;
        send_account_message(
            conn,
            &row.id,
            "confirm_report",
            (&row.email, &row.locale),
            &json!({ "token_id": row.id, "expires_at": row.expires_at }),
            row.created_at,
        )
    })
}

/// How many reports this address had held since `since`.
pub fn held_since(
    conn: &mut DbConnection,
    email: &str,
    since: NaiveDateTime,
) -> Result<i64, DbError> {
    Ok(pending_reports::table
        .filter(pending_reports::email.eq(email))
        .filter(pending_reports::created_at.ge(since))
        .count()
        .get_result(conn)?)
}

/// Takes a held report for filing, once: `None` when there is none, it
/// was confirmed already or it expired.
pub fn claim(
    conn: &mut DbConnection,
    id: &str,
    now: NaiveDateTime,
) -> Result<Option<PendingRow>, DbError> {
    let claimed = diesel::update(
        pending_reports::table
            .find(id)
            .filter(pending_reports::confirmed_at.is_null())
            .filter(pending_reports::expires_at.gt(now)),
    )
    .set(pending_reports::confirmed_at.eq(now))
    .execute(conn)?;
    if claimed == 0 {
        return Ok(None);
    }
    Ok(pending_reports::table
        .find(id)
        .select(PendingRow::as_select())
        .first(conn)
        .optional()?)
}

/// Gives a claimed report back (its filing was refused), so that the link
/// works again.
pub fn release(conn: &mut DbConnection, id: &str) -> Result<(), DbError> {
    diesel::update(pending_reports::table.find(id))
        .set(pending_reports::confirmed_at.eq(None::<NaiveDateTime>))
        .execute(conn)?;
    Ok(())
}

/// Records which report a confirmed one became.
pub fn settle(conn: &mut DbConnection, id: &str, report_id: &str) -> Result<(), DbError> {
    diesel::update(pending_reports::table.find(id))
        .set(pending_reports::report_id.eq(report_id))
        .execute(conn)?;
    Ok(())
}

/// The report a confirmed link became, if it was confirmed.
pub fn became(conn: &mut DbConnection, id: &str) -> Result<Option<String>, DbError> {
    Ok(pending_reports::table
        .find(id)
        .select(pending_reports::report_id)
        .first::<Option<String>>(conn)
        .optional()?
        .flatten())
}

/// Drops held reports that expired before `before`.
pub fn forget_expired(conn: &mut DbConnection, before: NaiveDateTime) -> Result<usize, DbError> {
    Ok(diesel::delete(
        pending_reports::table
            .filter(pending_reports::confirmed_at.is_null())
            .filter(pending_reports::expires_at.lt(before)),
    )
    .execute(conn)?)
}

/// A "me too" sent without logging in, waiting for its sender's link.
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = pending_supports)]
pub struct PendingSupportRow {
    pub id: String,
    pub report_id: String,
    pub email: String,
    pub name: Option<String>,
    pub locale: String,
    pub created_at: NaiveDateTime,
    pub expires_at: NaiveDateTime,
    pub confirmed_at: Option<NaiveDateTime>,
    /// `support`, `follow` or `update`.
    pub kind: String,
    /// An update's words and stored photos (JSON).
    pub payload: Option<String>,
}

/// Holds a "me too" (a follow, an update) and emails its sender the link that confirms it
/// (`number`: the report's, named in the email).
pub fn hold_support(
    conn: &mut DbConnection,
    row: &PendingSupportRow,
    number: i64,
) -> Result<(), DbError> {
    write_transaction(conn, |conn| {
        diesel::insert_into(pending_supports::table)
            .values(row)
            .execute(conn)?;
        send_account_message(
            conn,
            &row.id,
            match row.kind.as_str() {
                "follow" => "confirm_follow",
                "update" => "confirm_update",
                _ => "confirm_support",
            },
            (&row.email, &row.locale),
            &json!({ "token_id": row.id, "report": number, "expires_at": row.expires_at }),
            row.created_at,
        )
    })
}

/// Takes a held "me too" to apply it, once: `None` when there is none, it
/// was confirmed already or it expired.
pub fn claim_support(
    conn: &mut DbConnection,
    id: &str,
    now: NaiveDateTime,
) -> Result<Option<PendingSupportRow>, DbError> {
    write_transaction(conn, |conn| {
        let claimed = diesel::update(
            pending_supports::table
                .find(id)
                .filter(pending_supports::confirmed_at.is_null())
                .filter(pending_supports::expires_at.gt(now)),
        )
        .set(pending_supports::confirmed_at.eq(now))
        .execute(conn)?;
        if claimed == 0 {
            return Ok(None);
        }
        Ok(pending_supports::table
            .find(id)
            .select(PendingSupportRow::as_select())
            .first(conn)
            .optional()?)
    })
}
