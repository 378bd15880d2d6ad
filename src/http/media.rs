//! Serving stored photos at stable URLs: `/media/<sha256>.jpg` and
//! `/media/<sha256>.thumb.jpg`. The content never changes for a name, so
//! clients may cache it for good.

use crate::locale::Text;
use actix_web::http::header;
use actix_web::{web, HttpResponse};

use super::{ApiError, AppState};
use crate::media::Variant;

pub async fn serve(
    state: web::Data<AppState>,
    request: actix_web::HttpRequest,
    name: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let name = name.into_inner();
    let not_found = || {
        ApiError::NotFound(Text::new(
            format!("нет фотографии «{name}»"),
            format!("there is no photo '{name}'"),
        ))
    };
    let (hash, variant) = if let Some(hash) = name.strip_suffix(".thumb.jpg") {
        (hash, Variant::Thumbnail)
    } else if let Some(hash) = name.strip_suffix(".jpg") {
        (hash, Variant::Full)
    } else {
        return Err(not_found());
    };
    // A photo no report shows publicly (hidden by a moderator, of an
    // update awaiting one, of a filing not confirmed) is for staff only.
    let key = hash.to_string();
    let public = super::db(&state, move |conn| {
        Ok(crate::app::moderation::served_publicly(conn, &key)?)
    })
    .await?;
    // To anyone else it is as if there were no such photo.
    if !public {
        let caller = super::auth::caller(&state, &request).await?;
        if caller
            .require_any(crate::policy::Permission::ReadInternal)
            .is_err()
        {
            return Err(not_found());
        }
    }
    let bytes = state
        .media
        .read(hash, variant)
        .await
        .map_err(|e| ApiError::Unavailable(e.to_string()))?
        .ok_or_else(not_found)?;
    Ok(HttpResponse::Ok()
        .content_type("image/jpeg")
        .insert_header((
            header::CACHE_CONTROL,
            if public {
                "public, max-age=86400"
            } else {
                "private, no-store"
            },
        ))
        .body(bytes))
}
