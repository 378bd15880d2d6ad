//! The files a city imports its geodata from, read row by row so that a
//! bad row is named (by its place: feature 12, line 40) and the others
//! load: address registers as GeoJSON points or CSV with coordinates
//! (`registry::read` maps their columns), and city objects as GeoJSON
//! points with a type, an id, a name and properties.

use serde_json::{Map, Value};

use super::registry::{self, FieldMap, Record};
use crate::locale::Text;
use crate::reports::Location;

/// A row that did not load: where it is (`feature 12`, `line 40`) and why.
#[derive(Debug, Clone, PartialEq)]
pub struct RowError {
    pub row: String,
    pub problem: Text,
}

/// The file's format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    GeoJson,
    Csv,
}

impl Format {
    /// By the file's name: `.csv` is CSV, anything else GeoJSON.
    pub fn of_name(name: &str) -> Format {
        if name.to_lowercase().ends_with(".csv") {
            Format::Csv
        } else {
            Format::GeoJson
        }
    }
}

fn whole_file(problem: Text) -> RowError {
    RowError {
        row: "file".into(),
        problem,
    }
}

/// A feature's properties and its point (lat, lon), or why it has none.
type Feature = (Map<String, Value>, Result<(f64, f64), Text>);

/// The features of a GeoJSON FeatureCollection.
fn features(text: &str) -> Result<Vec<Feature>, RowError> {
    let parsed: Value = serde_json::from_str(text).map_err(|e| {
        whole_file(Text::new(
            format!("это не JSON: {e}"),
            format!("not valid JSON: {e}"),
        ))
    })?;
    let Some(list) = parsed.get("features").and_then(Value::as_array) else {
        return Err(whole_file(Text::new(
            "ожидается GeoJSON FeatureCollection",
            "expected a GeoJSON FeatureCollection",
        )));
    };
    Ok(list
        .iter()
        .map(|f| {
            let properties = f
                .get("properties")
                .and_then(Value::as_object)
                .cloned()
                .unwrap_or_default();
            let geometry = f.get("geometry");
            let point = match (
                geometry.and_then(|g| g.get("type")).and_then(Value::as_str),
                geometry
                    .and_then(|g| g.get("coordinates"))
                    .and_then(Value::as_array),
            ) {
                (Some("Point"), Some(c)) => match (
                    c.first().and_then(Value::as_f64),
                    c.get(1).and_then(Value::as_f64),
                ) {
                    (Some(lon), Some(lat)) => Ok((lat, lon)),
                    _ => Err(Text::new(
                        "у точки нет двух координат",
                        "the point has no two coordinates",
                    )),
                },
                _ => Err(Text::new(
                    "геометрия должна быть точкой (Point)",
                    "the geometry must be a Point",
                )),
            };
            (properties, point)
        })
        .collect())
}

