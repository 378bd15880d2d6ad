//! The city's geodata in the database: the address registry (read whole
//! into memory by the geocoder, which rebuilds when the `geodata_version`
//! counter moves), city objects found near a point or by id, and the
//! object each report is about.

use diesel::prelude::*;
use diesel::upsert::excluded;

use super::rows::{AddressRow, CityObjectRow};
use super::schema::{addresses, city_objects, counters, report_objects, reports};
use super::{DbConnection, DbError};

/// Counter: moves with every import, so each instance rebuilds its index.
pub const GEODATA_VERSION: &str = "geodata_version";

pub fn version(conn: &mut DbConnection) -> Result<i64, DbError> {
    Ok(counters::table
        .find(GEODATA_VERSION)
        .select(counters::value)
        .first(conn)?)
}

pub fn bump_version(conn: &mut DbConnection) -> Result<(), DbError> {
    diesel::update(counters::table.find(GEODATA_VERSION))
        .set(counters::value.eq(counters::value + 1))
        .execute(conn)?;
    Ok(())
}

/// Of these keys, those already in the registry.
fn known_addresses(conn: &mut DbConnection, keys: &[&str]) -> Result<Vec<String>, DbError> {
    Ok(addresses::table
        .filter(addresses::key.eq_any(keys))
        .select(addresses::key)
        .load(conn)?)
}

/// Creates or replaces these addresses by key; how many were new.
pub fn put_addresses(conn: &mut DbConnection, rows: &[AddressRow]) -> Result<usize, DbError> {
    // The same house twice in one file: the later row counts.
    let mut last: std::collections::HashMap<&str, &AddressRow> = std::collections::HashMap::new();
    for row in rows {
        last.insert(row.key.as_str(), row);
    }
    let rows: Vec<AddressRow> = rows
        .iter()
        .filter(|r| {
            last.get(r.key.as_str())
                .is_some_and(|l| std::ptr::eq(*l, *r))
        })
        .cloned()
        .collect();
    let mut created = 0;
    for chunk in rows.chunks(500) {
        let keys: Vec<&str> = chunk.iter().map(|r| r.key.as_str()).collect();
        created += chunk.len() - known_addresses(conn, &keys)?.len();
        let set = (
            addresses::street.eq(excluded(addresses::street)),
            addresses::street_en.eq(excluded(addresses::street_en)),
            addresses::house.eq(excluded(addresses::house)),
            addresses::lat.eq(excluded(addresses::lat)),
            addresses::lon.eq(excluded(addresses::lon)),
            addresses::imported_at.eq(excluded(addresses::imported_at)),
        );
        // SQLite takes an upsert a row at a time (in the caller's
        // transaction, so no slower); PostgreSQL the whole chunk.
        match conn {
            DbConnection::Postgres(c) => {
                diesel::insert_into(addresses::table)
                    .values(chunk)
                    .on_conflict(addresses::key)
                    .do_update()
                    .set(set)
                    .execute(c)?;
            }
            DbConnection::Sqlite(c) => {
                for row in chunk {
                    diesel::insert_into(addresses::table)
                        .values(row)
                        .on_conflict(addresses::key)
                        .do_update()
                        .set(set)
                        .execute(c)?;
                }
            }
        }
    }
    Ok(created)
}

/// The whole registry.
pub fn all_addresses(conn: &mut DbConnection) -> Result<Vec<AddressRow>, DbError> {
    Ok(addresses::table
        .order(addresses::key)
        .select(AddressRow::as_select())
        .load(conn)?)
}

/// Creates or replaces these objects by type and register id (an object
/// keeps its id, so its reports stay its own); how many were new.
pub fn put_objects(conn: &mut DbConnection, rows: &[CityObjectRow]) -> Result<usize, DbError> {
    let mut created = 0;
    for chunk in rows.chunks(500) {
        let codes: Vec<&str> = chunk.iter().map(|r| r.code.as_str()).collect();
        let known: std::collections::HashMap<(String, String), String> = city_objects::table
            .filter(city_objects::code.eq_any(&codes))
            .select((city_objects::kind, city_objects::code, city_objects::id))
            .load::<(String, String, String)>(conn)?
            .into_iter()
            .map(|(kind, code, id)| ((kind, code), id))
            .collect();
        let mut new = Vec::new();
        for row in chunk {
            match known.get(&(row.kind.clone(), row.code.clone())) {
                Some(id) => {
                    diesel::update(city_objects::table.find(id))
                        .set((
                            city_objects::name.eq(&row.name),
                            city_objects::name_en.eq(&row.name_en),
                            city_objects::lat.eq(row.lat),
                            city_objects::lon.eq(row.lon),
                            city_objects::properties.eq(&row.properties),
                            city_objects::department_id.eq(&row.department_id),
                            city_objects::imported_at.eq(row.imported_at),
                        ))
                        .execute(conn)?;
                }
                // The same object twice in one file: the later row counts.
                None => match new
                    .iter_mut()
                    .find(|n: &&mut CityObjectRow| n.kind == row.kind && n.code == row.code)
                {
                    Some(earlier) => {
                        *earlier = CityObjectRow {
                            id: earlier.id.clone(),
                            ..row.clone()
                        }
                    }
                    None => new.push(row.clone()),
                },
            }
        }
        created += insert_batches!(conn, city_objects::table, &new);
    }
    Ok(created)
}

/// Objects of these types inside the box (min_lat, min_lon, max_lat, max_lon).
pub fn objects_in(
    conn: &mut DbConnection,
    kinds: &[String],
    (min_lat, min_lon, max_lat, max_lon): (f64, f64, f64, f64),
) -> Result<Vec<CityObjectRow>, DbError> {
    Ok(city_objects::table
        .filter(city_objects::kind.eq_any(kinds))
        .filter(city_objects::lat.between(min_lat, max_lat))
        .filter(city_objects::lon.between(min_lon, max_lon))
        .select(CityObjectRow::as_select())
        .load(conn)?)
}

pub fn object(conn: &mut DbConnection, id: &str) -> Result<Option<CityObjectRow>, DbError> {
    Ok(city_objects::table
        .find(id)
        .select(CityObjectRow::as_select())
        .first(conn)
        .optional()?)
}

/// The object a report is about.
pub fn object_of(
    conn: &mut DbConnection,
    report_id: &str,
) -> Result<Option<CityObjectRow>, DbError> {
    Ok(report_objects::table
        .inner_join(city_objects::table)
        .filter(report_objects::report_id.eq(report_id))
        .select(CityObjectRow::as_select())
        .first(conn)
        .optional()?)
}

/// An object's reports, newest first (at most `limit`), with when each
/// was filed.
pub fn reports_about(
    conn: &mut DbConnection,
    object_id: &str,
    limit: i64,
) -> Result<Vec<String>, DbError> {
    Ok(report_objects::table
        .inner_join(reports::table)
        .filter(report_objects::object_id.eq(object_id))
        .order(report_objects::created_at.desc())
        .limit(limit)
        .select(reports::id)
        .load(conn)?)
}

/// The objects these reports are about, by report id.
pub fn objects_of(
    conn: &mut DbConnection,
    report_ids: &[String],
) -> Result<std::collections::HashMap<String, CityObjectRow>, DbError> {
    if report_ids.is_empty() {
        return Ok(Default::default());
    }
    Ok(report_objects::table
        .inner_join(city_objects::table)
        .filter(report_objects::report_id.eq_any(report_ids))
        .select((report_objects::report_id, CityObjectRow::as_select()))
        .load::<(String, CityObjectRow)>(conn)?
        .into_iter()
        .collect())
}
