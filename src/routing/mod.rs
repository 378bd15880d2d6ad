//! Routing: which department answers a report, decided by its category and
//! the service area that contains its point. Pure rules; the caller loads the
//! candidate areas (by bounding box) and the category.
//!
//! Order of rules, first match wins:
//! 1. the service area names a department for this category;
//! 2. the service area names a department for every category;
//! 3. the category's default department;
//!
//! A point outside every service area is not routed at all: the city does not
//! serve it, and intake rejects it. (A triage department catches reports whose
//! department later turns out wrong; the workflow sends them there.)

use geo::{Contains, MultiPolygon, Point, Polygon};
use uuid::Uuid;

/// A service area's shape, parsed from GeoJSON.
#[derive(Debug, Clone, PartialEq)]
pub struct AreaShape(MultiPolygon<f64>);

impl AreaShape {
    /// Parses a GeoJSON `Polygon` or `MultiPolygon` geometry (or a `Feature`
    /// holding one); anything else is an error saying what was found.
    pub fn from_geojson(text: &str) -> Result<AreaShape, String> {
        let parsed: geojson::GeoJson = text
            .parse()
            .map_err(|e| format!("not valid GeoJSON: {e}"))?;
        let geometry = match parsed {
            geojson::GeoJson::Geometry(g) => g,
            geojson::GeoJson::Feature(f) => f
                .geometry
                .ok_or_else(|| "the feature has no geometry".to_string())?,
            geojson::GeoJson::FeatureCollection(_) => {
                return Err("expected one geometry, found a FeatureCollection".into())
            }
        };
        Self::from_geometry(geometry)
    }

    pub fn from_geometry(geometry: geojson::Geometry) -> Result<AreaShape, String> {
        let shape: geo::Geometry<f64> = geometry
            .try_into()
            .map_err(|e| format!("invalid geometry: {e}"))?;
        let polygons = match shape {
            geo::Geometry::Polygon(p) => MultiPolygon(vec![p]),
            geo::Geometry::MultiPolygon(mp) => mp,
            other => {
                return Err(format!(
                    "a service area must be a Polygon or MultiPolygon, found {}",
                    geometry_name(&other)
                ))
            }
        };
        for polygon in &polygons.0 {
            check_polygon(polygon)?;
        }
        Ok(AreaShape(polygons))
    }

    pub fn contains(&self, lat: f64, lon: f64) -> bool {
        self.0.contains(&Point::new(lon, lat))
    }

    /// (min_lat, min_lon, max_lat, max_lon)
    pub fn bounding_box(&self) -> (f64, f64, f64, f64) {
        use geo::BoundingRect;
        match self.0.bounding_rect() {
            Some(r) => (r.min().y, r.min().x, r.max().y, r.max().x),
            None => (0.0, 0.0, 0.0, 0.0),
        }
    }

    pub fn polygons(&self) -> &MultiPolygon<f64> {
        &self.0
    }
}

fn check_polygon(polygon: &Polygon<f64>) -> Result<(), String> {
    let exterior = polygon.exterior();
    if exterior.0.len() < 4 {
        return Err("a polygon ring needs at least four positions".into());
    }
    for c in exterior.coords() {
        if !(-180.0..=180.0).contains(&c.x) || !(-90.0..=90.0).contains(&c.y) {
            return Err(format!(
                "position [{}, {}] is not a longitude, latitude pair",
                c.x, c.y
            ));
        }
    }
    Ok(())
}

fn geometry_name(g: &geo::Geometry<f64>) -> &'static str {
    match g {
        geo::Geometry::Point(_) => "a Point",
        geo::Geometry::Line(_) | geo::Geometry::LineString(_) => "a LineString",
        geo::Geometry::MultiPoint(_) => "a MultiPoint",
        geo::Geometry::MultiLineString(_) => "a MultiLineString",
        geo::Geometry::GeometryCollection(_) => "a GeometryCollection",
        _ => "another kind of geometry",
    }
}

/// A service area with its shape and the departments it assigns.
#[derive(Debug, Clone)]
pub struct ServiceArea {
    pub id: Uuid,
    pub code: String,
    pub name: String,
    pub shape: AreaShape,
    pub routes: Vec<AreaRoute>,
}

/// "In this area, `department_id` serves `category_id` (or every category)".
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AreaRoute {
    pub category_id: Option<Uuid>,
    pub department_id: Uuid,
    pub department_code: String,
}

