//! Canned answers (the rules are `workflow::canned`'s): supervisors keep
//! their departments' (within their department tree), admins everyone's;
//! staff see their department's and the city-wide ones, filled for the
//! report at hand, when they answer, reject or pause. Every change is in
//! the audit log.

use serde_json::json;

use super::{Refused, Services};
use crate::db::canned::{self as canned_db, CannedRow};
use crate::db::rows::ReportRow;
use crate::db::{self, write_transaction, DbConnection, DbError};
use crate::locale::Text;
use crate::workflow::canned::{fill, parse_actions, CannedText, Facts};
use crate::workflow::Action;

pub use crate::db::canned::CannedRow as Canned;

/// A canned answer as asked for: its department by code (none: every
/// department's).
pub struct Change {
    /// None: a new one.
    pub id: Option<String>,
    pub department: Option<String>,
    pub title: String,
    pub body: String,
    pub actions: Vec<String>,
}

fn not_found(id: &str) -> Refused {
    Refused::NotFound(Text::new(
        format!("нет шаблона ответа {id}"),
        format!("there is no canned answer {id}"),
    ))
}

fn forbidden() -> Refused {
    Refused::Forbidden(Text::new(
        "шаблоны этого подразделения ведут его руководители и администраторы",
        "a department's canned answers are kept by its supervisors and the admins",
    ))
}

/// Creates or replaces a canned answer, once `may_keep` allows it for its
/// department (and, replacing, for the one it had); audited.
pub fn put(
    app: &Services,
    conn: &mut DbConnection,
    change: Change,
    may_keep: impl Fn(Option<&str>) -> bool,
    audit: &super::audit::Actor,
) -> Result<CannedRow, Refused> {
    let title = change.title.trim().to_string();
    if title.is_empty() {
        return Err(crate::reports::ValidationError::required("title").into());
    }
    if title.chars().count() > 200 {
        return Err(crate::reports::ValidationError::too_long("title", 200).into());
    }
    let body = CannedText::parse("body", &change.body)?;
    let actions = parse_actions("actions", &change.actions)?;
    let snapshot = app.catalog_snapshot(conn)?;
    let department_id = match change.department.as_deref().filter(|d| !d.is_empty()) {
        None => None,
        Some(code) => Some(
            snapshot
                .map
                .departments()
                .id_of(code)
                .ok_or_else(|| {
                    crate::reports::ValidationError::unknown(
                        "department",
                        code,
                        ("подразделение", "department"),
                    )
                })?
                .to_string(),
        ),
    };
    if !may_keep(department_id.as_deref()) {
        return Err(forbidden());
    }
    let now = app.clock.now();
    write_transaction(conn, |conn| {
        let before = match &change.id {
            Some(id) => Some(canned_db::find(conn, id)?.ok_or_else(|| not_found(id))?),
            None => None,
        };
        if let Some(before) = &before {
            if !may_keep(before.department_id.as_deref()) {
                return Err(forbidden());
            }
        }
        let row = CannedRow {
            id: change.id.clone().unwrap_or_else(db::new_id),
            department_id,
            title,
            body: body.as_str().to_string(),
            actions: actions
                .iter()
                .map(|a| a.as_str())
                .collect::<Vec<_>>()
                .join(","),
            created_at: before.as_ref().map_or(now, |b| b.created_at),
            updated_at: now,
        };
        canned_db::put(conn, &row, before.is_some())?;
        super::audit::record(
            app,
            conn,
            audit,
            super::audit::Entry {
                action: "canned_answer.put",
                object_type: "canned_answer",
                object_id: Some(&row.id),
                before: before.as_ref().map(|b| json!(b)),
                after: Some(json!(row)),
            },
        )?;
        Ok(row)
    })
}

/// Deletes a canned answer `may_keep` allows; audited.
pub fn delete(
    app: &Services,
    conn: &mut DbConnection,
    id: &str,
    may_keep: impl Fn(Option<&str>) -> bool,
    audit: &super::audit::Actor,
) -> Result<(), Refused> {
    write_transaction(conn, |conn| {
        let before = canned_db::find(conn, id)?.ok_or_else(|| not_found(id))?;
        if !may_keep(before.department_id.as_deref()) {
            return Err(forbidden());
        }
        canned_db::delete(conn, id)?;
        super::audit::record(
            app,
            conn,
            audit,
            super::audit::Entry {
                action: "canned_answer.delete",
                object_type: "canned_answer",
                object_id: Some(id),
                before: Some(json!(before)),
                after: None,
            },
        )?;
        Ok(())
    })
}

/// The canned answers `sees` lets through (by department), by title.
pub fn list(
    conn: &mut DbConnection,
    sees: impl Fn(Option<&str>) -> bool,
) -> Result<Vec<CannedRow>, DbError> {
    Ok(canned_db::all(conn)?
        .into_iter()
        .filter(|c| sees(c.department_id.as_deref()))
        .collect())
}

/// A canned answer ready for one report and move.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Ready {
    pub id: String,
    pub title: String,
    pub action: &'static str,
    pub text: String,
}

/// The canned answers of a report's department and the city-wide ones,
/// filled for it, per move they are offered for; `deadline` is its current
/// deadline as people read it.
pub fn for_report(
    conn: &mut DbConnection,
    report: &ReportRow,
    deadline: Option<&str>,
) -> Result<Vec<Ready>, DbError> {
    let facts = Facts {
        number: report.number,
        address: report.address.as_deref(),
        deadline,
    };
    let mut ready = Vec::new();
    for c in canned_db::all(conn)? {
        if c.department_id.is_some() && c.department_id != report.department_id {
            continue;
        }
        for name in c.actions.split(',') {
            if let Some(action) = Action::parse(name) {
                ready.push(Ready {
                    id: c.id.clone(),
                    title: c.title.clone(),
                    action: action.as_str(),
                    text: fill(&c.body, &facts),
                });
            }
        }
    }
    Ok(ready)
}
