//! The city's catalogue: departments, categories and service areas, as the
//! API lists them and as routing needs them.

use diesel::prelude::*;
use uuid::Uuid;

use super::rows::{CategoryRow, DepartmentRow, ServiceAreaRouteRow, ServiceAreaRow};
use super::schema::{categories, departments, service_area_routes, service_areas, sla_policies};
use super::{DbConnection, DbError};
use crate::routing::{AreaRoute, AreaShape, CategoryRouting, ServiceArea};

/// A category with the codes of its default department and SLA policy.
pub struct CategoryListing {
    pub category: CategoryRow,
    pub department_code: String,
    pub sla_code: String,
}

pub fn list_categories(conn: &mut DbConnection) -> Result<Vec<CategoryListing>, DbError> {
    let rows = categories::table
        .inner_join(departments::table)
        .inner_join(sla_policies::table)
        .filter(categories::active.eq(true))
        .order((categories::sort_order, categories::code))
        .select((
            CategoryRow::as_select(),
            departments::code,
            sla_policies::code,
        ))
        .load::<(CategoryRow, String, String)>(conn)?;
    Ok(rows
        .into_iter()
        .map(|(category, department_code, sla_code)| CategoryListing {
            category,
            department_code,
            sla_code,
        })
        .collect())
}

pub fn list_departments(conn: &mut DbConnection) -> Result<Vec<DepartmentRow>, DbError> {
    Ok(departments::table
        .order(departments::code)
        .select(DepartmentRow::as_select())
        .load(conn)?)
}

/// The id of an active category by its code.
pub fn category_id(conn: &mut DbConnection, code: &str) -> Result<Option<String>, DbError> {
    Ok(categories::table
        .filter(categories::code.eq(code))
        .filter(categories::active.eq(true))
        .select(categories::id)
        .first(conn)
        .optional()?)
}

/// What routing needs of an active category, by code.
pub fn category_routing(
    conn: &mut DbConnection,
    code: &str,
) -> Result<Option<CategoryRouting>, DbError> {
    let found = categories::table
        .inner_join(departments::table)
        .filter(categories::code.eq(code))
        .filter(categories::active.eq(true))
        .select((
            categories::id,
            categories::code,
            departments::id,
            departments::code,
        ))
        .first::<(String, String, String, String)>(conn)
        .optional()?;
    found
        .map(|(id, code, department_id, department_code)| {
            Ok(CategoryRouting {
                id: parse_id(&id)?,
                code,
                default_department_id: parse_id(&department_id)?,
                default_department_code: department_code,
            })
        })
        .transpose()
}

/// Service areas whose bounding box holds the point, with their routes,
/// ordered by code. The exact containment test is the caller's (in Rust, so
/// both backends agree).
pub fn service_areas_around(
    conn: &mut DbConnection,
    lat: f64,
    lon: f64,
) -> Result<Vec<ServiceArea>, DbError> {
    let areas = service_areas::table
        .filter(service_areas::min_lat.le(lat))
        .filter(service_areas::max_lat.ge(lat))
        .filter(service_areas::min_lon.le(lon))
        .filter(service_areas::max_lon.ge(lon))
        .order(service_areas::code)
        .select(ServiceAreaRow::as_select())
        .load(conn)?;
    let ids: Vec<&str> = areas.iter().map(|a| a.id.as_str()).collect();
    let routes = service_area_routes::table
        .inner_join(departments::table)
        .filter(service_area_routes::service_area_id.eq_any(&ids))
        .select((ServiceAreaRouteRow::as_select(), departments::code))
        .load::<(ServiceAreaRouteRow, String)>(conn)?;
    areas
        .into_iter()
        .map(|area| {
            let shape = AreaShape::from_geojson(&area.geometry).map_err(|e| {
                DbError::Corrupt(format!(
                    "service area '{}' has bad geometry: {e}",
                    area.code
                ))
            })?;
            let routes = routes
                .iter()
                .filter(|(r, _)| r.service_area_id == area.id)
                .map(|(r, department_code)| {
                    Ok(AreaRoute {
                        category_id: r.category_id.as_deref().map(parse_id).transpose()?,
                        department_id: parse_id(&r.department_id)?,
                        department_code: department_code.clone(),
                    })
                })
                .collect::<Result<Vec<_>, DbError>>()?;
            Ok(ServiceArea {
                id: parse_id(&area.id)?,
                code: area.code,
                name: area.name,
                shape,
                routes,
            })
        })
        .collect()
}

/// Ids are written by this program, so an unparsable one is corruption.
pub(crate) fn parse_id(text: &str) -> Result<Uuid, DbError> {
    Uuid::parse_str(text)
        .map_err(|e| DbError::Corrupt(format!("stored id '{text}' is not a UUID: {e}")))
}
