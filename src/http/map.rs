//! `GET /api/v1/map`: the reports in a viewport, clustered by zoom, as JSON
//! or GeoJSON (`format=geojson`). Takes the list's filters (`status`,
//! `category`, `department`, `from`, `to`); `bbox` and `zoom` are required.
//! A viewport holding more than `MAX_MAP_REPORTS` reports is refused with a
//! 400 asking to zoom in or filter, so no request can drag a whole city out.

use std::collections::HashMap;

use actix_web::{get, web, HttpResponse};
use serde::Deserialize;
use serde_json::{json, Value};

use super::error::ErrorBody;
use super::filters::{non_empty, FilterParams};
use super::{db, ApiError, AppState};
use crate::db::reports::{self as report_db, MapPoint};
use crate::reports::map::{cell_degrees, cluster, MAX_ZOOM, POINTS_ZOOM};

pub const MAX_MAP_REPORTS: i64 = 50_000;

#[derive(Deserialize)]
pub struct MapQuery {
    #[serde(flatten)]
    filter: FilterParams,
    zoom: Option<String>,
    format: Option<String>,
}

enum Item<'a> {
    Cluster { count: usize, lat: f64, lon: f64 },
    Report(&'a MapPoint),
}

/// The reports in a viewport, clustered by zoom (points from zoom 16 on).
#[utoipa::path(
    tag = "map",
    params(
        FilterParams,
        ("zoom" = u8, Query, description = "Web-map zoom, 0 to 22"),
        ("format" = Option<String>, Query, description = "json (default) or geojson"),
    ),
    responses(
        (status = 200, description = "Clusters and points; a FeatureCollection with format=geojson", body = Object),
        (status = 400, description = "A parameter is wrong, or too many reports are in view", body = ErrorBody),
    )
)]
#[get("/map")]
pub async fn map(
    state: web::Data<AppState>,
    query: web::Query<MapQuery>,
) -> Result<HttpResponse, ApiError> {
    let query = query.into_inner();
    if non_empty(query.filter.bbox.clone()).is_none() {
        return Err(ApiError::invalid(
            "bbox",
            "is required: min_lon,min_lat,max_lon,max_lat",
        ));
    }
    let zoom_text =
        non_empty(query.zoom).ok_or_else(|| ApiError::invalid("zoom", "is required"))?;
    let zoom = zoom_text
        .parse::<u8>()
        .ok()
        .filter(|z| *z <= MAX_ZOOM)
        .ok_or_else(|| {
            ApiError::invalid(
                "zoom",
                format!("must be a whole number from 0 to {MAX_ZOOM}, got '{zoom_text}'"),
            )
        })?;
    let geojson = match non_empty(query.format).as_deref() {
        None | Some("json") => false,
        Some("geojson") => true,
        Some(other) => {
            return Err(ApiError::invalid(
                "format",
                format!("'{other}' is not json or geojson"),
            ))
        }
    };
    let params = query.filter;
    let app = state.clone();
    let (points, snapshot) = db(&state, move |conn| {
        let filter = params.into_filter(conn)?;
        let points = report_db::map_points(conn, &filter, MAX_MAP_REPORTS + 1)?;
        let snapshot = app.catalog_snapshot(conn)?;
        Ok((points, snapshot))
    })
    .await?;
    let codes: HashMap<String, &str> = snapshot
        .categories
        .iter()
        .map(|(code, c)| (c.routing.id.to_string(), code.as_str()))
        .collect();
    if points.len() as i64 > MAX_MAP_REPORTS {
        return Err(ApiError::invalid(
            "bbox",
            format!("more than {MAX_MAP_REPORTS} reports are in view: zoom in or filter"),
        ));
    }
    let clustered = zoom < POINTS_ZOOM;
    let items: Vec<Item> = if clustered {
        let coordinates: Vec<(f64, f64)> = points.iter().map(|p| (p.lat, p.lon)).collect();
        cluster(&coordinates, cell_degrees(zoom))
            .into_iter()
            .map(|c| match c.members[..] {
                [only] => Item::Report(&points[only]),
                _ => Item::Cluster {
                    count: c.members.len(),
                    lat: c.lat,
                    lon: c.lon,
                },
            })
            .collect()
    } else {
        points.iter().map(Item::Report).collect()
    };
    let properties = |item: &Item| match item {
        Item::Cluster { count, .. } => json!({"type": "cluster", "count": count}),
        Item::Report(p) => json!({
            "type": "report",
            "id": p.id,
            "number": p.number,
            "status": p.status,
            "category": codes.get(&p.category_id),
        }),
    };
    let position = |item: &Item| match item {
        Item::Cluster { lat, lon, .. } => (*lat, *lon),
        Item::Report(p) => (p.lat, p.lon),
    };
    let body = if geojson {
        let features: Vec<Value> = items
            .iter()
            .map(|item| {
                let (lat, lon) = position(item);
                json!({"type": "Feature", "geometry": {"type": "Point", "coordinates": [lon, lat]}, "properties": properties(item)})
            })
            .collect();
        json!({"type": "FeatureCollection", "features": features})
    } else {
        let items: Vec<Value> = items
            .iter()
            .map(|item| {
                let (lat, lon) = position(item);
                let mut value = properties(item);
                value["lat"] = json!(lat);
                value["lon"] = json!(lon);
                value
            })
            .collect();
        json!({"zoom": zoom, "clustered": clustered, "total": points.len(), "items": items})
    };
    let content_type = if geojson {
        "application/geo+json"
    } else {
        "application/json"
    };
    Ok(HttpResponse::Ok()
        .content_type(content_type)
        .body(body.to_string()))
}
