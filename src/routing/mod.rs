//! Routing: which department answers a report, decided by its category and
//! the service area that contains its point. Pure rules over a `CityMap`
//! that the caller builds from the catalogue (and rebuilds when it changes).
//!
//! Rules, first match wins:
//! 1. **override**: the area names a department for this very category;
//! 2. **local branch**: the category's default department, or one of its
//!    descendants, serves this area (e.g. the housing department's branch for
//!    the district) — the most specific such department takes it;
//! 3. **default**: the category's default department;
//! 4. **triage**: the city's triage department, when the category has none.
//!
//! A point outside every service area is not routed: the city does not serve
//! it, and intake rejects it. Where areas overlap, the smallest area wins (a
//! district inside a city-wide area), then the smallest code, so the answer
//! never depends on load order.

mod import;
mod index;

pub use import::{parse_areas, AreaDraft, ImportError};
pub use index::CityMap;

use std::collections::HashMap;

use crate::locale::Text;

use geo::{Area, BoundingRect, Contains, MultiPolygon, Point, Validation};
use uuid::Uuid;

/// A service area's shape: a valid polygon or multipolygon in WGS 84.
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
        Self::from_geometry(geometry).map_err(String::from)
    }

    /// Checks the geometry: a Polygon or MultiPolygon, positions that are
    /// longitude/latitude pairs, closed rings of at least four positions, no
    /// self-intersections, a non-zero area.
    pub fn from_geometry(geometry: geojson::Geometry) -> Result<AreaShape, Text> {
        if let geojson::Value::Polygon(rings) = &geometry.value {
            check_rings(rings)?;
        }
        if let geojson::Value::MultiPolygon(polygons) = &geometry.value {
            for rings in polygons {
                check_rings(rings)?;
            }
        }
        let shape: geo::Geometry<f64> = geometry.try_into().map_err(|e| {
            Text::new(
                format!("неверная геометрия: {e}"),
                format!("invalid geometry: {e}"),
            )
        })?;
        let polygons = match shape {
            geo::Geometry::Polygon(p) => MultiPolygon(vec![p]),
            geo::Geometry::MultiPolygon(mp) => mp,
            other => {
                let found = geometry_name(&other);
                return Err(Text::new(
                    format!("участок должен быть Polygon или MultiPolygon, а не {found}"),
                    format!("a service area must be a Polygon or MultiPolygon, found {found}"),
                ));
            }
        };
        if polygons.0.is_empty() {
            return Err(Text::new(
                "в MultiPolygon нет ни одного многоугольника",
                "the MultiPolygon holds no polygons",
            ));
        }
        if let Err(invalid) = polygons.check_validation() {
            return Err(Text::new(
                format!("фигура — не правильный многоугольник: {invalid}"),
                format!("the shape is not a valid polygon: {invalid}"),
            ));
        }
        if polygons.unsigned_area() == 0.0 {
            return Err(Text::new(
                "фигура не ограничивает никакой площади",
                "the shape encloses no area",
            ));
        }
        Ok(AreaShape(polygons))
    }

    pub fn contains(&self, lat: f64, lon: f64) -> bool {
        self.0.contains(&Point::new(lon, lat))
    }

    /// The enclosed area in square degrees: only for comparing areas.
    pub fn size(&self) -> f64 {
        self.0.unsigned_area()
    }

    /// (min_lat, min_lon, max_lat, max_lon)
    pub fn bounding_box(&self) -> (f64, f64, f64, f64) {
        match self.0.bounding_rect() {
            Some(r) => (r.min().y, r.min().x, r.max().y, r.max().x),
            None => (0.0, 0.0, 0.0, 0.0),
        }
    }

    /// The shape as a GeoJSON geometry, as stored.
    pub fn to_geojson(&self) -> String {
        geojson::Geometry::new(geojson::Value::from(&self.0)).to_string()
    }
}

