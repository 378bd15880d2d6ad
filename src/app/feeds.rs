//! Atom feeds of reports: which published reports a feed carries (a
//! district, a category, a circle around a point, or the whole city), the
//! most recently changed first, and what it is called. A report is in a
//! feed once published (past moderation, not rejected); a change to it
//! (a move, an answer, an update, an edit) brings it back to the top with
//! the same entry id, which feed readers show as an updated entry.

use super::catalogue::{known_area, known_category};
use super::{Refused, Services};
use crate::db::reports::{self as report_db, ReportFilter, ReportListing};
use crate::db::DbConnection;
use crate::locale::Text;
use crate::reports::alerts::Place;
use crate::reports::open_data::UNPUBLISHED;
use crate::reports::ReportStatus;

/// Entries a feed carries.
pub const ENTRIES: i64 = 50;

/// A feed as asked for: a place (a district by code or a circle), a
/// category by code; each left out takes everything.
#[derive(Debug, Clone, Default)]
pub struct Wanted {
    pub place: Option<Place>,
    pub category: Option<String>,
}

/// A feed's reports and what it is about, in words.
pub struct Feed {
    /// What the feed covers ("Tverskoy District", "Potholes", …).
    pub about: Vec<Text>,
    pub reports: Vec<ReportListing>,
}

/// The reports of a feed, the most recently changed first.
pub fn reports(app: &Services, conn: &mut DbConnection, wanted: &Wanted) -> Result<Feed, Refused> {
    let mut filter = ReportFilter {
        statuses: ReportStatus::ALL
            .into_iter()
            .filter(|s| !UNPUBLISHED.contains(&s.as_str()))
            .collect(),
        ..ReportFilter::default()
    };
    let snapshot = app.catalog_snapshot(conn)?;
    let named = |names: &std::collections::HashMap<String, (String, String)>, code: &str| {
        let (ru, en) = names
            .get(code)
            .cloned()
            .unwrap_or_else(|| (code.to_string(), String::new()));
        let en = if en.is_empty() { ru.clone() } else { en };
        Text::new(ru, en)
    };
    let mut about = Vec::new();
    match &wanted.place {
        Some(Place::Area(code)) => {
            filter
                .service_area_ids
                .push(known_area(app, conn, "area", code)?);
            about.push(named(&snapshot.names.areas, code));
        }
        Some(Place::Around { location, radius_m }) => {
            filter.near = Some((location.lat(), location.lon(), *radius_m));
            about.push(crate::reports::alerts::around(location, *radius_m));
        }
        None => {}
    }
    if let Some(code) = &wanted.category {
        filter
            .category_ids
            .push(known_category(conn, "category", code)?);
        about.push(named(&snapshot.names.categories, code));
    }
    let reports = report_db::recently_updated(conn, &filter, ENTRIES)?;
    Ok(Feed { about, reports })
}
