//! Service areas as an admin imports them: a GeoJSON FeatureCollection whose
//! features carry
//!
//! ```json
//! {"code": "arbat", "name": "Район Арбат",
//!  "serves": ["zhilishnik-arbat"],
//!  "overrides": {"street_light": "zhilishnik-arbat"}}
//! ```
//!
//! `serves` lists the departments present in the area (rule 2 of routing);
//! `overrides` sends one category to one department there (rule 1). Both are
//! optional. Every problem is reported with the feature it is in.

use std::collections::BTreeMap;

use serde::Deserialize;

use super::AreaShape;
use crate::locale::{Locale, Text};

/// One area, checked, with department and category codes still unresolved.
#[derive(Debug, Clone)]
pub struct AreaDraft {
    pub code: String,
    pub name: String,
    /// The name in English (`name_en`), when given.
    pub name_en: Option<String>,
    pub shape: AreaShape,
    pub serves: Vec<String>,
    pub overrides: BTreeMap<String, String>,
}

/// What is wrong, and where: `field` is e.g. `features[3].geometry`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {message}")]
pub struct ImportError {
    pub field: String,
    pub message: Text,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Properties {
    code: String,
    name: String,
    #[serde(default)]
    name_en: Option<String>,
    #[serde(default)]
    serves: Vec<String>,
    #[serde(default)]
    overrides: BTreeMap<String, String>,
    #[serde(default, rename = "_note")]
    _note: Option<String>,
}

/// Parses and checks a FeatureCollection of service areas.
pub fn parse_areas(text: &str) -> Result<Vec<AreaDraft>, ImportError> {
    let error = |field: String, message: Text| ImportError { field, message };
    let parsed: geojson::GeoJson = text.parse().map_err(|e| {
        error(
            "body".into(),
            Text::new(
                format!("это не GeoJSON: {e}"),
                format!("not valid GeoJSON: {e}"),
            ),
        )
    })?;
    let geojson::GeoJson::FeatureCollection(collection) = parsed else {
        return Err(error(
            "body".into(),
            Text::new(
                "ожидается GeoJSON FeatureCollection",
                "expected a GeoJSON FeatureCollection",
            ),
        ));
    };
    if collection.features.is_empty() {
        return Err(error(
            "features".into(),
            Text::new(
                "в коллекции нет ни одного объекта",
                "the collection holds no features",
            ),
        ));
    }
    let mut drafts: Vec<AreaDraft> = Vec::new();
    for (i, feature) in collection.features.into_iter().enumerate() {
        let at = |part: &str| format!("features[{i}]{part}");
        let properties = serde_json::Value::Object(feature.properties.unwrap_or_default());
        let properties: Properties = serde_json::from_value(properties).map_err(|e| {
            error(
                at(".properties"),
                Text::new(
                    format!("неверные свойства: {e}"),
                    format!("the properties are wrong: {e}"),
                ),
            )
        })?;
        let code = properties.code.trim().to_string();
        let valid_code = !code.is_empty()
            && code.len() <= 64
            && code
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
        if !valid_code {
            return Err(error(
                at(".properties.code"),
                Text::new(
                    format!("«{code}» — не код: 1–64 латинские буквы, цифры, «-» или «_»"),
                    format!("'{code}' is not a code: use 1 to 64 letters, digits, '-' or '_'"),
                ),
            ));
        }
        if drafts.iter().any(|d| d.code == code) {
            return Err(error(
                at(".properties.code"),
                Text::new(
                    format!("«{code}» встречается дважды"),
                    format!("'{code}' appears twice"),
                ),
            ));
        }
        let name = properties.name.trim().to_string();
        if name.is_empty() {
            return Err(error(
                at(".properties.name"),
                Text::new("обязательное поле", "is required"),
            ));
        }
        let geometry = feature.geometry.ok_or_else(|| {
            error(
                at(".geometry"),
                Text::new(
                    format!("у участка «{code}» нет геометрии"),
                    format!("area '{code}' has no geometry"),
                ),
            )
        })?;
        let shape = AreaShape::from_geometry(geometry).map_err(|e| {
            error(
                at(".geometry"),
                Text::new(
                    format!("участок «{code}»: {}", e.get(Locale::Ru)),
                    format!("area '{code}': {}", e.en()),
                ),
            )
        })?;
        drafts.push(AreaDraft {
            code,
            name,
            name_en: properties
                .name_en
                .map(|n| n.trim().to_string())
                .filter(|n| !n.is_empty()),
            shape,
            serves: properties.serves,
            overrides: properties.overrides,
        });
    }
    Ok(drafts)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn collection(features: &str) -> String {
        format!(r#"{{"type":"FeatureCollection","features":[{features}]}}"#)
    }

    const GOOD: &str = r#"{"type":"Feature","properties":{"code":"north","name":"North","serves":["housing-north"]},
        "geometry":{"type":"Polygon","coordinates":[[[37.0,55.0],[38.0,55.0],[38.0,56.0],[37.0,56.0],[37.0,55.0]]]}}"#;

    #[test]
    fn a_good_collection_parses() {
        let drafts = parse_areas(&collection(GOOD)).unwrap();
        assert_eq!(drafts[0].code, "north");
        assert_eq!(drafts[0].serves, vec!["housing-north".to_string()]);
    }

    #[test]
    fn problems_name_the_feature_and_say_why() {
        let bow_tie = r#"{"type":"Feature","properties":{"code":"bow","name":"Bow"},
            "geometry":{"type":"Polygon","coordinates":[[[37.0,55.0],[38.0,56.0],[38.0,55.0],[37.0,56.0],[37.0,55.0]]]}}"#;
        let err = parse_areas(&collection(&format!("{GOOD},{bow_tie}"))).unwrap_err();
        assert_eq!(err.field, "features[1].geometry");
        assert!(
            err.message.en().contains("area 'bow'")
                && err.message.en().contains("not a valid polygon"),
            "{err}"
        );

        let line = r#"{"type":"Feature","properties":{"code":"l","name":"L"},"geometry":{"type":"LineString","coordinates":[[37.0,55.0],[38.0,56.0]]}}"#;
        let err = parse_areas(&collection(line)).unwrap_err();
        assert!(err.message.en().contains("LineString"), "{err}");

        let err = parse_areas(&collection(&format!("{GOOD},{GOOD}"))).unwrap_err();
        assert_eq!(err.field, "features[1].properties.code");

        let nameless = GOOD.replace(r#""name":"North""#, r#""name":"  ""#);
        assert_eq!(
            parse_areas(&collection(&nameless)).unwrap_err().field,
            "features[0].properties.name"
        );
        let codeless = GOOD.replace(r#""code":"north","#, "");
        assert_eq!(
            parse_areas(&collection(&codeless)).unwrap_err().field,
            "features[0].properties"
        );
        assert_eq!(
            parse_areas(r#"{"type":"Point","coordinates":[1,2]}"#)
                .unwrap_err()
                .field,
            "body"
        );
        assert_eq!(parse_areas(&collection("")).unwrap_err().field, "features");
    }
}
