//! Distances on the map, for duplicate detection: the exact great-circle
//! distance, and a bounding box that surely holds every point within it.

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

#[cfg(test)]
mod tests {
    use super::*;

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
