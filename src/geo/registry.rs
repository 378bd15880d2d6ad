//! A row of a city's address register, read whatever the register calls
//! its columns: an import names, for each part of an address, the
//! properties (GeoJSON) or columns (CSV) it may be in, tried in order, so
//! that a city's open-data register, an OpenStreetMap `addr:*` extract and
//! a national register all load with the same code. A row that cannot be
//! read says which part is missing or wrong; the import names the row and
//! loads the others.

use super::address::{parse, House};
use crate::locale::Text;
use crate::reports::Location;

/// Where each part of an address is, by property or column name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldMap {
    /// The street's name in the city's language.
    pub street: Vec<String>,
    /// The street's name in English, when the register has one.
    pub street_en: Vec<String>,
    /// The house number (with its корпус and строение when written in it).
    pub house: Vec<String>,
    /// A separate корпус, when the register keeps one.
    pub building: Vec<String>,
    /// A separate строение.
    pub structure: Vec<String>,
    /// A whole address in one field, read when there is no street column.
    pub full: Vec<String>,
    /// Coordinates in columns (CSV); GeoJSON has them in the geometry.
    pub lat: Vec<String>,
    pub lon: Vec<String>,
}

fn names(list: &[&str]) -> Vec<String> {
    list.iter().map(|s| s.to_string()).collect()
}

impl Default for FieldMap {
    /// The names Gorod's own files use, OpenStreetMap's `addr:*` tags and
    /// the usual open-data register columns.
    fn default() -> FieldMap {
        FieldMap {
            street: names(&["street", "addr:street", "STREET", "Улица", "street_ru"]),
            street_en: names(&["street_en", "addr:street:en", "name:en"]),
            house: names(&["house", "addr:housenumber", "HOUSE", "Дом", "housenumber"]),
            building: names(&["building", "korpus", "Корпус", "BUILDING"]),
            structure: names(&["structure", "stroenie", "Строение", "STRUCTURE"]),
            full: names(&["address", "ADDRESS", "Адрес", "addr:full"]),
            lat: names(&["lat", "latitude", "LAT", "Широта", "y"]),
            lon: names(&["lon", "lng", "longitude", "LON", "Долгота", "x"]),
        }
    }
}

/// An address the registry keeps.
#[derive(Debug, Clone, PartialEq)]
pub struct Record {
    pub street: String,
    pub street_en: Option<String>,
    pub house: House,
    pub location: Location,
}

impl Record {
    /// How the address is shown: «Тверская улица, 12к2».
    pub fn label(&self) -> String {
        format!("{}, {}", self.street, self.house.canonical())
    }
}

/// Reads one row: `get` gives a property's or column's text by name,
/// `point` the geometry's (lat, lon) when the row has one.
pub fn read(
    get: impl Fn(&str) -> Option<String>,
    point: Option<(f64, f64)>,
    map: &FieldMap,
) -> Result<Record, Text> {
    let first = |names: &[String]| {
        names
            .iter()
            .filter_map(|n| get(n))
            .map(|v| v.trim().to_string())
            .find(|v| !v.is_empty())
    };
    let (street, house_text) = match (first(&map.street), first(&map.house), first(&map.full)) {
        (Some(street), Some(house), _) => (street, house),
        (None, house, Some(full)) => {
            let parsed = parse(&full);
            let house = house.or_else(|| parsed.house.as_ref().map(House::canonical));
            let street = full
                .split(',')
                .next()
                .map(str::trim)
                .unwrap_or_default()
                .to_string();
            match house {
                Some(house) if !street.is_empty() => (street, house),
                _ => return Err(missing("номер дома", "the house number", &map.house)),
            }
        }
        (None, _, None) => return Err(missing("улица", "the street", &map.street)),
        (Some(_), None, _) => return Err(missing("номер дома", "the house number", &map.house)),
    };
    let mut house = parse(&format!("д {house_text}")).house.ok_or_else(|| {
        Text::new(
            format!("«{house_text}» — не номер дома"),
            format!("'{house_text}' is not a house number"),
        )
    })?;
    if let Some(b) = first(&map.building) {
        house.building = Some(b.to_lowercase());
    }
    if let Some(s) = first(&map.structure) {
        house.structure = Some(s.to_lowercase());
    }
    let (lat, lon) = match point {
        Some(point) => point,
        None => (
            coordinate(first(&map.lat), "широта", "latitude", &map.lat)?,
            coordinate(first(&map.lon), "долгота", "longitude", &map.lon)?,
        ),
    };
    let location = Location::parse(lat, lon).map_err(|e| e.message)?;
    Ok(Record {
        street,
        street_en: first(&map.street_en),
        house,
        location,
    })
}

