//! Administration of the city's catalogue.

use actix_web::{post, web, HttpRequest, HttpResponse};

use super::error::ErrorBody;
use super::{auth, db, read_body, ApiError, AppState, MAX_AREAS_BYTES};
use crate::db::catalog::{self, ImportFailure};
use crate::routing;

/// Import service areas (admins).
///
/// A GeoJSON FeatureCollection whose features carry `code`, `name`, optional
/// `serves` (department codes present in the area) and optional `overrides`
/// (`{category: department}`). Areas are created or replaced by code, all or
/// none; routing uses them at once.
#[utoipa::path(
    tag = "admin",
    request_body(content = Object, content_type = "application/geo+json", description = "A FeatureCollection"),
    responses(
        (status = 200, description = "What was created and updated", body = Object),
        (status = 400, description = "A feature is wrong (named); nothing changed", body = ErrorBody),
        (status = 401, description = "No valid API token", body = ErrorBody),
        (status = 403, description = "Not an admin", body = ErrorBody),
    ),
    security(("token" = []))
)]
#[post("/admin/service-areas")]
pub async fn import_service_areas(
    state: web::Data<AppState>,
    request: HttpRequest,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    auth::admin(&state, &request).await?;
    let body = read_body(payload, MAX_AREAS_BYTES).await?;
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
    state.catalog.invalidate();
    Ok(HttpResponse::Ok().json(summary))
}
