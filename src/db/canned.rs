//! Canned answers (`canned_answers`).

use diesel::prelude::*;

use super::schema::canned_answers;
use super::{DbConnection, DbError};

#[derive(Debug, Clone, Queryable, Selectable, Insertable, serde::Serialize)]
#[diesel(table_name = canned_answers)]
pub struct CannedRow {
    pub id: String,
    /// None: every department's.
    pub department_id: Option<String>,
    pub title: String,
    pub body: String,
    /// The moves it is offered for, comma-separated.
    pub actions: String,
    #[serde(serialize_with = "crate::clock::utc")]
    pub created_at: chrono::NaiveDateTime,
    #[serde(serialize_with = "crate::clock::utc")]
    pub updated_at: chrono::NaiveDateTime,
}

/// Every canned answer, by title.
pub fn all(conn: &mut DbConnection) -> Result<Vec<CannedRow>, DbError> {
    Ok(canned_answers::table
        .order((canned_answers::title, canned_answers::id))
        .select(CannedRow::as_select())
        .load(conn)?)
}

pub fn find(conn: &mut DbConnection, id: &str) -> Result<Option<CannedRow>, DbError> {
    Ok(canned_answers::table
        .find(id)
        .select(CannedRow::as_select())
        .first(conn)
        .optional()?)
}

/// Creates or replaces one.
pub fn put(conn: &mut DbConnection, row: &CannedRow, exists: bool) -> Result<(), DbError> {
    if exists {
        diesel::update(canned_answers::table.find(&row.id))
            .set((
                canned_answers::department_id.eq(&row.department_id),
                canned_answers::title.eq(&row.title),
                canned_answers::body.eq(&row.body),
                canned_answers::actions.eq(&row.actions),
                canned_answers::updated_at.eq(row.updated_at),
            ))
            .execute(conn)?;
    } else {
        diesel::insert_into(canned_answers::table)
            .values(row)
            .execute(conn)?;
    }
    Ok(())
}

pub fn delete(conn: &mut DbConnection, id: &str) -> Result<usize, DbError> {
    Ok(diesel::delete(canned_answers::table.find(id)).execute(conn)?)
}
