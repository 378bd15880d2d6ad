//! `GET /api/v1/map`: the reports in a viewport, clustered by zoom, as JSON
//! or GeoJSON (`format=geojson`). Takes the list's filters (`status`,
//! `category`, `department`, `bbox`, `from`, `to`; no `bbox`: everywhere); `zoom`
//! is required.
//! A viewport holding more than `MAX_MAP_REPORTS` reports is refused with a
//! 400 asking to zoom in or filter, so no request can drag a whole city out.

use crate::locale::Text;
use crate::reports::ValidationError;
use std::collections::HashMap;

use actix_web::{get, web, HttpResponse};
use serde::{Deserialize, Serialize};

use super::error::ErrorBody;
use super::filters::{non_empty, FilterParams};
use super::{ApiError, AppState};
use crate::app::reports::{self as reading, MapPoint};
use crate::reports::map::{cell_degrees, cluster, MAX_ZOOM, POINTS_ZOOM};

pub const MAX_MAP_REPORTS: i64 = 50_000;

#[derive(Deserialize)]
pub struct MapQuery {
    #[serde(flatten)]
    filter: FilterParams,
    #[serde(flatten)]
    view: ViewParams,
}

/// How the map is drawn.
#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ViewParams {
    /// Web-map zoom, 0 to 22
    #[param(required, value_type = u8, maximum = 22)]
    zoom: Option<String>,
    /// json (default) or geojson
    #[param(schema_with = super::contract::map_format)]
    format: Option<String>,
}

fn report_item<'a>(p: &'a MapPoint, codes: &'a HashMap<String, String>) -> Item<'a> {
    Item {
        lat: p.lat,
        lon: p.lon,
        properties: Properties::Report {
            id: &p.id,
            number: p.number,
            status: &p.status,
            category: codes.get(&p.category_id).map(String::as_str),
        },
    }
}

/// A cluster or a report on the map, where it is.
#[derive(Serialize)]
struct Item<'a> {
    #[serde(flatten)]
    properties: Properties<'a>,
    lat: f64,
    lon: f64,
}

#[derive(Serialize)]
#[serde(tag = "type", rename_all = "lowercase")]
enum Properties<'a> {
    Cluster {
        count: usize,
    },
    Report {
        id: &'a str,
        number: i64,
        status: &'a str,
        category: Option<&'a str>,
    },
}

#[derive(Serialize)]
struct MapView<'a> {
    zoom: u8,
    clustered: bool,
    total: usize,
    items: Vec<Item<'a>>,
}

#[derive(Serialize)]
struct FeatureCollection<'a> {
    #[serde(rename = "type")]
    kind: &'static str,
    features: Vec<Feature<'a>>,
}

#[derive(Serialize)]
struct Feature<'a> {
    #[serde(rename = "type")]
    kind: &'static str,
    geometry: Geometry,
    properties: &'a Properties<'a>,
}

#[derive(Serialize)]
struct Geometry {
    #[serde(rename = "type")]
    kind: &'static str,
    coordinates: [f64; 2],
}

/// The reports in a viewport, clustered by zoom (points from zoom 16 on).
#[utoipa::path(
    tag = "map",
    params(
        FilterParams,
        ViewParams,
    ),
    responses(
        (status = 200, description = "Clusters and points; a FeatureCollection with format=geojson", content(
            (Object = "application/json"),
            (Object = "application/geo+json"),
        )),
        (status = 400, description = "A parameter is wrong, or too many reports are in view", body = ErrorBody),
    )
)]
#[get("/map")]
pub async fn map(
    state: web::Data<AppState>,
    request: actix_web::HttpRequest,
    query: web::Query<MapQuery>,
) -> Result<HttpResponse, ApiError> {
    let query = query.into_inner();
    let zoom_text = non_empty(query.view.zoom)
        .ok_or_else(|| ApiError::from(ValidationError::required("zoom")))?;
    let zoom = zoom_text
        .parse::<u8>()
        .ok()
        .filter(|z| *z <= MAX_ZOOM)
        .ok_or_else(|| {
            ApiError::invalid(
                "zoom",
                Text::new(
                    format!("должно быть целым числом от 0 до {MAX_ZOOM}, а не «{zoom_text}»"),
                    format!("must be a whole number from 0 to {MAX_ZOOM}, got '{zoom_text}'"),
                ),
            )
        })?;
    let geojson = match non_empty(query.view.format).as_deref() {
        None | Some("json") => false,
        Some("geojson") => true,
        Some(other) => {
            return Err(ApiError::invalid(
                "format",
                Text::new(
                    format!("«{other}» — не json и не geojson"),
                    format!("'{other}' is not json or geojson"),
                ),
            ))
        }
    };
    let wanted = query.filter.into_wanted()?;
    let app = state.services.clone();
    let (points, snapshot) = super::read(&state, &request, move |conn| {
        let points = reading::map_points(conn, wanted, MAX_MAP_REPORTS + 1)?;
        let snapshot = app.catalog_snapshot(conn)?;
        Ok((points, snapshot))
    })
    .await?;
    if points.len() as i64 > MAX_MAP_REPORTS {
        return Err(ApiError::invalid(
            "bbox",
            Text::new(format!("в области видно больше {MAX_MAP_REPORTS} сообщений: приблизьте карту или сузьте фильтр"), format!("more than {MAX_MAP_REPORTS} reports are in view: zoom in or filter")),
        ));
    }
    let clustered = zoom < POINTS_ZOOM;
    let report = |p| report_item(p, &snapshot.codes);
    let items: Vec<Item> = if clustered {
        let coordinates: Vec<(f64, f64)> = points.iter().map(|p| (p.lat, p.lon)).collect();
        cluster(&coordinates, cell_degrees(zoom))
            .into_iter()
            .map(|c| match c.members[..] {
                [only] => report(&points[only]),
                _ => Item {
                    lat: c.lat,
                    lon: c.lon,
                    properties: Properties::Cluster {
                        count: c.members.len(),
                    },
                },
            })
            .collect()
    } else {
        points.iter().map(report).collect()
    };
    let (content_type, body) = if geojson {
        let features: Vec<Feature> = items
            .iter()
            .map(|item| Feature {
                kind: "Feature",
                geometry: Geometry {
                    kind: "Point",
                    coordinates: [item.lon, item.lat],
                },
                properties: &item.properties,
            })
            .collect();
        let collection = FeatureCollection {
            kind: "FeatureCollection",
            features,
        };
        ("application/geo+json", serde_json::to_string(&collection))
    } else {
        let view = MapView {
            zoom,
            clustered,
            total: points.len(),
            items,
        };
        ("application/json", serde_json::to_string(&view))
    };
    let body = body.map_err(|e| ApiError::Internal(Box::new(e)))?;
    Ok(HttpResponse::Ok().content_type(content_type).body(body))
}