fn coordinate(text: Option<String>, ru: &str, en: &str, names: &[String]) -> Result<f64, Text> {
    let text = text.ok_or_else(|| missing(ru, en, names))?;
    text.replace(',', ".").parse().map_err(|_| {
        Text::new(
            format!("{ru}: «{text}» — не число"),
            format!("{en}: '{text}' is not a number"),
        )
    })
}

fn missing(ru: &str, en: &str, names: &[String]) -> Text {
    let looked = names.join(", ");
    Text::new(
        format!("нет поля «{ru}» (искали: {looked})"),
        format!("{en} is missing (looked for: {looked})"),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn row(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let map: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        move |name: &str| map.get(name).cloned()
    }

    #[test]
    fn an_openstreetmap_extract_and_a_register_read_alike() {
        let map = FieldMap::default();
        let osm = read(
            row(&[
                ("addr:street", "Тверская улица"),
                ("addr:housenumber", "12к2"),
                ("addr:street:en", "Tverskaya Street"),
            ]),
            Some((55.77, 37.605)),
            &map,
        )
        .unwrap();
        let register = read(
            row(&[
                ("Улица", "Тверская улица"),
                ("Дом", "12"),
                ("Корпус", "2"),
                ("Широта", "55,77"),
                ("Долгота", "37.605"),
            ]),
            None,
            &map,
        )
        .unwrap();
        assert_eq!(osm.house, register.house);
        assert_eq!(osm.label(), "Тверская улица, 12к2");
        assert_eq!(osm.street_en.as_deref(), Some("Tverskaya Street"));
        assert_eq!(register.location, osm.location);
        let whole = read(
            row(&[("address", "Тверская улица, д. 12, корп. 2")]),
            Some((55.77, 37.605)),
            &map,
        )
        .unwrap();
        assert_eq!(whole.label(), "Тверская улица, 12к2");
    }

    #[test]
    fn a_bad_row_says_what_is_wrong() {
        let map = FieldMap::default();
        let no_house = read(row(&[("street", "Арбат")]), Some((55.75, 37.59)), &map).unwrap_err();
        assert!(no_house.en().contains("house number"), "{no_house:?}");
        let no_street = read(row(&[("house", "5")]), Some((55.75, 37.59)), &map).unwrap_err();
        assert!(no_street.en().contains("street"), "{no_street:?}");
        let no_point = read(row(&[("street", "Арбат"), ("house", "5")]), None, &map).unwrap_err();
        assert!(no_point.en().contains("latitude"), "{no_point:?}");
        let not_number = read(
            row(&[
                ("street", "Арбат"),
                ("house", "5"),
                ("lat", "north"),
                ("lon", "37"),
            ]),
            None,
            &map,
        )
        .unwrap_err();
        assert!(
            not_number.en().contains("'north' is not a number"),
            "{not_number:?}"
        );
        let off_earth = read(
            row(&[("street", "Арбат"), ("house", "5")]),
            Some((95.0, 37.0)),
            &map,
        )
        .unwrap_err();
        assert!(!off_earth.en().is_empty());
        let junk = read(
            row(&[("street", "Арбат"), ("house", "дом")]),
            Some((55.0, 37.0)),
            &map,
        )
        .unwrap_err();
        assert!(junk.en().contains("not a house number"), "{junk:?}");
    }
}
