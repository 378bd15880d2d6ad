//! Residents' updates (`report_updates`, each beside its history event)
//! and following a report without supporting it (a `watcher`
//! subscription).

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::rows::{AttachmentRow, ReportEventRow};
use super::schema::{categories, report_events, report_updates, reports, subscriptions};
use super::{new_id, write_transaction, DbConnection, DbError};
use crate::db::rows::SubscriptionRow;

/// Where an update stands (its words and photos are its event's).
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = report_updates)]
pub struct UpdateRow {
    pub event_id: String,
    pub report_id: String,
    pub author_id: String,
    pub state: String,
    pub reason: Option<String>,
    pub decided_by: Option<String>,
    pub decided_at: Option<NaiveDateTime>,
    pub created_at: NaiveDateTime,
}

/// A report as an update or a follow needs it, and how one person stands
/// to it.
#[derive(Debug, Clone)]
pub struct Standing {
    pub number: i64,
    pub status: String,
    pub department_id: Option<String>,
    pub assignee_id: Option<String>,
    /// Its category holds residents' updates for a moderator.
    pub updates_moderated: bool,
    /// The person's live subscription's kind (the strongest one:
    /// `reporter`, then `follower`, then `watcher`), if any.
    pub subscription: Option<String>,
}

/// A report's standing for `user_id` (or for nobody).
pub fn standing(
    conn: &mut DbConnection,
    report_id: &str,
    user_id: Option<&str>,
) -> Result<Option<Standing>, DbError> {
    let Some((number, status, department_id, assignee_id, updates_moderated)) = reports::table
        .inner_join(categories::table)
        .filter(reports::id.eq(report_id))
        .select((
            reports::number,
            reports::status,
            reports::department_id,
            reports::assignee_id,
            categories::updates_moderated,
        ))
        .first::<(i64, String, Option<String>, Option<String>, bool)>(conn)
        .optional()?
    else {
        return Ok(None);
    };
    let subscription = match user_id {
        Some(user_id) => strongest(live_kinds(conn, report_id, user_id)?),
        None => None,
    };
    Ok(Some(Standing {
        number,
        status,
        department_id,
        assignee_id,
        updates_moderated,
        subscription,
    }))
}

fn live_kinds(
    conn: &mut DbConnection,
    report_id: &str,
    user_id: &str,
) -> Result<Vec<String>, DbError> {
    Ok(subscriptions::table
        .filter(subscriptions::report_id.eq(report_id))
        .filter(subscriptions::user_id.eq(user_id))
        .filter(subscriptions::unsubscribed_at.is_null())
        .select(subscriptions::kind)
        .load(conn)?)
}

fn strongest(kinds: Vec<String>) -> Option<String> {
    ["reporter", "follower", "watcher"]
        .into_iter()
        .find(|k| kinds.iter().any(|have| have == k))
        .map(str::to_string)
}

/// Starts following a report (no support): `false` when the person
/// already hears of it. A follow ended by unsubscribing starts again.
pub fn follow(
    conn: &mut DbConnection,
    now: NaiveDateTime,
    report_id: &str,
    user_id: &str,
) -> Result<bool, DbError> {
    write_transaction(conn, |conn| {
        if strongest(live_kinds(conn, report_id, user_id)?).is_some() {
            return Ok(false);
        }
        let ended = subscriptions::table
            .filter(subscriptions::report_id.eq(report_id))
            .filter(subscriptions::user_id.eq(user_id))
            .filter(subscriptions::kind.ne("staff"))
            .select(subscriptions::id)
            .first::<String>(conn)
            .optional()?;
        match ended {
            Some(id) => {
                diesel::update(subscriptions::table.find(id))
                    .set(subscriptions::unsubscribed_at.eq(None::<NaiveDateTime>))
                    .execute(conn)?;
            }
            None => {
                diesel::insert_into(subscriptions::table)
                    .values(SubscriptionRow {
                        id: new_id(),
                        report_id: report_id.to_string(),
                        user_id: user_id.to_string(),
                        kind: "watcher".into(),
                        created_at: now,
                        unsubscribed_at: None,
                    })
                    .execute(conn)?;
            }
        }
        Ok(true)
    })
}

