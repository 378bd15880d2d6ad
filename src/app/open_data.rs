//! Open data (what is published is `reports::open_data`'s rule): the
//! filter as people give it — local dates, a district and a category by
//! code — resolved, and published reports read page by page.

use chrono::NaiveDate;

use super::catalogue::{known_area, known_category};
use super::Services;
pub use crate::db::open_data::Filter;

use crate::db::open_data as open_db;
use crate::db::{DbConnection, DbError};
use crate::reports::open_data::Record;

/// Reports one page of the export reads.
pub const PAGE: i64 = 2000;

/// The export's filter as asked for.
#[derive(Debug, Clone, Default)]
pub struct Wanted {
    /// Filed on or after this local day.
    pub from: Option<NaiveDate>,
    /// Filed on or before this local day.
    pub to: Option<NaiveDate>,
    pub area: Option<String>,
    pub category: Option<String>,
}

/// The filter with its codes resolved; an unknown one is named.
pub fn resolve(
    app: &Services,
    conn: &mut DbConnection,
    wanted: &Wanted,
) -> Result<Filter, super::Refused> {
    let zone = app.time_zone;
    let area_id = match wanted.area.as_deref() {
        Some(code) => Some(known_area(app, conn, "area", code)?),
        None => None,
    };
    let category_id = match wanted.category.as_deref() {
        Some(code) => Some(known_category(conn, "category", code)?),
        None => None,
    };
    Ok(Filter {
        from: wanted.from.map(|d| crate::limits::local_midnight(d, zone)),
        to: wanted
            .to
            .map(|d| crate::limits::local_midnight(d + chrono::TimeDelta::days(1), zone)),
        area_id,
        category_id,
    })
}

/// The next page of published reports after number `after`.
pub fn page(conn: &mut DbConnection, filter: &Filter, after: i64) -> Result<Vec<Record>, DbError> {
    open_db::page(conn, filter, after, PAGE)
}