fn text_of(value: &Value) -> Option<String> {
    match value {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// The addresses of a register file, each row read or named with its
/// problem; or the whole file's problem.
pub fn addresses(
    text: &str,
    format: Format,
    map: &FieldMap,
) -> Result<Vec<Result<Record, RowError>>, RowError> {
    match format {
        Format::GeoJson => Ok(features(text)?
            .into_iter()
            .enumerate()
            .map(|(i, (properties, point))| {
                let row = format!("feature {}", i + 1);
                let point = point
                    .ok()
                    .filter(|_| map_has_no_coordinates(&properties, map));
                registry::read(|n| properties.get(n).and_then(text_of), point, map)
                    .map_err(|problem| RowError { row, problem })
            })
            .collect()),
        Format::Csv => {
            let mut reader = csv::ReaderBuilder::new()
                .flexible(true)
                .from_reader(text.as_bytes());
            let headers = reader
                .headers()
                .map_err(|e| {
                    whole_file(Text::new(
                        format!("нет строки заголовков: {e}"),
                        format!("no header row: {e}"),
                    ))
                })?
                .clone();
            Ok(reader
                .records()
                .enumerate()
                .map(|(i, record)| {
                    // The header is line 1.
                    let row = format!("line {}", i + 2);
                    let record = record.map_err(|e| RowError {
                        row: row.clone(),
                        problem: Text::new(
                            format!("строка не читается: {e}"),
                            format!("the line cannot be read: {e}"),
                        ),
                    })?;
                    let get = |name: &str| {
                        headers
                            .iter()
                            .position(|h| h.trim() == name)
                            .and_then(|p| record.get(p))
                            .map(str::to_string)
                    };
                    registry::read(get, None, map).map_err(|problem| RowError { row, problem })
                })
                .collect())
        }
    }
}

/// A GeoJSON row's geometry counts unless it carries its own coordinate
/// columns (then those are read, as in CSV).
fn map_has_no_coordinates(properties: &Map<String, Value>, map: &FieldMap) -> bool {
    !map.lat.iter().any(|n| properties.contains_key(n))
}

/// A city object as a register describes it.
#[derive(Debug, Clone, PartialEq)]
pub struct ObjectDraft {
    /// Its type's code: `lamp_post`.
    pub kind: String,
    /// The register's id.
    pub code: String,
    pub name: String,
    pub name_en: Option<String>,
    pub location: Location,
    /// The owner department's code, when the register names one.
    pub owner: Option<String>,
    /// Everything else the register says of it.
    pub properties: Map<String, Value>,
}

const KIND: &[&str] = &["type", "kind", "object_type"];
const CODE: &[&str] = &["id", "code", "ref", "asset_id"];
const NAME: &[&str] = &["name", "name_ru", "title"];
const NAME_EN: &[&str] = &["name_en", "name:en"];
const OWNER: &[&str] = &["department", "owner"];

fn is_code(text: &str) -> bool {
    !text.is_empty()
        && text.len() <= 64
        && text
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b'-')
}

/// The objects of a GeoJSON file, each read or named with its problem.
pub fn objects(text: &str) -> Result<Vec<Result<ObjectDraft, RowError>>, RowError> {
    Ok(features(text)?
        .into_iter()
        .enumerate()
        .map(|(i, (mut properties, point))| {
            let row = format!("feature {}", i + 1);
            let fail = |problem: Text| RowError {
                row: row.clone(),
                problem,
            };
            let mut take = |names: &[&str]| {
                names
                    .iter()
                    .find_map(|n| properties.remove(*n).as_ref().and_then(text_of))
                    .map(|v| v.trim().to_string())
                    .filter(|v| !v.is_empty())
            };
            let kind = take(KIND).ok_or_else(|| {
                fail(Text::new(
                    format!("нет типа объекта (искали: {})", KIND.join(", ")),
                    format!(
                        "the object's type is missing (looked for: {})",
                        KIND.join(", ")
                    ),
                ))
            })?;
            if !is_code(&kind) {
                return Err(fail(Text::new(
                    format!("тип «{kind}» — не код: строчные латинские буквы, цифры, _ или -"),
                    format!("type '{kind}' is not a code: lowercase letters, digits, _ or -"),
                )));
            }
            let code = take(CODE).ok_or_else(|| {
                fail(Text::new(
                    format!("нет номера объекта (искали: {})", CODE.join(", ")),
                    format!(
                        "the object's id is missing (looked for: {})",
                        CODE.join(", ")
                    ),
                ))
            })?;
            let name = take(NAME).unwrap_or_else(|| code.clone());
            let name_en = take(NAME_EN);
            let owner = take(OWNER);
            let (lat, lon) = point.map_err(&fail)?;
            let location = Location::parse(lat, lon).map_err(|e| fail(e.message))?;
            Ok(ObjectDraft {
                kind,
                code,
                name,
                name_en,
                location,
                owner,
                properties,
            })
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bad_row_is_named_and_the_others_read() {
        let geojson = r#"{"type":"FeatureCollection","features":[
          {"type":"Feature","properties":{"addr:street":"улица Арбат","addr:housenumber":"24а"},
           "geometry":{"type":"Point","coordinates":[37.592,55.7495]}},
          {"type":"Feature","properties":{"addr:street":"улица Арбат"},
           "geometry":{"type":"Point","coordinates":[37.593,55.7496]}}]}"#;
        let rows = addresses(geojson, Format::GeoJson, &FieldMap::default()).unwrap();
        assert_eq!(rows[0].as_ref().unwrap().label(), "улица Арбат, 24а");
        let bad = rows[1].as_ref().unwrap_err();
        assert_eq!(bad.row, "feature 2");
        assert!(bad.problem.en().contains("house number"), "{bad:?}");

        let csv = "Улица,Дом,Корпус,Широта,Долгота\nТверская улица,12,2,55.7653,37.606\nТверская улица,12,,север,37.6\n";
        let rows = addresses(csv, Format::Csv, &FieldMap::default()).unwrap();
        assert_eq!(rows[0].as_ref().unwrap().label(), "Тверская улица, 12к2");
        assert_eq!(rows[1].as_ref().unwrap_err().row, "line 3");
        assert!(addresses("[1,2", Format::GeoJson, &FieldMap::default()).is_err());
    }

    #[test]
    fn objects_read_their_type_id_name_and_owner() {
        let text = r#"{"type":"FeatureCollection","features":[
          {"type":"Feature","properties":{"type":"lamp_post","id":"LP-1042","name":"Опора освещения № 1042","department":"lighting","height_m":9},
           "geometry":{"type":"Point","coordinates":[37.6062,55.7651]}},
          {"type":"Feature","properties":{"type":"Lamp Post","id":"x"},
           "geometry":{"type":"Point","coordinates":[37.6,55.7]}},
          {"type":"Feature","properties":{"type":"bench"},
           "geometry":{"type":"Point","coordinates":[37.6,55.7]}}]}"#;
        let rows = objects(text).unwrap();
        let lamp = rows[0].as_ref().unwrap();
        assert_eq!(
            (
                lamp.kind.as_str(),
                lamp.code.as_str(),
                lamp.owner.as_deref()
            ),
            ("lamp_post", "LP-1042", Some("lighting"))
        );
        assert_eq!(lamp.properties.get("height_m"), Some(&Value::from(9)));
        assert!(rows[1]
            .as_ref()
            .unwrap_err()
            .problem
            .en()
            .contains("not a code"));
        assert!(rows[2]
            .as_ref()
            .unwrap_err()
            .problem
            .en()
            .contains("id is missing"));
    }
}
