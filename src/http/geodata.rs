//! The city's geodata over HTTP: geocoding as a person types and for a
//! dropped pin, the city objects near a point that a category concerns,
//! and one object with its reports.

use actix_web::{get, web, HttpResponse};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::error::ErrorBody;
use super::filters::non_empty;
use super::{db, ApiError, AppState};
use crate::app::geodata::CityObjectRow;
use crate::app::geodata::{self, Found, Near};
use crate::locale::Text;
use crate::reports::{Location, ValidationError};

/// The most addresses one geocoding answer holds.
const MAX_LIMIT: usize = 20;
/// The longest query geocoded.
const MAX_QUERY_CHARS: usize = 200;

/// An address of the city's registry.
#[derive(Serialize, ToSchema)]
pub struct AddressView {
    /// As the registry writes it: «Тверская улица, 12к2»
    label: String,
    street: String,
    street_en: Option<String>,
    /// The house number in the registry's form: `12к2`
    house: String,
    lat: f64,
    lon: f64,
    /// Metres from the point asked about (reverse geocoding only)
    #[serde(skip_serializing_if = "Option::is_none")]
    distance_m: Option<f64>,
}

impl From<Found> for AddressView {
    fn from(f: Found) -> AddressView {
        AddressView {
            label: f.label,
            street: f.street,
            street_en: f.street_en,
            house: f.house,
            lat: f.lat,
            lon: f.lon,
            distance_m: f.distance_m,
        }
    }
}

#[derive(Deserialize)]
pub struct GeocodeQuery {
    q: Option<String>,
    limit: Option<String>,
}

/// Find addresses as a person types them.
///
/// Russian or English, the words in any order, with or without the kind
/// of street (ул., пр-т, St), house numbers as 12к2, 12 корп. 2 or
/// 12 bldg 2, ё as е, and a slip of one letter in longer words. Best
/// matches first; while the house is not typed yet, the street's houses.
#[utoipa::path(
    tag = "geodata",
    params(
        ("q" = String, Query, pattern = "\\S", max_length = 200, description = "What was typed"),
        ("limit" = Option<i64>, Query, minimum = 1, maximum = 20, description = "1 to 20, default 8"),
    ),
    responses(
        (status = 200, description = "Addresses, best first (none when nothing matches)", body = Vec<AddressView>),
        (status = 400, description = "A parameter is wrong", body = ErrorBody),
    )
)]
#[get("/geocode")]
pub async fn geocode(
    state: web::Data<AppState>,
    query: web::Query<GeocodeQuery>,
) -> Result<HttpResponse, ApiError> {
    let query = query.into_inner();
    let typed = non_empty(query.q).ok_or_else(|| ValidationError::required("q"))?;
    if typed.chars().count() > MAX_QUERY_CHARS {
        return Err(ValidationError::too_long("q", MAX_QUERY_CHARS).into());
    }
    let limit = super::filters::parse_count("limit", query.limit, 8, MAX_LIMIT as i64)?;
    let limit = usize::try_from(limit).unwrap_or(MAX_LIMIT);
    let app = state.services.clone();
    let index = db(&state, move |conn| Ok(geodata::index(&app, conn)?)).await?;
    let found: Vec<AddressView> = geodata::geocode(&index, &typed, limit)
        .into_iter()
        .map(AddressView::from)
        .collect();
    Ok(HttpResponse::Ok().json(found))
}

#[derive(Deserialize)]
pub struct PointQuery {
    lat: Option<String>,
    lon: Option<String>,
    category: Option<String>,
}

/// A point from `lat` and `lon` query parameters, each bad one named.
pub(crate) fn point(lat: Option<String>, lon: Option<String>) -> Result<Location, ApiError> {
    let number = |field: &str, value: Option<String>| {
        let text = non_empty(value).ok_or_else(|| ValidationError::required(field))?;
        text.parse::<f64>()
            .map_err(|_| ValidationError::not_a_number(field, &text))
    };
    Ok(Location::parse(number("lat", lat)?, number("lon", lon)?)?)
}

