//! Area alerts (what matches is `reports::alerts`' rule): subscribing,
//! always confirmed by an emailed link within the address's confirmation
//! emails of the day (nobody can sign a stranger up); confirming; ending
//! one from any of its emails; and the job that matches newly published
//! reports and sends what is due.
//!
//! Matching follows the time reports were published (`moderated_at`) from
//! a cursor, looking again at the last [`SLACK`] each pass so that a
//! transaction that committed late is not missed; a match is recorded
//! once per alert and report, so looking twice sends nothing twice. A
//! report published before an alert was confirmed is not news to it.
//! Instant alerts are queued one message per report; daily ones once a
//! day, from `notifications.digest_hour`, one message with the reports
//! matched since the last.

use chrono::{NaiveDateTime, TimeDelta, Timelike};
use serde_json::json;

use super::catalogue::{known_area, known_category};
use super::Services;
use crate::db::alerts::{self as alerts_db, AlertRow, Matched};
use crate::db::{new_id, outbox, DbConnection, DbError};
use crate::locale::Locale;
use crate::reports::alerts::{Alert, Frequency, Place};
use crate::reports::{EmailAddress, Location};

/// How far back each pass looks again.
pub const SLACK: TimeDelta = TimeDelta::minutes(10);
/// Reports one pass matches at most (the next pass goes on).
const BATCH: i64 = 2000;

