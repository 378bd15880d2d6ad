//! The address registry in memory, for geocoding as a person types and
//! for the nearest address to a dropped pin.
//!
//! Forward: the typed text is read as any address is (`address::parse`);
//! each distinct street is matched on its words in either language
//! (`address::street_cost`, so any order, prefixes of the last word and a
//! slip in longer words); on the streets that match, a typed house ranks
//! its exact form first, then the same number with other parts, then the
//! street's other houses. Fewer slips first, then the better house, then
//! the street with fewer words left untyped, then by house number.
//!
//! Reverse: addresses are kept in cells of about 110 m; the nearest within
//! the limit is found in the point's cell and its neighbours.

use std::collections::HashMap;

use super::address::{fold, parse, street_cost, House};
use super::registry::Record;
use crate::reports::nearby::distance_m;

/// The grid's cell, in degrees (about 110 m of latitude).
const CELL: f64 = 0.001;

#[derive(Debug)]
struct Street {
    words: Vec<String>,
    words_en: Vec<String>,
    /// Addresses on the street, by house number.
    houses: Vec<usize>,
}

/// A match: the record's position in the index, and how far the typing
/// was from it (0 exact; more ranks lower).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Hit {
    pub record: usize,
    pub cost: u32,
}

/// The registry, searchable.
#[derive(Debug, Default)]
pub struct Index {
    records: Vec<Record>,
    streets: Vec<Street>,
    cells: HashMap<(i64, i64), Vec<usize>>,
}

fn cell(lat: f64, lon: f64) -> (i64, i64) {
    // Truncation to a cell is the point: coordinates are within ±180.
    #[allow(clippy::cast_possible_truncation)]
    ((lat / CELL).floor() as i64, (lon / CELL).floor() as i64)
}

fn street_words(name: &str) -> Vec<String> {
    parse(name).words
}

impl Index {
    pub fn new(records: Vec<Record>) -> Index {
        let mut by_name: HashMap<String, usize> = HashMap::new();
        let mut streets: Vec<Street> = Vec::new();
        let mut cells: HashMap<(i64, i64), Vec<usize>> = HashMap::new();
        for (i, r) in records.iter().enumerate() {
            let key = fold(&r.street);
            let s = *by_name.entry(key).or_insert_with(|| {
                streets.push(Street {
                    words: street_words(&r.street),
                    words_en: r.street_en.as_deref().map(street_words).unwrap_or_default(),
                    houses: Vec::new(),
                });
                streets.len() - 1
            });
            streets[s].houses.push(i);
            cells
                .entry(cell(r.location.lat(), r.location.lon()))
                .or_default()
                .push(i);
        }
        for street in &mut streets {
            street.houses.sort_by_key(|&i| {
                let h = &records[i].house;
                (h.number, h.canonical())
            });
        }
        Index {
            records,
            streets,
            cells,
        }
    }

    pub fn len(&self) -> usize {
        self.records.len()
    }

    pub fn is_empty(&self) -> bool {
        self.records.is_empty()
    }

    pub fn record(&self, i: usize) -> &Record {
        &self.records[i]
    }

    /// Up to `limit` addresses for what was typed, best first.
    pub fn search(&self, typed: &str, limit: usize) -> Vec<Hit> {
        let query = parse(typed);
        if query.words.is_empty() {
            return Vec::new();
        }
        // (slips, house rank, the street's words left untyped, record)
        let mut hits: Vec<(u32, u32, usize, usize)> = Vec::new();
        for street in &self.streets {
            let matched = [&street.words, &street.words_en]
                .into_iter()
                .filter(|w| !w.is_empty())
                .filter_map(|w| {
                    let left = w.len().saturating_sub(query.words.len());
                    street_cost(&query.words, w).map(|cost| (cost, left))
                })
                .min();
            let Some((cost, left)) = matched else {
                continue;
            };
            for &i in &street.houses {
                let rank = match &query.house {
                    None => 0,
                    Some(h) => house_rank(h, &self.records[i].house),
                };
                hits.push((cost, rank, left, i));
            }
        }
        if query.house.is_some() && hits.iter().any(|(_, rank, _, _)| *rank < 2) {
            hits.retain(|(_, rank, _, _)| *rank < 2);
        }
        hits.sort_by_key(|&(cost, rank, left, i)| {
            (cost, rank, left, self.records[i].house.number, i)
        });
        hits.into_iter()
            .take(limit)
            .map(|(cost, rank, _, record)| Hit {
                record,
                cost: cost * 3 + rank,
            })
            .collect()
    }

