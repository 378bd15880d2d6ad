//! Area alerts: the subscriptions, the published reports they are matched
//! against (by the time they were published, `reports.moderated_at`, past
//! a cursor kept in `counters`), each alert's matches and their sending.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use serde_json::Value;

use super::outbox::send_account_message;
use super::schema::{alert_matches, area_alerts, categories, counters, reports};
use super::{write_transaction, DbConnection, DbError};
use crate::reports::alerts::Published;
use crate::reports::open_data::UNPUBLISHED;

/// A subscription as stored.
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = area_alerts)]
pub struct AlertRow {
    pub id: String,
    pub email: String,
    pub locale: String,
    pub area_id: Option<String>,
    pub lat: Option<f64>,
    pub lon: Option<f64>,
    pub radius_m: Option<f64>,
    /// Category ids, comma-separated; empty: every category.
    pub categories: String,
    pub frequency: String,
    pub created_at: NaiveDateTime,
    pub confirmed_at: Option<NaiveDateTime>,
    pub unsubscribed_at: Option<NaiveDateTime>,
}

/// Keeps a new subscription and emails the link that confirms it.
pub fn subscribe(conn: &mut DbConnection, row: &AlertRow, payload: &Value) -> Result<(), DbError> {
    write_transaction(conn, |conn| {
        diesel::insert_into(area_alerts::table)
            .values(row)
            .execute(conn)?;
        send_account_message(
            conn,
            &row.id,
            "confirm_alert",
            (&row.email, &row.locale),
            payload,
            row.created_at,
        )
    })
}

pub fn find(conn: &mut DbConnection, id: &str) -> Result<Option<AlertRow>, DbError> {
    Ok(area_alerts::table
        .find(id)
        .select(AlertRow::as_select())
        .first(conn)
        .optional()?)
}

/// Confirms a subscription made after `since` that is neither confirmed
/// nor ended; whether it did.
pub fn confirm(
    conn: &mut DbConnection,
    id: &str,
    since: NaiveDateTime,
    now: NaiveDateTime,
) -> Result<bool, DbError> {
    Ok(diesel::update(
        area_alerts::table
            .find(id)
            .filter(area_alerts::confirmed_at.is_null())
            .filter(area_alerts::unsubscribed_at.is_null())
            .filter(area_alerts::created_at.gt(since)),
    )
    .set(area_alerts::confirmed_at.eq(now))
    .execute(conn)?
        > 0)
}

/// Ends a subscription; whether it was on.
pub fn unsubscribe(conn: &mut DbConnection, id: &str, now: NaiveDateTime) -> Result<bool, DbError> {
    Ok(diesel::update(
        area_alerts::table
            .find(id)
            .filter(area_alerts::unsubscribed_at.is_null()),
    )
    .set(area_alerts::unsubscribed_at.eq(now))
    .execute(conn)?
        > 0)
}

/// The subscriptions that are confirmed and on.
pub fn active(conn: &mut DbConnection) -> Result<Vec<AlertRow>, DbError> {
    Ok(area_alerts::table
        .filter(area_alerts::confirmed_at.is_not_null())
        .filter(area_alerts::unsubscribed_at.is_null())
        .select(AlertRow::as_select())
        .load(conn)?)
}

const CURSOR: &str = "alerts_cursor";

/// How far matching got: the publication time (microseconds since the
/// epoch) of the last report it looked at; `None` before the first pass.
pub fn cursor(conn: &mut DbConnection) -> Result<Option<i64>, DbError> {
    Ok(counters::table
        .find(CURSOR)
        .select(counters::value)
        .first(conn)
        .optional()?)
}

/// Moves the cursor forward to `to` (never back, whoever moved it last).
pub fn advance_cursor(conn: &mut DbConnection, to: i64) -> Result<(), DbError> {
    let row = (counters::name.eq(CURSOR), counters::value.eq(to));
    insert_or_ignore!(conn, counters::table, row);
    diesel::update(counters::table.find(CURSOR).filter(counters::value.lt(to)))
        .set(counters::value.eq(to))
        .execute(conn)?;
    Ok(())
}

/// Up to `limit` reports published at or after `since`, in that order:
/// id, what matching needs, and when.
pub fn published_since(
    conn: &mut DbConnection,
    since: NaiveDateTime,
    limit: i64,
) -> Result<Vec<(String, Published, NaiveDateTime)>, DbError> {
    type Row = (
        String,
        Option<String>,
        String,
        f64,
        f64,
        Option<NaiveDateTime>,
    );
    let rows: Vec<Row> = reports::table
        .filter(reports::moderated_at.ge(since))
        .filter(reports::status.ne_all(UNPUBLISHED))
        .order(reports::moderated_at)
        .limit(limit)
        .select((
            reports::id,
            reports::service_area_id,
            reports::category_id,
            reports::lat,
            reports::lon,
            reports::moderated_at,
        ))
        .load(conn)?;
    Ok(rows
        .into_iter()
        .filter_map(|(id, area_id, category_id, lat, lon, at)| {
            let published = Published {
                area_id,
                category_id,
                lat,
                lon,
            };
            Some((id, published, at?))
        })
        .collect())
}

/// Records matches (alert, report); one already recorded is left as it is.
pub fn record_matches(
    conn: &mut DbConnection,
    matches: &[(String, String)],
    now: NaiveDateTime,
) -> Result<usize, DbError> {
    let rows: Vec<_> = matches
        .iter()
        .map(|(alert, report)| {
            (
                alert_matches::alert_id.eq(alert),
                alert_matches::report_id.eq(report),
                alert_matches::created_at.eq(now),
            )
        })
        .collect();
    let mut recorded = 0;
    for chunk in rows.chunks(500) {
        recorded += insert_or_ignore!(conn, alert_matches::table, chunk);
    }
    Ok(recorded)
}

/// A matched report as an alert's email shows it (nothing personal).
#[derive(Debug, Clone, Queryable)]
pub struct Matched {
    pub alert_id: String,
    pub report_id: String,
    pub number: i64,
    pub category_ru: String,
    pub category_en: String,
    pub address: Option<String>,
}

/// The matches not sent yet of the alerts that are on and sent at
/// `frequency`, by alert and report number.
pub fn unsent(conn: &mut DbConnection, frequency: &str) -> Result<Vec<Matched>, DbError> {
    Ok(alert_matches::table
        .inner_join(area_alerts::table)
        .inner_join(reports::table.inner_join(categories::table))
        .filter(alert_matches::sent_at.is_null())
        .filter(area_alerts::frequency.eq(frequency))
        .filter(area_alerts::unsubscribed_at.is_null())
        .order((alert_matches::alert_id, reports::number))
        .select((
            alert_matches::alert_id,
            alert_matches::report_id,
            reports::number,
            categories::name_ru,
            categories::name_en,
            reports::address,
        ))
        .load(conn)?)
}

/// Marks an alert's matches sent.
pub fn mark_sent(
    conn: &mut DbConnection,
    alert_id: &str,
    report_ids: &[&str],
    now: NaiveDateTime,
) -> Result<(), DbError> {
    diesel::update(
        alert_matches::table
            .filter(alert_matches::alert_id.eq(alert_id))
            .filter(alert_matches::report_id.eq_any(report_ids)),
    )
    .set(alert_matches::sent_at.eq(now))
    .execute(conn)?;
    Ok(())
}
