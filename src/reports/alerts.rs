//! Area alerts: a resident asks to hear of new reports in a district or
//! within a radius of a point, of every category or some, at once or in a
//! daily digest. A report is new for alerts once it is published (past
//! moderation, not rejected); each alert hears of a report once. Pure.

use super::nearby::distance_m;
use super::{Location, ValidationError};
use crate::locale::Text;

/// The nearest and farthest a radius may reach, in metres.
pub const RADIUS_M: (f64, f64) = (50.0, 5000.0);

/// Where an alert looks.
#[derive(Debug, Clone, PartialEq)]
pub enum Place {
    /// A district (service area) by id.
    Area(String),
    Around {
        location: Location,
        radius_m: f64,
    },
}

impl Place {
    /// From a form: a district's id, or a point with a radius, not both.
    pub fn parse(
        area: Option<String>,
        point: (Option<f64>, Option<f64>),
        radius_m: Option<f64>,
    ) -> Result<Place, ValidationError> {
        match (area, point) {
            (Some(area), (None, None)) => Ok(Place::Area(area)),
            (None, (Some(lat), Some(lon))) => {
                let location = Location::parse(lat, lon)?;
                let radius_m = radius_m.unwrap_or(500.0);
                if !(RADIUS_M.0..=RADIUS_M.1).contains(&radius_m) {
                    return Err(ValidationError::coded(
                        "radius_m",
                        "out_of_range",
                        Text::new(
                            "радиус — от 50 до 5000 м",
                            "the radius is from 50 to 5000 m",
                        ),
                    ));
                }
                Ok(Place::Around { location, radius_m })
            }
            _ => Err(ValidationError::coded(
                "area",
                "required",
                Text::new(
                    "укажите район или точку (lat, lon) с радиусом — одно из двух",
                    "give a district, or a point (lat, lon) with a radius — one of the two",
                ),
            )),
        }
    }
}

/// A circle around a point, in words.
pub fn around(location: &Location, radius_m: f64) -> Text {
    let (lat, lon) = (location.lat(), location.lon());
    Text::new(
        format!("в радиусе {radius_m:.0} м от точки {lat:.5}, {lon:.5}"),
        format!("within {radius_m:.0} m of {lat:.5}, {lon:.5}"),
    )
}

/// How often an alert is sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Frequency {
    /// An email per report, at once.
    Instant,
    /// One email a day with the day's reports.
    Daily,
}

impl Frequency {
    pub fn parse(text: Option<&str>) -> Result<Frequency, ValidationError> {
        match text.unwrap_or("instant") {
            "instant" => Ok(Frequency::Instant),
            "daily" => Ok(Frequency::Daily),
            other => Err(ValidationError::new(
                "frequency",
                Text::new(
                    format!("«{other}» — не instant и не daily"),
                    format!("'{other}' is neither instant nor daily"),
                ),
            )),
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Frequency::Instant => "instant",
            Frequency::Daily => "daily",
        }
    }
}

/// An alert as matching needs it.
#[derive(Debug, Clone, PartialEq)]
pub struct Alert {
    pub place: Place,
    /// Category ids; empty: every category.
    pub categories: Vec<String>,
}

/// A published report as matching needs it.
#[derive(Debug, Clone, PartialEq)]
pub struct Published {
    pub area_id: Option<String>,
    pub category_id: String,
    pub lat: f64,
    pub lon: f64,
}

impl Alert {
    /// Whether the report is one the alert asked about.
    pub fn matches(&self, report: &Published) -> bool {
        if !self.categories.is_empty() && !self.categories.contains(&report.category_id) {
            return false;
        }
        match &self.place {
            Place::Area(area) => report.area_id.as_deref() == Some(area.as_str()),
            Place::Around { location, radius_m } => {
                distance_m(location.lat(), location.lon(), report.lat, report.lon) <= *radius_m
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn report(area: &str, category: &str, lat: f64) -> Published {
        Published {
            area_id: Some(area.into()),
            category_id: category.into(),
            lat,
            lon: 37.6,
        }
    }

    #[test]
    fn an_alert_matches_its_place_and_categories_only() {
        let around = Alert {
            place: Place::parse(None, (Some(55.75), Some(37.6)), Some(300.0)).unwrap(),
            categories: vec!["pothole".into()],
        };
        assert!(around.matches(&report("a", "pothole", 55.752)));
        assert!(
            !around.matches(&report("a", "pothole", 55.76)),
            "about 1.1 km off"
        );
        assert!(!around.matches(&report("a", "graffiti", 55.75)));
        let district = Alert {
            place: Place::Area("a".into()),
            categories: Vec::new(),
        };
        assert!(district.matches(&report("a", "graffiti", 10.0)));
        assert!(!district.matches(&report("b", "graffiti", 55.75)));
    }

    #[test]
    fn a_place_is_a_district_or_a_point_with_a_sane_radius() {
        assert!(Place::parse(None, (None, None), None).is_err());
        assert!(Place::parse(Some("a".into()), (Some(1.0), Some(1.0)), None).is_err());
        assert_eq!(
            Place::parse(None, (Some(55.0), Some(37.0)), Some(10.0))
                .unwrap_err()
                .field,
            "radius_m"
        );
        assert_eq!(
            Frequency::parse(Some("weekly")).unwrap_err().field,
            "frequency"
        );
    }
}