/// Stops someone hearing of a report (any of their subscriptions to it,
/// a reporter's too: their report stays theirs); how many ended.
pub fn unfollow(
    conn: &mut DbConnection,
    now: NaiveDateTime,
    report_id: &str,
    user_id: &str,
) -> Result<usize, DbError> {
    Ok(diesel::update(
        subscriptions::table
            .filter(subscriptions::report_id.eq(report_id))
            .filter(subscriptions::user_id.eq(user_id))
            .filter(subscriptions::kind.ne("staff"))
            .filter(subscriptions::unsubscribed_at.is_null()),
    )
    .set(subscriptions::unsubscribed_at.eq(Some(now)))
    .execute(conn)?)
}

/// Writes an update: its event, photos and standing, in the caller's
/// transaction; a published one touches the report's `updated_at`.
pub fn add(
    conn: &mut DbConnection,
    event: &ReportEventRow,
    photos: &[AttachmentRow],
    update: &UpdateRow,
) -> Result<(), DbError> {
    super::workflow::record_event(conn, event, photos)?;
    diesel::insert_into(report_updates::table)
        .values(update)
        .execute(conn)?;
    if event.public {
        touch(conn, &update.report_id, update.created_at)?;
    }
    Ok(())
}

fn touch(conn: &mut DbConnection, report_id: &str, now: NaiveDateTime) -> Result<(), DbError> {
    diesel::update(reports::table.find(report_id))
        .set(reports::updated_at.eq(now))
        .execute(conn)?;
    Ok(())
}

/// How many updates someone added since `since`.
pub fn added_since(
    conn: &mut DbConnection,
    user_id: &str,
    since: NaiveDateTime,
) -> Result<i64, DbError> {
    Ok(report_updates::table
        .filter(report_updates::author_id.eq(user_id))
        .filter(report_updates::created_at.ge(since))
        .count()
        .get_result(conn)?)
}

/// An update with its event.
pub fn find(
    conn: &mut DbConnection,
    event_id: &str,
) -> Result<Option<(UpdateRow, ReportEventRow)>, DbError> {
    Ok(report_updates::table
        .inner_join(report_events::table)
        .filter(report_updates::event_id.eq(event_id))
        .select((UpdateRow::as_select(), ReportEventRow::as_select()))
        .first(conn)
        .optional()?)
}

/// Records a decision on an update: its state, why, by whom; its event
/// is public exactly when it is published.
pub fn decide(
    conn: &mut DbConnection,
    event_id: &str,
    (state, public): (&str, bool),
    reason: Option<&str>,
    by: &str,
    now: NaiveDateTime,
) -> Result<(), DbError> {
    let report_id: String = report_updates::table
        .find(event_id)
        .select(report_updates::report_id)
        .first(conn)?;
    diesel::update(report_updates::table.find(event_id))
        .set((
            report_updates::state.eq(state),
            report_updates::reason.eq(reason),
            report_updates::decided_by.eq(by),
            report_updates::decided_at.eq(now),
        ))
        .execute(conn)?;
    diesel::update(report_events::table.find(event_id))
        .set(report_events::public.eq(public))
        .execute(conn)?;
    touch(conn, &report_id, now)
}

/// A report's updates, oldest first.
pub fn of_report(conn: &mut DbConnection, report_id: &str) -> Result<Vec<UpdateRow>, DbError> {
    Ok(report_updates::table
        .filter(report_updates::report_id.eq(report_id))
        .order(report_updates::created_at)
        .select(UpdateRow::as_select())
        .load(conn)?)
}

/// Updates waiting for a moderator, oldest first, with their reports'
/// numbers and departments: at most `limit`.
pub fn waiting(
    conn: &mut DbConnection,
    limit: i64,
) -> Result<Vec<(UpdateRow, i64, Option<String>)>, DbError> {
    Ok(report_updates::table
        .inner_join(reports::table)
        .filter(report_updates::state.eq("waiting"))
        .order(report_updates::created_at)
        .limit(limit)
        .select((
            UpdateRow::as_select(),
            reports::number,
            reports::department_id,
        ))
        .load(conn)?)
}
