//! Zoom-dependent clustering for the map. A viewport is cut into square
//! cells of a quarter tile (64 px at 256-px web-map tiles) at the requested
//! zoom; the reports in one cell become one cluster with its count and
//! centroid. From `POINTS_ZOOM` on, every report is its own point.

use std::collections::HashMap;

/// At this zoom and closer, reports are not clustered.
pub const POINTS_ZOOM: u8 = 16;
pub const MAX_ZOOM: u8 = 22;

/// The side of a clustering cell, in degrees, at `zoom`.
pub fn cell_degrees(zoom: u8) -> f64 {
    360.0 / f64::from(1u32 << zoom.min(MAX_ZOOM)) / 4.0
}

/// A group of nearby reports: indexes into the input, and their centroid.
#[derive(Debug, Clone, PartialEq)]
pub struct Cluster {
    pub members: Vec<usize>,
    pub lat: f64,
    pub lon: f64,
}

/// Groups points (lat, lon) by cell; clusters come out ordered by cell, so the
/// same input always gives the same output.
pub fn cluster(points: &[(f64, f64)], cell: f64) -> Vec<Cluster> {
    let mut cells: HashMap<(i64, i64), Vec<usize>> = HashMap::new();
    for (i, (lat, lon)) in points.iter().enumerate() {
        let key = ((lat / cell).floor() as i64, (lon / cell).floor() as i64);
        cells.entry(key).or_default().push(i);
    }
    let mut keyed: Vec<((i64, i64), Vec<usize>)> = cells.into_iter().collect();
    keyed.sort_by_key(|(key, _)| *key);
    keyed
        .into_iter()
        .map(|(_, members)| {
            let n = members.len() as f64;
            let lat = members.iter().map(|&i| points[i].0).sum::<f64>() / n;
            let lon = members.iter().map(|&i| points[i].1).sum::<f64>() / n;
            Cluster { members, lat, lon }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nearby_points_merge_and_distant_ones_do_not() {
        let points = [(55.7500, 37.6000), (55.7501, 37.6001), (55.8000, 37.7000)];
        let clusters = cluster(&points, cell_degrees(12));
        assert_eq!(clusters.len(), 2);
        let big = clusters.iter().find(|c| c.members.len() == 2).unwrap();
        assert!((big.lat - 55.75005).abs() < 1e-9 && (big.lon - 37.60005).abs() < 1e-9);
        // Every point is in exactly one cluster.
        let mut all: Vec<usize> = clusters.iter().flat_map(|c| c.members.clone()).collect();
        all.sort();
        assert_eq!(all, vec![0, 1, 2]);
        // Zoomed far out, everything is one cluster.
        assert_eq!(cluster(&points, cell_degrees(3)).len(), 1);
    }

    #[test]
    fn cells_shrink_as_the_map_zooms_in() {
        assert!((cell_degrees(0) - 90.0).abs() < 1e-9);
        assert!(cell_degrees(16) < 0.0014 && cell_degrees(16) > 0.0013);
    }
}
