//! Filing from a request: the use case (`app::filing`) run where it must
//! run — photos cleaned and stored on the blocking pool, the checks and the
//! commit on the instance's filing writer — and its refusals turned into
//! answers.

use actix_web::web;

use super::{ApiError, AppState};
use crate::app::filing::{self, Channel, Filed, FilingError, Photos, Upload};
use crate::app::reports::StoredPhoto;
use crate::app::Connection as DbConnection;
use crate::media::CleanPhoto;
use crate::reports::NewReport;

impl From<FilingError> for ApiError {
    fn from(e: FilingError) -> ApiError {
        match e {
            FilingError::Invalid(e) => e.into(),
            FilingError::TooMany {
                what,
                window,
                retry_after,
            } => ApiError::TooMany {
                message: what,
                retry_at: window.end,
                retry_after,
            },
            FilingError::Unavailable(message) => ApiError::Unavailable(message),
            FilingError::Db(e) => e.into(),
        }
    }
}

/// Cleans uploaded photos on the blocking pool; a bad one is a 400 naming
/// it by `photo_field`.
pub async fn clean_photos(
    state: &web::Data<AppState>,
    uploads: Vec<Upload>,
    photo_field: fn(usize) -> String,
) -> Result<Vec<CleanPhoto>, ApiError> {
    if uploads.is_empty() {
        return Ok(Vec::new());
    }
    let app = state.clone();
    web::block(move || filing::clean_photos(&app, &uploads, photo_field))
        .await
        .map_err(|e| ApiError::Internal(Box::new(e)))?
        .map_err(ApiError::from)
}

/// Stores cleaned photos on the blocking pool, before a workflow move's
/// transaction (see `app::filing::store_photos`).
pub async fn store_photos(
    state: &web::Data<AppState>,
    photos: Vec<CleanPhoto>,
) -> Result<Vec<StoredPhoto>, ApiError> {
    if photos.is_empty() {
        return Ok(Vec::new());
    }
    let app = state.clone();
    web::block(move || filing::store_photos(&app, &photos))
        .await
        .map_err(|e| ApiError::Internal(Box::new(e)))?
        .map_err(ApiError::from)
}

pub async fn file(
    state: &web::Data<AppState>,
    report: NewReport,
    uploads: Vec<Upload>,
    channel: Channel,
) -> Result<Filed, ApiError> {
    file_with(state, move |_, _| Ok(report), uploads, channel).await
}

/// As [`file`], with the report taken from `admit`, which runs first on the
/// writer's connection: a channel's own checks that need the database (an
/// Open311 key) cost no extra trip between threads.
pub async fn file_with(
    state: &web::Data<AppState>,
    admit: impl FnOnce(&AppState, &mut DbConnection) -> Result<NewReport, ApiError> + Send + 'static,
    uploads: Vec<Upload>,
    channel: Channel,
) -> Result<Filed, ApiError> {
    let photos = Photos::Clean(clean_photos(state, uploads, channel.photo_field).await?);
    file_photos(state, admit, photos, channel).await
}

/// As [`file_with`], with the photos at hand.
pub async fn file_photos(
    state: &web::Data<AppState>,
    admit: impl FnOnce(&AppState, &mut DbConnection) -> Result<NewReport, ApiError> + Send + 'static,
    photos: Photos,
    channel: Channel,
) -> Result<Filed, ApiError> {
    let now = state.clock.now();
    let app = state.clone();
    let (report, candidates) = state
        .writer
        .file(move |conn| {
            let report = admit(&app, conn)?;
            Ok(filing::check(&app, conn, report, photos, channel, now)?)
        })
        .await?;
    Ok(Filed { report, candidates })
}
