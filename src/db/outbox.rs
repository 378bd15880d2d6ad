//! The notification outbox: rows written in the same transaction as the
//! event that causes them, for the mail dispatcher to send. Who receives
//! what is worked out by `notify::audience` from the staff loaded here.

use std::collections::{HashMap, HashSet};

use crate::reports::ReportStatus;
use chrono::{NaiveDateTime, TimeDelta};
use diesel::prelude::*;
use serde_json::Value;
use sha2::{Digest, Sha256};

use super::rows::{OutboxRow, ReportRow};
use super::schema::{
    departments, mail_opt_outs, outbox, report_reminders, reports, secrets, subscriptions, users,
};
use super::{new_id, DbConnection, DbError};
use crate::notify::audience::Staff;
use crate::notify::dates::StepDate;

/// A deterministic Message-ID for (event, recipient): a retry of the same
/// message carries the same id.
pub fn message_id(event_id: &str, recipient: &str) -> String {
    let digest = Sha256::digest(format!("{event_id}\n{recipient}").as_bytes());
    let hex = data_encoding::HEXLOWER.encode(&digest[..16]);
    format!("<{hex}@gorod>")
}

/// The staff a batch of notifications may go to, loaded once: department
/// addresses, every supervisor, and the given users (assignees).
pub fn load_staff(conn: &mut DbConnection, user_ids: &[&str]) -> Result<Staff, DbError> {
    let department_email = departments::table
        .select((departments::id, departments::email))
        .load::<(String, Option<String>)>(conn)?
        .into_iter()
        .filter_map(|(id, email)| Some((id, email?)))
        .collect();
    let mut supervisors: HashMap<String, Vec<(String, String)>> = HashMap::new();
    for (department, email, locale) in users::table
        .filter(users::role.eq("supervisor"))
        .select((users::department_id, users::email, users::locale))
        .load::<(Option<String>, String, String)>(conn)?
    {
        if let Some(d) = department {
            supervisors.entry(d).or_default().push((email, locale));
        }
    }
    let mut users = HashMap::new();
    for chunk in user_ids.chunks(1000) {
        users.extend(
            users::table
                .filter(users::id.eq_any(chunk))
                .select((users::id, users::email, users::locale))
                .load::<(String, String, String)>(conn)?
                .into_iter()
                .map(|(id, email, locale)| (id, (email, locale))),
        );
    }
    Ok(Staff {
        department_email,
        supervisors,
        users,
    })
}

/// The reporter of a report, if they still hear of it.
pub fn reporter(
    conn: &mut DbConnection,
    report_id: &str,
) -> Result<Option<(String, String)>, DbError> {
    Ok(subscriptions::table
        .inner_join(users::table)
        .filter(subscriptions::report_id.eq(report_id))
        .filter(subscriptions::unsubscribed_at.is_null())
        .filter(subscriptions::kind.eq("reporter"))
        .select((users::email, users::locale))
        .first(conn)
        .optional()?)
}

/// The reporter and every follower still subscribed to a report.
pub fn residents(
    conn: &mut DbConnection,
    report_id: &str,
) -> Result<Vec<(String, String)>, DbError> {
    Ok(subscriptions::table
        .inner_join(users::table)
        .filter(subscriptions::report_id.eq(report_id))
        .filter(subscriptions::unsubscribed_at.is_null())
        .filter(subscriptions::kind.ne("staff"))
        .select((users::email, users::locale))
        .load(conn)?)
}

/// One message per distinct recipient of an event.
pub fn messages(
    event_id: &str,
    template: &str,
    recipients: Vec<(String, String)>,
    payload: &Value,
    now: NaiveDateTime,
) -> Vec<OutboxRow> {
    keyed_messages(event_id, Some(event_id), template, recipients, payload, now)
}

/// An account email (address verification, password reset), queued even to
/// someone who opted out of mail: they asked for it. `key` makes its
/// Message-ID (the one-time token's id).
/// How many confirmation emails (`limits::CONFIRMATION_TEMPLATES`) went
/// to `email` since `since`.
pub fn confirmations_since(
    conn: &mut DbConnection,
    email: &str,
    since: NaiveDateTime,
) -> Result<i64, DbError> {
    Ok(outbox::table
        .filter(outbox::recipient.eq(email))
        .filter(outbox::created_at.ge(since))
        .filter(outbox::template.eq_any(crate::limits::CONFIRMATION_TEMPLATES))
        .count()
        .get_result(conn)?)
}