    /// The nearest address within `limit_m` metres (at most about 100 m).
    pub fn nearest(&self, lat: f64, lon: f64, limit_m: f64) -> Option<(usize, f64)> {
        let (row, col) = cell(lat, lon);
        let mut best: Option<(usize, f64)> = None;
        for r in row - 1..=row + 1 {
            for c in col - 1..=col + 1 {
                for &i in self.cells.get(&(r, c)).into_iter().flatten() {
                    let at = &self.records[i].location;
                    let d = distance_m(lat, lon, at.lat(), at.lon());
                    if d <= limit_m && best.is_none_or(|(_, b)| d < b) {
                        best = Some((i, d));
                    }
                }
            }
        }
        best
    }
}

/// 0: the same house; 1: the same number, other parts; 2: another house.
fn house_rank(typed: &House, house: &House) -> u32 {
    if typed.canonical() == house.canonical() {
        0
    } else if typed.number == house.number {
        1
    } else {
        2
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::reports::Location;

    fn record(street: &str, en: &str, house: &str, lat: f64, lon: f64) -> Record {
        Record {
            street: street.into(),
            street_en: Some(en.into()),
            house: parse(&format!("д {house}")).house.unwrap(),
            location: Location::parse(lat, lon).unwrap(),
        }
    }

    fn city() -> Index {
        Index::new(vec![
            record("Тверская улица", "Tverskaya Street", "12", 55.7651, 37.6062),
            record(
                "Тверская улица",
                "Tverskaya Street",
                "12к2",
                55.7653,
                37.6060,
            ),
            record("Тверская улица", "Tverskaya Street", "14", 55.7660, 37.6050),
            record("улица Арбат", "Arbat Street", "24а", 55.7495, 37.5920),
            record(
                "1-я Тверская-Ямская улица",
                "1st Tverskaya-Yamskaya Street",
                "5",
                55.7720,
                37.5950,
            ),
            record("Зелёный проспект", "Zelyony Avenue", "3", 55.7500, 37.8000),
        ])
    }

    fn first(index: &Index, typed: &str) -> String {
        index
            .search(typed, 5)
            .first()
            .map(|h| index.record(h.record).label())
            .unwrap_or_default()
    }

    #[test]
    fn each_way_of_writing_finds_its_house() {
        let index = city();
        for typed in [
            "ул. Тверская, д. 12к2",
            "Тверская 12 корп. 2",
            "12к2 тверская",
            "Tverskaya St 12 bldg 2",
            "тверкая 12к2",
        ] {
            assert_eq!(first(&index, typed), "Тверская улица, 12к2", "{typed}");
        }
        assert_eq!(first(&index, "Арбат 24 а"), "улица Арбат, 24а");
        assert_eq!(first(&index, "зеленый 3"), "Зелёный проспект, 3");
        assert_eq!(
            first(&index, "1-я Тверская-Ямская 5"),
            "1-я Тверская-Ямская улица, 5"
        );
        // Still typing: the street's houses, in order.
        let hits = index.search("тверск", 10);
        assert_eq!(index.record(hits[0].record).label(), "Тверская улица, 12");
        assert!(hits.len() >= 3);
        assert!(index.search("Нигдеевская 1", 5).is_empty());
    }

    #[test]
    fn the_nearest_house_is_found_within_the_limit_only() {
        let index = city();
        // About 5 m north of Тверская 14.
        let (i, d) = index.nearest(55.76605, 37.6050, 30.0).unwrap();
        assert_eq!(index.record(i).label(), "Тверская улица, 14");
        assert!(d < 10.0, "{d}");
        // A field far from any house.
        assert!(index.nearest(55.70, 37.70, 30.0).is_none());
    }
}