fn check_rings(rings: &[Vec<Vec<f64>>]) -> Result<(), Text> {
    if rings.is_empty() {
        return Err(Text::new(
            "у многоугольника должно быть внешнее кольцо",
            "a polygon needs an outer ring",
        ));
    }
    for ring in rings {
        for position in ring {
            match position[..] {
                [lon, lat, ..]
                    if (-180.0..=180.0).contains(&lon) && (-90.0..=90.0).contains(&lat) => {}
                _ => {
                    return Err(Text::new(
                        format!("точка {position:?} — не пара [долгота, широта] в пределах ±180, ±90"),
                        format!("position {position:?} is not a [longitude, latitude] pair within ±180, ±90"),
                    ))
                }
            }
        }
        if ring.len() < 4 {
            let n = ring.len();
            return Err(Text::new(
                format!("в кольце нужно не меньше четырёх точек, а в этом {n}"),
                format!("a ring needs at least four positions, this one has {n}"),
            ));
        }
        if ring.first() != ring.last() {
            return Err(Text::new(
                "кольцо должно заканчиваться там, где начинается",
                "a ring must end where it starts",
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

/// A service area with its shape and the departments present in it.
#[derive(Debug, Clone)]
pub struct ServiceArea {
    pub id: Uuid,
    pub code: String,
    pub name: String,
    pub shape: AreaShape,
    pub routes: Vec<AreaRoute>,
}

/// With a category: "here, this category goes to `department_id`".
/// Without: "`department_id` serves this area".
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AreaRoute {
    pub category_id: Option<Uuid>,
    pub department_id: Uuid,
}

/// The department hierarchy, by id.
#[derive(Debug, Clone, Default)]
pub struct Departments {
    parent: HashMap<Uuid, Option<Uuid>>,
    code: HashMap<Uuid, String>,
    triage: Option<Uuid>,
}

impl Departments {
    pub fn add(&mut self, id: Uuid, code: &str, parent: Option<Uuid>, is_triage: bool) {
        self.parent.insert(id, parent);
        self.code.insert(id, code.to_string());
        if is_triage {
            self.triage = Some(id);
        }
    }

    pub fn code(&self, id: Uuid) -> &str {
        self.code.get(&id).map_or("?", String::as_str)
    }

    /// How many steps `id` lies below `ancestor` (0 when they are the same),
    /// or None when it is not below it at all.
    pub fn depth_below(&self, id: Uuid, ancestor: Uuid) -> Option<usize> {
        let mut current = Some(id);
        let mut depth = 0;
        while let Some(d) = current {
            if d == ancestor {
                return Some(depth);
            }
            depth += 1;
            if depth > self.parent.len() {
                return None; // a cycle; the catalogue forbids them
            }
            current = self.parent.get(&d).copied().flatten();
        }
        None
    }

    pub fn triage(&self) -> Option<Uuid> {
        self.triage
    }

    /// The id of the department with this code.
    pub fn id_of(&self, code: &str) -> Option<Uuid> {
        self.code
            .iter()
            .find(|(_, c)| *c == code)
            .map(|(id, _)| *id)
    }

    /// The department and every department below it.
    pub fn subtree(&self, root: Uuid) -> Vec<Uuid> {
        let mut ids: Vec<Uuid> = self
            .parent
            .keys()
            .filter(|id| self.depth_below(**id, root).is_some())
            .copied()
            .collect();
        ids.sort();
        ids
    }

    pub fn contains(&self, id: Uuid) -> bool {
        self.parent.contains_key(&id)
    }

    /// The department's parent, if it has one.
    pub fn parent(&self, id: Uuid) -> Option<Uuid> {
        self.parent.get(&id).copied().flatten()
    }
}

/// What routing needs to know of a category.
#[derive(Debug, Clone)]
pub struct CategoryRouting {
    pub id: Uuid,
    pub code: String,
    pub default_department_id: Option<Uuid>,
}

/// The rule that chose a report's department, by the codes it names; kept
/// with the report's history so anyone can see why it went where it went
/// (`reports::history` says it in words), and as English text in the
/// report's `routing_rule`.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(tag = "rule", rename_all = "snake_case")]
pub enum Route {
    /// The service area names a department for the category.
    AreaRoute {
        area: String,
        category: String,
        department: String,
    },
    /// The category's department has a branch serving the area.
    Branch {
        area: String,
        category: String,
        department: String,
        branch: String,
    },
    /// The category's own department.
    CategoryDepartment {
        category: String,
        department: String,
    },
    /// No department for the category: the triage department sorts it.
    Triage {
        category: String,
        department: String,
    },
    /// No department for the category and no triage department.
    Nowhere { category: String },
    /// The city object the report is about belongs to a department.
    Object {
        category: String,
        object: String,
        department: String,
    },
}

impl Route {
    /// The rule in English, as staff and the API read it.
    pub fn explain(&self) -> String {
        match self {
            Route::AreaRoute {
                area,
                category,
                department,
            } => format!(
                "service area '{area}' sends category '{category}' to department '{department}'"
            ),
            Route::Branch {
                area,
                category,
                department,
                branch,
            } => format!(
                "category '{category}' belongs to department '{department}', whose branch '{branch}' serves service area '{area}'"
            ),
            Route::CategoryDepartment {
                category,
                department,
            } => format!("category '{category}' goes to its department '{department}'"),
            Route::Triage {
                category,
                department,
            } => format!(
                "no department is set for category '{category}', so it goes to triage '{department}'"
            ),
            Route::Nowhere { category } => format!(
                "no department is set for category '{category}' and the city has no triage department"
            ),
            Route::Object {
                category,
                object,
                department,
            } => format!(
                "the {category} report is about '{object}', which department '{department}' looks after"
            ),
        }
    }
}

/// The department chosen and the rule that chose it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoutingDecision {
    pub service_area_id: Uuid,
    pub department_id: Option<Uuid>,
    pub route: Route,
}

impl RoutingDecision {
    /// The rule in English (`Route::explain`).
    pub fn rule(&self) -> String {
        self.route.explain()
    }
}

/// A report about a city object that a department looks after goes to
/// that department, whatever the area's rule said (the area stays).
pub fn to_owner(
    decision: RoutingDecision,
    category: &str,
    object: &str,
    owner: Uuid,
    departments: &Departments,
) -> RoutingDecision {
    RoutingDecision {
        service_area_id: decision.service_area_id,
        department_id: Some(owner),
        route: Route::Object {
            category: category.to_string(),
            object: object.to_string(),
            department: departments.code(owner).to_string(),
        },
    }
}

/// Routes a report of `category` at a point inside `area`.
pub fn route(
    category: &CategoryRouting,
    area: &ServiceArea,
    departments: &Departments,
) -> RoutingDecision {
    let decide = |department_id: Option<Uuid>, route: Route| RoutingDecision {
        service_area_id: area.id,
        department_id,
        route,
    };
    let code = |id| departments.code(id).to_string();
    let category_code = category.code.clone();
    if let Some(r) = area
        .routes
        .iter()
        .find(|r| r.category_id == Some(category.id))
    {
        return decide(
            Some(r.department_id),
            Route::AreaRoute {
                area: area.code.clone(),
                category: category_code,
                department: code(r.department_id),
            },
        );
    }
    if let Some(default) = category.default_department_id {
        let branch = area
            .routes
            .iter()
            .filter(|r| r.category_id.is_none())
            .filter_map(|r| {
                departments
                    .depth_below(r.department_id, default)
                    .map(|d| (d, r.department_id))
            })
            .max_by_key(|(depth, _)| *depth);
        if let Some((_, branch)) = branch.filter(|(depth, _)| *depth > 0) {
            return decide(
                Some(branch),
                Route::Branch {
                    area: area.code.clone(),
                    category: category_code,
                    department: code(default),
                    branch: code(branch),
                },
            );
        }
        return decide(
            Some(default),
            Route::CategoryDepartment {
                category: category_code,
                department: code(default),
            },
        );
    }
    match departments.triage() {
        Some(triage) => decide(
            Some(triage),
            Route::Triage {
                category: category_code,
                department: code(triage),
            },
        ),
        None => decide(
            None,
            Route::Nowhere {
                category: category_code,
            },
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    pub(crate) const SQUARE: &str = r#"{"type":"Polygon","coordinates":[[[37.0,55.0],[38.0,55.0],[38.0,56.0],[37.0,56.0],[37.0,55.0]]]}"#;

    struct City {
        departments: Departments,
        housing: Uuid,
        branch: Uuid,
        roads: Uuid,
        triage: Uuid,
    }

    fn city() -> City {
        let (root, housing, branch, roads, triage) = (
            Uuid::new_v4(),
            Uuid::new_v4(),
            Uuid::new_v4(),
            Uuid::new_v4(),
            Uuid::new_v4(),
        );
        let mut departments = Departments::default();
        departments.add(root, "city", None, false);
        departments.add(housing, "housing", Some(root), false);
        departments.add(branch, "housing-north", Some(housing), false);
        departments.add(roads, "roads", Some(root), false);
        departments.add(triage, "triage", Some(root), true);
        City {
            departments,
            housing,
            branch,
            roads,
            triage,
        }
    }

    fn area(routes: Vec<AreaRoute>) -> ServiceArea {
        ServiceArea {
            id: Uuid::new_v4(),
            code: "north".into(),
            name: "North".into(),
            shape: AreaShape::from_geojson(SQUARE).unwrap(),
            routes,
        }
    }

    fn category(department: Option<Uuid>) -> CategoryRouting {
        CategoryRouting {
            id: Uuid::new_v4(),
            code: "yard_rubbish".into(),
            default_department_id: department,
        }
    }

    fn serves(department: Uuid) -> AreaRoute {
        AreaRoute {
            category_id: None,
            department_id: department,
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
    fn a_local_branch_takes_its_parents_categories() {
        let c = city();
        let yard = category(Some(c.housing));
        let decision = route(&yard, &area(vec![serves(c.branch)]), &c.departments);
        assert_eq!(decision.department_id, Some(c.branch));
        assert!(
            decision.rule().contains("branch 'housing-north'"),
            "{}",
            decision.rule()
        );
        // Roads are not housing's: the branch does not take them.
        let pothole = category(Some(c.roads));
        assert_eq!(
            route(&pothole, &area(vec![serves(c.branch)]), &c.departments).department_id,
            Some(c.roads)
        );
        // Without a branch in the area the department itself takes it.
        assert_eq!(
            route(&yard, &area(vec![]), &c.departments).department_id,
            Some(c.housing)
        );
    }

    #[test]
    fn an_override_beats_the_branch_and_triage_catches_the_rest() {
        let c = city();
        let yard = category(Some(c.housing));
        let over = AreaRoute {
            category_id: Some(yard.id),
            department_id: c.roads,
        };
        let decision = route(&yard, &area(vec![serves(c.branch), over]), &c.departments);
        assert_eq!(decision.department_id, Some(c.roads));
        assert!(decision
            .rule()
            .contains("sends category 'yard_rubbish' to department 'roads'"));
        let homeless = category(None);
        let decision = route(&homeless, &area(vec![serves(c.branch)]), &c.departments);
        assert_eq!(decision.department_id, Some(c.triage));
        assert!(decision.rule().contains("triage"));
    }

    #[test]
    fn shapes_that_are_not_areas_are_rejected_with_a_reason() {
        let cases = [
            (r#"{"type":"Point","coordinates":[37.0,55.0]}"#, "Point"),
            (
                r#"{"type":"Polygon","coordinates":[[[37.0,95.0],[38.0,55.0],[38.0,56.0],[37.0,95.0]]]}"#,
                "longitude, latitude",
            ),
            (
                r#"{"type":"Polygon","coordinates":[[[37.0,55.0],[38.0,55.0],[37.0,55.0]]]}"#,
                "at least four",
            ),
            (
                r#"{"type":"Polygon","coordinates":[[[37.0,55.0],[38.0,55.0],[38.0,56.0],[37.0,56.0]]]}"#,
                "end where it starts",
            ),
            // A bow tie crosses itself.
            (
                r#"{"type":"Polygon","coordinates":[[[37.0,55.0],[38.0,56.0],[38.0,55.0],[37.0,56.0],[37.0,55.0]]]}"#,
                "not a valid polygon",
            ),
            ("{", "GeoJSON"),
        ];
        for (text, words) in cases {
            let err = AreaShape::from_geojson(text).unwrap_err();
            assert!(err.contains(words), "{text}: {err}");
        }
    }
}
