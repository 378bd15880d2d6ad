//! The notification outbox: rows written in the same transaction as the
//! event that causes them, for the mail dispatcher to send. Who receives
//! what is worked out here from the report's people.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use serde_json::Value;
use sha2::{Digest, Sha256};

use super::rows::{OutboxRow, ReportRow};
use super::schema::{departments, outbox, subscriptions, users};
use super::{new_id, DbConnection, DbError};
use crate::routing::Departments;
use crate::workflow::Audience;

/// A deterministic Message-ID for (event, recipient): a retry of the same
/// message carries the same id.
pub fn message_id(event_id: &str, recipient: &str) -> String {
    let digest = Sha256::digest(format!("{event_id}\n{recipient}").as_bytes());
    let hex: String = digest.iter().take(16).map(|b| format!("{b:02x}")).collect();
    format!("<{hex}@gorod>")
}

/// Recipients (email, locale) of an audience for a report.
pub fn recipients(
    conn: &mut DbConnection,
    report: &ReportRow,
    audience: Audience,
    departments_tree: &Departments,
) -> Result<Vec<(String, String)>, DbError> {
    Ok(match audience {
        Audience::Residents => subscriptions::table
            .inner_join(users::table)
            .filter(subscriptions::report_id.eq(&report.id))
            .filter(subscriptions::unsubscribed_at.is_null())
            .filter(subscriptions::kind.ne("staff"))
            .select((users::email, users::locale))
            .load(conn)?,
        Audience::Department => match &report.department_id {
            Some(d) => departments::table
                .find(d)
                .select(departments::email)
                .first::<Option<String>>(conn)
                .optional()?
                .flatten()
                .map(|email| vec![(email, "ru".to_string())])
                .unwrap_or_default(),
            None => Vec::new(),
        },
        Audience::Assignee => match &report.assignee_id {
            Some(u) => users::table
                .find(u)
                .select((users::email, users::locale))
                .load(conn)?,
            None => Vec::new(),
        },
        Audience::Supervisors => {
            let department = report.department_id.as_deref();
            supervisors(conn, department, departments_tree, false)?
        }
    })
}

/// The supervisors of a department: its own, or the nearest ancestor's
/// when it has none; with `city`, those of the top of the tree.
pub fn supervisors(
    conn: &mut DbConnection,
    department: Option<&str>,
    tree: &Departments,
    city: bool,
) -> Result<Vec<(String, String)>, DbError> {
    let mut current = department.and_then(|d| uuid::Uuid::parse_str(d).ok());
    if city {
        while let Some(parent) = current.and_then(|d| tree.parent(d)) {
            current = Some(parent);
        }
    }
    while let Some(d) = current {
        let found: Vec<(String, String)> = users::table
            .filter(users::role.eq("supervisor"))
            .filter(users::department_id.eq(d.to_string()))
            .select((users::email, users::locale))
            .load(conn)?;
        if !found.is_empty() {
            return Ok(found);
        }
        current = tree.parent(d);
    }
    Ok(Vec::new())
}

/// Queues one message per distinct recipient.
pub fn enqueue(
    conn: &mut DbConnection,
    event_id: &str,
    template: &str,
    recipients: Vec<(String, String)>,
    payload: &Value,
    now: NaiveDateTime,
) -> Result<usize, DbError> {
    let mut seen = std::collections::HashSet::new();
    let rows: Vec<OutboxRow> = recipients
        .into_iter()
        .filter(|(email, _)| seen.insert(email.clone()))
        .map(|(email, locale)| OutboxRow {
            id: new_id(),
            event_id: Some(event_id.to_string()),
            message_id: message_id(event_id, &email),
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
        .collect();
    Ok(insert_batches!(conn, outbox::table, &rows))
}
