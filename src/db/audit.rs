//! The audit log: every staff and admin action, who did it, when, to what,
//! and the values before and after. Admin changes write their entry in the
//! change's own transaction; workflow moves (which commit on their own)
//! write it right after the move commits.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use serde::Serialize;
use serde_json::Value;

use super::schema::audit_log;
use super::{new_id, DbConnection, DbError};

/// Who acts, from where.
#[derive(Debug, Clone)]
pub struct Actor {
    pub user_id: Option<String>,
    pub role: String,
    pub ip: Option<String>,
}

/// One action to record.
pub struct Entry<'a> {
    pub action: &'a str,
    pub object_type: &'a str,
    pub object_id: Option<&'a str>,
    pub before: Option<Value>,
    pub after: Option<Value>,
}

pub fn record(
    conn: &mut DbConnection,
    actor: &Actor,
    entry: Entry,
    now: NaiveDateTime,
) -> Result<(), DbError> {
    let text = |v: Option<Value>| v.map(|v| v.to_string());
    diesel::insert_into(audit_log::table)
        .values((
            audit_log::id.eq(new_id()),
            audit_log::at.eq(now),
            audit_log::actor_id.eq(&actor.user_id),
            audit_log::actor_role.eq(&actor.role),
            audit_log::action.eq(entry.action),
            audit_log::object_type.eq(entry.object_type),
            audit_log::object_id.eq(entry.object_id),
            audit_log::before.eq(text(entry.before)),
            audit_log::after.eq(text(entry.after)),
            audit_log::ip.eq(&actor.ip),
        ))
        .execute(conn)?;
    Ok(())
}

#[derive(Debug, Clone, Queryable, Selectable, Serialize, utoipa::ToSchema)]
#[diesel(table_name = audit_log)]
pub struct AuditRow {
    pub id: String,
    #[schema(value_type = String)]
    #[serde(serialize_with = "crate::clock::utc")]
    pub at: NaiveDateTime,
    pub actor_id: Option<String>,
    pub actor_role: String,
    pub action: String,
    pub object_type: String,
    pub object_id: Option<String>,
    /// JSON text
    pub before: Option<String>,
    /// JSON text
    pub after: Option<String>,
    pub ip: Option<String>,
}

/// What to look for in the log.
#[derive(Debug, Clone, Default)]
pub struct AuditFilter {
    pub actor_id: Option<String>,
    pub object_type: Option<String>,
    pub object_id: Option<String>,
    pub action: Option<String>,
}

/// A page of the log, newest first, and the total.
pub fn list(
    conn: &mut DbConnection,
    filter: &AuditFilter,
    page: i64,
    per_page: i64,
) -> Result<(i64, Vec<AuditRow>), DbError> {
    let query = || {
        let mut q = audit_log::table.into_boxed();
        if let Some(a) = &filter.actor_id {
            q = q.filter(audit_log::actor_id.eq(a.clone()));
        }
        if let Some(t) = &filter.object_type {
            q = q.filter(audit_log::object_type.eq(t.clone()));
        }
        if let Some(o) = &filter.object_id {
            q = q.filter(audit_log::object_id.eq(o.clone()));
        }
        if let Some(a) = &filter.action {
            q = q.filter(audit_log::action.eq(a.clone()));
        }
        q
    };
    let total: i64 = query().count().get_result(conn)?;
    let rows = query()
        .order((audit_log::at.desc(), audit_log::id.desc()))
        .offset((page - 1) * per_page)
        .limit(per_page)
        .select(AuditRow::as_select())
        .load(conn)?;
    Ok((total, rows))
}
