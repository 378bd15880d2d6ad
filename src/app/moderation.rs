//! Moderators' edits and residents' say over their own data.
//!
//! A moderator (supervisors and admins within their departments) may edit
//! a report's description and address, hide one of its photos or hide the
//! reporter's name — always with a reason, in one transaction: the
//! published version changes, `report_edits` keeps what it replaced, the
//! audit log says who, when and why, and the reporter is emailed. Staff
//! see both versions; the public only the published one.
//!
//! A reporter may hide their own name on a report; a resident may delete
//! their account: their reports stay as the city's records, anonymised.

use serde_json::json;

use super::Services;
use crate::db::moderation::{self as moderation_db, By, EditRow};
use crate::db::{outbox, write_transaction, DbConnection, DbError};
use crate::policy::Target;
use crate::reports::updates::StaffReason;
use crate::reports::{Description, ValidationError, MAX_ADDRESS_CHARS};

pub use crate::db::moderation::EditRow as Edit;

/// Why an edit is refused.
#[derive(Debug, thiserror::Error)]
pub enum EditError {
    #[error("there is no report {0}")]
    NoSuchReport(String),
    #[error("forbidden")]
    Forbidden,
    #[error(transparent)]
    Invalid(#[from] ValidationError),
    #[error(transparent)]
    Db(#[from] DbError),
}

/// What a moderator changes, as sent.
#[derive(Debug, Default)]
pub struct Changes {
    pub description: Option<String>,
    /// Some(""): no address.
    pub address: Option<String>,
    /// The ids of photos to hide.
    pub hide_photos: Vec<String>,
    pub hide_name: bool,
    pub reason: Option<String>,
}

/// Applies a moderator's edits to a report, once `authorise` allows it for
/// the report's department: the edits made.
pub fn edit(
    app: &Services,
    conn: &mut DbConnection,
    report_id: &str,
    changes: Changes,
    audit: &super::audit::Actor,
    authorise: impl FnOnce(Target, &crate::routing::Departments) -> bool,
) -> Result<Vec<EditRow>, EditError> {
    let reason = StaffReason::parse("reason", changes.reason.as_deref())?;
    let description = changes
        .description
        .as_deref()
        .map(Description::parse)
        .transpose()?;
    let address = changes.address.as_deref().map(str::trim);
    if address.is_some_and(|a| a.chars().count() > MAX_ADDRESS_CHARS) {
        return Err(ValidationError::too_long("address", MAX_ADDRESS_CHARS).into());
    }
    if description.is_none()
        && address.is_none()
        && changes.hide_photos.is_empty()
        && !changes.hide_name
    {
        return Err(ValidationError::coded(
            "body",
            "required",
            crate::locale::Text::new(
                "нечего менять: укажите описание, адрес, фотографию или скрытие имени",
                "nothing to change: give a description, an address, a photo or hide the name",
            ),
        )
        .into());
    }
    let snapshot = app.catalog_snapshot(conn)?;
    let (department, number) = crate::db::reports::involvement(conn, report_id, "")?
        .map(|(d, _)| d)
        .zip(crate::db::reports::number_and_status(conn, report_id)?.map(|(n, _)| n))
        .ok_or_else(|| EditError::NoSuchReport(report_id.to_string()))?;
    let target = Target::Report {
        department: department.as_deref().and_then(|d| d.parse().ok()),
        involves_caller: false,
    };
    if !authorise(target, snapshot.map.departments()) {
        return Err(EditError::Forbidden);
    }
    let by = By {
        actor_id: audit.user_id.as_deref(),
        reason: reason.as_str(),
        at: app.clock.now(),
    };
    write_transaction(conn, |conn| {
        let mut made = Vec::new();
        if let Some(text) = &description {
            made.extend(moderation_db::edit_description(
                conn,
                report_id,
                text.as_str(),
                &by,
            )?);
        }
        if let Some(address) = address {
            let address = Some(address).filter(|a| !a.is_empty());
            made.extend(moderation_db::edit_address(conn, report_id, address, &by)?);
        }
        for photo in &changes.hide_photos {
            let hidden = moderation_db::hide_photo(conn, report_id, photo, &by)?;
            made.push(hidden.ok_or_else(|| {
                ValidationError::unknown("hide_photos", photo, ("фотография", "photo"))
            })?);
        }
        if changes.hide_name {
            made.extend(moderation_db::hide_name(conn, report_id, &by)?);
        }
        if description.is_some() || changes.address.is_some() {
            crate::db::search::enqueue(conn, &[report_id.to_string()])?;
        }
        for e in &made {
            super::audit::record(
                app,
                conn,
                audit,
                super::audit::Entry {
                    action: "report.edit",
                    object_type: "report",
                    object_id: Some(report_id),
                    before: Some(json!({ "field": e.field, "value": e.before })),
                    after: Some(json!({ "field": e.field, "value": e.after, "reason": e.reason })),
                },
            )?;
        }
        if !made.is_empty() {
            tell_reporter(conn, report_id, number, reason.as_str(), by.at)?;
        }
        Ok(made)
    })
}

/// Emails the reporter that a moderator edited their report, and why.
fn tell_reporter(
    conn: &mut DbConnection,
    report_id: &str,
    number: i64,
    reason: &str,
    now: chrono::NaiveDateTime,
) -> Result<(), DbError> {
    let Some(reporter) = outbox::reporter(conn, report_id)? else {
        return Ok(());
    };
    let payload = json!({
        "report": number,
        "report_id": report_id,
        "event": "edited",
        "note": reason,
    });
    let key = crate::db::new_id();
    outbox::queue_scheduled(conn, &key, "edited", reporter, &payload, now)?;
    Ok(())
}

/// A report's edits (staff see them).
pub fn edits_of(conn: &mut DbConnection, report_id: &str) -> Result<Vec<EditRow>, DbError> {
    moderation_db::edits_of(conn, report_id)
}

/// Whether a stored photo may be served to the public.
pub fn served_publicly(conn: &mut DbConnection, hash: &str) -> Result<bool, DbError> {
    moderation_db::served_publicly(conn, hash)
}

/// The reporter hides their own name on their report: `false` when it is
/// not theirs.
pub fn hide_own_name(
    app: &Services,
    conn: &mut DbConnection,
    report_id: &str,
    user_id: &str,
) -> Result<bool, EditError> {
    let reporter = crate::db::workflow::report(conn, report_id)?
        .ok_or_else(|| EditError::NoSuchReport(report_id.to_string()))?
        .reporter_id;
    if reporter.as_deref() != Some(user_id) {
        return Ok(false);
    }
    let by = By {
        actor_id: Some(user_id),
        reason: "hidden by the reporter",
        at: app.clock.now(),
    };
    write_transaction(conn, |conn| {
        moderation_db::hide_name(conn, report_id, &by)?;
        Ok(true)
    })
}

/// Deletes a resident's account (see `db::accounts::anonymise`); whether
/// there was one.
pub fn delete_account(
    app: &Services,
    conn: &mut DbConnection,
    user_id: &str,
) -> Result<bool, DbError> {
    crate::db::accounts::anonymise(conn, user_id, app.clock.now())
}
