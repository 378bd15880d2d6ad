//! The city's geodata: importing the address registry and city objects
//! (row by row: a bad row is named and the others load; batches commit as
//! they go, so a long import shows its progress and a failure keeps what
//! was loaded), geocoding typed addresses and pins against the registry
//! held in memory (rebuilt on every instance when an import moves the
//! `geodata_version`), and the objects a filing may name.
//!
//! A report's address is the registry's when a house is within
//! [`SNAP_M`] of its point, and the resident's words otherwise. A picked
//! object must be of a type the category concerns and within
//! [`OBJECT_REACH_M`] of the report's point; when a department looks after
//! it, the report goes there whatever the area's rule says.

use std::sync::Arc;

use chrono::NaiveDateTime;
use uuid::Uuid;

use super::{Refused, Services};
use crate::db::catalog::{CatalogSnapshot, FilingCategory};
use crate::db::geodata as geo_db;
use crate::db::reports::{self as report_db, ReportListing};
use crate::db::rows::AddressRow;
pub use crate::db::rows::CityObjectRow;
use crate::db::{new_id, write_transaction, DbConnection, DbError};
use crate::geo::address::{fold, parse};
use crate::geo::files::{ObjectDraft, RowError};
use crate::geo::index::Index;
use crate::geo::registry::Record;
use crate::locale::Text;
use crate::reports::nearby::{bounding_box, distance_m};
use crate::reports::open_data::UNPUBLISHED;
use crate::reports::{Location, ValidationError};
use crate::routing::RoutingDecision;

/// A house this near a report's point gives the report its address.
pub const SNAP_M: f64 = 30.0;
/// How far reverse geocoding looks for a house.
pub const REVERSE_M: f64 = 60.0;
/// How far from the report's point a picked object may be.
pub const OBJECT_REACH_M: f64 = 150.0;
/// How far around a point objects are offered.
pub const OBJECTS_AROUND_M: f64 = 150.0;
/// Rows one import transaction writes.
const IMPORT_BATCH: usize = 2000;

/// The registry in memory, as of the database's geodata version.
pub fn index(app: &Services, conn: &mut DbConnection) -> Result<Arc<Index>, DbError> {
    app.geodata
        .get(super::CATALOG_MAX_AGE, conn, geo_db::version, load_index)
}

fn load_index(conn: &mut DbConnection) -> Result<Index, DbError> {
    let records = geo_db::all_addresses(conn)?
        .into_iter()
        .filter_map(|row| {
            let house = parse(&format!("д {}", row.house)).house?;
            Some(Record {
                street: row.street,
                street_en: row.street_en,
                house,
                location: Location::parse(row.lat, row.lon).ok()?,
            })
        })
        .collect();
    Ok(Index::new(records))
}

/// An address found.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Found {
    /// How it is written: «Тверская улица, 12к2».
    pub label: String,
    pub street: String,
    pub street_en: Option<String>,
    pub house: String,
    pub lat: f64,
    pub lon: f64,
    /// Metres from the point asked about (reverse geocoding).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub distance_m: Option<f64>,
}

fn found(record: &Record, distance_m: Option<f64>) -> Found {
    Found {
        label: record.label(),
        street: record.street.clone(),
        street_en: record.street_en.clone(),
        house: record.house.canonical(),
        lat: record.location.lat(),
        lon: record.location.lon(),
        distance_m: distance_m.map(|d| (d * 10.0).round() / 10.0),
    }
}

/// The addresses that best match what was typed, best first.
pub fn geocode(index: &Index, typed: &str, limit: usize) -> Vec<Found> {
    index
        .search(typed, limit)
        .into_iter()
        .map(|hit| found(index.record(hit.record), None))
        .collect()
}

/// The nearest address to a point, within [`REVERSE_M`].
pub fn reverse(index: &Index, lat: f64, lon: f64) -> Option<Found> {
    index
        .nearest(lat, lon, REVERSE_M)
        .map(|(i, d)| found(index.record(i), Some(d)))
}

/// The registry's address for a report at this point, if a house is near.
pub fn address_at(index: &Index, location: &Location) -> Option<String> {
    index
        .nearest(location.lat(), location.lon(), SNAP_M)
        .map(|(i, _)| index.record(i).label())
}

/// What an import did: rows created and updated, and those refused.
#[derive(Debug, Default)]
pub struct Imported {
    pub created: usize,
    pub updated: usize,
    pub refused: Vec<RowError>,
}