/// Why a subscription is refused.
#[derive(Debug, thiserror::Error)]
pub enum AlertError {
    #[error(transparent)]
    Refused(#[from] super::Refused),
    /// The address had its confirmation emails of the day.
    #[error(transparent)]
    TooMany(#[from] super::filing::FilingError),
}

impl From<DbError> for AlertError {
    fn from(e: DbError) -> AlertError {
        AlertError::Refused(e.into())
    }
}

/// A subscription as a resident asks for it: a district by code (or a
/// point), categories by code.
#[derive(Debug, Clone)]
pub struct Wanted {
    pub email: EmailAddress,
    pub locale: Locale,
    pub place: Place,
    pub categories: Vec<String>,
    pub frequency: Frequency,
}

/// Keeps a subscription and emails the link that confirms it; when the
/// link stops working.
pub fn subscribe(
    app: &Services,
    conn: &mut DbConnection,
    wanted: Wanted,
) -> Result<NaiveDateTime, AlertError> {
    let now = app.clock.now();
    let (area_id, point) = match &wanted.place {
        Place::Area(code) => (Some(known_area(app, conn, "area", code)?), None),
        Place::Around { location, radius_m } => (None, Some((location, *radius_m))),
    };
    let mut categories = Vec::with_capacity(wanted.categories.len());
    for code in &wanted.categories {
        categories.push(known_category(conn, "categories", code)?);
    }
    super::filing::mail_allowed(app, conn, wanted.email.as_str(), now)?;
    let row = AlertRow {
        id: new_id(),
        email: wanted.email.as_str().to_string(),
        locale: wanted.locale.code().to_string(),
        area_id,
        lat: point.map(|(l, _)| l.lat()),
        lon: point.map(|(l, _)| l.lon()),
        radius_m: point.map(|(_, r)| r),
        categories: categories.join(","),
        frequency: wanted.frequency.as_str().to_string(),
        created_at: now,
        confirmed_at: None,
        unsubscribed_at: None,
    };
    let expires_at = now + app.confirm_within;
    alerts_db::subscribe(
        conn,
        &row,
        &json!({ "token_id": row.id, "expires_at": expires_at }),
    )?;
    Ok(expires_at)
}

/// What a subscription covers, in words for its link's pages.
#[derive(Debug, Clone)]
pub struct Described {
    /// The district's name, or the radius and point.
    pub place: crate::locale::Text,
    /// The categories' names; empty: every category.
    pub categories: Vec<crate::locale::Text>,
    pub frequency: Frequency,
    pub confirmed: bool,
    pub ended: bool,
}

/// A subscription in words, if there is one with that id.
pub fn describe(
    app: &Services,
    conn: &mut DbConnection,
    id: &str,
) -> Result<Option<Described>, DbError> {
    let Some(row) = alerts_db::find(conn, id)? else {
        return Ok(None);
    };
    let snapshot = app.catalog_snapshot(conn)?;
    let place = match alert_of(&row).map(|a| a.place) {
        Some(Place::Area(area)) => {
            let code = snapshot
                .map
                .areas()
                .iter()
                .find(|a| a.id.to_string() == area)
                .map_or(area, |a| a.code.clone());
            let (ru, en) = snapshot.names.areas.get(&code).cloned().unwrap_or_default();
            let en = if en.is_empty() { ru.clone() } else { en };
            crate::locale::Text::new(format!("район: {ru}"), format!("district: {en}"))
        }
        Some(Place::Around { location, radius_m }) => {
            crate::reports::alerts::around(&location, radius_m)
        }
        None => return Err(DbError::Corrupt(format!("alert {id} has no place"))),
    };
    let listing = super::catalogue::categories(conn)?;
    let categories = split(&row.categories)
        .filter_map(|c| listing.iter().find(|l| l.category.id == c))
        .map(|l| crate::locale::Text::new(l.category.name_ru.clone(), l.category.name_en.clone()))
        .collect();
    Ok(Some(Described {
        place,
        categories,
        frequency: Frequency::parse(Some(&row.frequency))
            .map_err(|e| DbError::Corrupt(format!("alert {id}: {e}")))?,
        confirmed: row.confirmed_at.is_some(),
        ended: row.unsubscribed_at.is_some(),
    }))
}

/// Confirms a subscription whose link still works; whether it did.
pub fn confirm(app: &Services, conn: &mut DbConnection, id: &str) -> Result<bool, DbError> {
    let now = app.clock.now();
    alerts_db::confirm(conn, id, now - app.confirm_within, now)
}

/// Ends a subscription; whether it was on.
pub fn unsubscribe(app: &Services, conn: &mut DbConnection, id: &str) -> Result<bool, DbError> {
    alerts_db::unsubscribe(conn, id, app.clock.now())
}

fn split(ids: &str) -> impl Iterator<Item = &str> {
    ids.split(',').filter(|c| !c.is_empty())
}

fn alert_of(row: &AlertRow) -> Option<Alert> {
    let place = match (&row.area_id, row.lat, row.lon, row.radius_m) {
        (Some(area), ..) => Place::Area(area.clone()),
        (None, Some(lat), Some(lon), Some(radius_m)) => Place::Around {
            location: Location::parse(lat, lon).ok()?,
            radius_m,
        },
        _ => return None,
    };
    Some(Alert {
        place,
        categories: split(&row.categories).map(str::to_string).collect(),
    })
}

/// What one pass did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Pass {
    pub matched: usize,
    pub queued: usize,
}

/// Matches the reports published since the last pass against the
/// subscriptions, and queues the instant alerts and, when due, the daily
/// ones.
pub fn run(app: &Services, conn: &mut DbConnection, now: NaiveDateTime) -> Result<Pass, DbError> {
    let matched = match_new(conn, now)?;
    let mut queued = queue_instant(conn, now)?;
    let local = now.and_utc().with_timezone(&app.time_zone);
    if local.hour() >= app.digest_hour {
        queued += queue_daily(conn, local.date_naive(), now)?;
    }
    Ok(Pass { matched, queued })
}

fn micros(at: NaiveDateTime) -> i64 {
    at.and_utc().timestamp_micros()
}

fn match_new(conn: &mut DbConnection, now: NaiveDateTime) -> Result<usize, DbError> {
    let since = match alerts_db::cursor(conn)? {
        Some(at) => chrono::DateTime::from_timestamp_micros(at).map_or(now, |t| t.naive_utc()),
        // Before the first pass, nothing published earlier is news.
        None => now,
    } - SLACK;
    let published = alerts_db::published_since(conn, since, BATCH)?;
    let Some(last) = published.last().map(|(_, _, at)| *at) else {
        alerts_db::advance_cursor(conn, micros(since))?;
        return Ok(0);
    };
    let alerts: Vec<(AlertRow, Alert)> = alerts_db::active(conn)?
        .into_iter()
        .filter_map(|row| alert_of(&row).map(|alert| (row, alert)))
        .collect();
    let mut matches = Vec::new();
    for (report_id, report, at) in &published {
        for (row, alert) in &alerts {
            let news = row.confirmed_at.is_some_and(|c| c <= *at);
            if news && alert.matches(report) {
                matches.push((row.id.clone(), report_id.clone()));
            }
        }
    }
    let recorded = alerts_db::record_matches(conn, &matches, now)?;
    alerts_db::advance_cursor(conn, micros(last))?;
    Ok(recorded)
}

/// "Category — address" in the alert's language (nothing personal).
fn summary(m: &Matched, locale: &str) -> String {
    let category = crate::locale::pick(locale, &m.category_ru, &m.category_en);
    match &m.address {
        Some(address) => format!("{category} — {address}"),
        None => category.to_string(),
    }
}

fn queue_instant(conn: &mut DbConnection, now: NaiveDateTime) -> Result<usize, DbError> {
    let mut queued = 0;
    for m in alerts_db::unsent(conn, Frequency::Instant.as_str())? {
        let Some(row) = alerts_db::find(conn, &m.alert_id)? else {
            continue;
        };
        let payload = json!({
            "report": m.number,
            "alert_id": row.id,
            "summary": summary(&m, &row.locale),
        });
        let key = format!("alert:{}:{}", row.id, m.report_id);
        queued += outbox::queue_scheduled(
            conn,
            &key,
            "alert",
            (row.email.clone(), row.locale.clone()),
            &payload,
            now,
        )?;
        // Queued now, earlier, or not at all for an address that opted out.
        alerts_db::mark_sent(conn, &row.id, &[m.report_id.as_str()], now)?;
    }
    Ok(queued)
}

fn queue_daily(
    conn: &mut DbConnection,
    day: chrono::NaiveDate,
    now: NaiveDateTime,
) -> Result<usize, DbError> {
    let unsent = alerts_db::unsent(conn, Frequency::Daily.as_str())?;
    let mut queued = 0;
    for group in unsent.chunk_by(|a, b| a.alert_id == b.alert_id) {
        let Some(row) = alerts_db::find(conn, &group[0].alert_id)? else {
            continue;
        };
        let reports: Vec<_> = group
            .iter()
            .map(|m| json!({"report": m.number, "summary": summary(m, &row.locale)}))
            .collect();
        let payload = json!({ "alert_id": row.id, "day": day, "reports": reports });
        let key = format!("alert:{}:{day}", row.id);
        let recipient = (row.email.clone(), row.locale.clone());
        let sent = outbox::queue_scheduled(conn, &key, "alert_digest", recipient, &payload, now)?;
        // Today's went already: these wait for tomorrow's, unless the
        // address opted out of everything.
        if sent == 0 && !outbox::is_opted_out(conn, &row.email)? {
            continue;
        }
        queued += sent;
        let ids: Vec<&str> = group.iter().map(|m| m.report_id.as_str()).collect();
        alerts_db::mark_sent(conn, &row.id, &ids, now)?;
    }
    Ok(queued)
}
