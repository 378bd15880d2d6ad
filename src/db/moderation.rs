//! Moderators' edits (`report_edits` keeps what each replaced), hidden
//! photos, and which stored photos the public may be served.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::schema::{attachments, report_edits, report_events, reports};
use super::{new_id, DbConnection, DbError};

#[derive(Debug, Clone, Queryable, Selectable, Insertable, serde::Serialize)]
#[diesel(table_name = report_edits)]
pub struct EditRow {
    pub id: String,
    pub report_id: String,
    /// description, address, photo or reporter_name
    pub field: String,
    pub before: Option<String>,
    pub after: Option<String>,
    pub reason: String,
    pub actor_id: Option<String>,
    #[serde(serialize_with = "crate::clock::utc")]
    pub created_at: NaiveDateTime,
}

/// Who edits, why, when.
pub struct By<'a> {
    pub actor_id: Option<&'a str>,
    pub reason: &'a str,
    pub at: NaiveDateTime,
}

fn record(
    conn: &mut DbConnection,
    report_id: &str,
    (field, before, after): (&str, Option<String>, Option<String>),
    by: &By,
) -> Result<EditRow, DbError> {
    let row = EditRow {
        id: new_id(),
        report_id: report_id.to_string(),
        field: field.to_string(),
        before,
        after,
        reason: by.reason.to_string(),
        actor_id: by.actor_id.map(str::to_string),
        created_at: by.at,
    };
    diesel::insert_into(report_edits::table)
        .values(&row)
        .execute(conn)?;
    Ok(row)
}

/// Replaces a report's published description; `None` when there is no
/// such report or the text is the same.
pub fn edit_description(
    conn: &mut DbConnection,
    report_id: &str,
    text: &str,
    by: &By,
) -> Result<Option<EditRow>, DbError> {
    let Some(before) = reports::table
        .find(report_id)
        .select(reports::description)
        .first::<String>(conn)
        .optional()?
    else {
        return Ok(None);
    };
    if before == text {
        return Ok(None);
    }
    diesel::update(reports::table.find(report_id))
        .set((reports::description.eq(text), reports::updated_at.eq(by.at)))
        .execute(conn)?;
    record(
        conn,
        report_id,
        ("description", Some(before), Some(text.to_string())),
        by,
    )
    .map(Some)
}

/// Replaces a report's published address (`None`: none); `None` when
/// there is no such report or nothing changes.
pub fn edit_address(
    conn: &mut DbConnection,
    report_id: &str,
    address: Option<&str>,
    by: &By,
) -> Result<Option<EditRow>, DbError> {
    let Some(before) = reports::table
        .find(report_id)
        .select(reports::address)
        .first::<Option<String>>(conn)
        .optional()?
    else {
        return Ok(None);
    };
    if before.as_deref() == address {
        return Ok(None);
    }
    diesel::update(reports::table.find(report_id))
        .set((reports::address.eq(address), reports::updated_at.eq(by.at)))
        .execute(conn)?;
    record(
        conn,
        report_id,
        ("address", before, address.map(str::to_string)),
        by,
    )
    .map(Some)
}

/// Hides one of a report's photos; `None` when it has no such photo.
pub fn hide_photo(
    conn: &mut DbConnection,
    report_id: &str,
    attachment_id: &str,
    by: &By,
) -> Result<Option<EditRow>, DbError> {
    let hidden = diesel::update(
        attachments::table
            .filter(attachments::id.eq(attachment_id))
            .filter(attachments::report_id.eq(report_id)),
    )
    .set((
        attachments::hidden_at.eq(by.at),
        attachments::hidden_reason.eq(by.reason),
    ))
    .execute(conn)?;
    if hidden == 0 {
        return Ok(None);
    }
    record(
        conn,
        report_id,
        ("photo", Some(attachment_id.to_string()), None),
        by,
    )
    .map(Some)
}

/// Hides the reporter's name on a report.
pub fn hide_name(
    conn: &mut DbConnection,
    report_id: &str,
    by: &By,
) -> Result<Option<EditRow>, DbError> {
    let changed = diesel::update(reports::table.find(report_id))
        .set((
            reports::reporter_name_public.eq(false),
            reports::updated_at.eq(by.at),
        ))
        .execute(conn)?;
    if changed == 0 {
        return Ok(None);
    }
    record(conn, report_id, ("reporter_name", None, None), by).map(Some)
}

/// A report's edits, oldest first.
pub fn edits_of(conn: &mut DbConnection, report_id: &str) -> Result<Vec<EditRow>, DbError> {
    Ok(report_edits::table
        .filter(report_edits::report_id.eq(report_id))
        .order(report_edits::created_at)
        .select(EditRow::as_select())
        .load(conn)?)
}

/// Whether the public may be served the stored photo with this content
/// hash: some report shows it publicly (not hidden, and with no event or
/// a public one). A photo of a held filing, of an update waiting for a
/// moderator or hidden by one is for staff only.
pub fn served_publicly(conn: &mut DbConnection, hash: &str) -> Result<bool, DbError> {
    let events: Vec<Option<String>> = attachments::table
        .filter(attachments::content_hash.eq(hash))
        .filter(attachments::hidden_at.is_null())
        .select(attachments::event_id)
        .load(conn)?;
    if events.iter().any(Option::is_none) {
        return Ok(true);
    }
    let ids: Vec<String> = events.into_iter().flatten().collect();
    if ids.is_empty() {
        return Ok(false);
    }
    let public: i64 = report_events::table
        .filter(report_events::id.eq_any(&ids))
        .filter(report_events::public.eq(true))
        .count()
        .get_result(conn)?;
    Ok(public > 0)
}