/// Loads a register's addresses (read already, bad rows named), a batch
/// per transaction; `progress` hears how many rows are done.
pub fn import_addresses(
    conn: &mut DbConnection,
    rows: Vec<Result<Record, RowError>>,
    now: NaiveDateTime,
    mut progress: impl FnMut(usize),
) -> Result<Imported, DbError> {
    let mut imported = Imported::default();
    let mut done = 0;
    let mut batch: Vec<AddressRow> = Vec::with_capacity(IMPORT_BATCH);
    let flush = |conn: &mut DbConnection, batch: &mut Vec<AddressRow>| {
        let rows = std::mem::take(batch);
        let created = write_transaction(conn, |conn| {
            let created = geo_db::put_addresses(conn, &rows)?;
            geo_db::bump_version(conn)?;
            Ok::<_, DbError>(created)
        })?;
        Ok::<_, DbError>((created, rows.len() - created))
    };
    for row in rows {
        done += 1;
        match row {
            Err(e) => imported.refused.push(e),
            Ok(record) => batch.push(AddressRow {
                key: format!("{}|{}", fold(&record.street), record.house.canonical()),
                street: record.street,
                street_en: record.street_en,
                house: record.house.canonical(),
                lat: record.location.lat(),
                lon: record.location.lon(),
                imported_at: now,
            }),
        }
        if batch.len() == IMPORT_BATCH {
            let (c, u) = flush(conn, &mut batch)?;
            imported.created += c;
            imported.updated += u;
            progress(done);
        }
    }
    if !batch.is_empty() {
        let (c, u) = flush(conn, &mut batch)?;
        imported.created += c;
        imported.updated += u;
    }
    progress(done);
    Ok(imported)
}

/// Loads city objects (read already, bad rows named); an owner that is not
/// a department refuses its row.
pub fn import_objects(
    conn: &mut DbConnection,
    rows: Vec<Result<ObjectDraft, RowError>>,
    now: NaiveDateTime,
    mut progress: impl FnMut(usize),
) -> Result<Imported, DbError> {
    let departments: std::collections::HashMap<String, String> =
        crate::db::catalog::list_departments(conn)?
            .into_iter()
            .map(|d| (d.code, d.id))
            .collect();
    let mut imported = Imported::default();
    let mut done = 0;
    for chunk in rows.chunks(IMPORT_BATCH) {
        let mut batch = Vec::new();
        for (offset, row) in chunk.iter().enumerate() {
            let draft = match row {
                Err(e) => {
                    imported.refused.push(e.clone());
                    continue;
                }
                Ok(d) => d,
            };
            let department_id = match draft.owner.as_deref() {
                None => None,
                Some(code) => match departments.get(code) {
                    Some(id) => Some(id.clone()),
                    None => {
                        imported.refused.push(RowError {
                            row: format!("feature {}", done + offset + 1),
                            problem: Text::new(
                                format!("«{code}» — не подразделение"),
                                format!("'{code}' is not a department"),
                            ),
                        });
                        continue;
                    }
                },
            };
            batch.push(CityObjectRow {
                id: new_id(),
                kind: draft.kind.clone(),
                code: draft.code.clone(),
                name: draft.name.clone(),
                name_en: draft.name_en.clone(),
                lat: draft.location.lat(),
                lon: draft.location.lon(),
                properties: serde_json::Value::Object(draft.properties.clone()).to_string(),
                department_id,
                imported_at: now,
            });
        }
        let created = write_transaction(conn, |conn| geo_db::put_objects(conn, &batch))?;
        imported.created += created;
        imported.updated += batch.len() - created;
        done += chunk.len();
        progress(done);
    }
    Ok(imported)
}

/// An object near a point, and how far.
#[derive(Debug, Clone)]
pub struct Near {
    pub object: CityObjectRow,
    pub distance_m: f64,
}

/// The objects of the category's types nearest the point, nearest first.
pub fn objects_near(
    app: &Services,
    conn: &mut DbConnection,
    category: &str,
    location: &Location,
    limit: usize,
) -> Result<Vec<Near>, Refused> {
    let snapshot = app.catalog_snapshot(conn)?;
    let category = filing_category(&snapshot, category)
        .map_err(|e| Refused::Invalid(ValidationError::new("category", e)))?;
    if category.object_types.is_empty() {
        return Ok(Vec::new());
    }
    let (lat, lon) = (location.lat(), location.lon());
    let found = geo_db::objects_in(
        conn,
        &category.object_types,
        bounding_box(lat, lon, OBJECTS_AROUND_M),
    )?;
    let mut near: Vec<Near> = found
        .into_iter()
        .map(|object| Near {
            distance_m: distance_m(lat, lon, object.lat, object.lon),
            object,
        })
        .filter(|n| n.distance_m <= OBJECTS_AROUND_M)
        .collect();
    near.sort_by(|a, b| a.distance_m.total_cmp(&b.distance_m));
    near.truncate(limit);
    Ok(near)
}

