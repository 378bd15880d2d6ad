//! The city map: every service area in an R-tree of bounding boxes, so finding
//! the areas around a point costs a tree lookup, then an exact containment
//! test on the few candidates. Built from the catalogue and rebuilt whole when
//! it changes (areas change rarely; reports arrive constantly).

use rstar::primitives::{GeomWithData, Rectangle};
use rstar::RTree;

use super::{route, CategoryRouting, Departments, RoutingDecision, ServiceArea};

type Entry = GeomWithData<Rectangle<[f64; 2]>, usize>;

pub struct CityMap {
    areas: Vec<ServiceArea>,
    /// Each area's size (square degrees), so the most specific area wins.
    sizes: Vec<f64>,
    index: RTree<Entry>,
    departments: Departments,
}

impl CityMap {
    pub fn new(mut areas: Vec<ServiceArea>, departments: Departments) -> CityMap {
        areas.sort_by(|a, b| a.code.cmp(&b.code));
        let entries = areas
            .iter()
            .enumerate()
            .map(|(i, area)| {
                let (min_lat, min_lon, max_lat, max_lon) = area.shape.bounding_box();
                GeomWithData::new(
                    Rectangle::from_corners([min_lon, min_lat], [max_lon, max_lat]),
                    i,
                )
            })
            .collect();
        let sizes = areas.iter().map(|a| a.shape.size()).collect();
        CityMap {
            areas,
            sizes,
            index: RTree::bulk_load(entries),
            departments,
        }
    }

    /// The area containing the point; where areas overlap (a district inside
    /// a city-wide area), the smallest one, then the smallest code.
    pub fn area_at(&self, lat: f64, lon: f64) -> Option<&ServiceArea> {
        self.index
            .locate_all_at_point(&[lon, lat])
            .map(|entry| entry.data)
            .filter(|&i| self.areas[i].shape.contains(lat, lon))
            .min_by(|&a, &b| self.sizes[a].total_cmp(&self.sizes[b]).then(a.cmp(&b)))
            .map(|i| &self.areas[i])
    }

    /// Routes a report, or None when the point lies outside every area.
    pub fn route(&self, category: &CategoryRouting, lat: f64, lon: f64) -> Option<RoutingDecision> {
        self.area_at(lat, lon)
            .map(|area| route(category, area, &self.departments))
    }

    pub fn areas(&self) -> &[ServiceArea] {
        &self.areas
    }

    pub fn departments(&self) -> &Departments {
        &self.departments
    }
}

#[cfg(test)]
mod tests {
    use uuid::Uuid;

    use super::super::{AreaShape, ServiceArea};
    use super::*;

    fn square(code: &str, lon: f64, lat: f64, size: f64) -> ServiceArea {
        let text = format!(
            r#"{{"type":"Polygon","coordinates":[[[{lon},{lat}],[{e},{lat}],[{e},{n}],[{lon},{n}],[{lon},{lat}]]]}}"#,
            e = lon + size,
            n = lat + size
        );
        ServiceArea {
            id: Uuid::new_v4(),
            code: code.into(),
            name: code.into(),
            shape: AreaShape::from_geojson(&text).unwrap(),
            routes: vec![],
        }
    }

    #[test]
    fn the_index_finds_the_same_area_as_a_linear_scan() {
        // A 20 × 20 grid of small squares, plus a large one overlapping them.
        let mut areas: Vec<ServiceArea> = (0..400)
            .map(|i| {
                square(
                    &format!("cell{i:03}"),
                    37.0 + (i % 20) as f64 * 0.01,
                    55.0 + (i / 20) as f64 * 0.01,
                    0.01,
                )
            })
            .collect();
        areas.push(square("big", 37.05, 55.05, 0.05));
        let map = CityMap::new(areas.clone(), Departments::default());
        let mut seed = 7u64;
        for _ in 0..2000 {
            seed = seed
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            let lat = 54.99 + (seed >> 11) as f64 / (1u64 << 53) as f64 * 0.22;
            seed = seed
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            let lon = 36.99 + (seed >> 11) as f64 / (1u64 << 53) as f64 * 0.22;
            let linear = areas
                .iter()
                .filter(|a| a.shape.contains(lat, lon))
                .min_by(|a, b| {
                    a.shape
                        .size()
                        .total_cmp(&b.shape.size())
                        .then(a.code.cmp(&b.code))
                })
                .map(|a| a.code.as_str());
            assert_eq!(
                map.area_at(lat, lon).map(|a| a.code.as_str()),
                linear,
                "({lat}, {lon})"
            );
        }
    }
}