pub fn send_account_message(
    conn: &mut DbConnection,
    key: &str,
    template: &str,
    (email, locale): (&str, &str),
    payload: &Value,
    now: NaiveDateTime,
) -> Result<(), DbError> {
    let rows = keyed_messages(
        key,
        None,
        template,
        vec![(email.to_string(), locale.to_string())],
        payload,
        now,
    );
    insert_batches!(conn, outbox::table, &rows);
    Ok(())
}

/// One message per distinct recipient of what `key` names (an event, or a
/// scheduled message such as a reminder or a digest): the same key and
/// recipient always make the same Message-ID.
fn keyed_messages(
    key: &str,
    event_id: Option<&str>,
    template: &str,
    recipients: Vec<(String, String)>,
    payload: &Value,
    now: NaiveDateTime,
) -> Vec<OutboxRow> {
    let mut seen = std::collections::HashSet::new();
    recipients
        .into_iter()
        .filter(|(email, _)| seen.insert(email.clone()))
        .map(|(email, locale)| OutboxRow {
            id: new_id(),
            event_id: event_id.map(str::to_string),
            message_id: message_id(key, &email),
            recipient: email,
            template: template.to_string(),
            locale,
            payload: payload.to_string(),
            status: "pending".into(),
            attempts: 0,
            next_attempt_at: now,
            lease_until: None,
            last_error: None,
            created_at: now,
            sent_at: None,
        })
        .collect()
}

/// Queues the messages, but none to a recipient who asked for no more mail
/// (about everything, or about the message's report).
pub fn enqueue(conn: &mut DbConnection, rows: &[OutboxRow]) -> Result<usize, DbError> {
    if rows.is_empty() {
        return Ok(0);
    }
    let mut recipients: Vec<&str> = rows.iter().map(|r| r.recipient.as_str()).collect();
    recipients.sort_unstable();
    recipients.dedup();
    let mut refused: HashSet<(String, String)> = HashSet::new();
    for chunk in recipients.chunks(500) {
        refused.extend(
            mail_opt_outs::table
                .filter(mail_opt_outs::email.eq_any(chunk))
                .select((mail_opt_outs::email, mail_opt_outs::scope))
                .load::<(String, String)>(conn)?,
        );
    }
    if refused.is_empty() {
        return Ok(insert_batches!(conn, outbox::table, rows));
    }
    let wanted: Vec<OutboxRow> = rows
        .iter()
        .filter(|row| {
            let report = report_of(row).unwrap_or_default();
            !refused.contains(&(row.recipient.clone(), ALL.to_string()))
                && !refused.contains(&(row.recipient.clone(), report))
        })
        .cloned()
        .collect();
    Ok(insert_batches!(conn, outbox::table, &wanted))
}

/// The scope of an opt-out from every message.
pub const ALL: &str = "*";

/// The report a message is about, from its payload.
pub fn report_of(row: &OutboxRow) -> Option<String> {
    serde_json::from_str::<Value>(&row.payload)
        .ok()?
        .get("report_id")?
        .as_str()
        .map(str::to_string)
}

/// Records that `email` wants no more mail about `report_id` (or about
/// anything); doing it again changes nothing. The reporter's or follower's
/// subscription to that report ends too.
pub fn opt_out(
    conn: &mut DbConnection,
    email: &str,
    report_id: Option<&str>,
    now: NaiveDateTime,
) -> Result<(), DbError> {
    let scope = report_id.unwrap_or(ALL);
    insert_or_ignore!(
        conn,
        mail_opt_outs::table,
        (
            mail_opt_outs::email.eq(email),
            mail_opt_outs::scope.eq(scope),
            mail_opt_outs::created_at.eq(now),
        )
    );
    if let Some(report_id) = report_id {
        let user = users::table
            .filter(users::email.eq(email))
            .select(users::id);
        diesel::update(
            subscriptions::table
                .filter(subscriptions::report_id.eq(report_id))
                .filter(subscriptions::user_id.eq_any(user))
                .filter(subscriptions::unsubscribed_at.is_null()),
        )
        .set(subscriptions::unsubscribed_at.eq(Some(now)))
        .execute(conn)?;
    }
    Ok(())
}

/// What became of a message the dispatcher tried to send.
#[derive(Debug, Clone)]
pub enum Outcome {
    Sent,
    /// A temporary failure: due again at this time.
    Retry {
        at: NaiveDateTime,
        error: String,
    },
    /// A permanent failure, or the last attempt.
    Dead {
        error: String,
    },
    /// Not tried: too little of the lease was left to be sure of finishing
    /// within it. Due again at once, with no attempt counted.
    Released,
}