fn filing_category<'a>(
    snapshot: &'a CatalogSnapshot,
    code: &str,
) -> Result<&'a FilingCategory, Text> {
    snapshot.categories.get(code).ok_or_else(|| {
        Text::new(
            format!("«{code}» — не категория этого города"),
            format!("'{code}' is not a category of this city"),
        )
    })
}

/// The object a filing names, looked up (`None` when it names none);
/// whether it fits the report is [`check_object`]'s to say.
pub fn picked(conn: &mut DbConnection, id: Option<&str>) -> Result<Option<Picked>, DbError> {
    let Some(id) = id else {
        return Ok(None);
    };
    Ok(Some(match geo_db::object(conn, id)? {
        Some(object) => Picked::Object(object),
        None => Picked::Unknown(id.to_string()),
    }))
}

/// An object a filing named.
#[derive(Debug, Clone)]
pub enum Picked {
    Object(CityObjectRow),
    Unknown(String),
}

/// Checks the picked object against the report's category and point, and
/// routes the report to the object's department when it has one.
pub fn check_object(
    snapshot: &CatalogSnapshot,
    category: &FilingCategory,
    location: &Location,
    picked: Option<Picked>,
    decision: RoutingDecision,
) -> Result<(Option<CityObjectRow>, RoutingDecision), ValidationError> {
    let object = match picked {
        None => return Ok((None, decision)),
        Some(Picked::Unknown(id)) => {
            return Err(ValidationError::unknown(
                "object",
                &id,
                ("объект", "object"),
            ))
        }
        Some(Picked::Object(object)) => object,
    };
    if !category.object_types.contains(&object.kind) {
        return Err(ValidationError::new(
            "object",
            Text::new(
                format!("«{}» не относится к этой категории", object.name),
                format!(
                    "'{}' is not a kind of object this category concerns",
                    object.name
                ),
            ),
        ));
    }
    let away = distance_m(location.lat(), location.lon(), object.lat, object.lon);
    if away > OBJECT_REACH_M {
        return Err(ValidationError::new(
            "object",
            Text::new(
                format!(
                    "«{}» в {away:.0} м от точки; выберите объект рядом",
                    object.name
                ),
                format!(
                    "'{}' is {away:.0} m from the point; pick one nearby",
                    object.name
                ),
            ),
        ));
    }
    let owner = object
        .department_id
        .as_deref()
        .and_then(|d| Uuid::parse_str(d).ok());
    let decision = match owner {
        Some(owner) => crate::routing::to_owner(
            decision,
            &category.routing.code,
            &object.name,
            owner,
            snapshot.map.departments(),
        ),
        None => decision,
    };
    Ok((Some(object), decision))
}

/// An object's page: the object, the department that looks after it, its
/// published reports (newest first) and how many of them were filed this
/// year (the city's local year).
pub struct ObjectHistory {
    pub object: CityObjectRow,
    pub owner: Option<crate::db::rows::DepartmentRow>,
    pub reports: Vec<ReportListing>,
    pub this_year: usize,
}

/// The object and its history, `None` when there is no such object.
pub fn history(
    app: &Services,
    conn: &mut DbConnection,
    id: &str,
    limit: i64,
) -> Result<Option<ObjectHistory>, DbError> {
    use chrono::{Datelike, TimeZone};
    let Some(object) = geo_db::object(conn, id)? else {
        return Ok(None);
    };
    let tz = app.time_zone;
    let year = tz.from_utc_datetime(&app.clock.now()).year();
    let year_start = tz
        .with_ymd_and_hms(year, 1, 1, 0, 0, 0)
        .earliest()
        .map(|d| d.naive_utc())
        .unwrap_or_default();
    let owner = match &object.department_id {
        None => None,
        Some(d) => crate::db::catalog::list_departments(conn)?
            .into_iter()
            .find(|row| row.id == *d),
    };
    let ids = geo_db::reports_about(conn, id, limit)?;
    let reports: Vec<ReportListing> = report_db::listings(conn, &ids)?
        .into_iter()
        .filter(|l| !UNPUBLISHED.contains(&l.report.status.as_str()))
        .collect();
    Ok(Some(ObjectHistory {
        this_year: reports
            .iter()
            .filter(|l| l.report.created_at >= year_start)
            .count(),
        reports,
        owner,
        object,
    }))
}

/// The object a report is about.
pub fn object_of(
    conn: &mut DbConnection,
    report_id: &str,
) -> Result<Option<CityObjectRow>, DbError> {
    geo_db::object_of(conn, report_id)
}
