//! Distances on the map, for duplicate detection: the exact great-circle
//! distance, and a bounding box that surely holds every point within it.
//!
//! And the grid the report lists read a small box by: cells of
//! [`GRID_DEGREES`] (about 1.1 × 0.6 km in Moscow), numbered row by row from
//! the south-west corner of the world. The database indexes every report
//! under its cell, newest first, so the newest reports of a box are the
//! newest of its few cells' — a read that does not grow with the city,
//! where a box read by latitude alone crosses a band the city's width and
//! sorts every match.

use geo::{Distance, Haversine, Point};

/// Metres between two points (haversine on a sphere of the Earth's mean radius).
pub fn distance_m(lat1: f64, lon1: f64, lat2: f64, lon2: f64) -> f64 {
    Haversine.distance(Point::new(lon1, lat1), Point::new(lon2, lat2))
}

/// (min_lat, min_lon, max_lat, max_lon) enclosing the circle of `radius_m`
/// around a point, a little generously, so the exact test can follow.
pub fn bounding_box(lat: f64, lon: f64, radius_m: f64) -> (f64, f64, f64, f64) {
    const METRES_PER_DEGREE: f64 = 111_195.0; // at the mean radius
    let dlat = radius_m / METRES_PER_DEGREE * 1.01;
    let cos = lat.to_radians().cos().max(0.01);
    let dlon = (dlat / cos).min(180.0);
    (
        (lat - dlat).max(-90.0),
        (lon - dlon).max(-180.0),
        (lat + dlat).min(90.0),
        (lon + dlon).min(180.0),
    )
}

/// A grid cell's side, in degrees.
pub const GRID_DEGREES: f64 = 0.01;

/// A list reads a box cell by cell, newest first, when it spans at most
/// this many cells (the map's viewport at zoom 16 spans up to 9, a 1 km
/// circle up to 9).
pub const GRID_MAX_CELLS: usize = 16;

/// A box is read in one statement over its cells (the map's points, a
/// report's possible duplicates) when it spans at most this many: the
/// map's viewport at zoom 14 spans up to 60.
pub const GRID_MAX_CELLS_AT_ONCE: usize = 64;

/// Cells in a row of the grid (longitude −180 to 180 inclusive).
const GRID_ROW: i64 = 36_001;

/// The cell of a point. The database computes the same number with the
/// same floating-point steps (`db::reports` writes them out), so a point
/// is in exactly the cell both sides think: `(lat + 90) · 100` and
/// `(lon + 180) · 100`, rounded down (non-negative, so truncation is the
/// same as flooring).
pub fn grid_cell(lat: f64, lon: f64) -> i64 {
    (((lat + 90.0) * 100.0).floor() as i64) * GRID_ROW + ((lon + 180.0) * 100.0).floor() as i64
}

/// The cells a box (min_lat, min_lon, max_lat, max_lon) touches, when they
/// are at most `max_cells`. Rounding down is monotonic, so every point of
/// the box is in a cell between its corners' cells.
pub fn grid_cells(
    (min_lat, min_lon, max_lat, max_lon): (f64, f64, f64, f64),
    max_cells: usize,
) -> Option<Vec<i64>> {
    if !(min_lat <= max_lat && min_lon <= max_lon) {
        return None;
    }
    let (south_west, north_east) = (grid_cell(min_lat, min_lon), grid_cell(max_lat, max_lon));
    let (rows, columns) = (
        north_east / GRID_ROW - south_west / GRID_ROW + 1,
        north_east % GRID_ROW - south_west % GRID_ROW + 1,
    );
    if rows.saturating_mul(columns) > i64::try_from(max_cells).unwrap_or(i64::MAX) {
        return None;
    }
    Some(
        (0..rows)
            .flat_map(|row| (0..columns).map(move |column| south_west + row * GRID_ROW + column))
            .collect(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_box_lists_the_cells_of_every_point_in_it() {
        let (min_lat, min_lon, max_lat, max_lon) = bounding_box(55.7539, 37.6208, 500.0);
        let cells = grid_cells((min_lat, min_lon, max_lat, max_lon), GRID_MAX_CELLS).unwrap();
        assert!(cells.len() <= 9, "{cells:?}");
        for i in 0..=40 {
            for j in 0..=40 {
                let lat = min_lat + (max_lat - min_lat) * f64::from(i) / 40.0;
                let lon = min_lon + (max_lon - min_lon) * f64::from(j) / 40.0;
                assert!(cells.contains(&grid_cell(lat, lon)), "{lat} {lon}");
            }
        }
        // A point on a cell's edge belongs to the cell north-east of it.
        assert_eq!(grid_cell(55.76, 37.62), grid_cell(55.765, 37.625));
        assert_ne!(grid_cell(55.76, 37.62), grid_cell(55.7599, 37.62));
        // The whole city is too many cells to read one by one.
        assert_eq!(
            grid_cells((55.55, 37.35, 55.92, 37.85), GRID_MAX_CELLS),
            None
        );
        assert_eq!(grid_cells((55.8, 37.6, 55.7, 37.7), GRID_MAX_CELLS), None);
    }

    #[test]
    fn the_box_holds_every_point_of_the_circle() {
        for (lat, lon) in [(55.75, 37.61), (0.0, 0.0), (-33.9, 151.2), (69.0, 33.0)] {
            let (min_lat, min_lon, max_lat, max_lon) = bounding_box(lat, lon, 50.0);
            for step in 0..360 {
                let bearing = f64::from(step).to_radians();
                // A point 49.9 m away along this bearing.
                let (dlat, dlon) = (
                    49.9 * bearing.cos() / 111_195.0,
                    49.9 * bearing.sin() / (111_195.0 * lat.to_radians().cos()),
                );
                let (plat, plon) = (lat + dlat, lon + dlon);
                assert!(distance_m(lat, lon, plat, plon) < 50.0);
                assert!((min_lat..=max_lat).contains(&plat) && (min_lon..=max_lon).contains(&plon));
            }
        }
    }

    #[test]
    fn a_known_distance() {
        // Red Square to the Bolshoi Theatre is about 560 m.
        let d = distance_m(55.7539, 37.6208, 55.7602, 37.6186);
        assert!((650.0..730.0).contains(&d), "{d}");
    }
}