/// Takes up to `limit` due messages for this instance until `until`: due
/// ones whose lease (if any) has lapsed. On PostgreSQL the rows are locked
/// with `SKIP LOCKED` while they are taken, so that instances taking at the
/// same moment take different messages.
pub fn lease(
    conn: &mut DbConnection,
    now: NaiveDateTime,
    until: NaiveDateTime,
    limit: i64,
) -> Result<Vec<OutboxRow>, DbError> {
    super::write_transaction(conn, |conn| {
        let due = outbox::table
            .filter(outbox::status.eq("pending"))
            .filter(outbox::next_attempt_at.le(now))
            .filter(
                outbox::lease_until
                    .is_null()
                    .or(outbox::lease_until.le(now)),
            )
            .order(outbox::next_attempt_at)
            .limit(limit)
            .select(outbox::id);
        let ids: Vec<String> = match conn {
            DbConnection::Postgres(pg) => due.for_update().skip_locked().load(pg)?,
            DbConnection::Sqlite(sqlite) => due.load(sqlite)?,
        };
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        diesel::update(outbox::table.filter(outbox::id.eq_any(&ids)))
            .set(outbox::lease_until.eq(Some(until)))
            .execute(conn)?;
        Ok(outbox::table
            .filter(outbox::id.eq_any(&ids))
            .order(outbox::next_attempt_at)
            .select(OutboxRow::as_select())
            .load(conn)?)
    })
}

/// Records what became of sent messages, in one transaction.
pub fn record(
    conn: &mut DbConnection,
    outcomes: &[(String, Outcome)],
    now: NaiveDateTime,
) -> Result<(), DbError> {
    super::write_transaction(conn, |conn| {
        let ids = |wanted: fn(&Outcome) -> bool| -> Vec<&str> {
            outcomes
                .iter()
                .filter(|(_, o)| wanted(o))
                .map(|(id, _)| id.as_str())
                .collect()
        };
        for chunk in ids(|o| matches!(o, Outcome::Sent)).chunks(500) {
            diesel::update(outbox::table.filter(outbox::id.eq_any(chunk)))
                .set((
                    outbox::status.eq("sent"),
                    outbox::sent_at.eq(Some(now)),
                    outbox::lease_until.eq(None::<NaiveDateTime>),
                    outbox::attempts.eq(outbox::attempts + 1),
                    outbox::last_error.eq(None::<String>),
                ))
                .execute(conn)?;
        }
        for chunk in ids(|o| matches!(o, Outcome::Released)).chunks(500) {
            diesel::update(outbox::table.filter(outbox::id.eq_any(chunk)))
                .set(outbox::lease_until.eq(None::<NaiveDateTime>))
                .execute(conn)?;
        }
        for (id, outcome) in outcomes {
            let (status, at, error) = match outcome {
                Outcome::Sent | Outcome::Released => continue,
                Outcome::Retry { at, error } => ("pending", *at, error),
                Outcome::Dead { error } => ("dead", now, error),
            };
            diesel::update(outbox::table.find(id))
                .set((
                    outbox::status.eq(status),
                    outbox::next_attempt_at.eq(at),
                    outbox::lease_until.eq(None::<NaiveDateTime>),
                    outbox::attempts.eq(outbox::attempts + 1),
                    outbox::last_error.eq(Some(error)),
                ))
                .execute(conn)?;
        }
        Ok(())
    })
}

/// Drops every message not sent yet (the demo city's replayed history is
/// nobody's news); how many.
pub fn drop_unsent(conn: &mut DbConnection) -> Result<usize, DbError> {
    Ok(diesel::delete(outbox::table.filter(outbox::status.eq("pending"))).execute(conn)?)
}

/// Messages in one state (`pending`, `sent`, `dead`), newest first.
pub fn list(conn: &mut DbConnection, status: &str, limit: i64) -> Result<Vec<OutboxRow>, DbError> {
    Ok(outbox::table
        .filter(outbox::status.eq(status))
        .order(outbox::created_at.desc())
        .limit(limit)
        .select(OutboxRow::as_select())
        .load(conn)?)
}

