//! Administration of the city's catalogue.

use actix_web::{web, HttpRequest, HttpResponse};

use super::{auth, db, ApiError, AppState};
use crate::db::catalog::{self, ImportFailure};
use crate::routing;

/// `POST /api/v1/admin/service-areas`: a GeoJSON FeatureCollection of areas
/// (see `routing::import` for the properties). Areas are created or replaced
/// by code, all or none; every routing index rebuilds on its next use.
pub async fn import_service_areas(
    state: web::Data<AppState>,
    request: HttpRequest,
    body: web::Bytes,
) -> Result<HttpResponse, ApiError> {
    auth::admin(&state, &request).await?;
    let text =
        std::str::from_utf8(&body).map_err(|_| ApiError::invalid("body", "is not UTF-8 text"))?;
    let drafts = routing::parse_areas(text).map_err(|e| ApiError::invalid(e.field, e.message))?;
    let summary = db(&state, move |conn| {
        catalog::import_areas(conn, &drafts).map_err(|e| match e {
            ImportFailure::Invalid(e) => ApiError::invalid(e.field, e.message),
            ImportFailure::Db(e) => e.into(),
        })
    })
    .await?;
    Ok(HttpResponse::Ok().json(summary))
}
