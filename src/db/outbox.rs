//! The notification outbox: rows written in the same transaction as the
//! event that causes them, for the mail dispatcher to send. Who receives
//! what is worked out here from the report's people.

use std::collections::HashMap;

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

/// The staff a batch of notifications may go to, loaded once: department
/// addresses, every supervisor, and the given users (assignees).
pub struct People {
    department_email: HashMap<String, String>,
    supervisors: HashMap<String, Vec<(String, String)>>,
    users: HashMap<String, (String, String)>,
}

impl People {
    pub fn load(conn: &mut DbConnection, user_ids: &[&str]) -> Result<People, DbError> {
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
        Ok(People {
            department_email,
            supervisors,
            users,
        })
    }

    /// The supervisors of a department: its own, or the nearest ancestor's
    /// when it has none; with `city`, those of the top of the tree.
    pub fn supervisors(
        &self,
        department: Option<&str>,
        tree: &Departments,
        city: bool,
    ) -> Vec<(String, String)> {
        let mut current = department.and_then(|d| uuid::Uuid::parse_str(d).ok());
        if city {
            while let Some(parent) = current.and_then(|d| tree.parent(d)) {
                current = Some(parent);
            }
        }
        while let Some(d) = current {
            if let Some(found) = self.supervisors.get(&d.to_string()) {
                return found.clone();
            }
            current = tree.parent(d);
        }
        Vec::new()
    }

    /// Recipients (email, locale) of a staff audience for a report.
    pub fn of(
        &self,
        report: &ReportRow,
        audience: Audience,
        tree: &Departments,
    ) -> Vec<(String, String)> {
        match audience {
            Audience::Residents => Vec::new(),
            Audience::Department => report
                .department_id
                .as_ref()
                .and_then(|d| self.department_email.get(d))
                .map(|email| vec![(email.clone(), "ru".to_string())])
                .unwrap_or_default(),
            Audience::Assignee => report
                .assignee_id
                .as_ref()
                .and_then(|u| self.users.get(u))
                .cloned()
                .into_iter()
                .collect(),
            Audience::Supervisors => self.supervisors(report.department_id.as_deref(), tree, false),
        }
    }
}

/// The reporter and every follower still subscribed to a report.
pub fn residents(
    conn: &mut DbConnection,
    report: &ReportRow,
) -> Result<Vec<(String, String)>, DbError> {
    Ok(subscriptions::table
        .inner_join(users::table)
        .filter(subscriptions::report_id.eq(&report.id))
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
    let mut seen = std::collections::HashSet::new();
    recipients
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
        .collect()
}

/// Queues the messages.
pub fn enqueue(conn: &mut DbConnection, rows: &[OutboxRow]) -> Result<usize, DbError> {
    Ok(insert_batches!(conn, outbox::table, rows))
}