/// Puts a dead-lettered message back in the queue, due now, with its
/// attempts counted afresh; `false` when there is no such dead message.
pub fn requeue(conn: &mut DbConnection, id: &str, now: NaiveDateTime) -> Result<bool, DbError> {
    let changed = diesel::update(
        outbox::table
            .filter(outbox::id.eq(id))
            .filter(outbox::status.eq("dead")),
    )
    .set((
        outbox::status.eq("pending"),
        outbox::attempts.eq(0),
        outbox::next_attempt_at.eq(now),
        outbox::lease_until.eq(None::<NaiveDateTime>),
    ))
    .execute(conn)?;
    Ok(changed > 0)
}

/// A secret of this installation, shared by all its instances: the stored
/// one, or `fresh` stored now if there is none yet.
pub fn secret(
    conn: &mut DbConnection,
    name: &str,
    fresh: String,
    now: NaiveDateTime,
) -> Result<String, DbError> {
    let stored = || secrets::table.find(name).select(secrets::value);
    if let Some(value) = stored().first(conn).optional()? {
        return Ok(value);
    }
    insert_or_ignore!(
        conn,
        secrets::table,
        (
            secrets::name.eq(name),
            secrets::value.eq(&fresh),
            secrets::created_at.eq(now),
        )
    );
    Ok(stored().first(conn)?)
}

/// Queues a reminder to each reporter whose answered report's check window
/// closes within `lead`: once per report and cycle, whichever instance's
/// scanner gets there first. How many reminders were queued.
pub fn remind_checks(
    conn: &mut DbConnection,
    now: NaiveDateTime,
    lead: TimeDelta,
) -> Result<usize, DbError> {
    super::write_transaction(conn, |conn| {
        let reminded = report_reminders::table
            .filter(report_reminders::report_id.eq(reports::id))
            .filter(report_reminders::cycle.eq(reports::cycle));
        let due: Vec<(ReportRow, Option<(String, String)>)> = reports::table
            .left_join(users::table.on(users::id.nullable().eq(reports::reporter_id)))
            .filter(reports::status.eq(ReportStatus::Resolved.as_str()))
            .filter(reports::check_due_at.gt(now))
            .filter(reports::check_due_at.le(now + lead))
            .filter(diesel::dsl::not(diesel::dsl::exists(reminded)))
            .select((
                ReportRow::as_select(),
                (users::email, users::locale).nullable(),
            ))
            .load(conn)?;
        let mut queued = Vec::new();
        for (report, reporter) in &due {
            insert_or_ignore!(
                conn,
                report_reminders::table,
                (
                    report_reminders::report_id.eq(&report.id),
                    report_reminders::cycle.eq(report.cycle),
                    report_reminders::sent_at.eq(now),
                )
            );
            let payload = serde_json::json!({
                "report": report.number,
                "report_id": report.id,
                "cycle": report.cycle,
                "date": report.check_due_at.map(|at| StepDate::CheckUntil { at }),
            });
            let key = format!("check-reminder:{}:{}", report.id, report.cycle);
            queued.extend(keyed_messages(
                &key,
                None,
                "check_reminder",
                reporter.clone().into_iter().collect(),
                &payload,
                now,
            ));
        }
        enqueue(conn, &queued)
    })
}

/// Every supervisor: (their department, email, locale).
pub fn supervisors(
    conn: &mut DbConnection,
) -> Result<Vec<(Option<String>, String, String)>, DbError> {
    Ok(users::table
        .filter(users::role.eq("supervisor"))
        .select((users::department_id, users::email, users::locale))
        .load(conn)?)
}

/// Queues a scheduled message (a digest) to one recipient unless they
/// opted out of all mail or it is queued already (the same `key` and
/// recipient make the same Message-ID); how many were queued (0 or 1).
pub fn queue_scheduled(
    conn: &mut DbConnection,
    key: &str,
    template: &str,
    recipient: (String, String),
    payload: &Value,
    now: NaiveDateTime,
) -> Result<usize, DbError> {
    let Some(row) = keyed_messages(key, None, template, vec![recipient], payload, now)
        .into_iter()
        .next()
    else {
        return Ok(0);
    };
    if is_opted_out(conn, &row.recipient)? {
        return Ok(0);
    }
    Ok(insert_or_ignore!(conn, outbox::table, &row))
}

pub fn is_opted_out(conn: &mut DbConnection, email: &str) -> Result<bool, DbError> {
    Ok(diesel::select(diesel::dsl::exists(
        mail_opt_outs::table
            .filter(mail_opt_outs::email.eq(email))
            .filter(mail_opt_outs::scope.eq(ALL)),
    ))
    .get_result(conn)?)
}
