//! Open data: published reports page by page in number order (the export
//! streams them, so a year of a large city never sits in memory).

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::schema::{categories, departments, reports, service_areas};
use super::{DbConnection, DbError};
use crate::reports::open_data::{Record, UNPUBLISHED};

/// Which reports: filed in [from, to), in a district, of a category (ids).
#[derive(Debug, Clone, Default)]
pub struct Filter {
    pub from: Option<NaiveDateTime>,
    pub to: Option<NaiveDateTime>,
    pub area_id: Option<String>,
    pub category_id: Option<String>,
}

type Row = (
    (i64, String, String, NaiveDateTime),
    (
        Option<NaiveDateTime>,
        Option<NaiveDateTime>,
        Option<NaiveDateTime>,
    ),
    (f64, f64, Option<String>, i32),
    Option<String>,
    Option<String>,
);

/// Up to `limit` published reports numbered after `after`, in order.
pub fn page(
    conn: &mut DbConnection,
    filter: &Filter,
    after: i64,
    limit: i64,
) -> Result<Vec<Record>, DbError> {
    let mut query = reports::table
        .inner_join(categories::table)
        .left_join(departments::table)
        .left_join(service_areas::table)
        .filter(reports::number.gt(after))
        .filter(reports::status.ne_all(UNPUBLISHED))
        .into_boxed();
    if let Some(from) = filter.from {
        query = query.filter(reports::created_at.ge(from));
    }
    if let Some(to) = filter.to {
        query = query.filter(reports::created_at.lt(to));
    }
    if let Some(area) = &filter.area_id {
        query = query.filter(reports::service_area_id.eq(area));
    }
    if let Some(category) = &filter.category_id {
        query = query.filter(reports::category_id.eq(category));
    }
    let rows: Vec<Row> = query
        .order(reports::number)
        .limit(limit)
        .select((
            (
                reports::number,
                categories::code,
                reports::status,
                reports::created_at,
            ),
            (
                reports::resolved_at,
                reports::closed_at,
                reports::answer_due_at,
            ),
            (
                reports::lat,
                reports::lon,
                reports::address,
                reports::support_count,
            ),
            departments::code.nullable(),
            service_areas::code.nullable(),
        ))
        .load(conn)?;
    Ok(rows
        .into_iter()
        .map(
            |(
                (number, category, status, filed_at),
                (answered_at, closed_at, answer_due_at),
                (lat, lon, address, supporters),
                department,
                district,
            )| Record {
                number,
                category,
                department,
                district,
                status,
                filed_at,
                answered_at,
                closed_at,
                answer_due_at,
                lat,
                lon,
                address,
                supporters,
            },
        )
        .collect())
}