/// What routing needs to know of a category.
#[derive(Debug, Clone)]
pub struct CategoryRouting {
    pub id: Uuid,
    pub code: String,
    pub default_department_id: Uuid,
    pub default_department_code: String,
}

/// The department chosen and the rule that chose it, kept in the report's
/// history so anyone can see why it went where it went.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoutingDecision {
    pub service_area_id: Uuid,
    pub department_id: Uuid,
    pub rule: String,
}

/// The first of `areas` containing the point; areas are tried in the order
/// given, so callers pass them sorted by code for a stable answer.
pub fn area_containing(areas: &[ServiceArea], lat: f64, lon: f64) -> Option<&ServiceArea> {
    areas.iter().find(|a| a.shape.contains(lat, lon))
}

/// Routes a report of `category` at a point inside `area`.
pub fn route(category: &CategoryRouting, area: &ServiceArea) -> RoutingDecision {
    let for_category = area
        .routes
        .iter()
        .find(|r| r.category_id == Some(category.id));
    let for_all = area.routes.iter().find(|r| r.category_id.is_none());
    let (department_id, rule) = match (for_category, for_all) {
        (Some(r), _) => (
            r.department_id,
            format!(
                "service area '{}' routes category '{}' to department '{}'",
                area.code, category.code, r.department_code
            ),
        ),
        (None, Some(r)) => (
            r.department_id,
            format!(
                "service area '{}' routes every category to department '{}'",
                area.code, r.department_code
            ),
        ),
        (None, None) => (
            category.default_department_id,
            format!(
                "category '{}' goes to its default department '{}' (service area '{}' names none)",
                category.code, category.default_department_code, area.code
            ),
        ),
    };
    RoutingDecision {
        service_area_id: area.id,
        department_id,
        rule,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SQUARE: &str = r#"{"type":"Polygon","coordinates":[[[37.0,55.0],[38.0,55.0],[38.0,56.0],[37.0,56.0],[37.0,55.0]]]}"#;

    fn area(routes: Vec<AreaRoute>) -> ServiceArea {
        ServiceArea {
            id: Uuid::new_v4(),
            code: "square".into(),
            name: "Square".into(),
            shape: AreaShape::from_geojson(SQUARE).unwrap(),
            routes,
        }
    }

    fn category() -> CategoryRouting {
        CategoryRouting {
            id: Uuid::new_v4(),
            code: "pothole".into(),
            default_department_id: Uuid::new_v4(),
            default_department_code: "roads".into(),
        }
    }

    fn route_to(category_id: Option<Uuid>, code: &str) -> AreaRoute {
        AreaRoute {
            category_id,
            department_id: Uuid::new_v4(),
            department_code: code.into(),
        }
    }

    #[test]
    fn containment_uses_lat_lon_order() {
        let a = area(vec![]);
        assert!(a.shape.contains(55.5, 37.5));
        assert!(!a.shape.contains(37.5, 55.5));
        assert_eq!(a.shape.bounding_box(), (55.0, 37.0, 56.0, 38.0));
    }

    #[test]
    fn a_category_route_beats_the_area_default_which_beats_the_category_default() {
        let cat = category();
        let specific = route_to(Some(cat.id), "roads-north");
        let general = route_to(None, "housing-north");
        let both = area(vec![general.clone(), specific.clone()]);
        assert_eq!(route(&cat, &both).department_id, specific.department_id);
        let only_general = area(vec![general.clone()]);
        assert_eq!(
            route(&cat, &only_general).department_id,
            general.department_id
        );
        let none = area(vec![route_to(Some(Uuid::new_v4()), "other")]);
        let decision = route(&cat, &none);
        assert_eq!(decision.department_id, cat.default_department_id);
        assert!(decision.rule.contains("default department 'roads'"));
    }

    #[test]
    fn shapes_that_are_not_areas_are_rejected_with_a_reason() {
        let point = r#"{"type":"Point","coordinates":[37.0,55.0]}"#;
        assert!(AreaShape::from_geojson(point)
            .unwrap_err()
            .contains("Point"));
        let off_earth = r#"{"type":"Polygon","coordinates":[[[37.0,95.0],[38.0,55.0],[38.0,56.0],[37.0,95.0]]]}"#;
        assert!(AreaShape::from_geojson(off_earth)
            .unwrap_err()
            .contains("latitude"));
        assert!(AreaShape::from_geojson("{")
            .unwrap_err()
            .contains("GeoJSON"));
    }
}