/// The address nearest a point (a dropped pin), within 60 m.
#[utoipa::path(
    tag = "geodata",
    params(
        ("lat" = f64, Query, minimum = -90, maximum = 90, description = "Latitude"),
        ("lon" = f64, Query, minimum = -180, maximum = 180, description = "Longitude"),
    ),
    responses(
        (status = 200, description = "The nearest address, with its distance", body = AddressView),
        (status = 400, description = "A parameter is wrong", body = ErrorBody),
        (status = 404, description = "No address within 60 m", body = ErrorBody),
    )
)]
#[get("/geocode/reverse")]
pub async fn reverse(
    state: web::Data<AppState>,
    query: web::Query<PointQuery>,
) -> Result<HttpResponse, ApiError> {
    let query = query.into_inner();
    let at = point(query.lat, query.lon)?;
    let app = state.services.clone();
    let index = db(&state, move |conn| Ok(geodata::index(&app, conn)?)).await?;
    match geodata::reverse(&index, at.lat(), at.lon()) {
        Some(found) => Ok(HttpResponse::Ok().json(AddressView::from(found))),
        None => Err(ApiError::NotFound(Text::new(
            format!("в {} м от точки нет адреса", geodata::REVERSE_M),
            format!(
                "there is no address within {} m of the point",
                geodata::REVERSE_M
            ),
        ))),
    }
}

/// A city object.
#[derive(Serialize, ToSchema)]
pub struct ObjectView {
    /// Its id: give it as `object` when filing
    id: String,
    /// Its type: `lamp_post`, `bench`, `bus_stop`…
    #[serde(rename = "type")]
    kind: String,
    /// The register's own id for it
    code: String,
    name: String,
    name_en: Option<String>,
    lat: f64,
    lon: f64,
    /// Metres from the point asked about (objects near a point only)
    #[serde(skip_serializing_if = "Option::is_none")]
    distance_m: Option<f64>,
    /// The register's other properties
    #[schema(value_type = Object)]
    properties: serde_json::Value,
    /// Its page, with its reports
    url: String,
}

impl ObjectView {
    pub fn new(state: &AppState, object: CityObjectRow, distance_m: Option<f64>) -> ObjectView {
        ObjectView {
            url: format!("{}/objects/{}", state.services.public_url, object.id),
            properties: serde_json::from_str(&object.properties).unwrap_or_default(),
            id: object.id,
            kind: object.kind,
            code: object.code,
            name: object.name,
            name_en: object.name_en,
            lat: object.lat,
            lon: object.lon,
            distance_m: distance_m.map(|d| d.round()),
        }
    }
}

/// The city objects near a point that a category concerns, nearest first
/// (within 150 m, at most 20); none when the category names no object types.
#[utoipa::path(
    tag = "geodata",
    params(
        ("lat" = f64, Query, minimum = -90, maximum = 90, description = "Latitude"),
        ("lon" = f64, Query, minimum = -180, maximum = 180, description = "Longitude"),
        ("category" = String, Query, pattern = "\\S", description = "Category code"),
    ),
    responses(
        (status = 200, description = "Objects, nearest first", body = Vec<ObjectView>),
        (status = 400, description = "A parameter is wrong", body = ErrorBody),
    )
)]
#[get("/objects")]
pub async fn near(
    state: web::Data<AppState>,
    query: web::Query<PointQuery>,
) -> Result<HttpResponse, ApiError> {
    let query = query.into_inner();
    let at = point(query.lat, query.lon)?;
    let code = non_empty(query.category).ok_or_else(|| ValidationError::required("category"))?;
    let app = state.services.clone();
    let found: Vec<Near> = db(&state, move |conn| {
        Ok(geodata::objects_near(&app, conn, &code, &at, 20)?)
    })
    .await?;
    let views: Vec<ObjectView> = found
        .into_iter()
        .map(|n| ObjectView::new(&state, n.object, Some(n.distance_m)))
        .collect();
    Ok(HttpResponse::Ok().json(views))
}
